/**
 * Long waits (`/runs/wait`, `/threads/{id}/runs/wait`, `/join`) that outlive clients' and
 * proxies' read timeouts, as the LangGraph Platform answers them: while the run works, the
 * answer's status (200) and headers go out and a newline follows every interval; the JSON result
 * comes last. Leading whitespace is valid JSON, so clients parse the body as usual.
 *
 * A run that ends within the first interval is answered as any request (no timer left, any error
 * status). Once bytes are out the status is fixed: a run's failure is its `{"__error__"}` result
 * as always, but a failure to learn the outcome (storage unavailable: 503 on the fast path)
 * cuts the connection, as the Platform does, so the client sees a failed request, never a
 * complete answer; the Python SDK then asks the `Location` (the run's join) again.
 */
import type { Response } from "express";
import type { Logger } from "pino";

/** Where a kept-alive answer leaves its JSON body (`res.locals`) for the contract check. */
export const KEPT_ALIVE_BODY = "keptAliveBody";

/** The LangGraph Platform's interval. */
export const KEEP_ALIVE_INTERVAL_MS = 5_000;

export type KeptAlive<T> = { value: T } | { streamed: true };

export async function keepAlive<T>(
  res: Response,
  result: Promise<T>,
  options: { intervalMs: number; headers: Record<string, string>; logger: Logger },
): Promise<KeptAlive<T>> {
  let timer: NodeJS.Timeout | undefined;
  const early = await Promise.race([
    result.then((value) => ({ value })),
    new Promise<null>((resolve) => {
      timer = setTimeout(resolve, options.intervalMs, null);
    }),
  ]).finally(() => clearTimeout(timer));
  if (early) return early;

  res.statusCode = 200;
  res.set(options.headers);
  res.setHeader("content-type", "application/json; charset=utf-8");
  res.write("\n");
  // a client that left stops the run's wait (disconnectSignal): until then, nothing to write to
  const beat = setInterval(() => res.destroyed || res.write("\n"), options.intervalMs);
  try {
    const value = await result;
    res.locals[KEPT_ALIVE_BODY] = value; // for the contract check of responses
    if (!res.destroyed) res.end(JSON.stringify(value));
  } catch (error) {
    options.logger.warn({ err: error }, "the outcome of a kept-alive wait could not be read; cutting the connection");
    res.destroy();
  } finally {
    clearInterval(beat);
  }
  return { streamed: true };
}
