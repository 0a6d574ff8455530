/**
 * One WebSocket of the thread-centric protocol: commands in, answers and the events of the
 * socket's subscriptions out, in the thread's order. One pump follows the thread for all the
 * socket's subscriptions (the union of their filters), so the socket carries the events in `seq`
 * order whatever channels they are on; each event goes once, if a subscription wants it. A new
 * subscription restarts the pump, which replays the thread's held events first (the new
 * subscription's history; the client drops the ones it has by `event_id`), then follows live
 * across the thread's runs until the socket closes. A reconnecting client re-subscribes (the SDK
 * does) or restores its subscriptions with `subscription.reconnect`; either way it gets what it
 * missed from the stored events: nothing is lost in between.
 */
import type { Logger } from "pino";
import type { components } from "../../../generated/openapi.js";
import { checkAgainst } from "../../http/contract-schemas.js";
import type { ProtocolEvent } from "../../runtime/protocol/run-events.js";
import { matchesFilter, type ProtocolFilter } from "../../runtime/protocol/thread-events.js";
import { failure, success, type CommandAnswer } from "./answers.js";
import { runCommand, type CommandContext } from "./commands.js";
import { filterOf, filterOfSubscription, subscriptionId } from "./subscriptions.js";
import { getRun } from "../../app/runs.js";
import { isNotFound } from "../../errors.js";

type Schemas = components["schemas"];
type Command = Schemas["ProtocolCommand"];

export interface SocketContext extends CommandContext {
  /** Whether the caller may read the thread now (see subscriptions.ts). */
  readable: () => Promise<boolean>;
  send: (message: CommandAnswer | ProtocolEvent) => void;
  logger: Logger;
}

/** One filter covering every subscription's (the pump's). */
function union(filters: ProtocolFilter[]): ProtocolFilter {
  const channels = [...new Set(filters.flatMap((filter) => filter.channels))];
  const everyNamespace = filters.some((filter) => filter.namespaces === undefined);
  const unbounded = filters.some((filter) => filter.depth === undefined);
  return {
    channels,
    ...(everyNamespace ? {} : { namespaces: filters.flatMap((filter) => filter.namespaces ?? []) }),
    ...(unbounded ? {} : { depth: Math.max(...filters.map((filter) => filter.depth ?? 0)) }),
  };
}

export class ProtocolSocket {
  readonly #subscriptions = new Map<string, ProtocolFilter>();
  #pump: AbortController | null = null;
  #closed = false;

  constructor(private readonly ctx: SocketContext) {}

  /** A text frame from the client. */
  async receive(text: string): Promise<void> {
    let command: unknown;
    try {
      command = JSON.parse(text);
    } catch {
      this.ctx.send(failure(null, "invalid_argument", "Protocol commands must be valid JSON."));
      return;
    }
    const problems = checkAgainst("ProtocolCommand", command, "command");
    if (problems) {
      this.ctx.send(failure(null, "invalid_argument", `Not a protocol command (an integer id and a string method): ${problems}`));
      return;
    }
    const valid = command as Command;
    try {
      const answer = await this.#answer(valid);
      if (answer) this.ctx.send(answer);
    } catch (error) {
      this.ctx.logger.error({ err: error, thread_id: this.ctx.threadId, method: valid.method }, "protocol command failed");
      this.ctx.send(failure(valid.id, "unknown_error", error instanceof Error ? error.message : String(error)));
    }
  }

  /** The socket closed: every subscription ends. */
  close(): void {
    this.#closed = true;
    this.#pump?.abort();
    this.#subscriptions.clear();
  }

  /** The answer to send; null when it was sent already (a subscription's, before its events). */
  async #answer(command: Command): Promise<CommandAnswer | null> {
    const params = command.params ?? {};
    switch (command.method) {
      case "subscription.subscribe": {
        const problems = checkAgainst("ProtocolSubscribeParams", params, "params");
        if (problems) return failure(command.id, "invalid_argument", `subscription.subscribe: ${problems}`);
        const filter = filterOf(params as Schemas["ProtocolSubscribeParams"]);
        const id = subscriptionId(filter);
        this.#subscriptions.set(id, filter);
        this.ctx.send(success(command.id, { subscription_id: id }, this.ctx.threadId));
        this.#restart();
        return null;
      }
      case "subscription.unsubscribe": {
        const problems = checkAgainst("ProtocolUnsubscribeParams", params, "params");
        if (problems) return failure(command.id, "invalid_argument", `subscription.unsubscribe: ${problems}`);
        const id = (params as Schemas["ProtocolUnsubscribeParams"]).subscription_id;
        if (!this.#subscriptions.delete(id)) return failure(command.id, "no_such_subscription", `Unknown subscription: ${id}`);
        // the pump goes on; what no subscription wants is no longer sent
        if (this.#subscriptions.size === 0) this.#pump?.abort();
        return success(command.id, {}, this.ctx.threadId);
      }
      case "subscription.reconnect":
        return this.#reconnect(command.id, params as Schemas["ProtocolReconnectParams"]);
      default:
        return runCommand(this.ctx, command);
    }
  }

  async #reconnect(id: number, params: Schemas["ProtocolReconnectParams"]): Promise<CommandAnswer | null> {
    const problems = checkAgainst("ProtocolReconnectParams", params, "params");
    if (problems) return failure(id, "invalid_argument", `subscription.reconnect: ${problems}`);
    try {
      await getRun(this.ctx.services, this.ctx.auth, { threadId: this.ctx.threadId, runId: params.run_id });
    } catch (error) {
      if (isNotFound(error)) return failure(id, "no_such_run", `Run '${params.run_id}' not found on thread '${this.ctx.threadId}'`);
      throw error;
    }
    const since = params.last_event_id !== undefined ? Number(params.last_event_id) : undefined;
    if (since !== undefined && !(Number.isSafeInteger(since) && since >= 0)) {
      return failure(id, "invalid_argument", `subscription.reconnect: last_event_id '${params.last_event_id}' is not an event id of this server`);
    }
    const restored: Array<[string, ProtocolFilter]> = [];
    for (const subscription of params.subscriptions ?? []) {
      const filter = filterOfSubscription(subscription);
      if (!filter) return failure(id, "no_such_subscription", `Unknown subscription: ${subscription}`);
      restored.push([subscription, filter]);
    }
    for (const [subscription, filter] of restored) this.#subscriptions.set(subscription, filter);
    const answer = success(id, { restored: true }, this.ctx.threadId);
    this.ctx.send(answer);
    if (restored.length > 0) this.#restart(since);
    return null;
  }

  /** Follows the thread for the current subscriptions, from the held events after `since` (all by default). */
  #restart(since?: number): void {
    this.#pump?.abort();
    if (this.#closed || this.#subscriptions.size === 0) return;
    const pump = new AbortController();
    this.#pump = pump;
    const { services, threadId, readable, send, logger } = this.ctx;
    const filter = union([...this.#subscriptions.values()]);
    void (async () => {
      const events = await services.runs.threadProtocolEvents(threadId, {
        filter,
        ...(since !== undefined ? { since } : {}),
        readable,
        signal: pump.signal,
      });
      for await (const event of events) {
        if (this.#wanted(event)) send(event);
      }
    })().catch((error: unknown) => {
      logger.warn({ err: error, thread_id: threadId }, "the protocol socket stopped following its thread");
    });
  }

  #wanted(event: ProtocolEvent): boolean {
    for (const filter of this.#subscriptions.values()) if (matchesFilter(event, filter)) return true;
    return false;
  }
}
