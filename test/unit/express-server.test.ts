import type { AddressInfo } from "node:net";
import { IncomingMessage, ServerResponse, type Server } from "node:http";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";
import { expressServer } from "../../src/http/express-server.js";

describe("expressServer", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it("creates requests and responses with the app's prototypes, which Express then leaves as they are", async () => {
    const app = express();
    app.use(express.json());
    app.post("/echo", (req, res) => {
      res
        .status(201)
        .set("x-seen", String(req.get("x-sent")))
        .json({ body: req.body, path: req.path });
    });
    server = expressServer(app);
    const born: [object | null, object | null][] = [];
    // ahead of the app: what Node created, before Express's app.handle touches it
    server.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
      born.push([Object.getPrototypeOf(req) as object | null, Object.getPrototypeOf(res) as object | null]);
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${url}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-sent": `n${i}` },
        body: JSON.stringify({ i }),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get("x-seen")).toBe(`n${i}`);
      expect(await response.json()).toEqual({ body: { i }, path: "/echo" });
    }
    expect(born).toHaveLength(3);
    for (const [request, response] of born) {
      expect(request).toBe(app.request);
      expect(response).toBe(app.response);
    }
    const missing = await fetch(`${url}/nothing`);
    expect(missing.status).toBe(404);
  });

  it("builds them as Node does: instances of IncomingMessage and ServerResponse", async () => {
    const app = express();
    let seen: unknown[] = [];
    app.get("/", (req, res) => {
      seen = [req instanceof IncomingMessage, res instanceof ServerResponse, req.socket === res.socket, req.httpVersion];
      res.send("ok");
    });
    server = expressServer(app);
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    expect(await response.text()).toBe("ok");
    expect(seen).toEqual([true, true, true, "1.1"]);
  });
});
