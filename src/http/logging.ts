import type { Request, Response } from "express";
import type { Logger } from "pino";
import type { Metrics } from "./metrics.js";

/**
 * When a response is finished: one structured log line and the request metrics, from a single
 * `finish` listener (each listener costs an allocation and an emit on every request). A plain
 * function, not a middleware: app.ts calls it from its first layer (each layer costs a dispatch).
 */
export function requestObserver(logger: Logger, metrics: Pick<Metrics, "recordRequest">): (req: Request, res: Response) => void {
  return (req, res) => {
    const started = process.hrtime.bigint();
    // `on`, not `once`: a response finishes once, and `once` wraps the listener on every request
    res.on("finish", () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.recordRequest(req.method, res.statusCode, seconds);
      logger.info({ method: req.method, path: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1e5) / 100 }, "request");
    });
  };
}
