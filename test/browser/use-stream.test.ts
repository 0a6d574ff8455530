import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ensureChromium, launchChromium, startPageServer, type PageServer } from "../support/browser.js";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

/**
 * A React page using `useStream` from @langchain/langgraph-sdk/react, in real Chromium, served from
 * another origin than the API (so every call is a CORS request).
 */
const CONFIG = path.join(REPO_ROOT, "test/fixtures/browser/langgraph.json");
const WORDS = "one two three four five six seven eight nine ten eleven twelve";

let api: TestServer;
let pages: PageServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  ensureChromium();
  [api, pages, browser] = await Promise.all([startTestServer({ configPath: CONFIG }), startPageServer(), launchChromium()]);
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await pages?.close();
  await api?.dispose();
});
beforeEach(async () => {
  await context?.close();
  context = await browser.newContext();
  page = await context.newPage();
});

async function open(assistant: string, delayMs = 0) {
  const query = new URLSearchParams({ api: api.url, assistant, delay: String(delayMs) });
  await page.goto(`${pages.url}/?${query}`);
}

async function send(text: string) {
  await page.getByTestId("input").fill(text);
  await page.getByTestId("send").click();
}

const lastAi = () => page.locator('[data-testid="message"][data-type="ai"]').last();
const threadId = async () => (await page.getByTestId("thread-id").textContent()) ?? "";
// evaluated in the page, where `window.__renders` is the page's record of the last AI message's text
const renders = () => page.evaluate<string[]>("window.__renders");

describe("useStream in Chromium, cross-origin", () => {
  it("is cross-origin", () => {
    expect(new URL(pages.url).origin).not.toBe(new URL(api.url).origin);
  });

  it("renders tokens as they stream", async () => {
    await open("agent", 30);
    await send(WORDS);
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe(`Echo: ${WORDS}`);
    await expect.poll(() => page.getByTestId("status").textContent()).toBe("idle");
    const seen = (await renders()).filter((text) => text !== "");
    // every token arrived on its own: the text grew through many prefixes of the reply
    expect(seen.length).toBeGreaterThanOrEqual(6);
    for (const text of seen) expect(`Echo: ${WORDS}`.startsWith(text)).toBe(true);
    expect(await page.locator('[data-testid="message"][data-type="human"]').textContent()).toBe(WORDS);
  });

  it("shows an interrupt and resumes it", async () => {
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

  it("reconnects to the running run after a reload and shows the final state", async () => {
    await open("agent", 150);
    await send(WORDS);
    await expect.poll(async () => (await lastAi().textContent())?.length ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
    const thread = await threadId();
    await page.reload();
    expect(await threadId()).toBe(thread);
    // the page rejoined the run: it is loading while the run is still going
    await expect.poll(() => page.getByTestId("status").textContent(), { timeout: 10_000 }).toBe("loading");
    await expect.poll(() => lastAi().textContent(), { timeout: 30_000 }).toBe(`Echo: ${WORDS}`);
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
    await expect.poll(async () => (await api.client.threads.get(thread)).status, { timeout: 20_000 }).toBe("idle");
    // the reply stopped short (after a stop the page shows the thread's stored state)
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
    expect(await threadId()).toBe("");
    await send("second thread");
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe("Echo: second thread");
    const second = await threadId();
    expect(second).not.toBe(first);
    expect(await page.getByTestId("message").allTextContents()).toEqual(["second thread", "Echo: second thread"]);
    const state = await api.client.threads.getState<{ messages: unknown[] }>(second);
    expect(state.values.messages).toHaveLength(2);
  });

  it("renders a generative-UI component with LoadExternalComponent", async () => {
    await open("weather");
    await send("weather in Lisbon?");
    const card = page.getByTestId("weather-card");
    await expect.poll(() => card.textContent(), { timeout: 20_000 }).toContain("21 °C");
    // the shared module comes from the page (ui_config.shared), the stylesheet from the bundle
    expect(await page.getByTestId("badge").textContent()).toBe("Lisbon");
    const style = await page.evaluate<{ color: string; padding: string }>(
      `(({ color, padding }) => ({ color, padding }))(getComputedStyle(document.querySelector("[id^=child-shadow]").shadowRoot.querySelector("[data-testid=weather-card]")))`,
    );
    // its own rule, and the Tailwind utilities (p-4) its classes use, generated into the bundle's CSS
    expect(style).toEqual({ color: "rgb(0, 128, 0)", padding: "16px" });
  });

  it("has no contract violations", () => {
    expect(api.violations).toEqual([]);
  });
});
