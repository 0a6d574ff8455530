/**
 * The container image as an operator runs it: built from the Dockerfile on a locally made base
 * image, started with its own entrypoint and the environment compose.yaml gives its replicas, two
 * replicas on one fresh PostgreSQL database, driven with the SDK.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Client } from "@langchain/langgraph-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { freePort } from "../support/free-port.js";
import {
  buildProjectImage,
  buildServerImage,
  ensureContainerTools,
  inspectImage,
  nodeBaseImage,
  runContainer,
  runInImage,
  type Container,
  type ImageConfig,
} from "../support/image.js";
import { startPostgres, type PostgresServer } from "../support/postgres-server.js";
import { eventually } from "../support/runs.js";
import { REPO_ROOT } from "../support/server.js";

interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  ports?: string[];
}
const compose = parse(readFileSync(path.join(REPO_ROOT, "compose.yaml"), "utf8"), { merge: true }) as { services: Record<string, ComposeService> };
const replicas = Object.entries(compose.services).filter(([, service]) => service.image === "langgraph-ts-server");

let image: string;
let config: ImageConfig;
let postgres: PostgresServer;
const containers: Container[] = [];

beforeAll(() => {
  ensureContainerTools();
  image = buildServerImage(nodeBaseImage());
  config = inspectImage(image);
}, 900_000);

afterAll(async () => {
  for (const container of containers) {
    await container.stop("SIGKILL");
    container.remove();
  }
  await postgres?.stop();
});

/** Starts a container of the image and waits until `/ok` (with `check_db`) answers on `port`. */
async function startReplica(
  env: Record<string, string>,
  port: number,
  volumes: string[] = [],
  of = image,
): Promise<{ container: Container; url: string }> {
  const container = runContainer(of, { ...env, PORT: String(port) }, volumes);
  containers.push(container);
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (container.process.exitCode !== null) throw new Error(`the container exited: ${container.output()}`);
      return (await fetch(`${url}/ok?check_db=1`).catch(() => undefined))?.ok || undefined;
    },
    120_000,
    `the server in the container answering on ${url}`,
  );
  return { container, url };
}

describe("container image", () => {
  it("runs the CLI as an unprivileged user, with a health check, configured by environment", () => {
    expect(config.Entrypoint).toEqual(["node", "bin/lgts.js"]);
    expect(config.Cmd).toEqual(["serve"]);
    expect(config.User).toBe("10001:10001");
    expect(config.Env).toEqual(expect.arrayContaining(["HOST=0.0.0.0", "PORT=2024", "LGTS_CONFIG=/project/langgraph.json", "LGTS_DATA_DIR=/data"]));
    expect(config.Healthcheck?.Test[0]).toBe("CMD");
    expect(Object.keys(config.ExposedPorts ?? {})).toEqual(["2024/tcp"]);
  });

  it("holds production dependencies only", () => {
    // told by the exit code: under load `buildah run` was seen to lose the output of a command
    const probe = (pkg: string) => {
      const result = runInImage(image, ["node", "-e", `import(${JSON.stringify(pkg)}).then(() => process.exit(10), () => process.exit(11))`]);
      expect([10, 11], `${result.status}: ${result.stderr}`).toContain(result.status);
      return result.status === 10 ? "present" : "absent";
    };
    expect(probe("@langchain/langgraph")).toBe("present");
    expect(probe("vitest")).toBe("absent");
    expect(probe("@stoplight/prism-cli")).toBe("absent");
  });

  it("runs the server from the build made with the image (its user cannot write /app)", () => {
    const check =
      "const { serverEntry } = await import('/app/bin/server-build.js'); process.exit((await serverEntry())?.startsWith('file:///app/dist/server/') ? 10 : 11);";
    const result = runInImage(image, ["node", "--input-type=module", "-e", check]);
    expect(result.status, result.stderr).toBe(10);
  });

  it("serves the embedded store from its data volume as the unprivileged user", async () => {
    const { url } = await startReplica({}, await freePort());
    const client = new Client({ apiUrl: url });
    const thread = await client.threads.create({ metadata: { stored: "on /data" } });
    expect((await client.threads.get(thread.thread_id)).metadata).toMatchObject({ stored: "on /data" });
    const info = (await (await fetch(`${url}/info`)).json()) as { metadata: { storage: string } };
    expect(info.metadata.storage).toBe("lowdb");
  });

  it("serves a project mounted at /project, with packages of its own and the server's", async () => {
    const project = path.join(REPO_ROOT, "test/fixtures/graphs-external");
    const { url } = await startReplica({}, await freePort(), [`${project}:/project:ro`]);
    const info = (await (await fetch(`${url}/info`)).json()) as { metadata: { graphs: string[] } };
    expect(info.metadata.graphs).toEqual(["external"]);
    const values = await new Client({ apiUrl: url }).runs.wait(null, "external", { input: { name: "container" } });
    expect(values).toMatchObject({ message: expect.stringContaining("container"), origin: expect.any(String) });
  });

  it("serves a project built into an image FROM it, as the README shows", async () => {
    const project = buildProjectImage(image, path.join(REPO_ROOT, "test/fixtures/graphs-external"));
    const { url } = await startReplica({}, await freePort(), [], project);
    const values = await new Client({ apiUrl: url }).runs.wait(null, "external", { input: { name: "built in" } });
    expect(values).toMatchObject({ message: expect.stringContaining("built in") });
  });

  it("runs compose.yaml's two replicas on one PostgreSQL database, which the first start migrates", async () => {
    expect(replicas.map(([name]) => name)).toEqual(["server-1", "server-2"]);
    postgres = await startPostgres();
    // compose's database host is its `postgres` service; here it is the test's server
    const environment = (service: ComposeService) =>
      Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([name, value]) => [
          name,
          name === "DATABASE_URI" ? value.replace(/@postgres:5432\//, `@127.0.0.1:${postgres.port}/`) : value,
        ]),
      );
    const admin = new URL(postgres.uri);
    const database = new URL(environment(replicas[0][1]).DATABASE_URI);
    // the role and database compose's postgres service creates (POSTGRES_USER, POSTGRES_DB)
    const { default: pg } = await import("pg");
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    await client.query(`CREATE ROLE ${database.username} LOGIN PASSWORD '${database.password}'`);
    await client.query(`CREATE DATABASE ${database.pathname.slice(1)} OWNER ${database.username}`);
    await client.end();

    const [first, second] = await Promise.all(replicas.map(async ([, service]) => startReplica(environment(service), await freePort())));
    const one = new Client({ apiUrl: first.url });
    const two = new Client({ apiUrl: second.url });
    const info = (await (await fetch(`${second.url}/info`)).json()) as { metadata: { storage: string } };
    expect(info.metadata.storage).toBe("postgres");

    // a thread made through one replica runs through the other; its state reads the same on both
    const thread = await one.threads.create();
    const values = (await two.runs.wait(thread.thread_id, "agent", {
      input: { messages: [{ role: "user", content: "hello from a container" }] },
    })) as { messages: { content: string }[] };
    expect(values.messages.at(-1)?.content).toContain("hello from a container");
    expect((await one.threads.getState(thread.thread_id)).values).toEqual(values);

    // a run streamed from one replica while the other may execute it: every event once, in order
    const events: string[] = [];
    for await (const chunk of one.runs.stream(null, "agent", {
      input: { messages: [{ role: "user", content: "stream me" }] },
      streamMode: ["values"],
    })) {
      events.push(chunk.event);
    }
    expect(events[0]).toBe("metadata");
    expect(events.filter((event) => event === "values").length).toBeGreaterThanOrEqual(2);
  });

  it("passes its own health check while serving, fails it when nothing answers", async () => {
    const [, ...healthCheck] = config.Healthcheck!.Test;
    const port = await freePort();
    const { container } = await startReplica({}, port);
    expect(container.exec(healthCheck, { PORT: String(port) }).status).toBe(0);
    expect(container.exec(healthCheck, { PORT: String(await freePort()) }).status).not.toBe(0);
  });
});
