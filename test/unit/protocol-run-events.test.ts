import { describe, expect, it } from "vitest";
import type { RunEvent } from "../../src/runtime/runs/broker.js";
import { RunProtocolEvents } from "../../src/runtime/protocol/run-events.js";
import { protocolSeqBase } from "../../src/runtime/protocol/sequence.js";

const BASE = protocolSeqBase(1_800_000_000_000);
let id = 0;
const event = (mode: string, ns: string[], data: unknown): RunEvent => ({ id: String(++id), mode, ns, data });
const stored = (seq: number, mode: string, ns: string[], data: unknown) => event(mode, ns, { seq, timestamp: 1, data });
const lifecycle = (events: ReturnType<RunProtocolEvents["event"]>) =>
  events.map((e) => [e.seq, e.params.namespace, (e.params.data as { event: string }).event]);

describe("a protocol run's events, framed", () => {
  it("numbers the root's lifecycle around the stored events, and ends the subgraphs a failure stopped inside", () => {
    const run = new RunProtocolEvents("run-1");
    const framed = [
      ...run.event(event("metadata", [], { run_id: "run-1", attempt: 1, seq_base: BASE })),
      ...run.event(stored(BASE + 1, "lifecycle", ["child:t1"], { event: "started", graph_name: "child" })),
      ...run.event(stored(BASE + 2, "values", ["child:t1"], { x: 1 })),
      ...run.event(event("error", [], { error: "ValueError", message: "boom" })),
      ...run.end({ status: "error", values: null, error: { error: "ValueError", message: "boom" } }),
    ];
    expect(lifecycle(framed.filter((e) => e.method === "lifecycle"))).toEqual([
      [BASE, [], "running"],
      [BASE + 1, ["child:t1"], "started"],
      [BASE + 3, ["child:t1"], "failed"],
      [BASE + 4, [], "failed"],
    ]);
    expect(framed.map((e) => e.event_id)).toEqual(framed.map((e) => String(e.seq)));
    expect(framed.at(-1)?.params.data).toMatchObject({ error: "boom" });
  });

  it("ends a run waiting at an interrupt as interrupted, and a legacy run's events as nothing", () => {
    const run = new RunProtocolEvents("run-2");
    run.event(event("metadata", [], { run_id: "run-2", attempt: 1, seq_base: BASE }));
    const end = run.end({ status: "success", values: { __interrupt__: [{ id: "i", value: 1 }] }, error: null });
    expect(lifecycle(end)).toEqual([[BASE + 1, [], "interrupted"]]);
    const legacy = new RunProtocolEvents("run-3");
    expect(legacy.event(event("metadata", [], { run_id: "run-3", attempt: 1 }))).toEqual([]);
    expect(legacy.event(event("values", [], { x: 1 }))).toEqual([]);
    expect(legacy.end({ status: "success", values: {}, error: null })).toEqual([]);
  });

  it("numbers a retried attempt after the first (a later seq_base)", () => {
    const run = new RunProtocolEvents("run-4");
    run.event(event("metadata", [], { run_id: "run-4", attempt: 1, seq_base: BASE }));
    run.event(stored(BASE + 1, "values", [], { x: 1 }));
    const retry = run.event(event("metadata", [], { run_id: "run-4", attempt: 2, seq_base: BASE + 5000 }));
    expect(retry[0].seq).toBe(BASE + 5000);
    expect(lifecycle(run.end({ status: "success", values: {}, error: null }))).toEqual([[BASE + 5001, [], "completed"]]);
  });
});
