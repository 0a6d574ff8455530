/**
 * AssistantsRepository on two tables: `assistants` holds each assistant's current state,
 * `assistant_versions` every version. A patch locks the assistant row, adds version max+1 and
 * makes it current in one transaction.
 */
import { v4 as uuidv4 } from "uuid";
import { ConflictError, NotFoundError } from "../errors.js";
import type { Assistant, AssistantVersion } from "../records.js";
import type {
  AssistantCreate,
  AssistantFilter,
  AssistantPatch,
  AssistantSearch,
  AssistantsRepository,
  AssistantVersionQuery,
  Page,
  Scope,
} from "../types.js";
import { assistantAt, firstAssistantVersion } from "../new-records.js";
import type { Database, Queryable } from "./database.js";
import { scopeConditions } from "./scope.js";
import { ilikeContains, iso, isoNow, isUniqueViolation, jsonCopy, orderBy, page, Params, searchPage, where } from "./sql.js";

const WHAT = "Assistant";
const SORTABLE = new Set(["assistant_id", "graph_id", "name", "created_at", "updated_at"]);
const FIELDS = "graph_id, config, context, metadata, name, description, version, created_at";

export interface AssistantRow {
  assistant_id: string;
  graph_id: string;
  config: Assistant["config"];
  context: AssistantVersion["context"];
  metadata: Assistant["metadata"];
  name: string;
  description: string | null;
  version: number;
  created_at: Date;
  updated_at?: Date;
}

export function toVersion(row: AssistantRow): AssistantVersion {
  return {
    assistant_id: row.assistant_id,
    graph_id: row.graph_id,
    config: row.config,
    context: row.context,
    metadata: row.metadata,
    name: row.name,
    description: row.description,
    version: row.version,
    created_at: iso(row.created_at)!,
  };
}

export const toAssistant = (row: AssistantRow): Assistant => ({ ...toVersion(row), updated_at: iso(row.updated_at!)! });

export class PostgresAssistants implements AssistantsRepository {
  constructor(private readonly db: Database) {}

  async create(input: AssistantCreate, scope?: Scope): Promise<Assistant> {
    const id = input.assistant_id ?? uuidv4();
    const at = isoNow();
    const version = firstAssistantVersion(input, id, at);
    try {
      const inserted = await this.db.transaction(async (tx) => {
        const { rowCount } = await tx.query(
          `INSERT INTO assistants (assistant_id, ${FIELDS}, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8) ON CONFLICT (assistant_id) DO NOTHING`,
          versionValues(version),
        );
        if (rowCount === 0) return false;
        await insertVersion(tx, version);
        return true;
      });
      if (inserted) return assistantAt(version, at, at);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    // a hidden assistant's id is still taken, but never handed out by "do_nothing"
    const existing = input.if_exists === "do_nothing" ? await this.#find(id, scope) : undefined;
    if (!existing) throw new ConflictError(WHAT, id);
    return existing;
  }

  async get(assistantId: string, scope?: Scope): Promise<Assistant> {
    const assistant = await this.#find(assistantId, scope);
    if (!assistant) throw new NotFoundError(WHAT, assistantId);
    return assistant;
  }

  async patch(assistantId: string, patch: AssistantPatch, scope?: Scope): Promise<Assistant> {
    return this.db.transaction(async (tx) => {
      const current = await lockVisible(tx, assistantId, scope);
      const { rows } = await tx.query<{ latest: number }>("SELECT max(version) AS latest FROM assistant_versions WHERE assistant_id = $1", [
        assistantId,
      ]);
      const at = isoNow();
      const version: AssistantVersion = {
        assistant_id: assistantId,
        graph_id: patch.graph_id ?? current.graph_id,
        config: patch.config !== undefined ? jsonCopy(patch.config) : current.config,
        context: patch.context !== undefined ? jsonCopy(patch.context) : current.context,
        metadata: patch.metadata !== undefined ? { ...current.metadata, ...jsonCopy(patch.metadata) } : current.metadata,
        name: patch.name ?? current.name,
        description: patch.description !== undefined ? patch.description : (current.description ?? null),
        version: (rows[0]?.latest ?? 0) + 1,
        created_at: at,
      };
      await insertVersion(tx, version);
      return makeCurrent(tx, version, current.created_at, at);
    });
  }

  async delete(assistantId: string, scope?: Scope): Promise<void> {
    const params = new Params();
    const conditions = [`assistant_id = ${params.add(assistantId)}`, ...scopeConditions(params, scope)];
    const { rowCount } = await this.db.query(`DELETE FROM assistants WHERE ${where(conditions)}`, params.values);
    if (rowCount === 0) throw new NotFoundError(WHAT, assistantId);
  }

  async search(query: AssistantSearch = {}, scope?: Scope): Promise<Page<Assistant>> {
    const params = new Params();
    const filter = conditions(params, query.filter, scope);
    const sortBy = SORTABLE.has(query.sortBy ?? "") ? query.sortBy! : "created_at";
    return searchPage(this.db, {
      columns: "*",
      table: "assistants",
      filter,
      params,
      order: orderBy(sortBy, query.sortOrder, "assistant_id"),
      window: query,
      toItem: toAssistant,
      countAll: () => this.count(query.filter, scope),
    });
  }

  async count(filter?: AssistantFilter, scope?: Scope): Promise<number> {
    const params = new Params();
    const { rows } = await this.db.query<{ n: string }>(
      `SELECT count(*) AS n FROM assistants WHERE ${conditions(params, filter, scope)}`,
      params.values,
    );
    return Number(rows[0].n);
  }

  async listVersions(assistantId: string, query: AssistantVersionQuery = {}, scope?: Scope): Promise<Page<AssistantVersion>> {
    await this.get(assistantId, scope);
    const params = new Params();
    const filter = [`assistant_id = ${params.add(assistantId)}`];
    if (query.filter?.metadata !== undefined) filter.push(`metadata @> ${params.json(query.filter.metadata)}`);
    const window = page(params, query);
    const [{ rows }, { rows: counted }] = await Promise.all([
      this.db.query<AssistantRow>(
        `SELECT assistant_id, ${FIELDS} FROM assistant_versions WHERE ${where(filter)} ORDER BY version DESC ${window}`,
        params.values,
      ),
      this.db.query<{ n: string }>(
        `SELECT count(*) AS n FROM assistant_versions WHERE ${where(filter)}`,
        params.values.slice(0, params.values.length - 2),
      ),
    ]);
    return { items: rows.map(toVersion), total: Number(counted[0].n) };
  }

  async setLatest(assistantId: string, version: number, scope?: Scope): Promise<Assistant> {
    return this.db.transaction(async (tx) => {
      const current = await lockVisible(tx, assistantId, scope);
      const { rows } = await tx.query<AssistantRow>(
        `SELECT assistant_id, ${FIELDS} FROM assistant_versions WHERE assistant_id = $1 AND version = $2`,
        [assistantId, version],
      );
      if (!rows[0]) throw new NotFoundError("Assistant version", `${assistantId}@${version}`);
      return makeCurrent(tx, toVersion(rows[0]), current.created_at, isoNow());
    });
  }

  async #find(assistantId: string, scope: Scope | undefined): Promise<Assistant | undefined> {
    const params = new Params();
    const conditions = [`assistant_id = ${params.add(assistantId)}`, ...scopeConditions(params, scope)];
    const { rows } = await this.db.query<AssistantRow>(`SELECT * FROM assistants WHERE ${where(conditions)}`, params.values);
    return rows[0] && toAssistant(rows[0]);
  }
}

function versionValues(v: AssistantVersion): unknown[] {
  return [
    v.assistant_id,
    v.graph_id,
    JSON.stringify(v.config),
    JSON.stringify(v.context),
    JSON.stringify(v.metadata),
    v.name,
    v.description,
    v.created_at,
  ];
}

async function insertVersion(tx: Queryable, v: AssistantVersion): Promise<void> {
  await tx.query(`INSERT INTO assistant_versions (assistant_id, ${FIELDS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8)`, [
    ...versionValues(v),
    v.version,
  ]);
}

/** The assistant row, locked for this transaction; NotFoundError when absent or not visible. */
async function lockVisible(tx: Queryable, assistantId: string, scope: Scope | undefined): Promise<Assistant> {
  const params = new Params();
  const conditions = [`assistant_id = ${params.add(assistantId)}`, ...scopeConditions(params, scope)];
  const { rows } = await tx.query<AssistantRow>(`SELECT * FROM assistants WHERE ${where(conditions)} FOR UPDATE`, params.values);
  if (!rows[0]) throw new NotFoundError(WHAT, assistantId);
  return toAssistant(rows[0]);
}

/** Copies a version into the assistant row (keeping the assistant's creation time). */
async function makeCurrent(tx: Queryable, v: AssistantVersion, createdAt: string, at: string): Promise<Assistant> {
  await tx.query(
    `UPDATE assistants SET graph_id = $2, config = $3, context = $4, metadata = $5, name = $6, description = $7,
       version = $8, updated_at = $9 WHERE assistant_id = $1`,
    [
      v.assistant_id,
      v.graph_id,
      JSON.stringify(v.config),
      JSON.stringify(v.context),
      JSON.stringify(v.metadata),
      v.name,
      v.description,
      v.version,
      at,
    ],
  );
  return { ...v, created_at: createdAt, updated_at: at };
}

function conditions(params: Params, filter: AssistantFilter | undefined, scope: Scope | undefined): string {
  const c = scopeConditions(params, scope);
  if (filter?.graph_id !== undefined) c.push(`graph_id = ${params.add(filter.graph_id)}`);
  if (filter?.name !== undefined) c.push(ilikeContains(params, "name", filter.name));
  if (filter?.metadata !== undefined) c.push(`metadata @> ${params.json(filter.metadata)}`);
  return where(c);
}
