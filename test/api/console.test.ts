import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { REPO_ROOT, startTestServer, type TestServer } from "../support/server.js";

/**
 * How `/console` is served: the page at every console route (with the mount prefix in its URLs),
 * its assets by content-hashed names, public while the API behind it asks for credentials, and
 * gone with `--no-console`. The session itself is driven in Chromium (test/browser/console.test.ts).
 */
const WITH_AUTH_AND_PREFIX = path.join(REPO_ROOT, "test/fixtures/console/langgraph.json");

let server: TestServer;
let withoutConsole: TestServer;

beforeAll(async () => {
  [server, withoutConsole] = await Promise.all([startTestServer({ configPath: WITH_AUTH_AND_PREFIX }), startTestServer({ console: false })]);
}, 120_000);
afterAll(async () => {
  await Promise.all([server?.dispose(), withoutConsole?.dispose()]);
});

const assetPaths = (html: string) => [...html.matchAll(/(?:href|src)="([^"]+)"/g)].map((match) => match[1]);

describe("/console", () => {
  it("serves the page at every console route, without credentials, under the mount prefix", async () => {
    for (const route of ["/lgts/console", "/lgts/console/", "/lgts/console/threads/some-thread/runs/some-run"]) {
      const response = await fetch(server.url + route);
      expect(response.status, route).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(response.headers.get("content-security-policy")).toContain("connect-src 'self'");
      const html = await response.text();
      expect(html).toContain('data-console-base="/lgts/console/"');
      expect(assetPaths(html)).toEqual([
        expect.stringMatching(/^\/lgts\/console\/assets\/console-[A-Z0-9]+\.css$/),
        expect.stringMatching(/^\/lgts\/console\/assets\/console-[A-Z0-9]+\.js$/),
      ]);
    }
    // the data is not public: the API asks for a token
    expect(
      (await fetch(`${server.url}/lgts/threads/search`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } })).status,
    ).toBe(401);
    // outside the prefix there is nothing
    expect((await fetch(`${server.url}/console/`)).status).toBe(404);
  }, 60_000);

  it("serves the assets by name, cached for good, gzipped when the browser accepts it", async () => {
    const html = await (await fetch(`${server.url}/lgts/console/`)).text();
    for (const asset of assetPaths(html)) {
      const plain = await fetch(server.url + asset, { headers: { "accept-encoding": "identity" } });
      expect(plain.status).toBe(200);
      expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(plain.headers.get("content-encoding")).toBeNull();
      const body = await plain.arrayBuffer();
      const gzipped = await fetch(server.url + asset, { headers: { "accept-encoding": "gzip, br" } });
      expect(gzipped.headers.get("content-encoding")).toBe("gzip");
      expect(Number(gzipped.headers.get("content-length"))).toBeLessThan(body.byteLength);
      expect((await gzipped.arrayBuffer()).byteLength).toBe(body.byteLength); // fetch decodes it
    }
    const missing = await fetch(`${server.url}/lgts/console/assets/console-000000000000.js`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ detail: "No console asset 'console-000000000000.js'" });
  }, 60_000);

  it("answers only reads: other methods are unknown routes, behind authentication", async () => {
    const response = await fetch(`${server.url}/lgts/console/`, { method: "POST" });
    expect(response.status).toBe(401);
  });

  it("is gone with --no-console", async () => {
    const response = await fetch(`${withoutConsole.url}/console/`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ detail: "No route for GET /console/" });
    expect((await fetch(`${withoutConsole.url}/ok`)).status).toBe(200);
  });
});
