/**
 * The thread's state after a run, read from the checkpointer, in the shapes the API shows:
 * what the thread record keeps (values, interrupts by task id) and what join/wait return.
 */
import type { AnyCompiledGraph } from "../graphs/index.js";
import type { ThreadStatus } from "../../storage/types.js";
import type { RunOutcome } from "./broker.js";
import { toPlainJson } from "../plain-json.js";

export interface FinalState {
  /** Channel values (plain JSON). */
  values: unknown;
  /** Pending interrupts by task id (plain JSON). */
  interrupts: Record<string, Array<Record<string, unknown>>>;
  /** Nodes that would run next: non-empty when the graph stopped before its end. */
  next: string[];
}

export async function readFinalState(graph: AnyCompiledGraph, threadId: string): Promise<FinalState> {
  const snapshot = await graph.getState({ configurable: { thread_id: threadId } });
  const interrupts: FinalState["interrupts"] = {};
  for (const task of snapshot.tasks ?? []) {
    if (task.interrupts?.length) interrupts[task.id] = toPlainJson(task.interrupts) as Array<Record<string, unknown>>;
  }
  // no checkpoint at all (e.g. its only run was rolled back): the thread has no state, like a new one
  const values = snapshot.config?.configurable?.checkpoint_id ? toPlainJson(snapshot.values) : null;
  return { values, interrupts, next: [...(snapshot.next ?? [])] };
}

/** The thread's state after a graph completed, from its final checkpoint's values: nothing pending, nothing next. */
export function completedState(values: unknown): FinalState {
  return { values: toPlainJson(values), interrupts: {}, next: [] };
}

/** What join/wait answer for a run that did not fail: the values, plus `__interrupt__` when paused. */
export function resultValues(state: FinalState): unknown {
  const pending = Object.values(state.interrupts).flat();
  if (pending.length === 0) return state.values;
  const values = state.values !== null && typeof state.values === "object" && !Array.isArray(state.values) ? state.values : {};
  return { ...values, __interrupt__: pending };
}

/**
 * The thread's status once a run has ended: `error` if it failed; `interrupted` while an
 * interrupt is pending, or when the graph itself stopped before its end (interrupt_before/after);
 * else `idle`, also after a cancel mid-way (the official servers' `stop()` leaves the thread idle);
 * `busy` whenever another run of the thread is still active.
 */
export function threadStatusAfter(status: RunOutcome["status"], state: FinalState | null, othersActive: boolean): ThreadStatus {
  if (othersActive) return "busy";
  if (status === "error" || status === "timeout") return "error";
  if (!state) return "idle";
  if (Object.keys(state.interrupts).length > 0) return "interrupted";
  const stoppedByGraph = status === "success" && state.next.length > 0;
  return stoppedByGraph ? "interrupted" : "idle";
}
