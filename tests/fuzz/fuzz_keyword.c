/*
 * keyword_parse() on any bytes, with the shipped keywords: $KABAR_SRCDIR/config/keywords.conf,
 * else the file named at build time (-DKABAR_KEYWORDS="..."), else ./config/keywords.conf, else
 * a small built-in configuration. Besides the bounds of every field, the result must not
 * change with the case of the letters or with a space before and a '.' after the message.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "keyword.h"
#include "parse.h"
#include "fuzz.h"

static const char builtin[] =
    "version = 1;\n"
    "commands = (\n"
    "  { command = \"business\"; id = [\"USAHA\"]; en = [\"BUSINESS\"];\n"
    "    states = ( { status = 1; id = [\"BUKA\"]; en = [\"OPEN\"]; },\n"
    "               { status = 2; id = [\"LIBUR\", \"TUTUP SEMENTARA\"]; en = [\"PAUSED\"]; },\n"
    "               { status = 3; id = [\"TUTUP\"]; en = [\"CLOSED\"]; },\n"
    "               { status = 4; id = [\"BELUM\"]; en = [\"NOT YET\"]; } ); },\n"
    "  { command = \"attend\"; id = [\"HADIR\"]; en = [\"ATTEND\"]; },\n"
    "  { command = \"absent\"; id = [\"ABSEN\", \"TIDAK HADIR\"]; en = [\"ABSENT\"];\n"
    "    reasons = ( { reason = 1; id = [\"SAKIT\"]; en = [\"ILL\"]; } ); },\n"
    "  { command = \"help\"; id = [\"BANTUAN\"]; en = [\"HELP\"]; },\n"
    "  { command = \"info\"; id = [\"INFO\", \"?\"]; en = [\"INFO\", \"?\"]; },\n"
    "  { command = \"stop\"; id = [\"STOP\"]; en = [\"STOP\"]; },\n"
    "  { command = \"start\"; id = [\"MULAI\"]; en = [\"START\"]; },\n"
    "  { command = \"ack\"; id = [\"OK\"]; en = [\"OK\"];\n"
    "    outcomes = ( { outcome = 1; id = [\"DITELEPON\"]; en = [\"CALLED\"]; },\n"
    "                 { outcome = 5; id = [\"TIDAK PERLU\"]; en = [\"NO ACTION\"]; },\n"
    "                 { outcome = 7; id = [\"TOLAK\"]; en = [\"DECLINE\"]; } ); },\n"
    "  { command = \"check\"; id = [\"CEK\"]; en = [\"CHECK\"]; },\n"
    "  { command = \"visit\"; id = [\"KUNJUNG\"]; en = [\"VISIT\"];\n"
    "    outcomes = ( { outcome = 1; id = [\"BERTEMU\"]; en = [\"MET\"]; } );\n"
    "    answers = ( { answer = 1; id = [\"YA\"]; en = [\"YES\"]; },\n"
    "                { answer = 2; id = [\"TIDAK\"]; en = [\"NO\"]; } ); },\n"
    "  { command = \"graduate\"; id = [\"LULUS\"]; en = [\"GRADUATE\"];\n"
    "    tracks = ( { track = 1; id = [\"ALAMIAH\"]; en = [\"NATURAL\"]; },\n"
    "               { track = 2; id = [\"SEJAHTERA\"]; en = [\"WELFARE\"]; } ); }\n"
    ");\n"
    "money = { currency = [\"RP\"];\n"
    "  units = ( { names = [\"RB\", \"K\"]; factor = 1000; },\n"
    "            { names = [\"JT\", \"JUTA\"]; factor = 1000000; } ); };\n"
    "labels = { revenue = [\"OMZET\"]; workers = [\"ORANG\"]; code = [\"KODE\"];\n"
    "  reason = [\"ALASAN\"]; alert = [\"NO\"]; pkh = [\"PKH\"]; };\n";

/* Loaded once, kept for the life of the process. */
static const struct keyword_set *
fuzz_set(void)
{
    static struct keyword_set *set;
    const char *other = NULL;
    char path[4096], err[512];
    int tmp;

    if (set != NULL)
        return set;
#ifdef KABAR_KEYWORDS
    other = KABAR_KEYWORDS;
#endif
    fuzz_config_path("keywords.conf", other, builtin, path, sizeof(path), &tmp);
    set = keyword_set_load(path, err, sizeof(err));
    if (tmp)
        unlink(path);
    if (set == NULL) {
        fprintf(stderr, "fuzz_keyword: %s\n", err);
        abort();
    }
    return set;
}

static int
all_digits(const char *s)
{
    return *s != '\0' && strspn(s, "0123456789") == strlen(s);
}

static void
check_msg(const struct keyword_msg *m, size_t size)
{
    struct keyword_msg zero;
    size_t n;

    FUZZ_CHECK(m->cmd >= KW_NONE && m->cmd < KW_COUNT);
    FUZZ_CHECK(m->error >= KWE_OK && m->error <= KWE_TOO_LONG);
    fuzz_check_str(m->lang, sizeof(m->lang));
    FUZZ_CHECK(strcmp(m->lang, "id") == 0 || strcmp(m->lang, "en") == 0);
    FUZZ_CHECK(m->lang_known == 0 || m->lang_known == 1);
    FUZZ_CHECK(m->lang_known || strcmp(m->lang, "id") == 0);
    fuzz_check_str(m->code, sizeof(m->code));
    fuzz_check_str(m->text, sizeof(m->text));
    FUZZ_CHECK((m->error == KWE_TOO_LONG) == (size > KEYWORD_INPUT_MAX));
    FUZZ_CHECK(m->error != KWE_UNKNOWN || m->cmd == KW_NONE);
    FUZZ_CHECK(m->cmd != KW_NONE || m->error == KWE_UNKNOWN || m->error == KWE_TOO_LONG);
    if (m->error != KWE_OK) {
        /* nothing but what the usage reply needs */
        memset(&zero, 0, sizeof(zero));
        zero.cmd = m->cmd;
        zero.error = m->error;
        zero.lang_known = m->lang_known;
        memcpy(zero.lang, m->lang, sizeof(zero.lang));
        FUZZ_CHECK(memcmp(&zero, m, sizeof(zero)) == 0);
        FUZZ_CHECK(m->cmd != KW_BUSINESS_DIALOG);
        return;
    }
    FUZZ_CHECK(m->cmd == KW_BUSINESS || m->status == 0);
    FUZZ_CHECK(m->cmd == KW_BUSINESS || (!m->has_revenue && !m->has_workers));
    FUZZ_CHECK(m->cmd == KW_ATTEND || m->cmd == KW_ABSENT || m->code[0] == '\0');
    FUZZ_CHECK(m->cmd == KW_ABSENT || m->reason == 0);
    FUZZ_CHECK(m->cmd == KW_HELP || (m->cmd == KW_ACK && m->outcome == KWO_DECLINED) ||
               m->text[0] == '\0');
    FUZZ_CHECK(m->cmd == KW_ACK || (m->alert_id == 0 && m->outcome == KWO_NONE));
    FUZZ_CHECK(m->cmd == KW_CHECK || m->cmd == KW_VISIT || m->cmd == KW_GRADUATE ||
               m->pkh[0] == '\0');
    FUZZ_CHECK(m->cmd == KW_VISIT || (m->visit_outcome == 0 && m->running == 0));
    FUZZ_CHECK(m->cmd == KW_GRADUATE || m->track == 0);
    fuzz_check_str(m->pkh, sizeof(m->pkh));
    switch (m->cmd) {
    case KW_BUSINESS:
        FUZZ_CHECK(m->status >= 1 && m->status <= KEYWORD_STATUS_MAX);
        FUZZ_CHECK(m->has_revenue == (m->status == 1));
        FUZZ_CHECK(m->status == 1 || !m->has_workers);
        FUZZ_CHECK(m->revenue <= KEYWORD_REVENUE_MAX && (m->has_revenue || m->revenue == 0));
        FUZZ_CHECK(m->has_workers
                       ? m->workers >= KEYWORD_WORKERS_MIN && m->workers <= KEYWORD_WORKERS_MAX
                       : m->workers == 0);
        break;
    case KW_ATTEND:
    case KW_ABSENT:
        n = strlen(m->code);
        FUZZ_CHECK(n >= KEYWORD_CODE_MIN && n <= KEYWORD_CODE_MAX && all_digits(m->code));
        FUZZ_CHECK(m->reason <= KEYWORD_REASON_MAX);
        break;
    case KW_HELP:
        n = strlen(m->text);
        FUZZ_CHECK(n <= KEYWORD_TEXT_MAX);
        FUZZ_CHECK(n == 0 ||
                   (m->text[0] != ' ' && m->text[n - 1] != ' ' && m->text[n - 1] != '\n'));
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK((unsigned char)m->text[i] >= ' ' || m->text[i] == '\n');
        break;
    case KW_ACK:
        FUZZ_CHECK(m->alert_id >= 1 && m->alert_id <= KEYWORD_ALERT_MAX);
        FUZZ_CHECK(m->outcome < KWO_COUNT);
        /* a decline carries its reason, trimmed */
        n = strlen(m->text);
        FUZZ_CHECK((m->outcome == KWO_DECLINED) == (n > 0));
        FUZZ_CHECK(n == 0 || (m->text[0] != ' ' && m->text[n - 1] != ' '));
        break;
    case KW_CHECK:
    case KW_VISIT:
    case KW_GRADUATE:
        n = strlen(m->pkh);
        FUZZ_CHECK(n >= 1 && n <= KEYWORD_PKH_MAX && all_digits(m->pkh));
        FUZZ_CHECK(m->cmd != KW_VISIT ||
                   (m->visit_outcome >= 1 && m->visit_outcome <= KEYWORD_VISIT_OUTCOME_MAX &&
                    m->running <= 2));
        FUZZ_CHECK(m->cmd != KW_GRADUATE || m->track == 1 || m->track == 2);
        break;
    case KW_NONE:
        FUZZ_CHECK(0);
        break;
    default:
        break;
    }
}

/* Same outcome; help text and a decline's reason may differ (they keep the sender's case and
 * punctuation). */
static void
check_same(const struct keyword_msg *a, const struct keyword_msg *b)
{
    struct keyword_msg x = *a, y = *b;

    if ((x.cmd == KW_HELP && y.cmd == KW_HELP) ||
        (x.cmd == KW_ACK && y.cmd == KW_ACK && x.outcome == KWO_DECLINED &&
         y.outcome == KWO_DECLINED)) {
        memset(x.text, 0, sizeof(x.text));
        memset(y.text, 0, sizeof(y.text));
    }
    FUZZ_CHECK(memcmp(&x, &y, sizeof(x)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct keyword_set *set = fuzz_set();
    const char *s = (const char *)data;
    struct keyword_msg m, again;
    int text = parse_utf8_valid(s, size) && (size == 0 || memchr(s, '\0', size) == NULL);
    char *copy;
    size_t i;
    int rc;

    rc = keyword_parse(set, s, size, &m);
    FUZZ_CHECK(rc == (text ? 0 : -1));
    if (rc != 0) {
        FUZZ_CHECK(m.cmd == KW_NONE && m.error == KWE_UNKNOWN);
        return 0;
    }
    check_msg(&m, size);
    FUZZ_CHECK(keyword_parse(set, s, size, &again) == 0);
    FUZZ_CHECK(memcmp(&m, &again, sizeof(m)) == 0);
    if (size + 2 > KEYWORD_INPUT_MAX)
        return 0;

    copy = malloc(size + 2);
    if (copy == NULL)
        return 0;
    /* " " + text + "." */
    copy[0] = ' ';
    if (size > 0)
        memcpy(copy + 1, s, size);
    copy[size + 1] = '.';
    FUZZ_CHECK(keyword_parse(set, copy, size + 2, &again) == 0);
    check_same(&m, &again);
    /* upper case */
    if (size > 0)
        memcpy(copy, s, size);
    for (i = 0; i < size; i++)
        if (copy[i] >= 'a' && copy[i] <= 'z')
            copy[i] = (char)(copy[i] - 'a' + 'A');
    FUZZ_CHECK(keyword_parse(set, copy, size, &again) == 0);
    check_same(&m, &again);
    free(copy);
    return 0;
}
