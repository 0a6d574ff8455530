/**
 * The console's browser code (`src/console/app`), bundled with esbuild in memory: an entry
 * script, its stylesheet, and chunks loaded on demand (the live view, with `@langchain/react` and
 * the SDK version it pins, is only fetched when opened). Built at the first request under
 * `/console`, as `/ui` and `/docs` are: no build step before `npm start`, no build output in the
 * repository that could drift from its source, and servers whose console nobody opens never pay
 * for it.
 */
import path from "node:path";
import { gzipSync } from "node:zlib";
import { packageFile } from "../package-files.js";

export interface ConsoleAsset {
  /** Served as `/console/assets/<name>`; the name carries a hash of the contents, so it may be cached for good. */
  name: string;
  contentType: string;
  contents: Uint8Array;
  /** The same, gzipped once here rather than on every request (most of the code is React and the SDK). */
  gzipped: Uint8Array;
}

export interface ConsoleBundle {
  script: ConsoleAsset;
  stylesheet: ConsoleAsset;
  /** Every file by name: the two above and the chunks the script imports when it needs them. */
  assets: Map<string, ConsoleAsset>;
}

const ENTRY = packageFile("src/console/app/main.tsx");
const CONTENT_TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

export async function bundleConsole(): Promise<ConsoleBundle> {
  // esbuild is loaded with the first request under /console (a server whose console nobody opens never loads it)
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [ENTRY],
    outdir: "/console-out",
    entryNames: "console-[hash]",
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    minify: true,
    legalComments: "none",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "silent",
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    const contentType = CONTENT_TYPES[path.extname(name)];
    if (!contentType) throw new Error(`the console bundle has an unexpected output: ${name}`);
    assets.set(name, { name, contentType, contents: file.contents, gzipped: gzipSync(file.contents, { level: 9 }) });
  }
  const entry = (extension: string) => {
    const asset = [...assets.values()].find((a) => a.name.startsWith("console-") && a.name.endsWith(extension));
    if (!asset) throw new Error(`the console bundle has no ${extension} entry`);
    return asset;
  };
  return { script: entry(".js"), stylesheet: entry(".css"), assets };
}
