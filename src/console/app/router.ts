/**
 * The console's routes are real URLs under `/console/` (shareable: a thread, a checkpoint, a run),
 * read from and written to the browser's history.
 */
import { useSyncExternalStore } from "react";

export type Route =
  | { view: "graphs" }
  | { view: "assistant"; assistantId: string }
  | { view: "threads" }
  | { view: "thread"; threadId: string; checkpointId?: string }
  | { view: "run"; threadId: string; runId: string }
  | { view: "live"; threadId: string; assistantId: string }
  | { view: "store" }
  | { view: "crons" }
  | { view: "server" }
  | { view: "missing"; path: string };

/** Where the console is served, ending in `/` (the server writes it into the page: `mount_prefix` included). */
export const CONSOLE_BASE = document.body.dataset.consoleBase ?? "/console/";

export function parseRoute(pathname: string): Route {
  const relative = pathname.startsWith(CONSOLE_BASE) ? pathname.slice(CONSOLE_BASE.length) : "";
  const parts = relative.split("/").filter(Boolean).map(decodeURIComponent);
  const [section, id, sub, subId] = parts;
  switch (section) {
    case undefined:
    case "graphs":
      return { view: "graphs" };
    case "assistants":
      return id ? { view: "assistant", assistantId: id } : { view: "graphs" };
    case "threads":
      if (!id) return { view: "threads" };
      if (sub === "runs" && subId) return { view: "run", threadId: id, runId: subId };
      if (sub === "checkpoints" && subId) return { view: "thread", threadId: id, checkpointId: subId };
      if (sub === "live" && subId) return { view: "live", threadId: id, assistantId: subId };
      return { view: "thread", threadId: id };
    case "store":
    case "crons":
    case "server":
      return { view: section };
    default:
      return { view: "missing", path: pathname };
  }
}

export function routePath(route: Route): string {
  const join = (...parts: string[]) => CONSOLE_BASE + parts.map(encodeURIComponent).join("/");
  switch (route.view) {
    case "graphs":
      return join("graphs");
    case "assistant":
      return join("assistants", route.assistantId);
    case "threads":
      return join("threads");
    case "thread":
      return route.checkpointId ? join("threads", route.threadId, "checkpoints", route.checkpointId) : join("threads", route.threadId);
    case "run":
      return join("threads", route.threadId, "runs", route.runId);
    case "live":
      return join("threads", route.threadId, "live", route.assistantId);
    case "store":
    case "crons":
    case "server":
      return join(route.view);
    case "missing":
      return route.path;
  }
}

const NAVIGATED = "console:navigate";

export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = routePath(route);
  if (path === location.pathname) return;
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  window.dispatchEvent(new Event(NAVIGATED));
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(NAVIGATED, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(NAVIGATED, onChange);
  };
}

/** The current path; a component re-renders when it changes (links, back and forward). */
export function useRoute(): Route {
  const pathname = useSyncExternalStore(subscribe, () => location.pathname);
  return parseRoute(pathname);
}
