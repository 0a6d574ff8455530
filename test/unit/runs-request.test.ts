import { Command } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { normalizeBatchItem } from "../../src/app/batch.js";
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
    expect(parseRunRequest({ assistant_id: "g", stream_mode: ["updates", "updates"] }, { stateless: false }).kwargs.stream_mode).toEqual(["updates"]);
    expect(graphStreamModes(["messages-tuple", "custom", "events"])).toEqual(["messages", "custom", "checkpoints"]);
    expect(graphStreamModes(["messages"])).toEqual(["messages", "values", "checkpoints"]);
    expect(graphStreamModes(["events"])).toEqual(["checkpoints"]);
  });
});

describe("run requests: what is refused, and why", () => {
  const parse = (body: Record<string, unknown>, stateless = false) => parseRunRequest({ assistant_id: "g", ...body }, { stateless });
  const refusal = (body: Record<string, unknown>, stateless = false) => {
    try {
      parse(body, stateless);
    } catch (error) {
      return error as { kind?: string; message: string };
    }
    throw new Error(`accepted ${JSON.stringify(body)}`);
  };

  it("refuses input beside a command, and a command that does nothing", () => {
    expect(refusal({ input: { x: 1 }, command: { resume: 1 } })).toMatchObject({
      kind: "invalid",
      message: expect.stringMatching(/^body\.input: give either input or command .*input may only be absent, null or \{\}$/),
    });
    for (const input of [[], "", 0, { x: undefined, y: 1 }]) expect(refusal({ input, command: { resume: 1 } }).kind).toBe("invalid");
    expect(refusal({ command: {} }).message).toBe("body.command: needs at least one of resume, update, goto");
    expect(refusal({ command: { update: null, goto: null } }).message).toMatch(/^body\.command:/);
    // each one alone is enough; resume may be any value, even null or false
    for (const command of [{ resume: null }, { resume: false }, { update: { a: 1 } }, { goto: "node" }]) {
      expect(parse({ command }).kwargs.command).toEqual(command);
    }
    expect(parse({ input: null, command: { resume: 1 } }).kwargs).toMatchObject({ input: null, command: { resume: 1 } });
    // an empty object beside a command is no input (Agent Chat UI sends it with command.resume)
    expect(parse({ input: {}, command: { resume: 1 } }).kwargs).toMatchObject({ input: null, command: { resume: 1 } });
    expect(parse({ input: { x: 1 }, command: null }).kwargs).toMatchObject({ input: { x: 1 }, command: null });
  });

  it("keeps a run's LangSmith settings in its kwargs (creation refuses them where LangSmith is not configured)", () => {
    const kwargs = parse({ feedback_keys: ["score"], langsmith_tracer: { project_name: "p", example_id: "e" } }).kwargs;
    expect(kwargs).toMatchObject({ feedback_keys: ["score"], langsmith_tracer: { project_name: "p", example_id: "e" } });
    // none asked for: the stored kwargs carry neither
    const plain = parse({ feedback_keys: [], langsmith_tracer: null }).kwargs;
    expect(plain).not.toHaveProperty("feedback_keys");
    expect(plain).not.toHaveProperty("langsmith_tracer");
  });

  it("explains the refusals of thread fields on a stateless run and of deleting a kept thread", () => {
    expect(refusal({ checkpoint_id: "c" }, true).message).toBe(
      "body.checkpoint_id: a stateless run starts on a new thread, which has no checkpoint to start from",
    );
    expect(refusal({ if_not_exists: "reject" }, true).message).toBe("body.if_not_exists: a stateless run always creates its thread");
    expect(refusal({ on_completion: "delete" }).message).toBe(
      "body.on_completion: a run on an existing thread keeps its thread; delete the thread instead",
    );
    expect(parse({ on_completion: "keep" }).kwargs.temporary).toBe(false);
  });

  it("takes durability or checkpoint_during, but not both when they disagree", () => {
    expect(parse({ checkpoint_during: true }).kwargs.durability).toBe("async");
    expect(parse({ durability: "sync" }).kwargs.durability).toBe("sync");
    expect(parse({ durability: "exit", checkpoint_during: false }).kwargs.durability).toBe("exit");
    expect(parse({ durability: "async", checkpoint_during: null }).kwargs.durability).toBe("async");
    expect(refusal({ durability: "sync", checkpoint_during: true }).message).toBe(
      "body.checkpoint_during: checkpoint_during=true means durability 'async', which contradicts durability 'sync'; give only durability",
    );
    expect(refusal({ durability: "async", checkpoint_during: false }).message).toMatch(/durability 'exit', which contradicts durability 'async'/);
  });

  it("keeps the webhook as given: the webhooks policy checks it when the run is created", () => {
    expect(parse({ webhook: "https://hooks.example/run?x=1" }).kwargs.webhook).toBe("https://hooks.example/run?x=1");
    expect(parse({ webhook: null }).kwargs.webhook).toBeNull();
    expect(parse({}).kwargs.webhook).toBeNull();
  });

  it("takes checkpoint_id or checkpoint.checkpoint_id, refusing two different ones; a stateless run keeps its config as given", () => {
    expect(parse({ checkpoint_id: "c1" }).kwargs.config).toEqual({ configurable: { checkpoint_id: "c1" } });
    expect(parse({ checkpoint_id: "c1", checkpoint: { checkpoint_id: "c1" } }).kwargs.config.configurable).toEqual({ checkpoint_id: "c1" });
    expect(refusal({ checkpoint_id: "c1", checkpoint: { checkpoint_id: "c2" } }).message).toBe(
      "body.checkpoint_id: differs from checkpoint.checkpoint_id; give one of them",
    );
    // a null checkpoint_map is left out; an empty checkpoint adds nothing to the config
    expect(parse({ checkpoint: { checkpoint_id: "c1", checkpoint_map: null } }).kwargs.config.configurable).toEqual({ checkpoint_id: "c1" });
    expect(parse({ checkpoint: { checkpoint_map: { a: "b" } } }).kwargs.config.configurable).toEqual({ checkpoint_map: { a: "b" } });
    expect(parse({ checkpoint: {}, config: { tags: ["t"] } }).kwargs.config).toEqual({ tags: ["t"] });
    expect(parse({ checkpoint: { thread_id: "other" } }).kwargs.config).toEqual({});
    expect(parse({ config: { configurable: { k: 1 } } }, true).kwargs.config).toEqual({ configurable: { k: 1 } });
  });

  it("keeps the run's interrupt, resume and multitask settings", () => {
    const parsed = parse({
      interrupt_before: ["a"],
      interrupt_after: "*",
      strict_resume: true,
      multitask_strategy: "enqueue",
      stream_mode: "updates",
      stream_subgraphs: true,
      stream_resumable: true,
      on_disconnect: "continue",
      context: { c: 1 },
      metadata: { m: 1 },
      if_not_exists: "create",
    });
    expect(parsed.kwargs).toMatchObject({
      interrupt_before: ["a"],
      interrupt_after: "*",
      strict_resume: true,
      stream_mode: ["updates"],
      subgraphs: true,
      resumable: true,
      on_disconnect: "continue",
      context: { c: 1 },
    });
    expect(parsed).toMatchObject({ multitaskStrategy: "enqueue", metadata: { m: 1 }, ifNotExists: "create" });
    expect(parse({}).kwargs).toMatchObject({ interrupt_before: null, interrupt_after: null, strict_resume: false, context: null });
    expect(parse({ stream_mode: [] }).kwargs.stream_mode).toEqual(["values"]);
    // a stateless run's temporary thread never has another run
    expect(parse({ multitask_strategy: "enqueue" }, true).multitaskStrategy).toBe("reject");
    expect(parse({ after_seconds: 0 }).notBefore).toBe(0);
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
    const run = runOf({
      assistant_id: "g",
      command: {
        resume: "yes",
        goto: [
          { node: "n", input: 1 },
          { node: "m", input: 2 },
        ],
      },
      checkpoint_id: "c",
    });
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
