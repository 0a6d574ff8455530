import type { OperationHandlers } from "../http/operations.js";
import { isNotYetAvailable } from "./not-yet-available.js";

/** One operation stands for each feature reported by `/info`. */
const FEATURE_OPERATIONS = {
  assistants: "createAssistant",
  threads: "createThread",
  runs: "createRun",
  streaming: "streamRun",
  crons: "createCron",
  store: "putStoreItem",
  mcp: "postMcp",
  a2a: "postA2a",
} as const;

/** Which features this build serves, read off the handlers themselves so it cannot drift. */
export function featureFlags(handlers: OperationHandlers): Record<keyof typeof FEATURE_OPERATIONS, boolean> {
  const flags = {} as Record<keyof typeof FEATURE_OPERATIONS, boolean>;
  for (const [feature, operationId] of Object.entries(FEATURE_OPERATIONS)) {
    flags[feature as keyof typeof FEATURE_OPERATIONS] = !isNotYetAvailable(handlers[operationId]);
  }
  return flags;
}
