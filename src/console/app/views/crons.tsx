/** Crons: the list with each one's next run, create, delete. */
import { useState } from "react";
import { useClient } from "../session.js";
import { useAction, useLoad } from "../use-load.js";
import { ConfirmButton, ErrorNote, JsonEditor, Link, Loading, Panel, Time, parseJson } from "../ui.js";

export function CronsView() {
  const client = useClient();
  const [generation, setGeneration] = useState(0);
  const crons = useLoad(() => client.crons.search({ limit: 200 }), [client, generation]);
  const remove = useAction();
  const refresh = () => setGeneration((g) => g + 1);
  return (
    <div className="stack">
      <Panel title="Crons">
        <ErrorNote error={crons.error ?? remove.error} />
        {crons.data ? (
          <table data-testid="crons">
            <thead>
              <tr>
                <th>Cron</th>
                <th>Schedule</th>
                <th>Assistant</th>
                <th>Thread</th>
                <th>Next run</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {crons.data.map((cron) => (
                <tr key={cron.cron_id} data-cron={cron.cron_id}>
                  <td>
                    <code>{cron.cron_id}</code>
                  </td>
                  <td>
                    <code>{cron.schedule}</code> {cron.timezone ?? ""}
                  </td>
                  <td>
                    <Link to={{ view: "assistant", assistantId: cron.assistant_id }}>{cron.assistant_id}</Link>
                  </td>
                  <td>{cron.thread_id ? <Link to={{ view: "thread", threadId: cron.thread_id }}>{cron.thread_id}</Link> : "new each time"}</td>
                  <td>
                    <Time iso={(cron as { next_run_date?: string | null }).next_run_date} />
                  </td>
                  <td>
                    <ConfirmButton label="Delete" onConfirm={() => void remove.run(() => client.crons.delete(cron.cron_id)).then(refresh)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <Loading what="crons" />
        )}
        {crons.data?.length === 0 ? <p className="muted">No crons.</p> : null}
      </Panel>
      <CronForm onCreated={refresh} />
    </div>
  );
}

function CronForm({ onCreated }: { onCreated(): void }) {
  const client = useClient();
  const assistants = useLoad(() => client.assistants.search({ limit: 200 }), [client]);
  const [assistantId, setAssistantId] = useState("");
  const [schedule, setSchedule] = useState("0 * * * *");
  const [threadId, setThreadId] = useState("");
  const [input, setInput] = useState("{}");
  const create = useAction();
  const chosen = assistantId || assistants.data?.[0]?.assistant_id || "";
  return (
    <Panel title="Create a cron">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const payload = { schedule, input: parseJson(input, {}).value as Record<string, unknown> };
          void create
            .run(() => (threadId ? client.crons.createForThread(threadId, chosen, payload) : client.crons.create(chosen, payload)))
            .then((cron) => cron && onCreated());
        }}
      >
        <label>
          <span>Assistant</span>
          <select value={chosen} onChange={(event) => setAssistantId(event.target.value)} data-testid="cron-assistant">
            {(assistants.data ?? []).map((a) => (
              <option key={a.assistant_id} value={a.assistant_id}>
                {a.name || a.graph_id} ({a.graph_id})
              </option>
            ))}
          </select>
        </label>
        <label>
          <span>Schedule (cron, UTC)</span>
          <input value={schedule} onChange={(event) => setSchedule(event.target.value)} data-testid="cron-schedule" />
        </label>
        <label>
          <span>Thread id (empty: a new thread each time)</span>
          <input value={threadId} onChange={(event) => setThreadId(event.target.value)} />
        </label>
        <JsonEditor label="Input" text={input} onChange={setInput} rows={3} testId="cron-input" />
        <button type="submit" disabled={create.busy || !chosen || parseJson(input).error !== undefined} data-testid="create-cron">
          Create
        </button>
        <ErrorNote error={create.error} />
      </form>
    </Panel>
  );
}
