/**
 * Loading the user's Auth, authenticating through the request authenticator (with and without
 * `auth.cache`), the run-creation authorization, and turning an `HTTPException` into an answer.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Auth, HTTPException } from "@langchain/langgraph-sdk/auth";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asAuthRejection, AuthRejection } from "../../src/auth/errors.js";
import { actingAs, AuthLoadError, loadAuth, NO_AUTH, RequestAuthenticator } from "../../src/auth/index.js";
import { filtersToScope } from "../../src/auth/authorize.js";
import { authorizeRunCreation } from "../../src/auth/run-access.js";
import { toWebRequest } from "../../src/auth/authenticate.js";
import { InvalidAuthResultError, normalizeUser, unauthenticated, type AuthUser } from "../../src/auth/user.js";
import { UNSCOPED } from "../../src/storage/scope.js";

const logger = pino({ level: "silent" });
const handlersOf = (auth: Auth) => auth["~handlerCache"];
/** A deployment serving one graph, "agent", whose default assistant has the id "default-of-agent". */
const GRAPHS = { isGraphAssistant: (id: string) => id === "agent" || id === "default-of-agent" };
const FIXTURE_DIR = path.resolve(import.meta.dirname, "../fixtures/auth");

describe("loadAuth", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "lgts-auth-load-"));
    const modules: Record<string, string> = {
      "plain.mjs":
        "export const notAuth = { handlers: {} };\nexport const nullCache = { '~handlerCache': null };\nexport const textCache = { '~handlerCache': 'x' };\nexport const nothing = null;\nexport const text = 'auth';\n",
      "no-authenticate.mjs": "export const auth = { '~handlerCache': { callbacks: {} } };\n",
      "duck.mjs": "export default { '~handlerCache': { authenticate: () => 'duck', callbacks: {} } };\n",
      "throws.mjs": "throw new Error('broken at import\\nsecond line');\n",
    };
    for (const [name, text] of Object.entries(modules)) await writeFile(path.join(dir, name), text);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const failure = (source: string) =>
    loadAuth(source, dir).then(
      () => undefined,
      (e: unknown) => e,
    );

  it("loads the handlers of an Auth export, TypeScript or JavaScript, default export when none is named", async () => {
    const handlers = await loadAuth("./auth.ts:auth", FIXTURE_DIR);
    expect(typeof handlers.authenticate).toBe("function");
    const duck = await loadAuth("duck.mjs", dir);
    expect(await duck.authenticate!(new Request("http://x/"))).toBe("duck");
  });

  it("refuses a missing file, a failing import, a missing export, a non-Auth and an Auth without authenticate", async () => {
    const cases: Array<[string, RegExp]> = [
      ["missing.mjs:auth", /^Cannot load auth\.path "missing\.mjs:auth": file not found: .*missing\.mjs$/],
      ["throws.mjs:auth", /^Cannot load auth\.path "throws\.mjs:auth": import failed: broken at import$/],
      ["plain.mjs:auth", /^Cannot load auth\.path "plain\.mjs:auth": module has no export "auth"$/],
      ["plain.mjs:notAuth", /export "notAuth" is not an Auth instance/],
      ["plain.mjs:nullCache", /export "nullCache" is not an Auth instance/],
      ["plain.mjs:textCache", /export "textCache" is not an Auth instance/],
      ["plain.mjs:nothing", /export "nothing" is not an Auth instance/],
      ["plain.mjs:text", /export "text" is not an Auth instance/],
      ["no-authenticate.mjs:auth", /the Auth has no authenticate handler/],
    ];
    for (const [source, message] of cases) {
      const error = await failure(source);
      expect(error, source).toBeInstanceOf(AuthLoadError);
      expect((error as Error).message, source).toMatch(message);
    }
    expect(((await failure("throws.mjs:auth")) as Error).cause).toBeInstanceOf(Error);
  });
});

describe("RequestAuthenticator", () => {
  const user = (identity: string): AuthUser => normalizeUser(identity);
  const counting = () => {
    const seen: string[] = [];
    const auth = new Auth()
      .authenticate((request) => {
        const token = request.headers.get("authorization") ?? "anonymous";
        seen.push(token);
        return token;
      })
      .on("threads", ({ user: who }) => ({ owner: who.identity }));
    return { seen, handlers: handlersOf(auth) };
  };
  const request = (authorization?: string) => ({
    method: "GET",
    url: "/threads",
    headers: { host: "h", ...(authorization ? { authorization } : {}) },
  });

  it("authenticates every request anew without a cache, and authorizes as the authenticated user", async () => {
    const { seen, handlers } = counting();
    const authenticator = new RequestAuthenticator(handlers, logger);
    const first = await authenticator.authenticate(request("ann"));
    await authenticator.authenticate(request("ann"));
    expect(seen).toEqual(["ann", "ann"]);
    expect(first.user).toEqual(user("ann"));
    const answer = await first.authorize("threads:read", { thread_id: "t" });
    expect(answer.scope.conditions).toEqual([{ key: "owner", op: "$eq", value: "ann" }]);
  });

  it("with auth.cache serves a keyed request from the cache, and never one without the keyed headers", async () => {
    const { seen, handlers } = counting();
    const authenticator = new RequestAuthenticator(handlers, logger, { ttl_seconds: 60 });
    expect((await authenticator.authenticate(request("ann"))).user?.identity).toBe("ann");
    expect((await authenticator.authenticate(request("ann"))).user?.identity).toBe("ann");
    expect((await authenticator.authenticate(request("bob"))).user?.identity).toBe("bob");
    await authenticator.authenticate(request());
    await authenticator.authenticate(request());
    expect(seen).toEqual(["ann", "bob", "anonymous", "anonymous"]);
  });

  it("without Auth, or acting as a stored user, lets everything through unscoped", async () => {
    expect(NO_AUTH.user).toBeNull();
    const value = { thread_id: "t" };
    expect(await NO_AUTH.authorize("threads:read", value)).toEqual({ scope: UNSCOPED, value });
    expect(actingAs(null)).toBe(NO_AUTH);
    const acting = actingAs(user("cron-owner"));
    expect(acting.user?.identity).toBe("cron-owner");
    expect(await acting.authorize("threads:delete", value)).toEqual({ scope: UNSCOPED, value });
  });
});

describe("authorizeRunCreation", () => {
  it("asks threads:create_run with the run's fields, then assistants:read for the assistant the handler chose", async () => {
    const events: Array<[string, unknown]> = [];
    const auth = new Auth()
      .authenticate(() => "ann")
      .on("threads:create_run", ({ value }) => {
        events.push(["threads:create_run", structuredClone(value)]);
        value.assistant_id = "chosen";
        value.metadata = { ...value.metadata, owner: "ann" };
        return { owner: "ann" };
      })
      .on("assistants:read", ({ value }) => {
        events.push(["assistants:read", structuredClone(value)]);
        return { team: "t" };
      });
    const requestAuth = await new RequestAuthenticator(handlersOf(auth), logger).authenticate({ method: "POST", url: "/runs", headers: {} });
    const body = {
      assistant_id: "asked",
      metadata: { a: 1 },
      multitask_strategy: "enqueue" as const,
      if_not_exists: "create" as const,
      after_seconds: 5,
      input: { x: 1 },
    };
    const { access, body: authorized } = await authorizeRunCreation(requestAuth, GRAPHS, "thread-1", body);
    const [createRun, readAssistant] = events;
    expect(createRun).toEqual([
      "threads:create_run",
      {
        thread_id: "thread-1",
        assistant_id: "asked",
        run_id: access.runId,
        status: "pending",
        metadata: { a: 1 },
        multitask_strategy: "enqueue",
        if_not_exists: "create",
        after_seconds: 5,
        kwargs: body,
      },
    ]);
    expect(readAssistant).toEqual(["assistants:read", { assistant_id: "chosen" }]);
    expect(access.runId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(access.thread.conditions).toEqual([{ key: "owner", op: "$eq", value: "ann" }]);
    expect(access.assistant.conditions).toEqual([{ key: "team", op: "$eq", value: "t" }]);
    expect(access.user?.identity).toBe("ann");
    expect(authorized).toEqual({ ...body, assistant_id: "chosen", metadata: { a: 1, owner: "ann" } });
  });

  it("runs a graph (its id or its default assistant) without asking assistants:read: anyone who may create the run may run it", async () => {
    const asked: string[] = [];
    const auth = new Auth()
      .authenticate(() => "ann")
      .on("*", ({ event }) => {
        asked.push(event);
        return { owner: "ann" };
      });
    const requestAuth = await new RequestAuthenticator(handlersOf(auth), logger).authenticate({ method: "POST", url: "/runs", headers: {} });
    for (const assistantId of ["agent", "default-of-agent"]) {
      const { access } = await authorizeRunCreation(requestAuth, GRAPHS, null, { assistant_id: assistantId });
      expect(access.assistant).toBe(UNSCOPED);
      expect(access.thread.conditions).toEqual([{ key: "owner", op: "$eq", value: "ann" }]);
    }
    expect(asked).toEqual(["threads:create_run", "threads:create_run"]);
  });

  it("a stateless run without metadata or a multitask strategy gets empty metadata and no strategy", async () => {
    let seen: Record<string, unknown> | undefined;
    const auth = new Auth().authenticate(() => "ann").on("threads:create_run", ({ value }) => void (seen = { ...value }));
    const requestAuth = await new RequestAuthenticator(handlersOf(auth), logger).authenticate({ method: "POST", url: "/runs", headers: {} });
    const { body } = await authorizeRunCreation(requestAuth, GRAPHS, null, { assistant_id: "a" });
    expect(seen).toMatchObject({ thread_id: null, metadata: {}, multitask_strategy: undefined, if_not_exists: undefined });
    expect(body).toEqual({ assistant_id: "a", metadata: {} });
  });
});

describe("HTTPException answers and the Request authenticate sees", () => {
  it("keeps a 4xx/5xx status, the message and the headers; anything else is not an answer", () => {
    const rejection = asAuthRejection(new HTTPException(401, { message: "Missing token", headers: { "WWW-Authenticate": "Bearer" } }));
    expect(rejection).toBeInstanceOf(AuthRejection);
    expect(rejection).toMatchObject({ status: 401, message: "Missing token", headers: { "www-authenticate": "Bearer" } });
    expect(asAuthRejection({ status: 599, headers: {}, message: "" })).toMatchObject({ status: 599, message: "Unauthorized", headers: {} });
    expect(asAuthRejection({ status: 400, headers: [["x-a", "1"]], message: 7 })).toMatchObject({
      status: 400,
      message: "Unauthorized",
      headers: { "x-a": "1" },
    });
    expect(asAuthRejection({ status: 403, headers: "not headers" })?.headers).toEqual({});
    expect(asAuthRejection({ status: 403, headers: [["bad header", "x"]] })?.headers).toEqual({});
    for (const notAnAnswer of [
      null,
      "x",
      { status: 399, headers: {} },
      { status: 600, headers: {} },
      { status: 401.5, headers: {} },
      { status: "401", headers: {} },
      { status: 401 },
    ]) {
      expect(asAuthRejection(notAnAnswer), JSON.stringify(notAnAnswer)).toBeUndefined();
    }
  });

  it("passes every header value (repeated ones too) and leaves out values Headers refuses", () => {
    const request = toWebRequest({
      method: "POST",
      url: "/a?b=1",
      headers: { host: "h:1", "x-many": ["1", "2"], "x-bad": "line\nbreak", "x-gone": undefined, authorization: "Bearer t" },
    });
    expect(request.method).toBe("POST");
    expect(request.url).toBe("http://h:1/a?b=1");
    expect(request.headers.get("x-many")).toBe("1, 2");
    expect(request.headers.has("x-bad")).toBe(false);
    expect(request.headers.has("x-gone")).toBe(false);
    expect(request.headers.get("authorization")).toBe("Bearer t");
    expect(toWebRequest({ method: "GET", url: "/p", headers: {} }).url).toBe("http://localhost/p");
    expect(toWebRequest({ method: "GET", url: "/p?q", headers: { host: "bad host^" } }).url).toBe("http://localhost/p?q");
    expect(toWebRequest({ method: "GET", url: "x", headers: { host: "bad host^" } }).url).toBe("http://localhost/");
  });

  it("normalises permissions to strings, and keeps an explicit display name and authentication flag", () => {
    expect(normalizeUser({ identity: "a", permissions: ["p", 1, null, "q"], display_name: "A", is_authenticated: true })).toEqual({
      identity: "a",
      permissions: ["p", "q"],
      display_name: "A",
      is_authenticated: true,
    });
    expect(normalizeUser({ identity: "a", permissions: "p", display_name: 5 })).toMatchObject({ permissions: [], display_name: "a" });
    expect(() => normalizeUser({ identity: 5 })).toThrow(/non-empty string/);
    for (const notUser of [null, undefined, "", 5, ["ann"]])
      expect(() => normalizeUser(notUser), JSON.stringify(notUser)).toThrow(InvalidAuthResultError);
    expect(unauthenticated()).toMatchObject({ kind: "unauthorized", message: "Unauthorized" });
    expect(unauthenticated("Token expired").message).toBe("Token expired");
  });
});

describe("filters a handler returns, as a storage scope", () => {
  it("takes JSON scalars as equality and $eq / $contains operators, several keys and operators together", () => {
    expect(
      filtersToScope({
        owner: "ann",
        admin: false,
        level: 1.5,
        team: { $eq: true },
        tags: { $contains: ["a", 2] },
        tag: { $contains: "x", $eq: "y" },
      }).conditions,
    ).toEqual([
      { key: "owner", op: "$eq", value: "ann" },
      { key: "admin", op: "$eq", value: false },
      { key: "level", op: "$eq", value: 1.5 },
      { key: "team", op: "$eq", value: true },
      { key: "tags", op: "$contains", values: ["a", 2] },
      { key: "tag", op: "$contains", values: ["x"] },
      { key: "tag", op: "$eq", value: "y" },
    ]);
    expect(filtersToScope({}).conditions).toEqual([]);
    expect(filtersToScope({ tags: { $contains: [] } }).conditions).toEqual([{ key: "tags", op: "$contains", values: [] }]);
  });

  it("refuses anything else, so that a handler's mistake answers 403 instead of widening the scope", () => {
    const refused: unknown[] = [
      "owner",
      7,
      ["owner"],
      { owner: null },
      { owner: ["ann"] },
      { owner: Number.NaN },
      { owner: Number.POSITIVE_INFINITY },
      { owner: {} },
      { owner: { $eq: null } },
      { owner: { $eq: { nested: 1 } } },
      { owner: { $eq: Number.NaN } },
      { owner: { $ne: "ann" } },
      { tags: { $contains: ["a", { b: 1 }] } },
      { tags: { $contains: [null] } },
      { tags: { $contains: { a: 1 } } },
    ];
    for (const filters of refused) expect(() => filtersToScope(filters), JSON.stringify(filters)).toThrow();
  });
});

describe("auth details a user notices", () => {
  it("an operator other than $eq and $contains is refused even with an array operand", () => {
    expect(() => filtersToScope({ owner: { $ne: ["ann"] } })).toThrow(/unsupported operator \$ne/);
    expect(() => filtersToScope({ owner: { $in: ["ann", "bob"] } })).toThrow(/unsupported operator \$in/);
  });

  it("a cached user stays for the whole TTL in seconds, and not a millisecond longer", async () => {
    const { AuthCache } = await import("../../src/auth/cache.js");
    let now = 1_000_000;
    const cache = new AuthCache({ ttl_seconds: 10 }, () => now);
    const key = cache.keyOf({ authorization: "Bearer x" })!;
    cache.set(key, normalizeUser("ann"));
    now += 9_999;
    expect(cache.get(key)?.identity).toBe("ann");
    now += 1;
    expect(cache.get(key)).toBeUndefined();
  });
});
