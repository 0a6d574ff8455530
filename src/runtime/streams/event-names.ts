/**
 * How run events meet clients: their SSE event name, and which `stream_mode` a join asks for to
 * get them (see translate.ts for the event kinds).
 */
import type { RunEvent } from "../runs/broker.js";
import type { StreamMode } from "../runs/request.js";

/** The SSE event name: the event's mode, with `|<namespace>` for events of a subgraph. */
export function sseEventName(event: Pick<RunEvent, "mode" | "ns">): string {
  return event.ns.length > 0 ? `${event.mode}|${event.ns.join("|")}` : event.mode;
}

/** The stream mode that produces events of this kind; null for those every stream carries (metadata, error). */
export function streamModeOf(eventMode: string): StreamMode | null {
  if (eventMode === "metadata" || eventMode === "error") return null;
  if (eventMode === "messages") return "messages-tuple";
  if (eventMode.startsWith("messages/")) return "messages";
  return eventMode as StreamMode;
}

/** Whether a join asking for `modes` (all when absent or empty) gets the event. */
export function joinFilter(modes: readonly StreamMode[] | undefined): (event: Pick<RunEvent, "mode">) => boolean {
  if (!modes?.length) return () => true;
  const wanted = new Set<string>(modes);
  return (event) => {
    const mode = streamModeOf(event.mode);
    return mode === null || wanted.has(mode);
  };
}
