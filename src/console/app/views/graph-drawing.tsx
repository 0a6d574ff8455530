/**
 * Draws a graph as `/assistants/{id}/graph` describes it: nodes in layers from `__start__` down
 * (the longest path to each node, cycles broken where they close), edges as curves, conditional
 * ones dashed. With xray, a subgraph's nodes are named `<subgraph>:<node>` and drawn in its colour.
 */
export interface GraphNode {
  id: string | number;
  name?: string;
  data?: unknown;
}
export interface GraphEdge {
  source: string | number;
  target: string | number;
  conditional?: boolean;
  data?: unknown;
}
export interface GraphDescription {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

const NODE_HEIGHT = 34;
const LAYER_GAP = 70;
const NODE_GAP = 24;
const CHAR_WIDTH = 7.5;

interface Placed {
  id: string;
  label: string;
  group: string | undefined;
  x: number;
  y: number;
  width: number;
}

/** Layer of each node: the longest path from the roots, over the edges that do not close a cycle. */
function layers(ids: string[], edges: Array<[string, string]>): Map<string, number> {
  const outgoing = new Map(ids.map((id) => [id, [] as string[]]));
  for (const [from, to] of edges) outgoing.get(from)?.push(to);
  const state = new Map<string, "open" | "done">();
  const forward: Array<[string, string]> = [];
  const visit = (id: string) => {
    state.set(id, "open");
    for (const next of outgoing.get(id) ?? []) {
      if (state.get(next) === "open") continue; // closes a cycle
      forward.push([id, next]);
      if (!state.has(next)) visit(next);
    }
    state.set(id, "done");
  };
  const start = ids.includes("__start__") ? ["__start__"] : [];
  for (const id of [...start, ...ids]) if (!state.has(id)) visit(id);
  const layer = new Map(ids.map((id) => [id, 0]));
  // longest path on the acyclic edges: relax |ids| times at most
  for (let round = 0, changed = true; changed && round < ids.length; round++) {
    changed = false;
    for (const [from, to] of forward) {
      if (layer.get(to)! < layer.get(from)! + 1) {
        layer.set(to, layer.get(from)! + 1);
        changed = true;
      }
    }
  }
  return layer;
}

function place(graph: GraphDescription): { nodes: Placed[]; width: number; height: number } {
  const ids = graph.nodes.map((node) => String(node.id));
  const layerOf = layers(
    ids,
    graph.edges.map((edge) => [String(edge.source), String(edge.target)]),
  );
  const rows = new Map<number, string[]>();
  for (const id of ids) rows.set(layerOf.get(id)!, [...(rows.get(layerOf.get(id)!) ?? []), id]);
  const widthOf = (label: string) => Math.max(70, label.length * CHAR_WIDTH + 28);
  const labelOf = (id: string) => (id.includes(":") ? id.slice(id.lastIndexOf(":") + 1) : id);
  const ordered = [...rows.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
  const rowWidth = (row: string[]) => row.reduce((sum, id) => sum + widthOf(labelOf(id)) + NODE_GAP, -NODE_GAP);
  const width = Math.max(...ordered.map(rowWidth), 200) + 40;
  const nodes: Placed[] = [];
  ordered.forEach((row, index) => {
    let x = (width - rowWidth(row)) / 2;
    for (const id of row) {
      const label = labelOf(id);
      const group = id.includes(":") ? id.slice(0, id.lastIndexOf(":")) : undefined;
      nodes.push({ id, label, group, x, y: 20 + index * LAYER_GAP, width: widthOf(label) });
      x += widthOf(label) + NODE_GAP;
    }
  });
  return { nodes, width, height: 20 + rows.size * LAYER_GAP };
}

const GROUP_COLOURS = ["#e0f2fe", "#fef3c7", "#dcfce7", "#fce7f3", "#ede9fe"];

export function GraphDrawing({ graph, title }: { graph: GraphDescription; title: string }) {
  const { nodes, width, height } = place(graph);
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const groups = [...new Set(nodes.map((node) => node.group).filter((g): g is string => g !== undefined))];
  const fill = (node: Placed) =>
    node.group ? GROUP_COLOURS[groups.indexOf(node.group) % GROUP_COLOURS.length] : node.id.startsWith("__") ? "#f1f5f9" : "#ffffff";
  return (
    <figure className="graph-drawing">
      <svg viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={title}>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#64748b" />
          </marker>
        </defs>
        {graph.edges.map((edge, index) => {
          const from = byId.get(String(edge.source));
          const to = byId.get(String(edge.target));
          if (!from || !to) return null;
          const x1 = from.x + from.width / 2;
          const y1 = from.y + NODE_HEIGHT;
          const x2 = to.x + to.width / 2;
          const y2 = to.y;
          // an edge going up (a loop back) leaves and enters from the side
          const path =
            y2 > y1
              ? `M ${x1} ${y1} C ${x1} ${y1 + 30}, ${x2} ${y2 - 30}, ${x2} ${y2}`
              : `M ${from.x + from.width} ${from.y + NODE_HEIGHT / 2} C ${from.x + from.width + 60} ${from.y}, ${to.x + to.width + 60} ${to.y + NODE_HEIGHT}, ${to.x + to.width} ${to.y + NODE_HEIGHT / 2}`;
          return (
            <path
              key={index}
              d={path}
              fill="none"
              stroke="#64748b"
              strokeWidth={1.5}
              strokeDasharray={edge.conditional ? "5 4" : undefined}
              markerEnd="url(#arrow)"
            />
          );
        })}
        {nodes.map((node) => (
          <g key={node.id} data-node={node.id}>
            <title>{node.id}</title>
            <rect x={node.x} y={node.y} width={node.width} height={NODE_HEIGHT} rx={8} fill={fill(node)} stroke="#334155" />
            <text x={node.x + node.width / 2} y={node.y + NODE_HEIGHT / 2 + 5} textAnchor="middle" fontSize={13}>
              {node.label}
            </text>
          </g>
        ))}
      </svg>
      {groups.length > 0 ? <figcaption>Subgraphs: {groups.join(", ")}</figcaption> : null}
    </figure>
  );
}
