/**
 * The embedded backend: one process, its data in a directory (lowdb files and a commit log), the
 * run engine's local parts, and a socket in the data directory through which `lgts export` and
 * `lgts backup` read a consistent snapshot of the running server.
 */
import { LocalCluster } from "../../runtime/cluster.js";
import { localRunParts } from "../../runtime/runs/local-parts.js";
import { serveArchives } from "../../storage/archive/control-socket.js";
import { openStorage } from "../../storage/index.js";
import type { LowdbStorage } from "../../storage/lowdb/storage.js";
import { BackendOpenError, type Backend, type BackendOptions } from "../backend.js";

export async function openEmbeddedBackend(dataDir: string, options: BackendOptions): Promise<Backend> {
  const { logger, runs } = options;
  let storage: LowdbStorage;
  try {
    storage = await openStorage({ backend: "lowdb", dataDir });
  } catch (error) {
    // a directory of a newer release, unreadable files...: one line for the operator, not a stack
    throw new BackendOpenError(`Cannot open the data directory ${dataDir}: ${(error as Error).message}`, { cause: error });
  }
  // without the socket (a path too long for one, say) the server still serves; lgts export and
  // backup then say no server answers
  const stopServingArchives = await serveArchives(storage, dataDir, (error) =>
    logger.error({ err: error }, "an export of the data directory failed"),
  ).catch((error: unknown) => {
    logger.warn({ err: error, dataDir }, "cannot listen for lgts export/backup on the data directory: they will not reach this server");
    return null;
  });
  return {
    storage,
    parts: localRunParts({ storage, logger, ...runs }),
    cluster: new LocalCluster(),
    async close() {
      await stopServingArchives?.();
      await storage.close();
    },
  };
}
