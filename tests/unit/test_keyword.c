#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyword.h"

static struct keyword_set *shipped;

static void
load_shipped(void)
{
    const char *dir = getenv("KABAR_SRCDIR");
    char path[4096], err[512];

    snprintf(path, sizeof(path), "%s/config/keywords.conf", dir && *dir ? dir : ".");
    shipped = keyword_set_load(path, err, sizeof(err));
    ck_assert_msg(shipped != NULL, "load %s: %s", path, err);
}

static void
free_shipped(void)
{
    keyword_set_free(shipped);
    shipped = NULL;
}

/* lang "?": the keyword is the same in both languages (lang "id", lang_known 0) */
struct row {
    const char *in;
    enum keyword_cmd cmd;
    enum keyword_error error;
    const char *lang;
    unsigned status;
    int has_rev;
    uint64_t rev;
    int has_wk;
    unsigned wk;
    const char *code;
    unsigned reason;
    const char *text;
    uint64_t alert;
    enum keyword_outcome outcome;
    const char *pkh;
    unsigned vout;
    unsigned running;
    unsigned track;
    unsigned lmode;
    unsigned answer;
};

#define B KW_BUSINESS
#define OK KWE_OK
#define R(in_, cmd_, err_, lang_, ...)                                                             \
    {                                                                                              \
        .in = (in_), .cmd = (cmd_), .error = (err_), .lang = (lang_), __VA_ARGS__                  \
    }
/* business running: revenue, workers (0: not given) */
#define RUN(in_, lang_, rev_, wk_)                                                                 \
    R(in_, B, OK, lang_, .status = 1, .has_rev = 1, .rev = (rev_), .has_wk = (wk_) != 0,           \
      .wk = (wk_))

/* Messages as people type them on basic phones. */
static const struct row rows[] = {
    /* business, running: revenue required, workers optional */
    RUN("USAHA BUKA 2500000 3", "id", 2500000, 3),
    RUN("BUSINESS OPEN 2500000 3", "en", 2500000, 3),
    RUN("usaha buka 2.500.000 3", "id", 2500000, 3),
    RUN("Usaha  Buka   2500000    3", "id", 2500000, 3),
    RUN("  usaha\tbuka\n2500000 3  ", "id", 2500000, 3),
    RUN("USAHA BUKA 2500000 3.", "id", 2500000, 3),
    RUN("usaha#buka#2500000#3", "id", 2500000, 3),
    RUN("USAHA BUKA Rp2.500.000", "id", 2500000, 0),
    RUN("Usaha buka rp 750rb 2", "id", 750000, 2),
    RUN("usaha buka Rp. 2.500.000,- 3 orang", "id", 2500000, 3),
    RUN("usaha buka 2,500,000 3", "id", 2500000, 3),
    RUN("usaha buka rp2500000 3", "id", 2500000, 3),
    RUN("usaha buka IDR 1.250.000", "id", 1250000, 0),
    RUN("usaha buka 2500000 rupiah 2", "id", 2500000, 2),
    RUN("usaha buka 2,5jt 3", "id", 2500000, 3),
    RUN("usaha buka 2.5jt", "id", 2500000, 0),
    RUN("usaha buka 2,5 juta 3", "id", 2500000, 3),
    RUN("usaha buka 2.5juta", "id", 2500000, 0),
    RUN("usaha buka 1,25jt", "id", 1250000, 0),
    RUN("usaha buka 0,5 JT 1", "id", 500000, 1),
    RUN("usaha buka 2500rb", "id", 2500000, 0),
    RUN("usaha buka 2500 ribu 1", "id", 2500000, 1),
    RUN("usaha buka 2500k", "id", 2500000, 0),
    RUN("usaha buka 1.500rb", "id", 1500000, 0),
    RUN("usaha buka 2 juta 500 ribu 4", "id", 2500000, 4),
    RUN("usaha buka 2jt500rb 4", "id", 2500000, 4),
    RUN("usaha buka 2.500.000,00", "id", 2500000, 0),
    RUN("usaha buka 2,500,000.00 2", "id", 2500000, 2),
    RUN("usaha buka 0", "id", 0, 0),
    RUN("usaha buka 0002500000 3", "id", 2500000, 3),
    RUN("usaha buka 1000000000 999", "id", 1000000000, 999),
    RUN("usaha buka 1.000jt", "id", 1000000000, 0),
    RUN("USAHA BUKA omzet 3jt pekerja 2", "id", 3000000, 2),
    RUN("USAHA BUKA 2jt/bln 3 org", "id", 2000000, 3),
    RUN("usaha buka 750.000 3org", "id", 750000, 3),
    RUN("USAHA BUKA 2500000 3 terima kasih \xF0\x9F\x99\x8F", "id", 2500000, 3),
    RUN("USAHA BUKA2500000 3", "id", 2500000, 3),
    RUN("usaha jalan 500rb", "id", 500000, 0),
    RUN("Business Running IDR 2,500,000 4 workers", "en", 2500000, 4),
    RUN("USAHA OPEN 100 1", "id", 100, 1),
    /* money that is ambiguous, malformed or out of range */
    R("usaha buka 2,5m", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2,5 m 3", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 1jt500", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2 500 000 3", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2.5", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2,50 2", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 25.00.000", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2.500,000", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2500.000", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 0.500jt", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2500000abc", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka -5000", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka tiga juta", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2rb 3jt", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2.500,-jt", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2500000 tiga pekerja 3", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2500000 pekerja tiga", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2500000 3abc", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2500000 3,5", B, KWE_BAD_NUMBER, "id"),
    R("usaha buka 2.000.000.000", B, KWE_RANGE, "id"),
    R("usaha buka 1.000.000.001", B, KWE_RANGE, "id"),
    R("usaha buka 1001jt", B, KWE_RANGE, "id"),
    R("usaha buka 99999999999999999999999 2", B, KWE_RANGE, "id"),
    R("usaha buka 18446744073709551616", B, KWE_RANGE, "id"),
    R("usaha buka 2500000 0", B, KWE_RANGE, "id"),
    R("usaha buka 2500000 1000", B, KWE_RANGE, "id"),
    R("usaha buka", B, KWE_MISSING, "id"),
    R("usaha buka rp", B, KWE_MISSING, "id"),
    R("usaha buka 2500000 pekerja", B, KWE_MISSING, "id"),
    R("business open", B, KWE_MISSING, "en"),
    /* business, other states: no numbers; words after them are ignored */
    R("USAHA TUTUP", B, OK, "id", .status = 3),
    R("usaha tutup sementara", B, OK, "id", .status = 2),
    R("Usaha Tutup  Permanen.", B, OK, "id", .status = 3),
    R("USAHA LIBUR", B, OK, "id", .status = 2),
    R("USAHA BELUM", B, OK, "id", .status = 4),
    R("usaha belum mulai", B, OK, "id", .status = 4),
    R("business closed", B, OK, "en", .status = 3),
    R("BUSINESS PAUSED", B, OK, "en", .status = 2),
    R("business not yet", B, OK, "en", .status = 4),
    R("business notyet", B, OK, "en", .status = 4),
    R("USAHA TUTUP karena modal habis", B, OK, "id", .status = 3),
    R("USAHA TUTUP 2500000", B, KWE_BAD_NUMBER, "id"),
    R("USAHA XYZ", B, KWE_BAD_STATE, "id"),
    R("USAHA 2500000 3", B, KWE_BAD_STATE, "id"),
    R("business shut", B, KWE_BAD_STATE, "en"),
    R("USAHA", KW_BUSINESS_DIALOG, OK, "id"),
    R("usaha.", KW_BUSINESS_DIALOG, OK, "id"),
    R(" Business ", KW_BUSINESS_DIALOG, OK, "en"),
    R("USAHA?", KW_BUSINESS_DIALOG, OK, "id"),
    /* attendance */
    R("HADIR 4821", KW_ATTEND, OK, "id", .code = "4821"),
    R("ATTEND 4821", KW_ATTEND, OK, "en", .code = "4821"),
    R("HADIR  4821", KW_ATTEND, OK, "id", .code = "4821"),
    R("hadir4821", KW_ATTEND, OK, "id", .code = "4821"),
    R("Hadir 4821.", KW_ATTEND, OK, "id", .code = "4821"),
    R("HADIR kode 0482", KW_ATTEND, OK, "id", .code = "0482"),
    R("hadir 12345678", KW_ATTEND, OK, "id", .code = "12345678"),
    R("HADIR 4821 pelatihan pembukuan", KW_ATTEND, OK, "id", .code = "4821"),
    R("\xF0\x9F\x99\x8F hadir 4821", KW_ATTEND, OK, "id", .code = "4821"),
    R("HADIR", KW_ATTEND, KWE_MISSING, "id"),
    R("HADIR?", KW_ATTEND, KWE_MISSING, "id"),
    R("hadir kode", KW_ATTEND, KWE_MISSING, "id"),
    R("HADIR 482", KW_ATTEND, KWE_BAD_NUMBER, "id"),
    R("HADIR 123456789", KW_ATTEND, KWE_BAD_NUMBER, "id"),
    R("HADIR abcd", KW_ATTEND, KWE_BAD_NUMBER, "id"),
    R("HADIR 48.21", KW_ATTEND, KWE_BAD_NUMBER, "id"),
    R("HADIR 4821x", KW_ATTEND, KWE_BAD_NUMBER, "id"),
    R("HADIR 4821 4822", KW_ATTEND, KWE_BAD_NUMBER, "id"),
    R("ABSEN 4821 2", KW_ABSENT, OK, "id", .code = "4821", .reason = 2),
    R("ABSEN 4821", KW_ABSENT, OK, "id", .code = "4821"),
    R("absen 4821 sakit", KW_ABSENT, OK, "id", .code = "4821", .reason = 1),
    R("ABSENT 4821 sick", KW_ABSENT, OK, "en", .code = "4821", .reason = 1),
    R("tidak hadir 4821 alasan 3", KW_ABSENT, OK, "id", .code = "4821", .reason = 3),
    R("tdk hadir 4821 urusan keluarga", KW_ABSENT, OK, "id", .code = "4821", .reason = 2),
    R("ABSEN 4821 anak saya demam", KW_ABSENT, OK, "id", .code = "4821"),
    R("absen 4821 9", KW_ABSENT, KWE_RANGE, "id"),
    R("absen 4821 0", KW_ABSENT, KWE_RANGE, "id"),
    R("absen 4821 2x", KW_ABSENT, KWE_BAD_NUMBER, "id"),
    R("absen 4821 alasan", KW_ABSENT, KWE_MISSING, "id"),
    R("ABSEN", KW_ABSENT, KWE_MISSING, "id"),
    R("ABSEN sakit", KW_ABSENT, KWE_BAD_NUMBER, "id"),
    /* help: the rest of the message */
    R("BANTUAN tolong telepon saya", KW_HELP, OK, "id", .text = "tolong telepon saya"),
    R("HELP please call me", KW_HELP, OK, "en", .text = "please call me"),
    R("bantuan", KW_HELP, OK, "id", .text = ""),
    R("BANTUAN: modal habis, mohon ditelepon.  ", KW_HELP, OK, "id",
      .text = "modal habis, mohon ditelepon."),
    R("Tolong\tbu\r\nsaya mau tanya 2 hal", KW_HELP, OK, "id", .text = "bu\nsaya mau tanya 2 hal"),
    R("BANTUAN \xF0\x9F\x98\x8A mohon bantu", KW_HELP, OK, "id",
      .text = "\xF0\x9F\x98\x8A mohon bantu"),
    R("tolong123", KW_HELP, OK, "id", .text = "123"),
    /* no arguments: anything after is ignored */
    R("INFO", KW_INFO, OK, "?"),
    R("info?", KW_INFO, OK, "?"),
    R("?", KW_INFO, OK, "?"),
    R("menu", KW_INFO, OK, "?"),
    R("STOP", KW_STOP, OK, "?"),
    R("stop sms 123", KW_STOP, OK, "?"),
    R("Berhenti", KW_STOP, OK, "id"),
    R("MULAI", KW_START, OK, "id"),
    R("start", KW_START, OK, "en"),
    /* ack, from assistants */
    R("OK 57", KW_ACK, OK, "?", .alert = 57),
    R("ok 57", KW_ACK, OK, "?", .alert = 57),
    R("Ok57", KW_ACK, OK, "?", .alert = 57),
    R("OK no. 57", KW_ACK, OK, "?", .alert = 57),
    R("OK 57, sudah saya telepon", KW_ACK, OK, "?", .alert = 57),
    R("OK 9007199254740992", KW_ACK, OK, "?", .alert = 9007199254740992ULL),
    R("OK", KW_ACK, KWE_MISSING, "?"),
    R("ok terima kasih", KW_ACK, KWE_BAD_NUMBER, "?"),
    R("OK 57 58", KW_ACK, KWE_BAD_NUMBER, "?"),
    R("OK 5.7", KW_ACK, KWE_BAD_NUMBER, "?"),
    R("OK 0", KW_ACK, KWE_RANGE, "?"),
    R("OK 9007199254740993", KW_ACK, KWE_RANGE, "?"),
    /* ack with an outcome: the outcome word's language is the reply's */
    R("OK 57 DITELEPON", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_CALLED),
    R("ok 57 sudah ditelpon", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_CALLED),
    R("OK 57 called", KW_ACK, OK, "en", .alert = 57, .outcome = KWO_CALLED),
    R("OK 57 dikunjungi", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_VISITED),
    R("OK 57 tidak bisa dihubungi", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_UNREACHABLE),
    R("OK 57 TDK AKTIF", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_UNREACHABLE),
    R("OK 57 unreachable", KW_ACK, OK, "en", .alert = 57, .outcome = KWO_UNREACHABLE),
    R("OK 57 DIRUJUK ke puskesmas", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_REFERRED),
    R("OK 57 tidak perlu", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_NO_ACTION),
    R("OK 57 no action", KW_ACK, OK, "en", .alert = 57, .outcome = KWO_NO_ACTION),
    R("OK no 57 no action needed", KW_ACK, OK, "en", .alert = 57, .outcome = KWO_NO_ACTION),
    R("OK 57 no. dikunjungi", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_VISITED),
    R("OK 57 LULUS", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_CONFIRMED),
    R("ok 57 confirm", KW_ACK, OK, "en", .alert = 57, .outcome = KWO_CONFIRMED),
    R("OK 57 NANTI", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_LATER),
    R("OK 57 later", KW_ACK, OK, "en", .alert = 57, .outcome = KWO_LATER),
    R("OK 57 TOLAK usaha baru 2 bulan", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_DECLINED,
      .text = "usaha baru 2 bulan"),
    R("OK 57 decline: too early", KW_ACK, OK, "en", .alert = 57, .outcome = KWO_DECLINED,
      .text = "too early"),
    R("OK 57 TOLAK alasan omzet belum stabil", KW_ACK, OK, "id", .alert = 57,
      .outcome = KWO_DECLINED, .text = "omzet belum stabil"),
    R("OK 57 TOLAK", KW_ACK, KWE_MISSING, "id"),
    R("OK 57 decline ...", KW_ACK, KWE_MISSING, "en"),
    R("OK 57 DITELEPON 58", KW_ACK, KWE_BAD_NUMBER, "id"),
    R("OK 57DITELEPON", KW_ACK, KWE_BAD_NUMBER, "?"),
    R("OK DITELEPON", KW_ACK, KWE_BAD_NUMBER, "?"),
    R("OK 57 ditelepon kemarin", KW_ACK, OK, "id", .alert = 57, .outcome = KWO_CALLED),
    R("OK 57 telepon", KW_ACK, OK, "?", .alert = 57), /* no outcome word: the bare ack */
    /* check */
    R("CEK 1000000001", KW_CHECK, OK, "id", .pkh = "1000000001"),
    R("cek1000000001", KW_CHECK, OK, "id", .pkh = "1000000001"),
    R("Cek no PKH 0012345", KW_CHECK, OK, "id", .pkh = "0012345"),
    R("CHECK 1000000001 please", KW_CHECK, OK, "en", .pkh = "1000000001"),
    R("cek kpm 7", KW_CHECK, OK, "id", .pkh = "7"),
    R("CEK 12345678901234567890", KW_CHECK, OK, "id", .pkh = "12345678901234567890"),
    R("CEK 123456789012345678901", KW_CHECK, KWE_RANGE, "id"),
    R("CEK", KW_CHECK, KWE_MISSING, "id"),
    R("cek pkh", KW_CHECK, KWE_MISSING, "id"),
    R("CEK siti", KW_CHECK, KWE_BAD_NUMBER, "id"),
    R("CEK 1000.000.001", KW_CHECK, KWE_BAD_NUMBER, "id"),
    R("CEK 1000000001x", KW_CHECK, KWE_BAD_NUMBER, "id"),
    R("CEK 1000000001 1000000002", KW_CHECK, KWE_BAD_NUMBER, "id"),
    R("CEK -1000000001", KW_CHECK, KWE_BAD_NUMBER, "id"),
    /* visit */
    R("KUNJUNG 1000000001 1 YA", KW_VISIT, OK, "id", .pkh = "1000000001", .vout = 1, .running = 1),
    R("kunjung 1000000001 1", KW_VISIT, OK, "id", .pkh = "1000000001", .vout = 1),
    R("KUNJUNG 1000000001 2 tidak", KW_VISIT, OK, "id", .pkh = "1000000001", .vout = 2,
      .running = 2),
    R("Kunjungan 1000000001 bertemu ya", KW_VISIT, OK, "id", .pkh = "1000000001", .vout = 1,
      .running = 1),
    R("KUNJUNG 1000000001 tidak di rumah", KW_VISIT, OK, "id", .pkh = "1000000001", .vout = 2),
    R("VISIT 1000000001 met yes", KW_VISIT, OK, "en", .pkh = "1000000001", .vout = 1, .running = 1),
    R("visit 1000000001 moved no", KW_VISIT, OK, "en", .pkh = "1000000001", .vout = 3,
      .running = 2),
    R("KUNJUNG 1000000001 99", KW_VISIT, OK, "id", .pkh = "1000000001", .vout = 99),
    R("KUNJUNG 1000000001 5 ya usahanya ramai", KW_VISIT, OK, "id", .pkh = "1000000001", .vout = 5,
      .running = 1),
    R("KUNJUNG 1000000001", KW_VISIT, KWE_MISSING, "id"),
    R("KUNJUNG", KW_VISIT, KWE_MISSING, "id"),
    R("KUNJUNG 1000000001 0", KW_VISIT, KWE_RANGE, "id"),
    R("KUNJUNG 1000000001 100", KW_VISIT, KWE_RANGE, "id"),
    R("KUNJUNG 1000000001 1x", KW_VISIT, KWE_BAD_NUMBER, "id"),
    R("KUNJUNG 1000000001 1 ya 2", KW_VISIT, KWE_BAD_NUMBER, "id"),
    R("KUNJUNG 1000000001 1.5", KW_VISIT, KWE_BAD_NUMBER, "id"),
    R("KUNJUNG 1000000001 ngobrol", KW_VISIT, KWE_BAD_STATE, "id"),
    R("KUNJUNG bertemu 1000000001", KW_VISIT, KWE_BAD_NUMBER, "id"),
    /* graduate */
    R("LULUS 1000000001 SEJAHTERA", KW_GRADUATE, OK, "id", .pkh = "1000000001", .track = 2),
    R("lulus 1000000001 sejahtera mandiri", KW_GRADUATE, OK, "id", .pkh = "1000000001", .track = 2),
    R("LULUS 1000000001 alamiah", KW_GRADUATE, OK, "id", .pkh = "1000000001", .track = 1),
    R("graduate 1000000001 natural", KW_GRADUATE, OK, "en", .pkh = "1000000001", .track = 1),
    R("GRADUATE 1000000001 WELFARE", KW_GRADUATE, OK, "en", .pkh = "1000000001", .track = 2),
    R("LULUS 1000000001", KW_GRADUATE, KWE_MISSING, "id"),
    R("LULUS", KW_GRADUATE, KWE_MISSING, "id"),
    R("LULUS 1000000001 kaya", KW_GRADUATE, KWE_BAD_STATE, "id"),
    R("LULUS sejahtera 1000000001", KW_GRADUATE, KWE_BAD_NUMBER, "id"),
    R("LULUS 1000000001 sejahtera 2", KW_GRADUATE, KWE_BAD_NUMBER, "id"),
    /* the micro-lessons */
    R("BELAJAR", KW_LESSON, OK, "id"),
    R("belajar dong", KW_LESSON, OK, "id"),
    R("learn", KW_LESSON, OK, "en"),
    R("BELAJAR MINGGUAN", KW_LESSON, OK, "id", .lmode = KEYWORD_LESSON_WEEKLY),
    R("learn weekly", KW_LESSON, OK, "en", .lmode = KEYWORD_LESSON_WEEKLY),
    R("Belajar stop", KW_LESSON, OK, "id", .lmode = KEYWORD_LESSON_STOP),
    R("belajar berhenti", KW_LESSON, OK, "id", .lmode = KEYWORD_LESSON_STOP),
    R("LEARN STOP", KW_LESSON, OK, "en", .lmode = KEYWORD_LESSON_STOP),
    R("B 2", KW_ANSWER, OK, "id", .answer = 2),
    R("b2", KW_ANSWER, OK, "id", .answer = 2),
    R("jawab 3.", KW_ANSWER, OK, "id", .answer = 3),
    R("A 1", KW_ANSWER, OK, "en", .answer = 1),
    R("B", KW_ANSWER, KWE_MISSING, "id"),
    R("B 0", KW_ANSWER, KWE_RANGE, "id"),
    R("B 10", KW_ANSWER, KWE_RANGE, "id"),
    R("B 2 3", KW_ANSWER, KWE_BAD_NUMBER, "id"),
    R("B dua", KW_ANSWER, KWE_BAD_NUMBER, "id"),
    R("Bu saya mau tanya", KW_NONE, KWE_UNKNOWN, "?"),
    /* not keywords */
    R("", KW_NONE, KWE_UNKNOWN, "?"),
    R("   ", KW_NONE, KWE_UNKNOWN, "?"),
    R("\n\t\r", KW_NONE, KWE_UNKNOWN, "?"),
    R("hello", KW_NONE, KWE_UNKNOWN, "?"),
    R("USAHAKU BUKA 100", KW_NONE, KWE_UNKNOWN, "?"),
    R("apa kabar?", KW_NONE, KWE_UNKNOWN, "?"),
    R("1", KW_NONE, KWE_UNKNOWN, "?"),
    R("Selamat pagi, USAHA BUKA 2500000", KW_NONE, KWE_UNKNOWN, "?"),
    R("\xE4\xBD\xA0\xE5\xA5\xBD", KW_NONE, KWE_UNKNOWN, "?"),
    R("\xF0\x9F\x99\x8F\xF0\x9F\x99\x8F\xF0\x9F\x99\x8F", KW_NONE, KWE_UNKNOWN, "?"),
    R("\xEF\xBC\xB5\xEF\xBC\xB3\xEF\xBC\xA1\xEF\xBC\xA8\xEF\xBC\xA1", KW_NONE, KWE_UNKNOWN, "?"),
    R("-- ?? --", KW_NONE, KWE_UNKNOWN, "?"),
    R("??", KW_INFO, OK, "?"),
};

static const char *const cmd_s[] = {"NONE",  "BUSINESS", "DIALOG",   "ATTEND", "ABSENT",
                                    "HELP",  "INFO",     "STOP",     "START",  "ACK",
                                    "CHECK", "VISIT",    "GRADUATE", "LESSON", "ANSWER"};
static const char *const err_s[] = {"OK",    "UNKNOWN",   "MISSING", "BAD_NUMBER",
                                    "RANGE", "BAD_STATE", "TOO_LONG"};

START_TEST(test_table)
{
    const struct row *r = &rows[_i];
    struct keyword_msg m;
    const char *lang = strcmp(r->lang, "?") == 0 ? "id" : r->lang;

    ck_assert_int_eq(keyword_parse(shipped, r->in, strlen(r->in), &m), 0);
    ck_assert_msg(m.cmd == r->cmd && m.error == r->error, "\"%s\": want %s/%s, got %s/%s", r->in,
                  cmd_s[r->cmd], err_s[r->error], cmd_s[m.cmd], err_s[m.error]);
    ck_assert_msg(strcmp(m.lang, lang) == 0 && m.lang_known == (strcmp(r->lang, "?") != 0),
                  "\"%s\": want lang %s, got %s known=%d", r->in, r->lang, m.lang, m.lang_known);
    ck_assert_msg(m.status == r->status, "\"%s\": status %u", r->in, m.status);
    ck_assert_msg(m.has_revenue == r->has_rev && m.revenue == r->rev,
                  "\"%s\": revenue %d/%llu, want %d/%llu", r->in, m.has_revenue,
                  (unsigned long long)m.revenue, r->has_rev, (unsigned long long)r->rev);
    ck_assert_msg(m.has_workers == r->has_wk && m.workers == r->wk, "\"%s\": workers %d/%u", r->in,
                  m.has_workers, m.workers);
    ck_assert_msg(strcmp(m.code, r->code ? r->code : "") == 0, "\"%s\": code '%s'", r->in, m.code);
    ck_assert_msg(m.reason == r->reason, "\"%s\": reason %u", r->in, m.reason);
    ck_assert_msg(strcmp(m.text, r->text ? r->text : "") == 0, "\"%s\": text '%s'", r->in, m.text);
    ck_assert_msg(m.alert_id == r->alert, "\"%s\": alert %llu", r->in,
                  (unsigned long long)m.alert_id);
    ck_assert_msg(m.outcome == r->outcome, "\"%s\": outcome %d", r->in, (int)m.outcome);
    ck_assert_msg(strcmp(m.pkh, r->pkh ? r->pkh : "") == 0, "\"%s\": pkh '%s'", r->in, m.pkh);
    ck_assert_msg(m.visit_outcome == r->vout && m.running == r->running,
                  "\"%s\": visit outcome %u running %u", r->in, m.visit_outcome, m.running);
    ck_assert_msg(m.track == r->track, "\"%s\": track %u", r->in, m.track);
    ck_assert_msg(m.lesson_mode == r->lmode && m.answer == r->answer,
                  "\"%s\": lesson mode %u answer %u", r->in, m.lesson_mode, m.answer);
}
END_TEST

START_TEST(test_table_is_big)
{
    ck_assert_uint_ge(sizeof(rows) / sizeof(rows[0]), 40);
}
END_TEST

START_TEST(test_not_text)
{
    struct keyword_msg m;
    static const char *const bad[] = {
        "USAHA BUKA \xFF",      /* not UTF-8 */
        "HADIR 4821 \xC0\x80",  /* overlong NUL */
        "BANTUAN \xED\xA0\x80", /* surrogate */
        "BANTUAN \xE2\x82",     /* cut short */
        "HELP \x80",            /* lone continuation */
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(keyword_parse(shipped, bad[i], strlen(bad[i]), &m), -1);
        /* a caller that replies anyway sends the general usage */
        ck_assert_int_eq(m.cmd, KW_NONE);
        ck_assert_int_eq(m.error, KWE_UNKNOWN);
        ck_assert_str_eq(m.lang, "id");
    }
    ck_assert_int_eq(keyword_parse(shipped,
                                   "OK 5\0"
                                   "7",
                                   5, &m),
                     -1);
    ck_assert_int_eq(keyword_parse(NULL, "OK 57", 5, &m), -1);
    ck_assert_int_eq(keyword_parse(shipped, NULL, 3, &m), -1);
    ck_assert_int_eq(keyword_parse(shipped, NULL, 0, &m), 0);
    ck_assert_int_eq(m.error, KWE_UNKNOWN);
    /* len bounds the read: what follows is not looked at */
    ck_assert_int_eq(keyword_parse(shipped, "OK 57\xFF", 5, &m), 0);
    ck_assert_uint_eq(m.alert_id, 57);
    ck_assert_int_eq(keyword_parse(shipped, "HADIR 48219999", 10, &m), 0);
    ck_assert_str_eq(m.code, "4821");
}
END_TEST

START_TEST(test_help_text_cut)
{
    char in[KEYWORD_INPUT_MAX + 2];
    struct keyword_msg m;
    size_t n, i;

    /* 479 ASCII bytes then a 2-byte character: cut before it */
    n = (size_t)snprintf(in, sizeof(in), "BANTUAN ");
    memset(in + n, 'a', 479);
    n += 479;
    memcpy(in + n, "\xC3\xA9 lagi", 7);
    n += 7;
    ck_assert_int_eq(keyword_parse(shipped, in, n, &m), 0);
    ck_assert_int_eq(m.error, KWE_OK);
    ck_assert_uint_eq(strlen(m.text), 479);
    /* exactly 480 fit */
    in[8 + 479] = 'b';
    ck_assert_int_eq(keyword_parse(shipped, in, 8 + 480, &m), 0);
    ck_assert_uint_eq(strlen(m.text), 480);
    /* emoji all the way: cut at a 4-byte boundary, never in the middle */
    n = (size_t)snprintf(in, sizeof(in), "HELP ");
    for (i = 0; i < 200; i++, n += 4)
        memcpy(in + n, "\xF0\x9F\x99\x8F", 4);
    ck_assert_int_eq(keyword_parse(shipped, in, n, &m), 0);
    ck_assert_uint_eq(strlen(m.text), 480);
    ck_assert_str_eq(m.lang, "en");
    /* a cut that lands after a space leaves no trailing space */
    n = (size_t)snprintf(in, sizeof(in), "BANTUAN ");
    memset(in + n, 'a', 478);
    n += 478;
    memcpy(in + n, " \xF0\x9F\x99\x8F", 5);
    n += 5;
    ck_assert_int_eq(keyword_parse(shipped, in, n, &m), 0);
    ck_assert_uint_eq(strlen(m.text), 478);
}
END_TEST

START_TEST(test_too_long)
{
    char in[KEYWORD_INPUT_MAX + 2];
    struct keyword_msg m;
    size_t n;

    n = (size_t)snprintf(in, sizeof(in), "USAHA BUKA 2500000 3");
    memset(in + n, ' ', sizeof(in) - n);
    ck_assert_int_eq(keyword_parse(shipped, in, KEYWORD_INPUT_MAX, &m), 0);
    ck_assert_int_eq(m.error, KWE_OK);
    ck_assert_uint_eq(m.revenue, 2500000);
    ck_assert_int_eq(keyword_parse(shipped, in, KEYWORD_INPUT_MAX + 1, &m), 0);
    ck_assert_int_eq(m.cmd, KW_BUSINESS);
    ck_assert_int_eq(m.error, KWE_TOO_LONG);
    ck_assert_int_eq(m.has_revenue, 0);
    memset(in, 'x', sizeof(in));
    ck_assert_int_eq(keyword_parse(shipped, in, sizeof(in), &m), 0);
    ck_assert_int_eq(m.cmd, KW_NONE);
    ck_assert_int_eq(m.error, KWE_TOO_LONG);
}
END_TEST

START_TEST(test_shipped_loads)
{
    ck_assert_uint_eq(keyword_set_version(shipped), 1);
    ck_assert_uint_eq(keyword_set_version(NULL), 0);
    keyword_set_free(NULL);
}
END_TEST

/* A small configuration; load errors are made by replacing one piece of it. */
static const char BASE[] = "version = 1;\n"
                           "commands = (\n"
                           "  { command = \"business\"; id = [\"BISNIS\"]; en = [\"TRADE\"];\n"
                           "    states = (\n"
                           "      { status = 1; id = [\"JALAN\"]; },\n"
                           "      { status = 2; id = [\"REHAT\"]; },\n"
                           "      { status = 3; en = [\"SHUT\"]; },\n"
                           "      { status = 4; id = [\"NANTI\"]; }\n"
                           "    ); },\n"
                           "  { command = \"attend\"; id = [\"DATANG\"]; },\n"
                           "  { command = \"absent\"; id = [\"ALPA\"];\n"
                           "    reasons = ( { reason = 1; id = [\"SAKIT\"]; } ); },\n"
                           "  { command = \"help\"; id = [\"SOS\"]; },\n"
                           "  { command = \"info\"; id = [\"?\"]; },\n"
                           "  { command = \"stop\"; en = [\"HALT\"]; },\n"
                           "  { command = \"start\"; en = [\"GO\"]; },\n"
                           "  { command = \"ack\"; id = [\"SIAP\"]; en = [\"ROGER\"]; },\n"
                           "  { command = \"check\"; id = [\"LIHAT\"]; },\n"
                           "  { command = \"visit\"; id = [\"DATANGI\"];\n"
                           "    outcomes = ( { outcome = 7; id = [\"JUMPA\"]; } ); },\n"
                           "  { command = \"graduate\"; en = [\"PASS\"];\n"
                           "    tracks = ( { track = 1; en = [\"EXIT\"]; },\n"
                           "      { track = 2; en = [\"THRIVE\"]; } ); }\n"
                           ");\n"
                           "money = {\n"
                           "  currency = [\"RP\"];\n"
                           "  units = ( { names = [\"M\"]; factor = 1000000; } );\n"
                           "};\n"
                           "labels = {\n"
                           "  workers = [\"ORANG\"];\n"
                           "};\n";

static char tmp_path[64];

static struct keyword_set *
load_variant(const char *from, const char *to, char *err, size_t errlen, int *line_of_to)
{
    char text[8192];
    const char *at = from ? strstr(BASE, from) : NULL;
    const char *p;
    struct keyword_set *set;
    FILE *f;
    int fd;

    if (from)
        ck_assert_msg(at != NULL, "not in BASE: %s", from);
    if (at)
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
    else
        snprintf(text, sizeof(text), "%s", BASE);
    if (line_of_to) {
        *line_of_to = 1;
        for (p = text; p < text + (at ? at - BASE : 0); p++)
            *line_of_to += *p == '\n';
    }
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/kabar_keyword_XXXXXX");
    fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    set = keyword_set_load(tmp_path, err, errlen);
    unlink(tmp_path);
    return set;
}

static int
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The error names line `at`, or (at 0) the line where `to` starts plus line_offset. */
static void
expect_error_at(const char *from, const char *to, int at, int line_offset, const char *what)
{
    char err[512], prefix[128];
    int line;
    struct keyword_set *set = load_variant(from, to, err, sizeof(err), &line);

    ck_assert_msg(set == NULL, "loaded despite %s", to);
    snprintf(prefix, sizeof(prefix), "%s:%d: ", tmp_path, at ? at : line + line_offset);
    ck_assert_msg(starts_with(err, prefix), "want %s... got %s", prefix, err);
    ck_assert_msg(strstr(err, what) != NULL, "want '%s' in %s", what, err);
}

static void
expect_error(const char *from, const char *to, int line_offset, const char *what)
{
    expect_error_at(from, to, 0, line_offset, what);
}

static int
parse_s(const struct keyword_set *set, const char *in, struct keyword_msg *m)
{
    return keyword_parse(set, in, strlen(in), m);
}

/* Another vocabulary is only a file away: the words are data. */
START_TEST(test_custom_config)
{
    char err[512];
    struct keyword_set *set = load_variant(NULL, NULL, err, sizeof(err), NULL);
    struct keyword_msg m;

    ck_assert_msg(set != NULL, "%s", err);
    ck_assert_int_eq(parse_s(set, "bisnis jalan rp 2,5 m 3 orang", &m), 0);
    ck_assert_int_eq(m.error, KWE_OK);
    ck_assert_uint_eq(m.revenue, 2500000);
    ck_assert_uint_eq(m.workers, 3);
    ck_assert_int_eq(parse_s(set, "TRADE SHUT", &m), 0);
    ck_assert_uint_eq(m.status, 3);
    ck_assert_str_eq(m.lang, "en");
    ck_assert_int_eq(parse_s(set, "BISNIS SHUT", &m), 0);
    ck_assert_str_eq(m.lang, "id"); /* the command word decides */
    ck_assert_int_eq(parse_s(set, "USAHA BUKA 1 1", &m), 0);
    ck_assert_int_eq(m.error, KWE_UNKNOWN);
    ck_assert_int_eq(parse_s(set, "roger 5", &m), 0);
    ck_assert_int_eq(m.cmd, KW_ACK);
    ck_assert_str_eq(m.lang, "en");
    ck_assert_int_eq(m.lang_known, 1);
    ck_assert_int_eq(parse_s(set, "go", &m), 0);
    ck_assert_int_eq(m.cmd, KW_START);
    ck_assert_int_eq(parse_s(set, "alpa 1234 sakit", &m), 0);
    ck_assert_uint_eq(m.reason, 1);
    ck_assert_int_eq(parse_s(set, "alpa 1234 3", &m), 0);
    ck_assert_uint_eq(m.reason, 3); /* numbers work without reason words */
    ck_assert_int_eq(parse_s(set, "lihat 0042", &m), 0);
    ck_assert_int_eq(m.cmd, KW_CHECK);
    ck_assert_str_eq(m.pkh, "0042");
    ck_assert_int_eq(parse_s(set, "datangi 42 jumpa", &m), 0);
    ck_assert_uint_eq(m.visit_outcome, 7);
    ck_assert_uint_eq(m.running, 0); /* no answer words: not said */
    ck_assert_int_eq(parse_s(set, "datangi 42 3", &m), 0);
    ck_assert_uint_eq(m.visit_outcome, 3);
    ck_assert_int_eq(parse_s(set, "pass 42 thrive", &m), 0);
    ck_assert_uint_eq(m.track, 2);
    ck_assert_str_eq(m.lang, "en");
    ck_assert_int_eq(parse_s(set, "siap 5 ditelepon", &m), 0);
    ck_assert_int_eq(m.outcome, KWO_NONE); /* no outcome words here: the bare ack */
    ck_assert_uint_eq(m.alert_id, 5);
    /* the words replies name a value by */
    ck_assert_str_eq(keyword_word(set, KWW_TRACK, 2, 1), "THRIVE");
    ck_assert_str_eq(keyword_word(set, KWW_TRACK, 2, 0), "THRIVE"); /* no Indonesian one */
    ck_assert_str_eq(keyword_word(set, KWW_STATE, 3, 0), "SHUT");
    ck_assert_str_eq(keyword_word(set, KWW_STATE, 2, 0), "REHAT");
    ck_assert_str_eq(keyword_word(set, KWW_VISIT_OUTCOME, 7, 0), "JUMPA");
    ck_assert_str_eq(keyword_word(set, KWW_VISIT_OUTCOME, 1, 0), "");
    ck_assert_str_eq(keyword_word(set, KWW_OUTCOME, 1, 0), "");
    ck_assert_str_eq(keyword_word(NULL, KWW_STATE, 1, 0), "");
    keyword_set_free(set);
}
END_TEST

START_TEST(test_load_errors)
{
    char err[512];
    struct keyword_set *set;

    expect_error("version = 1;", "version = = 1;", 0, "syntax error");
    expect_error("version = 1;", "version = 2;", 0, "'version' must be 1");
    expect_error("version = 1;\n", "", 0, "missing 'version'");
    expect_error("command = \"attend\"", "command = \"attnd\"", 0, "unknown command \"attnd\"");
    /* a missing piece is reported where its list starts */
    expect_error_at("  { command = \"help\"; id = [\"SOS\"]; },\n", "", 2, 0,
                    "missing command 'help'");
    expect_error("  { command = \"help\"; id = [\"SOS\"]; },\n",
                 "  { command = \"help\";\n    id = [\"SOS\"]; },\n"
                 "  { command = \"help\"; id = [\"MAYDAY\"]; },\n",
                 2, "command 'help' appears twice");
    expect_error("en = [\"GO\"]", "en = [\"GO\",\n \"HALT\"]", 1, "name 'HALT' appears twice");
    expect_error("id = [\"DATANG\"]", "id = [\"DA TANG\",\n \"tutup  dulu\"]", 1,
                 "bad command name \"tutup  dulu\"");
    expect_error("id = [\"DATANG\"]", "id = [\"H4DIR\"]", 0, "bad command name");
    expect_error("id = [\"DATANG\"]", "id = [\"\"]", 0, "bad command name");
    expect_error("id = [\"DATANG\"]", "id = [ 42 ]", 0, "must hold strings only");
    expect_error("id = [\"DATANG\"]", "id = \"DATANG\"", 0, "must be a list of names");
    expect_error("{ command = \"attend\"; id = [\"DATANG\"]; }", "{ command = \"attend\"; }", 0,
                 "command 'attend' has no names");
    expect_error("{ status = 4; id = [\"NANTI\"]; }", "{ status = 4; id = [\"JALAN\"]; }", 0,
                 "state name 'JALAN' appears twice (also line 5)");
    expect_error_at(",\n      { status = 4; id = [\"NANTI\"]; }", "", 4, 0, "missing status 4");
    expect_error("{ status = 4;", "{ status = 5;", 0, "'status' must be 1 to 4");
    expect_error("{ status = 4;", "{ status = 3;", 0, "status 3 appears twice");
    expect_error("{ reason = 1;", "{ reason = 6;", 0, "'reason' must be 1 to 5");
    expect_error("{ command = \"help\"; id = [\"SOS\"]; }",
                 "{ command = \"help\"; id = [\"SOS\"];\n states = (); }", 1,
                 "only command 'business' has 'states'");
    expect_error("{ command = \"help\"; id = [\"SOS\"]; }",
                 "{ command = \"help\"; id = [\"SOS\"]; reasons = (); }", 0,
                 "only command 'absent' has 'reasons'");
    expect_error("{ command = \"help\"; id = [\"SOS\"]; }",
                 "{ command = \"help\"; id = [\"SOS\"]; colour = \"red\"; }", 0,
                 "unknown setting 'colour'");
    expect_error("factor = 1000000;", "factor = 5;", 0, "'factor' must be 10 to 1000000000");
    expect_error("factor = 1000000;", "factor = \"1jt\";", 0, "'factor' must be a whole number");
    expect_error("units = ( { names = [\"M\"]; factor = 1000000; } );",
                 "units = ( { names = [\"M\"]; factor = 1000000; },\n"
                 "  { names = [\"JT\"]; factor = 1000000; } );",
                 1, "two units with factor 1000000");
    expect_error("workers = [\"ORANG\"];", "workers = [\"ORANG\",\n \"RP\"];", 1,
                 "'RP' is both a currency and a label name");
    expect_error("workers = [\"ORANG\"];", "workers = [\"ORANG\"];\n  reason = [\"SAKIT\"];", 1,
                 "'SAKIT' is both a label and a reason name");
    expect_error("labels = {", "labels = {\n  price = [\"HARGA\"];", 1, "unknown setting 'price'");
    /* the assistants' words */
    expect_error_at("  { command = \"check\"; id = [\"LIHAT\"]; },\n", "", 2, 0,
                    "missing command 'check'");
    expect_error("en = [\"PASS\"];\n    tracks = ( { track = 1; en = [\"EXIT\"]; },\n"
                 "      { track = 2; en = [\"THRIVE\"]; } );",
                 "en = [\"PASS\"];", 0, "command 'graduate' needs 'tracks'");
    expect_error("{ track = 2;", "{ track = 3;", 0, "'track' must be 1 to 2");
    expect_error(",\n      { track = 2; en = [\"THRIVE\"]; }", "", 0, "missing track 2");
    expect_error("{ outcome = 7;", "{ outcome = 100;", 0, "'outcome' must be 1 to 99");
    expect_error("{ command = \"check\"; id = [\"LIHAT\"]; }",
                 "{ command = \"check\"; id = [\"LIHAT\"]; outcomes = (); }", 0,
                 "only commands 'ack' and 'visit' have 'outcomes'");
    expect_error("{ command = \"check\"; id = [\"LIHAT\"]; }",
                 "{ command = \"check\"; id = [\"LIHAT\"]; tracks = (); }", 0,
                 "only command 'graduate' has 'tracks'");
    expect_error("{ command = \"check\"; id = [\"LIHAT\"]; }",
                 "{ command = \"check\"; id = [\"LIHAT\"]; answers = (); }", 0,
                 "only command 'visit' has 'answers'");
    expect_error("en = [\"ROGER\"]; }",
                 "en = [\"ROGER\"];\n outcomes = ( { outcome = 9; id = [\"X\"]; } ); }", 1,
                 "'outcome' must be 1 to 8");

    expect_error("money = {", "cash = 1;\nmoney = {", 0, "unknown setting 'cash'");
    set = keyword_set_load("/nonexistent/keywords.conf", err, sizeof(err));
    ck_assert_ptr_null(set);
    ck_assert_msg(starts_with(err, "/nonexistent/keywords.conf:0: "), "%s", err);
    set = keyword_set_load(NULL, err, sizeof(err));
    ck_assert_ptr_null(set);
    /* the error buffer may be small or absent */
    ck_assert_ptr_null(keyword_set_load("/nonexistent/keywords.conf", err, 4));
    ck_assert_uint_eq(strlen(err), 3);
    ck_assert_ptr_null(keyword_set_load("/nonexistent/keywords.conf", NULL, 0));
}
END_TEST

/* Pure: the same bytes always give the same struct, whatever was parsed before. */
START_TEST(test_deterministic)
{
    struct keyword_msg a, b;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *in = rows[i].in, *other;

        memset(&a, 0xAA, sizeof(a));
        memset(&b, 0x55, sizeof(b));
        keyword_parse(shipped, in, strlen(in), &a);
        other = rows[(i + 7) % (sizeof(rows) / sizeof(rows[0]))].in;
        keyword_parse(shipped, other, strlen(other) / 2, &b);
        keyword_parse(shipped, in, strlen(in), &b);
        ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "\"%s\" parses two ways", in);
    }
}
END_TEST

static Suite *
keyword_suite(void)
{
    Suite *s = suite_create("keyword");
    TCase *tc = tcase_create("keyword");

    tcase_add_checked_fixture(tc, load_shipped, free_shipped);
    tcase_add_loop_test(tc, test_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
    tcase_add_test(tc, test_table_is_big);
    tcase_add_test(tc, test_not_text);
    tcase_add_test(tc, test_help_text_cut);
    tcase_add_test(tc, test_too_long);
    tcase_add_test(tc, test_shipped_loads);
    tcase_add_test(tc, test_custom_config);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(keyword_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
