/** Webhook delivery switched off by http.disable_webhooks. */
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { expect, it } from "vitest";
import { WebhookSender } from "../../src/runtime/runs/webhook.js";

it("sends nothing when disabled, and says so in the log", async () => {
  const received: string[] = [];
  const hook = createServer((req, res) => {
    received.push(req.url ?? "");
    res.end();
  });
  hook.listen(0, "127.0.0.1");
  await once(hook, "listening");
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}`;
  const lines: string[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
  try {
    const disabled = new WebhookSender(logger, { enabled: false });
    disabled.send(`${url}/disabled`, { run_id: "r1" }, { run_id: "r1" });
    await disabled.close(5_000); // would wait for a delivery in flight
    const enabled = new WebhookSender(logger);
    enabled.send(`${url}/enabled`, { run_id: "r2" }, { run_id: "r2" });
    await enabled.close(5_000);
    expect(received).toEqual(["/enabled"]);
    expect(lines.join("")).toMatch(/webhook not sent: webhooks are disabled \(http\.disable_webhooks\)/);
  } finally {
    hook.close();
  }
});
