/**
 * Several real server processes (`bin/lgts.js serve`) on one PostgreSQL database, behind a
 * round-robin proxy: what a deployment of replicas behind a load balancer looks like. Each process
 * listens on a free port (it logs its URL); `kill` sends a signal to one (SIGKILL: a crash).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { UNQUEUED } from "./sdk.js";
import { REPO_ROOT } from "./server.js";
import { startRoundRobinProxy, type RoundRobinProxy } from "./round-robin-proxy.js";

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Lines the process logged (JSON), for diagnostics. */
  log: string[];
  exited: Promise<number | null>;
}

export interface ServerCluster {
  processes: ServerProcess[];
  proxy: RoundRobinProxy;
  /** An SDK client talking to the proxy. */
  client: Client;
  url: string;
  kill(index: number, signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  databaseUri: string;
  configPath: string;
  size?: number;
  /** Extra environment (LGTS_RUN_LEASE, LGTS_RUN_CONCURRENCY...). */
  env?: Record<string, string>;
}

const BIN = path.join(REPO_ROOT, "bin/lgts.js");
const START_TIMEOUT_MS = 60_000;

async function startProcess(options: ClusterOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--config", options.configPath], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URI: options.databaseUri, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${log.join("\n")}`)), START_TIMEOUT_MS);
    let buffered = "";
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      let newline: number;
      while ((newline = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        log.push(line);
        if (log.length > 2000) log.shift();
        try {
          const entry = JSON.parse(line) as { msg?: string; url?: string };
          if (entry.msg === "listening" && entry.url) {
            clearTimeout(timer);
            resolve(entry.url);
          }
        } catch {
          // not a JSON log line
        }
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => log.push(chunk.toString("utf8")));
    // `exited` only resolves (the child's exit code)
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${log.join("\n")}`));
    });
  });
  return { url, child, log, exited };
}

export async function startServerCluster(options: ClusterOptions): Promise<ServerCluster> {
  // one at a time: the first applies the migrations, the others find them applied
  const processes: ServerProcess[] = [];
  try {
    for (let i = 0; i < (options.size ?? 3); i++) processes.push(await startProcess(options));
  } catch (error) {
    for (const p of processes) p.child.kill("SIGKILL");
    throw error;
  }
  const proxy = await startRoundRobinProxy(processes.map((p) => p.url));
  const kill = async (index: number, signal: NodeJS.Signals = "SIGTERM") => {
    const target = processes[index];
    if (target.child.exitCode === null && target.child.signalCode === null) target.child.kill(signal);
    await target.exited;
  };
  return {
    processes,
    proxy,
    client: new Client({ apiUrl: proxy.url, callerOptions: UNQUEUED }),
    url: proxy.url,
    kill,
    async close() {
      await proxy.close();
      await Promise.all(processes.map((_, i) => kill(i, "SIGTERM")));
    },
  };
}
