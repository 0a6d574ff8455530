/**
 * Worker thread entry: type-checks the graph modules and posts their static schemas back.
 * A separate thread because building the TypeScript program blocks for seconds, and the server's
 * event loop keeps streaming runs meanwhile; the program's memory goes away with the thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { extractStaticSchemas } from "./types.js";

export interface StaticWorkerInput {
  files: string[];
  projectDir: string;
}

const { files, projectDir } = workerData as StaticWorkerInput;
try {
  parentPort?.postMessage({ index: extractStaticSchemas(files, projectDir) });
} catch (error) {
  parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
}
