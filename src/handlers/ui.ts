import type { Request } from "express";
import { HttpError } from "../http/errors.js";
import type { OperationHandlers } from "../http/operations.js";
import type { RequestAuth } from "../auth/index.js";
import type { Services } from "../services.js";
import { isNotFound } from "../errors.js";
import { getAssistant } from "../app/assistants.js";

type UiOperations = "getUiComponent" | "getUiAsset";

const CONTENT_TYPES: Record<string, string> = { ".js": "text/javascript", ".css": "text/css" };
const decoder = new TextDecoder();

/**
 * `LoadExternalComponent` asks with `stream.assistantId`: a graph id, or an assistant's UUID
 * (which the caller must be allowed to read).
 */
async function uiGraphId(services: Services, id: string, auth: RequestAuth): Promise<string> {
  if (services.ui.files(id)) return id;
  try {
    const assistant = await getAssistant(services, auth, id);
    if (services.ui.files(assistant.graph_id)) return assistant.graph_id;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const served = services.ui.graphIds;
  throw new HttpError(
    404,
    `No UI components for '${id}'` + (served.length ? `; components exist for: ${served.join(", ")}` : "; langgraph.json declares no `ui`"),
  );
}

/** Absolute, so the snippet also works when inserted into a page of another origin. */
function publicBase(req: Request): string {
  const forwarded = String(req.headers["x-forwarded-proto"] ?? "")
    .split(",")[0]
    .trim();
  const protocol = forwarded === "https" || forwarded === "http" ? forwarded : req.protocol;
  return `${protocol}://${req.headers.host ?? "localhost"}${req.baseUrl}`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/** For a single-quoted attribute: the JavaScript inside keeps its double quotes as they are. */
const escapeSingleQuotedAttribute = (text: string) => text.replace(/[&']/g, (c) => (c === "&" ? "&amp;" : "&#39;"));

/** A JS string literal; `{` escaped so the SDK's `{{shadowRootId}}` replacement only hits the placeholder. */
const jsString = (text: string) => JSON.stringify(text).replace(/\{/g, "\\u007b");

export const uiHandlers: OperationHandlers<UiOperations> = {
  async getUiComponent({ params, body, services, auth, req }) {
    const graphId = await uiGraphId(services, params.graph_id, auth);
    const base = `${publicBase(req)}/ui/${encodeURIComponent(graphId)}`;
    const rootId = body.shadowRootId === undefined ? '"{{shadowRootId}}"' : jsString(body.shadowRootId);
    const html = services.ui.files(graphId)!.map(({ basename }) => {
      const href = escapeHtml(`${base}/${encodeURIComponent(basename)}`);
      if (basename.endsWith(".css")) return `<link rel="stylesheet" href="${href}" />`;
      // single-quoted, as the official servers write it (what users' snippets and checks match)
      const onload = escapeSingleQuotedAttribute(`${services.ui.globalName(graphId)}.render(${jsString(body.name)}, ${rootId})`);
      return `<script src="${href}" onload='${onload}'></script>`;
    });
    return { status: 200, body: html.join("\n"), contentType: "text/html" };
  },

  async getUiAsset({ params, services }) {
    const asset = services.ui.asset(params.graph_id, params.file);
    const type = CONTENT_TYPES[params.file.slice(params.file.lastIndexOf("."))];
    if (!asset || !type) throw new HttpError(404, `No UI file '${params.file}' for '${params.graph_id}'`);
    return { status: 200, body: decoder.decode(asset.contents), contentType: `${type}; charset=utf-8` };
  },
};
