/**
 * The storage interface: one file per resource under `./contract/`, all re-exported here.
 * Handlers and the runtime reach persistent state only through `Storage`; implementations live in `./lowdb/` (embedded default) and
 * `./postgres/` (DATABASE_URI).
 *
 * Everything here is plain data so that a SQL backend can implement it directly:
 * filters are equality / JSON containment (`@>`) / ILIKE, sorting is one column,
 * pagination is LIMIT/OFFSET, and `total` is a COUNT(*) over the same filter.
 *
 * Contract shared by all implementations:
 * - Every method is async. A mutation's promise resolves only once the change is
 *   durable (on disk / committed), so a response can be sent right after it.
 * - Returned records never change stored state: they are copies, or (lowdb threads) the
 *   stored record itself, deeply frozen (./frozen.ts). Treat them as read-only.
 * - Errors: `NotFoundError` (not_found) and `ConflictError` (conflict) from `./errors.js`.
 * - A `Scope` hides every record it does not match: such records behave exactly as if they did
 *   not exist (NotFoundError on get/patch/delete, absent from searches, counts and totals),
 *   except that creating one with a taken id is still a ConflictError (never "do_nothing").
 *   Storage adds nothing to created records: callers put what a scope needs in the metadata.
 */
export type * from "./records.js";
export type * from "./contract/common.js";
export type * from "./contract/assistants.js";
export type * from "./contract/threads.js";
export type * from "./contract/runs.js";
export type * from "./contract/webhooks.js";
export type * from "./contract/store-items.js";
export type * from "./contract/crons.js";
export type * from "./contract/checkpoints.js";
export type * from "./contract/archive.js";
export type * from "./contract/storage.js";
