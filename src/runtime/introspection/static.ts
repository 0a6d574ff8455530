/**
 * The static (TypeScript-derived) schemas of a registry's graphs: computed once per registry in a
 * worker thread on first use, then shared. Failure is not fatal: schemas then come from the
 * runtime alone (channel names without types), and the reason is logged once.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { GraphRegistry } from "../graphs/index.js";
import type { StaticGraphSchemas, StaticSchemaIndex } from "./types.js";
import type { StaticWorkerInput } from "./worker.js";
import { packageFile } from "../../package-files.js";

/** Generous: a large graph project type-checks in tens of seconds. */
const WORKER_TIMEOUT_MS = 120_000;

/**
 * The worker's bootstrap (CommonJS, as eval'd workers are). The entry is TypeScript: if the thread
 * has no TypeScript loader (loaders registered with module.register() stay on the thread that
 * registered them), tsx is registered and the entry imported again under a fresh URL, because the
 * failed attempt stays in the module map.
 */
const BOOTSTRAP = `
const { workerData } = require("node:worker_threads");
import(workerData.entry).catch(() =>
  import(workerData.tsxApi).then((tsx) => {
    tsx.register();
    return import(workerData.entry + "?tsx");
  }));
`;

const cache = new WeakMap<GraphRegistry, Promise<StaticSchemaIndex | undefined>>();

export function staticSchemaIndex(registry: GraphRegistry, logger: Logger): Promise<StaticSchemaIndex | undefined> {
  let index = cache.get(registry);
  if (!index) {
    const files = [...new Set(registry.graphIds.map((id) => registry.spec(id).path))];
    index = runWorker({ files, projectDir: path.dirname(registry.configPath) }).catch((error: unknown) => {
      logger.warn({ err: error }, "graph schemas: TypeScript types unavailable, using channel names only");
      return undefined;
    });
    cache.set(registry, index);
  }
  return index;
}

function runWorker(input: StaticWorkerInput): Promise<StaticSchemaIndex> {
  const workerData = {
    ...input,
    entry: pathToFileURL(packageFile("src/runtime/introspection/worker.ts")).href,
    tsxApi: import.meta.resolve("tsx/esm/api"),
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData });
    // a server shutting down does not wait for the analysis
    worker.unref();
    const timer = setTimeout(() => {
      reject(new Error(`type analysis took longer than ${WORKER_TIMEOUT_MS / 1000} s`));
      void worker.terminate();
    }, WORKER_TIMEOUT_MS);
    timer.unref();
    const settle = () => clearTimeout(timer);
    worker.once("message", (message: { index?: StaticSchemaIndex; error?: string }) => {
      settle();
      if (message.index) resolve(message.index);
      else reject(new Error(message.error ?? "type analysis failed"));
      void worker.terminate();
    });
    worker.once("error", (error) => {
      settle();
      reject(error);
    });
    worker.once("exit", (code) => {
      settle();
      reject(new Error(`type analysis worker exited with code ${code}`));
    });
  });
}

/**
 * The static schemas of graph objects the registry's graph modules export, by identity: how a
 * subgraph (a node's compiled graph) finds its types when its module exports it.
 */
export async function staticSchemasByInstance(index: StaticSchemaIndex): Promise<Map<object, StaticGraphSchemas>> {
  const byInstance = new Map<object, StaticGraphSchemas>();
  for (const [file, exported] of Object.entries(index.exports)) {
    // already imported by the registry: this is the module map's copy, not a second evaluation
    const module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as Record<string, unknown>;
    for (const [name, schemas] of Object.entries(exported)) {
      const value = module[name];
      if (typeof value === "object" && value !== null) byInstance.set(value, schemas);
    }
  }
  return byInstance;
}
