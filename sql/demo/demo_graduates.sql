-- Kabar demo graduates (issue 12): KPM who graduated on either track, with their graduation
-- history, the welfare graduates' monthly check-ins, the natural graduates' support choice and
-- exit surveys, and one pending phone-link request, so that the per-track USSD menus, the
-- assistant's menu and the admin pages have something to show. Every row here is fictional.
--
-- Loaded with the mariadb client right after sql/demo/demo.sql (scripts/lib.sh). Same rules:
-- one transaction, rows generated with the SEQUENCE engine, written with INSERT ... ON
-- DUPLICATE KEY UPDATE on a fixed key, so a second load adds nothing and puts the rows back as
-- they were; times relative to now. Reports use the channel demo-data with the session ids
-- demo-c-K-M (check-in of KPM K, M months ago) and demo-x-K (exit survey of KPM K);
-- graduations the idem_key demo:grad:K; the link request the session demo-l-13.
--
-- Who is who (n = KPM id):
--   welfare  n mod 400 = 0 (demo.sql's) and n mod 200 = 7; graduated 1 + (n div 200) mod 14
--            months ago, so most are inside the 12-month follow-up period and a few are past
--            it; a check-in every month since, the business running with revenue growing,
--            except n mod 600 = 207, whose business closed for good in the last one (a relapse)
--   natural  n mod 1000 = 999 (demo.sql's) and n mod 200 = 19; graduated 1 + (n div 200) mod 6
--            months ago; n mod 400 = 219 opted in to business support and answered the exit
--            survey
--   KPM 7    Yuni Aminah (+628120000007), welfare, one month ago: dial as her to see the
--            check-in first. KPM 19 Lina Rahayu (+628120000019), natural: the support choice
--            and the exit survey. Both are KPM of assistant 1, Dedi Kurniawan (+628130000001),
--            whose own menu (dial as her) lists their alerts; KPM 13 asks from a new phone
--            (+628199900013) to be linked, which she can approve.

SET NAMES utf8mb4;
SET time_zone = '+00:00';
START TRANSACTION;

-- The graduates, each with her track and months since graduation.
CREATE TEMPORARY TABLE IF NOT EXISTS demo_grad (
    n BIGINT UNSIGNED PRIMARY KEY,
    track ENUM('natural', 'welfare') NOT NULL,
    months INT NOT NULL
) ENGINE=MEMORY;
DELETE FROM demo_grad;
INSERT INTO demo_grad (n, track, months)
SELECT s.seq,
       IF(s.seq MOD 400 = 0 OR s.seq MOD 200 = 7, 'welfare', 'natural'),
       IF(s.seq MOD 400 = 0 OR s.seq MOD 200 = 7, 1 + (s.seq DIV 200) MOD 14,
          1 + (s.seq DIV 200) MOD 6)
FROM seq_1_to_10000 AS s
WHERE s.seq MOD 400 = 0 OR s.seq MOD 200 = 7 OR s.seq MOD 1000 = 999 OR s.seq MOD 200 = 19;

-- Their graduation histories: decided by the KPM's assistant, from her phone.
INSERT INTO graduations (kpm_id, track, reason, effective_date, decided_by_type, decided_by_id,
                         decided_via, note, idem_key, created_at)
SELECT k.id, g.track, IF(g.track = 'welfare', 'business_sustains', 'left_pkh'),
       UTC_DATE() - INTERVAL g.months MONTH, 'assistant', k.assistant_id, 'ussd', NULL,
       CONCAT('demo:grad:', k.id), TIMESTAMP(UTC_DATE() - INTERVAL g.months MONTH, '03:00:00')
FROM demo_grad AS g
JOIN kpm AS k ON k.id = g.n
ON DUPLICATE KEY UPDATE
    kpm_id = VALUES(kpm_id), track = VALUES(track), reason = VALUES(reason),
    effective_date = VALUES(effective_date), decided_by_type = VALUES(decided_by_type),
    decided_by_id = VALUES(decided_by_id), decided_via = VALUES(decided_via),
    created_at = VALUES(created_at), revoked_at = NULL, revoked_by_type = NULL,
    revoked_by_id = NULL, revoke_reason = NULL;

-- kpm follows its latest unrevoked graduation (what graduation_sync() keeps so).
UPDATE kpm AS k
JOIN demo_grad AS g ON g.n = k.id
SET k.graduation = g.track,
    k.graduated_on = UTC_DATE() - INTERVAL g.months MONTH,
    k.support_opt_in = (g.n MOD 400 = 219),
    k.exit_survey_at = IF(g.n MOD 400 = 219,
                          TIMESTAMP(UTC_DATE() - INTERVAL 3 DAY, '04:00:00'), NULL);

-- The welfare graduates' monthly check-ins, the last one this month.
INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status, kind,
                              revenue, workers, difficulty, answers, input_path, started_at,
                              created_at, flow)
SELECT c.n, k.msisdn, 'demo-data', CONCAT('demo-c-', c.n, '-', c.m), 'ussd', c.status, NULL,
       IF(c.status = 1, c.revenue, NULL), IF(c.status = 1, 2 + c.n MOD 3, NULL), NULL,
       IF(c.status = 1,
          JSON_OBJECT('status', '1', 'revenue', CAST(c.revenue AS CHAR),
                      'workers', CAST(2 + c.n MOD 3 AS CHAR), 'need_help', '0'),
          JSON_OBJECT('status', CAST(c.status AS CHAR), 'need_help', '0')),
       IF(c.status = 1, CONCAT('1*1*', c.revenue, '*', 2 + c.n MOD 3, '*2*1'), '1*3*2*1'),
       c.at - INTERVAL 90 SECOND, c.at, 'checkin'
FROM (
    SELECT g.n, m.seq AS m,
           IF(g.n MOD 600 = 207 AND m.seq = 0, 3, 1) AS status,
           2600000 + 150000 * (g.months - m.seq) + 10000 * (g.n MOD 7) AS revenue,
           TIMESTAMP(UTC_DATE() - INTERVAL m.seq MONTH - INTERVAL 1 DAY, '05:00:00') AS at
    FROM demo_grad AS g
    JOIN seq_0_to_13 AS m ON m.seq < g.months
    WHERE g.track = 'welfare'
) AS c
JOIN kpm AS k ON k.id = c.n
ON DUPLICATE KEY UPDATE
    kpm_id = VALUES(kpm_id), msisdn = VALUES(msisdn), status = VALUES(status),
    revenue = VALUES(revenue), workers = VALUES(workers), answers = VALUES(answers),
    input_path = VALUES(input_path), started_at = VALUES(started_at),
    created_at = VALUES(created_at), flow = VALUES(flow);

-- The natural graduates' exit surveys (those who answered it).
INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status, answers,
                              input_path, started_at, created_at, flow)
SELECT g.n, k.msisdn, 'demo-data', CONCAT('demo-x-', g.n), 'ussd', 1,
       JSON_OBJECT('status', '1', 'helped', '1', 'plan', '1'), '7*1*1*1*1',
       k.exit_survey_at - INTERVAL 60 SECOND, k.exit_survey_at, 'exit_survey'
FROM demo_grad AS g
JOIN kpm AS k ON k.id = g.n
WHERE g.n MOD 400 = 219
ON DUPLICATE KEY UPDATE
    kpm_id = VALUES(kpm_id), msisdn = VALUES(msisdn), status = VALUES(status),
    answers = VALUES(answers), started_at = VALUES(started_at), created_at = VALUES(created_at),
    flow = VALUES(flow);

-- KPM 13 (of assistant 1) asks from a new phone to be linked: pending, with its alert.
INSERT INTO link_requests (msisdn, pkh_number, kpm_id, channel, session_id, status, created_at)
SELECT '+628199900013', k.pkh_number, k.id, 'demo-data', 'demo-l-13', 'pending',
       UTC_TIMESTAMP(3) - INTERVAL 2 HOUR
FROM kpm AS k WHERE k.id = 13
ON DUPLICATE KEY UPDATE
    msisdn = VALUES(msisdn), pkh_number = VALUES(pkh_number), kpm_id = VALUES(kpm_id),
    status = 'pending', created_at = VALUES(created_at), decided_at = NULL, decided_by = NULL;

INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, state, urgency, created_at)
SELECT 'link_request', l.kpm_id, k.assistant_id, CONCAT('link:', l.id), 'sent', 'immediate',
       l.created_at
FROM link_requests AS l
JOIN kpm AS k ON k.id = l.kpm_id
WHERE l.channel = 'demo-data' AND l.session_id = 'demo-l-13'
ON DUPLICATE KEY UPDATE
    kpm_id = VALUES(kpm_id), assistant_id = VALUES(assistant_id), state = 'sent',
    created_at = VALUES(created_at), acked_at = NULL, outcome = NULL, outcome_at = NULL,
    outcome_by = NULL, outcome_note = NULL;

DROP TEMPORARY TABLE demo_grad;
-- kpm.last_report_at follows the reports above (migration 014; kabard sets it as it saves).
UPDATE kpm k JOIN (SELECT kpm_id, MAX(created_at) m FROM business_reports GROUP BY kpm_id) b
    ON b.kpm_id = k.id SET k.last_report_at = b.m;

COMMIT;
