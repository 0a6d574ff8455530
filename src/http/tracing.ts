/**
 * A server span per HTTP request (`GET /threads/{thread_id}`), continuing the caller's trace
 * when the request carries a W3C `traceparent`; everything the request does runs inside it.
 * Installed only when tracing is on (src/telemetry/tracing.ts sets the W3C propagator then).
 */
import { context, defaultTextMapGetter, propagation, ROOT_CONTEXT, SpanKind, trace, type Tracer } from "@opentelemetry/api";
import type { NextFunction, Request, Response } from "express";

export function httpTracing(tracer: Tracer): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    const parent = propagation.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method, "url.path": req.path } },
      parent,
    );
    res.on("finish", () => {
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: 2 });
      span.end();
    });
    // a client that went away before the answer: the span ends with what was done
    res.on("close", () => {
      if (!res.writableFinished) span.end();
    });
    context.with(trace.setSpan(parent, span), next);
  };
}

/** Names the request's span after the contract operation it matched (`http.route`). */
export function nameRequestSpan(method: string, route: string): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(`${method} ${route}`);
  span.setAttribute("http.route", route);
}
