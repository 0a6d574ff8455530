/**
 * Our bundled contract (generated/openapi.json) against the upstream LangGraph Platform document
 * (../shared/reference/langgraph-openapi.json, never copied into the repo), plus structural checks
 * of our own contract that need no reference file.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const oursPath = path.join(repoRoot, "generated", "openapi.json");
// LGTS_UPSTREAM_OPENAPI overrides the location.
const sharedDir = path.resolve(repoRoot, "../shared");
const upstreamPath = path.resolve(repoRoot, process.env.LGTS_UPSTREAM_OPENAPI ?? path.join(sharedDir, "reference/langgraph-openapi.json"));
const upstreamAvailable = existsSync(upstreamPath);
/**
 * The comparison may be skipped only on a machine without `../shared` at all (a clone used on its
 * own). Where `../shared` exists (CI), or the location was given explicitly, a missing document
 * is a failure, never a silent skip.
 */
const comparisonRequired = existsSync(sharedDir) || process.env.LGTS_UPSTREAM_OPENAPI !== undefined;
if (!upstreamAvailable && !comparisonRequired) {
  console.warn(
    `\n*** upstream-compat: SKIPPED the comparison with the upstream LangGraph Platform document: ` +
      `${sharedDir} does not exist (it sits beside the repository in CI). ***\n`,
  );
}

const ours: Json = JSON.parse(readFileSync(oursPath, "utf8"));

// ---------------------------------------------------------------------------------------------
// The ONE place where we list deliberate differences from the upstream document.
// ---------------------------------------------------------------------------------------------

/** Upstream operations (`METHOD /path`) we do not offer, with the reason. */
const MISSING_OPERATIONS: Record<string, string> = {};

/**
 * Upstream request fields we accept differently, with the reason. `replacement` names the field
 * of ours (same operation) that carries the value instead; the test checks that it exists.
 */
const REQUEST_FIELD_DIFFERENCES: Record<string, { reason: string; replacement?: string }> = {
  "GET /threads/{thread_id}/stream query:stream_modes": {
    reason: "the SDK sends the parameter as `stream_mode`",
    replacement: "query:stream_mode",
  },
  "POST /assistants/{assistant_id}/latest query:version": {
    reason: "the SDK sends the version as a JSON body {version}",
    replacement: "body:version",
  },
  "GET /store/items query:namespace": {
    reason: "the SDK sends the namespace as one dot-joined string, not as repeated parameters",
    replacement: "query:namespace",
  },
  "GET /threads/{thread_id}/runs/{run_id}/stream query:stream_mode": {
    reason: "we validate stream modes against the known list (upstream: any string), so typos get a 422",
    replacement: "query:stream_mode",
  },
  "POST /a2a/{assistant_id} body:params.thread.threadId": {
    reason: "thread ids are UUIDs: any other string could never name a thread, so it is refused (-32602) instead of creating one",
    replacement: "body:params.thread.threadId",
  },
};

/**
 * Upstream success-response fields (`json:a.b`, `header:x`) or media types (`media:type`) we do
 * not declare, with the reason.
 */
const NO_CONTENT = "answers 204/202 without a body: upstream declares an empty-schema JSON body; the SDK reads nothing";
const SUBGRAPH_SHAPE =
  "the official LangGraph.js server answers each subgraph as {state, input, output, config}, which clients of `langgraph dev` read";
const SUBGRAPH_FIELDS = ["input_schema", "output_schema", "state_schema", "config_schema", "context_schema"].flatMap((field) => [
  [`GET /assistants/{assistant_id}/subgraphs json:*.${field}`, SUBGRAPH_SHAPE],
  [`GET /assistants/{assistant_id}/subgraphs/{namespace} json:*.${field}`, SUBGRAPH_SHAPE],
]);
const RESPONSE_FIELD_DIFFERENCES: Record<string, string> = {
  ...Object.fromEntries(SUBGRAPH_FIELDS),
  "DELETE /assistants/{assistant_id} media:application/json": NO_CONTENT,
  "DELETE /threads/{thread_id} media:application/json": NO_CONTENT,
  "DELETE /threads/{thread_id}/runs/{run_id} media:application/json": NO_CONTENT,
  "DELETE /runs/crons/{cron_id} media:application/json": NO_CONTENT,
  "POST /threads/{thread_id}/runs/{run_id}/cancel media:application/json": NO_CONTENT,
};

/** Header parameters that OpenAPI says to ignore (content negotiation is not a parameter). */
const IGNORED_HEADERS = new Set(["accept", "content-type", "authorization"]);

/** The operation ids handlers are written against (see docs/ARCHITECTURE.md). */
const AGREED_OPERATION_IDS = [
  "createAssistant",
  "searchAssistants",
  "countAssistants",
  "getAssistant",
  "deleteAssistant",
  "patchAssistant",
  "getAssistantGraph",
  "getAssistantSubgraphs",
  "getAssistantSubgraphsByNamespace",
  "getAssistantSchemas",
  "searchAssistantVersions",
  "setLatestAssistantVersion",
  "createThread",
  "searchThreads",
  "countThreads",
  "pruneThreads",
  "getThread",
  "patchThread",
  "deleteThread",
  "copyThread",
  "getThreadState",
  "updateThreadState",
  "patchThreadState",
  "getThreadStateAtCheckpoint",
  "postThreadStateAtCheckpoint",
  "getThreadHistory",
  "searchThreadHistory",
  "joinThreadStream",
  "sendThreadCommand",
  "streamThreadEvents",
  "openThreadEventSocket",
  "listRuns",
  "createRun",
  "streamRun",
  "waitRun",
  "getRun",
  "deleteRun",
  "joinRun",
  "joinRunStream",
  "cancelRun",
  "cancelRuns",
  "createStatelessRun",
  "streamStatelessRun",
  "waitStatelessRun",
  "createRunBatch",
  "joinStatelessRunStream",
  "createThreadCron",
  "createCron",
  "searchCrons",
  "countCrons",
  "updateCron",
  "deleteCron",
  "putStoreItem",
  "getStoreItem",
  "deleteStoreItem",
  "searchStoreItems",
  "listStoreNamespaces",
  "postMcp",
  "getMcp",
  "deleteMcp",
  "postA2a",
  "getA2aAgentCard",
  "getUiComponent",
  "getUiAsset",
  "healthCheck",
  "getInfo",
  "getMetrics",
  "listProcesses",
  "getOpenApiDocument",
];

// ---------------------------------------------------------------------------------------------
// Schema helpers
// ---------------------------------------------------------------------------------------------

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function pointer(doc: Json, ref: string): Json | undefined {
  if (!ref.startsWith("#")) return undefined;
  let node = doc;
  for (const raw of ref.slice(1).split("/").slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object" || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Follows $ref chains. An unresolvable $ref (upstream has one) is treated as "any JSON": {}. */
function resolve(doc: Json, schema: Json): Json {
  let s = schema;
  for (let hops = 0; s && typeof s === "object" && typeof s.$ref === "string"; hops++) {
    if (hops > 20) return {};
    const target = pointer(doc, s.$ref);
    if (target === undefined) return {};
    s = target;
  }
  return s ?? {};
}

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

type TypeSet = Set<string> | "any";

function intersect(a: TypeSet, b: TypeSet): TypeSet {
  if (a === "any") return b;
  if (b === "any") return a;
  const out = new Set<string>();
  for (const t of a) {
    if (b.has(t) || (t === "integer" && b.has("number"))) out.add(t);
    else if (t === "number" && b.has("integer")) out.add("integer");
  }
  return out;
}

function union(sets: TypeSet[]): TypeSet {
  const out = new Set<string>();
  for (const s of sets) {
    if (s === "any") return "any";
    for (const t of s) out.add(t);
  }
  return out;
}

/** The JSON types a schema accepts. */
function typesOf(doc: Json, schema: Json, depth = 0): TypeSet {
  const s = resolve(doc, schema);
  if (depth > 20 || s === true || s === undefined || typeof s !== "object") return "any";
  let result: TypeSet = "any";
  if (s.type !== undefined) result = new Set(Array.isArray(s.type) ? s.type : [s.type]);
  else if ("const" in s) result = new Set([jsonType(s.const)]);
  else if (Array.isArray(s.enum)) result = new Set(s.enum.map(jsonType));
  for (const key of ["anyOf", "oneOf"]) {
    if (Array.isArray(s[key])) result = intersect(result, union(s[key].map((x: Json) => typesOf(doc, x, depth + 1))));
  }
  if (Array.isArray(s.allOf)) {
    for (const x of s.allOf) result = intersect(result, typesOf(doc, x, depth + 1));
  }
  return result;
}

type StringDomain = Set<string> | "any";

/** The strings a schema accepts: "any", or a finite set (empty when it accepts no string). */
function stringsOf(doc: Json, schema: Json, depth = 0): StringDomain {
  const s = resolve(doc, schema);
  if (depth > 20 || s === true || s === undefined || typeof s !== "object") return "any";
  let result: StringDomain = "any";
  const types = s.type === undefined ? undefined : Array.isArray(s.type) ? s.type : [s.type];
  if ("const" in s) result = new Set(typeof s.const === "string" ? [s.const] : []);
  else if (Array.isArray(s.enum)) result = new Set(s.enum.filter((v: unknown) => typeof v === "string"));
  else if (types && !types.includes("string")) result = new Set();
  const narrow = (a: StringDomain, b: StringDomain): StringDomain => (a === "any" ? b : b === "any" ? a : new Set([...a].filter((v) => b.has(v))));
  for (const key of ["anyOf", "oneOf"]) {
    if (!Array.isArray(s[key])) continue;
    const parts: StringDomain[] = s[key].map((x: Json) => stringsOf(doc, x, depth + 1));
    const joined: StringDomain = parts.some((p) => p === "any") ? "any" : new Set(parts.flatMap((p) => (p === "any" ? [] : [...p])));
    result = narrow(result, joined);
  }
  if (Array.isArray(s.allOf)) for (const x of s.allOf) result = narrow(result, stringsOf(doc, x, depth + 1));
  return result;
}

function itemsOf(doc: Json, schema: Json, depth = 0): Json | undefined {
  const s = resolve(doc, schema);
  if (depth > 20 || !s || typeof s !== "object") return undefined;
  if (s.items !== undefined && typeof s.items === "object") return s.items;
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    if (!Array.isArray(s[key])) continue;
    for (const x of s[key]) {
      const found = itemsOf(doc, x, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function formatOf(doc: Json, schema: Json): string | undefined {
  const s = resolve(doc, schema);
  if (!s || typeof s !== "object") return undefined;
  if (typeof s.format === "string") return s.format;
  if (Array.isArray(s.allOf) && s.allOf.length === 1) return formatOf(doc, s.allOf[0]);
  return undefined;
}

/**
 * Whether ours accepts every value upstream accepts (types, string values, array items, uuid).
 * Returns null when compatible, else the reason. With `queryParam`, a scalar upstream parameter
 * is compatible with an array of ours (a single `?x=v` is a one-element array on the wire).
 */
function incompatibility(up: Json, our: Json, queryParam = false, depth = 0): string | null {
  if (depth > 6) return null;
  const upTypes = typesOf(upstream, up);
  let ourTypes = typesOf(ours, our);
  let ourSchema = our;
  if (queryParam && ourTypes !== "any" && ourTypes.has("array") && upTypes !== "any" && !upTypes.has("array")) {
    ourSchema = itemsOf(ours, our) ?? {};
    ourTypes = typesOf(ours, ourSchema);
  }
  if (ourTypes !== "any") {
    if (upTypes === "any") return `upstream accepts any JSON, ours only ${[...ourTypes].join("|")}`;
    for (const t of upTypes) {
      if (!ourTypes.has(t) && !(t === "integer" && ourTypes.has("number"))) {
        return `upstream accepts ${t}, ours only ${[...ourTypes].join("|")}`;
      }
    }
  }
  const upStrings = stringsOf(upstream, up);
  const ourStrings = stringsOf(ours, ourSchema);
  const upAcceptsString = upTypes === "any" || upTypes.has("string");
  if (upAcceptsString && ourStrings !== "any") {
    if (upStrings === "any") return "upstream accepts any string, ours an enumeration";
    const missing = [...upStrings].filter((v) => !ourStrings.has(v));
    if (missing.length > 0) return `ours rejects upstream value(s) ${missing.join(", ")}`;
  }
  if (formatOf(ours, ourSchema) === "uuid" && formatOf(upstream, up) !== "uuid") {
    return "ours requires a uuid where upstream accepts any string";
  }
  const upItems = itemsOf(upstream, up);
  const ourItems = itemsOf(ours, ourSchema);
  if (upItems && ourItems && upTypes !== "any" && upTypes.has("array")) {
    const inner = incompatibility(upItems, ourItems, false, depth + 1);
    if (inner) return `items: ${inner}`;
  }
  return null;
}

/**
 * Named fields of a schema, recursively: `a`, `a.b`, `a[].c`, `*.d` (map values).
 * Object alternatives of anyOf/oneOf and allOf members all contribute.
 */
function collectFields(doc: Json, schema: Json, prefix = "", out = new Map<string, Json>(), stack: string[] = []): Map<string, Json> {
  if (stack.length > 8 || !schema || typeof schema !== "object") return out;
  const ref = typeof schema.$ref === "string" ? schema.$ref : undefined;
  if (ref && stack.includes(ref)) return out;
  const nextStack = ref ? [...stack, ref] : [...stack, ""];
  const s = resolve(doc, schema);
  if (!s || typeof s !== "object") return out;
  if (s.properties && typeof s.properties === "object") {
    for (const [name, prop] of Object.entries<Json>(s.properties)) {
      const key = prefix + name;
      if (!out.has(key)) out.set(key, prop);
      collectFields(doc, prop, key + ".", out, nextStack);
    }
  }
  if (s.items && typeof s.items === "object") {
    const base = prefix.endsWith(".") ? prefix.slice(0, -1) : prefix;
    collectFields(doc, s.items, `${base}[].`, out, nextStack);
  }
  if (s.additionalProperties && typeof s.additionalProperties === "object") {
    collectFields(doc, s.additionalProperties, `${prefix}*.`, out, nextStack);
  }
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    if (Array.isArray(s[key])) for (const x of s[key]) collectFields(doc, x, prefix, out, nextStack);
  }
  return out;
}

interface Operation {
  key: string; // "METHOD /path"
  op: Json;
  params: Json[];
}

function operations(doc: Json): Map<string, Operation> {
  const out = new Map<string, Operation>();
  for (const [p, rawItem] of Object.entries<Json>(doc.paths ?? {})) {
    const item = resolve(doc, rawItem);
    for (const method of METHODS) {
      if (!item[method]) continue;
      const op = item[method];
      const byId = new Map<string, Json>();
      for (const raw of [...(item.parameters ?? []), ...(op.parameters ?? [])]) {
        const param = resolve(doc, raw);
        byId.set(`${param.in}:${param.name}`, param);
      }
      out.set(`${method.toUpperCase()} ${p}`, { key: `${method.toUpperCase()} ${p}`, op, params: [...byId.values()] });
    }
  }
  return out;
}

/** Request fields: `query:x`, `header:x`, `path:x` and `body:a.b`. */
function requestFields(doc: Json, operation: Operation): Map<string, { schema: Json; query: boolean }> {
  const out = new Map<string, { schema: Json; query: boolean }>();
  for (const p of operation.params) {
    if (p.in === "header" && IGNORED_HEADERS.has(String(p.name).toLowerCase())) continue;
    const name = p.in === "header" ? String(p.name).toLowerCase() : p.name;
    out.set(`${p.in}:${name}`, { schema: p.schema ?? {}, query: p.in === "query" });
  }
  const body = resolve(doc, operation.op.requestBody ?? {});
  const schema = body?.content?.["application/json"]?.schema;
  if (schema) {
    for (const [field, fieldSchema] of collectFields(doc, schema)) {
      out.set(`body:${field}`, { schema: fieldSchema, query: false });
    }
  }
  return out;
}

function successResponses(doc: Json, operation: Operation): Json[] {
  return Object.entries<Json>(operation.op.responses ?? {})
    .filter(([status]) => /^2\d\d$/.test(status))
    .map(([, r]) => resolve(doc, r));
}

/** Response fields of all 2xx answers: `header:x`, `json:a.b`; plus the media types offered. */
function responseFields(doc: Json, operation: Operation): { fields: Set<string>; media: Set<string> } {
  const fields = new Set<string>();
  const media = new Set<string>();
  for (const response of successResponses(doc, operation)) {
    for (const name of Object.keys(response.headers ?? {})) fields.add(`header:${name.toLowerCase()}`);
    for (const [type, content] of Object.entries<Json>(response.content ?? {})) {
      media.add(type);
      if (type === "application/json" && content?.schema) {
        for (const field of collectFields(doc, content.schema).keys()) fields.add(`json:${field}`);
      }
    }
  }
  return { fields, media };
}

function walk(node: Json, visit: (node: Json, where: string) => void, where = "#"): void {
  if (node === null || typeof node !== "object") return;
  visit(node, where);
  for (const [k, v] of Object.entries(node)) walk(v, visit, `${where}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
}

const upstream: Json = upstreamAvailable ? JSON.parse(readFileSync(upstreamPath, "utf8")) : {};

// ---------------------------------------------------------------------------------------------
// Our own contract
// ---------------------------------------------------------------------------------------------

describe("our contract (generated/openapi.json)", () => {
  const ourOps = operations(ours);

  it("has unique camelCase operationIds, exactly the agreed set", () => {
    const ids = [...ourOps.values()].map((o) => o.op.operationId);
    const notCamel = ids.filter((id) => typeof id !== "string" || !/^[a-z][a-zA-Z0-9]*$/.test(id));
    expect(notCamel, "operationIds that are missing or not camelCase").toEqual([]);
    const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(dupes, "duplicated operationIds").toEqual([]);
    expect([...ids].sort()).toEqual([...AGREED_OPERATION_IDS].sort());
  });

  it("has no dangling $ref", () => {
    const dangling: string[] = [];
    walk(ours, (node, where) => {
      if (typeof node.$ref === "string" && pointer(ours, node.$ref) === undefined) dangling.push(`${where}: ${node.$ref}`);
    });
    expect(dangling).toEqual([]);
  });

  it("never puts keywords next to a $ref", () => {
    const withSiblings: string[] = [];
    walk(ours, (node, where) => {
      if (typeof node.$ref === "string" && Object.keys(node).length > 1 && !where.includes("/examples")) withSiblings.push(where);
    });
    expect(withSiblings).toEqual([]);
  });

  it("never uses a bare `type: object` (free-form maps say additionalProperties)", () => {
    const bare: string[] = [];
    walk(ours, (node, where) => {
      const types = Array.isArray(node.type) ? node.type : [node.type];
      if (
        types.includes("object") &&
        node.properties === undefined &&
        node.additionalProperties === undefined &&
        node.patternProperties === undefined &&
        !where.includes("/properties/type") // a property *named* type
      ) {
        bare.push(where);
      }
    });
    expect(bare).toEqual([]);
  });

  it("gives every JSON error response an ErrorResponse with a required string detail", () => {
    const error = resolve(ours, { $ref: "#/components/schemas/ErrorResponse" });
    expect(error.type).toBe("object");
    expect(error.required).toContain("detail");
    expect(error.properties.detail.type).toBe("string");
    const offenders: string[] = [];
    for (const o of ourOps.values()) {
      if (o.key.includes("/mcp/") || o.key.includes("/a2a/")) continue; // JSON-RPC envelopes
      for (const [status, raw] of Object.entries<Json>(o.op.responses ?? {})) {
        if (!/^[45]/.test(status)) continue;
        const schema = resolve(ours, raw)?.content?.["application/json"]?.schema;
        if (schema?.$ref !== "#/components/schemas/ErrorResponse") offenders.push(`${o.key} ${status}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("declares 422 wherever the request has input, and 404 wherever the path names a resource", () => {
    // the server answers these statuses itself (request validation, missing records)
    const missing: string[] = [];
    for (const o of ourOps.values()) {
      const statuses = Object.keys(o.op.responses ?? {});
      // JSON-RPC endpoints (x-jsonrpc) check their own bodies and answer JSON-RPC errors instead
      const hasInput = Boolean(o.op.requestBody || o.params.length) && o.op["x-jsonrpc"] !== true;
      if (hasInput && !statuses.includes("422")) missing.push(`${o.key} 422`);
      // joins of a run answer a missing one with an `error` event in a 200 stream, as the Platform does
      const notFoundAsEvent = o.op["x-not-found-as-event"] === true;
      // the protocol's routes take a thread that does not exist yet (the first run.start creates it)
      const threadCreatedOnUse = o.op["x-thread-created-on-use"] === true;
      if (o.key.includes("{") && !notFoundAsEvent && !threadCreatedOnUse && !statuses.includes("404")) missing.push(`${o.key} 404`);
    }
    expect(missing).toEqual([]);
  });

  it("rejects unknown fields in request bodies (JSON-RPC envelopes aside)", () => {
    const open: string[] = [];
    for (const o of ourOps.values()) {
      if (o.key.includes("/mcp/") || o.key.includes("/a2a/")) continue;
      let schema = resolve(ours, resolve(ours, o.op.requestBody ?? {})?.content?.["application/json"]?.schema ?? {});
      if (schema?.type === "array") schema = resolve(ours, schema.items);
      if (schema?.type === "object" && schema.additionalProperties !== false) open.push(o.key);
    }
    expect(open).toEqual([]);
  });

  it("declares a schema on every 2xx JSON / SSE response", () => {
    const missing: string[] = [];
    for (const o of ourOps.values()) {
      for (const [status, raw] of Object.entries<Json>(o.op.responses ?? {})) {
        if (!/^2/.test(status)) continue;
        for (const [type, content] of Object.entries<Json>(resolve(ours, raw).content ?? {})) {
          const schema = content?.schema;
          if (!schema || (typeof schema === "object" && Object.keys(schema).length === 0)) missing.push(`${o.key} ${status} ${type}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Against upstream
// ---------------------------------------------------------------------------------------------

describe.runIf(comparisonRequired && !upstreamAvailable)("the upstream LangGraph Platform document", () => {
  it("is present where ../shared exists", () => {
    expect.fail(`${upstreamPath} is missing although ${sharedDir} exists: the upstream comparison cannot run`);
  });
});

describe.skipIf(!upstreamAvailable)("compatibility with the upstream LangGraph Platform document", () => {
  const upOps = upstreamAvailable ? operations(upstream) : new Map<string, Operation>();
  const ourOps = operations(ours);

  it("offers every upstream operation", () => {
    const missing = [...upOps.keys()].filter((k) => !ourOps.has(k) && !(k in MISSING_OPERATIONS));
    const covered = [...upOps.keys()].filter((k) => ourOps.has(k)).length;
    console.log(`upstream-compat: operations covered ${covered}/${upOps.size}`);
    expect(missing).toEqual([]);
    for (const k of Object.keys(MISSING_OPERATIONS)) expect(upOps.has(k), `stale exception ${k}`).toBe(true);
  });

  it("accepts every upstream request field with a compatible type", () => {
    const problems: string[] = [];
    let total = 0;
    let covered = 0;
    const usedExceptions = new Set<string>();
    for (const [opKey, upOp] of upOps) {
      const ourOp = ourOps.get(opKey);
      if (!ourOp) continue; // reported by the operations test
      const ourFields = requestFields(ours, ourOp);
      for (const [field, up] of requestFields(upstream, upOp)) {
        total++;
        const id = `${opKey} ${field}`;
        const known = REQUEST_FIELD_DIFFERENCES[id];
        if (known) {
          usedExceptions.add(id);
          if (known.replacement && !ourFields.has(known.replacement)) {
            problems.push(`${id}: replacement ${known.replacement} is missing`);
          } else {
            covered++;
          }
          continue;
        }
        const mine = ourFields.get(field);
        if (!mine) {
          problems.push(`${id}: not accepted by ours`);
          continue;
        }
        const why = incompatibility(up.schema, mine.schema, up.query);
        if (why) problems.push(`${id}: ${why}`);
        else covered++;
      }
    }
    console.log(`upstream-compat: request fields covered ${covered}/${total}`);
    const stale = Object.keys(REQUEST_FIELD_DIFFERENCES).filter((k) => !usedExceptions.has(k));
    expect(stale, "exceptions that no longer match an upstream field").toEqual([]);
    expect(problems).toEqual([]);
  });

  it("declares every field of upstream success responses", () => {
    const problems: string[] = [];
    const used = new Set<string>();
    let total = 0;
    let covered = 0;
    for (const [opKey, upOp] of upOps) {
      const ourOp = ourOps.get(opKey);
      if (!ourOp) continue;
      const up = responseFields(upstream, upOp);
      const mine = responseFields(ours, ourOp);
      for (const type of up.media) {
        const id = `${opKey} media:${type}`;
        if (id in RESPONSE_FIELD_DIFFERENCES) used.add(id);
        else if (!mine.media.has(type)) problems.push(`${id}: no 2xx response of this media type`);
      }
      for (const field of up.fields) {
        total++;
        const id = `${opKey} ${field}`;
        if (id in RESPONSE_FIELD_DIFFERENCES) used.add(id);
        if (mine.fields.has(field) || id in RESPONSE_FIELD_DIFFERENCES) covered++;
        else problems.push(`${id}: not declared by ours`);
      }
    }
    console.log(`upstream-compat: response fields covered ${covered}/${total}`);
    const stale = Object.keys(RESPONSE_FIELD_DIFFERENCES).filter((k) => !used.has(k));
    expect(stale, "exceptions that no longer match upstream").toEqual([]);
    expect(problems).toEqual([]);
  });
});
