import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { startServer } from "../../src/server.js";
import { json, REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

/** Generative UI: the `ui` entries of langgraph.json bundled and served under /ui (the browser test renders them). */
const CONFIG = path.join(REPO_ROOT, "test/fixtures/browser/langgraph.json");

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ configPath: CONFIG });
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const askUi = (graphId: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${t.url}/ui/${graphId}`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/html", ...headers },
    body: JSON.stringify(body),
  });

/** The URLs a snippet loads, in order. */
const urlsOf = (html: string) => [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1].replaceAll("&amp;", "&"));

describe("generative UI", () => {
  it("answers the snippet LoadExternalComponent inserts: stylesheet, then the script that renders the component", async () => {
    const res = await askUi("weather", { name: "weather" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(urlsOf(html)).toEqual([`${t.url}/ui/weather/entrypoint.css`, `${t.url}/ui/weather/entrypoint.js`]);
    // the official server's exact snippet: a single-quoted onload with the JavaScript as written
    expect(html).toContain(`<script src="${t.url}/ui/weather/entrypoint.js" onload='__LGUI_weather.render("weather", "{{shadowRootId}}")'></script>`);
    // the SDK replaces the first occurrence only: the placeholder appears once
    expect(html.split("{{shadowRootId}}")).toHaveLength(2);
  });

  it("serves the bundle: React and shared packages come from the page, the CSS is extracted", async () => {
    const [scriptUrl, styleUrl] = urlsOf(await (await askUi("weather", { name: "weather" })).text()).reverse();
    const script = await fetch(scriptUrl);
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
    const code = await script.text();
    expect(code).toMatch(/^var __LGUI_weather = /m);
    expect(code).toContain('globalThis[Symbol.for("LGUI_REQUIRE")]("@fixture/badge")');
    expect(code).toContain('Symbol.for("LGUI_REQUIRE")]("react/jsx-runtime")');
    expect(code).not.toContain("react.production"); // React is not bundled
    const style = await fetch(styleUrl);
    expect(style.headers.get("content-type")).toMatch(/^text\/css/);
    expect(await style.text()).toContain(".weather-card");
  });

  it("builds asset URLs from the Host and X-Forwarded-Proto the client used", async () => {
    const html = await (await askUi("weather", { name: "weather" }, { "x-forwarded-proto": "https" })).text();
    expect(urlsOf(html)[0]).toBe(`https://${new URL(t.url).host}/ui/weather/entrypoint.css`);
  });

  it("escapes the component name and uses an explicit shadowRootId (older SDKs send one)", async () => {
    const html = await (await askUi("weather", { name: `x'"<{{shadowRootId}}>`, shadowRootId: "root-1" })).text();
    expect(html).not.toContain("{{shadowRootId}}");
    // the quote that would end the attribute is an entity; the rest stays JavaScript
    expect(html).toContain(`onload='__LGUI_weather.render("x&#39;\\"<\\u007b\\u007bshadowRootId}}>", "root-1")'`);
  });

  it("accepts the id of an assistant of the graph, as LoadExternalComponent sends stream.assistantId", async () => {
    const assistant = await t.client.assistants.create({ graphId: "weather" });
    const html = await (await askUi(assistant.assistant_id, { name: "weather" })).text();
    expect(urlsOf(html)[1]).toBe(`${t.url}/ui/weather/entrypoint.js`);
  });

  it("answers 404 for a graph without components and for an unknown file, 422 without a name", async () => {
    const none = await askUi("agent", { name: "weather" });
    expect(none.status).toBe(404);
    expect((await json(none)).detail).toBe("No UI components for 'agent'; components exist for: weather");
    const missing = await fetch(`${t.url}/ui/weather/other.js`);
    expect(missing.status).toBe(404);
    expect((await json(missing)).detail).toBe("No UI file 'other.js' for 'weather'");
    expect((await askUi("weather", {})).status).toBe(422);
  });
});

describe("generative UI styled with Tailwind CSS", () => {
  let tw: TestServer;
  beforeAll(async () => {
    tw = await startTestServer({ configPath: path.join(REPO_ROOT, "test/fixtures/ui-tailwind/langgraph.json") });
  });
  afterAll(() => tw.dispose());
  afterEach(() => expect(tw.violations.splice(0)).toEqual([]));

  it("serves the utilities the components use, generated by Tailwind as the LangGraph CLI does", async () => {
    const res = await fetch(`${tw.url}/ui/trivial/entrypoint.css`);
    expect(res.status).toBe(200);
    const css = await res.text();
    for (const utility of [".bg-emerald-500", ".rounded-xl", ".p-4", ".text-white", ".shadow-md", ".mt-2", ".text-sm"]) {
      expect(css).toContain(utility);
    }
    // `@apply` is expanded, the `@import` is resolved, and classes nobody uses are not generated
    expect(css).toMatch(/\.card-title\s*\{[^}]*font-weight/);
    expect(css).not.toContain("@import");
    expect(css).not.toContain("@apply");
    expect(css).not.toContain(".bg-red-500");
  });
});

describe("generative UI configuration", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "lgts-ui-"));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  const start = (configPath: string) => startServer({ configPath, port: 0, host: "127.0.0.1", dataDir });

  it("refuses to start when a component module does not bundle, naming the graph, file and line", async () => {
    await expect(start(path.join(REPO_ROOT, "test/fixtures/ui-broken/langgraph.json"))).rejects.toThrow(
      /Cannot bundle the UI components of .*: ui\.trivial \(\.\/broken\.tsx\): .*broken\.tsx:2:/s,
    );
  });

  it("refuses an unknown ui_config key", async () => {
    const configPath = path.join(dataDir, "langgraph.json");
    const graph = path.join(REPO_ROOT, "examples/src/trivial.ts");
    await writeFile(configPath, JSON.stringify({ graphs: { trivial: `${graph}:graph` }, ui_config: { sharde: ["x"] } }));
    await expect(start(configPath)).rejects.toThrow(/ui_config: unknown key "sharde"/);
  });
});
