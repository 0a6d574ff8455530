import { USAGE, UsageError, parseServerOptions } from "./config.js";
import { startServer, StartupError } from "./server.js";

async function main() {
  let options;
  try {
    options = parseServerOptions(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (options === "help") {
    console.log(USAGE);
    return;
  }
  try {
    const server = await startServer(options);
    // A graph can leave a promise rejected with nobody listening (a stray async call in a node).
    // That is the graph's bug: log it rather than let Node end the process and every other run.
    process.on("unhandledRejection", (reason) => {
      server.logger.error({ err: reason }, "unhandled promise rejection (a graph's stray async work?)");
    });
    const stop = (signal: string) => {
      server.logger.info({ signal }, "shutting down");
      server.close().then(
        () => process.exit(0),
        (error: unknown) => {
          server.logger.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  } catch (error) {
    if (error instanceof StartupError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

await main();
