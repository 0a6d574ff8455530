import type { OperationHandlers } from "../http/operations.js";
import { assistantHandlers } from "./assistants.js";
import { cronHandlers } from "./crons.js";
import { notYetAvailable } from "./not-yet-available.js";
import { runHandlers } from "./runs.js";
import { storeHandlers } from "./store.js";
import { systemHandlers } from "./system.js";
import { threadHandlers } from "./threads.js";
import { threadStateHandlers } from "./thread-state.js";

/** Every operation of the contract, by operationId (the compiler checks none is missing). */
export const operationHandlers: OperationHandlers = {
  ...assistantHandlers,
  ...cronHandlers,
  ...threadHandlers,
  ...threadStateHandlers,
  ...systemHandlers,
  ...storeHandlers,
  ...runHandlers,
  postMcp: notYetAvailable("the MCP endpoint"),
  getMcp: notYetAvailable("the MCP endpoint"),
  deleteMcp: notYetAvailable("the MCP endpoint"),
  postA2a: notYetAvailable("the A2A endpoint"),
};
