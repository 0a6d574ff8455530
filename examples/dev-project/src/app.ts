/** Custom routes (`http.app`), a Hono app as LangGraph.js projects write them. */
import { Client } from "@langchain/langgraph-sdk";
import { getLogger } from "@langchain/langgraph-sdk/logging";
import { Hono } from "hono";
import { streamText } from "hono/streaming";

export const app = new Hono();

app.get("/health/deep", async (c) => {
  // the server's own API, through the URL LangGraph servers give custom routes
  const client = new Client({ apiUrl: process.env.LANGGRAPH_API_URL });
  const assistants = await client.assistants.search({ graphId: "assistant" });
  getLogger().info("deep health check", { assistants: assistants.length });
  return c.json({ ok: true, assistants: assistants.length });
});

app.get("/countdown/:from", (c) =>
  streamText(c, async (stream) => {
    for (let n = Number(c.req.param("from")); n >= 0; n--) await stream.writeln(String(n));
  }),
);
