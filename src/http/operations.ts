import type { IncomingHttpHeaders } from "node:http";
import type { Request, Response } from "express";
import type { operations } from "../../generated/openapi.js";
import type { Services } from "../services.js";
import type { RequestAuth } from "../auth/index.js";

/** Every operationId of the contract. */
export type OperationId = keyof operations;

type Operation<K extends OperationId> = operations[K];
type JsonContent<T> = T extends { content: { "application/json": infer B } } ? B : undefined;
/** The body of a response: its JSON shape, or the text of a text response; undefined when empty. */
type ResponseContent<T> = T extends { content: infer C } ? C[keyof C] : undefined;

/** An optional body the client left out arrives as `{}`. */
export type RequestBody<K extends OperationId> =
  Operation<K> extends { requestBody?: infer R } ? NonNullable<JsonContent<NonNullable<R>>> : undefined;
export type PathParams<K extends OperationId> = Operation<K>["parameters"] extends { path: infer P } ? P : Record<string, never>;
export type QueryParams<K extends OperationId> = Operation<K>["parameters"] extends { query?: infer Q } ? NonNullable<Q> : Record<string, never>;

type Responses<K extends OperationId> = Operation<K>["responses"];

/** A JSON (or empty) answer with one of the statuses the contract declares for the operation. */
export type Reply<K extends OperationId> = {
  [S in keyof Responses<K>]: S extends number
    ? {
        status: S;
        body: ResponseContent<Responses<K>[S]>;
        headers?: Record<string, string>;
        /** Defaults to JSON. */
        contentType?: string;
      }
    : never;
}[keyof Responses<K>];

/** The handler wrote the response itself (server-sent events). */
export const STREAMED = Symbol("streamed");

export interface HandlerContext<K extends OperationId> {
  operationId: K;
  body: RequestBody<K>;
  params: PathParams<K>;
  query: QueryParams<K>;
  headers: IncomingHttpHeaders;
  /** The caller: its user, and `authorize(event, value)` giving the storage scope of an action. */
  auth: RequestAuth;
  services: Services;
  req: Request;
  res: Response;
}

export type OperationHandler<K extends OperationId> = (ctx: HandlerContext<K>) => Promise<Reply<K> | typeof STREAMED>;

export type OperationHandlers<K extends OperationId = OperationId> = {
  [P in K]: OperationHandler<P>;
};
