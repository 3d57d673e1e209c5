-- Kabar schema, migration 019: the review queue filtered by a region at a million KPM (issue 14).
--
-- A report's region was only its KPM's (kpm.region_code). The queue filtered by a kabupaten
-- (33,000 KPM, 1 in 30) walked the reports newest first and looked every one's KPM up: a page
-- of 50 read 1,500 reports where the kabupaten reports as much as the others, 100,000 where it
-- had few of the status asked for lately, and its count of up to 10,001 read 300,000 (2.6 s
-- p95). A kecamatan (1,700 KPM) was read from its KPM, 12 reports each, then sorted (387 ms
-- p95). Each report table now carries its KPM's region_code, and three generated columns, its
-- province, kabupaten and kecamatan (the first 2, 4 and 6 digits of the code), each the head of
-- an index in the queue's order (created_at, id): a region's page is the first rows of one
-- index range, its count that range up to the cap, whatever the region's size or its reports'
-- times. A desa is its kecamatan's range, region_code read from the index. The business index
-- carries status, so a status filter is checked in the index.
--
-- region_code is kept by triggers, so every path that saves a report (USSD, SMS, the admin
-- pages, an import, an older kabard during a rolling upgrade, a test's INSERT) fills it without
-- knowing: BEFORE INSERT copies the KPM's region (one primary-key read), and a KPM moved to
-- another desa (an import's update, say) takes her reports along (AFTER UPDATE, one range of
-- idx_*_kpm_created, nothing when her region did not change). Under Galera the node that runs
-- the statement fires the trigger; the others apply its rows. The three levels are VIRTUAL:
-- computed from region_code, stored in their indexes only.
--
-- Online: the columns are INSTANT; the triggers exist before the backfill starts, so a report
-- saved while it runs has its region already; the backfill walks each table by id in steps of
-- 10,000, each step its own short transaction (no long row lock while kabard saves reports);
-- the indexes are INPLACE with LOCK=NONE, built once the column is filled. IF [NOT] EXISTS and
-- IS NULL make a second run change nothing.
FOR r IN (SELECT 'business_reports' t UNION ALL SELECT 'attendance_reports'
          UNION ALL SELECT 'help_requests') DO
    EXECUTE IMMEDIATE CONCAT('ALTER TABLE ', r.t, ' ADD COLUMN IF NOT EXISTS region_code',
        ' VARCHAR(13) NULL COMMENT ''kpm.region_code of its KPM, kept by triggers (019)''',
        ', ALGORITHM=INSTANT');
    -- virtual columns need an ALTER of their own
    EXECUTE IMMEDIATE CONCAT('ALTER TABLE ', r.t,
        ' ADD COLUMN IF NOT EXISTS region_prov CHAR(2) CHARACTER SET ascii COLLATE ascii_bin',
        ' AS (LEFT(region_code, 2)) VIRTUAL,',
        ' ADD COLUMN IF NOT EXISTS region_kab CHAR(4) CHARACTER SET ascii COLLATE ascii_bin',
        ' AS (LEFT(region_code, 4)) VIRTUAL,',
        ' ADD COLUMN IF NOT EXISTS region_kec CHAR(6) CHARACTER SET ascii COLLATE ascii_bin',
        ' AS (LEFT(region_code, 6)) VIRTUAL, ALGORITHM=INSTANT');
END FOR;

CREATE TRIGGER IF NOT EXISTS trg_business_reports_region BEFORE INSERT ON business_reports
    FOR EACH ROW SET NEW.region_code = (SELECT k.region_code FROM kpm k WHERE k.id = NEW.kpm_id);
CREATE TRIGGER IF NOT EXISTS trg_attendance_reports_region BEFORE INSERT ON attendance_reports
    FOR EACH ROW SET NEW.region_code = (SELECT k.region_code FROM kpm k WHERE k.id = NEW.kpm_id);
CREATE TRIGGER IF NOT EXISTS trg_help_requests_region BEFORE INSERT ON help_requests
    FOR EACH ROW SET NEW.region_code = (SELECT k.region_code FROM kpm k WHERE k.id = NEW.kpm_id);
CREATE TRIGGER IF NOT EXISTS trg_kpm_region_reports AFTER UPDATE ON kpm
    FOR EACH ROW
    BEGIN
        IF NOT (NEW.region_code <=> OLD.region_code) THEN
            UPDATE business_reports SET region_code = NEW.region_code WHERE kpm_id = NEW.id;
            UPDATE attendance_reports SET region_code = NEW.region_code WHERE kpm_id = NEW.id;
            UPDATE help_requests SET region_code = NEW.region_code WHERE kpm_id = NEW.id;
        END IF;
    END;

BEGIN NOT ATOMIC
    DECLARE lo BIGINT UNSIGNED;

    FOR r IN (SELECT 'business_reports' t UNION ALL SELECT 'attendance_reports'
              UNION ALL SELECT 'help_requests') DO
        EXECUTE IMMEDIATE CONCAT('SELECT COALESCE(MAX(id), 0) INTO @kabar_top FROM ', r.t);
        SET lo = 0;
        WHILE lo < @kabar_top DO
            EXECUTE IMMEDIATE CONCAT('UPDATE ', r.t, ' x JOIN kpm k ON k.id = x.kpm_id',
                ' SET x.region_code = k.region_code',
                ' WHERE x.id > ? AND x.id <= ? AND x.region_code IS NULL') USING lo, lo + 10000;
            SET lo = lo + 10000;
        END WHILE;
    END FOR;
END;

-- status in the business indexes (checked there, never read from the row); region_code in the
-- kecamatan's, for a desa. id after created_at: the queue's order is (created_at, id).
ALTER TABLE business_reports
    ADD INDEX IF NOT EXISTS idx_business_reports_prov (region_prov, created_at, id, status),
    ADD INDEX IF NOT EXISTS idx_business_reports_kab (region_kab, created_at, id, status),
    ADD INDEX IF NOT EXISTS idx_business_reports_kec
        (region_kec, created_at, id, status, region_code),
    ALGORITHM=INPLACE, LOCK=NONE;
ALTER TABLE attendance_reports
    ADD INDEX IF NOT EXISTS idx_attendance_reports_prov (region_prov, created_at, id),
    ADD INDEX IF NOT EXISTS idx_attendance_reports_kab (region_kab, created_at, id),
    ADD INDEX IF NOT EXISTS idx_attendance_reports_kec (region_kec, created_at, id, region_code),
    ALGORITHM=INPLACE, LOCK=NONE;
ALTER TABLE help_requests
    ADD INDEX IF NOT EXISTS idx_help_requests_prov (region_prov, created_at, id),
    ADD INDEX IF NOT EXISTS idx_help_requests_kab (region_kab, created_at, id),
    ADD INDEX IF NOT EXISTS idx_help_requests_kec (region_kec, created_at, id, region_code),
    ALGORITHM=INPLACE, LOCK=NONE;
