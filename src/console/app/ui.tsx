/** Small building blocks every view uses. */
import { useState, type MouseEvent, type ReactNode } from "react";
import { navigate, routePath, type Route } from "./router.js";

/** A real link (opens in a new tab, copies as a URL) that navigates inside the page on a plain click. */
export function Link({ to, children, className }: { to: Route; children: ReactNode; className?: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={routePath(to)} onClick={onClick} className={className}>
      {children}
    </a>
  );
}

export function JsonView({ value, label }: { value: unknown; label?: string }) {
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {value === undefined ? "—" : JSON.stringify(value, null, 2)}
    </pre>
  );
}

/** The message of an SDK error: `HTTP 404: {"detail": "..."}` becomes `404: ...`. */
export function errorText(error: Error): string {
  const match = /^HTTP (\d+): (.*)$/s.exec(error.message);
  if (!match) return error.message;
  try {
    const body = JSON.parse(match[2]) as { detail?: unknown };
    return `${match[1]}: ${typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail)}`;
  } catch {
    return `${match[1]}: ${match[2]}`;
  }
}

export function ErrorNote({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return (
    <p className="error" role="alert">
      {errorText(error)}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

export function Time({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span className="muted">—</span>;
  const date = new Date(iso);
  return (
    <time dateTime={iso} title={iso}>
      {date.toLocaleString()}
    </time>
  );
}

export function Status({ status }: { status: string }) {
  return <span className={`status status-${status}`}>{status}</span>;
}

export function Panel({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="panel" aria-label={title}>
      <header>
        <h2 tabIndex={-1}>{title}</h2>
        {actions ? <div className="actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/** Parses JSON text; `undefined` text (an empty box) parses to `fallback`. */
export function parseJson(text: string, fallback: unknown = undefined): { value?: unknown; error?: string } {
  if (text.trim() === "") return { value: fallback };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** A JSON text box that says when what is typed is not JSON (and the problems `check` finds). */
export function JsonEditor(props: {
  label: string;
  text: string;
  onChange(text: string): void;
  problems?: string[];
  rows?: number;
  testId?: string;
}) {
  const parsed = parseJson(props.text);
  const problems = parsed.error ? [`Not JSON: ${parsed.error}`] : (props.problems ?? []);
  return (
    <label className="json-editor">
      <span>{props.label}</span>
      <textarea
        value={props.text}
        rows={props.rows ?? 6}
        spellCheck={false}
        aria-invalid={problems.length > 0}
        data-testid={props.testId}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {problems.map((problem) => (
        <span key={problem} className="problem">
          {problem}
        </span>
      ))}
    </label>
  );
}

export const pretty = (value: unknown) => (value === undefined ? "" : JSON.stringify(value, null, 2));

/** A button asking for a second click before it does something that cannot be undone. */
export function ConfirmButton({ label, onConfirm, disabled }: { label: string; onConfirm(): void; disabled?: boolean }) {
  const [armed, setArmed] = useState(false);
  return (
    <button
      type="button"
      className={armed ? "danger armed" : "danger"}
      disabled={disabled}
      onBlur={() => setArmed(false)}
      onClick={() => {
        if (armed) {
          setArmed(false);
          onConfirm();
        } else setArmed(true);
      }}
    >
      {armed ? `Really ${label.toLowerCase()}?` : label}
    </button>
  );
}
