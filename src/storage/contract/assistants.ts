/** Storage contract: the assistants repository: assistants and their versions. */
import type { Assistant, AssistantVersion, Config, Context, Metadata, OnConflict } from "../records.js";
import type { Page, Scope, SearchQuery } from "./common.js";

export interface AssistantCreate {
  /** default: a new uuid v4 */
  assistant_id?: string;
  graph_id: string;
  config?: Config;
  context?: Context;
  metadata?: Metadata;
  /** default: graph_id */
  name?: string;
  description?: string | null;
  /** default "raise" (ConflictError); "do_nothing" returns the existing assistant */
  if_exists?: OnConflict;
}

/** Fields not given are kept from the current version; metadata is merged. */
export interface AssistantPatch {
  graph_id?: string;
  config?: Config;
  context?: Context;
  metadata?: Metadata;
  name?: string;
  description?: string | null;
}

export interface AssistantFilter {
  /** JSON containment (`metadata @> filter`) */
  metadata?: Metadata;
  /** exact */
  graph_id?: string;
  /** case-insensitive substring */
  name?: string;
}

export type AssistantSortBy = "assistant_id" | "graph_id" | "name" | "created_at" | "updated_at";
export type AssistantSearch = SearchQuery<AssistantFilter, AssistantSortBy>;

export interface AssistantVersionQuery {
  filter?: { metadata?: Metadata };
  /** default 10 */
  limit?: number;
  /** default 0 */
  offset?: number;
}

export interface AssistantsRepository {
  /** Creates version 1 and makes it current. */
  create(input: AssistantCreate, scope?: Scope): Promise<Assistant>;
  get(assistantId: string, scope?: Scope): Promise<Assistant>;
  /** Creates version max(version)+1 from the current one plus `patch`, and makes it current. */
  patch(assistantId: string, patch: AssistantPatch, scope?: Scope): Promise<Assistant>;
  /** Deletes the assistant and all its versions. */
  delete(assistantId: string, scope?: Scope): Promise<void>;
  search(query?: AssistantSearch, scope?: Scope): Promise<Page<Assistant>>;
  count(filter?: AssistantFilter, scope?: Scope): Promise<number>;
  /** Versions, newest first. */
  listVersions(assistantId: string, query?: AssistantVersionQuery, scope?: Scope): Promise<Page<AssistantVersion>>;
  /** Makes an existing version current again (NotFoundError if there is no such version). */
  setLatest(assistantId: string, version: number, scope?: Scope): Promise<Assistant>;
}
