-- Kabar demo data: 3 desa (one per time zone), 5 assistants, 20 trainings, 6 KUBE groups,
-- 10,000 KPM and their enrollments. Every person, phone number, PKH number and NIK is fictional.
--
-- Loaded with the mariadb client into a database that `kabard --migrate` has set up.
-- Re-runnable: rows have fixed ids and are written with INSERT ... ON DUPLICATE KEY UPDATE
-- (not INSERT IGNORE, which would also hide foreign-key and truncation errors), so a second
-- load adds nothing and puts the demo rows back as they were. Training dates are relative to
-- now, so reloading also moves them back into the last 30 days. The 10,000 KPM come from the
-- SEQUENCE engine (seq_1_to_10000), not literals. The whole load is one transaction.
--
-- Demo numbers (n = 1..10000 is also the KPM id):
--   KPM n        msisdn +62812 + n in 7 digits (+628120000001 .. +628120010000),
--                pkh_number 1000000000 + n (1000000001 .. 1000010000),
--                desa (n-1) mod 3: 0 Jawa Barat (WIB), 1 NTB (WITA), 2 Maluku (WIT)
--   KPM 1        Siti Aminah, lang id, enrolled in training 1 (attendance code 4821)
--   KPM 2        lang en (as are all n with n mod 500 = 2)
--   assistants   ids 1..5, msisdn +628130000001 .. +628130000005

SET NAMES utf8mb4;
-- DATETIME columns hold UTC (see sql/001_schema.sql).
SET time_zone = '+00:00';

START TRANSACTION;

-- Three chains province > kabupaten > kecamatan > desa with BPS-style codes (2, 4, 6, 10 digits).
INSERT INTO regions (code, level, name, parent_code) VALUES
    ('32', 'province', 'Jawa Barat', NULL),
    ('3204', 'kabupaten', 'Kabupaten Bandung', '32'),
    ('320413', 'kecamatan', 'Pangalengan', '3204'),
    ('3204132005', 'desa', 'Margamukti', '320413'),
    ('52', 'province', 'Nusa Tenggara Barat', NULL),
    ('5201', 'kabupaten', 'Kabupaten Lombok Barat', '52'),
    ('520104', 'kecamatan', 'Gerung', '5201'),
    ('5201042003', 'desa', 'Banyu Urip', '520104'),
    ('81', 'province', 'Maluku', NULL),
    ('8103', 'kabupaten', 'Kabupaten Maluku Tengah', '81'),
    ('810305', 'kecamatan', 'Amahai', '8103'),
    ('8103052004', 'desa', 'Soahuku', '810305')
ON DUPLICATE KEY UPDATE
    level = VALUES(level), name = VALUES(name), parent_code = VALUES(parent_code);

-- Two assistants in the Jawa Barat desa, two in the NTB desa, one in the Maluku desa.
INSERT INTO assistants (id, name, msisdn, region_code, tz) VALUES
    (1, 'Dedi Kurniawan', '+628130000001', '3204132005', 'WIB'),
    (2, 'Yanti Rusmiati', '+628130000002', '3204132005', 'WIB'),
    (3, 'Lalu Hendra Wijaya', '+628130000003', '5201042003', 'WITA'),
    (4, 'Baiq Rahmawati', '+628130000004', '5201042003', 'WITA'),
    (5, 'Maria Wattimena', '+628130000005', '8103052004', 'WIT')
ON DUPLICATE KEY UPDATE
    name = VALUES(name), msisdn = VALUES(msisdn), region_code = VALUES(region_code),
    tz = VALUES(tz);

INSERT INTO kube_groups (id, name, region_code) VALUES
    (1, 'KUBE Mawar', '3204132005'),
    (2, 'KUBE Melati', '3204132005'),
    (3, 'KUBE Sekar Tenun', '5201042003'),
    (4, 'KUBE Maju Bersama', '5201042003'),
    (5, 'KUBE Pala Harapan', '8103052004'),
    (6, 'KUBE Sagu Lestari', '8103052004')
ON DUPLICATE KEY UPDATE name = VALUES(name), region_code = VALUES(region_code);

-- Trainings start at 09:00 local time (02:00 UTC in WIB, 01:00 in WITA, 00:00 in WIT), on days
-- relative to today: 14 within the last 30 days (all after day -28, so they stay there for a
-- day or two after loading), 2 older than 30 days (outside the attendance dialog), 4 to come.
-- Training 1 is 3 days ago in the desa of KPM 1, with attendance code 4821.
INSERT INTO trainings (id, title, starts_at, place, region_code, attendance_code)
SELECT t.id, t.title, TIMESTAMP(UTC_DATE() + INTERVAL t.day_offset DAY, t.at_utc), t.place,
       t.region_code, t.code
FROM (
    SELECT 1 AS id, 'Kewirausahaan Dasar' AS title, -3 AS day_offset, '02:00:00' AS at_utc,
           'Balai Desa Margamukti' AS place, '3204132005' AS region_code, '4821' AS code
    UNION ALL SELECT 2, 'Pembukuan Sederhana', -4, '01:00:00',
           'Kantor Desa Banyu Urip', '5201042003', '3907'
    UNION ALL SELECT 3, 'Pemasaran Produk', -5, '00:00:00',
           'Balai Negeri Soahuku', '8103052004', '5162'
    UNION ALL SELECT 4, 'Pembukuan Sederhana', -8, '02:00:00',
           'Aula Kecamatan Pangalengan', '3204132005', '7254'
    UNION ALL SELECT 5, 'Kewirausahaan Dasar', -9, '01:00:00',
           'Aula Kecamatan Gerung', '5201042003', '1398'
    UNION ALL SELECT 6, 'Kewirausahaan Dasar', -10, '00:00:00',
           'Aula Kecamatan Amahai', '8103052004', '6043'
    UNION ALL SELECT 7, 'Pemasaran Lewat Media Sosial', -13, '02:00:00',
           'Balai Desa Margamukti', '3204132005', '2715'
    UNION ALL SELECT 8, 'Pemasaran Produk', -15, '01:00:00',
           'Kantor Desa Banyu Urip', '5201042003', '8836'
    UNION ALL SELECT 9, 'Pembukuan Sederhana', -16, '00:00:00',
           'Balai Negeri Soahuku', '8103052004', '4470'
    UNION ALL SELECT 10, 'Pengemasan Produk', -20, '02:00:00',
           'Posyandu Margamukti', '3204132005', '9521'
    UNION ALL SELECT 11, 'Akses Permodalan', -21, '01:00:00',
           'Aula Kecamatan Gerung', '5201042003', '3089'
    UNION ALL SELECT 12, 'Pengolahan Hasil Pala', -22, '00:00:00',
           'Aula Kecamatan Amahai', '8103052004', '6612'
    UNION ALL SELECT 13, 'Keamanan Pangan dan Izin PIRT', -26, '02:00:00',
           'Puskesmas Pangalengan', '3204132005', '1754'
    UNION ALL SELECT 14, 'Pengemasan Produk', -27, '01:00:00',
           'Kantor Desa Banyu Urip', '5201042003', '5280'
    UNION ALL SELECT 15, 'Akses Permodalan', -40, '00:00:00',
           'Balai Negeri Soahuku', '8103052004', '7931'
    UNION ALL SELECT 16, 'Mengelola Keuangan Keluarga', -45, '02:00:00',
           'Balai Desa Margamukti', '3204132005', '2468'
    UNION ALL SELECT 17, 'Mengelola Keuangan Keluarga', 1, '01:00:00',
           'Aula Kecamatan Gerung', '5201042003', '8105'
    UNION ALL SELECT 18, 'Pemasaran Lewat Media Sosial', 2, '00:00:00',
           'Aula Kecamatan Amahai', '8103052004', '3346'
    UNION ALL SELECT 19, 'Akses Permodalan', 4, '02:00:00',
           'Aula Kecamatan Pangalengan', '3204132005', '6789'
    UNION ALL SELECT 20, 'Kerja Sama dalam KUBE', 6, '01:00:00',
           'Kantor Desa Banyu Urip', '5201042003', '9057'
) AS t
ON DUPLICATE KEY UPDATE
    title = VALUES(title), starts_at = VALUES(starts_at), place = VALUES(place),
    region_code = VALUES(region_code), attendance_code = VALUES(attendance_code);

-- 10,000 KPM. With r = (n-1) mod 3 the desa and k = (n-1) div 3 the rank within it:
-- assistants 1, 2 share desa 0 and 3, 4 desa 1 by k mod 2, assistant 5 has desa 2.
-- Names: a first name by n mod 10 and a second name from a list typical of the region.
-- KPM 11..40 are in KUBE groups, 5 to a group, each group in the KPM desa.
-- NIK (fictional): kecamatan code, birth date (day + 40 for women), 4-digit serial.
-- nik_hmac: real rows get HMAC-SHA256(server key, NIK) from kabard. Demo rows are fictional and
-- use a plain SHA-256 of a demo-only prefix and the NIK, so they match no real key.
-- Graduation: a few for the admin charts (welfare: n mod 400 = 0, natural: n mod 1000 = 999).
INSERT INTO kpm (id, pkh_number, nik_hmac, nik_last4, name, msisdn, lang, region_code,
                 assistant_id, kube_id, graduation, reminders)
SELECT
    d.n,
    CAST(1000000000 + d.n AS CHAR),
    UNHEX(SHA2(CONCAT('demo-only-key:', d.nik), 256)),
    RIGHT(d.nik, 4),
    CONCAT(
        ELT(1 + (d.n - 1) MOD 10,
            'Siti', 'Nur', 'Sri', 'Dewi', 'Rina', 'Wati', 'Yuni', 'Ani', 'Lina', 'Tuti'),
        ' ',
        CASE d.r
            WHEN 0 THEN ELT(1 + d.sn, 'Aminah', 'Rahayu', 'Nurhayati', 'Komariah', 'Kurniasih',
                            'Lestari', 'Maryati', 'Rohaeni', 'Suryani', 'Handayani')
            WHEN 1 THEN ELT(1 + d.sn, 'Hasanah', 'Zohriah', 'Rohani', 'Jumiati', 'Saidah',
                            'Marni', 'Hartini', 'Mulyani', 'Sumiati', 'Fatimah')
            ELSE ELT(1 + d.sn, 'Latuconsina', 'Tuasikal', 'Pattiasina', 'Wattimena', 'Sahetapy',
                     'Matulessy', 'Tahitu', 'Leiwakabessy', 'Pelupessy', 'Rumalatu')
        END),
    CONCAT('+62812', LPAD(d.n, 7, '0')),
    IF(d.n MOD 500 = 2, 'en', 'id'),
    ELT(1 + d.r, '3204132005', '5201042003', '8103052004'),
    CASE d.r WHEN 0 THEN 1 + d.k MOD 2 WHEN 1 THEN 3 + d.k MOD 2 ELSE 5 END,
    IF(d.n BETWEEN 11 AND 40, 1 + 2 * d.r + d.k MOD 2, NULL),
    CASE
        WHEN d.n MOD 400 = 0 THEN 'welfare'
        WHEN d.n MOD 1000 = 999 THEN 'natural'
        ELSE 'none'
    END,
    1
FROM (
    SELECT
        s.seq AS n,
        (s.seq - 1) MOD 3 AS r,
        (s.seq - 1) DIV 3 AS k,
        ((s.seq - 1) DIV 10) MOD 10 AS sn,
        CONCAT(
            ELT(1 + (s.seq - 1) MOD 3, '320413', '520104', '810305'),
            LPAD(41 + s.seq MOD 28, 2, '0'),
            LPAD(1 + (s.seq DIV 28) MOD 12, 2, '0'),
            LPAD(70 + s.seq MOD 29, 2, '0'),
            LPAD(1 + (s.seq - 1) MOD 9999, 4, '0')) AS nik
    FROM seq_1_to_10000 AS s
) AS d
ON DUPLICATE KEY UPDATE
    pkh_number = VALUES(pkh_number), nik_hmac = VALUES(nik_hmac),
    nik_last4 = VALUES(nik_last4), name = VALUES(name), msisdn = VALUES(msisdn),
    lang = VALUES(lang), region_code = VALUES(region_code),
    assistant_id = VALUES(assistant_id), kube_id = VALUES(kube_id),
    graduation = VALUES(graduation), reminders = VALUES(reminders);

-- Each demo KPM is enrolled in 2 trainings of its desa that started within the last 30 days:
-- numbering those trainings 0..c-1 by id, KPM n takes numbers k mod c and (k+1) mod c, with
-- k = (n-1) div 3 as above. KPM 1 (k = 0) gets the first two, trainings 1 and 4.
INSERT INTO enrollments (training_id, kpm_id)
SELECT t.id, p.id
FROM kpm AS p
JOIN (
    SELECT id, region_code,
           ROW_NUMBER() OVER (PARTITION BY region_code ORDER BY id) - 1 AS rn,
           COUNT(*) OVER (PARTITION BY region_code) AS c
    FROM trainings
    WHERE id BETWEEN 1 AND 20
      AND starts_at BETWEEN UTC_TIMESTAMP() - INTERVAL 30 DAY AND UTC_TIMESTAMP()
) AS t ON t.region_code = p.region_code
WHERE p.id BETWEEN 1 AND 10000
  AND p.msisdn = CONCAT('+62812', LPAD(p.id, 7, '0'))
  AND t.rn IN (((p.id - 1) DIV 3) MOD t.c, ((p.id - 1) DIV 3 + 1) MOD t.c)
ON DUPLICATE KEY UPDATE kpm_id = VALUES(kpm_id);

COMMIT;
