/**
 * Contract codegen.
 *
 *   tsx scripts/generate.ts            bundle spec/ into generated/openapi.json and
 *                                      generate generated/openapi.d.ts from it
 *   tsx scripts/generate.ts --check    regenerate into a temporary directory and fail
 *                                      (exit 1) naming every file of generated/ that differs
 *
 * Both steps call the locally installed binaries (node_modules/.bin), never the network.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const specRoot = path.join(repoRoot, "spec", "openapi.yaml");
const generatedDir = path.join(repoRoot, "generated");
const bin = (name: string) => path.join(repoRoot, "node_modules", ".bin", name);

/** Files produced by the generator, relative to the output directory. */
export const GENERATED_FILES = ["openapi.json", "openapi.d.ts"] as const;

function run(cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { cwd: repoRoot, encoding: "utf8" });
  if (res.error) throw res.error;
  if (res.status !== 0) {
    process.stderr.write(res.stdout ?? "");
    process.stderr.write(res.stderr ?? "");
    throw new Error(`${path.basename(cmd)} ${args.join(" ")} exited with status ${res.status}`);
  }
}

/** Generates every file of GENERATED_FILES into outDir. */
export function generate(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  const scratch = mkdtempSync(path.join(tmpdir(), "lgts-bundle-"));
  try {
    // 1. Bundle: external $refs are pulled into components (names kept), output as JSON.
    const rawBundle = path.join(scratch, "bundle.json");
    run(bin("redocly"), ["bundle", specRoot, "--ext", "json", "--output", rawBundle]);
    // Re-serialise for a stable, diff-friendly format (2-space indent, trailing newline).
    const doc = JSON.parse(readFileSync(rawBundle, "utf8"));
    const jsonOut = path.join(outDir, "openapi.json");
    writeFileSync(jsonOut, JSON.stringify(doc, null, 2) + "\n");

    // 2. Types. `--empty-objects-unknown` keeps free-form maps from becoming Record<string, never>.
    const dtsOut = path.join(outDir, "openapi.d.ts");
    run(bin("openapi-typescript"), [
      jsonOut,
      "--output",
      dtsOut,
      "--empty-objects-unknown",
      // Fields with a default stay optional: the type describes what a client may send.
      "--default-non-nullable",
      "false",
    ]);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Regenerates into a temporary directory; returns the generated/ files that differ. */
export function findDrift(): string[] {
  const tmp = mkdtempSync(path.join(tmpdir(), "lgts-generated-"));
  try {
    generate(tmp);
    const drifted: string[] = [];
    for (const file of GENERATED_FILES) {
      const committed = path.join(generatedDir, file);
      const fresh = readFileSync(path.join(tmp, file), "utf8");
      if (!existsSync(committed) || readFileSync(committed, "utf8") !== fresh) {
        drifted.push(path.relative(repoRoot, committed));
      }
    }
    return drifted;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main(): void {
  if (process.argv.includes("--check")) {
    const drifted = findDrift();
    if (drifted.length > 0) {
      for (const file of drifted) {
        console.error(`generated file out of date: ${file}`);
      }
      console.error("Run `npm run generate` and commit the result.");
      process.exit(1);
    }
    console.log(`generated/ is up to date (${GENERATED_FILES.join(", ")}).`);
    return;
  }
  generate(generatedDir);
  console.log(`wrote ${GENERATED_FILES.map((f) => `generated/${f}`).join(", ")}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
