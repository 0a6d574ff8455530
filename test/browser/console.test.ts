import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { bundleConsole } from "../../src/console/bundle.js";
import { ensureChromium, launchChromium } from "../support/browser.js";
import { UNQUEUED } from "../support/sdk.js";
import { REPO_ROOT, SCHEMA_DERIVING_TIMEOUT_MS, startTestServer, type TestServer } from "../support/server.js";

/**
 * The web console in real Chromium, a whole session as a user with a bearer token: pick a graph
 * and run it, watch its tokens stream, answer an interrupt, travel back to a checkpoint and fork
 * it with an edited state, run a thread live (useStream), browse and edit the store, create and delete a cron; another user's
 * data stays out of sight. The server has an Auth and a `mount_prefix`.
 *
 * The live view runs on the thread-centric protocol through `useStream` of `@langchain/react`.
 *
 * Screenshots of every view go to test/output/console/ (ignored by git), with metrics.json: the
 * bundle's size and the time to first paint.
 */
const CONFIG = path.join(REPO_ROOT, "test/fixtures/console/langgraph.json");
const SCREENSHOTS = path.join(REPO_ROOT, "test/output/console");
const PREFIX = "/lgts";
const WORDS = "one two three four five six seven eight nine ten eleven twelve";

let api: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let alice: Client;
let bob: Client;
const consoleUrl = (path = "") => `${api.url}${PREFIX}/console/${path}`;
const asUser = (token: string) =>
  new Client({ apiUrl: api.url + PREFIX, defaultHeaders: { Authorization: `Bearer ${token}` }, callerOptions: UNQUEUED });

async function screenshot(name: string) {
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

const panel = (title: string | RegExp) => page.getByRole("region", { name: title });
/**
 * Watches a text on the page until it reads `final`, and expects to have seen it grow token by
 * token: several prefixes of it on screen, nothing else.
 */
async function expectTokensToArrive(text: Locator, final: string) {
  const seen = new Set<string>();
  const read = async () => {
    const shown = (await text.textContent({ timeout: 100 }).catch(() => null)) ?? "";
    if (shown) seen.add(shown);
    return shown;
  };
  await expect.poll(read, { timeout: 30_000, interval: 20 }).toBe(final);
  expect(seen.size).toBeGreaterThanOrEqual(4);
  for (const shown of seen) expect(final.startsWith(shown)).toBe(true);
}

/** The ids of the nodes in the graph drawing (each node's tooltip). */
const drawnNodes = () => page.locator("svg [data-node] > title").allTextContents();

beforeAll(async () => {
  ensureChromium();
  await mkdir(SCREENSHOTS, { recursive: true });
  [api, browser] = await Promise.all([startTestServer({ configPath: CONFIG }), launchChromium()]);
  alice = asUser("alice");
  bob = asUser("bob");
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // what waits for the graphs' schemas waits as long as deriving them may take on a loaded machine
  context.setDefaultTimeout(SCHEMA_DERIVING_TIMEOUT_MS / 2);
  page = await context.newPage();
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await api?.dispose();
});

describe("the web console, a whole session in Chromium", { timeout: 240_000 }, () => {
  it("serves the page without credentials and asks for a token before showing data", async () => {
    const started = Date.now();
    const response = await page.goto(consoleUrl());
    expect(response?.status()).toBe(200);
    await expect.poll(() => page.getByRole("alert").first().textContent(), { timeout: 30_000 }).toContain("401: Enter a valid bearer token");
    const firstPaint = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null);
    // what the first page load fetched of the console's code (gzipped on the wire), and the whole bundle
    const loaded = await page.evaluate(() =>
      (performance.getEntriesByType("resource") as unknown as Array<{ name: string; encodedBodySize: number; decodedBodySize: number }>)
        .filter((entry) => entry.name.includes("/console/assets/"))
        .map((entry) => ({ transferred: entry.encodedBodySize, size: entry.decodedBodySize })),
    );
    expect(loaded.length).toBeGreaterThanOrEqual(2);
    const bundle = await bundleConsole();
    const assets = [...bundle.assets.values()];
    const metrics = {
      firstLoadBytes: loaded.reduce((sum, entry) => sum + entry.size, 0),
      firstLoadGzipBytes: loaded.reduce((sum, entry) => sum + entry.transferred, 0),
      wholeBundleBytes: assets.reduce((sum, asset) => sum + asset.contents.byteLength, 0),
      wholeBundleGzipBytes: assets.reduce((sum, asset) => sum + asset.gzipped.byteLength, 0),
      firstContentfulPaintMs: firstPaint,
      firstLoadIncludingBuildMs: Date.now() - started,
    };
    // the page is sent gzipped
    expect(metrics.firstLoadGzipBytes).toBeLessThan(metrics.firstLoadBytes / 2);
    console.log("console metrics", metrics);
    await writeFile(path.join(SCREENSHOTS, "metrics.json"), JSON.stringify(metrics, null, 2));
    await screenshot("01-token");
    // from the keyboard: the first Tab reaches the skip link, the next ones the sections
    await page.keyboard.press("Tab");
    expect(await page.evaluate<string>("document.activeElement?.textContent")).toBe("Skip to content");
    await page.keyboard.press("Tab");
    expect(await page.evaluate<string>("document.activeElement?.textContent")).toBe("Graphs 1");
  });

  it("shows the graphs once a token is entered, and an assistant's graph, schemas and settings", async () => {
    await page.getByTestId("token").fill("alice");
    await page.getByTestId("save-token").click();
    const graphs = panel("Graphs and assistants");
    await expect
      .poll(() => graphs.getByRole("link").allTextContents(), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(["agent", "interrupt", "subgraph"]));
    await screenshot("02-graphs");

    // the subgraph's nodes are drawn with xray, as `<subgraph>:<node>`
    await graphs.getByRole("link", { name: "subgraph", exact: true }).click();
    await expect
      .poll(() => drawnNodes(), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(["__start__", "prepare", "child:child_step_1", "child:child_step_2", "finish", "__end__"]));
    await page.getByLabel("subgraphs (xray)").uncheck();
    await expect.poll(() => drawnNodes()).toEqual(expect.arrayContaining(["prepare", "child", "finish"]));
    await page.getByLabel("subgraphs (xray)").check();
    await screenshot("03-assistant-subgraph");

    // a setting edited in the form generated from the config schema makes a new version
    await page.goBack();
    await graphs.getByRole("link", { name: "agent", exact: true }).click();
    const settings = panel("Settings");
    await settings.locator('input[id="config.token_delay_ms"]').fill("60");
    await settings.getByRole("button", { name: "Save as a new version" }).click();
    await expect.poll(async () => (await alice.assistants.get("agent")).config.configurable?.token_delay_ms, { timeout: 20_000 }).toBe(60);
    await expect.poll(() => panel("Versions").locator("li strong").allTextContents()).toEqual(["v2", "v1"]);
    await screenshot("04-assistant-agent");
  });

  it("checks the input against the graph's schema, runs it and streams its tokens live", async () => {
    const launcher = panel("Run it on a new thread");
    const input = launcher.getByTestId("run-input");
    // the form comes with the schemas (deriving them from the graph's types takes seconds of CPU on a loaded machine)
    await expect.poll(() => input.inputValue().catch(() => ""), { timeout: SCHEMA_DERIVING_TIMEOUT_MS }).toContain('"messages"');
    await input.fill('{"messages": 5}');
    await expect
      .poll(() => launcher.locator(".problem").allTextContents())
      .toEqual([expect.stringMatching(/^input\.messages: matches none of the \d+ allowed shapes$/)]);
    expect(await launcher.getByTestId("start-run").isDisabled()).toBe(true);
    await input.fill(JSON.stringify({ messages: [{ role: "user", content: WORDS }] }));
    await launcher.getByTestId("start-run").click();

    await page.waitForURL(/\/lgts\/console\/threads\/[^/]+\/runs\/[^/]+$/, { timeout: 20_000 });
    await expectTokensToArrive(page.getByTestId("token-text").first(), `Echo: ${WORDS}`);
    await expect.poll(() => page.getByTestId("run-status").textContent(), { timeout: 20_000 }).toBe("success");
    expect(await page.getByTestId("events").locator("code").allTextContents()).toEqual(
      expect.arrayContaining(["metadata", "values", "updates", "messages"]),
    );
    await screenshot("05-run-streamed");

    // the run's URL is a link to share: opened afresh, it replays the run
    const shared = await context.newPage();
    await shared.goto(page.url());
    await expect.poll(() => shared.getByTestId("token-text").first().textContent(), { timeout: 20_000 }).toBe(`Echo: ${WORDS}`);
    await expect.poll(() => shared.getByTestId("run-status").textContent()).toBe("success");
    await shared.close();

    // a run cancelled from its page while it streams
    await page
      .getByRole("link", { name: /^[0-9a-f-]{36}$/ })
      .nth(1)
      .click(); // its assistant
    const again = panel("Run it on a new thread");
    await again.getByTestId("run-input").fill(JSON.stringify({ messages: [{ role: "user", content: WORDS }] }));
    await again.getByTestId("run-config").fill('{"token_delay_ms": 300}');
    await again.getByTestId("start-run").click();
    await page.waitForURL(/\/runs\//);
    await expect
      .poll(
        async () =>
          (
            (await page
              .getByTestId("token-text")
              .first()
              .textContent({ timeout: 100 })
              .catch(() => null)) ?? ""
          ).length,
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
    const [threadId, runId] = new URL(page.url()).pathname.split("/threads/")[1].split("/runs/");
    await page.getByTestId("cancel-run").click();
    await expect.poll(async () => (await alice.runs.get(threadId, runId)).status, { timeout: 20_000 }).toBe("interrupted");
    await expect.poll(() => page.getByTestId("run-status").textContent(), { timeout: 20_000 }).toBe("interrupted");
    expect(await page.getByTestId("token-text").first().textContent()).not.toBe(`Echo: ${WORDS}`);

    // an older version made the latest again
    await page
      .getByRole("link", { name: /^[0-9a-f-]{36}$/ })
      .nth(1)
      .click();
    await panel("Versions").getByRole("button", { name: "Make latest" }).click();
    await expect.poll(async () => (await alice.assistants.get("agent")).version, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => panel("Versions").locator("li .muted").first().textContent()).toBe("(latest)");
  });

  it("shows a run's custom events and its subgraph's events, by namespace", async () => {
    const runFromPage = async (graph: string, input: unknown) => {
      await page.keyboard.press("1");
      await panel("Graphs and assistants").getByRole("link", { name: graph, exact: true }).click();
      await panel("Run it on a new thread").getByTestId("run-input").fill(JSON.stringify(input));
      await panel("Run it on a new thread").getByTestId("start-run").click();
      await page.waitForURL(/\/runs\//, { timeout: 20_000 });
      await expect.poll(() => page.getByTestId("run-status").textContent(), { timeout: 30_000 }).toBe("success");
      return page.getByTestId("events").locator("code").allTextContents();
    };
    expect((await runFromPage("custom", { count: 2 })).filter((name) => name === "custom")).toHaveLength(3);
    const events = await runFromPage("subgraph", { text: " hi " });
    expect(events).toContainEqual(expect.stringMatching(/^updates\|child:/));
    await screenshot("05b-run-subgraph");
  });

  it("answers an interrupt, travels back to a checkpoint and forks it with an edited state", async () => {
    await page.keyboard.press("1"); // the graphs, from the keyboard
    await panel("Graphs and assistants").getByRole("link", { name: "interrupt", exact: true }).click();
    await panel("Run it on a new thread").getByTestId("run-input").fill('{"topic": "cats"}');
    await panel("Run it on a new thread").getByTestId("start-run").click();
    await page.waitForURL(/\/runs\//, { timeout: 20_000 });
    const waiting = panel("Interrupted: waiting for an answer");
    await expect.poll(() => waiting.locator("pre").first().textContent(), { timeout: 30_000 }).toContain("Approve the draft?");
    await screenshot("06-interrupt");
    const threadId = page.url().split("/threads/")[1].split("/")[0];
    await waiting.getByTestId("resume-value").fill('"approved"');
    const interruptedRun = page.url();
    await waiting.getByTestId("resume").click();
    // the answer is a new run, on a page of its own
    await page.waitForURL((url) => url.href !== interruptedRun && url.pathname.includes("/runs/"), { timeout: 20_000 });
    await expect.poll(() => page.getByTestId("run-status").textContent(), { timeout: 30_000 }).toBe("success");
    expect((await alice.threads.getState(threadId)).values).toMatchObject({ result: "Draft about cats (approved)" });

    // the thread, its timeline, the checkpoint before the question: fork it with another draft
    await page.getByRole("link", { name: threadId }).click();
    const timeline = page.getByTestId("timeline");
    await expect.poll(() => timeline.getByRole("link").allTextContents(), { timeout: 20_000 }).toContain("step 1 · loop → ask_human");
    await screenshot("07-thread");
    await timeline.getByRole("link", { name: "step 1 · loop → ask_human" }).click();
    await page.waitForURL(/\/checkpoints\//);
    const values = page.getByTestId("fork-values");
    await expect.poll(() => values.inputValue(), { timeout: 20_000 }).toContain("Draft about cats");
    await values.fill((await values.inputValue()).replace("Draft about cats", "Draft about dogs"));
    await screenshot("08-checkpoint-fork");
    await page.getByTestId("fork-and-run").click();
    await page.waitForURL(/\/runs\//, { timeout: 20_000 });
    // the forked run asks again, about the edited draft
    const again = panel("Interrupted: waiting for an answer");
    await expect.poll(() => again.locator("pre").first().textContent(), { timeout: 30_000 }).toContain("Draft about dogs");
    await again.getByTestId("resume").click();
    await expect
      .poll(async () => (await alice.threads.getState(threadId)).values, { timeout: 30_000 })
      .toMatchObject({
        result: "Draft about dogs (approved)",
      });
    // the original branch is still in the history
    const history = await alice.threads.getHistory(threadId, { limit: 50 });
    expect(history.map((state) => (state.values as { result?: string }).result)).toContain("Draft about cats (approved)");
  });

  it("runs a thread live through useStream (@langchain/react): tokens, an interrupt answered, a run stopped", async () => {
    const openLive = async (graph: string) => {
      await page.keyboard.press("1");
      await panel("Graphs and assistants").getByRole("link", { name: graph, exact: true }).click();
      await page.getByTestId("open-live").click();
      await page.waitForURL(/\/threads\/[^/]+\/live\/[^/]+$/, { timeout: 20_000 });
      await expect.poll(() => page.getByTestId("live-status").textContent(), { timeout: 20_000 }).toBe("idle");
      return page.url().split("/threads/")[1].split("/")[0];
    };
    const lastAi = () => page.getByTestId("live-messages").locator('li[data-type="ai"] p').last();

    // tokens, one by one
    const chat = await openLive("agent");
    await page.getByTestId("live-input").fill(JSON.stringify({ messages: [{ role: "user", content: WORDS }] }));
    await page.getByTestId("live-config").fill('{"token_delay_ms": 60}');
    await page.getByTestId("live-submit").click();
    await expectTokensToArrive(lastAi(), `Echo: ${WORDS}`);
    await expect.poll(() => page.getByTestId("live-status").textContent(), { timeout: 20_000 }).toBe("idle");
    expect(await page.getByTestId("live-events").locator("code").allTextContents()).toContain("updates");
    await screenshot("09-live-tokens");
    const stored = (await alice.threads.getState(chat)).values as { messages: Array<{ content: unknown }> };
    expect(JSON.stringify(stored.messages.at(-1)?.content)).toContain(`Echo: ${WORDS}`);

    // an interrupt, answered
    const approval = await openLive("interrupt");
    await page.getByTestId("live-input").fill('{"topic": "birds"}');
    await page.getByTestId("live-submit").click();
    const waiting = panel("Interrupted: waiting for an answer");
    await expect.poll(() => waiting.locator("pre").first().textContent(), { timeout: 30_000 }).toContain("Draft about birds");
    expect(await page.getByTestId("live-status").textContent()).toBe("interrupted");
    await screenshot("10-live-interrupt");
    await page.getByTestId("live-answer").fill('"approved"');
    await page.getByTestId("live-respond").click();
    await expect
      .poll(async () => (await alice.threads.getState(approval)).values, { timeout: 30_000 })
      .toMatchObject({
        result: "Draft about birds (approved)",
      });
    await expect.poll(() => waiting.count()).toBe(0);

    // an existing thread opened live from its page shows what it holds
    await page.goto(consoleUrl(`threads/${chat}`));
    await page.getByRole("link", { name: "Open this thread live" }).click();
    await expect.poll(() => lastAi().textContent(), { timeout: 20_000 }).toBe(`Echo: ${WORDS}`);

    // a run stopped while it streams
    const stopped = await openLive("agent");
    await page.getByTestId("live-input").fill(JSON.stringify({ messages: [{ role: "user", content: WORDS }] }));
    await page.getByTestId("live-config").fill('{"token_delay_ms": 300}');
    await page.getByTestId("live-submit").click();
    await expect
      .poll(
        async () =>
          (
            (await lastAi()
              .textContent({ timeout: 100 })
              .catch(() => null)) ?? ""
          ).length,
        { timeout: 20_000 },
      )
      .toBeGreaterThan(0);
    await page.getByTestId("live-stop").click();
    await expect.poll(async () => (await alice.runs.list(stopped))[0]?.status, { timeout: 20_000 }).toBe("interrupted");
    expect(await lastAi().textContent()).not.toBe(`Echo: ${WORDS}`);
  });

  it("lists only the user's own threads, and another user's thread looks missing", async () => {
    const bobs = await bob.threads.create();
    const alices = await alice.threads.search({ limit: 100 });
    await page.keyboard.press("2");
    const table = page.getByTestId("threads");
    await expect
      .poll(async () => (await table.getByRole("link").allTextContents()).sort(), { timeout: 20_000 })
      .toEqual(alices.map((t) => t.thread_id).sort());
    await page.getByTestId("thread-status-filter").selectOption("idle");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(async () => (await table.getByRole("link").allTextContents()).length).toBe(alices.filter((t) => t.status === "idle").length);
    // by metadata
    const interruptThreads = await alice.threads.search({ metadata: { graph_id: "interrupt" } });
    expect(interruptThreads.length).toBeGreaterThan(0);
    await page.getByTestId("thread-status-filter").selectOption("");
    await page.getByLabel("Metadata (JSON, matched exactly)").fill('{"graph_id": "interrupt"}');
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(async () => (await table.getByRole("link").allTextContents()).sort()).toEqual(interruptThreads.map((t) => t.thread_id).sort());
    await screenshot("11-threads");

    // copied, then the copy deleted
    const original = interruptThreads[0].thread_id;
    await table.getByRole("link", { name: original }).click();
    await page.getByRole("button", { name: "Copy" }).click();
    await page.waitForURL((url) => url.pathname.includes("/threads/") && !url.pathname.includes(original));
    const copy = new URL(page.url()).pathname.split("/threads/")[1];
    expect((await alice.threads.getState(copy)).values).toEqual((await alice.threads.getState(original)).values);
    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Really delete?" }).click();
    await page.waitForURL(/\/console\/threads$/);
    await expect(alice.threads.get(copy)).rejects.toThrow(/404/);
    expect((await alice.threads.get(original)).thread_id).toBe(original);
    await page.goto(consoleUrl(`threads/${bobs.thread_id}`));
    await expect.poll(() => page.getByRole("alert").first().textContent(), { timeout: 20_000 }).toMatch(/^404: /);
  });

  it("browses the store as a tree, searches, edits and deletes items", async () => {
    await alice.store.putItem(["notes"], "first", { text: "alice's first note" });
    await bob.store.putItem(["notes"], "secret", { text: "bob's note" });
    await page.goto(consoleUrl("store"));
    const tree = page.getByTestId("namespaces");
    await tree.getByRole("button", { name: "notes" }).click({ timeout: 20_000 });
    const items = page.getByTestId("items");
    await expect.poll(() => items.locator("summary code").allTextContents(), { timeout: 20_000 }).toEqual(["alice / notes / first"]);
    await page.getByTestId("item-namespace").fill("alice/notes");
    await page.getByTestId("item-key").fill("second");
    await page.getByTestId("item-value").fill('{"text": "written in the console"}');
    await page.getByTestId("put-item").click();
    await expect
      .poll(() => items.locator("summary code").allTextContents(), { timeout: 20_000 })
      .toEqual(expect.arrayContaining(["alice / notes / first", "alice / notes / second"]));
    expect((await alice.store.getItem(["alice", "notes"], "second"))?.value).toEqual({ text: "written in the console" });
    await screenshot("12-store");
    const first = items.locator("li").filter({ hasText: "alice / notes / first" });
    await first.locator("summary").click();
    await first.getByRole("button", { name: "Delete" }).click();
    await first.getByRole("button", { name: "Really delete?" }).click();
    await expect.poll(() => items.locator("summary code").allTextContents(), { timeout: 20_000 }).toEqual(["alice / notes / second"]);
    expect(await alice.store.getItem(["alice", "notes"], "first")).toBeNull();

    // semantic search (the store has an index): the closest item first, with its score
    await alice.store.putItem(["recipes"], "lunch", { text: "pasta with pizza on the side" });
    await alice.store.putItem(["recipes"], "pets", { text: "what cats and dogs eat" });
    await page.getByTestId("store-query").fill("pasta and pizza");
    await page.getByRole("button", { name: "Search" }).click();
    await tree.getByRole("button", { name: "recipes" }).click();
    await expect
      .poll(() => items.locator("summary code").allTextContents(), { timeout: 20_000 })
      .toEqual(["alice / recipes / lunch", "alice / recipes / pets"]);
    expect(await items.locator("summary .score").first().textContent()).toMatch(/^score \d\.\d{3}$/);
    expect((await bob.store.getItem(["bob", "notes"], "secret"))?.value).toMatchObject({ text: "bob's note" });
  });

  it("creates a cron, shows its next run, and deletes it; another user's crons stay hidden", async () => {
    const bobsCron = await bob.crons.create("agent", { schedule: "0 0 * * *", input: {} });
    await page.keyboard.press("4");
    await page.getByTestId("cron-assistant").selectOption({ label: "agent (agent)" });
    await page.getByTestId("cron-schedule").fill("30 6 * * *");
    await page.getByTestId("create-cron").click();
    const table = page.getByTestId("crons");
    await expect.poll(() => table.locator("tbody tr").count(), { timeout: 20_000 }).toBe(1);
    const [mine] = await alice.crons.search({});
    expect(mine?.schedule).toBe("30 6 * * *");
    expect(await table.locator(`[data-cron="${bobsCron.cron_id}"]`).count()).toBe(0);
    expect(await table.locator("time").first().getAttribute("datetime")).toBe((mine as { next_run_date?: string }).next_run_date);
    await screenshot("13-crons");
    await table.getByRole("button", { name: "Delete" }).click();
    await table.getByRole("button", { name: "Really delete?" }).click();
    await expect.poll(async () => (await alice.crons.search({})).length, { timeout: 20_000 }).toBe(0);
    await expect.poll(() => table.locator("tbody tr").count()).toBe(0);
    expect(await bob.crons.search({})).toHaveLength(1);
  });

  it("shows the server's information and the latest errors", async () => {
    const failed = await alice.threads.create();
    await alice.runs.wait(failed.thread_id, "failing", { input: { messages: [] } }).catch(() => undefined);
    await expect.poll(async () => (await alice.threads.get(failed.thread_id)).status, { timeout: 20_000 }).toBe("error");
    await page.keyboard.press("5");
    await expect.poll(() => page.getByTestId("storage").textContent(), { timeout: 20_000 }).toBe(api.server.services.storage.backend);
    const errors = page.getByTestId("recent-errors");
    await expect.poll(() => errors.getByRole("link").allTextContents(), { timeout: 20_000 }).toEqual([failed.thread_id]);
    expect(await errors.locator("pre").textContent()).toContain("The failing graph failed on purpose");
    await screenshot("14-server");
    // the thread's runs say which failed, why, and how many executions it took
    await errors.getByRole("link").click();
    const runRow = page.getByTestId("runs").locator("tbody tr").first();
    await expect
      .poll(() => runRow.locator("td").allTextContents(), { timeout: 20_000 })
      .toEqual([
        expect.any(String),
        "error",
        expect.any(String),
        expect.any(String),
        expect.stringMatching(/ s$/),
        "1",
        expect.stringContaining("The failing graph failed on purpose"),
      ]);
  });

  it("shows another user their own data after the token changes", async () => {
    await page.getByTestId("token").fill("bob");
    await page.getByTestId("save-token").click();
    await page.keyboard.press("2");
    const bobsThreads = (await bob.threads.search({})).map((t) => t.thread_id);
    await expect
      .poll(async () => (await page.getByTestId("threads").getByRole("link").allTextContents()).sort(), { timeout: 20_000 })
      .toEqual(bobsThreads.sort());
    expect(api.violations).toEqual([]);
  });
});
