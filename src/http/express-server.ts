/**
 * The HTTP server for an Express app, its requests and responses created with the app's
 * prototypes. Express gives them those prototypes on every request (Object.setPrototypeOf in
 * `app.handle`), and in V8 that gives each request and each response a hidden class (map) of its
 * own, never shared with the next request's: every property read on them misses its inline cache
 * (a lookup along their six-deep prototype chains) and every property added builds a new map.
 * Under 50-client `POST /threads` that was about a fifth of the server's CPU (perf). Born with
 * the app's prototypes, Express's setPrototypeOf changes nothing and requests share their maps.
 *
 * Node's IncomingMessage and ServerResponse are constructor functions: called on the new object,
 * they set it up exactly as `new` would (Reflect.construct with another prototype would not share
 * maps either).
 */
import { createServer, IncomingMessage, ServerResponse, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Express } from "express";

type Init<A extends unknown[]> = (this: object, ...args: A) => void;

export function expressServer(app: Express): Server {
  const initRequest = IncomingMessage as unknown as Init<[Socket]>;
  const initResponse = ServerResponse as unknown as Init<[IncomingMessage, unknown]>;
  function AppRequest(this: object, socket: Socket) {
    initRequest.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: object, req: IncomingMessage, options: unknown) {
    initResponse.call(this, req, options);
  }
  AppResponse.prototype = app.response;
  return createServer(
    {
      IncomingMessage: AppRequest as unknown as typeof IncomingMessage,
      ServerResponse: AppResponse as unknown as typeof ServerResponse,
    },
    app,
  );
}
