/**
 * Raw clients of the thread-centric protocol (v2), for what the SDK does not expose: a command
 * as a request, an SSE event stream with a given `since`, a WebSocket speaking the frames
 * directly. Every answer and event they receive is checked against the contract's schemas.
 */
import { WebSocket } from "ws";
import { checkAgainst } from "../../src/http/contract-schemas.js";

export interface ProtocolEvent {
  type: "event";
  event_id: string;
  seq: number;
  method: string;
  params: { namespace: string[]; timestamp: number; data: Record<string, unknown> };
}

export interface CommandAnswer {
  type: "success" | "error";
  id: number | null;
  result?: Record<string, unknown>;
  error?: string;
  message?: string;
}

/** Messages that break the contract, collected by every client of this module. */
export const protocolViolations: string[] = [];

function checked<T>(schema: "ProtocolEvent" | "ProtocolCommandAnswer", value: T): T {
  const problem = checkAgainst(schema, structuredClone(value), schema);
  if (problem) protocolViolations.push(`${schema}: ${problem} in ${JSON.stringify(value).slice(0, 300)}`);
  return value;
}

let nextId = 1;

export async function command(
  apiUrl: string,
  threadId: string,
  method: string,
  params: unknown,
  headers: Record<string, string> = {},
): Promise<CommandAnswer> {
  const response = await fetch(`${apiUrl}/threads/${threadId}/commands`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ id: nextId++, method, params }),
  });
  if (response.status !== 200) throw new Error(`command ${method}: HTTP ${response.status} ${await response.text()}`);
  return checked("ProtocolCommandAnswer", (await response.json()) as CommandAnswer);
}

/** Something that receives protocol events and lets a test wait for them. */
export class EventLog {
  readonly events: ProtocolEvent[] = [];
  #waiters: Array<() => void> = [];

  push(event: ProtocolEvent): void {
    this.events.push(checked("ProtocolEvent", event));
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves once an event satisfies `predicate` (checking those already received first). */
  async until(predicate: (event: ProtocolEvent) => boolean, timeoutMs = 15_000, what = "event"): Promise<ProtocolEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${this.events.map((e) => `${e.seq}:${e.method}`).join(", ")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

export const isRootEnd = (event: ProtocolEvent) =>
  event.method === "lifecycle" &&
  event.params.namespace.length === 0 &&
  ["completed", "failed", "interrupted"].includes(event.params.data.event as string);

/** An SSE event stream (POST /threads/{id}/stream/events) read as it comes. */
export async function openEventStream(
  apiUrl: string,
  threadId: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<EventLog & { close(): void; status: number; ended: Promise<void> }> {
  const abort = new AbortController();
  const response = await fetch(`${apiUrl}/threads/${threadId}/stream/events`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  let ended!: () => void;
  const log = Object.assign(new EventLog(), {
    close: () => abort.abort(),
    status: response.status,
    ended: new Promise<void>((resolve) => (ended = resolve)),
  });
  if (response.status !== 200 || !response.body) {
    ended();
    return log;
  }
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame
            .split("\n")
            .filter((line) => line.startsWith("data: "))
            .map((line) => line.slice(6))
            .join("\n");
          if (data) log.push(JSON.parse(data) as ProtocolEvent);
        }
      }
    } catch {
      // closed by the test
    }
    ended();
  })();
  return log;
}

/** A raw protocol WebSocket: commands answered by id, events logged. */
export class ProtocolSocketClient extends EventLog {
  readonly answers = new Map<number, (answer: CommandAnswer) => void>();
  readonly unsolicited: CommandAnswer[] = [];

  private constructor(readonly socket: WebSocket) {
    super();
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString("utf8")) as ProtocolEvent | CommandAnswer;
      if (message.type === "event") this.push(message);
      else {
        const answer = checked("ProtocolCommandAnswer", message);
        const waiter = answer.id === null ? undefined : this.answers.get(answer.id);
        if (waiter) waiter(answer);
        else this.unsolicited.push(answer);
      }
    });
  }

  static async open(apiUrl: string, threadId: string, headers: Record<string, string> = {}): Promise<ProtocolSocketClient> {
    const socket = new WebSocket(`${apiUrl.replace(/^http/, "ws")}/threads/${threadId}/stream/events`, { headers });
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_req, res) =>
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })),
      );
      socket.once("error", reject);
    });
    return new ProtocolSocketClient(socket);
  }

  send(method: string, params: unknown): Promise<CommandAnswer> {
    const id = nextId++;
    return new Promise((resolve) => {
      this.answers.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}
