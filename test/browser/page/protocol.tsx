/**
 * A chat page on the thread-centric protocol (v2): `useStream` from `@langchain/react`, over SSE
 * or a WebSocket (`transport` in the query string), with interrupts answered by `respond()`,
 * `stop()`, errors, new threads, and the thread id kept in the URL so a reload returns to it.
 *
 * `window.__renders` records the text of the last AI message at every render, so the test can
 * see tokens arrive one by one.
 */
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { useStream } from "@langchain/react";

declare global {
  interface Window {
    __renders: string[];
  }
}
window.__renders = [];

const params = new URLSearchParams(location.search);
const apiUrl = params.get("api")!;
const assistantId = params.get("assistant")!;
const transport = params.get("transport") === "websocket" ? "websocket" : "sse";
const tokenDelayMs = Number(params.get("delay") ?? 0);

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === "string" ? part : ((part as { text?: string })?.text ?? ""))).join("");
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
  const stream = useStream({
    apiUrl,
    assistantId,
    transport,
    threadId,
    onThreadId: (id: string) => {
      setThreadId(id);
      keepThreadInUrl(id);
    },
  });

  const messages = stream.messages.map((message) => ({ type: message.type, text: textOf(message.content), id: message.id }));
  const lastAiText = [...messages].reverse().find((m) => m.type === "ai")?.text ?? "";
  useEffect(() => {
    if (window.__renders.at(-1) !== lastAiText) window.__renders.push(lastAiText);
  }, [lastAiText]);

  const send = () => {
    const content = draft;
    setDraft("");
    void stream.submit({ messages: [{ type: "human", content }] } as never, { config: { configurable: { token_delay_ms: tokenDelayMs } } });
  };
  const newThread = () => {
    setThreadId(null);
    keepThreadInUrl(null);
  };

  return (
    <main>
      <div data-testid="thread-id">{threadId ?? ""}</div>
      <div data-testid="status">{stream.isLoading ? "loading" : "idle"}</div>
      <ol data-testid="messages">
        {messages.map((message, index) => (
          <li key={message.id ?? index} data-testid="message" data-type={message.type}>
            {message.text}
          </li>
        ))}
      </ol>
      {stream.interrupt ? (
        <div data-testid="interrupt">
          {JSON.stringify(stream.interrupt.value)}
          <button data-testid="resume" onClick={() => void stream.respond("yes please")}>
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
