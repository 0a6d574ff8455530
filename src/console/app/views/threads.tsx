/** Threads: search by status and metadata. */
import type { ThreadStatus } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { useClient } from "../session.js";
import { useAction, useLoad } from "../use-load.js";
import { navigate } from "../router.js";
import { ErrorNote, JsonEditor, Link, Loading, Panel, Status, Time, parseJson } from "../ui.js";

const STATUSES: ThreadStatus[] = ["idle", "busy", "interrupted", "error"];

export function ThreadsView() {
  const client = useClient();
  const [status, setStatus] = useState<ThreadStatus | "">("");
  const [metadata, setMetadata] = useState("{}");
  const [query, setQuery] = useState<{ status?: ThreadStatus; metadata?: Record<string, unknown> }>({});
  const threads = useLoad(() => client.threads.search({ ...query, limit: 100, sortBy: "updated_at", sortOrder: "desc" }), [client, query]);
  const create = useAction();
  return (
    <Panel
      title="Threads"
      actions={
        <button
          type="button"
          disabled={create.busy}
          onClick={() => void create.run(() => client.threads.create()).then((t) => t && navigate({ view: "thread", threadId: t.thread_id }))}
        >
          New thread
        </button>
      }
    >
      <form
        className="filters"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          const parsed = parseJson(metadata, {});
          if (parsed.error) return;
          setQuery({
            ...(status ? { status } : {}),
            ...(Object.keys(parsed.value as object).length ? { metadata: parsed.value as Record<string, unknown> } : {}),
          });
        }}
      >
        <label>
          <span>Status</span>
          <select value={status} onChange={(event) => setStatus(event.target.value as ThreadStatus | "")} data-testid="thread-status-filter">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <JsonEditor label="Metadata (JSON, matched exactly)" text={metadata} onChange={setMetadata} rows={1} />
        <button type="submit">Search</button>
      </form>
      <ErrorNote error={threads.error ?? create.error} />
      {threads.data ? (
        <table data-testid="threads">
          <thead>
            <tr>
              <th>Thread</th>
              <th>Status</th>
              <th>Graph</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {threads.data.map((thread) => (
              <tr key={thread.thread_id}>
                <td>
                  <Link to={{ view: "thread", threadId: thread.thread_id }}>{thread.thread_id}</Link>
                </td>
                <td>
                  <Status status={thread.status} />
                </td>
                <td>{String(thread.metadata?.graph_id ?? "")}</td>
                <td>
                  <Time iso={thread.updated_at} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <Loading what="threads" />
      )}
      {threads.data?.length === 0 ? <p className="muted">No thread matches.</p> : null}
    </Panel>
  );
}
