/** The console's frame: navigation, the bearer token, and the view the URL names. */
import { lazy, Suspense, useEffect, useState, type ReactNode } from "react";
import { navigate, useRoute, type Route } from "./router.js";
import { useSession } from "./session.js";
import { Link } from "./ui.js";
import { CronsView } from "./views/crons.js";
import { AssistantView, GraphsView } from "./views/graphs.js";
import { RunView } from "./views/run.js";
import { ServerView } from "./views/server.js";
import { StoreView } from "./views/store.js";
import { ThreadView } from "./views/thread.js";
import { ThreadsView } from "./views/threads.js";

/** The live view brings `@langchain/react` (and the SDK version it pins): loaded when first opened. */
const LiveView = lazy(() => import("./views/live.js").then((module) => ({ default: module.LiveView })));

/** The sections, each reachable by its number key (outside text fields). */
const SECTIONS: Array<{ key: string; label: string; route: Route; owns: Route["view"][] }> = [
  { key: "1", label: "Graphs", route: { view: "graphs" }, owns: ["graphs", "assistant"] },
  { key: "2", label: "Threads", route: { view: "threads" }, owns: ["threads", "thread", "run", "live"] },
  { key: "3", label: "Store", route: { view: "store" }, owns: ["store"] },
  { key: "4", label: "Crons", route: { view: "crons" }, owns: ["crons"] },
  { key: "5", label: "Server", route: { view: "server" }, owns: ["server"] },
];

function content(route: Route): ReactNode {
  switch (route.view) {
    case "graphs":
      return <GraphsView />;
    case "assistant":
      return <AssistantView key={route.assistantId} assistantId={route.assistantId} />;
    case "threads":
      return <ThreadsView />;
    case "thread":
      return <ThreadView key={route.threadId} threadId={route.threadId} {...(route.checkpointId ? { checkpointId: route.checkpointId } : {})} />;
    case "run":
      return <RunView key={route.runId} threadId={route.threadId} runId={route.runId} />;
    case "live":
      return (
        <Suspense fallback={<p className="muted">Loading the live view…</p>}>
          <LiveView key={`${route.threadId}/${route.assistantId}`} threadId={route.threadId} assistantId={route.assistantId} />
        </Suspense>
      );
    case "store":
      return <StoreView />;
    case "crons":
      return <CronsView />;
    case "server":
      return <ServerView />;
    case "missing":
      return <p>Nothing here: {route.path}</p>;
  }
}

function TokenForm() {
  const session = useSession();
  const [text, setText] = useState(session.token);
  return (
    <form
      className="token"
      onSubmit={(event) => {
        event.preventDefault();
        session.setToken(text.trim());
      }}
    >
      <label>
        <span>Bearer token</span>
        <input type="password" autoComplete="off" value={text} onChange={(event) => setText(event.target.value)} data-testid="token" />
      </label>
      <button type="submit" data-testid="save-token">
        {session.token ? "Change" : "Use"}
      </button>
    </form>
  );
}

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));

export function App() {
  const route = useRoute();
  const { token } = useSession();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) return;
      const section = SECTIONS.find((s) => s.key === event.key);
      if (section) navigate(section.route);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  // each view moves the focus to its heading, so a keyboard (and a screen reader) starts there
  useEffect(() => document.querySelector<HTMLElement>("main h2")?.focus(), [route.view]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <h1>langgraph-ts-server</h1>
        <nav aria-label="sections">
          {SECTIONS.map((section) => (
            <Link key={section.key} to={section.route} className={section.owns.includes(route.view) ? "current" : undefined}>
              {section.label} <kbd>{section.key}</kbd>
            </Link>
          ))}
        </nav>
        <TokenForm key={token} />
      </header>
      <main id="main" key={token}>
        {content(route)}
      </main>
    </>
  );
}
