/**
 * The `webhooks` settings of langgraph.json through the SDK, on both backends: URLs the settings
 * refuse are a 422 when a run or cron is created; a target that resolves to a private address is
 * refused when the delivery connects (block_private_addresses, on by default under serve); the
 * configured headers and the X-Webhook-Signature a receiver verifies.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { webhookReceiver } from "../support/runs.js";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

const FIXTURES = path.join(REPO_ROOT, "test/fixtures/webhooks");
const SECRET = "whsec-test-0123456789";

/** What a receiver does with a delivery: recompute the HMAC of "<t>.<body>" and compare, and refuse old timestamps. */
function verifySignature(header: string, rawBody: string, secret: string, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(",").map((part) => part.split("=") as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = createHmac("sha256", secret).update(`${parts.t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? "", "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe("webhooks settings: allowed domains and private addresses (lgts serve)", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ configPath: path.join(FIXTURES, "guarded.json") });
  });
  afterAll(() => t.dispose());
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("refuses, with a 422 at creation, runs and crons whose webhook the settings do not allow", async () => {
    const thread = await t.client.threads.create();
    const post = (url: string, body: unknown) =>
      fetch(`${t.url}${url}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    for (const [webhook, detail] of [
      ["https://evil.example/x", "body.webhook: host 'evil.example' is not in webhooks.url.allowed_domains (localhost, *.hooks.test)"],
      ["https://hooks.test/x", "body.webhook: host 'hooks.test' is not in webhooks.url.allowed_domains (localhost, *.hooks.test)"],
      [
        "http://169.254.169.254/latest/meta-data",
        "body.webhook: host '169.254.169.254' is not in webhooks.url.allowed_domains (localhost, *.hooks.test)",
      ],
      ["file:///etc/passwd", "body.webhook: only http and https webhooks are supported, got 'file:'"],
    ] as const) {
      for (const [url, body] of [
        [`/threads/${thread.thread_id}/runs`, { assistant_id: "trivial", webhook }],
        ["/runs/wait", { assistant_id: "trivial", webhook }],
        ["/runs/crons", { assistant_id: "trivial", schedule: "0 0 1 1 *", webhook }],
        [`/threads/${thread.thread_id}/runs/crons`, { assistant_id: "trivial", schedule: "0 0 1 1 *", webhook }],
      ] as const) {
        const res = await post(url, body);
        expect(res.status, `${url} ${webhook}`).toBe(422);
        expect((await json(res)).detail).toBe(detail);
      }
    }
    expect(await t.client.runs.list(thread.thread_id)).toEqual([]);
    expect(await t.client.crons.search({ threadId: thread.thread_id })).toEqual([]);
    const allowed = await t.client.crons.create("trivial", { schedule: "0 0 1 1 *", webhook: "https://a.hooks.test/x" });
    expect(allowed.payload).toMatchObject({ webhook: "https://a.hooks.test/x" });
    await expect(t.client.crons.update(allowed.cron_id, { webhook: "https://evil.example/x" })).rejects.toMatchObject({ status: 422 });
    await t.client.crons.delete(allowed.cron_id);
  });

  it("refuses at send time a name that resolves to a loopback address: the receiver is never called", async () => {
    const receiver = await webhookReceiver();
    try {
      // allowed by name at creation; `localhost` resolves to a loopback address when the delivery connects
      const webhook = receiver.url.replace("127.0.0.1", "localhost");
      const thread = await t.client.threads.create();
      expect(await t.client.runs.wait(thread.thread_id, "trivial", { input: { value: 1 }, webhook })).toEqual({ value: 4 });
      // a delivery that got through would arrive within milliseconds of the run's end
      await expect(receiver.next(1_500)).rejects.toThrow(/no webhook call/);
      expect(receiver.requests).toEqual([]);
    } finally {
      await receiver.close();
    }
  });
});

describe("webhooks settings: headers and signatures", () => {
  let t: TestServer;
  beforeAll(async () => {
    process.env.LG_WEBHOOK_TEST_TOKEN = "t0ken";
    process.env.LG_WEBHOOK_TEST_SECRET = SECRET;
    t = await startTestServer({ configPath: path.join(FIXTURES, "signed.json") });
  });
  afterAll(async () => {
    await t.dispose();
    delete process.env.LG_WEBHOOK_TEST_TOKEN;
    delete process.env.LG_WEBHOOK_TEST_SECRET;
  });
  afterEach(() => expect(t.violations.splice(0)).toEqual([]));

  it("sends the templated headers and a signature the receiver verifies with the secret", async () => {
    const receiver = await webhookReceiver();
    try {
      const thread = await t.client.threads.create();
      const delivered = receiver.next();
      const run = await t.client.runs.create(thread.thread_id, "trivial", { input: { value: 2 }, webhook: receiver.url });
      expect(await delivered).toMatchObject({ run_id: run.run_id, status: "success", values: { value: 5 } });
      const [{ headers, raw }] = receiver.requests as [{ headers: Record<string, string>; raw: string }];
      expect(headers["x-hook-token"]).toBe("Bearer t0ken");
      const signature = headers["x-webhook-signature"];
      expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(verifySignature(signature, raw, SECRET)).toBe(true);
      // another secret, or a changed body, does not verify
      expect(verifySignature(signature, raw, "another-secret")).toBe(false);
      expect(verifySignature(signature, raw.replace('"success"', '"error"'), SECRET)).toBe(false);
    } finally {
      await receiver.close();
    }
  });
});

it("stops at startup on a header template outside env_prefix, naming the key", async () => {
  await expect(startTestServer({ configPath: path.join(FIXTURES, "leaky.json") })).rejects.toThrow(
    "webhooks.headers.X-Leak: ${{ env.DATABASE_URI }} is outside webhooks.env_prefix 'LG_WEBHOOK_'",
  );
});
