#!/usr/bin/env node
// The server and the graphs it serves are TypeScript: tsx compiles them as they are imported.
import v8 from "node:v8";
import { register } from "tsx/esm/api";

// A server allocates short-lived objects for every request: a young generation of 64 MB
// (Node's default grows to 16 MB) is collected less often, for about 10% less CPU per request
// (bench:http, GET /threads/{id}). An explicit --max-semi-space-size (NODE_OPTIONS) wins.
const explicit = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
if (!explicit.some((flag) => flag.startsWith("--max-semi-space-size"))) v8.setFlagsFromString("--max-semi-space-size=64");

register();
await import("../src/cli.ts");
