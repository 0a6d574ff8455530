/**
 * `/docs`: Swagger UI over the published contract. swagger-ui-express and the page it renders
 * (the whole contract inlined) are built at the first request under `/docs`, not at startup: most
 * servers never serve it.
 */
import express, { type RequestHandler } from "express";

export function lazyDocs(published: object): RequestHandler {
  let docs: Promise<RequestHandler> | undefined;
  const build = async (): Promise<RequestHandler> => {
    const { default: swaggerUi } = await import("swagger-ui-express");
    return express.Router().use("/docs", swaggerUi.serve, swaggerUi.setup(published, { customSiteTitle: "langgraph-ts-server API" }));
  };
  return (req, res, next) => {
    docs ??= build();
    docs.then((handler) => handler(req, res, next), next);
  };
}
