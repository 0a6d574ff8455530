/**
 * The operations' JSON body reader gives what express.json gives, request by request: the same
 * `req.body`, or the same error (status, type, message). The usual request takes its own path
 * (src/http/json-body.ts); the rest, and every body it cannot take as an object or array, goes
 * through express.json.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import express, { type ErrorRequestHandler, type RequestHandler } from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonBody } from "../../src/http/json-body.js";

const LIMIT = 1000;
let server: Server;
let base: string;
/** Errors the readers passed on, in order (the error handler's view). */
const passedOn: Array<{ path: string; status?: number; type?: string }> = [];
let errorPassedOn = () => {};

/** The request's async context (a trace span's, say), which the handler must still see after the body is read. */
const requestContext = new AsyncLocalStorage<string>();

beforeAll(async () => {
  const app = express();
  app.use((req, _res, next) => requestContext.run(`context of ${req.path}`, next));
  const answer: RequestHandler = (req, res) => {
    res.json({ body: req.body === undefined ? "<none>" : (req.body as unknown), context: requestContext.getStore()?.replace(req.path, "") });
  };
  app.post("/full", express.json({ limit: LIMIT }), answer);
  app.post("/fast", jsonBody(LIMIT), answer);
  const errors: ErrorRequestHandler = (err: { status?: number; type?: string; message?: string }, req, res, _next) => {
    passedOn.push({ path: req.path, status: err.status, type: err.type });
    errorPassedOn();
    res.status(err.status ?? 500).json({ error: { status: err.status, type: err.type, message: err.message } });
  };
  app.use(errors);
  server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Sent {
  body: Buffer | string;
  headers?: Record<string, string>;
  /** Sent in two writes without a Content-Length (chunked). */
  chunked?: boolean;
}

async function send(path: string, sent: Sent): Promise<{ status: number; body: unknown }> {
  const bytes = Buffer.isBuffer(sent.body) ? sent.body : Buffer.from(sent.body);
  const headers: Record<string, string> = { "content-type": "application/json", ...sent.headers };
  if (!sent.chunked) headers["content-length"] = String(bytes.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown }));
    });
    req.on("error", reject);
    if (sent.chunked) {
      req.write(bytes.subarray(0, 3));
      req.end(bytes.subarray(3));
    } else req.end(bytes);
  });
}

/** A 200 answer: the body the handler got, in the request's own async context. */
const parsed = (body: unknown) => ({ status: 200, body: { body, context: "context of " } });

/** Both readers' answers to the same request: they must be equal, and are returned for a closer look. */
async function both(sent: Sent) {
  const [full, fast] = [await send("/full", sent), await send("/fast", sent)];
  expect(fast).toEqual(full);
  return fast;
}

describe("the operations' JSON body reader", () => {
  it("parses objects and arrays as express.json does, and takes an empty body as {}", async () => {
    expect(await both({ body: '{"a":1,"b":[true,null]}' })).toEqual(parsed({ a: 1, b: [true, null] }));
    expect(await both({ body: " \n[1,2]" })).toEqual(parsed([1, 2]));
    expect(await both({ body: "" })).toEqual(parsed({}));
    expect(await both({ body: '{"text":"é 😀 \\u00e9"}' })).toEqual(parsed({ text: "é 😀 é" }));
    // invalid UTF-8 is replaced, not refused
    await both({ body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]) });
  });

  it("accepts charset utf-8 in any case or quoted, and refuses other charsets with express.json's 415", async () => {
    for (const type of [
      "application/json; charset=utf-8",
      "application/json;charset=UTF-8",
      'application/json; charset="utf-8"',
      "APPLICATION/JSON",
    ]) {
      expect(await both({ body: '{"a":1}', headers: { "content-type": type } })).toEqual(parsed({ a: 1 }));
    }
    expect((await both({ body: '{"a":1}', headers: { "content-type": "application/json; charset=latin1" } })).status).toBe(415);
    expect((await both({ body: '{"a":1}', headers: { "content-type": "application/json; charset=utf-16le" } })).status).toBe(400);
  });

  it("refuses what express.json refuses, with its status, type and message", async () => {
    for (const body of ["123", "null", '"text"', "   ", "{bad", '{"a":1}}', "[1,"]) {
      const answer = await both({ body });
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ error: { type: "entity.parse.failed" } });
    }
    expect(await both({ body: `{"a":"${"x".repeat(LIMIT)}"}` })).toMatchObject({ status: 413, body: { error: { type: "entity.too.large" } } });
  });

  it("leaves other content types unparsed, and reads a byte order mark, compressed and chunked bodies as express.json does", async () => {
    expect(await both({ body: '{"a":1}', headers: { "content-type": "text/plain" } })).toEqual(parsed("<none>"));
    await both({ body: '{"a":1}', headers: { "content-type": "application/vnd.api+json" } });
    expect(await both({ body: '\ufeff{"a":1}' })).toEqual(parsed({ a: 1 }));
    expect(await both({ body: gzipSync('{"a":1}'), headers: { "content-encoding": "gzip" } })).toEqual(parsed({ a: 1 }));
    expect(await both({ body: '{"a":1}', headers: { "content-encoding": "identity" } })).toEqual(parsed({ a: 1 }));
    expect((await both({ body: '{"a":1}', headers: { "content-encoding": "compress" } })).status).toBe(415);
    expect(await both({ body: '{"a":[1,2,3]}', chunked: true })).toEqual(parsed({ a: [1, 2, 3] }));
    expect((await both({ body: `{"a":"${"x".repeat(LIMIT)}"}`, chunked: true })).status).toBe(413);
  });

  it("passes on express.json's 400 when the client leaves mid-body, and goes on serving", async () => {
    for (const path of ["/full", "/fast"]) {
      const passed = new Promise<void>((resolve) => (errorPassedOn = resolve));
      const req = httpRequest(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", "content-length": "100" } });
      req.on("error", () => {});
      req.write('{"a":', () => setTimeout(() => req.destroy(), 20));
      await passed;
      expect(passedOn.at(-1)).toEqual({ path, status: 400, type: "request.aborted" });
    }
    expect(await both({ body: '{"a":1}' })).toEqual(parsed({ a: 1 }));
  });
});
