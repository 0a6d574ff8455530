import type { OperationHandlers } from "../http/operations.js";
import type { Cron } from "../storage/types.js";
import { countCrons, createCron, deleteCron, searchCrons, updateCron } from "../app/crons.js";
import { pageReply } from "./pagination.js";

/** The API view of a stored cron: without the user its firings run as. */
function cronView(cron: Cron) {
  const { auth_user: _user, ...view } = cron;
  return view;
}

type CronOperations = "createThreadCron" | "createCron" | "searchCrons" | "countCrons" | "updateCron" | "deleteCron";

export const cronHandlers: OperationHandlers<CronOperations> = {
  async createCron({ services, auth, body }) {
    return { status: 200, body: cronView(await createCron(services, auth, body, null)) };
  },

  async createThreadCron({ services, auth, body, params }) {
    return { status: 200, body: cronView(await createCron(services, auth, body, params.thread_id)) };
  },

  async updateCron({ params, body, services, auth }) {
    return { status: 200, body: cronView(await updateCron(services, auth, params.cron_id, body)) };
  },

  async deleteCron({ params, services, auth }) {
    await deleteCron(services, auth, params.cron_id);
    return { status: 204, body: undefined };
  },

  async searchCrons({ body, services, auth }) {
    const page = await searchCrons(services, auth, body);
    const select = body.select ?? undefined;
    const now = new Date().toISOString();
    const view = select?.includes("now") ? (cron: Cron) => ({ ...cronView(cron), now }) : cronView;
    return pageReply(page, { offset: body.offset ?? undefined, select }, view);
  },

  async countCrons({ body, services, auth }) {
    return { status: 200, body: await countCrons(services, auth, body) };
  },
};
