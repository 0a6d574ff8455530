/**
 * OpenTelemetry traces, exported over OTLP/HTTP when the standard variables ask for them
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, with `OTEL_SERVICE_NAME`,
 * `OTEL_EXPORTER_OTLP_HEADERS`... read by the exporter itself). Without them nothing is set up:
 * no span is made, no request or storage call is wrapped.
 *
 * The provider is this server's own, not the process-wide one: several servers may share a
 * process (tests), each with its exporter. Only the context manager is process-wide, so that the
 * active span follows `await`s (AsyncLocalStorage), and the W3C `traceparent` propagator.
 *
 * The SDK's modules are imported only when tracing is on: a server without it does not load them.
 */
import { context, propagation, trace, type Tracer } from "@opentelemetry/api";

export interface Tracing {
  tracer: Tracer;
  /** Exports what is buffered and stops. */
  close(): Promise<void>;
}

let processWideSetUp = false;

/** Tracing as the environment configures it; null when no OTLP endpoint is set, or the SDK is disabled. */
export async function openTracing(env: NodeJS.ProcessEnv, version: string): Promise<Tracing | null> {
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || env.OTEL_SDK_DISABLED === "true" || env.OTEL_TRACES_EXPORTER === "none") return null;
  const [
    { AsyncLocalStorageContextManager },
    { W3CTraceContextPropagator },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { BatchSpanProcessor, TracerProvider },
  ] = await Promise.all([
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/core"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/sdk-trace"),
  ]);
  if (!processWideSetUp) {
    processWideSetUp = true;
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME || "langgraph-ts-server",
      "service.version": version,
    }),
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  });
  const tracer = provider.getTracer("langgraph-ts-server", version);
  return {
    tracer,
    close: () => provider.shutdown(),
  };
}

/** Whether a span is active here (storage calls are traced only inside a traced operation). */
export function inTrace(): boolean {
  return trace.getSpan(context.active()) !== undefined;
}
