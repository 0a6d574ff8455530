/**
 * Loading a server (compiling its modules and the graphs', the contract's validators) leaves
 * garbage behind, and the young generation V8 grew for it (32 MiB committed, nearly empty): an
 * idle process would hold it until traffic makes V8 collect. Once the server is up, one full
 * collection that also shrinks the heap gives it back: about 35 MiB of RSS (bench:memory).
 * A plain `gc()` shrinks the young generation only when V8 judges the allocation rate low;
 * the inspector's collectGarbage asks V8 for all it can free (a low-memory notification).
 */
import { Session } from "node:inspector/promises";

export async function collectStartupGarbage(): Promise<void> {
  const session = new Session();
  try {
    session.connect();
    await session.post("HeapProfiler.collectGarbage");
  } catch {
    // a Node.js built without the inspector: the memory is freed later, as V8 sees fit
  } finally {
    session.disconnect();
  }
}
