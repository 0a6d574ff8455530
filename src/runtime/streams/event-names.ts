/**
 * How run events meet clients: their SSE event name, and which `stream_mode` a join asks for to
 * get them (see translate.ts for the event kinds).
 */
import type { RunEvent } from "../runs/broker.js";
import type { StreamMode } from "../runs/request.js";

/** One event as a client receives it over SSE. */
export interface SseEvent {
  /** Resumption id (`Last-Event-ID`); absent only on the error event of a stream with nothing to resume. */
  id?: string;
  event: string;
  data: unknown;
}

/** The SSE event name: the event's mode, with `|<namespace>` for events of a subgraph. */
export function sseEventName(event: Pick<RunEvent, "mode" | "ns">): string {
  return event.ns.length > 0 ? `${event.mode}|${event.ns.join("|")}` : event.mode;
}

/** The stream mode that produces events of this kind; null for those every stream carries (metadata, feedback, error). */
export function streamModeOf(eventMode: string): StreamMode | null {
  if (eventMode === "metadata" || eventMode === "feedback" || eventMode === "error") return null;
  if (eventMode === "messages") return "messages-tuple";
  if (eventMode.startsWith("messages/")) return "messages";
  return eventMode as StreamMode;
}

/**
 * Whether a join asking for `modes` and `namespaces` (each: all when absent or empty) gets the
 * event. A namespace is written as in event names (`child:<id>`, nested ones joined by `|`), the
 * root graph is `""`. Events every stream carries (metadata, error) always pass.
 */
export function joinFilter(
  modes: readonly StreamMode[] | undefined,
  namespaces: readonly string[] | undefined = undefined,
): (event: Pick<RunEvent, "mode" | "ns">) => boolean {
  const wantedModes = modes?.length ? new Set<string>(modes) : null;
  const wantedNamespaces = namespaces?.length ? new Set(namespaces) : null;
  return (event) => {
    const mode = streamModeOf(event.mode);
    if (mode === null) return true;
    return (!wantedModes || wantedModes.has(mode)) && (!wantedNamespaces || wantedNamespaces.has(event.ns.join("|")));
  };
}
