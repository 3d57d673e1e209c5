-- Kabar schema, migration 014: the alerts tick and the monthly nudge at one million KPM (issue 14).
--
-- kpm.last_report_at is the created_at of the KPM's latest business report: report.c sets it in
-- the transaction that saves the report (GREATEST, so a late commit never moves it back), and
-- the silent rule reads it through its index instead of probing business_reports per KPM.
-- alert_marks keeps the tick's positions, each moved in the transaction that acts on it:
-- 'reports' (the business_reports id the report rules have read up to), 'silent' (where the
-- silent rule's walk of idx_kpm_last_report stands) and 'nudge:WIB|WITA|WIT' (the month and the
-- KPM id the monthly nudge has walked to in that zone).
--
-- Online: the column is INSTANT, the indexes INPLACE with LOCK=NONE, and the backfill walks kpm
-- by id in steps of 10,000, each step its own short transaction, so no statement holds many
-- row locks for long while kabard keeps saving reports. Reports saved by an older kabard while
-- this runs are caught up at the end (every report above the id seen at the start).
-- IF NOT EXISTS / IS NULL make a second run change nothing.
ALTER TABLE kpm
    ADD COLUMN IF NOT EXISTS last_report_at DATETIME(3) NULL
        COMMENT 'created_at of the latest business report (report.c, in its transaction)',
    ALGORITHM=INSTANT;

CREATE TABLE IF NOT EXISTS alert_marks (
    name VARCHAR(32) NOT NULL COMMENT 'reports, silent, nudge:ZONE',
    last_id BIGINT UNSIGNED NOT NULL DEFAULT 0
        COMMENT 'reports: business_reports.id read up to; silent, nudge: kpm.id walked to',
    last_at DATETIME(3) NULL COMMENT 'silent: last_report_at of the walk (NULL: the never-reported part)',
    period VARCHAR(16) NOT NULL DEFAULT '' COMMENT 'nudge: the month (YYYY-MM) of the walk',
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

BEGIN NOT ATOMIC
    DECLARE lo BIGINT UNSIGNED DEFAULT 0;
    DECLARE top BIGINT UNSIGNED DEFAULT (SELECT COALESCE(MAX(id), 0) FROM kpm);
    DECLARE seen BIGINT UNSIGNED DEFAULT (SELECT COALESCE(MAX(id), 0) FROM business_reports);

    WHILE lo < top DO
        UPDATE kpm k SET k.last_report_at =
            (SELECT MAX(b.created_at) FROM business_reports b WHERE b.kpm_id = k.id)
        WHERE k.id > lo AND k.id <= lo + 10000 AND k.last_report_at IS NULL;
        SET lo = lo + 10000;
    END WHILE;
    UPDATE kpm k JOIN (SELECT kpm_id, MAX(created_at) m FROM business_reports WHERE id > seen
                       GROUP BY kpm_id) b ON b.kpm_id = k.id
    SET k.last_report_at = GREATEST(COALESCE(k.last_report_at, b.m), b.m);
END;

ALTER TABLE kpm ADD INDEX IF NOT EXISTS idx_kpm_last_report (last_report_at),
    ALGORITHM=INPLACE, LOCK=NONE;

-- The open alerts: the immediate ones in id order (send), and each rule's waiting ones (the
-- tick's urgency and track updates), without reading every open alert eight times a tick.
ALTER TABLE alerts
    ADD INDEX IF NOT EXISTS idx_alerts_state_urgency (state, urgency),
    ADD INDEX IF NOT EXISTS idx_alerts_state_rule (state, rule),
    ALGORITHM=INPLACE, LOCK=NONE;
