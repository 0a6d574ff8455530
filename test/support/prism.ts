import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./server.js";
import { freePort } from "./free-port.js";

export interface PrismProxy {
  url: string;
  /** Prism's log lines (violations are reported there as well as in responses). */
  output: string[];
  stop(): Promise<void>;
}

/**
 * Starts `prism proxy --errors` in front of `upstream`: a request or response that breaks the
 * contract makes Prism answer with an error instead of the server's response.
 */
export async function startPrismProxy(upstream: string): Promise<PrismProxy> {
  const port = await freePort();
  const prism = path.join(REPO_ROOT, "node_modules/.bin/prism");
  const child: ChildProcess = spawn(
    prism,
    ["proxy", path.join(REPO_ROOT, "generated/openapi.json"), upstream, "--errors", "--port", String(port), "--host", "127.0.0.1"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  const collect = (chunk: Buffer) => output.push(...chunk.toString().split("\n").filter(Boolean));
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prism exited early:\n${output.join("\n")}`);
    try {
      await (await fetch(`${url}/ok`)).arrayBuffer(); // any answer means Prism is listening
      break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`prism did not start:\n${output.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
