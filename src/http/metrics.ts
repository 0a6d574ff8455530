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
  // one labelled child per method and per method and status, looked up once: prom-client
  // otherwise hashes the label object on every observation
  const durationOf = new Map<string, ReturnType<typeof duration.labels>>();
  const requestsOf = new Map<string, ReturnType<typeof requests.labels>>();
  /** Records one answered request (called by the request observer when the response finishes). */
  const recordRequest = (method: string, status: number, seconds: number) => {
    let observed = durationOf.get(method);
    if (!observed) durationOf.set(method, (observed = duration.labels({ method })));
    observed.observe(seconds);
    const key = `${method} ${status}`;
    let counted = requestsOf.get(key);
    if (!counted) requestsOf.set(key, (counted = requests.labels({ method, status: String(status) })));
    counted.inc();
  };
  return { registry, recordRequest };
}

export type Metrics = ReturnType<typeof createMetrics>;
