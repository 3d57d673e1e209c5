-- The sender claims due rows in (priority, next_attempt_at) order; without an index in that
-- order every claim read and sorted the whole queue (measured: 16-20 ms a claim at 10,000
-- queued, 55-66 ms at 50,000).
ALTER TABLE outbox ADD INDEX IF NOT EXISTS idx_outbox_claim_order (state, priority, next_attempt_at);
