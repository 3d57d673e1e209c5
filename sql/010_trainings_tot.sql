-- Kabar schema, migration 010: trainings managed on the admin pages, for KPM, assistants and
-- lecturers, including training of trainers (TOT), and the certification of assistants.
--
-- A training has an audience (who it is for) and a kind, a short unique code for the pages, an
-- end (a TOT runs several days) and a close: after closed_at no attendance is taken. Old rows
-- keep working: code NULL (UNIQUE allows many), ends_at NULL reads as starts_at (one day).
--
-- Participants: KPM stay in `enrollments` (its FK to kpm, and the KPM's HADIR/ABSEN and USSD
-- attendance dialog read it as before); assistants and lecturers are in training_participants,
-- whose participant_id is assistants.id or lecturers.id after participant_type. Two tables, not
-- one plus a view: the KPM table keeps its foreign key and its hot path untouched, and the
-- roster is their UNION (bounded by the training).
--
-- Attendance of assistants and lecturers: one row per participant and day (WIB) of the
-- training, so "all sessions" of a multi-day TOT is one attendance on each day from the day of
-- starts_at to the day of ends_at. The primary key makes a re-sent SMS or a retried USSD hop
-- count once, whatever its message id.
--
-- Certification is derived, not stored: the rule in kabard.conf (training.certification) reads
-- training_participants.passed (set by an administrator on the roster) and the attendance days.
--
-- Online on big tables: columns are added in place (INSTANT) or the statement fails rather than
-- lock the table; indexes are added online (NOCOPY). IF NOT EXISTS makes a re-run a no-op.

ALTER TABLE trainings
    ADD COLUMN IF NOT EXISTS audience ENUM('kpm', 'assistant', 'lecturer') NOT NULL DEFAULT 'kpm',
    ADD COLUMN IF NOT EXISTS kind ENUM('in_person', 'tot', 'online') NOT NULL DEFAULT 'in_person',
    ADD COLUMN IF NOT EXISTS code VARCHAR(16) CHARACTER SET ascii COLLATE ascii_general_ci NULL
        COMMENT 'short unique code for the pages',
    ADD COLUMN IF NOT EXISTS ends_at DATETIME NULL COMMENT 'UTC; NULL: the day of starts_at',
    ADD COLUMN IF NOT EXISTS closed_at DATETIME(3) NULL COMMENT 'no attendance after it',
    ADD COLUMN IF NOT EXISTS created_by VARCHAR(64) NULL COMMENT 'admin_users.username',
    ALGORITHM=INSTANT;

ALTER TABLE trainings
    ADD UNIQUE KEY IF NOT EXISTS uq_trainings_code (code),
    ALGORITHM=INPLACE, LOCK=NONE;

CREATE TABLE IF NOT EXISTS lecturers (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(100) NOT NULL,
    msisdn VARCHAR(16) NOT NULL COMMENT 'E.164',
    region_code VARCHAR(13) NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (id),
    UNIQUE KEY uq_lecturers_msisdn (msisdn),
    KEY idx_lecturers_region (region_code),
    CONSTRAINT fk_lecturers_region FOREIGN KEY (region_code) REFERENCES regions (code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS training_participants (
    training_id INT UNSIGNED NOT NULL,
    participant_type ENUM('assistant', 'lecturer') NOT NULL,
    participant_id INT UNSIGNED NOT NULL COMMENT 'assistants.id or lecturers.id',
    enrolled_by VARCHAR(64) NOT NULL COMMENT 'admin_users.username',
    enrolled_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    passed TINYINT(1) NULL COMMENT 'the course of the training: 1 passed, 0 failed, NULL not yet',
    passed_at DATETIME(3) NULL,
    PRIMARY KEY (training_id, participant_type, participant_id),
    KEY idx_training_participants_who (participant_type, participant_id),
    CONSTRAINT fk_training_participants_training FOREIGN KEY (training_id)
        REFERENCES trainings (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS training_attendance (
    training_id INT UNSIGNED NOT NULL,
    participant_type ENUM('assistant', 'lecturer') NOT NULL,
    participant_id INT UNSIGNED NOT NULL,
    day DATE NOT NULL COMMENT 'WIB',
    source ENUM('ussd', 'sms') NOT NULL,
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (training_id, participant_type, participant_id, day),
    KEY idx_training_attendance_who (participant_type, participant_id, training_id),
    CONSTRAINT fk_training_attendance_participant FOREIGN KEY
        (training_id, participant_type, participant_id) REFERENCES training_participants
        (training_id, participant_type, participant_id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
