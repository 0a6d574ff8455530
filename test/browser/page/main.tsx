/**
 * A chat page as LangGraph front-ends write it: `useStream` with reconnect on reload, interrupts,
 * stop, errors, new threads and generative UI. The API URL, assistant and per-token delay come
 * from the query string; the thread id is kept in the URL so a reload returns to the thread.
 *
 * `window.__renders` records the text of the last AI message at every render, so the test can
 * see tokens arrive one by one.
 */
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { useStream } from "@langchain/langgraph-sdk/react";
import { LoadExternalComponent, experimental_loadShare } from "@langchain/langgraph-sdk/react-ui";
import * as badge from "./badge.js";

experimental_loadShare("@fixture/badge", badge);

declare global {
  interface Window {
    __renders: string[];
  }
}
window.__renders = [];

const params = new URLSearchParams(location.search);
const apiUrl = params.get("api")!;
const assistantId = params.get("assistant")!;
const tokenDelayMs = Number(params.get("delay") ?? 0);

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === "string" ? part : (part?.text ?? ""))).join("");
  return "";
}

function keepThreadInUrl(threadId: string | null) {
  const url = new URL(location.href);
  if (threadId) url.searchParams.set("thread", threadId);
  else url.searchParams.delete("thread");
  history.replaceState(null, "", url);
}

function App() {
  const [threadId, setThreadId] = useState<string | null>(params.get("thread"));
  const [draft, setDraft] = useState("");
  const stream = useStream<{ messages: { type: string; content: unknown; id?: string }[]; ui?: never[] }>({
    apiUrl,
    assistantId,
    threadId,
    onThreadId: (id: string) => {
      setThreadId(id);
      keepThreadInUrl(id);
    },
    reconnectOnMount: true,
  });

  const lastAi = [...stream.messages].reverse().find((m) => m.type === "ai");
  const lastAiText = lastAi ? textOf(lastAi.content) : "";
  useEffect(() => {
    if (window.__renders.at(-1) !== lastAiText) window.__renders.push(lastAiText);
  }, [lastAiText]);

  const send = () => {
    const content = draft;
    setDraft("");
    void stream.submit({ messages: [{ type: "human", content }] }, { config: { configurable: { token_delay_ms: tokenDelayMs } } });
  };
  const newThread = () => {
    setThreadId(null);
    keepThreadInUrl(null);
  };

  const ui = (stream.values as { ui?: { id: string; name: string; props: Record<string, unknown> }[] }).ui ?? [];
  return (
    <main>
      <div data-testid="thread-id">{threadId ?? ""}</div>
      <div data-testid="status">{stream.isLoading ? "loading" : "idle"}</div>
      <ol data-testid="messages">
        {stream.messages.map((message, index) => (
          <li key={message.id ?? index} data-testid="message" data-type={message.type}>
            {textOf(message.content)}
          </li>
        ))}
      </ol>
      {ui.map((item) => (
        <LoadExternalComponent key={item.id} stream={stream as never} message={item as never} fallback={<span>loading UI</span>} />
      ))}
      {stream.interrupt ? (
        <div data-testid="interrupt">
          {JSON.stringify(stream.interrupt.value)}
          <button data-testid="resume" onClick={() => void stream.submit(undefined, { command: { resume: "yes please" } })}>
            Resume
          </button>
        </div>
      ) : null}
      {stream.error ? <div data-testid="error">{String((stream.error as Error).message ?? stream.error)}</div> : null}
      <input data-testid="input" value={draft} onChange={(event) => setDraft(event.target.value)} />
      <button data-testid="send" onClick={send}>
        Send
      </button>
      <button data-testid="stop" onClick={() => void stream.stop()}>
        Stop
      </button>
      <button data-testid="new-thread" onClick={newThread}>
        New thread
      </button>
    </main>
  );
}

createRoot(document.getElementById("root")!).render(<App />);
