/**
 * The caller's view of a thread's protocol events: which runs they may follow, and the filters
 * of subscriptions. A subscription id carries its filter (`<random>.<base64url JSON>`), so a
 * client that lost its socket can restore its subscriptions on a new one, in any process
 * (`subscription.reconnect`), without the server keeping them anywhere.
 */
import { randomUUID } from "node:crypto";
import type { components } from "../../../generated/openapi.js";
import { getThread } from "../../app/threads.js";
import { isNotFound } from "../../errors.js";
import type { RequestAuth } from "../../auth/index.js";
import type { ProtocolFilter } from "../../runtime/protocol/thread-events.js";
import type { Services } from "../../services.js";

type SubscribeParams = components["schemas"]["ProtocolSubscribeParams"];

/**
 * Whether the caller may read the thread (`threads:read`, then the thread within its scope). A
 * thread they may not see, or that does not exist yet, is not followed until it is readable.
 */
export async function threadReadable(services: Services, auth: RequestAuth, threadId: string): Promise<() => Promise<boolean>> {
  // the Auth refuses (403) the stream itself, at once; the thread may appear later
  await auth.authorize("threads:read", { thread_id: threadId });
  return async () => {
    try {
      await getThread(services, auth, threadId);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  };
}

export function filterOf(params: SubscribeParams): ProtocolFilter {
  return {
    channels: params.channels,
    ...(params.namespaces ? { namespaces: params.namespaces } : {}),
    ...(params.depth !== undefined ? { depth: params.depth } : {}),
  };
}

export function subscriptionId(filter: ProtocolFilter): string {
  return `${randomUUID()}.${Buffer.from(JSON.stringify(filter)).toString("base64url")}`;
}

/** The filter a subscription id carries, or null when it is not one of this server's ids. */
export function filterOfSubscription(id: string): ProtocolFilter | null {
  const dot = id.indexOf(".");
  if (dot < 0) return null;
  try {
    const filter = JSON.parse(Buffer.from(id.slice(dot + 1), "base64url").toString("utf8")) as ProtocolFilter;
    const valid =
      Array.isArray(filter.channels) &&
      filter.channels.every((channel) => typeof channel === "string") &&
      (filter.namespaces === undefined || (Array.isArray(filter.namespaces) && filter.namespaces.every((ns) => Array.isArray(ns)))) &&
      (filter.depth === undefined || typeof filter.depth === "number");
    return valid ? filter : null;
  } catch {
    return null;
  }
}
