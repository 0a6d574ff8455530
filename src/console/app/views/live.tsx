/**
 * A thread, live, through `useStream` of `@langchain/react` on the thread-centric protocol: the
 * messages as their tokens arrive, the updates, custom events and tasks of the graph and its
 * subgraphs, the subgraphs found so far; start a run, stop it, answer its interrupts.
 */
import { useChannel, useStream } from "@langchain/react";
import { useMemo, useState } from "react";
import type { Schema } from "../json-schema.js";
import { messageText } from "../message-text.js";
import { API_URL, useClient, useSession } from "../session.js";
import { useLoad } from "../use-load.js";
import { ErrorNote, JsonEditor, JsonView, Link, Panel, Status, parseJson, pretty } from "../ui.js";
import { exampleInput } from "./run-launcher.js";

const asError = (error: unknown) => (error === undefined || error === null ? undefined : error instanceof Error ? error : new Error(String(error)));

export function LiveView({ threadId, assistantId }: { threadId: string; assistantId: string }) {
  const { token } = useSession();
  const client = useClient();
  const schemas = useLoad(() => client.assistants.getSchemas(assistantId), [client, assistantId]);
  // the same object from render to render: useStream makes a new client (and stream) when it changes
  const headers = useMemo(() => (token ? { Authorization: `Bearer ${token}` } : undefined), [token]);
  const stream = useStream({ apiUrl: API_URL, assistantId, threadId, ...(headers ? { defaultHeaders: headers } : {}) });
  const events = useChannel(stream, ["updates", "custom", "tasks"]);
  const [input, setInput] = useState<string>();
  const [configurable, setConfigurable] = useState("{}");
  const [answer, setAnswer] = useState('"approved"');
  const [actionError, setActionError] = useState<Error>();
  const act = (action: () => Promise<void>) => {
    setActionError(undefined);
    action().catch((error: unknown) => setActionError(asError(error)));
  };
  const inputText = input ?? pretty(exampleInput(schemas.data?.input_schema as Schema | undefined));
  const invalid = parseJson(inputText).error !== undefined || parseJson(configurable).error !== undefined;

  return (
    <div className="stack">
      <Panel
        title={`Live: thread ${threadId}`}
        actions={
          stream.isLoading ? (
            <button type="button" onClick={() => act(() => stream.stop())} data-testid="live-stop">
              Stop
            </button>
          ) : null
        }
      >
        <dl className="facts">
          <dt>Status</dt>
          <dd data-testid="live-status">
            <Status
              status={stream.isThreadLoading ? "loading" : stream.isLoading ? "running" : stream.interrupts.length > 0 ? "interrupted" : "idle"}
            />
          </dd>
          <dt>Thread</dt>
          <dd>
            <Link to={{ view: "thread", threadId }}>{threadId}</Link>
          </dd>
          <dt>Assistant</dt>
          <dd>
            <Link to={{ view: "assistant", assistantId }}>{assistantId}</Link>
          </dd>
          <dt>Subgraphs</dt>
          <dd data-testid="live-subgraphs">{[...stream.subgraphs.keys()].join(", ") || "—"}</dd>
        </dl>
        <ErrorNote error={asError(stream.error) ?? actionError} />
      </Panel>
      <Panel title="Messages">
        <ol className="messages" data-testid="live-messages">
          {stream.messages.map((message, index) => (
            <li key={message.id ?? index} data-type={message.type}>
              <span className="muted">{message.type}</span>
              <p>{messageText(message.content)}</p>
            </li>
          ))}
        </ol>
        {stream.messages.length === 0 ? <p className="muted">No messages.</p> : null}
      </Panel>
      {stream.interrupts.length > 0 ? (
        <Panel title="Interrupted: waiting for an answer">
          {stream.interrupts.map((interrupt, index) => (
            <JsonView key={interrupt.id ?? index} label="interrupt" value={interrupt.value} />
          ))}
          <form
            onSubmit={(event) => {
              event.preventDefault();
              act(() => stream.respond(parseJson(answer).value));
            }}
          >
            <JsonEditor label="Answer with (JSON)" text={answer} onChange={setAnswer} rows={3} testId="live-answer" />
            <button type="submit" disabled={parseJson(answer).error !== undefined} data-testid="live-respond">
              Answer
            </button>
          </form>
        </Panel>
      ) : null}
      <Panel title="Start a run">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const config = { configurable: parseJson(configurable, {}).value as Record<string, unknown> };
            act(() => stream.submit(parseJson(inputText, null).value as Record<string, unknown> | null, { config }));
          }}
        >
          <JsonEditor label="Input" text={inputText} onChange={setInput} testId="live-input" />
          <JsonEditor label="Config (configurable)" text={configurable} onChange={setConfigurable} rows={2} testId="live-config" />
          <button type="submit" disabled={invalid || stream.isLoading} data-testid="live-submit">
            Submit
          </button>
        </form>
      </Panel>
      <Panel title={`Events (${events.length})`}>
        <ol className="events" data-testid="live-events">
          {events.map((event, index) => (
            <li key={event.event_id ?? index}>
              <details>
                <summary>
                  <code>{event.method}</code> <span className="muted">{(event.params as { namespace?: string[] }).namespace?.join(" › ")}</span>
                </summary>
                <JsonView value={(event.params as { data?: unknown }).data} />
              </details>
            </li>
          ))}
        </ol>
      </Panel>
      <details>
        <summary>values</summary>
        <JsonView value={stream.values} />
      </details>
    </div>
  );
}
