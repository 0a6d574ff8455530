/**
 * `env` of langgraph.json: a path to a .env file (relative to the config's folder) or an object.
 */

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/;

/**
 * Parse simple dotenv text: `KEY=VALUE` lines, optional `export ` prefix, `#` comments,
 * single/double/back-quoted values (double quotes expand \n, \r, \t, \", \\), and inline
 * ` # comments` after unquoted values. Lines that are not assignments are ignored, as dotenv does.
 * Later assignments of the same key win.
 */
export function parseDotenv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const key = m[1];
    let raw = m[2];
    const quote = raw[0];
    if (quote === '"' || quote === "'" || quote === "`") {
      // A quoted value may span several lines until the closing quote.
      let body = raw.slice(1);
      let end = findClosingQuote(body, quote);
      while (end === -1 && i + 1 < lines.length) {
        body += "\n" + lines[++i];
        end = findClosingQuote(body, quote);
      }
      if (end === -1) {
        out[key] = raw; // unterminated: keep the text as written
        continue;
      }
      body = body.slice(0, end);
      out[key] = quote === '"' ? unescapeDouble(body) : body;
      continue;
    }
    const hash = raw.search(/\s#/);
    if (hash !== -1) raw = raw.slice(0, hash);
    out[key] = raw.trim();
  }
  return out;
}

function findClosingQuote(body: string, quote: string): number {
  for (let j = 0; j < body.length; j++) {
    if (body[j] === "\\" && quote === '"') {
      j++;
      continue;
    }
    if (body[j] === quote) return j;
  }
  return -1;
}

function unescapeDouble(body: string): string {
  return body.replace(/\\([nrt"\\])/g, (_m, c: string) => (c === "n" ? "\n" : c === "r" ? "\r" : c === "t" ? "\t" : c));
}

/**
 * Apply variables to `target` (process.env by default). The config's env applies: it overrides
 * variables already set, as `langgraph dev` (Python) and deployments do. Pass `override: false`
 * to keep values already present (the JS CLI's dotenv `populate` behaviour).
 * Returns the keys that were written.
 */
export function applyEnv(vars: Record<string, string>, options: { override?: boolean; target?: NodeJS.ProcessEnv } = {}): string[] {
  const target = options.target ?? process.env;
  const override = options.override ?? true;
  const written: string[] = [];
  for (const [k, v] of Object.entries(vars)) {
    if (!override && target[k] !== undefined) continue;
    target[k] = v;
    written.push(k);
  }
  return written;
}
