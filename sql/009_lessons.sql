-- Kabar schema, migration 009: micro-lessons for KPM (courses are data: config/lessons.conf).
--
-- A KPM is enrolled in a course (lesson_enrolments), possibly with the weekly SMS drip, and has
-- one row of progress per module she has started (lesson_progress), whichever channel she used:
-- USSD and SMS write the same row, so a completion is never counted twice. Course and module
-- are the ids of lessons.conf. lesson_events makes a retried USSD hop or a re-sent SMS count
-- once: one row per (channel, session, event), written in the same transaction as the
-- progress it moves.

CREATE TABLE IF NOT EXISTS lesson_enrolments (
    kpm_id BIGINT UNSIGNED NOT NULL,
    course VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    enrolled_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    drip TINYINT(1) NOT NULL DEFAULT 0 COMMENT '1: the weekly SMS lesson (BELAJAR MINGGUAN)',
    drip_last_at DATETIME(3) NULL COMMENT 'when the drip last queued a lesson',
    sms_module VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NULL
        COMMENT 'the module whose quiz question is waiting for an SMS answer',
    sms_question TINYINT UNSIGNED NULL COMMENT 'that question, from 0',
    sms_right TINYINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'right answers so far in that quiz',
    PRIMARY KEY (kpm_id, course),
    KEY idx_lesson_enrolments_course_enrolled (course, enrolled_at),
    KEY idx_lesson_enrolments_drip (drip, drip_last_at),
    CONSTRAINT fk_lesson_enrolments_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS lesson_progress (
    kpm_id BIGINT UNSIGNED NOT NULL,
    course VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    module VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    started_via ENUM('ussd', 'sms') NOT NULL,
    screens_seen SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'lesson screens read, at most all',
    last_screen SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'the furthest screen read',
    attempts SMALLINT UNSIGNED NOT NULL DEFAULT 0 COMMENT 'quizzes finished',
    score TINYINT UNSIGNED NULL COMMENT 'best quiz score: right answers',
    questions TINYINT UNSIGNED NULL COMMENT 'questions in the quiz when scored',
    passed_at DATETIME(3) NULL COMMENT 'the first pass; never moved by a later attempt',
    passed_via ENUM('ussd', 'sms') NULL,
    updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
    PRIMARY KEY (kpm_id, course, module),
    KEY idx_lesson_progress_course_module_passed (course, module, passed_at),
    KEY idx_lesson_progress_updated (updated_at),
    CONSTRAINT fk_lesson_progress_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS lesson_events (
    channel VARCHAR(32) NOT NULL,
    session_id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    event VARCHAR(48) CHARACTER SET ascii COLLATE ascii_bin NOT NULL
        COMMENT 'e.g. screen:MODULE:N, quiz:MODULE, drip:COURSE:MODULE',
    kpm_id BIGINT UNSIGNED NOT NULL,
    created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (channel, session_id, event),
    KEY idx_lesson_events_kpm_created (kpm_id, created_at),
    CONSTRAINT fk_lesson_events_kpm FOREIGN KEY (kpm_id) REFERENCES kpm (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
