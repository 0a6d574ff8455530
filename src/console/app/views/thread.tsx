/**
 * One thread: its messages and state, its runs, the checkpoint history as a timeline, the state at
 * any checkpoint and a fork from it with an edited state; copy and delete.
 */
import type { Assistant, Thread, ThreadState } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { messageText } from "../message-text.js";
import { navigate } from "../router.js";
import { useClient } from "../session.js";
import { useAction, useLoad } from "../use-load.js";
import { ConfirmButton, ErrorNote, JsonEditor, JsonView, Link, Loading, Panel, Status, Time, parseJson, pretty } from "../ui.js";
import { duration, failure, type ServerRun } from "./run.js";
import { RunLauncher } from "./run-launcher.js";

export function ThreadView({ threadId, checkpointId }: { threadId: string; checkpointId?: string }) {
  const client = useClient();
  const thread = useLoad(() => client.threads.get(threadId), [client, threadId]);
  const act = useAction();
  if (thread.error) return <ErrorNote error={thread.error} />;
  if (!thread.data) return <Loading what="the thread" />;
  const t = thread.data;
  return (
    <div className="stack">
      <Panel
        title={`Thread ${t.thread_id}`}
        actions={
          <>
            <button
              type="button"
              disabled={act.busy}
              onClick={() =>
                void act.run(() => client.threads.copy(threadId)).then((copy) => copy && navigate({ view: "thread", threadId: copy.thread_id }))
              }
            >
              Copy
            </button>
            <ConfirmButton
              label="Delete"
              disabled={act.busy}
              onConfirm={() => void act.run(() => client.threads.delete(threadId)).then(() => navigate({ view: "threads" }))}
            />
          </>
        }
      >
        <dl className="facts">
          <dt>Status</dt>
          <dd data-testid="thread-status">
            <Status status={t.status} />
          </dd>
          <dt>Created</dt>
          <dd>
            <Time iso={t.created_at} />
          </dd>
          <dt>Updated</dt>
          <dd>
            <Time iso={t.updated_at} />
          </dd>
        </dl>
        <details>
          <summary>metadata</summary>
          <JsonView value={t.metadata} />
        </details>
        <ErrorNote error={act.error} />
      </Panel>
      <Messages values={t.values} />
      <Panel title="State">
        <JsonView label="thread values" value={t.values} />
      </Panel>
      <Runs threadId={threadId} />
      <Timeline thread={t} selected={checkpointId} />
      {checkpointId ? <Checkpoint thread={t} checkpointId={checkpointId} /> : null}
      <ThreadLauncher thread={t} />
    </div>
  );
}

interface ShownMessage {
  id?: string;
  type?: string;
  role?: string;
  content?: unknown;
}

function Messages({ values }: { values: unknown }) {
  const messages = (values as { messages?: ShownMessage[] } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) return null;
  return (
    <Panel title="Messages">
      <ol className="messages" data-testid="messages">
        {messages.map((message, index) => (
          <li key={message.id ?? index} data-type={message.type ?? message.role}>
            <span className="muted">{message.type ?? message.role}</span>
            <p>{messageText(message.content)}</p>
          </li>
        ))}
      </ol>
    </Panel>
  );
}

function Runs({ threadId }: { threadId: string }) {
  const client = useClient();
  const runs = useLoad(() => client.runs.list(threadId, { limit: 50 }), [client, threadId]);
  if (!runs.data?.length) return <ErrorNote error={runs.error} />;
  return (
    <Panel title="Runs">
      <table data-testid="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Status</th>
            <th>Assistant</th>
            <th>Started</th>
            <th>Duration</th>
            <th>Attempt</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {runs.data.map((run) => (
            <tr key={run.run_id}>
              <td>
                <Link to={{ view: "run", threadId, runId: run.run_id }}>{run.run_id}</Link>
              </td>
              <td>
                <Status status={run.status} />
              </td>
              <td>{run.assistant_id}</td>
              <td>
                <Time iso={run.created_at} />
              </td>
              <td>{duration(run)}</td>
              <td>{(run as ServerRun).attempt ?? "—"}</td>
              <td>{failure(run)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

function Timeline({ thread, selected }: { thread: Thread; selected: string | undefined }) {
  const client = useClient();
  const history = useLoad(() => client.threads.getHistory(thread.thread_id, { limit: 100 }), [client, thread.thread_id, thread.updated_at]);
  return (
    <Panel title="Checkpoints">
      <ErrorNote error={history.error} />
      <ol className="timeline" data-testid="timeline">
        {(history.data ?? []).map((state) => {
          const id = state.checkpoint.checkpoint_id ?? "";
          const step = (state.metadata as { step?: number; source?: string } | undefined)?.step;
          const source = (state.metadata as { source?: string } | undefined)?.source;
          return (
            <li key={id} className={id === selected ? "selected" : undefined} aria-current={id === selected ? "step" : undefined}>
              <Link to={{ view: "thread", threadId: thread.thread_id, checkpointId: id }}>
                step {step ?? "?"} · {source ?? ""} {state.next.length ? `→ ${state.next.join(", ")}` : "(end)"}
              </Link>{" "}
              <Time iso={state.created_at} />
            </li>
          );
        })}
      </ol>
    </Panel>
  );
}

/** The state at one checkpoint, and a fork from it: the edited values written as a new checkpoint after it. */
function Checkpoint({ thread, checkpointId }: { thread: Thread; checkpointId: string }) {
  const client = useClient();
  const state = useLoad(() => client.threads.getState(thread.thread_id, checkpointId), [client, thread.thread_id, checkpointId]);
  if (state.error) return <ErrorNote error={state.error} />;
  if (!state.data) return <Loading what="the checkpoint" />;
  return <CheckpointFork key={checkpointId} thread={thread} state={state.data} />;
}

function CheckpointFork({ thread, state }: { thread: Thread; state: ThreadState }) {
  const client = useClient();
  const [values, setValues] = useState(() => pretty(state.values));
  const [asNode, setAsNode] = useState("");
  const fork = useAction();
  const assistantId = String(thread.metadata?.assistant_id ?? thread.metadata?.graph_id ?? "");
  const submit = (andRun: boolean) =>
    fork.run(async () => {
      const written = await client.threads.updateState(thread.thread_id, {
        values: parseJson(values).value,
        checkpointId: state.checkpoint.checkpoint_id ?? undefined,
        ...(asNode ? { asNode } : {}),
      });
      // the API answers {checkpoint: {...}} (the SDK's type says {configurable}: it reads either)
      const answer = written as { checkpoint?: { checkpoint_id?: string }; configurable?: { checkpoint_id?: string } };
      const forkedAt = answer.checkpoint?.checkpoint_id ?? answer.configurable?.checkpoint_id;
      if (!andRun || !assistantId) {
        navigate({ view: "thread", threadId: thread.thread_id, ...(forkedAt ? { checkpointId: forkedAt } : {}) });
        return;
      }
      // the fork is the thread's head now: a run without input continues from it
      const run = await client.runs.create(thread.thread_id, assistantId, {
        input: null,
        streamMode: ["values", "updates", "messages-tuple"],
        streamResumable: true,
      });
      navigate({ view: "run", threadId: thread.thread_id, runId: run.run_id });
    });
  return (
    <Panel title={`Checkpoint ${state.checkpoint.checkpoint_id ?? ""}`}>
      <dl className="facts">
        <dt>Next</dt>
        <dd>{state.next.join(", ") || "(end)"}</dd>
        <dt>Created</dt>
        <dd>
          <Time iso={state.created_at} />
        </dd>
      </dl>
      <details>
        <summary>metadata and tasks</summary>
        <JsonView value={{ metadata: state.metadata, tasks: state.tasks }} />
      </details>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit(false);
        }}
      >
        <JsonEditor label="Values (edit, then fork)" text={values} onChange={setValues} rows={10} testId="fork-values" />
        <label>
          <span>As node (optional: the update is written as if this node returned it)</span>
          <input value={asNode} onChange={(event) => setAsNode(event.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" disabled={fork.busy || parseJson(values).error !== undefined} data-testid="fork">
            Fork from here
          </button>
          <button
            type="button"
            disabled={fork.busy || !assistantId || parseJson(values).error !== undefined}
            onClick={() => void submit(true)}
            data-testid="fork-and-run"
          >
            Fork and run
          </button>
        </div>
        <ErrorNote error={fork.error} />
      </form>
    </Panel>
  );
}

/** The run form for this thread, with the assistant its last run used (or one to choose). */
function ThreadLauncher({ thread }: { thread: Thread }) {
  const client = useClient();
  const assistants = useLoad(() => client.assistants.search({ limit: 200 }), [client]);
  const [chosen, setChosen] = useState(String(thread.metadata?.assistant_id ?? ""));
  const list: Assistant[] = assistants.data ?? [];
  const assistant = list.find((a) => a.assistant_id === chosen || a.graph_id === chosen) ?? list[0];
  const schemas = useLoad(
    () => (assistant ? client.assistants.getSchemas(assistant.assistant_id) : Promise.resolve(undefined)),
    [client, assistant?.assistant_id],
  );
  if (!assistant) return <ErrorNote error={assistants.error} />;
  return (
    <div>
      <label className="assistant-choice">
        <span>Assistant for a new run</span>
        <select value={assistant.assistant_id} onChange={(event) => setChosen(event.target.value)}>
          {list.map((a) => (
            <option key={a.assistant_id} value={a.assistant_id}>
              {a.name || a.graph_id} ({a.graph_id})
            </option>
          ))}
        </select>
      </label>
      <p>
        <Link to={{ view: "live", threadId: thread.thread_id, assistantId: assistant.assistant_id }}>Open this thread live</Link>{" "}
        <span className="muted">(useStream: messages token by token, interrupts, stop)</span>
      </p>
      {schemas.data || schemas.error ? (
        <RunLauncher key={assistant.assistant_id} assistant={assistant} schemas={schemas.data} threadId={thread.thread_id} />
      ) : null}
    </div>
  );
}
