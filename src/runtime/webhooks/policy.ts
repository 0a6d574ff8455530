/**
 * Where run and cron webhooks may go, and what every delivery carries: the `webhooks` settings of
 * langgraph.json, as the LangGraph Platform reads them, plus two of this server's own.
 *
 * - `url.require_https`, `url.allowed_domains` (exact hosts, or `*.example.com` for its
 *   subdomains, not the apex), `url.allowed_ports` (a URL without a port has its scheme's),
 *   `url.max_url_length`, `url.disable_loopback` (refuses relative URLs: a webhook given as a path,
 *   `/custom/webhook`, is a call to this server itself, how custom routes receive webhooks);
 * - `headers`, sent with every delivery; values may hold `${{ env.NAME }}`, resolved at startup
 *   from variables whose name starts with `env_prefix` (default `LG_WEBHOOK_`);
 * - `url.block_private_addresses` (this server's): refuses targets on private, loopback and
 *   link-local addresses, checked on the address a delivery connects to (DNS answers change);
 *   default on in `lgts serve` once `webhooks` is configured, off otherwise;
 * - `signing_secret` (this server's, templated like headers): each delivery carries
 *   `X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 *
 * A URL the settings refuse is a 422 when the run or cron is created, never a silent skip.
 */
import { isIP } from "node:net";
import { invalid } from "../../errors.js";
import { isPrivateAddress } from "./private-addresses.js";

export interface WebhookUrlSettings {
  require_https?: boolean;
  allowed_domains?: string[];
  allowed_ports?: number[];
  disable_loopback?: boolean;
  max_url_length?: number;
  block_private_addresses?: boolean;
}

/** `webhooks` of langgraph.json (already valid against its schema). */
export interface WebhookSettings {
  env_prefix?: string;
  headers?: Record<string, string>;
  url?: WebhookUrlSettings;
  signing_secret?: string;
}

export class WebhookSettingsError extends Error {}

const DEFAULT_ENV_PREFIX = "LG_WEBHOOK_";
const TEMPLATE = /\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** `${{ env.NAME }}` replaced by the variable; a name outside the prefix, or unset, stops startup. */
function resolveTemplates(text: string, where: string, prefix: string, env: NodeJS.ProcessEnv): string {
  return text.replace(TEMPLATE, (_match, name: string) => {
    if (!name.startsWith(prefix)) {
      throw new WebhookSettingsError(
        `${where}: \${{ env.${name} }} is outside webhooks.env_prefix '${prefix}'; only variables starting with it may be used`,
      );
    }
    const value = env[name];
    if (value === undefined) throw new WebhookSettingsError(`${where}: environment variable ${name} is not set`);
    return value;
  });
}

/** Whether `host` is allowed by an `allowed_domains` entry: exact, or `*.suffix` for its subdomains. */
function domainAllows(entry: string, host: string): boolean {
  const pattern = entry.toLowerCase().replace(/\.$/, "");
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1));
  return host === pattern;
}

export class WebhookPolicy {
  /** Headers every delivery carries (templates resolved). */
  readonly headers: Readonly<Record<string, string>>;
  /** Refuse targets on private, loopback and link-local addresses (checked at connection). */
  readonly blockPrivateAddresses: boolean;
  readonly signingSecret: string | null;
  readonly #url: WebhookUrlSettings;

  /**
   * @param mode `serve` refuses private addresses by default once `webhooks` is configured.
   * @throws WebhookSettingsError (one line naming the key) for a template that cannot resolve
   */
  constructor(settings: WebhookSettings | null | undefined, env: NodeJS.ProcessEnv, mode: "serve" | "dev") {
    const prefix = settings?.env_prefix ?? DEFAULT_ENV_PREFIX;
    this.#url = settings?.url ?? {};
    this.headers = Object.fromEntries(
      Object.entries(settings?.headers ?? {}).map(([name, value]) => [name, resolveTemplates(value, `webhooks.headers.${name}`, prefix, env)]),
    );
    this.signingSecret =
      settings?.signing_secret === undefined ? null : resolveTemplates(settings.signing_secret, "webhooks.signing_secret", prefix, env);
    if (this.signingSecret === "") throw new WebhookSettingsError("webhooks.signing_secret: empty; give a secret or remove the key");
    this.blockPrivateAddresses = this.#url.block_private_addresses ?? (settings != null && mode === "serve");
  }

  /**
   * The webhook as stored, or a 422 naming `field` when the settings refuse it: an absolute
   * http(s) URL the `url` settings allow, or a path on this server.
   */
  accept(value: string, field = "body.webhook"): string {
    const refuse = (why: string): never => {
      throw invalid(`${field}: ${why}`);
    };
    const { max_url_length: maxLength } = this.#url;
    if (maxLength !== undefined && value.length > maxLength) refuse(`longer than ${maxLength} characters (webhooks.url.max_url_length)`);
    if (value.startsWith("/") && !value.startsWith("//")) {
      if (this.#url.disable_loopback)
        refuse(`'${value}' is a path on this server, which webhooks.url.disable_loopback refuses; give an absolute URL`);
      return value;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return refuse(`'${value}' is neither an absolute URL nor a path on this server ('/...')`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") refuse(`only http and https webhooks are supported, got '${url.protocol}'`);
    if (this.#url.require_https && url.protocol !== "https:") refuse("must be an https URL (webhooks.url.require_https)");
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
    const domains = this.#url.allowed_domains ?? [];
    if (domains.length > 0 && !domains.some((entry) => domainAllows(entry, host))) {
      refuse(`host '${host}' is not in webhooks.url.allowed_domains (${domains.join(", ")})`);
    }
    const ports = this.#url.allowed_ports ?? [];
    const port = url.port === "" ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    if (ports.length > 0 && !ports.includes(port)) refuse(`port ${port} is not in webhooks.url.allowed_ports (${ports.join(", ")})`);
    // an address written in the URL is refused at once; names are checked when resolved, at send time
    if (this.blockPrivateAddresses && isIP(host) && isPrivateAddress(host)) {
      refuse(`'${host}' is a private, loopback or link-local address, which this server does not call (webhooks.url.block_private_addresses)`);
    }
    return url.toString();
  }
}
