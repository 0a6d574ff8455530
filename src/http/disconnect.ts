import type { Request, Response } from "express";

/** Aborts when the client goes away before the answer is complete. */
export function disconnectSignal(req: Request, res: Response): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.once("close", onClose);
  req.once("close", () => {
    if (req.destroyed && !res.headersSent) onClose();
  });
  return controller.signal;
}
