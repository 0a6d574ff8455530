import type { RequestHandler } from "express";
import type { Logger } from "pino";

/** One structured log line per request, written when the response is finished. */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      logger.info(
        { method: req.method, path: req.originalUrl, status: res.statusCode, ms: Math.round(ms * 100) / 100 },
        "request",
      );
    });
    next();
  };
}
