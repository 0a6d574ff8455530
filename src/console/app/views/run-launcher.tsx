/**
 * Starts a run: input, config and context checked against the assistant's schemas before
 * anything is sent, stream modes to watch. The run is created in the background with its events
 * kept (`stream_resumable`), and its page replays them from the first: the page can be reloaded
 * or shared while the run works.
 */
import type { Assistant, GraphSchema, StreamMode } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { validate, type Schema } from "../json-schema.js";
import { navigate } from "../router.js";
import { useClient } from "../session.js";
import { useAction } from "../use-load.js";
import { ErrorNote, JsonEditor, Panel, parseJson, pretty } from "../ui.js";

export const STREAM_MODES: StreamMode[] = ["values", "updates", "messages-tuple", "custom", "tasks", "checkpoints", "debug", "events"];
const DEFAULT_MODES: StreamMode[] = ["values", "updates", "messages-tuple", "custom"];

/** A first input to edit: a user message for message graphs, empty fields otherwise. */
export function exampleInput(schema: Schema | null | undefined): Record<string, unknown> {
  const properties = schema?.properties ?? {};
  const example: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    if (name === "messages") example[name] = [{ role: "user", content: "hello" }];
    else if (property.type === "string") example[name] = "";
  }
  return example;
}

/** Problems of a JSON box: not JSON, or not what the schema asks for. */
function problemsOf(text: string, schema: Schema | null | undefined, name: string): string[] {
  const parsed = parseJson(text, {});
  if (parsed.error || !schema) return [];
  return validate(parsed.value, schema).map((problem) => problem.replace(/^\$/, name));
}

export function RunLauncher(props: { assistant: Assistant; schemas: GraphSchema | undefined; threadId?: string }) {
  const client = useClient();
  const inputSchema = props.schemas?.input_schema as Schema | null | undefined;
  const configSchema = props.schemas?.config_schema as Schema | null | undefined;
  const contextSchema = props.schemas?.context_schema as Schema | null | undefined;
  const [input, setInput] = useState(() => pretty(exampleInput(inputSchema)));
  const [configurable, setConfigurable] = useState("{}");
  const [context, setContext] = useState("{}");
  const [modes, setModes] = useState<StreamMode[]>(DEFAULT_MODES);
  const [subgraphs, setSubgraphs] = useState(true);
  const start = useAction();
  const problems = {
    input: problemsOf(input, inputSchema, "input"),
    configurable: problemsOf(configurable, configSchema, "configurable"),
    context: problemsOf(context, contextSchema, "context"),
  };
  const invalid =
    [input, configurable, context].some((text) => parseJson(text).error !== undefined) || Object.values(problems).some((list) => list.length > 0);

  const submit = () =>
    start.run(async () => {
      const threadId = props.threadId ?? (await client.threads.create({ graphId: props.assistant.graph_id })).thread_id;
      const run = await client.runs.create(threadId, props.assistant.assistant_id, {
        input: parseJson(input, null).value as Record<string, unknown> | null,
        config: { configurable: parseJson(configurable, {}).value as Record<string, unknown> },
        ...(contextSchema ? { context: parseJson(context, {}).value } : {}),
        streamMode: modes,
        streamSubgraphs: subgraphs,
        streamResumable: true,
      });
      navigate({ view: "run", threadId, runId: run.run_id });
    });

  return (
    <Panel title={props.threadId ? "Start a run on this thread" : "Run it on a new thread"}>
      <form
        className="run-launcher"
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <JsonEditor label="Input" text={input} onChange={setInput} problems={problems.input} testId="run-input" />
        <JsonEditor
          label="Config (configurable)"
          text={configurable}
          onChange={setConfigurable}
          problems={problems.configurable}
          rows={3}
          testId="run-config"
        />
        {contextSchema ? <JsonEditor label="Context" text={context} onChange={setContext} problems={problems.context} rows={3} /> : null}
        <fieldset className="modes">
          <legend>Stream modes</legend>
          {STREAM_MODES.map((mode) => (
            <label key={mode} className="inline">
              <input
                type="checkbox"
                checked={modes.includes(mode)}
                onChange={(event) => setModes(event.target.checked ? [...modes, mode] : modes.filter((m) => m !== mode))}
              />
              {mode}
            </label>
          ))}
          <label className="inline">
            <input type="checkbox" checked={subgraphs} onChange={(event) => setSubgraphs(event.target.checked)} />
            subgraphs
          </label>
        </fieldset>
        <button type="submit" disabled={invalid || start.busy} data-testid="start-run">
          Start run
        </button>
        <ErrorNote error={start.error} />
      </form>
    </Panel>
  );
}
