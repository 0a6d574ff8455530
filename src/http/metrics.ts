import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prometheus metrics of one server instance (a registry each, so tests can run several). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "lgts_" });
  const requests = new Counter({
    name: "lgts_http_requests_total",
    help: "HTTP requests answered, by method and status",
    labelNames: ["method", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "lgts_http_request_duration_seconds",
    help: "Time to answer an HTTP request (for streams: until the stream ends)",
    labelNames: ["method"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  /** Records one answered request (called by the request observer when the response finishes). */
  const recordRequest = (method: string, status: number, seconds: number) => {
    duration.observe({ method }, seconds);
    requests.inc({ method, status: String(status) });
  };
  return { registry, recordRequest };
}

export type Metrics = ReturnType<typeof createMetrics>;
