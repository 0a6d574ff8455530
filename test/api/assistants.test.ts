import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { v5 as uuidv5 } from "uuid";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.dispose());
afterEach(() => expect(t.violations.splice(0)).toEqual([]));

const systemId = (graphId: string) => uuidv5(graphId, "6ba7b821-9dad-11d1-80b4-00c04fd430c8");

describe("assistants", () => {
  it("lists a system assistant per example graph, addressable by graph id", async () => {
    const system = await t.client.assistants.search({ metadata: { created_by: "system" }, limit: 100 });
    const graphIds = system.map((a) => a.graph_id).sort();
    expect(graphIds).toEqual([...t.server.services.graphs.graphIds].sort());
    const agent = await t.client.assistants.get("agent");
    expect(agent.assistant_id).toBe(systemId("agent"));
    expect(agent.graph_id).toBe("agent");
    expect(await t.client.assistants.get(systemId("agent"))).toEqual(agent);
  });

  it("creates, updates as new versions, switches the latest version and deletes", async () => {
    const created = await t.client.assistants.create({
      graphId: "agent",
      name: "helper",
      config: { configurable: { tone: "dry" } },
      metadata: { team: "a" },
      description: "first",
    });
    expect(created).toMatchObject({ graph_id: "agent", name: "helper", version: 1, metadata: { team: "a" } });

    const v2 = await t.client.assistants.update(created.assistant_id, { metadata: { owner: "b" }, name: "helper2" });
    expect(v2.version).toBe(2);
    expect(v2.name).toBe("helper2");
    expect(v2.metadata).toEqual({ team: "a", owner: "b" });
    expect(v2.config).toEqual({ configurable: { tone: "dry" } });

    const versions = await t.client.assistants.getVersions(created.assistant_id);
    expect(versions.map((v) => v.version)).toEqual([2, 1]);

    const back = await t.client.assistants.setLatest(created.assistant_id, 1);
    expect(back).toMatchObject({ version: 1, name: "helper" });
    expect((await t.client.assistants.get(created.assistant_id)).name).toBe("helper");

    await t.client.assistants.delete(created.assistant_id);
    await expect(t.client.assistants.get(created.assistant_id)).rejects.toMatchObject({ status: 404 });
  });

  it("honours if_exists and rejects unknown graphs", async () => {
    const id = crypto.randomUUID();
    await t.client.assistants.create({ graphId: "agent", assistantId: id, name: "x" });
    await expect(t.client.assistants.create({ graphId: "agent", assistantId: id })).rejects.toMatchObject({
      status: 409,
    });
    const same = await t.client.assistants.create({ graphId: "agent", assistantId: id, ifExists: "do_nothing" });
    expect(same.name).toBe("x");
    await expect(t.client.assistants.create({ graphId: "no-such-graph" })).rejects.toMatchObject({ status: 404 });
  });

  it("searches with filters, sorting, paging, select and counts", async () => {
    const tag = crypto.randomUUID();
    for (const name of ["c-one", "a-two", "b-three"]) {
      await t.client.assistants.create({ graphId: "agent", name, metadata: { tag } });
    }
    const byName = await t.client.assistants.search({ metadata: { tag }, sortBy: "name", sortOrder: "asc" });
    expect(byName.map((a) => a.name)).toEqual(["a-two", "b-three", "c-one"]);

    const page = await t.client.assistants.search({
      metadata: { tag },
      sortBy: "name",
      sortOrder: "asc",
      limit: 2,
      includePagination: true,
    });
    expect(page.assistants.map((a) => a.name)).toEqual(["a-two", "b-three"]);
    expect(page.next).toBe("2");
    const last = await t.client.assistants.search({ metadata: { tag }, sortBy: "name", sortOrder: "asc", offset: 2 });
    expect(last.map((a) => a.name)).toEqual(["c-one"]);

    const picked = await t.client.assistants.search({ metadata: { tag }, select: ["name"], limit: 1 });
    expect(Object.keys(picked[0])).toEqual(["name"]);

    expect(await t.client.assistants.count({ metadata: { tag } })).toBe(3);
    expect(await t.client.assistants.count({ metadata: { tag }, name: "TWO" })).toBe(1);
    expect(await t.client.assistants.count({ metadata: { tag }, graphId: "interrupt" })).toBe(0);
  });

  it("deletes the assistant's threads when asked", async () => {
    const assistant = await t.client.assistants.create({ graphId: "agent" });
    const thread = await t.client.threads.create({ metadata: { assistant_id: assistant.assistant_id } });
    const other = await t.client.threads.create({ metadata: { assistant_id: "someone-else" } });
    await t.client.assistants.delete(assistant.assistant_id, { deleteThreads: true });
    await expect(t.client.threads.get(thread.thread_id)).rejects.toMatchObject({ status: 404 });
    expect((await t.client.threads.get(other.thread_id)).thread_id).toBe(other.thread_id);
  });

  it("answers a missing assistant with 404 JSON", async () => {
    await expect(t.client.assistants.get(crypto.randomUUID())).rejects.toMatchObject({ status: 404 });
    await expect(t.client.assistants.setLatest("agent", 99)).rejects.toMatchObject({ status: 404 });
  });
});
