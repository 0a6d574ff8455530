import { Auth, HTTPException } from "@langchain/langgraph-sdk/auth";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { authorize, filtersToScope, handlerFor, type AuthEvent } from "../../src/auth/authorize.js";
import { authenticate } from "../../src/auth/authenticate.js";
import { AuthRejection } from "../../src/auth/errors.js";
import { normalizeUser, type AuthUser } from "../../src/auth/user.js";
import { configurableRunningAs } from "../../src/runtime/runs/run-as.js";

const logger = pino({ level: "silent" });
const user: AuthUser = { identity: "u1", permissions: ["p"], display_name: "U", is_authenticated: true };
const handlersOf = (auth: Auth) => auth["~handlerCache"];

describe("handler resolution", () => {
  it("takes resource:action, then resource, then *:action, then *", async () => {
    const called: string[] = [];
    const auth = new Auth()
      .on("threads:create", () => void called.push("threads:create"))
      .on("threads", () => void called.push("threads"))
      .on("*:read", () => void called.push("*:read"))
      .on("*", () => void called.push("*"));
    const events: AuthEvent[] = ["threads:create", "threads:read", "assistants:read", "assistants:create", "store:put"];
    for (const event of events) await handlerFor(handlersOf(auth), event)!({} as never);
    expect(called).toEqual(["threads:create", "threads", "*:read", "*", "*"]);
  });

  it("lets everything through unscoped when no handler matches", async () => {
    const auth = new Auth().on("store", () => false);
    const answer = await authorize(handlersOf(auth), user, "threads:read", { thread_id: "t" }, logger);
    expect(answer.scope.conditions).toEqual([]);
  });
});

describe("authorize", () => {
  it("passes event, resource, action, value, user and permissions; the value may be changed in place", async () => {
    let seen: unknown;
    const auth = new Auth().on("threads:create", (ctx) => {
      seen = { event: ctx.event, resource: ctx.resource, action: ctx.action, user: ctx.user.identity, permissions: ctx.permissions };
      ctx.value.metadata = { ...ctx.value.metadata, owner: ctx.user.identity };
    });
    const value = { metadata: { a: 1 } };
    const answer = await authorize(handlersOf(auth), user, "threads:create", value, logger);
    expect(seen).toEqual({ event: "threads:create", resource: "threads", action: "create", user: "u1", permissions: ["p"] });
    expect(answer.value.metadata).toEqual({ a: 1, owner: "u1" });
  });

  it("turns filters into scope conditions", async () => {
    const auth = new Auth().on("*", () => ({ owner: "u1", team: { $eq: "t" }, tags: { $contains: "x" } }));
    const answer = await authorize(handlersOf(auth), user, "threads:search", {}, logger);
    expect(answer.scope.conditions).toEqual([
      { key: "owner", op: "$eq", value: "u1" },
      { key: "team", op: "$eq", value: "t" },
      { key: "tags", op: "$contains", values: ["x"] },
    ]);
    expect(filtersToScope({ tags: { $contains: ["a", "b"] } }).conditions).toEqual([{ key: "tags", op: "$contains", values: ["a", "b"] }]);
  });

  it("answers 403 for false, a thrown error and an invalid filter; an HTTPException keeps its status", async () => {
    const cases: Array<[() => unknown, string | number]> = [
      [() => false, "forbidden"],
      [
        () => {
          throw new Error("nope");
        },
        "forbidden",
      ],
      [() => ["not", "a", "filter"], "forbidden"],
      [() => ({ owner: { $regex: "." } }), "forbidden"],
      [() => ({ owner: { nested: { deep: 1 } } }), "forbidden"],
      [() => 42, "forbidden"],
      [
        () => {
          throw new HTTPException(404, { message: "gone" });
        },
        404,
      ],
    ];
    for (const [handler, expected] of cases) {
      const auth = new Auth().on("*", handler as never);
      const error = await authorize(handlersOf(auth), user, "threads:read", {}, logger).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (typeof expected === "number") expect(error).toMatchObject({ status: expected, message: "gone" });
      else expect(error).toMatchObject({ kind: expected });
    }
    for (const allowed of [() => undefined, () => true, () => null, () => ({})]) {
      const auth = new Auth().on("*", allowed as never);
      await expect(authorize(handlersOf(auth), user, "threads:read", {}, logger)).resolves.toMatchObject({ scope: { conditions: [] } });
    }
  });
});

describe("authenticate", () => {
  const incoming = (authorization?: string) => ({
    method: "GET",
    url: "/threads/x?y=1",
    headers: { host: "example.test:1234", ...(authorization ? { authorization } : {}) },
  });

  it("gives the user's authenticate a standard Request", async () => {
    let request: Request | undefined;
    const auth = new Auth().authenticate((r) => {
      request = r;
      return "someone";
    });
    await authenticate(handlersOf(auth), incoming("Bearer t"), logger);
    expect(request).toBeInstanceOf(Request);
    expect(request!.url).toBe("http://example.test:1234/threads/x?y=1");
    expect(request!.headers.get("authorization")).toBe("Bearer t");
  });

  it("normalises a string or an object, keeping extra fields", () => {
    expect(normalizeUser("ann")).toEqual({ identity: "ann", permissions: [], display_name: "ann", is_authenticated: true });
    expect(normalizeUser({ identity: "ann", org: "o" })).toEqual({
      identity: "ann",
      org: "o",
      permissions: [],
      display_name: "ann",
      is_authenticated: true,
    });
  });

  it("answers an HTTPException's status and message, anything else with a generic 401", async () => {
    const failing = async (behaviour: () => unknown) =>
      authenticate(handlersOf(new Auth().authenticate(behaviour as never)), incoming(), logger).then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(
      await failing(() => {
        throw new HTTPException(403, { message: "no entry" });
      }),
    ).toMatchObject({ status: 403, message: "no entry" });
    for (const behaviour of [
      () => {
        throw new Error("secret stack");
      },
      () => {
        throw "a string";
      },
      () => 42,
      () => null,
      () => ({ name: "no identity" }),
      () => ({ identity: "x", is_authenticated: false }),
      () => "",
    ]) {
      const error = await failing(behaviour);
      expect(error).toBeInstanceOf(AuthRejection);
      expect(error).toMatchObject({ status: 401, message: "Unauthorized" });
    }
  });
});

describe("the user runs execute as", () => {
  it("is written into configurable, replacing anything a client sent under those keys", () => {
    const sent = { langgraph_auth_user: { identity: "mallory" }, langgraph_auth_user_id: "mallory", other: 1 };
    expect(configurableRunningAs(sent, null)).toEqual({ other: 1 });
    expect(configurableRunningAs(sent, user)).toEqual({
      other: 1,
      langgraph_auth_user: user,
      langgraph_auth_user_id: "u1",
      langgraph_auth_permissions: ["p"],
    });
  });
});

describe("auth.cache", () => {
  it("reuses a user for the TTL, keyed by the configured headers, dropping the least recently used", async () => {
    const { AuthCache } = await import("../../src/auth/cache.js");
    let now = 0;
    const cache = new AuthCache({ cache_keys: ["Authorization", "X-Org"], ttl_seconds: 10, max_size: 2 }, () => now);
    expect(cache.keyOf({})).toBeUndefined();
    const k1 = cache.keyOf({ authorization: "Bearer 1" })!;
    const k2 = cache.keyOf({ authorization: "Bearer 1", "x-org": "o" })!;
    expect(k1).not.toBe(k2);
    cache.set(k1, user);
    cache.set(k2, { ...user, identity: "u2" });
    expect(cache.get(k1)?.identity).toBe("u1"); // k1 is now the most recently used
    cache.set(cache.keyOf({ authorization: "Bearer 3" })!, user);
    expect(cache.get(k2)).toBeUndefined(); // dropped
    now = 10_000;
    expect(cache.get(k1)).toBeUndefined(); // expired
  });
});
