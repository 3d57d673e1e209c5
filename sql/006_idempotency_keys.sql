-- Kabar schema, migration 006: keys that let a job run twice and write once.
--
-- kabard re-runs a transaction whose COMMIT went unanswered, though the COMMIT may have happened
-- (gateway/db.c). A review carries the key of its request: the nonce of the form it came from,
-- the Idempotency-Key of an API call, or one the request drew itself. The key is unique per
-- reviewer, so the re-run, or the same form or call sent again, finds the first review and
-- writes neither a second review nor a second audit row.
--
-- An audit row can carry the key of the job that wrote it, unique: a login, or the users CLI,
-- looks for its own key first, and a re-run whose first run committed finds it there and does
-- nothing again (no second failed-password count, session, user or token).
--
-- Online on big tables: each column is added in place without a copy (INSTANT), each index is
-- built while the table stays writable (INPLACE, LOCK=NONE). If the server cannot, the
-- statement fails rather than lock the table. IF NOT EXISTS lets a half-applied run go again.
ALTER TABLE reviews
    ADD COLUMN IF NOT EXISTS idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin
        NULL COMMENT 'the request key of the review, unique per reviewer',
    ALGORITHM=INSTANT;
ALTER TABLE reviews
    ADD UNIQUE KEY IF NOT EXISTS uq_reviews_idempotency (reviewer_id, idempotency_key),
    ALGORITHM=INPLACE, LOCK=NONE;

ALTER TABLE audit_log
    ADD COLUMN IF NOT EXISTS request_key CHAR(32) CHARACTER SET ascii COLLATE ascii_bin
        NULL COMMENT 'the key of the job that wrote the row, if it has one',
    ALGORITHM=INSTANT;
ALTER TABLE audit_log
    ADD UNIQUE KEY IF NOT EXISTS uq_audit_log_request (request_key),
    ALGORITHM=INPLACE, LOCK=NONE;
