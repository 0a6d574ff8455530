/**
 * `/console`: the web console's page and assets (see src/console). The page and its code are
 * public, as `/docs` is: a browser opens them by URL, without a bearer token. They hold no data;
 * every call the console makes for data goes through the API and its authentication.
 */
import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { bundleConsole, type ConsoleAsset, type ConsoleBundle } from "../console/bundle.js";
import { errorReply } from "./error-reply.js";

const PREFIX = "/console";
const ASSETS = `${PREFIX}/assets/`;

/** Whether a request is the console's to answer (page or asset); authentication lets these through. */
export const isConsolePath = (method: string, path: string) =>
  (method === "GET" || method === "HEAD") && (path === PREFIX || path.startsWith(`${PREFIX}/`));

const escapeAttribute = (text: string) => text.replace(/[&"<>]/g, (c) => ({ "&": "&amp;", '"': "&quot;", "<": "&lt;", ">": "&gt;" })[c]!);

/** The page: every route of the console is this page; the script reads the route from the URL. */
function page(bundle: ConsoleBundle, base: string): string {
  const href = (asset: ConsoleAsset) => escapeAttribute(`${base}assets/${asset.name}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>langgraph-ts-server console</title>
<link rel="stylesheet" href="${href(bundle.stylesheet)}">
<script type="module" src="${href(bundle.script)}"></script>
</head>
<body data-console-base="${escapeAttribute(base)}"><div id="root"></div></body>
</html>
`;
}

/** No inline code, nothing from another origin: the console talks to this server only. */
const PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

export function consoleRoutes(logger: Logger): RequestHandler {
  let bundle: Promise<ConsoleBundle> | undefined;
  const built = () => {
    bundle ??= bundleConsole().catch((error: unknown) => {
      bundle = undefined; // a later request tries again
      throw error;
    });
    return bundle;
  };
  const answer = async (req: Request, res: Response) => {
    const assets = await built();
    if (req.path.startsWith(ASSETS)) {
      const name = req.path.slice(ASSETS.length);
      const asset = assets.assets.get(name);
      if (!asset) {
        res.status(404).json({ detail: `No console asset '${name}'` });
        return;
      }
      res.set({
        "content-type": asset.contentType,
        "cache-control": "public, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
        vary: "accept-encoding",
      });
      if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) res.set("content-encoding", "gzip").end(Buffer.from(asset.gzipped));
      else res.end(Buffer.from(asset.contents));
      return;
    }
    res.set({ ...PAGE_HEADERS, "content-type": "text/html; charset=utf-8" }).end(page(assets, `${req.baseUrl}${PREFIX}/`));
  };
  return (req, res, next) => {
    if (!isConsolePath(req.method, req.path)) {
      next();
      return;
    }
    answer(req, res).catch((error: unknown) => {
      const reply = errorReply(error, logger);
      res.status(reply.status).json(reply.body);
    });
  };
}
