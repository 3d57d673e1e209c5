-- Kabar schema, migration 017: the review queue filtered by business status at a million KPM
-- (issue 14).
--
-- The queue filtered by region and a business status (paused, say) walks the status's reports
-- newest first on (status, created_at) and looks each one's KPM up for the region: its count of
-- up to 10,001 reports read some 50,000 report rows for their kpm_id alone (a quarter of the
-- statement's time, ANALYZE FORMAT=JSON). With kpm_id in the index the walk reads the index only.
-- It replaces idx_business_reports_status_created, a prefix of it. id is named before kpm_id:
-- the queue's order is (created_at, id), and with kpm_id before the primary key that InnoDB
-- appends, the page sorted every report of the status (3 s at a million KPM).
--
-- Online: INPLACE with LOCK=NONE (reports are saved while the index is built); IF [NOT] EXISTS
-- make a second run change nothing.
ALTER TABLE business_reports
    ADD INDEX IF NOT EXISTS idx_business_reports_status_created_kpm (status, created_at, id, kpm_id),
    DROP INDEX IF EXISTS idx_business_reports_status_created,
    ALGORITHM=INPLACE, LOCK=NONE;

-- The dashboard's graduation candidates: the graduation alerts of the last 90 days, read from
-- the index alone (state and kpm_id in it), where MariaDB scanned every alert (0.27 s).
-- alerts is small (one row per alert): INPLACE, LOCK=NONE as well.
ALTER TABLE alerts
    ADD INDEX IF NOT EXISTS idx_alerts_rule_created (rule, created_at, state, kpm_id),
    ALGORITHM=INPLACE, LOCK=NONE;
