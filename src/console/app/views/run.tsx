/**
 * One run, live: its events replayed from the first and followed until the end, the tokens of
 * its messages as they arrive, cancel while it works, and the thread's interrupts to answer once
 * it stops.
 */
import type { Run, StreamMode, Thread } from "@langchain/langgraph-sdk";
import { useEffect, useState } from "react";
import { navigate } from "../router.js";
import { EMPTY_STREAM, withEvent, type RunStreamView } from "../run-events.js";
import { useClient } from "../session.js";
import { useAction, useLoad } from "../use-load.js";
import { ErrorNote, JsonEditor, JsonView, Link, Loading, Panel, Status, Time, parseJson } from "../ui.js";

const ACTIVE = new Set(["pending", "running"]);

/** This server's fields of a run, beyond the SDK's type: executions started, and why it failed. */
export type ServerRun = Run & { attempt?: number; error?: { error: string; message: string } | null };

/** `ExampleFailure: kaboom`, or empty for a run that did not fail. */
export const failure = (run: ServerRun) => (run.error ? `${run.error.error}: ${run.error.message}` : "");

export const duration = (run: Run) =>
  ACTIVE.has(run.status) ? "—" : `${((Date.parse(run.updated_at) - Date.parse(run.created_at)) / 1000).toFixed(1)} s`;

/** The stream modes the run was created with (kept in its kwargs), to ask the same of a follow-up run. */
function modesOf(run: Run): StreamMode[] {
  const kwargs = (run as Run & { kwargs?: { stream_mode?: StreamMode | StreamMode[] } }).kwargs;
  const modes = kwargs?.stream_mode;
  return modes === undefined ? ["values"] : Array.isArray(modes) ? modes : [modes];
}

export function RunView({ threadId, runId }: { threadId: string; runId: string }) {
  const client = useClient();
  const run = useLoad(() => client.runs.get(threadId, runId), [client, threadId, runId]);
  const [stream, setStream] = useState<RunStreamView>(EMPTY_STREAM);
  const [following, setFollowing] = useState(true);
  const [streamError, setStreamError] = useState<Error>();
  const thread = useLoad(() => client.threads.get(threadId), [client, threadId, following]);
  const cancel = useAction();

  useEffect(() => {
    const abort = new AbortController();
    setStream(EMPTY_STREAM);
    setFollowing(true);
    setStreamError(undefined);
    (async () => {
      // "-1": every event the server still holds, then the live ones until the end
      for await (const part of client.runs.joinStream(threadId, runId, { signal: abort.signal, lastEventId: "-1" })) {
        setStream((view) => withEvent(view, { id: part.id, event: part.event, data: part.data as unknown }));
      }
    })()
      .catch((error: unknown) => {
        if (!abort.signal.aborted) setStreamError(error instanceof Error ? error : new Error(String(error)));
      })
      .finally(() => {
        if (!abort.signal.aborted) {
          setFollowing(false);
          run.reload();
        }
      });
    return () => abort.abort();
  }, [client, threadId, runId]);

  if (run.error) return <ErrorNote error={run.error} />;
  if (!run.data) return <Loading what="the run" />;
  const r = run.data;
  return (
    <div className="stack">
      <Panel
        title={`Run ${r.run_id}`}
        actions={
          following && ACTIVE.has(r.status) ? (
            <button
              type="button"
              disabled={cancel.busy}
              onClick={() => void cancel.run(() => client.runs.cancel(threadId, runId))}
              data-testid="cancel-run"
            >
              Cancel
            </button>
          ) : null
        }
      >
        <dl className="facts">
          <dt>Status</dt>
          <dd data-testid="run-status">
            <Status status={following ? "streaming" : r.status} />
          </dd>
          <dt>Thread</dt>
          <dd>
            <Link to={{ view: "thread", threadId }}>{threadId}</Link>
          </dd>
          <dt>Assistant</dt>
          <dd>
            <Link to={{ view: "assistant", assistantId: r.assistant_id }}>{r.assistant_id}</Link>
          </dd>
          <dt>Created</dt>
          <dd>
            <Time iso={r.created_at} />
          </dd>
          <dt>Duration</dt>
          <dd>{duration(r)}</dd>
          <dt>Attempt</dt>
          <dd data-testid="run-attempt">{(r as ServerRun).attempt ?? "—"}</dd>
          {failure(r) ? (
            <>
              <dt>Error</dt>
              <dd data-testid="run-error">{failure(r)}</dd>
            </>
          ) : null}
          {r.cancel_reason ? (
            <>
              <dt>Cancelled</dt>
              <dd>{r.cancel_reason}</dd>
            </>
          ) : null}
        </dl>
        <ErrorNote error={cancel.error ?? streamError} />
        {!following && thread.data?.status === "error" ? <JsonView label="error" value={thread.data.error} /> : null}
      </Panel>
      {stream.messages.length > 0 ? (
        <Panel title="Tokens">
          <ol className="messages" data-testid="tokens">
            {stream.messages.map((message) => (
              <li key={message.id}>
                <span className="muted">
                  {message.namespace ? `${message.namespace} › ` : ""}
                  {message.node ?? ""}
                </span>
                <p data-testid="token-text">{message.text}</p>
              </li>
            ))}
          </ol>
        </Panel>
      ) : null}
      {!following && thread.data ? <Interrupts thread={thread.data} run={r} /> : null}
      <Panel title={`Events (${stream.events.length})`}>
        {stream.events.length === 0 && !following ? <p className="muted">The server holds no events of this run any more.</p> : null}
        <ol className="events" data-testid="events">
          {stream.events.map((event, index) => (
            <li key={event.id ?? index}>
              <details>
                <summary>
                  <code>{event.event}</code>
                </summary>
                <JsonView value={event.data} />
              </details>
            </li>
          ))}
        </ol>
      </Panel>
    </div>
  );
}

/** The thread's pending interrupts, each answered by resuming the graph with a value in a new run. */
function Interrupts({ thread, run }: { thread: Thread; run: Run }) {
  const client = useClient();
  const interrupts = Object.values(thread.interrupts ?? {}).flat();
  const [answer, setAnswer] = useState('"approved"');
  const resume = useAction();
  if (interrupts.length === 0) return null;
  return (
    <Panel title="Interrupted: waiting for an answer">
      {interrupts.map((interrupt, index) => (
        <JsonView key={interrupt.id ?? index} label="interrupt" value={interrupt.value} />
      ))}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void resume.run(async () => {
            const next = await client.runs.create(thread.thread_id, run.assistant_id, {
              command: { resume: parseJson(answer).value },
              streamMode: modesOf(run),
              streamSubgraphs: true,
              streamResumable: true,
            });
            navigate({ view: "run", threadId: thread.thread_id, runId: next.run_id });
          });
        }}
      >
        <JsonEditor label="Resume with (JSON)" text={answer} onChange={setAnswer} rows={3} testId="resume-value" />
        <button type="submit" disabled={resume.busy || parseJson(answer).error !== undefined} data-testid="resume">
          Resume
        </button>
        <ErrorNote error={resume.error} />
      </form>
      <details>
        <summary>values at the interrupt</summary>
        <JsonView value={thread.values} />
      </details>
    </Panel>
  );
}
