/**
 * The server: what `/info` and `/ok?check_db=1` say, the server processes with the runs each
 * executes (`/processes`), the threads busy right now with their runs, and the latest errors
 * (threads whose last run failed, with the error).
 */
import type { Thread } from "@langchain/langgraph-sdk";
import type { components } from "../../../../generated/openapi.js";
import { useClient, useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import { ErrorNote, JsonView, Link, Loading, Panel, Status, Time } from "../ui.js";

interface Info {
  version?: string;
  langgraph_js_version?: string;
  flags?: Record<string, boolean>;
  metadata?: { server?: string; storage?: string; graphs?: string[] };
}

export function ServerView() {
  const session = useSession();
  const info = useLoad(() => session.getJson("/info") as Promise<Info>, [session]);
  const health = useLoad(() => session.getJson("/ok?check_db=1") as Promise<{ ok: boolean; storage?: string }>, [session]);
  return (
    <div className="stack">
      <Panel
        title="Server"
        actions={
          <button type="button" onClick={() => (info.reload(), health.reload())}>
            Refresh
          </button>
        }
      >
        <ErrorNote error={info.error} />
        {info.data ? (
          <dl className="facts" data-testid="server-info">
            <dt>Server</dt>
            <dd>
              {info.data.metadata?.server ?? "?"} {info.data.version}
            </dd>
            <dt>LangGraph.js</dt>
            <dd>{info.data.langgraph_js_version}</dd>
            <dt>Storage</dt>
            <dd data-testid="storage">{info.data.metadata?.storage}</dd>
            <dt>Storage check</dt>
            <dd>{health.error ? <span className="error">{health.error.message}</span> : health.data ? "ok" : "…"}</dd>
            <dt>Graphs</dt>
            <dd>{info.data.metadata?.graphs?.join(", ")}</dd>
            <dt>Features</dt>
            <dd>
              {Object.entries(info.data.flags ?? {})
                .filter(([, on]) => on)
                .map(([name]) => name)
                .join(", ")}
            </dd>
          </dl>
        ) : (
          <Loading what="server information" />
        )}
        <details>
          <summary>/info</summary>
          <JsonView value={info.data} />
        </details>
      </Panel>
      <Processes />
      <ActiveWork />
      <RecentErrors />
    </div>
  );
}

type ProcessList = components["schemas"]["ProcessList"];

/** The server processes, each with a table of the runs it executes (those the caller may see). */
function Processes() {
  const session = useSession();
  const list = useLoad(() => session.getJson("/processes") as Promise<ProcessList>, [session]);
  return (
    <Panel
      title="Processes"
      actions={
        <button type="button" onClick={list.reload}>
          Refresh
        </button>
      }
    >
      <ErrorNote error={list.error} />
      {list.data ? (
        list.data.processes.map((process) => (
          <section key={process.process_id} data-testid="process" data-current={process.current}>
            <h3>
              <code>{process.process_id}</code> {process.current ? <span className="muted">(this process)</span> : null}
            </h3>
            {process.runs.length === 0 ? (
              <p className="muted">No run executes here.</p>
            ) : (
              <table>
                <thead>
                  <tr>
                    <th>Run</th>
                    <th>Thread</th>
                    <th>Status</th>
                    <th>Attempt</th>
                    <th>Since</th>
                  </tr>
                </thead>
                <tbody>
                  {process.runs.map((run) => (
                    <tr key={run.run_id} data-run={run.run_id}>
                      <td>
                        <Link to={{ view: "run", threadId: run.thread_id, runId: run.run_id }}>{run.run_id}</Link>
                      </td>
                      <td>
                        <Link to={{ view: "thread", threadId: run.thread_id }}>{run.thread_id}</Link>
                      </td>
                      <td>
                        <Status status={run.status} />
                      </td>
                      <td>{run.attempt}</td>
                      <td>
                        <Time iso={run.since} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        ))
      ) : (
        <Loading what="processes" />
      )}
    </Panel>
  );
}

/** Busy threads and their active runs (what the caller may see of them). */
function ActiveWork() {
  const client = useClient();
  const busy = useLoad(() => client.threads.search({ status: "busy", limit: 50 }), [client]);
  return (
    <Panel title="Working now">
      <ErrorNote error={busy.error} />
      {busy.data ? (
        busy.data.length === 0 ? (
          <p className="muted">No thread is busy.</p>
        ) : (
          busy.data.map((thread) => <BusyThread key={thread.thread_id} thread={thread} />)
        )
      ) : null}
    </Panel>
  );
}

function BusyThread({ thread }: { thread: Thread }) {
  const client = useClient();
  const runs = useLoad(() => client.runs.list(thread.thread_id, { status: "running", limit: 10 }), [client, thread.thread_id]);
  return (
    <div>
      <Link to={{ view: "thread", threadId: thread.thread_id }}>{thread.thread_id}</Link>
      <ul>
        {(runs.data ?? []).map((run) => (
          <li key={run.run_id}>
            <Link to={{ view: "run", threadId: thread.thread_id, runId: run.run_id }}>{run.run_id}</Link> <Status status={run.status} /> since{" "}
            <Time iso={run.created_at} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Threads whose last run failed, newest first, with the error they keep. */
function RecentErrors() {
  const client = useClient();
  const failed = useLoad(() => client.threads.search({ status: "error", limit: 20, sortBy: "updated_at", sortOrder: "desc" }), [client]);
  return (
    <Panel title="Recent errors">
      <ErrorNote error={failed.error} />
      {failed.data?.length === 0 ? <p className="muted">No thread is in error.</p> : null}
      <ul className="items" data-testid="recent-errors">
        {(failed.data ?? []).map((thread) => (
          <li key={thread.thread_id}>
            <Link to={{ view: "thread", threadId: thread.thread_id }}>{thread.thread_id}</Link> <Time iso={thread.updated_at} />
            <JsonView label="error" value={thread.error} />
          </li>
        ))}
      </ul>
    </Panel>
  );
}
