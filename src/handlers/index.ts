import type { OperationHandlers } from "../http/operations.js";
import { assistantHandlers } from "./assistants.js";
import { notYetAvailable } from "./not-yet-available.js";
import { storeHandlers } from "./store.js";
import { systemHandlers } from "./system.js";
import { threadHandlers } from "./threads.js";
import { threadStateHandlers } from "./thread-state.js";

const runs = notYetAvailable("run execution");
const crons = notYetAvailable("crons");

/** Every operation of the contract, by operationId (the compiler checks none is missing). */
export const operationHandlers: OperationHandlers = {
  ...assistantHandlers,
  ...threadHandlers,
  ...threadStateHandlers,
  ...systemHandlers,
  ...storeHandlers,
  listRuns: runs,
  createRun: runs,
  streamRun: runs,
  waitRun: runs,
  getRun: runs,
  deleteRun: runs,
  joinRun: runs,
  joinRunStream: runs,
  cancelRun: runs,
  cancelRuns: runs,
  createStatelessRun: runs,
  streamStatelessRun: runs,
  waitStatelessRun: runs,
  createRunBatch: runs,
  joinStatelessRunStream: runs,
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
