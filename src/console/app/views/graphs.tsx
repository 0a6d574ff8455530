/** Graphs and their assistants: the list, one assistant's graph, schemas, versions and settings. */
import type { Assistant } from "@langchain/langgraph-sdk";
import { useState } from "react";
import type { Schema } from "../json-schema.js";
import { navigate } from "../router.js";
import { SchemaFields } from "../schema-form.js";
import { useClient } from "../session.js";
import { useAction, useLoad } from "../use-load.js";
import { ErrorNote, JsonView, Link, Loading, Panel, Time } from "../ui.js";
import { GraphDrawing, type GraphDescription } from "./graph-drawing.js";
import { RunLauncher } from "./run-launcher.js";

export function GraphsView() {
  const client = useClient();
  const assistants = useLoad(() => client.assistants.search({ limit: 200, sortBy: "graph_id", sortOrder: "asc" }), [client]);
  if (assistants.error) return <ErrorNote error={assistants.error} />;
  if (!assistants.data) return <Loading what="assistants" />;
  const byGraph = new Map<string, Assistant[]>();
  for (const assistant of assistants.data) byGraph.set(assistant.graph_id, [...(byGraph.get(assistant.graph_id) ?? []), assistant]);
  return (
    <Panel title="Graphs and assistants">
      <table>
        <thead>
          <tr>
            <th>Graph</th>
            <th>Assistant</th>
            <th>Version</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {[...byGraph.entries()].flatMap(([graphId, list]) =>
            list.map((assistant, index) => (
              <tr key={assistant.assistant_id}>
                <td>{index === 0 ? <strong>{graphId}</strong> : null}</td>
                <td>
                  <Link to={{ view: "assistant", assistantId: assistant.assistant_id }}>{assistant.name || assistant.assistant_id}</Link>
                  {assistant.description ? <div className="muted">{assistant.description}</div> : null}
                </td>
                <td>{assistant.version}</td>
                <td>
                  <Time iso={assistant.updated_at} />
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
    </Panel>
  );
}

export function AssistantView({ assistantId }: { assistantId: string }) {
  const client = useClient();
  const [xray, setXray] = useState(true);
  const assistant = useLoad(() => client.assistants.get(assistantId), [client, assistantId]);
  const graph = useLoad(
    () => client.assistants.getGraph(assistantId, { xray }) as Promise<unknown> as Promise<GraphDescription>,
    [client, assistantId, xray],
  );
  const schemas = useLoad(() => client.assistants.getSchemas(assistantId), [client, assistantId]);
  if (assistant.error) return <ErrorNote error={assistant.error} />;
  if (!assistant.data) return <Loading what="the assistant" />;
  const a = assistant.data;
  return (
    <div className="stack">
      <Panel title={`Assistant ${a.name || a.assistant_id}`}>
        <dl className="facts">
          <dt>Graph</dt>
          <dd>{a.graph_id}</dd>
          <dt>Assistant id</dt>
          <dd>
            <code>{a.assistant_id}</code>
          </dd>
          <dt>Version</dt>
          <dd>{a.version}</dd>
          <dt>Updated</dt>
          <dd>
            <Time iso={a.updated_at} />
          </dd>
        </dl>
      </Panel>
      <Panel
        title="Graph"
        actions={
          <label className="inline">
            <input type="checkbox" checked={xray} onChange={(event) => setXray(event.target.checked)} /> subgraphs (xray)
          </label>
        }
      >
        <ErrorNote error={graph.error} />
        {graph.data ? <GraphDrawing graph={graph.data} title={`The graph ${a.graph_id}`} /> : <Loading what="the graph" />}
      </Panel>
      {/* once the schemas are known (or cannot be), so the input starts from them and is checked against them */}
      {schemas.data || schemas.error ? <RunLauncher assistant={a} schemas={schemas.data} /> : <Loading what="the schemas" />}
      <LiveSessionStarter assistant={a} />
      {schemas.data ? (
        <AssistantSettings
          assistant={a}
          configSchema={schemas.data.config_schema as Schema | null}
          contextSchema={schemas.data.context_schema as Schema | null}
          onSaved={assistant.reload}
        />
      ) : null}
      <Panel title="Schemas">
        <ErrorNote error={schemas.error} />
        {schemas.data
          ? (["input_schema", "output_schema", "state_schema", "config_schema", "context_schema"] as const).map((key) => (
              <details key={key}>
                <summary>{key.replace("_", " ")}</summary>
                <JsonView value={schemas.data![key]} />
              </details>
            ))
          : null}
      </Panel>
      <Versions assistantId={assistantId} current={a.version} onChange={assistant.reload} />
    </div>
  );
}

/** A new thread opened in the live view (`useStream`), where the run is started. */
function LiveSessionStarter({ assistant }: { assistant: Assistant }) {
  const client = useClient();
  const create = useAction();
  return (
    <p>
      <button
        type="button"
        disabled={create.busy}
        data-testid="open-live"
        onClick={() =>
          void create
            .run(() => client.threads.create({ graphId: assistant.graph_id }))
            .then((thread) => thread && navigate({ view: "live", threadId: thread.thread_id, assistantId: assistant.assistant_id }))
        }
      >
        Open a new thread live
      </button>{" "}
      <span className="muted">(useStream: messages token by token, interrupts, stop)</span>
      <ErrorNote error={create.error} />
    </p>
  );
}

/** Config (`configurable`) and context, edited through forms generated from the graph's schemas; saving makes a new version. */
function AssistantSettings(props: { assistant: Assistant; configSchema: Schema | null; contextSchema: Schema | null; onSaved(): void }) {
  const client = useClient();
  const { assistant } = props;
  const [configurable, setConfigurable] = useState<Record<string, unknown>>(() => ({ ...(assistant.config.configurable ?? {}) }));
  const [context, setContext] = useState<Record<string, unknown>>(() => ({ ...((assistant.context as Record<string, unknown> | undefined) ?? {}) }));
  const save = useAction();
  return (
    <Panel title="Settings">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void save
            .run(() =>
              client.assistants.update(assistant.assistant_id, {
                config: { ...assistant.config, configurable },
                ...(props.contextSchema ? { context } : {}),
              }),
            )
            .then((updated) => updated && props.onSaved());
        }}
      >
        <fieldset>
          <legend>Config (configurable)</legend>
          {props.configSchema ? (
            <SchemaFields schema={props.configSchema} path="config" values={configurable} onChange={setConfigurable} />
          ) : (
            <p className="muted">The graph declares no config schema.</p>
          )}
        </fieldset>
        {props.contextSchema ? (
          <fieldset>
            <legend>Context</legend>
            <SchemaFields schema={props.contextSchema} path="context" values={context} onChange={setContext} />
          </fieldset>
        ) : null}
        <button type="submit" disabled={save.busy}>
          Save as a new version
        </button>
        <ErrorNote error={save.error} />
      </form>
    </Panel>
  );
}

function Versions({ assistantId, current, onChange }: { assistantId: string; current: number; onChange(): void }) {
  const client = useClient();
  const versions = useLoad(() => client.assistants.getVersions(assistantId, { limit: 50 }), [client, assistantId, current]);
  const setLatest = useAction();
  return (
    <Panel title="Versions">
      <ErrorNote error={versions.error ?? setLatest.error} />
      <ol className="versions">
        {(versions.data ?? []).map((version) => (
          <li key={version.version}>
            <strong>v{version.version}</strong> <Time iso={version.created_at} />{" "}
            {version.version === current ? (
              <span className="muted">(latest)</span>
            ) : (
              <button
                type="button"
                onClick={() => void setLatest.run(() => client.assistants.setLatest(assistantId, version.version)).then(onChange)}
              >
                Make latest
              </button>
            )}
            <details>
              <summary>config and context</summary>
              <JsonView value={{ config: version.config, context: version.context }} />
            </details>
          </li>
        ))}
      </ol>
    </Panel>
  );
}
