/**
 * The webhook outbox: deliveries owed for runs' ends, inserted in the transaction that stores
 * the end, claimed with `FOR UPDATE SKIP LOCKED`, deleted once delivered. Two partial indexes
 * serve the claim: unclaimed deliveries by due time, claimed ones by when their claim lapses.
 */
export const name = "webhook-outbox";

export const sql = /* sql */ `
CREATE TABLE webhook_deliveries (
  delivery_id   text COLLATE "C" PRIMARY KEY,
  run_id        text COLLATE "C" NOT NULL,
  thread_id     text COLLATE "C" NOT NULL,
  url           text NOT NULL,
  payload       jsonb NOT NULL,
  attempts      integer NOT NULL,
  due_at        timestamptz NOT NULL,
  claimed_by    text COLLATE "C",
  claimed_until timestamptz,
  created_at    timestamptz NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (due_at, delivery_id) WHERE claimed_until IS NULL;
CREATE INDEX webhook_deliveries_claims ON webhook_deliveries (claimed_until) WHERE claimed_until IS NOT NULL;
`;
