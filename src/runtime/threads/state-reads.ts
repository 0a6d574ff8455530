/**
 * Thread reads as the API answers them (`GET /threads/{id}/state`, `POST .../history`), over any
 * storage and without a server: for `lgts migrate` to compare a thread on both sides of a move.
 * Nothing here writes: no run engine, no store sweeps, no TTL refresh on read.
 */
import type { Logger } from "pino";
import type { Storage } from "../../storage/types.js";
import type { GraphRegistry } from "../graphs/registry.js";
import { StorageCheckpointSaver } from "../checkpointer.js";
import { ServerStore } from "../store/index.js";
import { readThreadState, threadHistory, type ThreadStateDeps } from "./state.js";

const UNSCOPED = { conditions: [] };

export interface ApiThreadRead {
  what: string;
  read(storage: Storage, threadId: string): Promise<unknown>;
}

/** The thread's state and its whole history, as the API computes them with the project's graphs. */
export function apiThreadReads(graphs: GraphRegistry, logger: Logger): ApiThreadRead[] {
  const deps = new WeakMap<Storage, ThreadStateDeps>();
  const depsOf = (storage: Storage): ThreadStateDeps => {
    let found = deps.get(storage);
    if (!found) {
      found = {
        storage,
        graphs,
        checkpointer: new StorageCheckpointSaver(storage.checkpoints),
        store: new ServerStore(storage.storeItems, { refreshOnRead: false }),
        logger,
      };
      deps.set(storage, found);
    }
    return found;
  };
  return [
    {
      what: "state (as GET /threads/{id}/state answers)",
      read: (storage, id) => readThreadState(depsOf(storage), id, UNSCOPED, { subgraphs: true }),
    },
    {
      what: "history (as POST /threads/{id}/history answers)",
      read: (storage, id) => threadHistory(depsOf(storage), id, UNSCOPED, { limit: 100_000 }),
    },
  ];
}
