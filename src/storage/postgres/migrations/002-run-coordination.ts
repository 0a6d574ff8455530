/**
 * What several server processes need to share runs (src/runtime/postgres/): run leases (who
 * executes a run, until when), indexes for the claim and the reaper, and `run_events`, the
 * events of runs for subscribers in any process (a run's end is its `__end__` row).
 */
export const name = "run-coordination";

export const sql = /* sql */ `
ALTER TABLE runs ADD COLUMN lease_owner text COLLATE "C", ADD COLUMN lease_expires_at timestamptz;
CREATE INDEX runs_claimable ON runs (created_at, run_id) WHERE status = 'pending';
CREATE INDEX runs_thread_active ON runs (thread_id, status, created_at, run_id) WHERE status IN ('pending', 'running');
CREATE INDEX runs_leases ON runs (lease_expires_at) WHERE status = 'running';
CREATE INDEX runs_delayed ON runs (not_before) WHERE status = 'pending';

CREATE TABLE run_events (
  run_id     text COLLATE "C" NOT NULL,
  seq        integer NOT NULL,
  thread_id  text COLLATE "C",
  mode       text NOT NULL,
  ns         text NOT NULL,
  data       text NOT NULL,
  -- the root graph's latest checkpoint when the event was emitted (rejoins after a checkpoint)
  checkpoint_id text COLLATE "C",
  resumable  boolean NOT NULL,
  expires_at timestamptz,
  PRIMARY KEY (run_id, seq)
);
CREATE UNIQUE INDEX run_events_end ON run_events (run_id) WHERE mode = '__end__';
CREATE INDEX run_events_held ON run_events (thread_id, run_id) WHERE mode = '__end__';
CREATE INDEX run_events_expiry ON run_events (expires_at) WHERE mode = '__end__';
`;
