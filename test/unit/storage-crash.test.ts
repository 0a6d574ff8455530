/**
 * SIGKILL at any moment never corrupts the store or loses an acknowledged write.
 *
 * A child process (storage-crash-child.ts) writes continuously and prints every
 * acknowledged mutation; we SIGKILL it mid-flight, reopen the store, and check
 * every shard file parses and every acknowledged create/patch/delete is there.
 * Several rounds run on the same directory, so later rounds also start from a
 * store that was itself killed mid-write.
 */
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError } from "../../src/storage/errors.js";
import { LowdbStorage } from "../../src/storage/lowdb/storage.js";
import { tempDir } from "./storage-helpers.js";

const CHILD = fileURLToPath(new URL("./storage-crash-child.ts", import.meta.url));

interface Acks {
  created: Set<string>;
  /** delete started (possibly not acknowledged) */
  deleting: Set<string>;
  deleted: Set<string>;
  patched: Map<string, number>;
  lines: number;
}

/** Runs the child until it has acknowledged `minAcks` mutations plus a random extra delay, then SIGKILLs it. */
function runAndKill(dataDir: string, tag: string, minAcks: number): Promise<Acks> {
  return new Promise((resolve, reject) => {
    const acks: Acks = { created: new Set(), deleting: new Set(), deleted: new Set(), patched: new Map(), lines: 0 };
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dataDir, tag], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buffer = "";
    let stderr = "";
    let killScheduled = false;
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child made too little progress (${acks.lines} acks); stderr: ${stderr}`));
    }, 20_000);
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop()!; // an incomplete last line is not an acknowledgement
      for (const line of lines) {
        const [op, id, n] = line.split(" ");
        if (op === "create") acks.created.add(id);
        else if (op === "delete") acks.deleted.add(id);
        else if (op === "deleting") acks.deleting.add(id);
        else if (op === "patch") acks.patched.set(id, Math.max(acks.patched.get(id) ?? 0, Number(n)));
        else continue;
        acks.lines++;
      }
      if (!killScheduled && acks.lines >= minAcks) {
        killScheduled = true;
        // kill at an arbitrary point of the write cycle, not right after an ack
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 15));
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(deadline);
      if (signal !== "SIGKILL") reject(new Error(`child exited by itself (${code}); stderr: ${stderr}`));
      else resolve(acks);
    });
  });
}

describe("crash safety (SIGKILL)", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir("lgts-crash-"));
  });
  afterAll(async () => {
    await cleanup();
  });

  it("every acknowledged write survives, every shard file parses", { timeout: 120_000 }, async () => {
    const all: Acks = { created: new Set(), deleting: new Set(), deleted: new Set(), patched: new Map(), lines: 0 };
    for (let round = 0; round < 4; round++) {
      const acks = await runAndKill(dir, `r${round}`, 300 + round * 400);
      expect(acks.lines).toBeGreaterThan(0);
      for (const id of acks.created) all.created.add(id);
      for (const id of acks.deleted) all.deleted.add(id);
      for (const id of acks.deleting) all.deleting.add(id);
      for (const [id, n] of acks.patched) all.patched.set(id, n);
      all.lines += acks.lines;

      // every shard file is complete JSON, a line per segment (rewritten whole, or appended at
      // log checkpoints); only a last appended one may be torn, left out when read
      for (const collection of ["threads", "assistants"]) {
        for (const name of await readdir(path.join(dir, collection))) {
          if (!name.endsWith(".json")) continue;
          const segments = (await readFile(path.join(dir, collection, name), "utf8")).split("\n");
          const whole = segments.length > 1 ? segments.slice(0, -1) : segments;
          for (const segment of whole) expect(() => JSON.parse(segment), `${collection}/${name}`).not.toThrow();
        }
      }

      const storage = await LowdbStorage.open({ dataDir: dir });
      let missing = 0;
      let stale = 0;
      let resurrected = 0;
      for (const id of all.created) {
        if (all.deleted.has(id)) {
          await storage.threads.get(id).then(
            () => resurrected++,
            (err) => expect(err).toBeInstanceOf(NotFoundError),
          );
          continue;
        }
        const thread = await storage.threads.get(id).catch(() => null);
        if (!thread) {
          if (!all.deleting.has(id)) missing++; // else: an unacknowledged delete that did land

          continue;
        }
        if (((thread.metadata!.n as number | undefined) ?? 0) < (all.patched.get(id) ?? 0)) stale++;
      }
      expect({ round, missing, stale, resurrected }).toEqual({ round, missing: 0, stale: 0, resurrected: 0 });
      await storage.close();
    }
    expect(all.lines).toBeGreaterThan(1000);
  });
});
