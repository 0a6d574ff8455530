/**
 * The generative-UI components of langgraph.json (`ui`: graph id -> component module), bundled
 * once at startup and served from memory by `/ui/{graph_id}`. The bundler (esbuild, Tailwind,
 * PostCSS) is loaded only when there are components to bundle.
 */
import type { LanggraphConfig } from "../graphs/config.js";
import type { UiAsset } from "./bundler.js";
import { uiGlobalName } from "./global-name.js";

export { uiGlobalName } from "./global-name.js";
export type { UiAsset } from "./bundler.js";

export class UiBundleError extends Error {}

export class GraphUis {
  private constructor(private readonly assets: ReadonlyMap<string, UiAsset[]>) {}

  /** @throws UiBundleError naming the graph and every bundling error */
  static async build(config: Pick<LanggraphConfig, "configDir" | "ui" | "ui_config">): Promise<GraphUis> {
    const shared = config.ui_config?.shared ?? [];
    const components = Object.entries(config.ui ?? {});
    if (components.length === 0) return new GraphUis(new Map());
    const { bundleUi } = await import("./bundler.js");
    const entries = await Promise.all(
      components.map(async ([graphId, userPath]) => {
        try {
          return [graphId, await bundleUi(graphId, config.configDir, userPath, shared)] as const;
        } catch (error) {
          throw new UiBundleError(`ui.${graphId} (${userPath}): ${(error as Error).message}`);
        }
      }),
    );
    return new GraphUis(new Map(entries));
  }

  /** Graph ids that have components. */
  get graphIds(): string[] {
    return [...this.assets.keys()];
  }

  /** The bundle of a graph, stylesheets first; undefined when the graph has no `ui` entry. */
  files(graphId: string): UiAsset[] | undefined {
    const files = this.assets.get(graphId);
    return files && [...files].sort((a, b) => Number(b.basename.endsWith(".css")) - Number(a.basename.endsWith(".css")));
  }

  asset(graphId: string, basename: string): UiAsset | undefined {
    return this.assets.get(graphId)?.find((file) => file.basename === basename);
  }

  globalName(graphId: string): string {
    return uiGlobalName(graphId);
  }
}
