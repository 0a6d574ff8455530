import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";

/**
 * When a response is finished: one structured log line and the request metrics, from a single
 * `finish` listener (each listener costs an allocation and an emit on every request).
 */
export function requestObserver(logger: Logger, metrics: Pick<Metrics, "recordRequest">): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.recordRequest(req.method, res.statusCode, seconds);
      logger.info(
        { method: req.method, path: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1e5) / 100 },
        "request",
      );
    });
    next();
  };
}
