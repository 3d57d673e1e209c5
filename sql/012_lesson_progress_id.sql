-- Kabar schema, migration 012: a row id for lesson progress, for the lists (issue 13).
--
-- GET /api/v1/lessons/progress and /export/lessons.csv page by keyset like every other list:
-- the cursor is a number, the id of the last row, and the next page has smaller ids. Progress
-- rows have a natural key of three columns (kpm_id, course, module); a surrogate id with its
-- own unique index gives them the same cursor as reports, alerts and graduations. The rows are
-- written by gateway/lesson code with column lists, so the new column takes its value by itself.
--
-- Adding an AUTO_INCREMENT column copies the table; this runs while lesson_progress is new and
-- small. IF NOT EXISTS makes a second run change nothing.
ALTER TABLE lesson_progress
    ADD COLUMN IF NOT EXISTS id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT
        COMMENT 'keyset cursor of the lists; the key is (kpm_id, course, module)',
    ADD UNIQUE KEY IF NOT EXISTS uq_lesson_progress_id (id);
