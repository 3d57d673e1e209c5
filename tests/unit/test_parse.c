#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

static int
u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    return parse_u64(s, strlen(s), min, max, out);
}

START_TEST(test_u64_good)
{
    uint64_t v = 7;

    ck_assert_int_eq(u64("0", 0, UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(u64("150000", 0, UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 150000);
    ck_assert_int_eq(u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_int_eq(u64("007", 0, UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(u64("00000000000000000001", 0, UINT64_MAX, &v), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(u64("1", 1, 1, &v), 0);
    ck_assert_int_eq(u64("999", 1, 999, &v), 0);
    ck_assert_uint_eq(v, 999);
    /* len bounds the read: the rest of the string is not looked at */
    ck_assert_int_eq(parse_u64("12x", 2, 0, 100, &v), 0);
    ck_assert_uint_eq(v, 12);
}
END_TEST

START_TEST(test_u64_bad)
{
    uint64_t v = 42;

    ck_assert_int_eq(parse_u64("", 0, 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(parse_u64(NULL, 0, 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("-1", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("+1", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64(" 1", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("1 ", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("1x", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("0x10", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("1.0", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("99999999999999999999", 0, UINT64_MAX, &v), -1);
    ck_assert_int_eq(u64("000000000000000000001", 0, UINT64_MAX, &v), -1); /* > 20 chars */
    ck_assert_int_eq(u64("0", 1, 999, &v), -1);
    ck_assert_int_eq(u64("1000", 1, 999, &v), -1);
    ck_assert_int_eq(parse_u64("1\0", 2, 0, 9, &v), -1);
    ck_assert_uint_eq(v, 42); /* untouched on failure */
}
END_TEST

static int
utf8(const char *s)
{
    return parse_utf8_valid(s, strlen(s));
}

START_TEST(test_utf8_cases)
{
    ck_assert_int_eq(parse_utf8_valid("", 0), 1);
    ck_assert_int_eq(parse_utf8_valid(NULL, 0), 1);
    ck_assert_int_eq(utf8("Halo Ibu Siti"), 1);
    ck_assert_int_eq(utf8("\xc3\xa9"), 1);            /* é */
    ck_assert_int_eq(utf8("\xe2\x82\xac"), 1);        /* € */
    ck_assert_int_eq(utf8("\xf0\x9f\x98\x80"), 1);    /* U+1F600 */
    ck_assert_int_eq(utf8("\xf4\x8f\xbf\xbf"), 1);    /* U+10FFFF */
    ck_assert_int_eq(utf8("\xed\x9f\xbf"), 1);        /* U+D7FF */
    ck_assert_int_eq(utf8("\xee\x80\x80"), 1);        /* U+E000 */
    ck_assert_int_eq(parse_utf8_valid("a\0b", 3), 1); /* NUL is valid UTF-8 */
    ck_assert_int_eq(utf8("\xc0\x80"), 0);            /* overlong NUL */
    ck_assert_int_eq(utf8("\xc1\xbf"), 0);            /* overlong */
    ck_assert_int_eq(utf8("\xe0\x80\xaf"), 0);        /* overlong '/' */
    ck_assert_int_eq(utf8("\xe0\x9f\xbf"), 0);        /* overlong */
    ck_assert_int_eq(utf8("\xf0\x8f\xbf\xbf"), 0);    /* overlong */
    ck_assert_int_eq(utf8("\x80"), 0);                /* lone continuation */
    ck_assert_int_eq(utf8("a\xbf"
                          "b"),
                     0);                           /* lone continuation */
    ck_assert_int_eq(utf8("\xed\xa0\x80"), 0);     /* U+D800 */
    ck_assert_int_eq(utf8("\xed\xbf\xbf"), 0);     /* U+DFFF */
    ck_assert_int_eq(utf8("\xf4\x90\x80\x80"), 0); /* U+110000 */
    ck_assert_int_eq(utf8("\xf5\x80\x80\x80"), 0);
    ck_assert_int_eq(utf8("\xff"), 0);
    ck_assert_int_eq(utf8("\xc3"), 0);                    /* truncated */
    ck_assert_int_eq(utf8("\xe2\x82"), 0);                /* truncated */
    ck_assert_int_eq(utf8("\xf0\x9f\x98"), 0);            /* truncated */
    ck_assert_int_eq(utf8("\xe2\x28\xa1"), 0);            /* bad continuation */
    ck_assert_int_eq(parse_utf8_valid("\xc3\xa9", 1), 0); /* len cuts the sequence */
}
END_TEST

/* A decoder written differently from the table in parse.c, to compare against. */
static int
utf8_reference(const unsigned char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned c = p[i], cp, n, k, min;

        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (n > len - i - 1)
            return 0;
        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

/* every sequence of one, two and three bytes */
START_TEST(test_utf8_exhaustive)
{
    unsigned char b[3];
    unsigned a, c, d;

    for (a = 0; a < 256; a++) {
        b[0] = (unsigned char)a;
        ck_assert_int_eq(parse_utf8_valid((char *)b, 1), utf8_reference(b, 1));
        for (c = 0; c < 256; c++) {
            b[1] = (unsigned char)c;
            ck_assert_int_eq(parse_utf8_valid((char *)b, 2), utf8_reference(b, 2));
            for (d = 0; d < 256; d++) {
                b[2] = (unsigned char)d;
                if (parse_utf8_valid((char *)b, 3) != utf8_reference(b, 3))
                    ck_abort_msg("mismatch on %02x %02x %02x", a, c, d);
            }
        }
    }
}
END_TEST

/* every 4-byte sequence whose lead byte is F0..F4 */
static void
clean_eq(const char *in, const char *want)
{
    char buf[64];

    snprintf(buf, sizeof buf, "%s", in);
    parse_utf8_clean(buf);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(utf8(buf), 1);
}

/* Bug (stop 26): a provider's answer cut at a fixed length, or in Latin-1, reached last_error as
 * invalid UTF-8, and MariaDB refused the outcome's UPDATE for good. */
START_TEST(test_utf8_clean_makes_any_bytes_well_formed)
{
    clean_eq("", "");
    clean_eq("HTTP 403: Ditolak", "HTTP 403: Ditolak");
    clean_eq("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
             "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    clean_eq("\xe9t\xe9 (Latin-1)", "?t? (Latin-1)");
    clean_eq("cut \xc3", "cut ?");                      /* a 2-byte character cut */
    clean_eq("cut \xe2\x82", "cut ??");                 /* a 3-byte character cut */
    clean_eq("cut \xf0\x9f\x98", "cut ???");            /* a 4-byte character cut */
    clean_eq("\xc0\x80 \xed\xa0\x80 \xff", "?? ??? ?"); /* overlong, surrogate, FF */
    clean_eq("a\x80\x80"
             "b",
             "a??b"); /* lone continuations */
}
END_TEST

START_TEST(test_utf8_four_bytes)
{
    unsigned char b[4];
    unsigned a, c, d, e;

    for (a = 0xf0; a <= 0xf4; a++)
        for (c = 0x70; c < 0xd0; c++)
            for (d = 0x70; d < 0xd0; d++)
                for (e = 0x70; e < 0xd0; e++) {
                    b[0] = (unsigned char)a;
                    b[1] = (unsigned char)c;
                    b[2] = (unsigned char)d;
                    b[3] = (unsigned char)e;
                    if (parse_utf8_valid((char *)b, 4) != utf8_reference(b, 4))
                        ck_abort_msg("mismatch on %02x %02x %02x %02x", a, c, d, e);
                }
}
END_TEST

struct form {
    char session[65];
    char phone[33];
    char text[17];
    char note[5];
    struct parse_field f[4];
    char err[128];
};

static int
form(struct form *t, const char *body)
{
    struct parse_field f[4] = {
        {.name = "sessionId", .buf = t->session, .cap = sizeof(t->session), .required = 1},
        {.name = "phoneNumber", .buf = t->phone, .cap = sizeof(t->phone), .required = 1},
        {.name = "text", .buf = t->text, .cap = sizeof(t->text), .required = 1},
        {.name = "note", .buf = t->note, .cap = sizeof(t->note), .required = 0},
    };

    memcpy(t->f, f, sizeof(f));
    strcpy(t->err, "untouched");
    return parse_form(body, strlen(body), t->f, 4, t->err, sizeof(t->err));
}

START_TEST(test_form_good)
{
    struct form t;

    ck_assert_int_eq(form(&t, "sessionId=ATUid_1&phoneNumber=%2B628123456001&text=1*2*150000"), 0);
    ck_assert_str_eq(t.session, "ATUid_1");
    ck_assert_str_eq(t.phone, "+628123456001");
    ck_assert_str_eq(t.text, "1*2*150000");
    ck_assert_uint_eq(t.f[2].len, 10);
    ck_assert_int_eq(t.f[3].seen, 0);
    ck_assert_str_eq(t.note, "");
    ck_assert_str_eq(t.err, "");

    /* empty value, '+' as space, %2B as '+', hex of both cases, unknown fields, empty pairs */
    ck_assert_int_eq(
        form(&t, "&text=&x=%7e%7E&sessionId=a&&phoneNumber=+62+812%2b%2B&note=a+b&unknown&"), 0);
    ck_assert_int_eq(t.f[2].seen, 1);
    ck_assert_uint_eq(t.f[2].len, 0);
    ck_assert_str_eq(t.text, "");
    ck_assert_str_eq(t.phone, " 62 812++");
    ck_assert_str_eq(t.note, "a b");
    ck_assert_uint_eq(t.f[3].len, 3);

    /* a bare name is an empty value; '=' inside a value is kept */
    ck_assert_int_eq(form(&t, "text&sessionId=a=b&phoneNumber=1"), 0);
    ck_assert_int_eq(t.f[2].seen, 1);
    ck_assert_str_eq(t.session, "a=b");

    /* exactly cap-1 bytes fits, UTF-8 counts bytes */
    ck_assert_int_eq(form(&t, "sessionId=a&phoneNumber=1&text=0123456789abcdef&note=%C3%A9%C3%A9"),
                     0);
    ck_assert_uint_eq(t.f[2].len, 16);
    ck_assert_str_eq(t.note, "\xc3\xa9\xc3\xa9");

    /* field names may be percent-encoded too */
    ck_assert_int_eq(form(&t, "%73essionId=a&phone%4Eumber=1&text=x"), 0);
    ck_assert_str_eq(t.session, "a");

    /* names are case-sensitive: "Text" is unknown, so text is missing */
    ck_assert_int_eq(form(&t, "sessionId=a&phoneNumber=1&Text=x"), -1);
    ck_assert_str_eq(t.err, "missing field 'text'");
}
END_TEST

START_TEST(test_form_bad)
{
    static const struct {
        const char *body;
        const char *err;
    } cases[] = {
        {"sessionId=a&phoneNumber=1&text=%2", "bad percent-encoding in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%", "bad percent-encoding in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%zz", "bad percent-encoding in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%2g", "bad percent-encoding in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%%41", "bad percent-encoding in 'text'"},
        {"sessionId=a&phoneNumber=1&text=a%00b", "NUL byte in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%C0%80", "invalid UTF-8 in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%80", "invalid UTF-8 in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%ED%A0%80", "invalid UTF-8 in 'text'"},
        {"sessionId=a&phoneNumber=1&text=%F4%90%80%80", "invalid UTF-8 in 'text'"},
        {"sessionId=a&phoneNumber=1&text=\xc3", "invalid UTF-8 in 'text'"},
        {"sessionId=a&phoneNumber=1&text=0123456789abcdefg", "field 'text' too long"},
        {"sessionId=a&phoneNumber=1&text=&note=%C3%A9%C3%A9x", "field 'note' too long"},
        {"sessionId=a&phoneNumber=1&text=1&text=1", "duplicate field 'text'"},
        {"sessionId=a&phoneNumber=1&text=1&text", "duplicate field 'text'"},
        {"sessionId=a&text=1", "missing field 'phoneNumber'"},
        {"", "missing field 'sessionId'"},
        {"&&&", "missing field 'sessionId'"},
        {"sessionId=a&phoneNumber=1&text=1&other=%zz", "bad percent-encoding"},
        {"sessionId=a&phoneNumber=1&text=1&other=%00", "NUL byte in an unknown field"},
        {"sessionId=a&phoneNumber=1&text=1&o%0ther=1", "bad percent-encoding"},
        {"sessionId=a&phoneNumber=1&text=1&te%00xt=1", "NUL byte in a field name"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct form t;

        ck_assert_msg(form(&t, cases[i].body) == -1, "accepted %s", cases[i].body);
        ck_assert_msg(strcmp(t.err, cases[i].err) == 0, "%s: got \"%s\" want \"%s\"", cases[i].body,
                      t.err, cases[i].err);
    }
}
END_TEST

START_TEST(test_form_edges)
{
    struct form t;
    char body[] = "sessionId=a&phoneNumber=1&text=x\0y";
    char err[8];
    char small[1];
    struct parse_field f[1] = {{.name = "a", .buf = small, .cap = sizeof(small), .required = 0}};
    struct parse_field bad[1] = {{.name = "a", .buf = NULL, .cap = 1, .required = 0}};

    /* a raw NUL inside the body */
    ck_assert_int_eq(form(&t, "sessionId=a&phoneNumber=1&text=x"), 0);
    ck_assert_int_eq(parse_form(body, sizeof(body) - 1, t.f, 4, t.err, sizeof(t.err)), -1);
    ck_assert_str_eq(t.err, "NUL byte in 'text'");

    /* cap 1 holds only the empty string */
    ck_assert_int_eq(parse_form("a=", 2, f, 1, NULL, 0), 0);
    ck_assert_int_eq(f[0].seen, 1);
    ck_assert_int_eq(parse_form("a=b", 3, f, 1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "field '"); /* truncated, still terminated */
    ck_assert_str_eq(small, "");

    ck_assert_int_eq(parse_form("a=b", 3, bad, 1, NULL, 0), -1);
    ck_assert_int_eq(parse_form(NULL, 0, f, 1, NULL, 0), 0);
    ck_assert_int_eq(parse_form(NULL, 1, f, 1, NULL, 0), -1);
    ck_assert_int_eq(parse_form("x=1", 3, NULL, 0, NULL, 0), 0);

    /* len is honoured: no reading past it */
    ck_assert_int_eq(parse_form("a=bcdef", 2, f, 1, NULL, 0), 0);
    ck_assert_uint_eq(f[0].len, 0);
}
END_TEST

/* a name longer than any buffer is just an unknown field */
START_TEST(test_form_long_name)
{
    struct form t;
    char body[400];

    memset(body, 'n', 300);
    strcpy(body + 300, "=1&sessionId=a&phoneNumber=1&text=x");
    ck_assert_int_eq(form(&t, body), 0);
    ck_assert_str_eq(t.text, "x");
}
END_TEST

/* The typed table: every kind, required and optional, in one form. */
struct typed {
    char id[10];
    char text[6];
    char msisdn[PARSE_MSISDN_SIZE];
    char addr[6];
    char digits[6];
    uint64_t num, small;
    char err[128];
};

static int
typed(struct typed *t, const char *body, int required)
{
    const struct parse_spec f[] = {
        PARSE_FIELD("id", PF_ID, required, t->id),
        PARSE_FIELD("text", PF_TEXT, required, t->text),
        PARSE_FIELD("msisdn", PF_MSISDN, required, t->msisdn),
        PARSE_FIELD("addr", PF_ADDR, required, t->addr),
        PARSE_FIELD("digits", PF_DIGITS, required, t->digits),
        PARSE_FIELD("num", PF_U64, required, t->num),
        PARSE_U64("small", required, t->small, 1, 255),
    };

    memset(t, 0x5a, sizeof(*t));
    strcpy(t->err, "untouched");
    return parse_fields(body, strlen(body), f, sizeof(f) / sizeof(f[0]), t->err, sizeof(t->err));
}

#define TYPED_OK                                                                                   \
    "id=a.b:c_d-1&text=h%C3%A9&msisdn=0812-3456-001&addr=%2B1+2-3&digits=%2B123"                   \
    "&num=18446744073709551615&small=255"

START_TEST(test_fields_kinds)
{
    struct typed t;

    ck_assert_int_eq(typed(&t, TYPED_OK, 1), 0);
    ck_assert_str_eq(t.id, "a.b:c_d-1");
    ck_assert_str_eq(t.text, "h\xc3\xa9");
    ck_assert_str_eq(t.msisdn, "+628123456001");
    ck_assert_str_eq(t.addr, "+123");
    ck_assert_str_eq(t.digits, "+123");
    ck_assert_uint_eq(t.num, UINT64_MAX);
    ck_assert_uint_eq(t.small, 255);

    /* optional and absent, or optional and empty: "" and 0 */
    ck_assert_int_eq(typed(&t, "", 0), 0);
    ck_assert_str_eq(t.id, "");
    ck_assert_str_eq(t.msisdn, "");
    ck_assert_str_eq(t.addr, "");
    ck_assert_uint_eq(t.num, 0);
    ck_assert_uint_eq(t.small, 0);
    ck_assert_int_eq(typed(&t, "id=&text=&msisdn=&addr=&digits=&num=&small=", 0), 0);
    ck_assert_str_eq(t.text, "");
    ck_assert_uint_eq(t.small, 0);

    /* required and empty: checked like any value; only text and digits may be empty */
    ck_assert_int_eq(typed(&t, "id=&text=&msisdn=&addr=&digits=&num=&small=", 1), -1);
    ck_assert_str_eq(t.err, "bad id");
    ck_assert_int_eq(typed(&t, "id=x&text=&msisdn=08123456001&addr=1&digits=&num=0&small=1", 1), 0);
    ck_assert_str_eq(t.digits, "");
    /* separators do not count against an address's room */
    ck_assert_int_eq(typed(&t,
                           "id=x&text=&msisdn=08123456001&addr=(1)+2.3-4-5&digits=&num=0"
                           "&small=1",
                           1),
                     0);
    ck_assert_str_eq(t.addr, "12345");
}
END_TEST

START_TEST(test_fields_bad)
{
    static const struct {
        const char *replace, *with, *err;
    } cases[] = {
        {"id=a.b:c_d-1", "id=a+b", "bad id"},
        {"id=a.b:c_d-1", "id=1234567890", "field 'id' too long"},
        {"text=h%C3%A9", "text=%C3%A9%C3%A9%C3%A9", "field 'text' too long"},
        {"text=h%C3%A9", "text=%C3", "invalid UTF-8 in 'text'"},
        {"msisdn=0812-3456-001", "msisdn=8123456001", "bad msisdn"},
        {"msisdn=0812-3456-001", "msisdn=++++++++++++++++++++++++++++++++",
         "bad msisdn"}, /* 32 bytes: converted, refused */
        {"msisdn=0812-3456-001", "msisdn=+++++++++++++++++++++++++++++++++",
         "field 'msisdn' too long"},
        {"addr=%2B1+2-3", "addr=%2B", "bad addr"},
        {"addr=%2B1+2-3", "addr=1%2B2", "bad addr"},
        {"addr=%2B1+2-3", "addr=123456", "bad addr"}, /* out holds 5 */
        {"addr=%2B1+2-3", "addr=1-2-3-4-5-6", "bad addr"},
        {"digits=%2B123", "digits=1+2", "bad digits"},
        {"digits=%2B123", "digits=123456", "field 'digits' too long"},
        {"num=18446744073709551615", "num=18446744073709551616", "bad num"},
        {"num=18446744073709551615", "num=-1", "bad num"},
        {"num=18446744073709551615", "num=000000000000000000001", "bad num"},
        {"num=18446744073709551615", "num=000000000000000000000001", "field 'num' too long"},
        {"small=255", "small=256", "bad small"},
        {"small=255", "small=0", "bad small"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];
        const char *at = strstr(TYPED_OK, cases[i].replace);
        struct typed t;

        ck_assert_ptr_nonnull(at);
        snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - TYPED_OK), TYPED_OK, cases[i].with,
                 at + strlen(cases[i].replace));
        ck_assert_msg(typed(&t, body, 1) == -1, "accepted %s", body);
        ck_assert_msg(strcmp(t.err, cases[i].err) == 0, "%s: got \"%s\" want \"%s\"", body, t.err,
                      cases[i].err);
    }
}
END_TEST

START_TEST(test_fields_table)
{
    char small[4], msisdn[PARSE_MSISDN_SIZE - 1], err[64];
    uint32_t narrow;
    uint64_t wide;
    struct parse_spec bad[] = {
        PARSE_FIELD("msisdn", PF_MSISDN, 0, msisdn), /* too small for E.164 */
        PARSE_FIELD("n", PF_U64, 0, narrow),         /* not a uint64_t */
        PARSE_U64("r", 0, wide, 9, 1),               /* empty range */
        {.name = NULL, .kind = PF_TEXT, .out = small, .size = sizeof(small)},
        {.name = "t", .kind = PF_TEXT, .out = NULL, .size = 4},
        {.name = "t", .kind = PF_TEXT, .out = small, .size = 0},
        {.name = "t", .kind = (enum parse_kind)99, .out = small, .size = sizeof(small)},
    };
    struct parse_spec many[PARSE_FIELDS_MAX + 1];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        strcpy(err, "untouched");
        ck_assert_int_eq(parse_fields("", 0, &bad[i], 1, err, sizeof(err)), -1);
        ck_assert_str_eq(err, "bad field table");
        ck_assert_int_eq(parse_value(&bad[i], "", 0, err, sizeof(err)), -1);
    }
    for (i = 0; i < PARSE_FIELDS_MAX + 1; i++)
        many[i] = (struct parse_spec)PARSE_FIELD("t", PF_TEXT, 0, small);
    ck_assert_int_eq(parse_fields("", 0, many, PARSE_FIELDS_MAX, err, sizeof(err)), 0);
    ck_assert_int_eq(parse_fields("", 0, many, PARSE_FIELDS_MAX + 1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad field table");
}
END_TEST

/* parse_value() on its own, as the JSON parsers use it: raw need not be NUL-terminated. */
START_TEST(test_value)
{
    char id[8], msisdn[PARSE_MSISDN_SIZE], err[64];
    uint64_t n = 7;
    const struct parse_spec fid = PARSE_FIELD("Id", PF_ID, 1, id);
    const struct parse_spec fm = PARSE_FIELD("Mobile", PF_MSISDN, 1, msisdn);
    const struct parse_spec fn = PARSE_U64("N", 0, n, 1, 9);

    ck_assert_int_eq(parse_value(&fid, "abcXYZ", 3, err, sizeof(err)), 0);
    ck_assert_str_eq(id, "abc");
    ck_assert_int_eq(parse_value(&fid, "abcdefgh", 8, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "field 'Id' too long");
    ck_assert_int_eq(parse_value(&fid, "", 0, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad Id");
    ck_assert_int_eq(parse_value(&fm, "628123456001", 12, err, sizeof(err)), 0);
    ck_assert_str_eq(msisdn, "+628123456001");
    ck_assert_int_eq(parse_value(&fn, "", 0, err, sizeof(err)), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(parse_value(&fn, "10", 2, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad N");
}
END_TEST

START_TEST(test_msisdn_table)
{
    static const struct {
        const char *in;
        const char *out; /* NULL: rejected */
    } cases[] = {
        {"+628123456001", "+628123456001"},
        {"628123456001", "+628123456001"},
        {"08123456001", "+628123456001"},
        {"0812-3456-001", "+628123456001"},
        {"0812 3456 001", "+628123456001"},
        {"(0812) 3456.001", "+628123456001"},
        {"+62 812-3456-001", "+628123456001"},
        {"+62 (0)812 3456 001", "+628123456001"},
        {"620812345600", "+62812345600"},
        {"+62 0)0)824 34 001", NULL}, /* found by fuzz_msisdn: "+620..." after one strip */
        {"+6200812345600", NULL},
        {"+12025550123", "+12025550123"},
        {"+44 20 7946 0958", "+442079460958"},
        {"+233244123456", "+233244123456"},
        {"021-555-1234", "+62215551234"},
        {"+12345678", "+12345678"},               /* 8 digits, the minimum */
        {"+123456789012345", "+123456789012345"}, /* 15, the maximum */
        {"08123456789012", "+628123456789012"},
        {"081234567890123", NULL},   /* 16 after +62 */
        {"+1234567", NULL},          /* 7 digits */
        {"+1234567890123456", NULL}, /* 16 digits */
        {"0812345678901234", NULL},  /* 16 after +62 */
        {"62123", NULL},
        {"8123456001", NULL},  /* ambiguous */
        {"12025550123", NULL}, /* ambiguous without '+' */
        {"233244123456", NULL},
        {"+08123456001", NULL},
        {"00628123456001", NULL},
        {"0", NULL},
        {"", NULL},
        {"+", NULL},
        {"   ", NULL},
        {"++628123456001", NULL},
        {"62+8123456001", NULL},
        {"+62812345600a", NULL},
        {"+62812/3456001", NULL},
        {"+62812\t3456001", NULL},
        {"\xef\xbc\x90"
         "8123456001",
         NULL}, /* fullwidth zero */
        {"+6281234560011111111111111111", NULL},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[PARSE_MSISDN_SIZE];
        int rc = parse_msisdn(cases[i].in, strlen(cases[i].in), out);

        if (cases[i].out == NULL) {
            ck_assert_msg(rc == -1, "accepted \"%s\" as %s", cases[i].in, out);
            ck_assert_str_eq(out, "");
        } else {
            ck_assert_msg(rc == 0, "rejected \"%s\"", cases[i].in);
            ck_assert_str_eq(out, cases[i].out);
        }
    }
}
END_TEST

START_TEST(test_msisdn_len)
{
    char out[PARSE_MSISDN_SIZE];

    ck_assert_int_eq(parse_msisdn("08123456001999", 11, out), 0);
    ck_assert_str_eq(out, "+628123456001");
    ck_assert_int_eq(parse_msisdn(NULL, 0, out), -1);
    ck_assert_int_eq(parse_msisdn("+62812\0"
                                  "3456001",
                                  14, out),
                     -1);
}
END_TEST

START_TEST(test_mask)
{
    char out[32];
    char tiny[5];

    parse_mask_msisdn("+628123456001", out, sizeof(out));
    ck_assert_str_eq(out, "+62*******001");
    parse_mask_msisdn("+123456789012345", out, sizeof(out));
    ck_assert_str_eq(out, "+12**********345");
    parse_mask_msisdn("1234567", out, sizeof(out));
    ck_assert_str_eq(out, "123*567");
    parse_mask_msisdn("123456", out, sizeof(out));
    ck_assert_str_eq(out, "******");
    parse_mask_msisdn("", out, sizeof(out));
    ck_assert_str_eq(out, "");
    parse_mask_msisdn(NULL, out, sizeof(out));
    ck_assert_str_eq(out, "");
    parse_mask_msisdn("ab\ncdefg\x1b", out, sizeof(out));
    ck_assert_str_eq(out, "???***???");
    parse_mask_msisdn("+628123456001", tiny, sizeof(tiny));
    ck_assert_str_eq(tiny, "+62*");
    parse_mask_msisdn("+628123456001", tiny, 0); /* must not write */
    ck_assert_str_eq(tiny, "+62*");
}
END_TEST

START_TEST(test_media_type)
{
    const char *want = "application/json";

    ck_assert_int_eq(parse_media_type_is("application/json", want), 1);
    ck_assert_int_eq(parse_media_type_is("Application/JSON", want), 1);
    ck_assert_int_eq(parse_media_type_is("application/json; charset=utf-8", want), 1);
    ck_assert_int_eq(parse_media_type_is(" application/json ;charset=utf-8", want), 1);
    ck_assert_int_eq(parse_media_type_is("application/jsonp", want), 0);
    ck_assert_int_eq(parse_media_type_is("application/json-seq", want), 0);
    ck_assert_int_eq(parse_media_type_is("application/json-patch+json", want), 0);
    ck_assert_int_eq(parse_media_type_is("application/jso", want), 0);
    ck_assert_int_eq(parse_media_type_is("text/plain", want), 0);
    ck_assert_int_eq(parse_media_type_is("", want), 0);
    ck_assert_int_eq(parse_media_type_is(NULL, want), 0);
    ck_assert_int_eq(parse_media_type_is("application/x-www-form-urlencodedXX",
                                         "application/x-www-form-urlencoded"),
                     0);
}
END_TEST

START_TEST(test_idem_key)
{
    static const char *const good[] = {"a", "8e03978e-40d5-43e8-bc93-6894a57f9324",
                                       "\"quoted key\"", "~!@#$%^&*()_+{}|:<>?`-=[];',./"};
    static const char *const bad[] = {"", " a", "a ", "a\tb", "caf\xc3\xa9", "a\x7f", "a\nb"};
    char max[PARSE_IDEM_KEY_MAX + 2];
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(parse_idem_key_valid(good[i], strlen(good[i])), "%s", good[i]);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!parse_idem_key_valid(bad[i], strlen(bad[i])), "%s", bad[i]);
    memset(max, 'k', sizeof max);
    ck_assert(parse_idem_key_valid(max, PARSE_IDEM_KEY_MAX));
    ck_assert(!parse_idem_key_valid(max, PARSE_IDEM_KEY_MAX + 1));
    /* a NUL inside is not a key: the length is the caller's, not strlen's */
    ck_assert(!parse_idem_key_valid("ab\0c", 4));
}
END_TEST

START_TEST(test_date)
{
    static const struct {
        const char *s;
        uint32_t ymd;
    } good[] = {
        {"2026-01-31", 20260131}, {"2000-02-29", 20000229}, {"2024-02-29", 20240229},
        {"2099-12-31", 20991231}, {"2000-01-01", 20000101}, {"2026-04-30", 20260430},
    };
    static const char *const bad[] = {
        "",           "2026-1-31",  "2026-01-31 ", " 2026-01-31", "2026/01/31", "26-01-31",
        "2026-01-32", "2026-04-31", "2026-02-29",  "2100-02-28",  "2025-02-29", "1999-12-31",
        "2026-00-10", "2026-13-01", "2026-01-00",  "+026-01-01",  "2026-0a-01", "20260131xx",
        "2026-06-31", "2026-11-31", "２026-01-01",
    };
    uint32_t ymd;
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        ymd = 0;
        ck_assert_msg(parse_date(good[i].s, strlen(good[i].s), &ymd) == 0, "%s", good[i].s);
        ck_assert_uint_eq(ymd, good[i].ymd);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse_date(bad[i], strlen(bad[i]), &ymd) == -1, "%s", bad[i]);
    /* the length is the caller's: a date followed by anything is not a date */
    ck_assert_int_eq(parse_date("2026-01-31", 9, &ymd), -1);
    ck_assert_int_eq(parse_date("2026-01-3\0", 10, &ymd), -1);
}
END_TEST

START_TEST(test_date_at)
{
    /* 2026-03-31 16:59:59 UTC: still the 31st in WIB (+7), the 1st in WIT (+9) */
    time_t t = 1774976399;

    ck_assert_uint_eq(parse_date_at(t, 0), 20260331);
    ck_assert_uint_eq(parse_date_at(t, 7 * 3600), 20260331);
    ck_assert_uint_eq(parse_date_at(t + 1, 7 * 3600), 20260401);
    ck_assert_uint_eq(parse_date_at(t, 9 * 3600), 20260401);
    ck_assert_uint_eq(parse_date_at(951782400, 0), 20000229); /* 2000-02-29 00:00 UTC */
}
END_TEST

static Suite *
parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_u64_good);
    tcase_add_test(tc, test_u64_bad);
    tcase_add_test(tc, test_utf8_cases);
    tcase_add_test(tc, test_utf8_exhaustive);
    tcase_add_test(tc, test_utf8_four_bytes);
    tcase_add_test(tc, test_utf8_clean_makes_any_bytes_well_formed);
    tcase_add_test(tc, test_form_good);
    tcase_add_test(tc, test_form_bad);
    tcase_add_test(tc, test_form_edges);
    tcase_add_test(tc, test_form_long_name);
    tcase_add_test(tc, test_fields_kinds);
    tcase_add_test(tc, test_fields_bad);
    tcase_add_test(tc, test_fields_table);
    tcase_add_test(tc, test_value);
    tcase_add_test(tc, test_msisdn_table);
    tcase_add_test(tc, test_msisdn_len);
    tcase_add_test(tc, test_mask);
    tcase_add_test(tc, test_media_type);
    tcase_add_test(tc, test_idem_key);
    tcase_add_test(tc, test_date);
    tcase_add_test(tc, test_date_at);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(parse_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
