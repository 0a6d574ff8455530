/** Helpers of the stream test suites: contract validation of events, raw SSE reading. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { REPO_ROOT } from "./server.js";

/** Example graphs plus the failing fixture. */
export const STREAMS_CONFIG = path.join(REPO_ROOT, "test/fixtures/streams/langgraph.json");

export interface StreamPart {
  id?: string;
  event: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

const contract = JSON.parse(readFileSync(path.join(REPO_ROOT, "generated/openapi.json"), "utf8")) as object;
const ajv = new Ajv2020({ strict: false, allErrors: true });
(addFormats as unknown as (ajv: Ajv2020) => void)(ajv);
ajv.addSchema({ ...contract, $id: "contract" });
const validators = new Map<string, ValidateFunction>();

/**
 * The events that break the contract's schema (`RunStreamEvent` or `ThreadStreamEvent`), each with
 * Ajv's complaint; [] when all conform. The schemas come from the bundled generated/openapi.json.
 */
export function contractViolations(events: StreamPart[], schema: "RunStreamEvent" | "ThreadStreamEvent"): string[] {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.getSchema(`contract#/components/schemas/${schema}`)!;
    validators.set(schema, validate);
  }
  const problems: string[] = [];
  for (const event of events) {
    if (!(validate as (data: unknown) => boolean)(event)) {
      // anyOf reports every branch: the errors of the branch named like the event say most
      const errors = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`).slice(0, 6);
      problems.push(`${event.event} ${JSON.stringify(event.data).slice(0, 200)}: ${errors.join("; ")}`);
    }
  }
  return problems;
}

/** Reads a stream to its end. */
export async function collect(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

/** One parsed SSE event with its raw lines (to check the wire format). */
export interface RawEvent {
  id: string | undefined;
  event: string | undefined;
  data: unknown;
}

/** Splits an SSE body into events; comment lines (heartbeats) are counted apart. */
export function parseSse(text: string): { events: RawEvent[]; comments: number } {
  const events: RawEvent[] = [];
  let comments = 0;
  for (const block of text.split("\n\n")) {
    if (block.trim() === "") continue;
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) comments += 1;
      else if (line.startsWith("id: ")) id = line.slice(4);
      else if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (event !== undefined || data.length) events.push({ id, event, data: data.length ? JSON.parse(data.join("\n")) : null });
  }
  return { events, comments };
}

/** A join of a run that is missing or hidden: 200, one `error` event saying 404, as on the Platform. */
export function expectNotFoundStream(status: number, body: string): void {
  expect(status, body).toBe(200);
  expect(parseSse(body).events).toEqual([
    { id: undefined, event: "error", data: { error: "HTTPException", message: expect.stringMatching(/^404: /) } },
  ]);
}
