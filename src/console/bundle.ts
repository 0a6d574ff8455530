/**
 * The console's browser code (`src/console/app`), bundled with esbuild into one script and one
 * stylesheet, in memory. Built at the first request under `/console`, as `/ui` and `/docs` are:
 * no build step before `npm start`, no build output in the repository that could drift from its
 * source, and servers whose console nobody opens never pay for it.
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

export interface ConsoleAsset {
  /** Served as `/console/assets/<name>`; the name carries a hash of the contents, so it may be cached for good. */
  name: string;
  contentType: string;
  contents: Uint8Array;
  /** The same, gzipped once here rather than on every request (most of the script is the SDK and React). */
  gzipped: Uint8Array;
}

export interface ConsoleBundle {
  script: ConsoleAsset;
  stylesheet: ConsoleAsset;
}

const ENTRY = fileURLToPath(new URL("./app/main.tsx", import.meta.url));

function asset(stem: string, extension: string, contentType: string, contents: Uint8Array): ConsoleAsset {
  const hash = createHash("sha256").update(contents).digest("hex").slice(0, 12);
  return { name: `${stem}-${hash}.${extension}`, contentType, contents, gzipped: gzipSync(contents, { level: 9 }) };
}

export async function bundleConsole(): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    outdir: "/console-out",
    bundle: true,
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
  const output = (extension: string) => {
    const file = result.outputFiles.find((f) => f.path.endsWith(extension));
    if (!file) throw new Error(`the console bundle has no ${extension} output`);
    return file.contents;
  };
  return {
    script: asset("console", "js", "text/javascript; charset=utf-8", output(".js")),
    stylesheet: asset("console", "css", "text/css; charset=utf-8", output(".css")),
  };
}
