import { HttpError } from "../http/errors.js";

const placeholders = new WeakSet<object>();

/**
 * The answer of an operation whose feature has not been built yet: a clear 404 naming the feature
 * (never 501, which the Prism proxy would replace with a fake success).
 */
export const notYetAvailable = (feature: string) => {
  const handler = async (): Promise<never> => {
    throw new HttpError(404, `Not available in this server yet: ${feature}`);
  };
  placeholders.add(handler);
  return handler;
};

/** Whether an operation's handler is such a placeholder (the contract checks skip those). */
export const isNotYetAvailable = (handler: unknown) => typeof handler === "function" && placeholders.has(handler);
