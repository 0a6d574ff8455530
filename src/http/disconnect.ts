import type { Request, Response } from "express";

/**
 * Aborts when the client goes away before the answer is complete. A request stream also closes
 * (destroyed) once its body is fully read, which is no disconnect: only a request that closes
 * before it was complete counts.
 */
export function disconnectSignal(req: Request, res: Response): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.once("close", onClose);
  req.once("close", () => {
    if (!req.complete && !res.headersSent) onClose();
  });
  return controller.signal;
}
