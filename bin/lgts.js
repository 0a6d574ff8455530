#!/usr/bin/env node
// The server is TypeScript: it runs from its build (bin/server-build.js: src/ bundled, rebuilt
// whenever src/ changed), or from src/ through tsx where the build cannot be written. Graphs
// written in TypeScript get tsx's loader when the first one is imported (src/runtime/graphs/loader.ts).
//
// V8 sizes its heap as the process starts, before this file runs: a larger young generation
// (`NODE_OPTIONS=--max-semi-space-size=64`: fewer collections under load, more memory held) is
// given to node itself; v8.setFlagsFromString here would not change it.
import { serverEntry } from "./server-build.js";

const entry = await serverEntry();
if (entry) await import(entry);
else {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cli.ts");
}
