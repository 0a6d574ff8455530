/** The API shapes of runs and run results (storage-only fields never leave the server). */
import type { components } from "../../../generated/openapi.js";
import type { Run } from "../../storage/types.js";
import type { RunOutcome } from "./broker.js";

type ApiRun = components["schemas"]["Run"];
export type RunResult = components["schemas"]["RunResult"];

export function runToApi(run: Run): ApiRun {
  const { handoffs: _handoffs, not_before: _notBefore, kwargs, ...api } = run;
  return { ...api, kwargs: { ...kwargs } };
}

/** What join/wait answer: the final values, or `{__error__}` for a run that failed or timed out. */
export function runResult(outcome: RunOutcome): RunResult {
  if (outcome.error) return { __error__: outcome.error };
  return (outcome.values ?? null) as RunResult;
}

/** `Content-Location` (exactly the run's path: the SDK parses the ids out of it) and `Location` (its stream). */
export function runLocationHeaders(run: Pick<Run, "run_id" | "thread_id">, stateless: boolean): Record<string, string> {
  const path = stateless ? `/runs/${run.run_id}` : `/threads/${run.thread_id}/runs/${run.run_id}`;
  return { "Content-Location": path, Location: `${path}/stream` };
}

/** Headers of a wait's answer: `Content-Location` as for a created run, `Location` its join (where the Python SDK asks again, as on the Platform). */
export function runWaitHeaders(run: Pick<Run, "run_id" | "thread_id">, stateless: boolean): Record<string, string> {
  return { ...runLocationHeaders(run, stateless), Location: `/threads/${run.thread_id}/runs/${run.run_id}/join` };
}
