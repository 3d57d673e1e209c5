#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "parse.h"

/* What the reader handed back, one line per record: "L<line>:a|b|c" or "L<line>!reason". */
struct got {
    char text[4096];
    int stop_after;
    int n;
};

static int
collect(void *arg, const struct csv_record *r)
{
    struct got *g = arg;
    size_t i, len = strlen(g->text);

    if (r->reject != NULL) {
        snprintf(g->text + len, sizeof g->text - len, "L%zu!%s\n", r->line, r->reject);
    } else {
        len += (size_t)snprintf(g->text + len, sizeof g->text - len, "L%zu%s", r->line,
                                r->header ? "h:" : ":");
        for (i = 0; i < r->nfields; i++)
            len += (size_t)snprintf(g->text + len, sizeof g->text - len, "%s%s", i ? "|" : "",
                                    r->fields[i]);
        snprintf(g->text + len, sizeof g->text - len, "\n");
    }
    return ++g->n == g->stop_after ? 7 : 0;
}

/* The same input fed whole, then a byte at a time: both must read the same. */
static const char *
read_csv(const char *in, size_t len, char *sep)
{
    static struct got whole;
    struct got bytes;
    struct csv_reader *r;
    size_t i;

    memset(&whole, 0, sizeof whole);
    r = csv_new(collect, &whole);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(csv_feed(r, in, len), 0);
    ck_assert_int_eq(csv_finish(r), 0);
    if (sep != NULL)
        *sep = csv_separator(r);
    csv_free(r);
    memset(&bytes, 0, sizeof bytes);
    r = csv_new(collect, &bytes);
    for (i = 0; i < len; i++)
        ck_assert_int_eq(csv_feed(r, in + i, 1), 0);
    ck_assert_int_eq(csv_finish(r), 0);
    csv_free(r);
    ck_assert_str_eq(whole.text, bytes.text);
    return whole.text;
}

#define READ(s) read_csv((s), sizeof(s) - 1, NULL)

START_TEST(test_bom_semicolon_crlf)
{
    char sep;
    const char *in = "\xef\xbb\xbfno_pkh;nama;hp\r\n123;Siti, Aminah;0812\r\n";
    const char *t = read_csv(in, strlen(in), &sep);

    ck_assert_int_eq(sep, ';');
    ck_assert_str_eq(t, "L1h:no_pkh|nama|hp\nL2:123|Siti, Aminah|0812\n");
}
END_TEST

START_TEST(test_comma_quotes_lf_no_final_newline)
{
    char sep;
    const char *in = "a,\"b;c\"\n\"x \"\"y\"\"\",\"line\nbreak\"\n3,\n4,last";
    const char *t = read_csv(in, strlen(in), &sep);

    ck_assert_int_eq(sep, ',');
    ck_assert_str_eq(t, "L1h:a|b;c\nL2:x \"y\"|line\nbreak\nL4:3|\nL5:4|last\n");
}
END_TEST

START_TEST(test_separator_counted_outside_quotes)
{
    char sep;
    const char *in = "\"a;b;c\",d,e\n1,2,3\n";

    read_csv(in, strlen(in), &sep);
    ck_assert_int_eq(sep, ',');
}
END_TEST

START_TEST(test_rejects_name_their_line_and_reading_goes_on)
{
    const char *t = READ("a;b\n"
                         "1;x\"y\n"          /* 2: quote in a bare field */
                         "2;\"q\"z\n"        /* 3: text after the closing quote */
                         "3\n"               /* 4: one field */
                         "\n"                /* 5: blank, skipped */
                         "4;ok\n"            /* 6 */
                         "5;\xff\n"          /* 7: not UTF-8 */
                         "6;a\rb\n"          /* 8: lone CR */
                         "7;\"open\nstill"); /* 9: unterminated at the end */

    ck_assert_str_eq(t, "L1h:a|b\n"
                        "L2!quote inside an unquoted field\n"
                        "L3!text after a closing quote\n"
                        "L4!field count differs from the header\n"
                        "L6:4|ok\n"
                        "L7!not UTF-8\n"
                        "L8!stray carriage return\n"
                        "L9!unterminated quote\n");
}
END_TEST

START_TEST(test_nul_and_too_many_fields)
{
    char in[300];
    const char *t;
    size_t n = 0;
    int i;

    n += (size_t)snprintf(in + n, sizeof in - n, "a,b\n");
    memcpy(in + n, "1,\0\n", 4);
    n += 4;
    for (i = 0; i < 70; i++)
        in[n++] = ',';
    in[n++] = '\n';
    n += (size_t)snprintf(in + n, sizeof in - n, "2,z\n");
    t = read_csv(in, n, NULL);
    ck_assert_str_eq(t, "L1h:a|b\nL2!NUL byte\nL3!more than 64 fields\nL4:2|z\n");
}
END_TEST

START_TEST(test_record_too_long)
{
    size_t n = CSV_RECORD_MAX + 20, i;
    char *in = malloc(n + 16);
    struct got g;
    struct csv_reader *r;

    memcpy(in, "a\n", 2);
    for (i = 2; i < n; i++)
        in[i] = 'x';
    memcpy(in + n, "\nb\n", 3);
    memset(&g, 0, sizeof g);
    r = csv_new(collect, &g);
    ck_assert_int_eq(csv_feed(r, in, n + 3), 0);
    ck_assert_int_eq(csv_finish(r), 0);
    ck_assert_str_eq(g.text, "L1h:a\nL2!record too long\nL3:b\n");
    csv_free(r);
    free(in);
}
END_TEST

START_TEST(test_callback_stops_the_reader)
{
    struct got g;
    struct csv_reader *r;

    memset(&g, 0, sizeof g);
    g.stop_after = 2;
    r = csv_new(collect, &g);
    ck_assert_int_eq(csv_feed(r, "a\n1\n2\n", 6), 7);
    ck_assert_int_eq(csv_finish(r), 7);
    ck_assert_str_eq(g.text, "L1h:a\nL2:1\n");
    csv_free(r);
}
END_TEST

static struct got hdr_got;
static struct csv_record hdr_rec;
static const char *hdr_fields[CSV_FIELDS_MAX];
static char *hdr_copies[CSV_FIELDS_MAX];
static size_t hdr_lens[CSV_FIELDS_MAX];

static int
keep_header(void *arg, const struct csv_record *r)
{
    size_t i;

    (void)arg;
    if (r->header) {
        hdr_rec = *r;
        for (i = 0; i < r->nfields; i++) {
            hdr_copies[i] = strdup(r->fields[i]);
            hdr_fields[i] = hdr_copies[i];
            hdr_lens[i] = r->lens[i];
        }
        hdr_rec.fields = hdr_fields;
        hdr_rec.lens = hdr_lens;
    }
    return 0;
}

static int
map(const char *header, int *idx, char *err)
{
    static const struct csv_column cols[] = {
        {"no_pkh|pkh_number|nomor_pkh", 1},
        {"nama|name", 1},
        {"nik", 0},
    };
    struct csv_reader *r = csv_new(keep_header, &hdr_got);
    int rc;

    csv_feed(r, header, strlen(header));
    csv_finish(r);
    csv_free(r);
    rc = csv_header_map(&hdr_rec, cols, 3, idx, err, 64);
    for (size_t i = 0; i < hdr_rec.nfields; i++)
        free(hdr_copies[i]);
    return rc;
}

START_TEST(test_header_map_aliases)
{
    int idx[3];
    char err[64];

    ck_assert_int_eq(map("Nama; Nomor_PKH ;hp\n", idx, err), 0);
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(idx[1], 0);
    ck_assert_int_eq(idx[2], -1);
    ck_assert_int_eq(map("pkh_number,name,NIK\n", idx, err), 0);
    ck_assert_int_eq(idx[2], 2);
    ck_assert_int_eq(map("name,nik\n", idx, err), -1);
    ck_assert_str_eq(err, "missing column no_pkh");
    ck_assert_int_eq(map("no_pkh,name,pkh_number\n", idx, err), -1);
    ck_assert_str_eq(err, "column no_pkh twice");
}
END_TEST

START_TEST(test_msisdn_id_forms)
{
    static const char *good[] = {"081234567890",   "6281234567890",        "+62 812-3456-7890",
                                 "0812.3456.7890", "+62 (0)812 3456 7890", "62 812 3456 7890"};
    char out[PARSE_MSISDN_SIZE];
    size_t i;

    for (i = 0; i < sizeof good / sizeof *good; i++) {
        ck_assert_msg(parse_msisdn_id(good[i], strlen(good[i]), out) == 0, "%s", good[i]);
        ck_assert_str_eq(out, "+6281234567890");
    }
    ck_assert_int_eq(parse_msisdn_id("0812345", 7, out), -1); /* too short */
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(parse_msisdn_id("+6531234567", 11, out), -1); /* Singapore */
    ck_assert_int_eq(parse_msisdn_id("0215551234", 10, out), -1);  /* a Jakarta land line */
    ck_assert_int_eq(parse_msisdn_id("0812abc4567", 11, out), -1);
    ck_assert_int_eq(parse_msisdn_id("", 0, out), -1);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tcase_create("csv");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_bom_semicolon_crlf);
    tcase_add_test(tc, test_comma_quotes_lf_no_final_newline);
    tcase_add_test(tc, test_separator_counted_outside_quotes);
    tcase_add_test(tc, test_rejects_name_their_line_and_reading_goes_on);
    tcase_add_test(tc, test_nul_and_too_many_fields);
    tcase_add_test(tc, test_record_too_long);
    tcase_add_test(tc, test_callback_stops_the_reader);
    tcase_add_test(tc, test_header_map_aliases);
    tcase_add_test(tc, test_msisdn_id_forms);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
