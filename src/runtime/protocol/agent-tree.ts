/**
 * `agent.getTree`: the (sub)graphs of a protocol run as a tree, from its stored events. Each
 * node's status is its last lifecycle event (the root's: running, then completed / interrupted /
 * failed; a subgraph's: started, then how its task ended). A subgraph still open when the run
 * ended takes the root's final status (the run stopped inside it).
 */
import type { components } from "../../../generated/openapi.js";
import type { RunEvent, RunEventBroker, RunOutcome } from "../runs/broker.js";
import { RunProtocolEvents } from "./run-events.js";

type AgentTreeNode = components["schemas"]["ProtocolAgentTreeNode"];
type AgentStatus = components["schemas"]["ProtocolAgentStatus"];

/** The run's held events and its outcome (null while it runs); null when its events are not held. */
export async function heldRun(broker: RunEventBroker, runId: string): Promise<{ events: RunEvent[]; outcome: RunOutcome | null } | null> {
  const events: RunEvent[] = [];
  let outcome: RunOutcome | null = null;
  // both brokers deliver the held events (and an ended run's outcome) before `subscribe` resolves
  const unsubscribe = await broker.subscribe(runId, { event: (event) => events.push(event), end: (end) => (outcome = end) }, { lastEventId: "-1" });
  if (!unsubscribe) return null;
  unsubscribe();
  return { events, outcome };
}

const key = (namespace: string[]) => JSON.stringify(namespace);

/** The graph a namespace segment names (`child:<task id>` is graph `child`). */
const graphName = (segment: string) => segment.split(":")[0];

export function agentTree(runId: string, graphId: string, events: RunEvent[], outcome: RunOutcome | null): AgentTreeNode {
  const run = new RunProtocolEvents(runId);
  let rootStatus: AgentStatus = "started";
  const statuses = new Map<string, { namespace: string[]; status: AgentStatus }>();
  const framed = [...events.flatMap((event) => run.event(event)), ...(outcome ? run.end(outcome) : [])];
  for (const event of framed) {
    if (event.method !== "lifecycle") continue;
    const namespace = event.params.namespace;
    const status = (event.params.data as { event: AgentStatus }).event;
    if (namespace.length === 0) rootStatus = status;
    else statuses.set(key(namespace), { namespace, status });
  }
  if (rootStatus !== "running" && rootStatus !== "started") {
    for (const entry of statuses.values()) if (entry.status === "started" || entry.status === "running") entry.status = rootStatus;
  }
  const node = (namespace: string[], status: AgentStatus, name: string): AgentTreeNode => {
    const children = [...statuses.values()]
      .filter((entry) => entry.namespace.length === namespace.length + 1 && key(entry.namespace.slice(0, namespace.length)) === key(namespace))
      .map((entry) => node(entry.namespace, entry.status, graphName(entry.namespace.at(-1)!)));
    return { namespace, status, graph_name: name, ...(children.length > 0 ? { children } : {}) };
  };
  return node([], rootStatus, graphId);
}
