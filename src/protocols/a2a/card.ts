/** The A2A agent card of an assistant (A2A protocol 0.3). */
import type { components } from "../../../generated/openapi.js";
import type { GraphRegistry } from "../../runtime/graphs/index.js";
import type { Assistant } from "../../storage/types.js";
import { assistantDescription } from "../assistants.js";
import { OUTPUT_MODES } from "./parts.js";

type AgentCard = components["schemas"]["A2aAgentCard"];

/** `baseUrl`: scheme and host the client reached this server by, so the card's URL works for it. */
export function agentCard(graphs: Pick<GraphRegistry, "spec">, assistant: Assistant, baseUrl: string): AgentCard {
  const description = assistantDescription(graphs, assistant);
  return {
    protocolVersion: "0.3.0",
    name: assistant.name,
    description,
    url: `${baseUrl}/a2a/${assistant.assistant_id}`,
    preferredTransport: "JSONRPC",
    version: String(assistant.version),
    capabilities: { streaming: true, pushNotifications: false, stateTransitionHistory: false },
    defaultInputModes: [...OUTPUT_MODES],
    defaultOutputModes: [...OUTPUT_MODES],
    skills: [{ id: assistant.assistant_id, name: assistant.name, description, tags: [assistant.graph_id] }],
  };
}
