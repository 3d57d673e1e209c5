-- scripts/bench-scale: the programme at national scale, on top of sql/demo/demo.sql (its 3 desa,
-- 5 assistants, 20 trainings and KPM 1..10000). @N@ is the number of KPM (SCALE_KPM) and @A@
-- the number of assistants (one per ~250 KPM). Everything comes from the SEQUENCE engine
-- (INSERT ... SELECT from seq_*), one statement per table or per month, in id order.
-- Regions: under each of the demo's 3 provinces, 10 kabupaten of 20 kecamatan of 20 desa (12,000
-- desa), so that a region filter meets regions of a real size (a kecamatan of ~1,700 KPM, a
-- kabupaten of ~33,000), where every bench KPM was in one of 3 desa of 333,333.
-- KPM n > 10000: province r = (n-1) mod 3, assistant 6 + 3 * j + r with j = ((n-1) div 3) mod M
-- and M = (A-5) div 3; her desa is one of her assistant's 3 (desa 3j, 3j+1, 3j+2 of the
-- province's 4,000, mod 4,000), so each assistant's KPM are in her own desa.
SET NAMES utf8mb4;
SET time_zone = '+00:00';
SET SESSION foreign_key_checks = 0, unique_checks = 0;

INSERT INTO regions (code, level, name, parent_code)
SELECT CONCAT(p.code, 50 + k.seq), 'kabupaten', CONCAT('Kabupaten Bench ', p.code, 50 + k.seq), p.code
FROM (SELECT '32' code UNION ALL SELECT '52' UNION ALL SELECT '81') p, seq_0_to_9 k;
INSERT INTO regions (code, level, name, parent_code)
SELECT CONCAT(p.code, 50 + k.seq, LPAD(1 + c.seq, 2, '0')), 'kecamatan',
       CONCAT('Kecamatan Bench ', p.code, 50 + k.seq, LPAD(1 + c.seq, 2, '0')),
       CONCAT(p.code, 50 + k.seq)
FROM (SELECT '32' code UNION ALL SELECT '52' UNION ALL SELECT '81') p, seq_0_to_9 k, seq_0_to_19 c;
INSERT INTO regions (code, level, name, parent_code)
SELECT CONCAT(p.code, 50 + k.seq, LPAD(1 + c.seq, 2, '0'), 2001 + d.seq), 'desa',
       CONCAT('Desa Bench ', p.code, 50 + k.seq, LPAD(1 + c.seq, 2, '0'), 2001 + d.seq),
       CONCAT(p.code, 50 + k.seq, LPAD(1 + c.seq, 2, '0'))
FROM (SELECT '32' code UNION ALL SELECT '52' UNION ALL SELECT '81') p, seq_0_to_9 k,
     seq_0_to_19 c, seq_0_to_19 d;

-- desa i (0 .. 3,999) of province p
DELIMITER ;;
CREATE FUNCTION bench_desa(p INT, i INT) RETURNS VARCHAR(13) DETERMINISTIC
    RETURN CONCAT(ELT(1 + p, '32', '52', '81'), 50 + i DIV 400, LPAD(1 + (i DIV 20) MOD 20, 2, '0'),
                  2001 + i MOD 20);;
DELIMITER ;

INSERT INTO assistants (id, name, msisdn, region_code, tz)
SELECT s.seq, CONCAT('Pendamping ', s.seq), CONCAT('+62813', LPAD(s.seq, 7, '0')),
       bench_desa((s.seq - 6) MOD 3, (3 * ((s.seq - 6) DIV 3)) MOD 4000),
       ELT(1 + (s.seq - 6) MOD 3, 'WIB', 'WITA', 'WIT')
FROM seq_6_to_@A@ s;

INSERT INTO kpm (id, pkh_number, nik_last4, name, msisdn, lang, region_code, assistant_id,
                 graduation, graduated_on, reminders)
SELECT s.seq, CAST(1000000000 + s.seq AS CHAR), LPAD(s.seq MOD 10000, 4, '0'),
       CONCAT(ELT(1 + s.seq MOD 10, 'Siti', 'Nur', 'Sri', 'Dewi', 'Rina', 'Wati', 'Yuni', 'Ani',
                  'Lina', 'Tuti'), ' ', ELT(1 + (s.seq DIV 10) MOD 5, 'Aminah', 'Rahayu',
                  'Hasanah', 'Lestari', 'Wattimena')),
       CONCAT('+62812', LPAD(s.seq, 7, '0')), 'id',
       bench_desa((s.seq - 1) MOD 3, (3 * (((s.seq - 1) DIV 3) MOD ((@A@ - 5) DIV 3))
                  + ((s.seq - 1) DIV (3 * ((@A@ - 5) DIV 3))) MOD 3) MOD 4000),
       6 + 3 * (((s.seq - 1) DIV 3) MOD ((@A@ - 5) DIV 3)) + (s.seq - 1) MOD 3,
       CASE WHEN s.seq MOD 400 = 0 THEN 'welfare' WHEN s.seq MOD 1000 = 999 THEN 'natural'
            ELSE 'none' END,
       IF(s.seq MOD 400 = 0 OR s.seq MOD 1000 = 999,
          UTC_DATE() - INTERVAL (s.seq MOD 700) DAY, NULL), 1
FROM seq_10001_to_@N@ s;

-- the standing graduation of each graduate
INSERT INTO graduations (kpm_id, track, reason, effective_date, decided_by_type, decided_by_id,
                         decided_via, created_at)
SELECT k.id, k.graduation, IF(k.graduation = 'welfare', 'candidate_confirmed', 'left_pkh'),
       k.graduated_on, 'assistant', k.assistant_id, 'sms', k.graduated_on
FROM kpm k WHERE k.id > 10000 AND k.graduation <> 'none';

-- business reports: one a month for 12 months (month m = 11 .. 0 days back), oldest first
@MONTHS@

-- attendance: two a year per KPM, at a training of her desa (ids 1..14 are in the last 30 days)
INSERT INTO attendance_reports (kpm_id, training_id, msisdn, channel, session_id, source,
                                attended, reason, answers, input_path, created_at)
SELECT 1 + (s.seq - 1) MOD @N@, 1 + 3 * (s.seq MOD 4) + ((s.seq - 1) MOD @N@) MOD 3,
       CONCAT('+62812', LPAD(1 + (s.seq - 1) MOD @N@, 7, '0')), 'bench', CONCAT('ba-', s.seq),
       IF(s.seq MOD 3 = 0, 'sms', 'ussd'), s.seq MOD 5 <> 0, IF(s.seq MOD 5 = 0, 1 + s.seq MOD 5, NULL),
       '{}', '2*1*1', UTC_TIMESTAMP(3) - INTERVAL ((2 * @N@ - s.seq) * 31536 DIV (2 * @N@)) * 1000 SECOND
FROM seq_1_to_@N2@ s;

-- help requests: one KPM in ten, over the year
INSERT INTO help_requests (kpm_id, assistant_id, msisdn, channel, session_id, source, topic,
                           created_at)
SELECT k.id, k.assistant_id, k.msisdn, 'bench', CONCAT('bh-', k.id), IF(k.id MOD 2, 'sms', 'ussd'),
       1 + k.id MOD 4, UTC_TIMESTAMP(3) - INTERVAL (k.id * 7919 MOD 31536000) SECOND
FROM kpm k WHERE k.id MOD 10 = 3;

-- alerts: one KPM in five, most acknowledged, the newest open
INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, state, urgency, created_at, sent_at,
                    acked_at)
SELECT ELT(1 + k.id MOD 4, 'silent', 'closed', 'help', 'graduation'), k.id, k.assistant_id,
       CONCAT('bench:', k.id), IF(k.id MOD 50 = 1, 'sent', 'acknowledged'),
       IF(k.id MOD 2, 'digest', 'immediate'),
       UTC_TIMESTAMP(3) - INTERVAL (k.id * 104729 MOD 31536000) SECOND,
       UTC_TIMESTAMP(3) - INTERVAL (k.id * 104729 MOD 31536000) SECOND,
       IF(k.id MOD 50 = 1, NULL, UTC_TIMESTAMP(3) - INTERVAL (k.id * 104729 MOD 31536000) SECOND)
FROM kpm k WHERE k.id MOD 5 = 1;

-- outbox history: one SMS per KPM (monthly nudges and replies), delivered
INSERT INTO outbox (idempotency_key, recipient, body, purpose, priority, provider, state, attempts,
                    next_attempt_at, segments, encoding, created_at, updated_at)
SELECT CONCAT('bench:', k.id), k.msisdn, 'Kabar: jangan lupa lapor usaha bulan ini.', 'nudge', 5,
       'africastalking', 'delivered', 1, UTC_TIMESTAMP(3), 1, 'gsm7',
       UTC_TIMESTAMP(3) - INTERVAL (k.id MOD 30) DAY, UTC_TIMESTAMP(3) - INTERVAL (k.id MOD 30) DAY
FROM kpm k;

-- reviews: the reports older than 60 days of one KPM in four were reviewed
INSERT INTO reviews (report_type, report_id, reviewer_id, status, created_at)
SELECT 'business', b.id, @REVIEWER@, 'reviewed', b.created_at + INTERVAL 3 DAY
FROM business_reports b WHERE b.kpm_id MOD 4 = 0 AND b.created_at < UTC_TIMESTAMP() - INTERVAL 60 DAY;

DROP FUNCTION IF EXISTS bench_desa;
