/**
 * The first schema. Ids and texts that are sorted or compared use COLLATE "C" (byte order, the
 * order the embedded backend's string comparisons give). Every lookup the repositories make has
 * an index; test/unit/postgres-plans.test.ts checks the plans.
 */
export const name = "schema";

export const sql = /* sql */ `
-- Trigram indexes serve case-insensitive substring search on assistant names where the
-- extension is available (it ships with PostgreSQL's contrib); without it that search scans.
DO $$ BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'pg_trgm unavailable (%): assistant name search will scan', SQLERRM;
END $$;

CREATE TABLE assistants (
  assistant_id text COLLATE "C" PRIMARY KEY,
  graph_id     text COLLATE "C" NOT NULL,
  config       jsonb NOT NULL,
  context      jsonb NOT NULL,
  metadata     jsonb NOT NULL,
  name         text COLLATE "C" NOT NULL,
  description  text,
  version      integer NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
CREATE INDEX assistants_created ON assistants (created_at, assistant_id);
CREATE INDEX assistants_updated ON assistants (updated_at, assistant_id);
CREATE INDEX assistants_graph ON assistants (graph_id, assistant_id);
CREATE INDEX assistants_name ON assistants (name, assistant_id);
CREATE INDEX assistants_metadata ON assistants USING gin (metadata jsonb_path_ops);
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
    CREATE INDEX assistants_name_trgm ON assistants USING gin (name gin_trgm_ops);
  END IF;
END $$;

CREATE TABLE assistant_versions (
  assistant_id text COLLATE "C" NOT NULL REFERENCES assistants ON DELETE CASCADE,
  version      integer NOT NULL,
  graph_id     text COLLATE "C" NOT NULL,
  config       jsonb NOT NULL,
  context      jsonb NOT NULL,
  metadata     jsonb NOT NULL,
  name         text COLLATE "C" NOT NULL,
  description  text,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (assistant_id, version)
);

CREATE TABLE threads (
  thread_id        text COLLATE "C" PRIMARY KEY,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  state_updated_at timestamptz NOT NULL,
  metadata         jsonb NOT NULL,
  status           text COLLATE "C" NOT NULL,
  "values"         jsonb,
  interrupts       jsonb NOT NULL,
  error            jsonb,
  config           jsonb NOT NULL,
  ttl              jsonb
);
CREATE INDEX threads_created ON threads (created_at, thread_id);
CREATE INDEX threads_updated ON threads (updated_at, thread_id);
CREATE INDEX threads_state_updated ON threads (state_updated_at, thread_id);
CREATE INDEX threads_status ON threads (status, created_at, thread_id);
CREATE INDEX threads_status_id ON threads (status, thread_id);
CREATE INDEX threads_ttl ON threads (thread_id) WHERE ttl IS NOT NULL;
CREATE INDEX threads_metadata ON threads USING gin (metadata jsonb_path_ops);
CREATE INDEX threads_values ON threads USING gin ("values" jsonb_path_ops);

CREATE TABLE runs (
  run_id             text COLLATE "C" PRIMARY KEY,
  thread_id          text COLLATE "C" NOT NULL,
  assistant_id       text COLLATE "C" NOT NULL,
  created_at         timestamptz NOT NULL,
  updated_at         timestamptz NOT NULL,
  status             text COLLATE "C" NOT NULL,
  metadata           jsonb NOT NULL,
  kwargs             jsonb NOT NULL,
  multitask_strategy text,
  cancel_reason      text,
  attempt            integer NOT NULL,
  not_before         timestamptz,
  error              jsonb
);
CREATE INDEX runs_thread ON runs (thread_id, created_at, run_id);
CREATE INDEX runs_status ON runs (status, created_at, run_id);

CREATE TABLE crons (
  cron_id          text COLLATE "C" PRIMARY KEY,
  assistant_id     text COLLATE "C",
  thread_id        text COLLATE "C",
  on_run_completed text,
  end_time         timestamptz,
  schedule         text NOT NULL,
  timezone         text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  payload          jsonb NOT NULL,
  user_id          text COLLATE "C",
  next_run_date    timestamptz,
  metadata         jsonb NOT NULL,
  enabled          boolean NOT NULL,
  -- the user the firings run as (null without authentication)
  auth_user        jsonb
);
CREATE INDEX crons_created ON crons (created_at, cron_id);
CREATE INDEX crons_updated ON crons (updated_at, cron_id);
CREATE INDEX crons_next_run ON crons (next_run_date, cron_id);
CREATE INDEX crons_thread ON crons (thread_id, cron_id);
CREATE INDEX crons_assistant ON crons (assistant_id, cron_id);
CREATE INDEX crons_enabled ON crons (next_run_date) WHERE enabled;
CREATE INDEX crons_metadata ON crons USING gin (metadata jsonb_path_ops);

CREATE TABLE checkpoints (
  thread_id            text COLLATE "C" NOT NULL,
  checkpoint_ns        text COLLATE "C" NOT NULL,
  checkpoint_id        text COLLATE "C" NOT NULL,
  parent_checkpoint_id text COLLATE "C",
  checkpoint_type      text NOT NULL,
  checkpoint_data      text NOT NULL,
  metadata             jsonb NOT NULL,
  created_at           text COLLATE "C" NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE INDEX checkpoints_latest ON checkpoints (thread_id, checkpoint_ns, created_at DESC, checkpoint_id DESC);
CREATE INDEX checkpoints_history ON checkpoints (thread_id, created_at DESC, checkpoint_id DESC);

CREATE TABLE checkpoint_writes (
  thread_id     text COLLATE "C" NOT NULL,
  checkpoint_ns text COLLATE "C" NOT NULL,
  checkpoint_id text COLLATE "C" NOT NULL,
  task_id       text COLLATE "C" NOT NULL,
  idx           integer NOT NULL,
  channel       text NOT NULL,
  value_type    text NOT NULL,
  value_data    text NOT NULL,
  task_path     text NOT NULL,
  run_id        text COLLATE "C",
  -- the order writes were first recorded in
  seq           bigserial NOT NULL,
  PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
CREATE INDEX checkpoint_writes_run ON checkpoint_writes (thread_id, run_id) WHERE run_id IS NOT NULL;

CREATE TABLE store_items (
  -- JSON text of [namespace, key]: the embedded backend's id, so both order ties alike
  item_id     text COLLATE "C" PRIMARY KEY,
  namespace   text[] COLLATE "C" NOT NULL,
  -- labels URI-encoded, each followed by '/': prefix searches are a range on this index
  ns_path     text COLLATE "C" NOT NULL,
  key         text NOT NULL,
  value       jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL,
  ttl_minutes double precision,
  expires_at  timestamptz
);
CREATE INDEX store_items_path ON store_items (ns_path, item_id);
CREATE INDEX store_items_recent ON store_items (updated_at DESC, item_id);
CREATE INDEX store_items_expiry ON store_items (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE store_vectors (
  item_id  text COLLATE "C" NOT NULL REFERENCES store_items ON DELETE CASCADE,
  position integer NOT NULL,
  field    text NOT NULL,
  dims     integer NOT NULL,
  vector   double precision[] NOT NULL,
  norm     double precision NOT NULL,
  PRIMARY KEY (item_id, position)
);
`;
