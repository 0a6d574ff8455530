/** Routes only `lgts dev` serves (outside the API contract, as in `langgraph dev`). */
import express, { type RequestHandler } from "express";
import type { Services } from "../services.js";
import { TRUNCATE_FLAGS, truncate, type TruncateRequest } from "../runtime/truncate.js";

/** The reason a truncate body is refused, or undefined when it is a valid request. */
function truncateProblem(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return "body: expected a JSON object";
  for (const [key, value] of Object.entries(body)) {
    if (!(TRUNCATE_FLAGS as readonly string[]).includes(key)) return `body.${key}: unknown field (fields: ${TRUNCATE_FLAGS.join(", ")})`;
    if (value !== null && typeof value !== "boolean") return `body.${key}: expected a boolean`;
  }
  return undefined;
}

export function devRoutes(services: Pick<Services, "storage" | "graphs">): RequestHandler {
  const router = express.Router();
  router.post("/internal/truncate", express.json(), async (req, res, next) => {
    const problem = truncateProblem(req.body ?? {});
    if (problem) {
      res.status(422).json({ detail: problem });
      return;
    }
    try {
      await truncate(services.storage, services.graphs, (req.body ?? {}) as TruncateRequest);
      res.json({ ok: true });
    } catch (error) {
      next(error);
    }
  });
  return router;
}
