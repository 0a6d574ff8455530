/** A module the page shares with the generative-UI bundles (`ui_config.shared` in langgraph.json). */
export function Badge(props: { label: string }) {
  return <strong data-testid="badge">{props.label}</strong>;
}
