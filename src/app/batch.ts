/**
 * Batch items of POST /runs/batch: the SDK's `runs.createBatch` sends each payload as the caller
 * wrote it, so fields may come in camelCase. They are renamed to the API's snake_case; giving
 * both spellings of one field with different values is a 422.
 *
 * Request validation fills the contract's defaults into absent snake_case fields, so a
 * snake_case value equal to its default does not count as given when the camelCase one is.
 */
import { isDeepStrictEqual } from "node:util";
import type { components } from "../../generated/openapi.js";
import { invalid } from "../errors.js";
import { nullsAsAbsent } from "./nulls.js";

type BatchItem = components["schemas"]["RunBatchItem"];
type StatelessRun = components["schemas"]["RunCreateStateless"];

const SNAKE_OF: Record<string, keyof StatelessRun> = {
  assistantId: "assistant_id",
  checkpointId: "checkpoint_id",
  interruptBefore: "interrupt_before",
  interruptAfter: "interrupt_after",
  streamMode: "stream_mode",
  streamSubgraphs: "stream_subgraphs",
  streamResumable: "stream_resumable",
  feedbackKeys: "feedback_keys",
  multitaskStrategy: "multitask_strategy",
  ifNotExists: "if_not_exists",
  onDisconnect: "on_disconnect",
  onCompletion: "on_completion",
  afterSeconds: "after_seconds",
  checkpointDuring: "checkpoint_during",
  strictResume: "strict_resume",
};

/** Defaults the contract declares for RunCreateStateless fields. */
const DEFAULTS: Partial<Record<keyof StatelessRun, unknown>> = {
  stream_subgraphs: false,
  stream_resumable: false,
  on_disconnect: "cancel",
  on_completion: "delete",
  durability: "async",
};

export function normalizeBatchItem(item: BatchItem, index: number): StatelessRun {
  const given = nullsAsAbsent(item as Record<string, unknown>);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    const name = SNAKE_OF[key] ?? key;
    if (name !== key && name in given) {
      const snake = given[name];
      const filledDefault = name in DEFAULTS && isDeepStrictEqual(snake, DEFAULTS[name]);
      if (!filledDefault && !isDeepStrictEqual(snake, value)) {
        throw invalid(`body[${index}]: ${key} and ${name} are the same field with different values; give one`);
      }
      out[name] = value;
    } else if (!(name in out)) {
      out[name] = value;
    }
  }
  if (typeof out.assistant_id !== "string") throw invalid(`body[${index}].assistant_id: required`);
  return out as StatelessRun;
}
