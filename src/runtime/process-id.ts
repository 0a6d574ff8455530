import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

/** A new name for this server process among the deployment's: `host:pid:nonce` (the nonce tells a restarted pid apart). */
export function newProcessId(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}
