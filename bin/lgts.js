#!/usr/bin/env node
// The server and the graphs it serves are TypeScript: tsx compiles them as they are imported.
import { register } from "tsx/esm/api";

register();
await import("../src/cli.ts");
