/**
 * Archives of a running embedded server. One process owns a data directory, so `lgts export` and
 * `lgts backup` cannot open it while the server runs: the server listens on a Unix socket in the
 * data directory (`lgts.sock`; who may read the directory may ask) and answers `export` with an
 * archive of a consistent snapshot (StorageArchive.snapshot: writes wait only while references to
 * the stored records are taken). The socket also tells the commands that write the directory
 * (import, migrate) that a server is running on it.
 */
import { once } from "node:events";
import { rm } from "node:fs/promises";
import { createConnection, createServer, type Socket } from "node:net";
import path from "node:path";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Storage } from "../types.js";
import { writeArchive } from "./export.js";

export const CONTROL_SOCKET = "lgts.sock";
const EXPORT_REQUEST = "export\n";

export const controlSocketPath = (dataDir: string) => path.join(dataDir, CONTROL_SOCKET);

/** Serves archives of `storage` on the data directory's socket until the returned close is called. */
export async function serveArchives(storage: Storage, dataDir: string, onError: (error: unknown) => void): Promise<() => Promise<void>> {
  const socketPath = controlSocketPath(dataDir);
  const connections = new Set<Socket>();
  const server = createServer((socket) => {
    connections.add(socket);
    socket.once("close", () => connections.delete(socket));
    socket.on("error", () => undefined); // the client went away: its export just stops
    let request = "";
    const onData = (chunk: Buffer) => {
      request += chunk.toString();
      if (!request.includes("\n")) return;
      socket.off("data", onData);
      if (request !== EXPORT_REQUEST) return void socket.destroy();
      // a failure cuts the archive short: the client finds no end line and reports it
      writeArchive(storage, socket).catch((error: unknown) => {
        onError(error);
        socket.destroy();
      });
    };
    socket.on("data", onData);
  });
  // a socket file left by a process that died: nobody answers on it any more
  if (!(await answers(socketPath))) await rm(socketPath, { force: true });
  server.listen(socketPath);
  await once(server, "listening");
  return async () => {
    const closed = once(server, "close");
    server.close();
    for (const socket of connections) socket.destroy();
    await closed;
  };
}

/** Whether a server answers on the socket (false: none, or a stale file). */
export async function answers(socketPath: string): Promise<boolean> {
  const socket = createConnection(socketPath);
  try {
    await once(socket, "connect");
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

/** Asks the server on `dataDir` for an archive and writes it to `output`. */
export async function requestArchive(dataDir: string, output: Writable): Promise<void> {
  const socket = createConnection(controlSocketPath(dataDir));
  await once(socket, "connect");
  socket.write(EXPORT_REQUEST);
  await pipeline(socket, output);
}
