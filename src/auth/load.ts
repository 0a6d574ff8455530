/**
 * Loading the user's `Auth` (langgraph.json `auth.path`, "<file>:<export>"), the way graph modules
 * are loaded. A path that does not import, or whose export is not an `Auth` of
 * @langchain/langgraph-sdk/auth, refuses to start the server.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Auth } from "@langchain/langgraph-sdk/auth";
import { splitImportString } from "../runtime/graphs/config.js";
import { oneLine } from "../runtime/graphs/errors.js";
import { ensureTypeScriptLoader } from "../runtime/graphs/loader.js";

export class AuthLoadError extends Error {
  override name = "AuthLoadError";
}

/** What the server calls: the handlers an `Auth` registered. */
export type AuthHandlers = Auth["~handlerCache"];

/** Duck-typed like graphs, so an Auth built with another copy of the SDK is recognised too. */
function isAuth(value: unknown): value is Auth {
  if (typeof value !== "object" || value === null || !("~handlerCache" in value)) return false;
  const cache = (value as Auth)["~handlerCache"];
  return typeof cache === "object" && cache !== null;
}

export async function loadAuth(source: string, configDir: string): Promise<AuthHandlers> {
  const { file, exportName } = splitImportString(source);
  const absolute = path.resolve(configDir, file);
  const fail = (why: string, cause?: unknown): never => {
    throw new AuthLoadError(oneLine(`Cannot load auth.path "${source}": ${why}`), { cause });
  };
  if (!existsSync(absolute)) fail(`file not found: ${absolute}`);
  if (/\.(c|m)?tsx?$/i.test(absolute)) await ensureTypeScriptLoader();
  let mod: Record<string, unknown> = {};
  try {
    mod = (await import(/* @vite-ignore */ pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    fail(`import failed: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  const exported = mod[exportName];
  if (exported === undefined) fail(`module has no export "${exportName}"`);
  if (!isAuth(exported)) fail(`export "${exportName}" is not an Auth instance (new Auth() from @langchain/langgraph-sdk/auth)`);
  const handlers = (exported as Auth)["~handlerCache"];
  if (typeof handlers.authenticate !== "function") {
    fail(`the Auth has no authenticate handler: call .authenticate(...) on it`);
  }
  return handlers;
}
