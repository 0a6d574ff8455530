/**
 * The `webhooks` settings of langgraph.json (runtime/webhooks/policy.ts): every url key, header
 * templates and their env_prefix boundary, private addresses, the signature receivers verify.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { WebhookPolicy, WebhookSettingsError, type WebhookSettings } from "../../src/runtime/webhooks/policy.js";
import { isPrivateAddress } from "../../src/runtime/webhooks/private-addresses.js";
import { webhookSignature } from "../../src/runtime/webhooks/post.js";

const policy = (settings: WebhookSettings | null, mode: "serve" | "dev" = "serve", env: NodeJS.ProcessEnv = {}) =>
  new WebhookPolicy(settings, env, mode);
const refusal = (p: WebhookPolicy, url: string): string => {
  try {
    p.accept(url);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`accepted ${url}`);
};

describe("webhook URLs", () => {
  it("without settings: absolute http(s) URLs and paths on this server; other schemes and relative forms refused", () => {
    const open = policy(null);
    expect(open.accept("https://hooks.example/run?x=1")).toBe("https://hooks.example/run?x=1");
    expect(open.accept("http://127.0.0.1:9/h")).toBe("http://127.0.0.1:9/h");
    expect(open.accept("/custom/webhook")).toBe("/custom/webhook");
    expect(open.blockPrivateAddresses).toBe(false);
    expect(refusal(open, "file:///etc/passwd")).toBe("body.webhook: only http and https webhooks are supported, got 'file:'");
    expect(refusal(open, "ftp://files.example/x")).toMatch(/got 'ftp:'/);
    expect(refusal(open, "custom/webhook")).toMatch(/neither an absolute URL nor a path/);
    expect(refusal(open, "//other.example/x")).toMatch(/neither an absolute URL nor a path/);
  });

  it("applies require_https, allowed_domains (exact and subdomain wildcards), allowed_ports (default ports too), max_url_length, disable_loopback", () => {
    const strict = policy({
      url: {
        require_https: true,
        allowed_domains: ["hooks.example.com", "*.corp.example"],
        allowed_ports: [443, 8443],
        max_url_length: 40,
        disable_loopback: true,
      },
    });
    expect(strict.accept("https://hooks.example.com/a")).toBe("https://hooks.example.com/a");
    expect(strict.accept("https://a.b.corp.example:8443/a")).toBe("https://a.b.corp.example:8443/a");
    expect(refusal(strict, "http://hooks.example.com/a")).toBe("body.webhook: must be an https URL (webhooks.url.require_https)");
    expect(refusal(strict, "https://corp.example/a")).toMatch(/host 'corp.example' is not in webhooks.url.allowed_domains/);
    expect(refusal(strict, "https://evil-hooks.example.com/a")).toMatch(/allowed_domains/);
    expect(refusal(strict, "https://hooks.example.com:444/a")).toBe("body.webhook: port 444 is not in webhooks.url.allowed_ports (443, 8443)");
    expect(refusal(strict, `https://hooks.example.com/${"x".repeat(40)}`)).toMatch(/longer than 40 characters/);
    expect(refusal(strict, "/custom/webhook")).toMatch(/webhooks.url.disable_loopback/);
    // a URL without a port has its scheme's
    expect(refusal(policy({ url: { allowed_ports: [8080] } }), "http://hooks.example.com/a")).toMatch(/port 80 is not/);
  });

  it("refuses private addresses written in the URL, by default under serve once webhooks is configured", () => {
    const served = policy({});
    expect(served.blockPrivateAddresses).toBe(true);
    for (const url of [
      "http://169.254.169.254/latest",
      "http://10.1.2.3/x",
      "http://[::1]:8080/x",
      "http://[fe80::1]/x",
      "http://127.0.0.1/x",
      "http://[::ffff:192.168.1.1]/x",
    ]) {
      expect(refusal(served, url)).toMatch(/private, loopback or link-local/);
    }
    // names are checked when they are resolved, at send time
    expect(served.accept("http://localhost:9/x")).toBe("http://localhost:9/x");
    expect(policy({}, "dev").blockPrivateAddresses).toBe(false);
    expect(policy({ url: { block_private_addresses: false } }).blockPrivateAddresses).toBe(false);
    expect(policy({ url: { block_private_addresses: true } }, "dev").blockPrivateAddresses).toBe(true);
    expect(policy({ url: { block_private_addresses: true } }).accept("/custom/webhook")).toBe("/custom/webhook");
  });

  it("knows private, loopback, link-local and public addresses", () => {
    for (const address of [
      "127.0.0.1",
      "10.0.0.1",
      "172.31.255.255",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "::1",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
    ]) {
      expect(isPrivateAddress(address), address).toBe(true);
    }
    for (const address of ["8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]) expect(isPrivateAddress(address), address).toBe(false);
  });
});

describe("headers and the signing secret", () => {
  it("resolves ${{ env.NAME }} templates within env_prefix, mixed with literals", () => {
    const p = policy(
      { headers: { Authorization: "Bearer ${{ env.LG_WEBHOOK_TOKEN }}", "X-Two": "${{env.LG_WEBHOOK_A}}-${{ env.LG_WEBHOOK_B }}" } },
      "serve",
      {
        LG_WEBHOOK_TOKEN: "t0k",
        LG_WEBHOOK_A: "a",
        LG_WEBHOOK_B: "b",
      },
    );
    expect(p.headers).toEqual({ Authorization: "Bearer t0k", "X-Two": "a-b" });
    const custom = policy({ env_prefix: "HOOK_", headers: { "X-Key": "${{ env.HOOK_KEY }}" }, signing_secret: "${{ env.HOOK_SECRET }}" }, "serve", {
      HOOK_KEY: "k",
      HOOK_SECRET: "s",
    });
    expect(custom.headers).toEqual({ "X-Key": "k" });
    expect(custom.signingSecret).toBe("s");
  });

  it("stops startup on a variable outside env_prefix or unset, naming the key", () => {
    expect(() => policy({ headers: { "X-Leak": "${{ env.DATABASE_URI }}" } }, "serve", { DATABASE_URI: "postgres://secret" })).toThrow(
      new WebhookSettingsError(
        "webhooks.headers.X-Leak: ${{ env.DATABASE_URI }} is outside webhooks.env_prefix 'LG_WEBHOOK_'; only variables starting with it may be used",
      ),
    );
    expect(() => policy({ signing_secret: "${{ env.LG_WEBHOOK_SECRET }}" })).toThrow(
      "webhooks.signing_secret: environment variable LG_WEBHOOK_SECRET is not set",
    );
  });

  it("signs as documented: t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>", () => {
    const body = '{"run_id":"r"}';
    const expected = createHmac("sha256", "whsec").update(`1700000000.${body}`).digest("hex");
    expect(webhookSignature("whsec", body, 1700000000)).toBe(`t=1700000000,v1=${expected}`);
  });
});
