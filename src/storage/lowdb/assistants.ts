/**
 * AssistantsRepository over a lowdb `Collection<AssistantEntity>`.
 *
 * An assistant and all its versions are stored as one record, so that a patch
 * (new version + new current) is a single atomic shard write. A SQL backend
 * would use two tables instead; the interface does not expose this choice.
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
import { Collection, type CollectionOptions } from "./collection.js";
import { copy, now } from "./json.js";
import { contains, containsIgnoreCase, containsPredicate } from "./match.js";
import { byField, countWhere, paginate } from "./page.js";
import { inScope, scopePredicate } from "../scope.js";

/** What is stored per assistant: the current state and every version (ascending). */
export interface AssistantEntity {
  assistant: Assistant;
  versions: AssistantVersion[];
}

const WHAT = "Assistant";

export function assistantCollectionOptions(dir: string, shards: number): CollectionOptions<AssistantEntity> {
  return {
    dir,
    shards,
    idOf: (e) => e.assistant.assistant_id,
    indexes: { graph_id: (e) => e.assistant.graph_id },
  };
}

export class LowdbAssistants implements AssistantsRepository {
  constructor(private readonly col: Collection<AssistantEntity>) {}

  async create(input: AssistantCreate, scope?: Scope): Promise<Assistant> {
    const id = input.assistant_id ?? uuidv4();
    const existing = this.col.get(id);
    if (existing) {
      if (input.if_exists !== "do_nothing" || !inScope(existing.assistant.metadata, scope)) {
        throw new ConflictError(WHAT, id);
      }
      await this.col.settled(id);
      return copy(existing.assistant);
    }
    const at = now();
    const version = firstAssistantVersion(input, id, at);
    const assistant = assistantAt(version, at, at);
    await this.col.put({ assistant, versions: [version] });
    return copy(assistant);
  }

  async get(assistantId: string, scope?: Scope): Promise<Assistant> {
    const entity = this.#require(assistantId, scope);
    await this.col.settled(assistantId);
    return copy(entity.assistant);
  }

  async patch(assistantId: string, patch: AssistantPatch, scope?: Scope): Promise<Assistant> {
    const { assistant: current, versions } = this.#require(assistantId, scope);
    const at = now();
    const version: AssistantVersion = {
      assistant_id: assistantId,
      graph_id: patch.graph_id ?? current.graph_id,
      config: patch.config !== undefined ? copy(patch.config) : current.config,
      context: patch.context !== undefined ? copy(patch.context) : current.context,
      metadata: patch.metadata !== undefined ? { ...current.metadata, ...copy(patch.metadata) } : current.metadata,
      name: patch.name ?? current.name,
      description: patch.description !== undefined ? patch.description : (current.description ?? null),
      version: latestVersion(versions) + 1,
      created_at: at,
    };
    const assistant: Assistant = { ...version, created_at: current.created_at, updated_at: at };
    await this.col.put({ assistant, versions: [...versions, version] });
    return copy(assistant);
  }

  async delete(assistantId: string, scope?: Scope): Promise<void> {
    this.#require(assistantId, scope);
    await this.col.delete(assistantId);
  }

  async search(query: AssistantSearch = {}, scope?: Scope): Promise<Page<Assistant>> {
    const compare = byField<Assistant>(query.sortBy ?? "created_at", query.sortOrder ?? "desc", (a) => a.assistant_id);
    const where = matcher(query.filter, scope);
    const page = paginate(
      this.#candidates(query.filter),
      (e) => where(e.assistant),
      (a, b) => compare(a.assistant, b.assistant),
      query,
    );
    return { items: page.items.map((e) => copy(e.assistant)), total: page.total };
  }

  async count(filter?: AssistantFilter, scope?: Scope): Promise<number> {
    const where = matcher(filter, scope);
    return countWhere(this.#candidates(filter), (e) => where(e.assistant));
  }

  async listVersions(assistantId: string, query: AssistantVersionQuery = {}, scope?: Scope): Promise<Page<AssistantVersion>> {
    const { versions } = this.#require(assistantId, scope);
    const metadata = query.filter?.metadata;
    const page = paginate(
      versions,
      (v) => metadata === undefined || contains(v.metadata, metadata),
      (a, b) => b.version - a.version,
      query,
    );
    return { items: page.items.map(copy), total: page.total };
  }

  async setLatest(assistantId: string, version: number, scope?: Scope): Promise<Assistant> {
    const { assistant: current, versions } = this.#require(assistantId, scope);
    const target = versions.find((v) => v.version === version);
    if (!target) throw new NotFoundError("Assistant version", `${assistantId}@${version}`);
    const assistant: Assistant = { ...target, created_at: current.created_at, updated_at: now() };
    await this.col.put({ assistant, versions });
    return copy(assistant);
  }

  #require(assistantId: string, scope: Scope | undefined): AssistantEntity {
    const entity = this.col.get(assistantId);
    if (!entity || !inScope(entity.assistant.metadata, scope)) throw new NotFoundError(WHAT, assistantId);
    return entity;
  }

  #candidates(filter: AssistantFilter | undefined): Iterable<AssistantEntity> {
    const eq: Array<readonly [string, string]> = [];
    if (filter?.graph_id !== undefined) eq.push(["graph_id", filter.graph_id]);
    return this.col.candidates(eq);
  }
}

function latestVersion(versions: readonly AssistantVersion[]): number {
  let max = 0;
  for (const v of versions) if (v.version > max) max = v.version;
  return max;
}

/** The full predicate of a search, built once per query (not per record). */
function matcher(filter: AssistantFilter | undefined, scope: Scope | undefined): (a: Assistant) => boolean {
  const visible = scopePredicate(scope);
  const graphId = filter?.graph_id;
  const name = filter?.name;
  const metadata = filter?.metadata && containsPredicate(filter.metadata);
  return (a) =>
    (visible === undefined || visible(a.metadata)) &&
    (graphId === undefined || a.graph_id === graphId) &&
    (name === undefined || containsIgnoreCase(a.name, name)) &&
    (metadata === undefined || metadata(a.metadata));
}
