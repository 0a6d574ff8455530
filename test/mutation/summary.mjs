#!/usr/bin/env node
/**
 * Prints the mutation scores kept in the incremental reports of the Stryker runs
 * (reports/mutation/<run>/stryker-incremental.json), per file and per run, as the Markdown
 * tables of test/mutation/SCORES.md. Runs made per file (`--mutate`) add to the same report, so
 * this shows the latest result of every file measured so far.
 *
 *   node test/mutation/summary.mjs                 every run
 *   node test/mutation/summary.mjs storage         one run
 *   node test/mutation/summary.mjs storage runs.ts the survivors (and uncovered mutants) of matching files
 */
import { existsSync, readFileSync } from "node:fs";

const RUNS = ["storage", "runtime", "engine", "auth"];
const [only, survivorsOf] = process.argv.slice(2);

const count = (mutants) => {
  const c = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, other: 0 };
  for (const { status } of mutants) {
    if (status === "Killed") c.killed++;
    else if (status === "Timeout") c.timeout++;
    else if (status === "Survived") c.survived++;
    else if (status === "NoCoverage") c.noCoverage++;
    else c.other++; // compile or runtime errors and ignored mutants: not in the score
  }
  return c;
};
const pct = (part, whole) => (whole === 0 ? "n/a" : ((100 * part) / whole).toFixed(2));
const row = (name, c) => {
  const detected = c.killed + c.timeout;
  return `| ${name} | ${pct(detected, detected + c.survived + c.noCoverage)} | ${pct(detected, detected + c.survived)} | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} |`;
};
const add = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, a[k] + b[k]]));

for (const run of only ? [only] : RUNS) {
  const file = `reports/mutation/${run}/stryker-incremental.json`;
  if (!existsSync(file)) {
    console.log(`${run}: no report yet (${file}); run: npx stryker run test/mutation/stryker.${run}.json\n`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  console.log(`### ${run}\n\n| file | score | covered | killed | timeout | survived | no coverage |\n| --- | --- | --- | --- | --- | --- | --- |`);
  let total = count([]);
  for (const [name, { mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
    const c = count(mutants);
    total = add(total, c);
    console.log(row(name, c));
  }
  console.log(`${row("**total**", total)}\n`);
  if (survivorsOf) {
    for (const [name, { mutants }] of Object.entries(report.files)) {
      if (!name.includes(survivorsOf)) continue;
      for (const m of mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage")) {
        console.log(`${name}:${m.location.start.line} ${m.status} ${m.mutatorName} ${JSON.stringify(m.replacement ?? "").slice(0, 120)}`);
      }
    }
  }
}
