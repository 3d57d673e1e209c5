-- Kabar demo activity: twelve weeks of business reports, training attendance, help requests,
-- alerts and the SMS history of KPM 1, so that the admin pages (dashboard and charts, review
-- queue, KPM pages, alerts) have something to show. Every report here is fictional.
--
-- Loaded with the mariadb client right after sql/demo/demo.sql (it needs its KPM, assistants,
-- trainings and enrollments). Same rules as demo.sql: one transaction, rows generated with the
-- SEQUENCE engine, written with INSERT ... ON DUPLICATE KEY UPDATE on a fixed key (never INSERT
-- IGNORE), so a second load adds nothing and puts the rows back as they were. Every time is
-- relative to now, so reloading moves the activity back into the last 12 weeks.
--
-- All rows use the channel demo-data (the aggregator channels of kabard.conf are named
-- otherwise), and session ids that name what they are, so they never meet a real report on
-- the UNIQUE (channel, session_id) keys:
--   demo-b-K-W   business report of KPM K in week W (0 is the last 7 days, 11 the oldest)
--   demo-a-K-T   attendance report of KPM K for training T
--   demo-h-K-I   help request number I (1..60) of KPM K
-- Alerts use the dedupe key demo:RULE:K, outbox rows the idempotency key demo:..., inbound
-- SMS the provider message id demo-sms-...
--
-- Who is who (n = KPM id, only KPM 1..1500 have activity):
--   KPM 1         Siti Aminah: a report every week, a food business with rising revenue, three
--                 of them by SMS, both her trainings attended, one help request, and her SMS
--                 history (inbound_messages and outbox)
--   n mod 100 13  report a closed business (n mod 200 = 13 for good, else for now) in week 0
--   n mod 100 50  silent: no report in the last five weeks
--   n mod 140 31  revenue drop: week 0 revenue about a third of week 1
--   n mod 140 77  graduation candidates: always running, revenue 2.6 million Rupiah or more
--   other KPM     a business that starts in some week (most run from the first, some never),
--                 pauses now and then, and closes for good in a few cases, so the share of
--                 running businesses rises over the weeks. A KPM skips week W when
--                 (n + W) mod 5 = 0. About 30 percent of the reports come by SMS.
-- Like the real gateway, an SMS keyword report (USAHA BUKA 2500000 3) has no kind, no
-- difficulty and no started_at, and an SMS help request has topic 4 and the free text.
-- Reports are made in the day of the KPM desa (07:00 to 20:00 WIB, WITA or WIT).
-- No reviews: every report starts in the review queue.

SET NAMES utf8mb4;
-- DATETIME columns hold UTC (see sql/001_schema.sql).
SET time_zone = '+00:00';

START TRANSACTION;

-- Business reports. The innermost table draws the hashes of a KPM n and week w, the next one
-- decides status and numbers, the outer one writes them as the USSD dialog or the SMS keyword
-- would. With t = 11 - w (0 the oldest week): the business starts at week t0, closes for good
-- at week tc, and is paused in about 7 percent of the weeks. Ids follow created_at.
INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status, kind,
                              revenue, workers, difficulty, answers, input_path, started_at,
                              created_at)
SELECT
    v.n, v.msisdn, 'demo-data', CONCAT('demo-b-', v.n, '-', v.w), v.source, v.status,
    IF(v.source = 'ussd' AND v.status IN (1, 2), v.kind, NULL),
    IF(v.status = 1, v.revenue, NULL),
    IF(v.status = 1, v.workers, NULL),
    IF(v.source = 'ussd', v.difficulty, NULL),
    CASE
        WHEN v.source = 'sms' AND v.status = 1 THEN
            JSON_OBJECT('status', '1', 'revenue', CAST(v.revenue AS CHAR),
                        'workers', CAST(v.workers AS CHAR))
        WHEN v.source = 'sms' THEN JSON_OBJECT('status', CAST(v.status AS CHAR))
        WHEN v.status = 1 THEN
            JSON_OBJECT('status', '1', 'kind', CAST(v.kind AS CHAR),
                        'revenue', CAST(v.revenue AS CHAR), 'workers', CAST(v.workers AS CHAR),
                        'difficulty', CAST(v.difficulty AS CHAR))
        WHEN v.status = 2 THEN
            JSON_OBJECT('status', '2', 'kind', CAST(v.kind AS CHAR),
                        'difficulty', CAST(v.difficulty AS CHAR))
        ELSE JSON_OBJECT('status', CAST(v.status AS CHAR), 'difficulty', CAST(v.difficulty AS CHAR))
    END,
    CASE
        WHEN v.source = 'ussd' AND v.status = 1 THEN
            CONCAT_WS('*', 1, 1, v.kind, v.revenue, v.workers, v.difficulty, 1)
        WHEN v.source = 'ussd' AND v.status = 2 THEN CONCAT_WS('*', 1, 2, v.kind, v.difficulty, 1)
        WHEN v.source = 'ussd' THEN CONCAT_WS('*', 1, v.status, v.difficulty, 1)
        ELSE CASE
            WHEN v.status = 1 THEN
                CONCAT(IF(v.en, 'BUSINESS OPEN ', ELT(1 + v.hx MOD 4, 'USAHA BUKA ', 'USAHA BUKA ',
                                                      'usaha buka ', 'Usaha jalan ')),
                       IF(v.hx MOD 5 = 1, FORMAT(v.revenue, 0, IF(v.en, 'en_US', 'id_ID')),
                          v.revenue), ' ', v.workers)
            WHEN v.status = 2 THEN IF(v.en, 'BUSINESS PAUSED', 'USAHA LIBUR')
            WHEN v.status = 3 THEN IF(v.en, 'BUSINESS CLOSED', 'USAHA TUTUP')
            ELSE IF(v.en, 'BUSINESS NOT STARTED', 'USAHA BELUM')
        END
    END,
    IF(v.source = 'ussd', v.created - INTERVAL (45 + v.hx MOD 120) SECOND, NULL),
    v.created
FROM (
    SELECT
        u.*,
        CASE
            WHEN u.cls = 'closed' AND u.w = 0 THEN IF(u.n MOD 200 = 13, 3, 2)
            WHEN u.t < u.t0 THEN 4
            WHEN u.t >= u.tc THEN 3
            WHEN u.cls = 'normal' AND u.hp < 7 THEN 2
            ELSE 1
        END AS status,
        CASE
            WHEN u.cls = 'star' THEN IF(u.w IN (2, 5, 9), 'sms', 'ussd')
            WHEN u.hx MOD 10 < 3 THEN 'sms'
            ELSE 'ussd'
        END AS source,
        IF(u.cls = 'star', 1, 1 + u.hk MOD 5) AS kind,
        CAST(CASE
            WHEN u.cls = 'star' THEN 1200000 + u.t * 150000
            WHEN u.cls = 'grad' THEN 2600000 + (u.hb MOD 15) * 100000 + u.t * 20000
                                     + (u.hv MOD 5) * 10000
            WHEN u.cls = 'drop' THEN ROUND(
                     (1500000 + (u.hb MOD 20) * 100000) * (50 + u.t) / 50 * (85 + u.hv MOD 31) / 100
                     * IF(u.w = 0, 0.35, 1), -4)
            ELSE LEAST(6000000, GREATEST(300000, ROUND(
                     (300000 + (u.hb MOD 36) * 60000) * (50 + u.t) / 50 * (85 + u.hv MOD 31) / 100,
                     -4)))
        END AS UNSIGNED) AS revenue,
        CASE
            WHEN u.cls = 'star' THEN IF(u.w >= 6, 1, 2)
            ELSE ELT(1 + u.hw MOD 10, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4)
        END AS workers,
        CASE
            WHEN u.cls = 'star' THEN CASE WHEN u.w >= 8 THEN 1 WHEN u.w >= 3 THEN 2 ELSE 5 END
            ELSE ELT(1 + u.hd MOD 10, 1, 1, 1, 2, 2, 3, 4, 5, 5, 2)
        END AS difficulty,
        -- a local day and time in the desa, back in UTC, never in the last ten minutes
        IF(u.utc > NOW() - INTERVAL 10 MINUTE, u.utc - INTERVAL 1 DAY, u.utc)
            + INTERVAL (u.hv * 7 MOD 1000) * 1000 MICROSECOND AS created
    FROM (
        SELECT
            h.*,
            CASE
                WHEN h.cls <> 'normal' THEN 0
                WHEN h.hs < 60 THEN 0
                WHEN h.hs < 92 THEN 1 + (h.hs - 60) MOD 11
                ELSE 99
            END AS t0,
            CASE
                WHEN h.cls = 'normal' AND h.hc < 6 THEN 2 + IF(h.hs < 60, 0, 1 + (h.hs - 60) MOD 11)
                                                        + h.hc MOD 6
                ELSE 99
            END AS tc,
            TIMESTAMP(DATE(NOW() + INTERVAL h.tzh HOUR)
                      - INTERVAL (h.w * 7 + CASE
                                      WHEN h.cls = 'star' THEN 1
                                      WHEN h.cls IN ('closed', 'drop') AND h.w = 0 THEN 1
                                      ELSE h.hday MOD 7
                                  END) DAY)
                + INTERVAL (25200 + h.hm MOD 46800) SECOND
                - INTERVAL h.tzh HOUR AS utc
        FROM (
            SELECT
                s.seq AS n,
                wk.seq AS w,
                11 - wk.seq AS t,
                7 + (s.seq - 1) MOD 3 AS tzh,
                k.msisdn,
                k.lang = 'en' AS en,
                CASE
                    WHEN s.seq = 1 THEN 'star'
                    WHEN s.seq MOD 100 = 13 THEN 'closed'
                    WHEN s.seq MOD 100 = 50 THEN 'silent'
                    WHEN s.seq MOD 140 = 31 THEN 'drop'
                    WHEN s.seq MOD 140 = 77 THEN 'grad'
                    ELSE 'normal'
                END AS cls,
                CRC32(CONCAT('start:', s.seq)) MOD 100 AS hs,
                CRC32(CONCAT('close:', s.seq)) MOD 100 AS hc,
                CRC32(CONCAT('pause:', s.seq, ':', wk.seq)) MOD 100 AS hp,
                CRC32(CONCAT('base:', s.seq)) AS hb,
                CRC32(CONCAT('kind:', s.seq)) AS hk,
                CRC32(CONCAT('workers:', s.seq)) AS hw,
                CRC32(CONCAT('var:', s.seq, ':', wk.seq)) AS hv,
                CRC32(CONCAT('diff:', s.seq, ':', wk.seq)) AS hd,
                CRC32(CONCAT('day:', s.seq, ':', wk.seq)) AS hday,
                CRC32(CONCAT('minute:', s.seq, ':', wk.seq)) AS hm,
                CRC32(CONCAT('source:', s.seq, ':', wk.seq)) AS hx
            FROM seq_1_to_1500 AS s
            JOIN seq_0_to_11 AS wk
            JOIN kpm AS k ON k.id = s.seq AND k.msisdn = CONCAT('+62812', LPAD(s.seq, 7, '0'))
            WHERE s.seq = 1
               OR (s.seq MOD 100 = 50 AND wk.seq >= 5 AND (s.seq + wk.seq) MOD 5 <> 0)
               OR (s.seq MOD 100 <> 50 AND (s.seq + wk.seq) MOD 5 <> 0)
               OR ((s.seq MOD 100 = 13 OR s.seq MOD 140 = 31) AND wk.seq <= 1)
        ) AS h
    ) AS u
) AS v
ORDER BY v.created
ON DUPLICATE KEY UPDATE
    kpm_id = VALUES(kpm_id), msisdn = VALUES(msisdn), source = VALUES(source),
    status = VALUES(status), kind = VALUES(kind), revenue = VALUES(revenue),
    workers = VALUES(workers), difficulty = VALUES(difficulty), answers = VALUES(answers),
    input_path = VALUES(input_path), started_at = VALUES(started_at),
    created_at = VALUES(created_at);

-- Attendance of KPM 1..1500 at the trainings they are enrolled in that have taken place: about
-- 8 percent never report, of the rest about 80 percent attended (with the code of the
-- training) and the others did not (reason 1 ill, 2 family, 3 distance). The report comes a
-- day or two after the training, in the day of the desa. idx is the place of the training in
-- the list the USSD dialog shows (latest first). KPM 1 attended both of hers, training 1 by SMS.
INSERT INTO attendance_reports (kpm_id, training_id, msisdn, channel, session_id, source,
                                attended, reason, answers, input_path, started_at, created_at)
SELECT
    v.kpm_id, v.training_id, v.msisdn, 'demo-data',
    CONCAT('demo-a-', v.kpm_id, '-', v.training_id), v.source, v.attended,
    IF(v.attended = 1, NULL, v.reason),
    CASE
        WHEN v.source = 'sms' OR v.attended = 1 THEN
            JSON_OBJECT('training_id', CAST(v.training_id AS CHAR),
                        'attended', CAST(v.attended AS CHAR), 'code', v.code)
        ELSE JSON_OBJECT('training_id', CAST(v.training_id AS CHAR), 'attended', '0',
                         'reason', CAST(v.reason AS CHAR))
    END,
    CASE
        WHEN v.source = 'ussd' AND v.attended = 1 THEN CONCAT('2*', v.idx, '*1*', v.code, '*1')
        WHEN v.source = 'ussd' THEN CONCAT('2*', v.idx, '*2*', v.reason, '*1')
        WHEN v.attended = 1 THEN CONCAT(IF(v.en, 'ATTEND ', 'HADIR '), v.code)
        ELSE CONCAT(IF(v.en, 'ABSENT ', 'ABSEN '), v.code, ' ', v.reason)
    END,
    IF(v.source = 'ussd', v.created - INTERVAL (30 + v.h MOD 60) SECOND, NULL),
    v.created
FROM (
    SELECT
        e.kpm_id,
        e.training_id,
        k.msisdn,
        k.lang = 'en' AS en,
        t.attendance_code AS code,
        ROW_NUMBER() OVER (PARTITION BY e.kpm_id ORDER BY t.starts_at DESC, t.id) AS idx,
        CRC32(CONCAT('attend:', e.kpm_id, ':', e.training_id)) AS h,
        IF(e.kpm_id = 1 OR CRC32(CONCAT('went:', e.kpm_id, ':', e.training_id)) MOD 100 < 80,
           1, 0) AS attended,
        1 + CRC32(CONCAT('reason:', e.kpm_id, ':', e.training_id)) MOD 3 AS reason,
        CASE
            WHEN e.kpm_id = 1 THEN IF(e.training_id = 1, 'sms', 'ussd')
            WHEN CRC32(CONCAT('asrc:', e.kpm_id, ':', e.training_id)) MOD 10 < 3 THEN 'sms'
            ELSE 'ussd'
        END AS source,
        e.kpm_id <> 1 AND CRC32(CONCAT('askip:', e.kpm_id, ':', e.training_id)) MOD 100 < 8
            AS skip,
        LEAST(t.starts_at
                  + INTERVAL (1 + CRC32(CONCAT('aday:', e.kpm_id, ':', e.training_id)) MOD 2) DAY
                  + INTERVAL (CRC32(CONCAT('atime:', e.kpm_id, ':', e.training_id)) MOD 36000)
                    SECOND,
              NOW() - INTERVAL 10 MINUTE)
            + INTERVAL (e.kpm_id * 37 MOD 1000) * 1000 MICROSECOND AS created
    FROM enrollments AS e
    JOIN trainings AS t ON t.id = e.training_id
    JOIN kpm AS k ON k.id = e.kpm_id
    WHERE e.kpm_id BETWEEN 1 AND 1500
      AND k.msisdn = CONCAT('+62812', LPAD(e.kpm_id, 7, '0'))
      AND t.id BETWEEN 1 AND 20
      AND t.starts_at < NOW() - INTERVAL 1 HOUR
) AS v
WHERE NOT v.skip
ORDER BY v.created
ON DUPLICATE KEY UPDATE
    kpm_id = VALUES(kpm_id), training_id = VALUES(training_id), msisdn = VALUES(msisdn),
    source = VALUES(source), attended = VALUES(attended), reason = VALUES(reason),
    answers = VALUES(answers), input_path = VALUES(input_path), started_at = VALUES(started_at),
    created_at = VALUES(created_at);

-- 60 help requests over the 12 weeks. Request i comes from KPM 1 + (i - 1) * 997 mod 1500 (60
-- different KPM) and goes to her assistant. Request 1 is from KPM 1, ten days ago, the others
-- go back in time evenly with i, from today (i = 2) to 82 days ago (i = 60), so requests
-- 1..21 are those of the last four weeks. By USSD a topic (1 capital, 2 marketing, 3 PKH
-- assistance, 4 other) and no text, by SMS (BANTUAN text) topic 4 and the text.
INSERT INTO help_requests (kpm_id, assistant_id, msisdn, channel, session_id, source, topic,
                           text, created_at)
SELECT
    v.kpm_id, v.assistant_id, v.msisdn, 'demo-data', CONCAT('demo-h-', v.kpm_id, '-', v.i),
    v.source,
    IF(v.source = 'sms', 4, ELT(1 + CRC32(CONCAT('topic:', v.i)) MOD 8, 1, 1, 1, 2, 2, 3, 3, 4)),
    IF(v.source = 'sms',
       IF(v.i = 1, 'Bu, saya mau tanya modal untuk tambah etalase kue',
          ELT(1 + v.i MOD 8,
              'Tolong telepon saya, warung sepi sekali',
              'Mohon info pinjaman modal KUR',
              'Bantuan PKH bulan ini belum cair',
              'Saya sakit, usaha tutup dulu. Mohon ditelepon',
              'Mau ikut pelatihan pemasaran, kapan ada lagi',
              'Harga bahan baku naik, bingung harga jual',
              'Tolong hubungi saya sore hari',
              'Mesin jahit rusak, perlu saran')),
       NULL),
    IF(v.utc > NOW() - INTERVAL 10 MINUTE, v.utc - INTERVAL 1 DAY, v.utc)
        + INTERVAL (v.i * 113 MOD 1000) * 1000 MICROSECOND AS created
FROM (
    SELECT
        s.seq AS i,
        k.id AS kpm_id,
        k.assistant_id,
        k.msisdn,
        IF(s.seq = 1 OR s.seq MOD 10 IN (3, 6, 9), 'sms', 'ussd') AS source,
        TIMESTAMP(DATE(NOW() + INTERVAL (7 + (k.id - 1) MOD 3) HOUR)
                  - INTERVAL IF(s.seq = 1, 10, (s.seq - 2) * 84 DIV 59) DAY)
            + INTERVAL (25200 + CRC32(CONCAT('htime:', s.seq)) MOD 46800) SECOND
            - INTERVAL (7 + (k.id - 1) MOD 3) HOUR AS utc
    FROM seq_1_to_60 AS s
    JOIN kpm AS k ON k.id = 1 + (s.seq - 1) * 997 MOD 1500
    WHERE k.msisdn = CONCAT('+62812', LPAD(k.id, 7, '0'))
) AS v
ORDER BY created
ON DUPLICATE KEY UPDATE
    kpm_id = VALUES(kpm_id), assistant_id = VALUES(assistant_id), msisdn = VALUES(msisdn),
    source = VALUES(source), topic = VALUES(topic), text = VALUES(text),
    created_at = VALUES(created_at);

-- About 80 alerts, each backed by the demo rows above: business closed (n mod 100 = 13, week
-- 0), revenue drop (n mod 140 = 31), silent (n mod 100 = 50, four weeks after the last report),
-- graduation candidates (n mod 140 = 77), training missed (12 of the KPM reported absent) and
-- help requested (the help requests of the last four weeks). Urgency as in kabard.conf.in.
-- An immediate alert is sent within a minute, a digest at 17:00 in the zone of the assistant.
-- State: new while not yet due, and for about a quarter of those of the last three days (not
-- sent yet), else sent, and acknowledged for about two thirds, 20 minutes to two days after
-- it was sent. Started on this data, kabard sends the new ones due (as it would).
INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, state, urgency, detail, created_at,
                    sent_at, acked_at)
SELECT
    x.rule, x.kpm_id, x.assistant_id, CONCAT('demo:', x.rule, ':', x.kpm_id),
    CASE
        WHEN x.due > NOW() OR (x.created > NOW() - INTERVAL 3 DAY AND x.h MOD 100 < 25) THEN 'new'
        WHEN x.h MOD 3 <> 0 AND x.acked <= NOW() THEN 'acknowledged'
        ELSE 'sent'
    END,
    x.urgency, x.detail, x.created,
    IF(x.due > NOW() OR (x.created > NOW() - INTERVAL 3 DAY AND x.h MOD 100 < 25), NULL, x.due),
    IF(x.due > NOW() OR (x.created > NOW() - INTERVAL 3 DAY AND x.h MOD 100 < 25)
           OR x.h MOD 3 = 0 OR x.acked > NOW(), NULL, x.acked)
FROM (
    SELECT
        y.*,
        y.due + INTERVAL (20 + y.h MOD 100 * 29) MINUTE AS acked
    FROM (
        SELECT
            a.rule, a.kpm_id, k.assistant_id, a.detail, a.created,
            IF(a.rule IN ('business_closed', 'help_requested'), 'immediate', 'digest') AS urgency,
            CRC32(CONCAT('alert:', a.rule, ':', a.kpm_id)) AS h,
            IF(a.rule IN ('business_closed', 'help_requested'),
               a.created + INTERVAL (5 + CRC32(CONCAT('send:', a.kpm_id)) MOD 50) SECOND,
               -- the next 17:00 in the zone of the assistant, back in UTC
               TIMESTAMP(DATE(a.created + INTERVAL z.tzh HOUR), '17:00:00')
                   + INTERVAL IF(HOUR(a.created + INTERVAL z.tzh HOUR) >= 17, 1, 0) DAY
                   + INTERVAL (CRC32(CONCAT('send:', a.kpm_id)) MOD 50) SECOND
                   - INTERVAL z.tzh HOUR) AS due
        FROM (
            -- each part reads one demo table (and the 20 trainings) with no join between two
            -- large row sets: within the transaction the row estimates of the tables just
            -- written can be far off, and a join of business_reports to itself then took minutes
            SELECT 'business_closed' AS rule, b.kpm_id,
                   b.created_at + INTERVAL 40 SECOND AS created,
                   IF(b.status = 3, 'Usaha tutup permanen', 'Usaha tutup sementara') AS detail
            FROM business_reports AS b
            WHERE b.channel = 'demo-data' AND b.session_id LIKE 'demo-b-%'
              AND b.kpm_id BETWEEN 1 AND 1500 AND b.kpm_id MOD 100 = 13
              AND b.session_id = CONCAT('demo-b-', b.kpm_id, '-0') AND b.status IN (2, 3)
            UNION ALL
            SELECT 'revenue_drop', d.kpm_id, d.created0 + INTERVAL 50 SECOND,
                   CONCAT('Omzet Rp ', FORMAT(d.r1, 0, 'id_ID'), ' menjadi Rp ',
                          FORMAT(d.r0, 0, 'id_ID'))
            FROM (
                SELECT b.kpm_id,
                       MAX(IF(b.session_id LIKE '%-0', b.created_at, NULL)) AS created0,
                       MAX(IF(b.session_id LIKE '%-0', b.revenue, NULL)) AS r0,
                       MAX(IF(b.session_id LIKE '%-1', b.revenue, NULL)) AS r1
                FROM business_reports AS b
                WHERE b.channel = 'demo-data' AND b.session_id LIKE 'demo-b-%'
                  AND b.kpm_id BETWEEN 1 AND 1500 AND b.kpm_id MOD 140 = 31
                  AND b.session_id IN (CONCAT('demo-b-', b.kpm_id, '-0'),
                                       CONCAT('demo-b-', b.kpm_id, '-1'))
                GROUP BY b.kpm_id
            ) AS d
            WHERE d.r0 IS NOT NULL AND d.r1 IS NOT NULL
            UNION ALL
            SELECT 'silent', b.kpm_id, MAX(b.created_at) + INTERVAL 28 DAY + INTERVAL 2 HOUR,
                   CONCAT('Laporan terakhir ',
                          DATE_FORMAT(MAX(b.created_at) + INTERVAL (7 + (b.kpm_id - 1) MOD 3) HOUR,
                                      '%d/%m/%Y'))
            FROM business_reports AS b
            WHERE b.channel = 'demo-data' AND b.session_id LIKE 'demo-b-%'
              AND b.kpm_id BETWEEN 1 AND 1500 AND b.kpm_id MOD 100 = 50
            GROUP BY b.kpm_id
            UNION ALL
            SELECT 'graduation', b.kpm_id, MAX(b.created_at) + INTERVAL 70 SECOND,
                   'Omzet di atas Rp 2.500.000 tiga bulan berturut-turut'
            FROM business_reports AS b
            WHERE b.channel = 'demo-data' AND b.session_id LIKE 'demo-b-%'
              AND b.kpm_id BETWEEN 1 AND 1500 AND b.kpm_id MOD 140 = 77
            GROUP BY b.kpm_id
            UNION ALL
            SELECT 'training_missed', mm.kpm_id, mm.created_at + INTERVAL 65 SECOND,
                   CONCAT('Tidak hadir: ', mm.title)
            FROM (
                SELECT m.kpm_id, m.created_at, m.title
                FROM (
                    SELECT ar.kpm_id, ar.created_at, t.title,
                           ROW_NUMBER() OVER (PARTITION BY ar.kpm_id ORDER BY ar.training_id) AS rn
                    FROM attendance_reports AS ar
                    JOIN trainings AS t ON t.id = ar.training_id
                    WHERE ar.channel = 'demo-data' AND ar.session_id LIKE 'demo-a-%'
                      AND ar.kpm_id BETWEEN 1 AND 1500 AND ar.attended = 0
                ) AS m
                WHERE m.rn = 1
                ORDER BY CRC32(CONCAT('missed:', m.kpm_id)), m.kpm_id
                LIMIT 12
            ) AS mm
            UNION ALL
            -- help requests 1..21, those of the last four weeks
            SELECT 'help_requested', hr.kpm_id, hr.created_at,
                   IF(hr.text IS NULL,
                      ELT(hr.topic, 'Topik: modal usaha', 'Topik: pemasaran', 'Topik: bantuan PKH',
                          'Topik: lainnya'),
                      LEFT(CONCAT('SMS: ', hr.text), 255))
            FROM help_requests AS hr
            WHERE hr.channel = 'demo-data' AND hr.session_id LIKE 'demo-h-%'
              AND CAST(SUBSTRING_INDEX(hr.session_id, '-', -1) AS UNSIGNED) BETWEEN 1 AND 21
        ) AS a
        JOIN kpm AS k ON k.id = a.kpm_id
        JOIN (SELECT s.id, CASE s.tz WHEN 'WIB' THEN 7 WHEN 'WITA' THEN 8 ELSE 9 END AS tzh
              FROM assistants AS s) AS z ON z.id = k.assistant_id
    ) AS y
) AS x
ON DUPLICATE KEY UPDATE
    rule = VALUES(rule), kpm_id = VALUES(kpm_id), assistant_id = VALUES(assistant_id),
    state = VALUES(state), urgency = VALUES(urgency), detail = VALUES(detail),
    created_at = VALUES(created_at), sent_at = VALUES(sent_at), acked_at = VALUES(acked_at);

-- The SMS history of KPM 1 (Siti Aminah): what she sent and what Kabar answered. She asked for
-- INFO before her first report, sent three business reports by SMS (the first try of one
-- without the revenue, which got the usage back), HADIR 4821 for training 1 and a BANTUAN.
-- Each reply quotes the number of the report it saved, read from the rows above.
INSERT INTO inbound_messages (channel, provider_msg_id, msisdn_from, msisdn_to, body, received_at,
                             state, reply, created_at)
SELECT 'demo-data', m.msg_id, k.msisdn, '12345', m.body, m.at, 'processed', m.reply, m.at
FROM (
    SELECT 'demo-sms-info-1' AS msg_id, 'Info' AS body,
           TIMESTAMP(DATE(NOW() + INTERVAL 7 HOUR) - INTERVAL 80 DAY, '03:12:31.250') AS at,
           CONCAT('Kabar melayani laporan KPM. Lapor usaha: USAHA BUKA 2500000 3. ',
                  'Hadir pelatihan: HADIR <kode>. Minta ditelepon: BANTUAN <pesan>. ',
                  'Berhenti pengingat: STOP, lagi: MULAI.') AS reply
    UNION ALL
    SELECT CONCAT('demo-sms-', SUBSTRING(b.session_id, 6)), b.input_path,
           b.created_at - INTERVAL 2 SECOND,
           CONCAT('Terima kasih. Laporan usaha tersimpan. No. ', b.id, '.')
    FROM business_reports AS b
    WHERE b.channel = 'demo-data' AND b.session_id IN ('demo-b-1-2', 'demo-b-1-5', 'demo-b-1-9')
      AND b.source = 'sms'
    UNION ALL
    SELECT 'demo-sms-b-1-9-usage', 'usaha buka', b.created_at - INTERVAL 190 SECOND,
           CONCAT('Format: USAHA BUKA <omzet sebulan> <jumlah pekerja>, contoh USAHA BUKA ',
                  '2500000 3. Atau USAHA LIBUR, USAHA TUTUP, USAHA BELUM.')
    FROM business_reports AS b
    WHERE b.channel = 'demo-data' AND b.session_id = 'demo-b-1-9' AND b.source = 'sms'
    UNION ALL
    SELECT 'demo-sms-a-1-1', ar.input_path, ar.created_at - INTERVAL 2 SECOND,
           CONCAT('Terima kasih. Kehadiran di ', t.title, ' tercatat. No. ', ar.id, '.')
    FROM attendance_reports AS ar
    JOIN trainings AS t ON t.id = ar.training_id
    WHERE ar.channel = 'demo-data' AND ar.session_id = 'demo-a-1-1' AND ar.source = 'sms'
    UNION ALL
    SELECT 'demo-sms-h-1-1', CONCAT('BANTUAN ', hr.text), hr.created_at - INTERVAL 2 SECOND,
           CONCAT('Permintaan terkirim. Pendamping Anda, ', s.name,
                  ', akan menghubungi Anda. No. ', hr.id, '.')
    FROM help_requests AS hr
    JOIN assistants AS s ON s.id = hr.assistant_id
    WHERE hr.channel = 'demo-data' AND hr.session_id = 'demo-h-1-1' AND hr.source = 'sms'
) AS m
JOIN kpm AS k ON k.id = 1 AND k.msisdn = '+628120000001'
ORDER BY m.at
ON DUPLICATE KEY UPDATE
    msisdn_from = VALUES(msisdn_from), msisdn_to = VALUES(msisdn_to), body = VALUES(body),
    received_at = VALUES(received_at), state = VALUES(state), reply = VALUES(reply),
    created_at = VALUES(created_at);

-- What Kabar sent her: the replies to the SMS above (queued a moment after each arrived, as
-- kabard does in the same transaction) and the reminders of her two trainings, 24 hours before
-- each, in WIB (the zone of her assistant). All went out through the log provider. Segments
-- count 160 GSM-7 characters for one part and 153 a part beyond (every text here is GSM-7).
INSERT INTO outbox (idempotency_key, recipient, body, purpose, priority, provider, state,
                    attempts, next_attempt_at, provider_msg_id, segments, encoding, created_at,
                    updated_at)
SELECT o.okey, k.msisdn, o.body, o.purpose, o.priority, 'log', o.state, 1, o.at,
       CONCAT('demo-log-', SUBSTRING(o.okey, 6)),
       IF(CHAR_LENGTH(o.body) <= 160, 1, CEIL(CHAR_LENGTH(o.body) / 153)), 'gsm7', o.at,
       o.at + INTERVAL 4 SECOND
FROM (
    SELECT CONCAT('demo:reply:', i.provider_msg_id) AS okey, i.reply AS body, 'reply' AS purpose,
           2 AS priority, 'delivered' AS state, i.created_at + INTERVAL 0.2 SECOND AS at
    FROM inbound_messages AS i
    WHERE i.channel = 'demo-data' AND i.provider_msg_id LIKE 'demo-sms-%'
      AND i.msisdn_from = '+628120000001' AND i.reply IS NOT NULL
    UNION ALL
    SELECT CONCAT('demo:remind:', t.id, ':1'),
           CONCAT('Pengingat: pelatihan ', t.title, ' ',
                  DATE_FORMAT(t.starts_at + INTERVAL 7 HOUR, '%d/%m'), ' jam ',
                  DATE_FORMAT(t.starts_at + INTERVAL 7 HOUR, '%H:%i'), ' di ', t.place,
                  '. Kirim STOP untuk berhenti.'),
           'reminder', 5, IF(t.id = 4, 'sent', 'delivered'),
           t.starts_at - INTERVAL 24 HOUR + INTERVAL 37.5 SECOND
    FROM enrollments AS e
    JOIN trainings AS t ON t.id = e.training_id
    WHERE e.kpm_id = 1 AND t.starts_at < NOW()
) AS o
JOIN kpm AS k ON k.id = 1 AND k.msisdn = '+628120000001'
ORDER BY o.at
ON DUPLICATE KEY UPDATE
    recipient = VALUES(recipient), body = VALUES(body), purpose = VALUES(purpose),
    priority = VALUES(priority), provider = VALUES(provider), state = VALUES(state),
    attempts = VALUES(attempts), next_attempt_at = VALUES(next_attempt_at),
    provider_msg_id = VALUES(provider_msg_id), last_error = NULL, segments = VALUES(segments),
    encoding = VALUES(encoding), created_at = VALUES(created_at), updated_at = VALUES(updated_at);

-- kpm.last_report_at follows the reports above (migration 014; kabard sets it as it saves).
UPDATE kpm k JOIN (SELECT kpm_id, MAX(created_at) m FROM business_reports GROUP BY kpm_id) b
    ON b.kpm_id = k.id SET k.last_report_at = b.m;

COMMIT;
