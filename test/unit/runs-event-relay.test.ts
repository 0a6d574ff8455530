import { setImmediate as nextTurn } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { RunEventBroker } from "../../src/runtime/runs/broker.js";
import { RunEventRelay } from "../../src/runtime/runs/event-relay.js";

/** Records what reaches the broker, and when (`at`: the turn it was published in). */
function recordingBroker() {
  const published: Array<{ data: unknown; at: number }> = [];
  let turn = 0;
  const broker = { publish: (_runId: string, event: { data: unknown }) => published.push({ data: event.data, at: turn }) };
  return { broker: broker as unknown as RunEventBroker, published, nextTurn: async () => (await nextTurn(), turn++) };
}

const event = (data: number) => ({ mode: "custom", ns: [], data });

describe("RunEventRelay", () => {
  it("publishes the events of one event-loop turn together at its end, in order", async () => {
    const { broker, published, nextTurn } = recordingBroker();
    const relay = new RunEventRelay(broker, "run");
    relay.send(event(1));
    relay.send(event(2));
    expect(published).toEqual([]);
    await nextTurn();
    relay.send(event(3));
    await nextTurn();
    expect(published).toEqual([
      { data: 1, at: 0 },
      { data: 2, at: 0 },
      { data: 3, at: 1 },
    ]);
  });

  it("once holding, keeps every event (later ones too) until flushed", async () => {
    const { broker, published, nextTurn } = recordingBroker();
    const relay = new RunEventRelay(broker, "run");
    relay.send(event(1));
    relay.hold();
    relay.send(event(2));
    await nextTurn();
    await nextTurn();
    expect(published).toEqual([]);
    relay.flush();
    expect(published.map((p) => p.data)).toEqual([1, 2]);
    relay.flush();
    expect(published).toHaveLength(2);
  });

  it("does not wait for the end of a turn once many events wait (a graph writing thousands at once)", async () => {
    const { broker, published } = recordingBroker();
    const relay = new RunEventRelay(broker, "run");
    for (let i = 0; i < 200; i++) relay.send(event(i));
    expect(published.length).toBeGreaterThanOrEqual(128);
    expect(published.map((p) => p.data)).toEqual(Array.from({ length: published.length }, (_, i) => i));
    relay.hold();
    relay.flush();
    expect(published).toHaveLength(200);
  });
});
