/**
 * Storage whose repository calls are spans (`storage <repository>.<method>`), children of the
 * operation that makes them: calls outside any traced operation (background loops: claims, lease
 * renewals, sweeps) make none, so they do not flood the trace store with root spans.
 */
import type { Tracer } from "@opentelemetry/api";
import type { Storage } from "../storage/types.js";
import { inTrace } from "./tracing.js";

const REPOSITORIES = ["assistants", "threads", "checkpoints", "storeItems", "runs", "crons", "webhooks", "archive"] as const;

function tracedRepository<T extends object>(repository: T, name: string, tracer: Tracer, backend: string): T {
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function" || typeof property !== "string") return value;
      // called on the repository itself: its methods use private fields a proxy does not have
      return (...args: unknown[]) => {
        if (!inTrace()) return (value as (...a: unknown[]) => unknown).apply(target, args);
        // not made the active span: work the call sets off (a run it dispatches) belongs to the caller
        const span = tracer.startSpan(`storage ${name}.${property}`, { attributes: { "db.system.name": backend } });
        const settle = (error?: unknown) => {
          if (error !== undefined) span.setStatus({ code: 2, message: (error as Error).message });
          span.end();
        };
        try {
          const result = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (result instanceof Promise) {
            result.then(() => settle(), settle);
            return result;
          }
          settle();
          return result;
        } catch (error) {
          settle(error);
          throw error;
        }
      };
    },
  });
}

/** `storage` with its repositories traced; everything else (backend, close...) is the storage's own. */
export function tracedStorage<S extends Storage>(storage: S, tracer: Tracer): S {
  const repositories = new Map<PropertyKey, unknown>(
    REPOSITORIES.map((name) => [name, tracedRepository(storage[name], name, tracer, storage.backend)]),
  );
  return new Proxy(storage, {
    get(target, property) {
      if (repositories.has(property)) return repositories.get(property);
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
