/** Picks the backend the configuration asks for: PostgreSQL with a database URI, else the embedded store. */
import type { Backend, BackendOptions } from "./backend.js";
import { openEmbeddedBackend } from "./embedded/index.js";
import { openPostgresBackend } from "./postgres/index.js";

export { BackendOpenError, type Backend, type BackendOptions } from "./backend.js";

export function openBackend(where: { databaseUri?: string; dataDir: string }, options: BackendOptions): Promise<Backend> {
  return where.databaseUri ? openPostgresBackend(where.databaseUri, options) : openEmbeddedBackend(where.dataDir, options);
}
