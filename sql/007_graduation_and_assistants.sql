-- Kabar schema, migration 007: graduation on two tracks, and the phone toolkit of assistants.
--
-- A graduation is a decision with a history: who decided (an administrator or an assistant),
-- where (the KPM page, the API, USSD, SMS), from when, for which configured reason, and whether
-- it was revoked since (who, when, why). kpm.graduation and kpm.graduated_on always follow the
-- latest unrevoked row of graduations, and only gateway/graduation.c writes them.
--
-- idem_key makes a retried job or a submission sent twice write nothing twice (the API takes
-- the Idempotency-Key, the pages a form nonce, USSD and SMS their session or message).
--
-- Online on big tables: each column is added in place without a copy (INSTANT), and if the
-- server cannot, the statement fails rather than lock the table. New tables are new. IF NOT
-- EXISTS makes a second run, or the rest of a half-applied one, change nothing.

CREATE TABLE IF NOT EXISTS graduations (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kpm_id BIGINT UNSIGNED NOT NULL,
    track ENUM('natural', 'welfare') NOT NULL,
    reason VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
        COMMENT 'a code of graduation.reasons in kabard.conf',
    effective_date DATE NOT NULL,
    decided_by_type ENUM('admin', 'assistant') NOT NULL,
    decided_by_id INT UNSIGNED NOT NULL COMMENT 'admin_users.id or assistants.id',
    decided_via ENUM('page', 'api', 'ussd', 'sms') NOT NULL,
    note VARCHAR(500) NULL,
    idem_key VARCHAR(80) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL
        COMMENT 'the request that wrote the row, so that it is written once',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    revoked_at DATETIME(3) NULL,
    revoked_by_type ENUM('admin', 'assistant') NULL,
    revoked_by_id INT UNSIGNED NULL,
    revoke_reason VARCHAR(255) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_graduations_idem (idem_key),
    KEY idx_graduations_kpm_created (kpm_id, created_at),
    KEY idx_graduations_track_effective (track, effective_date),
    CONSTRAINT fk_graduations_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id),
    CONSTRAINT ck_graduations_revoked CHECK (revoked_at IS NULL
        OR (revoked_by_type IS NOT NULL AND revoked_by_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- What the tracks need on the KPM herself. graduated_on is the effective date of the latest
-- unrevoked graduation (NULL with graduation none, and for a graduation set before this
-- migration), support_opt_in says a natural graduate keeps getting business support,
-- exit_survey_at when her one exit survey was answered, candidate_snooze_until the day before
-- which no new graduation-candidate alert is raised for her (set when one is declined).
ALTER TABLE kpm
    ADD COLUMN IF NOT EXISTS graduated_on DATE NULL
        COMMENT 'effective date of the latest unrevoked graduation',
    ADD COLUMN IF NOT EXISTS support_opt_in TINYINT(1) NOT NULL DEFAULT 0
        COMMENT '1: a natural graduate keeps business support',
    ADD COLUMN IF NOT EXISTS exit_survey_at DATETIME(3) NULL
        COMMENT 'the natural graduate exit survey, answered once',
    ADD COLUMN IF NOT EXISTS candidate_snooze_until DATE NULL
        COMMENT 'no new graduation-candidate alert before this day',
    ALGORITHM=INSTANT;

-- What came of an alert. Recording an outcome also acknowledges the alert, except later, which
-- leaves it open. outcome_by names the actor as the audit log does (admin:NAME, assistant:ID).
ALTER TABLE alerts
    ADD COLUMN IF NOT EXISTS outcome ENUM('called', 'visited', 'unreachable', 'referred',
        'no_action', 'confirmed', 'declined', 'later') NULL,
    ADD COLUMN IF NOT EXISTS outcome_at DATETIME(3) NULL,
    ADD COLUMN IF NOT EXISTS outcome_by VARCHAR(64) NULL,
    ADD COLUMN IF NOT EXISTS outcome_note VARCHAR(255) NULL,
    ALGORITHM=INSTANT;

-- A home visit by an assistant. outcome is a code of graduation.visit_outcomes in kabard.conf.
-- UNIQUE (channel, session_id), as reports have, turns a retried hop, SMS or request into a
-- no-op instead of a second visit.
CREATE TABLE IF NOT EXISTS home_visits (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kpm_id BIGINT UNSIGNED NOT NULL,
    assistant_id INT UNSIGNED NOT NULL,
    visit_date DATE NOT NULL,
    outcome TINYINT UNSIGNED NOT NULL COMMENT 'a code of graduation.visit_outcomes',
    business_running TINYINT(1) NULL COMMENT 'NULL when not asked or not seen',
    source ENUM('ussd', 'sms', 'page', 'api') NOT NULL,
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_home_visits_session (channel, session_id),
    KEY idx_home_visits_kpm_date (kpm_id, visit_date),
    KEY idx_home_visits_assistant_created (assistant_id, created_at),
    CONSTRAINT fk_home_visits_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id),
    CONSTRAINT fk_home_visits_assistant FOREIGN KEY (assistant_id) REFERENCES assistants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who approved or rejected a phone-link request (admin:NAME or assistant:ID).
ALTER TABLE link_requests
    ADD COLUMN IF NOT EXISTS decided_by VARCHAR(64) NULL,
    ALGORITHM=INSTANT;

-- Which dialog flow wrote a business report: business (Lapor usaha, USAHA) or checkin (the
-- welfare graduate monthly check-in). A check-in is a business report too, so every figure
-- that reads business reports keeps working.
ALTER TABLE business_reports
    ADD COLUMN IF NOT EXISTS flow VARCHAR(32) NOT NULL DEFAULT 'business',
    ALGORITHM=INSTANT;
