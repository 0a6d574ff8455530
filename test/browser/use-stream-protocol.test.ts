import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ensureChromium, launchChromium, startPageServer, type PageServer } from "../support/browser.js";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

/**
 * A React page using `useStream` from `@langchain/react` (the thread-centric protocol, v2) in real
 * Chromium, served from another origin than the API, over SSE and over a WebSocket.
 */
const CONFIG = path.join(REPO_ROOT, "test/fixtures/browser/langgraph.json");
const WORDS = "one two three four five six seven eight nine ten eleven twelve";

let api: TestServer;
let pages: PageServer;
let browser: Browser;

beforeAll(async () => {
  ensureChromium();
  [api, pages, browser] = await Promise.all([startTestServer({ configPath: CONFIG }), startPageServer("protocol.tsx"), launchChromium()]);
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await api?.dispose();
});

describe.each(["sse", "websocket"])("useStream (@langchain/react) over %s in Chromium, cross-origin", (transport) => {
  let context: BrowserContext;
  let page: Page;
  beforeEach(async () => {
    await context?.close();
    context = await browser.newContext();
    page = await context.newPage();
  });
  afterAll(async () => {
    await context?.close();
  });

  async function open(assistant: string, delayMs = 0) {
    const query = new URLSearchParams({ api: api.url, assistant, transport, delay: String(delayMs) });
    await page.goto(`${pages.url}/?${query}`);
  }
  async function send(text: string) {
    await page.getByTestId("input").fill(text);
    await page.getByTestId("send").click();
  }
  const lastAi = () => page.locator('[data-testid="message"][data-type="ai"]').last();
  const threadId = async () => (await page.getByTestId("thread-id").textContent()) ?? "";
  const renders = () => page.evaluate<string[]>("window.__renders");

  it("is cross-origin", () => {
    expect(new URL(pages.url).origin).not.toBe(new URL(api.url).origin);
  });

  it("renders tokens as they stream", async () => {
    await open("agent", 30);
    await send(WORDS);
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe(`Echo: ${WORDS}`);
    await expect.poll(() => page.getByTestId("status").textContent()).toBe("idle");
    const seen = (await renders()).filter((text) => text !== "");
    expect(seen.length).toBeGreaterThanOrEqual(6);
    for (const text of seen) expect(`Echo: ${WORDS}`.startsWith(text)).toBe(true);
    expect(await page.locator('[data-testid="message"][data-type="human"]').textContent()).toBe(WORDS);
  });

  it("shows an interrupt and answers it with respond()", async () => {
    await open("approval");
    await send("draft a reply");
    await expect.poll(() => page.getByTestId("interrupt").textContent(), { timeout: 20_000 }).toContain("Send the reply?");
    const thread = await threadId();
    await expect.poll(async () => (await api.client.threads.get(thread)).status).toBe("interrupted");
    await page.getByTestId("resume").click();
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe("You said: yes please");
    await expect.poll(() => page.getByTestId("interrupt").count()).toBe(0);
    await expect.poll(async () => (await api.client.threads.get(thread)).status).toBe("idle");
  });

  it("after a reload, shows the pending interrupt again and answers it", async () => {
    await open("approval");
    await send("draft a reply");
    await expect.poll(() => page.getByTestId("interrupt").textContent(), { timeout: 20_000 }).toContain("Send the reply?");
    await page.reload();
    await expect.poll(() => page.getByTestId("interrupt").textContent(), { timeout: 20_000 }).toContain("Send the reply?");
    await page.getByTestId("resume").click();
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe("You said: yes please");
    await expect.poll(() => page.getByTestId("interrupt").count()).toBe(0);
  });

  it("reattaches to the running run after a reload and shows the final state", async () => {
    await open("agent", 150);
    await send(WORDS);
    await expect.poll(async () => (await lastAi().textContent())?.length ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
    const thread = await threadId();
    await page.reload();
    expect(await threadId()).toBe(thread);
    // the page rejoined the run: it is loading while the run is still going, and the reply grows
    await expect.poll(() => page.getByTestId("status").textContent(), { timeout: 10_000 }).toBe("loading");
    await expect.poll(() => lastAi().textContent(), { timeout: 30_000 }).toBe(`Echo: ${WORDS}`);
    const grown = (await renders()).filter((text) => text !== "" && text !== `Echo: ${WORDS}`);
    expect(grown.length).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId("status").textContent()).toBe("idle");
    const [run] = await api.client.runs.list(thread);
    expect(run?.status).toBe("success");
  });

  it("stop() cancels the run", async () => {
    await open("agent", 150);
    await send(WORDS);
    await expect.poll(async () => (await lastAi().textContent())?.length ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
    await page.getByTestId("stop").click();
    await expect.poll(() => page.getByTestId("status").textContent()).toBe("idle");
    const thread = await threadId();
    await expect.poll(async () => (await api.client.runs.list(thread))[0]?.status, { timeout: 20_000 }).toBe("interrupted");
    const replies = await page.locator('[data-testid="message"][data-type="ai"]').allTextContents();
    expect(replies).not.toContain(`Echo: ${WORDS}`);
  });

  it("shows the error of a failing graph", async () => {
    await open("failing");
    await send("go");
    await expect.poll(() => page.getByTestId("error").textContent(), { timeout: 20_000 }).toContain("The failing graph failed on purpose");
    await expect.poll(() => page.getByTestId("status").textContent()).toBe("idle");
  });

  it("starts a new thread clean", async () => {
    await open("agent");
    await send("first thread");
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe("Echo: first thread");
    const first = await threadId();
    await page.getByTestId("new-thread").click();
    await expect.poll(() => page.getByTestId("message").count()).toBe(0);
    await send("second thread");
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe("Echo: second thread");
    const second = await threadId();
    expect(second).not.toBe(first);
    expect(await page.getByTestId("message").allTextContents()).toEqual(["second thread", "Echo: second thread"]);
  });
});

describe("the API", () => {
  it("has no contract violations", () => {
    expect(api.violations).toEqual([]);
  });
});
