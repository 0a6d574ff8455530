// The server's build: src/ bundled by esbuild into dist/server/<hash>/ (packages left external),
// which bin/lgts.js runs instead of compiling src/ through tsx's loader at every start. tsx's
// loader hooks run on a thread of their own (another V8 isolate) and keep a source map inline in
// every module's source text: about 50 MiB of the idle process (bench:memory).
//
// Never stale: dist/server/current.json names the build and every file it was made from, with a
// hash of their contents (and of this file). A start that finds any of them changed or missing
// builds again before running (half a second). Where the package cannot be written (an image's
// read-only /app, built there beforehand), `serverEntry` answers null and lgts runs src/ as before.
//
// Run directly (`node bin/server-build.js`), it builds if needed and prints the entry.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUILDS = path.join(ROOT, "dist", "server");
const CURRENT = path.join(BUILDS, "current.json");
const SELF = fileURLToPath(import.meta.url);
/** Older builds are removed once this old (a server loads all of its build's files as it starts). */
const PRUNE_AFTER_MS = 10 * 60_000;

/** The hash of this file and of the build's sources (root-relative paths), or null if one is gone. */
async function sourcesHash(inputs) {
  const hash = createHash("sha256").update(await readFile(SELF));
  for (const input of inputs) {
    let content;
    try {
      content = await readFile(path.join(ROOT, input));
    } catch {
      return null;
    }
    hash.update(`\0${input}\0`).update(content);
  }
  return hash.digest("hex").slice(0, 16);
}

async function currentBuild() {
  let current;
  try {
    current = JSON.parse(await readFile(CURRENT, "utf8"));
  } catch {
    return null;
  }
  return current.hash === (await sourcesHash(current.inputs)) ? current.hash : null;
}

/** How the server is bundled (also bench/server-child.ts, by bench/support.ts). */
export const SERVER_BUNDLE_OPTIONS = {
  bundle: true,
  // modules loaded lazily (data commands, the UI bundler) stay in chunks of their own, with their packages
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  // class and function names as in the sources (logs, error names)
  keepNames: true,
};

async function build() {
  const { build: esbuild } = await import("esbuild");
  const scratch = path.join(BUILDS, `.building-${process.pid}-${Date.now()}`);
  try {
    const result = await esbuild({
      absWorkingDir: ROOT,
      entryPoints: ["src/cli.ts"],
      outdir: scratch,
      ...SERVER_BUNDLE_OPTIONS,
      // `NODE_OPTIONS=--enable-source-maps` maps stack traces to src/ (off by default: it costs memory)
      sourcemap: "linked",
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs).sort();
    const hash = await sourcesHash(inputs);
    if (hash === null) throw new Error("a source file vanished during the build");
    try {
      await rename(scratch, path.join(BUILDS, hash));
    } catch (error) {
      // another start built the same sources at the same moment
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    }
    const pending = `${CURRENT}.${process.pid}`;
    await writeFile(pending, JSON.stringify({ hash, inputs }, null, 1));
    await rename(pending, CURRENT);
    return hash;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function pruneOlderThan(keep) {
  const now = Date.now();
  for (const name of await readdir(BUILDS)) {
    if (name === keep || name === "current.json") continue;
    const entry = path.join(BUILDS, name);
    const { mtimeMs } = await stat(entry).catch(() => ({ mtimeMs: now }));
    if (now - mtimeMs > PRUNE_AFTER_MS) await rm(entry, { recursive: true, force: true });
  }
}

/** The URL of the server's entry built from the sources as they are now, or null where it cannot be written. */
export async function serverEntry() {
  let hash = await currentBuild();
  if (hash === null) {
    try {
      await mkdir(BUILDS, { recursive: true });
      hash = await build();
    } catch (error) {
      if (["EACCES", "EPERM", "EROFS"].includes(error.code)) return null;
      throw error;
    }
    await pruneOlderThan(hash);
  }
  return pathToFileURL(path.join(BUILDS, hash, "cli.js")).href;
}

if (process.argv[1] === SELF) console.log(await serverEntry());
