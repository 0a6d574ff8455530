import { Command } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { normalizeBatchItem } from "../../src/runtime/runs/batch.js";
import { buildGraphCall, graphStreamModes } from "../../src/runtime/runs/graph-call.js";
import { parseRunRequest } from "../../src/runtime/runs/request.js";
import type { Assistant, Run } from "../../src/storage/types.js";

const assistant: Assistant = {
  assistant_id: "asst",
  graph_id: "g",
  config: { configurable: { a: 1, shared: "assistant" }, tags: ["x"], recursion_limit: 5, max_concurrency: 2 },
  context: { c1: 1, shared: "assistant" },
  metadata: {},
  name: "g",
  description: null,
  version: 1,
  created_at: "2020-01-01T00:00:00.000Z",
  updated_at: "2020-01-01T00:00:00.000Z",
};

function runOf(body: Parameters<typeof parseRunRequest>[0], stateless = false): Run {
  const parsed = parseRunRequest(body, { stateless });
  return {
    run_id: "run",
    thread_id: "thread",
    assistant_id: "asst",
    created_at: "",
    updated_at: "",
    status: "pending",
    metadata: parsed.metadata,
    kwargs: parsed.kwargs,
    multitask_strategy: parsed.multitaskStrategy,
    cancel_reason: null,
    attempt: 0,
    not_before: null,
    error: null,
  };
}

describe("run requests", () => {
  it("fills the defaults of the contract", () => {
    const parsed = parseRunRequest({ assistant_id: "g" }, { stateless: false });
    expect(parsed).toMatchObject({ multitaskStrategy: "reject", ifNotExists: "reject", notBefore: 0, metadata: {} });
    expect(parsed.kwargs).toMatchObject({
      input: null,
      command: null,
      stream_mode: ["values"],
      subgraphs: false,
      resumable: false,
      durability: "async",
      temporary: false,
      on_disconnect: "cancel",
    });
    expect(parseRunRequest({ assistant_id: "g" }, { stateless: true }).kwargs.temporary).toBe(true);
    expect(parseRunRequest({ assistant_id: "g", on_completion: "keep" }, { stateless: true }).kwargs.temporary).toBe(false);
  });

  it("maps checkpoint_during to durability and merges checkpoint fields into configurable", () => {
    expect(parseRunRequest({ assistant_id: "g", checkpoint_during: false }, { stateless: false }).kwargs.durability).toBe("exit");
    const parsed = parseRunRequest(
      { assistant_id: "g", checkpoint: { checkpoint_id: "c1", checkpoint_ns: "", thread_id: "other" }, config: { configurable: { k: 1 } } },
      { stateless: false },
    );
    expect(parsed.kwargs.config.configurable).toEqual({ k: 1, checkpoint_id: "c1", checkpoint_ns: "" });
  });

  it("refuses fields a run cannot honour where it runs", () => {
    // a stateless run's new thread has no checkpoint to start from, and is always created
    expect(() => parseRunRequest({ assistant_id: "g", checkpoint_id: "c2" }, { stateless: true })).toThrow(/body\.checkpoint_id/);
    expect(() => parseRunRequest({ assistant_id: "g", checkpoint: { checkpoint_id: "c" } }, { stateless: true })).toThrow(/body\.checkpoint/);
    expect(() => parseRunRequest({ assistant_id: "g", if_not_exists: "reject" }, { stateless: true })).toThrow(/body\.if_not_exists/);
    expect(parseRunRequest({ assistant_id: "g", if_not_exists: "create" }, { stateless: true }).kwargs.temporary).toBe(true);
    // a run on an existing thread never deletes it
    expect(() => parseRunRequest({ assistant_id: "g", on_completion: "delete" } as never, { stateless: false })).toThrow(/body\.on_completion/);
  });

  it("turns after_seconds into a start time", () => {
    const before = Date.now();
    const { notBefore } = parseRunRequest({ assistant_id: "g", after_seconds: 2 }, { stateless: false });
    expect(notBefore).toBeGreaterThanOrEqual(before + 2000);
  });

  it("deduplicates stream modes and maps them to graph modes", () => {
    expect(parseRunRequest({ assistant_id: "g", stream_mode: ["updates", "updates"] }, { stateless: false }).kwargs.stream_mode).toEqual([
      "updates",
    ]);
    expect(graphStreamModes(["messages-tuple", "custom", "events"])).toEqual(["messages", "custom", "checkpoints"]);
    expect(graphStreamModes(["messages"])).toEqual(["messages", "values", "checkpoints"]);
    expect(graphStreamModes(["events"])).toEqual(["checkpoints"]);
  });
});

describe("graph calls", () => {
  it("merges the assistant's config with the run's and adds the run's ids", () => {
    const run = runOf({
      assistant_id: "g",
      config: { configurable: { shared: "run" }, tags: ["y", "x"], recursion_limit: 9, run_name: "named" },
      context: { shared: "run" },
      metadata: { m: 1 },
      interrupt_before: "*",
    });
    const call = buildGraphCall(assistant, run, { attempt: 2, resume: false });
    expect(call.config).toMatchObject({
      recursionLimit: 9,
      maxConcurrency: 2,
      runName: "named",
      tags: ["x", "y"],
      configurable: { a: 1, shared: "run", thread_id: "thread", run_id: "run", assistant_id: "asst", graph_id: "g" },
      metadata: { m: 1, run_id: "run", thread_id: "thread", run_attempt: 2 },
    });
    expect(call.options).toMatchObject({ context: { c1: 1, shared: "run" }, interruptBefore: "*", durability: "async", subgraphs: false });
    expect(call.input).toBeNull();
  });

  it("turns a command into a LangGraph Command, and a retry into a continuation", () => {
    const run = runOf({ assistant_id: "g", command: { resume: "yes", goto: [{ node: "n", input: 1 }, { node: "m", input: 2 }] }, checkpoint_id: "c" });
    const call = buildGraphCall(assistant, run, { attempt: 1, resume: false });
    expect(call.input).toBeInstanceOf(Command);
    expect((call.input as Command).resume).toBe("yes");
    expect(call.config.configurable?.checkpoint_id).toBe("c");
    const retry = buildGraphCall(assistant, run, { attempt: 2, resume: true });
    expect(retry.input).toBeNull();
    expect(retry.config.configurable).not.toHaveProperty("checkpoint_id");
  });
});

describe("batch items", () => {
  it("renames camelCase fields and refuses contradicting spellings", () => {
    expect(normalizeBatchItem({ assistantId: "g", streamMode: "updates", afterSeconds: 1 }, 0)).toEqual({
      assistant_id: "g",
      stream_mode: "updates",
      after_seconds: 1,
    });
    // the validator's default for on_completion does not count against the caller's onCompletion
    expect(normalizeBatchItem({ assistant_id: "g", on_completion: "delete", onCompletion: "keep" }, 0).on_completion).toBe("keep");
    expect(() => normalizeBatchItem({ assistant_id: "g", streamMode: "updates", stream_mode: "values" }, 3)).toThrow(
      /body\[3\]: streamMode and stream_mode/,
    );
  });
});
