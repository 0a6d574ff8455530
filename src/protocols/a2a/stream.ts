/**
 * `message/stream`: the life of the task a message started, as A2A stream results. The run's
 * own events are not forwarded one by one (A2A has no place for graph updates); they tell when
 * the task starts working, and its end gives the artifact and the final status.
 */
import type { components } from "../../../generated/openapi.js";
import type { A2aContext, SentMessage } from "./methods.js";
import { taskRuns, taskView } from "./task.js";

type Task = components["schemas"]["A2aTask"];
type StatusUpdate = components["schemas"]["A2aTaskStatusUpdateEvent"];
type ArtifactUpdate = components["schemas"]["A2aTaskArtifactUpdateEvent"];
export type StreamResult = Task | StatusUpdate | ArtifactUpdate;

export async function* streamTask(context: A2aContext, sent: SentMessage): AsyncGenerator<StreamResult> {
  const { reader, assistant, signal } = context;
  const taskId = sent.runs[0].run_id;
  const view = async () => taskView(reader, await taskRuns(reader, assistant, taskId), { modes: sent.modes, historyLength: sent.historyLength });

  yield taskView(reader, sent.runs, { modes: sent.modes, historyLength: sent.historyLength });
  // "-1" replays the run's events from its start, so its start is seen even if it came first
  const live = await reader.events(sent.runs.at(-1)!.run_id, { lastEventId: "-1", fromStart: true, signal });
  if (live) {
    let working = false;
    for await (const event of live.events) {
      if (event.mode === "metadata" && !working) {
        working = true;
        // the stored run may not say "running" yet: the event is the news
        const status = { state: "working" as const, timestamp: new Date().toISOString() };
        yield { kind: "status-update", taskId, contextId: sent.runs[0].thread_id, status, final: false };
      }
    }
  }
  if (signal.aborted) return;
  const task = await view();
  for (const artifact of task.artifacts ?? []) {
    yield { kind: "artifact-update", taskId, contextId: task.contextId, artifact, lastChunk: true };
  }
  yield { kind: "status-update", taskId, contextId: task.contextId, status: task.status, final: true };
}
