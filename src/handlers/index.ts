import type { OperationHandlers } from "../http/operations.js";
import { assistantHandlers } from "./assistants.js";
import { notYetAvailable } from "./not-yet-available.js";
import { runHandlers } from "./runs.js";
import { storeHandlers } from "./store.js";
import { systemHandlers } from "./system.js";
import { threadHandlers } from "./threads.js";
import { threadStateHandlers } from "./thread-state.js";

const crons = notYetAvailable("crons");

/** Every operation of the contract, by operationId (the compiler checks none is missing). */
export const operationHandlers: OperationHandlers = {
  ...assistantHandlers,
  ...threadHandlers,
  ...threadStateHandlers,
  ...systemHandlers,
  ...storeHandlers,
  ...runHandlers,
  createThreadCron: crons,
  createCron: crons,
  searchCrons: crons,
  countCrons: crons,
  updateCron: crons,
  deleteCron: crons,
  postMcp: notYetAvailable("the MCP endpoint"),
  getMcp: notYetAvailable("the MCP endpoint"),
  deleteMcp: notYetAvailable("the MCP endpoint"),
  postA2a: notYetAvailable("the A2A endpoint"),
};
