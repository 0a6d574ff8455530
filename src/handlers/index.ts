import type { OperationHandlers } from "../http/operations.js";
import { a2aHandlers } from "./a2a.js";
import { assistantHandlers } from "./assistants.js";
import { cronHandlers } from "./crons.js";
import { mcpHandlers } from "./mcp.js";
import { protocolHandlers } from "./protocol.js";
import { runHandlers } from "./runs.js";
import { storeHandlers } from "./store.js";
import { systemHandlers } from "./system.js";
import { threadHandlers } from "./threads.js";
import { threadStateHandlers } from "./thread-state.js";
import { uiHandlers } from "./ui.js";

/** Every operation of the contract, by operationId (the compiler checks none is missing). */
export const operationHandlers: OperationHandlers = {
  ...assistantHandlers,
  ...cronHandlers,
  ...threadHandlers,
  ...threadStateHandlers,
  ...systemHandlers,
  ...storeHandlers,
  ...runHandlers,
  ...mcpHandlers,
  ...protocolHandlers,
  ...a2aHandlers,
  ...uiHandlers,
};
