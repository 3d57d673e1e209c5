-- Kabar schema, migration 015: summaries for the admin pages at national scale (issue 14).
--
-- The dashboard at a million KPM (issue 14): its counts of reports over 7 to 90 days read hours
-- of this summary instead of millions of report rows. gateway/summary.c fills it from the
-- reports in id order; summary_marks holds, per report table, the last id summed, moved in the
-- same transaction as the rows it summed, so that a crash leaves both or neither. A page adds
-- the raw reports past the mark and those of the hour the window starts in, so its counts are
-- exact. New tables only: nothing is locked, whatever the size of the reports tables.
CREATE TABLE IF NOT EXISTS report_hours (
    hour DATETIME NOT NULL COMMENT 'UTC: the hour the reports were created in',
    province CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
        COMMENT 'LEFT(kpm.region_code, 2) when the report was summed',
    kind TINYINT UNSIGNED NOT NULL COMMENT '1 business, 2 attendance, 3 help',
    source ENUM('ussd', 'sms') NOT NULL,
    status TINYINT UNSIGNED NOT NULL COMMENT 'business: its status 1-4; else 0',
    attended TINYINT UNSIGNED NOT NULL COMMENT 'attendance: 1 attended, 0 not; else 0',
    n INT UNSIGNED NOT NULL,
    PRIMARY KEY (hour, province, kind, source, status, attended)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS summary_marks (
    name VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'the report table',
    last_id BIGINT UNSIGNED NOT NULL COMMENT 'its rows up to this id are in report_hours',
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO summary_marks (name, last_id) VALUES
    ('business_reports', 0), ('attendance_reports', 0), ('help_requests', 0)
ON DUPLICATE KEY UPDATE name = name;
