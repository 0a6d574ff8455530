/**
 * LangSmith, as LangGraph Platform deployments use it. With an API key in the environment
 * (`LANGSMITH_API_KEY`, or `LANGCHAIN_API_KEY`) every run is traced to LangSmith, unless
 * `LANGSMITH_TRACING` (or `LANGCHAIN_TRACING_V2`) is `false`: into the project a run's
 * `langsmith_tracer.project_name` names, else `LANGSMITH_PROJECT` (`LANGCHAIN_PROJECT`), else
 * "default", linked to the dataset example `langsmith_tracer.example_id`. The trace's root run
 * has the run's id, so `feedback_keys` get presigned feedback URLs for it. `LANGSMITH_ENDPOINT`
 * (`LANGCHAIN_ENDPOINT`) points at a self-hosted LangSmith. Its client is imported only then.
 */
import type { LangChainTracer } from "@langchain/core/tracers/tracer_langchain";
import type { RunKwargs } from "../../storage/types.js";

export interface LangSmith {
  /** The callback handler tracing one run (its project and example from `langsmith_tracer`). */
  tracer(kwargs: Pick<RunKwargs, "langsmith_tracer">): LangChainTracer;
  /** `{<key>: <presigned URL>}`: where feedback on the run under each key may be posted. */
  feedbackUrls(runId: string, keys: readonly string[]): Promise<Record<string, string>>;
}

const setting = (env: NodeJS.ProcessEnv, name: string): string | undefined => env[`LANGSMITH_${name}`] || env[`LANGCHAIN_${name}`] || undefined;

/** LangSmith as the environment configures it; null without an API key or with tracing turned off. */
export async function langSmithFromEnv(env: NodeJS.ProcessEnv): Promise<LangSmith | null> {
  const apiKey = setting(env, "API_KEY");
  const tracing = env.LANGSMITH_TRACING ?? env.LANGCHAIN_TRACING_V2;
  if (!apiKey || tracing === "false") return null;
  const [{ LangChainTracer }, { Client }] = await Promise.all([import("@langchain/core/tracers/tracer_langchain"), import("langsmith")]);
  const endpoint = setting(env, "ENDPOINT");
  const client = new Client({ apiKey, ...(endpoint ? { apiUrl: endpoint } : {}) });
  const defaultProject = setting(env, "PROJECT") ?? "default";
  return {
    tracer: ({ langsmith_tracer }) =>
      new LangChainTracer({
        client,
        projectName: langsmith_tracer?.project_name ?? defaultProject,
        ...(langsmith_tracer?.example_id ? { exampleId: langsmith_tracer.example_id } : {}),
      }),
    async feedbackUrls(runId, keys) {
      const tokens = await Promise.all(keys.map((key) => client.createPresignedFeedbackToken(runId, key)));
      return Object.fromEntries(keys.map((key, i) => [key, tokens[i].url]));
    },
  };
}
