/**
 * Example Auth: HS256 JWTs (issued by make-token.ts here; by your identity provider in real life)
 * name the user in `sub`. Every thread, assistant, run and cron a user creates is marked with
 * `metadata.owner` and every user sees only their own (the canonical LangGraph owner pattern);
 * store namespaces are put under the user's identity.
 */
import { Auth, HTTPException } from "@langchain/langgraph-sdk/auth";
import { jwtVerify } from "jose";

const secret = () => new TextEncoder().encode(process.env.AUTH_JWT_SECRET ?? "");

export const auth = new Auth()
  .authenticate(async (request: Request) => {
    const match = /^Bearer (\S+)$/.exec(request.headers.get("authorization") ?? "");
    if (!match) throw new HTTPException(401, { message: "Missing bearer token", headers: { "WWW-Authenticate": "Bearer" } });
    try {
      const { payload } = await jwtVerify(match[1], secret(), {
        algorithms: ["HS256"],
        issuer: process.env.AUTH_JWT_ISSUER,
      });
      if (typeof payload.sub !== "string" || payload.sub === "") throw new Error("no subject");
      const permissions = Array.isArray(payload.permissions) ? payload.permissions.filter((p): p is string => typeof p === "string") : [];
      return { identity: payload.sub, permissions, display_name: typeof payload.name === "string" ? payload.name : payload.sub };
    } catch {
      throw new HTTPException(401, { message: "Invalid token", headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
    }
  })
  // threads, assistants, runs and crons: mark what is created, see only what is marked as yours
  .on("*", ({ value, user }) => {
    const v = value as { metadata?: Record<string, unknown> | null };
    if (v !== null && typeof v === "object" && "metadata" in v) v.metadata = { ...(v.metadata ?? {}), owner: user.identity };
    return { owner: user.identity };
  })
  // the store: each user works in their own namespace
  .on("store", ({ value, user }) => {
    const v = value;
    v.namespace = [user.identity, ...(v.namespace ?? [])];
  });
