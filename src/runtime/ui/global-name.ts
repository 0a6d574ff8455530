/** The global a UI bundle's snippet calls: graph ids may hold characters a JS identifier cannot. */
export function uiGlobalName(graphId: string): string {
  return `__LGUI_${graphId.replace(/[^a-zA-Z0-9_$]/g, "_")}`;
}
