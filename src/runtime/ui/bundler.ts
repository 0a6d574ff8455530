/**
 * Bundles one `ui` entry of langgraph.json for the browser, as the LangGraph CLI does: an IIFE
 * exposing `__LGUI_<graph>.render(name, shadowRootId)`, with React, the SDK and `ui_config.shared`
 * packages taken from the host page (which registers them under `Symbol.for("LGUI_REQUIRE")`,
 * see `bootstrapUiContext` / `experimental_loadShare` in `@langchain/langgraph-sdk/react-ui`).
 * Stylesheets go through Tailwind CSS (v4), as the CLI's do, so components may use its classes.
 */
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import tailwind from "@tailwindcss/postcss";
import { build, type Plugin } from "esbuild";
import postcss from "postcss";
import { uiGlobalName } from "./global-name.js";

export interface UiAsset {
  /** File name under `/ui/{graph_id}/`, e.g. `entrypoint.js`, `entrypoint.css`. */
  basename: string;
  contents: Uint8Array;
}

/** Packages every UI bundle takes from the page instead of bundling its own copy. */
const HOST_PACKAGES = ["react", "react-dom", "@langchain/langgraph-sdk"];

/**
 * The generated entry point: imports the user's components (default export: name -> component)
 * and hands the requested one, with an element inside the shadow root the page prepared, to the
 * page's component store, which renders it in a portal.
 */
function entrypointSource(importPath: string): string {
  return `import components from ${JSON.stringify(importPath)};
export function render(name, shadowRootId) {
  const component = components[name];
  if (component == null) throw new Error("No UI component named " + JSON.stringify(name));
  const host = document.getElementById(shadowRootId);
  const root = host && host.shadowRoot;
  if (root == null) throw new Error("No shadow root with id " + JSON.stringify(shadowRootId));
  const target = document.createElement("div");
  root.appendChild(target);
  globalThis[Symbol.for("LGUI_EXT_STORE")].respond(shadowRootId, component, target);
}
`;
}

/** Resolves host packages (and their subpaths) to the page's module registry at run time. */
function hostPackagesPlugin(packages: string[]): Plugin {
  const escaped = packages.map((name) => name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"));
  const filter = new RegExp(`^(${escaped.join("|")})(/.*)?$`);
  return {
    name: "lgui-host-packages",
    setup(b) {
      b.onResolve({ filter }, (args) => ({ path: args.path, namespace: "lgui-host" }));
      b.onLoad({ filter: /.*/, namespace: "lgui-host" }, (args) => ({
        contents: `module.exports = globalThis[Symbol.for("LGUI_REQUIRE")](${JSON.stringify(args.path)});`,
        loader: "js",
      }));
    },
  };
}

/**
 * Runs every stylesheet through Tailwind CSS, as the LangGraph CLI does: a stylesheet with
 * `@import "tailwindcss"` gets the utilities the project's files use. Class names are looked for
 * under `base` (the project's folder, as the CLI run from it does; `@source` adds more).
 */
function tailwindPlugin(base: string): Plugin {
  const processor = postcss([tailwind({ base })]);
  return {
    name: "lgui-tailwind",
    setup(b) {
      b.onLoad({ filter: /\.css$/, namespace: "file" }, async (args) => {
        const source = await readFile(args.path, "utf8");
        try {
          const { css } = await processor.process(source, { from: args.path });
          return { contents: css, loader: "css" };
        } catch (error) {
          return { errors: [{ text: `Tailwind CSS: ${(error as Error).message}` }] };
        }
      });
    },
  };
}

/**
 * @param projectDir folder of langgraph.json; `userPath` is relative to it.
 * @param shared extra packages the page provides (`ui_config.shared`).
 * @throws the esbuild failure (its message lists every error with file and line)
 */
export async function bundleUi(graphId: string, projectDir: string, userPath: string, shared: string[] = []): Promise<UiAsset[]> {
  const absolute = path.resolve(projectDir, userPath);
  const entryDir = path.dirname(absolute);
  const result = await build({
    stdin: {
      contents: entrypointSource(`./${path.basename(absolute)}`),
      resolveDir: entryDir,
      sourcefile: "entrypoint.tsx",
      loader: "tsx",
    },
    // output names: entrypoint.js and, when the components import CSS, entrypoint.css
    outfile: path.join(projectDir, "dist", "entrypoint.js"),
    bundle: true,
    write: false,
    platform: "browser",
    target: "es2020",
    format: "iife",
    globalName: uiGlobalName(graphId),
    jsx: "automatic",
    minify: false,
    logLevel: "silent",
    loader: { ".svg": "dataurl", ".png": "dataurl", ".jpg": "dataurl", ".gif": "dataurl", ".woff2": "dataurl" },
    plugins: [hostPackagesPlugin([...HOST_PACKAGES, ...shared]), tailwindPlugin(projectDir)],
  });
  return result.outputFiles.map((file) => ({ basename: path.basename(file.path), contents: withPlainHostRequire(file) }));
}

const encoder = new TextEncoder();

/**
 * esbuild marks `Symbol.for(...)` pure (`globalThis[/* @__PURE__ *\/ Symbol.for(...)]`); the
 * bundle keeps the plain `globalThis[Symbol.for("LGUI_REQUIRE")]` of the official servers' bundles,
 * which tools and checks written against them look for. The comment changes nothing at run time.
 */
function withPlainHostRequire(file: { path: string; text: string; contents: Uint8Array }): Uint8Array {
  if (!file.path.endsWith(".js")) return file.contents;
  return encoder.encode(file.text.replaceAll("globalThis[/* @__PURE__ */ Symbol.for(", "globalThis[Symbol.for("));
}
