/**
 * A span per graph step (`graph.node <name>`), from LangChain's callbacks: a node runs as a chain
 * named after it, with `langgraph_node` and `langgraph_step` in its metadata. The spans are
 * children of the run's span, whatever async context the callbacks come in.
 */
import type { Context, Span, Tracer } from "@opentelemetry/api";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import type { ChainValues } from "@langchain/core/utils/types";

export class GraphStepTracer extends BaseCallbackHandler {
  name = "lgts_graph_step_tracer";
  readonly #steps = new Map<string, Span>();
  /** The node of each step's chain, by LangChain run id, while it runs. */
  readonly #nodes = new Map<string, string>();

  constructor(
    private readonly tracer: Tracer,
    private readonly run: Context,
  ) {
    super();
  }

  // LangChain calls this with (chain, inputs, runId, parentRunId, tags, metadata, runType, runName)
  override handleChainStart(
    _chain: Serialized,
    _inputs: ChainValues,
    runId: string,
    parentRunId?: string,
    _tags?: string[],
    metadata?: Record<string, unknown>,
    _runType?: string,
    runName?: string,
  ): void {
    const node = metadata?.langgraph_node;
    if (typeof node !== "string" || runName !== node) return;
    // a node's task runs its function as a child chain of the same name: one span for both
    if (parentRunId !== undefined && this.#nodes.get(parentRunId) === node) return;
    const attributes = { "langgraph.node": node, "langgraph.step": Number(metadata?.langgraph_step ?? -1) };
    this.#nodes.set(runId, node);
    this.#steps.set(runId, this.tracer.startSpan(`graph.node ${node}`, { attributes }, this.run));
  }

  override handleChainEnd(_outputs: ChainValues, runId: string): void {
    this.#end(runId);
  }

  override handleChainError(error: Error, runId: string): void {
    this.#end(runId, error);
  }

  #end(runId: string, error?: Error): void {
    const span = this.#steps.get(runId);
    if (!span) return;
    this.#steps.delete(runId);
    this.#nodes.delete(runId);
    // an interrupt or a cancel unwinds a node with an error that is not its failure
    if (error && error.name !== "GraphInterrupt" && error.name !== "AbortError") span.setStatus({ code: 2, message: error.message });
    span.end();
  }
}
