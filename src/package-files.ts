/**
 * Files of this package outside the module that reads them (the contract, package.json, schemas,
 * browser sources), found from the package's root: the nearest folder above this module with
 * the package's package.json, whether the server runs from its sources (tsx, vitest) or from its
 * build (dist/server/<hash>/, bin/server-build.js).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function isPackageRoot(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { name?: unknown }).name === "langgraph-ts-server";
  } catch {
    return false;
  }
}

function packageRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    if (isPackageRoot(dir)) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json of langgraph-ts-server above ${fileURLToPath(import.meta.url)}`);
  }
}

const ROOT = packageRoot();

/** The absolute path of a file of this package, from its path relative to the root. */
export function packageFile(relative: string): string {
  return path.join(ROOT, relative);
}
