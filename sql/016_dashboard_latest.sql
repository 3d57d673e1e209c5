-- Kabar schema, migration 016: the dashboard's running share and median revenue at a million KPM
-- (issue 14).
--
-- Those two figures read each KPM's latest business report of the last 90 days: a sort of three
-- million reports per view (4.5 s at a million KPM). kpm_latest keeps each KPM's latest summed
-- business report (by created_at, then id) and latest_counts the number of KPM per (province,
-- status, revenue bucket) whose latest report is newer than the window mark. gateway/summary.c
-- keeps both in the summary step: it walks business_reports past the 'kpm_latest' mark of
-- summary_marks (last_id), and moves the window (last_at, NOW() - 90 days at the step) over the
-- index idx_kpm_latest_created from its last position, taking out of the counts the KPM whose
-- latest report left the window; the rows, the counts and both marks move in one transaction,
-- so a crash (kill -9 included) leaves all or none. The page adds what the mark has not reached
-- yet (see handlers/admin_dashboard.c), so its figures are exact up to the revenue bucket.
-- The revenue bucket is ROUND(revenue / 10000): the median is to the nearest Rp10.000.
--
-- Online: new tables and an INSTANT column on the small summary_marks. The backfill walks kpm by
-- id in steps of 10,000 (one index dive per KPM on idx_business_reports_kpm_created), each
-- step its own statement, reading reports without locking them; it stops at the reports saved
-- up to SUMMARY_LAG_SECONDS ago, and the step takes the rest. IF NOT EXISTS and the mark's row
-- make a second run change nothing.
ALTER TABLE summary_marks
    ADD COLUMN IF NOT EXISTS last_at DATETIME(3) NULL
        COMMENT 'kpm_latest: the window mark, KPM with a latest report after it are counted',
    ALGORITHM=INSTANT;

CREATE TABLE IF NOT EXISTS kpm_latest (
    kpm_id BIGINT UNSIGNED NOT NULL,
    report_id BIGINT UNSIGNED NOT NULL COMMENT 'her latest business report summed',
    created_at DATETIME(3) NOT NULL COMMENT 'its created_at',
    province CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
        COMMENT 'LEFT(kpm.region_code, 2) when it was summed: the counts row it is in',
    status TINYINT UNSIGNED NOT NULL,
    bucket INT NOT NULL COMMENT 'ROUND(revenue / 10000), -1 without a revenue',
    PRIMARY KEY (kpm_id),
    KEY idx_kpm_latest_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS latest_counts (
    province CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    status TINYINT UNSIGNED NOT NULL,
    bucket INT NOT NULL COMMENT 'ROUND(revenue / 10000), -1 without a revenue',
    n INT NOT NULL COMMENT 'KPM whose latest report (kpm_latest) is after the window mark',
    PRIMARY KEY (province, status, bucket)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

BEGIN NOT ATOMIC
    DECLARE lo BIGINT UNSIGNED DEFAULT 0;
    DECLARE top BIGINT UNSIGNED DEFAULT (SELECT COALESCE(MAX(id), 0) FROM kpm);
    -- the reports below the first one younger than the summary's lag (gateway/summary.h):
    -- committed, so none of lower id can still arrive
    DECLARE upto BIGINT UNSIGNED DEFAULT COALESCE(
        (SELECT MIN(id) - 1 FROM business_reports WHERE created_at >= NOW(3) - INTERVAL 300 SECOND),
        (SELECT MAX(id) FROM business_reports), 0);
    DECLARE win DATETIME(3) DEFAULT NOW(3) - INTERVAL 90 DAY;

    IF NOT EXISTS (SELECT 1 FROM summary_marks WHERE name = 'kpm_latest') THEN
        WHILE lo < top DO
            INSERT IGNORE INTO kpm_latest (kpm_id, report_id, created_at, province, status, bucket)
            SELECT k.id, b.id, b.created_at, LEFT(k.region_code, 2), b.status,
                   COALESCE(ROUND(b.revenue / 10000), -1)
            FROM kpm k JOIN business_reports b ON b.id = (
                SELECT b2.id FROM business_reports b2
                FORCE INDEX (idx_business_reports_kpm_created)
                WHERE b2.kpm_id = k.id AND b2.id <= upto
                ORDER BY b2.created_at DESC, b2.id DESC LIMIT 1)
            WHERE k.id > lo AND k.id <= lo + 10000;
            SET lo = lo + 10000;
        END WHILE;
        DELETE FROM latest_counts;
        INSERT INTO latest_counts (province, status, bucket, n)
        SELECT province, status, bucket, COUNT(*) FROM kpm_latest WHERE created_at > win
        GROUP BY province, status, bucket;
        INSERT INTO summary_marks (name, last_id, last_at) VALUES ('kpm_latest', upto, win);
    END IF;
END;
