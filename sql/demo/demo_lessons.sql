-- Demo micro-lessons (config/lessons.conf): the first 100 demo KPM are enrolled in the course
-- "usaha", over the last four weeks, and KPM 2 to 6 have taken some modules, so the admin pages
-- have something to show. KPM 1 (+628120000001) has not begun: a newcomer takes her first module
-- with kabar-phone as scripts/demo prints. Safe to run again: nothing is written twice.

INSERT IGNORE INTO lesson_enrolments (kpm_id, course, enrolled_at)
SELECT id, 'usaha', NOW(3) - INTERVAL (id % 28) DAY FROM kpm WHERE id <= 100;

INSERT IGNORE INTO lesson_progress
    (kpm_id, course, module, started_at, started_via, screens_seen, last_screen, attempts, score,
     questions, passed_at, passed_via)
VALUES
    (2, 'usaha', 'pisah', NOW(3) - INTERVAL 20 DAY, 'ussd', 3, 2, 1, 2, 2, NOW(3) - INTERVAL 20 DAY, 'ussd'),
    (2, 'usaha', 'harga', NOW(3) - INTERVAL 13 DAY, 'sms', 3, 2, 2, 3, 3, NOW(3) - INTERVAL 12 DAY, 'sms'),
    (3, 'usaha', 'pisah', NOW(3) - INTERVAL 9 DAY, 'sms', 3, 2, 1, 2, 2, NOW(3) - INTERVAL 9 DAY, 'sms'),
    (4, 'usaha', 'pisah', NOW(3) - INTERVAL 5 DAY, 'ussd', 2, 1, 0, NULL, NULL, NULL, NULL),
    (5, 'usaha', 'pisah', NOW(3) - INTERVAL 3 DAY, 'ussd', 3, 2, 1, 1, 2, NULL, NULL),
    (6, 'usaha', 'pisah', NOW(3) - INTERVAL 2 DAY, 'ussd', 3, 2, 1, 2, 2, NOW(3) - INTERVAL 2 DAY, 'ussd');
