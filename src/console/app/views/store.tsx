/** The store: namespaces as a tree, the items under one, search (semantic with a query), edit and delete. */
import type { SearchItem } from "@langchain/langgraph-sdk";
import { useState } from "react";
import { useClient } from "../session.js";
import { useAction, useLoad } from "../use-load.js";
import { ConfirmButton, ErrorNote, JsonEditor, JsonView, Loading, Panel, Time, parseJson, pretty } from "../ui.js";

interface TreeNode {
  name: string;
  path: string[];
  children: Map<string, TreeNode>;
}

function tree(namespaces: string[][]): TreeNode {
  const root: TreeNode = { name: "", path: [], children: new Map() };
  for (const namespace of namespaces) {
    let node = root;
    for (const part of namespace) {
      let child = node.children.get(part);
      if (!child) {
        child = { name: part, path: [...node.path, part], children: new Map() };
        node.children.set(part, child);
      }
      node = child;
    }
  }
  return root;
}

function Branch({ node, selected, onSelect }: { node: TreeNode; selected: string[]; onSelect(path: string[]): void }) {
  return (
    <ul role="group">
      {[...node.children.values()].map((child) => {
        const isSelected = child.path.join("\u0000") === selected.join("\u0000");
        return (
          <li key={child.name} role="treeitem" aria-selected={isSelected}>
            <button type="button" className={isSelected ? "link selected" : "link"} onClick={() => onSelect(child.path)}>
              {child.name}
            </button>
            {child.children.size > 0 ? <Branch node={child} selected={selected} onSelect={onSelect} /> : null}
          </li>
        );
      })}
    </ul>
  );
}

export function StoreView() {
  const client = useClient();
  const [generation, setGeneration] = useState(0);
  const namespaces = useLoad(() => client.store.listNamespaces({ limit: 1000 }), [client, generation]);
  const [selected, setSelected] = useState<string[]>([]);
  const [query, setQuery] = useState("");
  const [filter, setFilter] = useState("{}");
  const [search, setSearch] = useState<{ query?: string; filter?: Record<string, unknown> }>({});
  const items = useLoad(() => client.store.searchItems(selected, { ...search, limit: 100 }), [client, selected, search, generation]);
  const refresh = () => setGeneration((g) => g + 1);
  return (
    <div className="columns">
      <Panel
        title="Namespaces"
        actions={
          <button type="button" onClick={refresh}>
            Refresh
          </button>
        }
      >
        <ErrorNote error={namespaces.error} />
        {namespaces.data ? (
          <nav aria-label="namespaces" role="tree" data-testid="namespaces">
            <button type="button" className={selected.length === 0 ? "link selected" : "link"} onClick={() => setSelected([])}>
              (all)
            </button>
            <Branch node={tree(namespaces.data.namespaces)} selected={selected} onSelect={setSelected} />
          </nav>
        ) : (
          <Loading what="namespaces" />
        )}
      </Panel>
      <div className="stack">
        <Panel title={`Items under ${selected.length ? selected.join(" / ") : "every namespace"}`}>
          <form
            className="filters"
            role="search"
            onSubmit={(event) => {
              event.preventDefault();
              const parsed = parseJson(filter, {});
              if (parsed.error) return;
              const value = parsed.value as Record<string, unknown>;
              setSearch({ ...(query ? { query } : {}), ...(Object.keys(value).length ? { filter: value } : {}) });
              refresh();
            }}
          >
            <label>
              <span>Query (semantic search where the store has an index)</span>
              <input value={query} onChange={(event) => setQuery(event.target.value)} data-testid="store-query" />
            </label>
            <JsonEditor label="Filter (JSON)" text={filter} onChange={setFilter} rows={1} />
            <button type="submit">Search</button>
          </form>
          <ErrorNote error={items.error} />
          <ul className="items" data-testid="items">
            {(items.data?.items ?? []).map((item) => (
              <StoredItem key={`${item.namespace.join("/")}/${item.key}`} item={item} onChange={refresh} />
            ))}
          </ul>
          {items.data?.items.length === 0 ? <p className="muted">No items.</p> : null}
        </Panel>
        <ItemEditor namespace={selected} onSaved={refresh} />
      </div>
    </div>
  );
}

function StoredItem({ item, onChange }: { item: SearchItem; onChange(): void }) {
  const client = useClient();
  const [text, setText] = useState(() => pretty(item.value));
  const act = useAction();
  return (
    <li>
      <details>
        <summary>
          <code>{[...item.namespace, item.key].join(" / ")}</code> <Time iso={item.updatedAt} />{" "}
          {item.score != null ? <span className="muted score">score {item.score.toFixed(3)}</span> : null}
        </summary>
        <JsonEditor label="Value" text={text} onChange={setText} rows={6} />
        <div className="actions">
          <button
            type="button"
            disabled={act.busy || parseJson(text).error !== undefined}
            onClick={() =>
              void act.run(() => client.store.putItem(item.namespace, item.key, parseJson(text).value as Record<string, unknown>)).then(onChange)
            }
          >
            Save
          </button>
          <ConfirmButton label="Delete" onConfirm={() => void act.run(() => client.store.deleteItem(item.namespace, item.key)).then(onChange)} />
        </div>
        <ErrorNote error={act.error} />
      </details>
      <JsonView value={item.value} />
    </li>
  );
}

function ItemEditor({ namespace, onSaved }: { namespace: string[]; onSaved(): void }) {
  const client = useClient();
  const [path, setPath] = useState(namespace.join("/"));
  const [key, setKey] = useState("");
  const [value, setValue] = useState("{}");
  const put = useAction();
  return (
    <Panel title="Put an item">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const parts = path.split("/").filter(Boolean);
          void put.run(() => client.store.putItem(parts, key, parseJson(value).value as Record<string, unknown>)).then(onSaved);
        }}
      >
        <label>
          <span>Namespace (a/b/c)</span>
          <input value={path} onChange={(event) => setPath(event.target.value)} data-testid="item-namespace" />
        </label>
        <label>
          <span>Key</span>
          <input value={key} required onChange={(event) => setKey(event.target.value)} data-testid="item-key" />
        </label>
        <JsonEditor label="Value (a JSON object)" text={value} onChange={setValue} rows={4} testId="item-value" />
        <button type="submit" disabled={put.busy || !key || parseJson(value).error !== undefined} data-testid="put-item">
          Put
        </button>
        <ErrorNote error={put.error} />
      </form>
    </Panel>
  );
}
