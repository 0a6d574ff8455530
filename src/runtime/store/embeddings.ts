/**
 * The embedding side of semantic store search, from langgraph.json `store.index`:
 *
 *   "store": { "index": { "dims": 384, "embed": "./embeddings.ts:embed", "fields": ["text"] } }
 *
 * `embed` is "<module path relative to langgraph.json>:<export>". The export is either a function
 * `(texts: string[]) => number[][] | Promise<number[][]>` or a LangChain `Embeddings` object
 * (`embedDocuments` / `embedQuery`). Provider strings such as "openai:text-embedding-3-small"
 * (which the Python platform resolves through LangChain) are not supported: this server does not
 * bundle provider SDKs, so a module that builds the embeddings object is the way to use one.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DomainError } from "../../errors.js";
import { splitImportString, type StoreIndexConfig } from "../graphs/config.js";
import { ensureTypeScriptLoader } from "../graphs/loader.js";
import { parseFieldPath } from "./texts.js";

/** The embedding function failed or returned something other than `dims` numbers per text. -> 503 */
export class EmbeddingError extends DomainError {
  override name = "EmbeddingError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("unavailable", message, options);
  }
}

export interface StoreIndex {
  dims: number;
  /** Paths embedded when a put does not name its own (default ["$"], the whole value). */
  fields: readonly string[];
  /** One vector of `dims` numbers per text. */
  embed(texts: string[]): Promise<number[][]>;
  embedQuery(text: string): Promise<number[]>;
}

type EmbedFunction = (texts: string[]) => unknown;
interface EmbeddingsLike {
  embedDocuments(texts: string[]): Promise<unknown>;
  embedQuery(text: string): Promise<unknown>;
}

function isEmbeddingsLike(v: unknown): v is EmbeddingsLike {
  const o = v as Partial<EmbeddingsLike> | null;
  return typeof o === "object" && o !== null && typeof o.embedDocuments === "function" && typeof o.embedQuery === "function";
}

/** Imports the configured embedding export. Errors are one line naming the config key. */
export async function loadStoreIndex(config: StoreIndexConfig, configDir: string): Promise<StoreIndex> {
  const fields = config.fields?.length ? [...config.fields] : ["$"];
  for (const field of fields) {
    try {
      parseFieldPath(field);
    } catch (error) {
      throw new Error(`store.index.fields: ${(error as Error).message}`);
    }
  }
  const { file, exportName } = splitImportString(config.embed);
  const modulePath = path.resolve(configDir, file);
  if (!existsSync(modulePath)) {
    throw new Error(
      `store.index.embed: module ${modulePath} not found ("${config.embed}"); embed must be ` +
        `"<module path>:<export>" (provider strings like "openai:<model>" are not supported)`,
    );
  }
  if (/\.[cm]?tsx?$/.test(modulePath)) await ensureTypeScriptLoader();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`store.index.embed: importing ${modulePath} failed: ${(error as Error).message}`, { cause: error });
  }
  const exported = mod[exportName];
  let embedDocuments: EmbedFunction;
  let embedQuery: (text: string) => unknown;
  if (typeof exported === "function") {
    const fn = exported as EmbedFunction;
    embedDocuments = (texts) => fn(texts);
    embedQuery = async (text) => ((await fn([text])) as unknown[] | undefined)?.[0];
  } else if (isEmbeddingsLike(exported)) {
    embedDocuments = (texts) => exported.embedDocuments(texts);
    embedQuery = (text) => exported.embedQuery(text);
  } else {
    throw new Error(
      `store.index.embed: export "${exportName}" of ${modulePath} is not an embedding function ` + `or an object with embedDocuments/embedQuery`,
    );
  }

  const { dims } = config;
  const checkVector = (v: unknown, what: string): number[] => {
    if (!Array.isArray(v) || v.length !== dims || !v.every((x) => typeof x === "number" && Number.isFinite(x))) {
      const got = Array.isArray(v) ? `${v.length} values` : typeof v;
      throw new EmbeddingError(`store embedding function returned ${got} for ${what}; store.index.dims is ${dims}`);
    }
    return v as number[];
  };
  const call = async <T>(run: () => unknown): Promise<T> => {
    try {
      return (await run()) as T;
    } catch (error) {
      throw new EmbeddingError(`store embedding function failed: ${(error as Error).message}`, { cause: error });
    }
  };

  return {
    dims,
    fields,
    async embed(texts) {
      if (texts.length === 0) return [];
      const vectors = await call<unknown>(() => embedDocuments(texts));
      if (!Array.isArray(vectors) || vectors.length !== texts.length) {
        throw new EmbeddingError(
          `store embedding function returned ${Array.isArray(vectors) ? vectors.length : typeof vectors} vectors for ${texts.length} texts`,
        );
      }
      return vectors.map((v, i) => checkVector(v, `text ${i + 1}`));
    },
    async embedQuery(text) {
      return checkVector(await call<unknown>(() => embedQuery(text)), "the query");
    },
  };
}
