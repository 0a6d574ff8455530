/**
 * The caller's session: the SDK client every view uses, with the bearer token the user entered
 * (kept in this browser's local storage) sent on every request.
 */
import { Client } from "@langchain/langgraph-sdk/client";
import { createContext, useContext, useMemo, useState, type ReactNode } from "react";
import { CONSOLE_BASE } from "./router.js";

const TOKEN_KEY = "lgts-console-token";

/** The API is served where the console is, one level up (`<mount_prefix>/console/` -> `<mount_prefix>`). */
export const API_URL = location.origin + CONSOLE_BASE.replace(/console\/$/, "").replace(/\/$/, "");

export interface Session {
  client: Client;
  /** GET of an API path the SDK has no method for (`/info`, `/ok`), with the same credentials. */
  getJson(path: string): Promise<unknown>;
  token: string;
  setToken(token: string): void;
}

const SessionContext = createContext<Session | null>(null);

function createClient(token: string): Client {
  return new Client({
    apiUrl: API_URL,
    // one retry at most: the console shows failures rather than hiding them behind long waits
    callerOptions: { maxRetries: 1 },
    ...(token ? { defaultHeaders: { Authorization: `Bearer ${token}` } } : {}),
  });
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [token, setStoredToken] = useState(() => localStorage.getItem(TOKEN_KEY) ?? "");
  const session = useMemo<Session>(
    () => ({
      client: createClient(token),
      async getJson(path: string) {
        const response = await fetch(API_URL + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
        const text = await response.text();
        if (!response.ok) throw new Error(`HTTP ${response.status}: ${text}`);
        return JSON.parse(text) as unknown;
      },
      token,
      setToken(next: string) {
        if (next) localStorage.setItem(TOKEN_KEY, next);
        else localStorage.removeItem(TOKEN_KEY);
        setStoredToken(next);
      },
    }),
    [token],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

export const useClient = (): Client => useSession().client;
