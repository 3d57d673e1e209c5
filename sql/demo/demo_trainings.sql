-- Kabar demo trainings (issue 13): a three-day TOT (yesterday, today and tomorrow, WIB) in
-- Pangalengan for the demo assistants, with a lecturer, so that the training pages, the
-- assistants page and the dashboard have something to show and an assistant can report her own
-- attendance today: HADIR 246810 by SMS from +628130000001, or 5 in her USSD menu. Fictional.
--
-- Loaded with the mariadb client after sql/demo/demo_graduates.sql (scripts/lib.sh). Re-runnable:
-- one transaction, every row written with INSERT ... ON DUPLICATE KEY UPDATE on a fixed key
-- (the training's code TOT-DEMO-1, the lecturer's number), times relative to now, so a second
-- load adds nothing and moves the TOT to the current days again (open again if it was closed).
-- Assistant 1 attended yesterday's session, so today's HADIR makes 2 of 3 days.

SET NAMES utf8mb4;
SET time_zone = '+00:00';
START TRANSACTION;

INSERT INTO trainings (title, starts_at, ends_at, place, region_code, attendance_code, audience,
                       kind, code, created_by)
VALUES ('TOT Kewirausahaan Sosial', DATE(NOW() + INTERVAL 7 HOUR) - INTERVAL 1 DAY
            + INTERVAL 1 HOUR, DATE(NOW() + INTERVAL 7 HOUR) + INTERVAL 1 DAY + INTERVAL 10 HOUR,
        'Aula Kecamatan Pangalengan', '3204132005', '246810', 'assistant', 'tot', 'TOT-DEMO-1',
        'demo')
ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), starts_at = VALUES(starts_at),
    ends_at = VALUES(ends_at), attendance_code = VALUES(attendance_code), closed_at = NULL;
SET @tot = LAST_INSERT_ID();

INSERT INTO lecturers (name, msisdn, region_code)
VALUES ('Ratna Sari Dewi', '+628110000001', '32')
ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), name = VALUES(name);
SET @lecturer = LAST_INSERT_ID();

INSERT INTO training_participants (training_id, participant_type, participant_id, enrolled_by)
SELECT @tot, 'assistant', a.id, 'demo' FROM assistants a WHERE a.id BETWEEN 1 AND 5
UNION ALL SELECT @tot, 'lecturer', @lecturer, 'demo'
ON DUPLICATE KEY UPDATE enrolled_by = VALUES(enrolled_by);

-- yesterday's session: assistant 1 was there (a re-load moves it to the new yesterday)
DELETE FROM training_attendance WHERE training_id = @tot AND channel = 'demo-data';
INSERT INTO training_attendance (training_id, participant_type, participant_id, day, source,
                                 channel, session_id)
VALUES (@tot, 'assistant', 1, DATE(NOW() + INTERVAL 7 HOUR) - INTERVAL 1 DAY, 'sms', 'demo-data',
        'demo-tot-1')
ON DUPLICATE KEY UPDATE source = VALUES(source);

COMMIT;
