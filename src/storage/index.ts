/** Entry point of the storage layer: pick and open a backend. */
import { LowdbStorage } from "./lowdb/storage.js";
import type { Storage } from "./types.js";

export type { Storage } from "./types.js";
export * from "./errors.js";

export type StorageConfig = {
  backend: "lowdb";
  /** Directory holding the data files (created if missing). */
  dataDir: string;
};

export async function openStorage(config: StorageConfig): Promise<Storage> {
  switch (config.backend) {
    case "lowdb":
      return LowdbStorage.open({ dataDir: config.dataDir });
  }
}
