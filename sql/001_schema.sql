-- Kabar schema, migration 001.
--
-- Applied by `kabard --migrate` as one multi-statement query in the configured database, which
-- also records it in schema_migrations (created by kabard, not here). Every statement is
-- CREATE TABLE IF NOT EXISTS, so running the file again changes nothing.
--
-- All DATETIME columns hold UTC. The CURRENT_TIMESTAMP(3) defaults follow the session time
-- zone, so every connection must first set time_zone to +00:00 (kabard on connect,
-- sql/demo/demo.sql at its top). Local times (WIB/WITA/WIT) are computed in the application.
--
-- Identifiers chosen by aggregators (session ids, message ids) and dedupe keys use utf8mb4_bin:
-- under utf8mb4_unicode_ci two ids that differ only in case or accents would collide on the
-- UNIQUE keys that make retried callbacks harmless.
--
-- Region codes nest by prefix (province 2 digits, kabupaten 4, kecamatan 6, desa 10), so a filter
-- on a whole province or kabupaten is a prefix LIKE (32%) on the region_code index.
--
-- Comments hold no semicolons or quotes, so that even a naive statement splitter copes.

-- The BPS administrative hierarchy: province > kabupaten/kota > kecamatan > kelurahan/desa.
CREATE TABLE IF NOT EXISTS regions (
    code VARCHAR(13) NOT NULL COMMENT 'BPS code',
    level ENUM('province', 'kabupaten', 'kecamatan', 'desa') NOT NULL,
    name VARCHAR(100) NOT NULL,
    parent_code VARCHAR(13) NULL,
    PRIMARY KEY (code),
    KEY idx_regions_parent (parent_code),
    KEY idx_regions_level_name (level, name),
    CONSTRAINT fk_regions_parent FOREIGN KEY (parent_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Social assistants (pendamping): receive alerts about their own KPM by SMS.
CREATE TABLE IF NOT EXISTS assistants (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(100) NOT NULL,
    msisdn VARCHAR(16) NOT NULL COMMENT 'E.164, e.g. +628130000001',
    region_code VARCHAR(13) NOT NULL,
    tz ENUM('WIB', 'WITA', 'WIT') NOT NULL DEFAULT 'WIB' COMMENT 'for quiet hours, digests',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_assistants_msisdn (msisdn),
    KEY idx_assistants_region (region_code),
    CONSTRAINT fk_assistants_region FOREIGN KEY (region_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- KUBE (Kelompok Usaha Bersama): joint business groups of several KPM.
CREATE TABLE IF NOT EXISTS kube_groups (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(100) NOT NULL,
    region_code VARCHAR(13) NOT NULL,
    PRIMARY KEY (id),
    KEY idx_kube_groups_region (region_code),
    CONSTRAINT fk_kube_groups_region FOREIGN KEY (region_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- KPM (beneficiary families), one registered phone number each.
-- nik_hmac is HMAC-SHA256(server key, NIK), never the NIK itself: a keyed hash still lets kabard
-- find a KPM by NIK with an equality lookup, but unlike a plain hash its 16-digit space cannot be
-- brute-forced from a database dump without the key, which lives only in the kabard configuration.
-- Only the last 4 digits are kept in clear, for display. The index on nik_hmac is not UNIQUE
-- because imported programme data can hold duplicates that staff must be able to see and fix.
CREATE TABLE IF NOT EXISTS kpm (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    pkh_number VARCHAR(20) NOT NULL COMMENT 'PKH participant number',
    nik_hmac BINARY(32) NULL COMMENT 'HMAC-SHA256(server key, NIK)',
    nik_last4 CHAR(4) NULL,
    name VARCHAR(100) NOT NULL,
    msisdn VARCHAR(16) NOT NULL COMMENT 'E.164',
    lang ENUM('id', 'en') NOT NULL DEFAULT 'id',
    region_code VARCHAR(13) NOT NULL COMMENT 'normally a desa',
    assistant_id INT UNSIGNED NOT NULL,
    kube_id INT UNSIGNED NULL,
    graduation ENUM('none', 'natural', 'welfare') NOT NULL DEFAULT 'none',
    pin_hash VARCHAR(255) NULL,
    reminders TINYINT(1) NOT NULL DEFAULT 1 COMMENT '0 after SMS STOP',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_kpm_pkh_number (pkh_number),
    UNIQUE KEY uq_kpm_msisdn (msisdn),
    KEY idx_kpm_nik_hmac (nik_hmac),
    KEY idx_kpm_region (region_code),
    KEY idx_kpm_assistant (assistant_id),
    KEY idx_kpm_kube (kube_id),
    KEY idx_kpm_name (name),
    KEY idx_kpm_graduation (graduation),
    CONSTRAINT fk_kpm_region FOREIGN KEY (region_code) REFERENCES regions (code),
    CONSTRAINT fk_kpm_assistant FOREIGN KEY (assistant_id) REFERENCES assistants (id),
    CONSTRAINT fk_kpm_kube FOREIGN KEY (kube_id) REFERENCES kube_groups (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Training sessions (pelatihan), each with the attendance code announced in the room.
CREATE TABLE IF NOT EXISTS trainings (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    title VARCHAR(100) NOT NULL,
    starts_at DATETIME NOT NULL COMMENT 'UTC',
    place VARCHAR(100) NOT NULL,
    region_code VARCHAR(13) NOT NULL,
    attendance_code VARCHAR(8) NOT NULL,
    PRIMARY KEY (id),
    KEY idx_trainings_region_starts (region_code, starts_at),
    KEY idx_trainings_starts (starts_at),
    KEY idx_trainings_code (attendance_code),
    CONSTRAINT fk_trainings_region FOREIGN KEY (region_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which KPM are enrolled in which training (the attendance dialog lists these).
CREATE TABLE IF NOT EXISTS enrollments (
    training_id INT UNSIGNED NOT NULL,
    kpm_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (training_id, kpm_id),
    KEY idx_enrollments_kpm (kpm_id),
    CONSTRAINT fk_enrollments_training FOREIGN KEY (training_id) REFERENCES trainings (id)
        ON DELETE CASCADE,
    CONSTRAINT fk_enrollments_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Committed business reports (Lapor usaha / USAHA ...), one per USSD session or SMS.
-- UNIQUE (channel, session_id) turns a retried callback into a no-op instead of a second report.
CREATE TABLE IF NOT EXISTS business_reports (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kpm_id BIGINT UNSIGNED NOT NULL,
    msisdn VARCHAR(16) NOT NULL,
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    source ENUM('ussd', 'sms') NOT NULL,
    status TINYINT UNSIGNED NOT NULL COMMENT '1 running 2 paused 3 closed 4 not started',
    kind TINYINT UNSIGNED NULL,
    revenue BIGINT UNSIGNED NULL COMMENT 'Rupiah, last month',
    workers SMALLINT UNSIGNED NULL,
    difficulty TINYINT UNSIGNED NULL,
    answers TEXT NOT NULL COMMENT 'JSON of every answer',
    input_path VARCHAR(1024) NOT NULL,
    started_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_business_reports_session (channel, session_id),
    KEY idx_business_reports_kpm_created (kpm_id, created_at),
    KEY idx_business_reports_created (created_at),
    KEY idx_business_reports_status_created (status, created_at),
    CONSTRAINT fk_business_reports_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id),
    CONSTRAINT ck_business_reports_status CHECK (status BETWEEN 1 AND 4),
    CONSTRAINT ck_business_reports_answers CHECK (JSON_VALID(answers))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Committed training attendance reports (Lapor pelatihan / HADIR / ABSEN).
CREATE TABLE IF NOT EXISTS attendance_reports (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kpm_id BIGINT UNSIGNED NOT NULL,
    training_id INT UNSIGNED NOT NULL,
    msisdn VARCHAR(16) NOT NULL,
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    source ENUM('ussd', 'sms') NOT NULL,
    attended TINYINT(1) NOT NULL,
    reason TINYINT UNSIGNED NULL COMMENT 'when not attended',
    answers TEXT NOT NULL COMMENT 'JSON of every answer',
    input_path VARCHAR(1024) NOT NULL,
    started_at DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_attendance_reports_session (channel, session_id),
    KEY idx_attendance_reports_kpm_created (kpm_id, created_at),
    KEY idx_attendance_reports_training (training_id),
    KEY idx_attendance_reports_created (created_at),
    KEY idx_attendance_reports_attended_created (attended, created_at),
    CONSTRAINT fk_attendance_reports_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id),
    CONSTRAINT fk_attendance_reports_training FOREIGN KEY (training_id) REFERENCES trainings (id),
    CONSTRAINT ck_attendance_reports_answers CHECK (JSON_VALID(answers))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Requests for the assistant to call the KPM (Minta bantuan / BANTUAN ...).
CREATE TABLE IF NOT EXISTS help_requests (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    kpm_id BIGINT UNSIGNED NOT NULL,
    assistant_id INT UNSIGNED NOT NULL,
    msisdn VARCHAR(16) NOT NULL,
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    source ENUM('ussd', 'sms') NOT NULL,
    topic TINYINT UNSIGNED NOT NULL,
    text VARCHAR(480) NULL COMMENT 'free text of an SMS BANTUAN',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_help_requests_session (channel, session_id),
    KEY idx_help_requests_assistant_created (assistant_id, created_at),
    KEY idx_help_requests_kpm_created (kpm_id, created_at),
    KEY idx_help_requests_created (created_at),
    CONSTRAINT fk_help_requests_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id),
    CONSTRAINT fk_help_requests_assistant FOREIGN KEY (assistant_id) REFERENCES assistants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Unknown phone numbers asking to be linked to a PKH participant number, awaiting a decision.
CREATE TABLE IF NOT EXISTS link_requests (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    msisdn VARCHAR(16) NOT NULL,
    pkh_number VARCHAR(20) NOT NULL COMMENT 'as entered by the caller',
    kpm_id BIGINT UNSIGNED NULL COMMENT 'the KPM that number names, if any',
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    status ENUM('pending', 'approved', 'rejected') NOT NULL DEFAULT 'pending',
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    decided_at DATETIME(3) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_link_requests_session (channel, session_id),
    KEY idx_link_requests_status_created (status, created_at),
    KEY idx_link_requests_msisdn (msisdn),
    KEY idx_link_requests_kpm (kpm_id),
    CONSTRAINT fk_link_requests_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An interrupted USSD report that redialling offers to continue (one per phone number).
CREATE TABLE IF NOT EXISTS ussd_drafts (
    msisdn VARCHAR(16) NOT NULL,
    kpm_id BIGINT UNSIGNED NULL,
    channel VARCHAR(32) NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    flow VARCHAR(32) NOT NULL,
    input_path VARCHAR(1024) NOT NULL,
    dialog_version INT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'stale drafts are dropped',
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    expires_at DATETIME(3) NOT NULL,
    PRIMARY KEY (msisdn),
    KEY idx_ussd_drafts_expires (expires_at),
    KEY idx_ussd_drafts_kpm (kpm_id),
    CONSTRAINT fk_ussd_drafts_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- USSD session-end notifications from aggregators, kept for diagnosing dropped sessions.
CREATE TABLE IF NOT EXISTS ussd_session_ends (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    msisdn VARCHAR(16) NULL,
    status VARCHAR(16) NULL COMMENT 'Success, Incomplete, Failed',
    network_code VARCHAR(16) NULL,
    duration_ms INT UNSIGNED NULL,
    hops INT UNSIGNED NULL,
    input VARCHAR(1024) NULL,
    last_response VARCHAR(1024) NULL,
    error_message VARCHAR(255) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_ussd_session_ends_session (channel, session_id),
    KEY idx_ussd_session_ends_created (created_at),
    KEY idx_ussd_session_ends_msisdn_created (msisdn, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every inbound SMS, stored before it is handled, deduplicated on the aggregator message id.
CREATE TABLE IF NOT EXISTS inbound_messages (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    channel VARCHAR(32) NOT NULL,
    provider_msg_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    msisdn_from VARCHAR(16) NOT NULL,
    msisdn_to VARCHAR(20) NULL COMMENT 'short code or long number',
    body VARCHAR(1600) NOT NULL,
    received_at DATETIME(3) NULL COMMENT 'the aggregator date, if it parsed',
    state ENUM('received', 'processed', 'failed') NOT NULL DEFAULT 'received',
    reply VARCHAR(1600) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_inbound_messages_provider (channel, provider_msg_id),
    KEY idx_inbound_messages_state_created (state, created_at),
    KEY idx_inbound_messages_from_created (msisdn_from, created_at),
    KEY idx_inbound_messages_created (created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Outgoing SMS queue: a message is queued here in the same transaction as what caused it.
-- idempotency_key makes re-queueing the same message (after a crash or retry) a no-op.
CREATE TABLE IF NOT EXISTS outbox (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    idempotency_key VARCHAR(96) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    recipient VARCHAR(16) NOT NULL COMMENT 'E.164',
    body VARCHAR(1600) NOT NULL,
    purpose VARCHAR(32) NOT NULL,
    priority TINYINT NOT NULL DEFAULT 5,
    provider VARCHAR(32) NOT NULL,
    state ENUM('queued', 'sending', 'sent', 'delivered', 'failed') NOT NULL DEFAULT 'queued',
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(3) NOT NULL,
    provider_msg_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    last_error VARCHAR(255) NULL,
    segments TINYINT UNSIGNED NOT NULL,
    encoding ENUM('gsm7', 'ucs2') NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_outbox_idempotency (idempotency_key),
    KEY idx_outbox_due (state, next_attempt_at, priority),
    KEY idx_outbox_provider_msg (provider, provider_msg_id),
    KEY idx_outbox_recipient_created (recipient, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Alerts for assistants (business closed, help asked, training missed, silence, graduation).
-- dedupe_key (rule plus subject plus period) keeps the same alert from being raised twice.
CREATE TABLE IF NOT EXISTS alerts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    rule VARCHAR(32) NOT NULL,
    kpm_id BIGINT UNSIGNED NULL,
    assistant_id INT UNSIGNED NULL,
    dedupe_key VARCHAR(96) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    state ENUM('new', 'sent', 'acknowledged', 'expired') NOT NULL DEFAULT 'new',
    urgency ENUM('immediate', 'digest') NOT NULL,
    detail VARCHAR(255) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    sent_at DATETIME(3) NULL,
    acked_at DATETIME(3) NULL,
    PRIMARY KEY (id),
    UNIQUE KEY uq_alerts_dedupe (dedupe_key),
    KEY idx_alerts_assistant_state_created (assistant_id, state, created_at),
    KEY idx_alerts_state_created (state, created_at),
    KEY idx_alerts_kpm_created (kpm_id, created_at),
    CONSTRAINT fk_alerts_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id),
    CONSTRAINT fk_alerts_assistant FOREIGN KEY (assistant_id) REFERENCES assistants (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Which outbox SMS carried which alert (a digest carries several).
CREATE TABLE IF NOT EXISTS alert_messages (
    alert_id BIGINT UNSIGNED NOT NULL,
    outbox_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (alert_id, outbox_id),
    KEY idx_alert_messages_outbox (outbox_id),
    CONSTRAINT fk_alert_messages_alert FOREIGN KEY (alert_id) REFERENCES alerts (id)
        ON DELETE CASCADE,
    CONSTRAINT fk_alert_messages_outbox FOREIGN KEY (outbox_id) REFERENCES outbox (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Users of the admin web page. A supervisor sees only the region in region_code and below.
CREATE TABLE IF NOT EXISTS admin_users (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    username VARCHAR(64) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    role ENUM('admin', 'supervisor') NOT NULL,
    region_code VARCHAR(13) NULL,
    failed_logins INT UNSIGNED NOT NULL DEFAULT 0,
    locked_until DATETIME(3) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_admin_users_username (username),
    KEY idx_admin_users_region (region_code),
    CONSTRAINT fk_admin_users_region FOREIGN KEY (region_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Reviews of reports by administrators. report_id points into the table named by report_type,
-- so it has no foreign key. The latest review of a report is its current review status, and a
-- report with no review row is in the queue of unreviewed reports.
CREATE TABLE IF NOT EXISTS reviews (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    report_type ENUM('business', 'attendance', 'help') NOT NULL,
    report_id BIGINT UNSIGNED NOT NULL,
    reviewer_id INT UNSIGNED NOT NULL,
    status ENUM('reviewed', 'follow_up') NOT NULL,
    note TEXT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_reviews_report_created (report_type, report_id, created_at),
    KEY idx_reviews_status_created (status, created_at),
    KEY idx_reviews_reviewer (reviewer_id),
    CONSTRAINT fk_reviews_reviewer FOREIGN KEY (reviewer_id) REFERENCES admin_users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Who did what: admin actions, link decisions, alert acknowledgements. Never holds a NIK or PIN.
CREATE TABLE IF NOT EXISTS audit_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    actor VARCHAR(64) NOT NULL,
    action VARCHAR(64) NOT NULL,
    target_type VARCHAR(32) NULL,
    target_id BIGINT UNSIGNED NULL,
    detail VARCHAR(1024) NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    KEY idx_audit_log_target (target_type, target_id),
    KEY idx_audit_log_created (created_at),
    KEY idx_audit_log_actor_created (actor, created_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
