-- Kabar schema, migration 020: the dashboard's 90-day figures from whole days (issue 14).
--
-- The training-attendance figure and the attendance-by-province chart summed 90 days of
-- report_hours: 2,160 hours x provinces x (kind, source, status, attended), 21,700 rows for the
-- bench's 3 provinces and some 250,000 for the country's 38, read twice per dashboard (108 ms of
-- its 300 at a million KPM). report_days holds the same sums by UTC day: 90 days are about 900
-- rows a province-less scope, and the partial day at the window's start is read from
-- report_hours, so the figures stay exact.
--
-- report_days is kept from report_hours by triggers, in the transaction that changes an hour:
-- whatever writes report_hours (the summary step of this kabard or of an older one during a
-- rolling upgrade, a test cleaning its province up) moves its day by the same amount. The
-- rebuild below runs with the summary marks locked (FOR UPDATE, as the summary step takes them
-- first): a step waits for it, and one committed between the triggers' creation and the lock
-- is counted once, from report_hours, after the day rows are emptied.
CREATE TABLE IF NOT EXISTS report_days (
    day DATE NOT NULL COMMENT 'UTC: the day the reports were created in',
    province CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    kind TINYINT UNSIGNED NOT NULL COMMENT '1 business, 2 attendance, 3 help',
    source ENUM('ussd', 'sms') NOT NULL,
    status TINYINT UNSIGNED NOT NULL COMMENT 'business: its status 1-4; else 0',
    attended TINYINT UNSIGNED NOT NULL COMMENT 'attendance: 1 attended, 0 not; else 0',
    n INT NOT NULL COMMENT 'the sum of n of its hours in report_hours',
    PRIMARY KEY (day, province, kind, source, status, attended)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TRIGGER IF NOT EXISTS trg_report_hours_days_insert AFTER INSERT ON report_hours
    FOR EACH ROW INSERT INTO report_days (day, province, kind, source, status, attended, n)
    VALUES (DATE(NEW.hour), NEW.province, NEW.kind, NEW.source, NEW.status, NEW.attended, NEW.n)
    ON DUPLICATE KEY UPDATE n = n + VALUES(n);
CREATE TRIGGER IF NOT EXISTS trg_report_hours_days_update AFTER UPDATE ON report_hours
    FOR EACH ROW INSERT INTO report_days (day, province, kind, source, status, attended, n)
    VALUES (DATE(NEW.hour), NEW.province, NEW.kind, NEW.source, NEW.status, NEW.attended,
            CAST(NEW.n AS SIGNED) - CAST(OLD.n AS SIGNED))
    ON DUPLICATE KEY UPDATE n = n + VALUES(n);
CREATE TRIGGER IF NOT EXISTS trg_report_hours_days_delete AFTER DELETE ON report_hours
    FOR EACH ROW UPDATE report_days SET n = n - OLD.n
    WHERE day = DATE(OLD.hour) AND province = OLD.province AND kind = OLD.kind
      AND source = OLD.source AND status = OLD.status AND attended = OLD.attended;

BEGIN NOT ATOMIC
    START TRANSACTION;
    SELECT COUNT(*) INTO @kabar_marks FROM summary_marks FOR UPDATE;
    DELETE FROM report_days;
    INSERT INTO report_days (day, province, kind, source, status, attended, n)
    SELECT DATE(hour), province, kind, source, status, attended, SUM(n) FROM report_hours
    GROUP BY 1, 2, 3, 4, 5, 6;
    COMMIT;
END;
