/**
 * What browser tests need: Debian's Chromium (installed here when absent, never downloaded by
 * Playwright), a launched headless browser, and the test page bundled with esbuild and served
 * from its own origin.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { build } from "esbuild";
import { chromium, type Browser } from "playwright-core";
import { REPO_ROOT } from "./server.js";

export const CHROMIUM = "/usr/bin/chromium";

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
}

/** Installs Debian's `chromium` package when it is missing (as root, or with passwordless sudo). */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const asRoot = process.getuid?.() === 0;
  // another test may be installing its own packages (podman for the image) at the same moment: wait for dpkg's lock
  const apt = (args: string[]) => {
    const argv = ["-o", "DPkg::Lock::Timeout=600", ...args];
    return asRoot ? run("apt-get", argv) : run("sudo", ["-n", "apt-get", ...argv]);
  };
  try {
    apt(["update"]);
    apt(["install", "-y", "--no-install-recommends", "chromium"]);
  } catch (error) {
    throw new Error(`Chromium is missing at ${CHROMIUM} and could not be installed: ${(error as Error).message}`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} does not exist`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface PageServer {
  /** Origin of the page server, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/** Bundles a page of test/browser/page (main.tsx by default) and serves it with an HTML shell on a port of its own. */
export async function startPageServer(entry = "main.tsx"): Promise<PageServer> {
  const bundle = await build({
    entryPoints: [path.join(REPO_ROOT, "test/browser/page", entry)],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"development"' },
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0].contents;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>useStream test page</title></head>
<body><div id="root"></div><script type="module" src="/app.js"></script></body></html>`;
  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://page").pathname;
    if (pathname === "/app.js") res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    else if (pathname === "/") res.writeHead(200, { "content-type": "text/html" }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
