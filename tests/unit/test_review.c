/* The admin pages' pure parts: escaping, CSV fields, Rupiah, the session cookie, the queue
 * filter (form and JSON) and the statements built from it, and the checks of a review action. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "html.h"
#include "parse.h"
#include "review.h"

static char *
drain(struct evbuffer *b)
{
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);

    evbuffer_remove(b, s, n);
    s[n] = '\0';
    return s;
}

static char *
csv(const char *in)
{
    struct evbuffer *b = evbuffer_new();
    char *s;

    ck_assert_int_eq(csv_field(b, in, in != NULL ? strlen(in) : 0), 0);
    s = drain(b);
    evbuffer_free(b);
    return s;
}

START_TEST(test_html_escape)
{
    struct evbuffer *b = evbuffer_new();
    char *s;

    html_escape_str(b, "<script>alert(1)</script> & \"q\" 'a'");
    s = drain(b);
    ck_assert_str_eq(s, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39;");
    free(s);
    html_escapef(b, "%s=%d", "<b>", 5);
    s = drain(b);
    ck_assert_str_eq(s, "&lt;b&gt;=5");
    free(s);
    html_escape_str(b, NULL);
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);
}
END_TEST

START_TEST(test_csv_field)
{
    char *s;

    s = csv("plain");
    ck_assert_str_eq(s, "plain");
    free(s);
    s = csv("a,b");
    ck_assert_str_eq(s, "\"a,b\"");
    free(s);
    s = csv("say \"hi\"\r\nbye");
    ck_assert_str_eq(s, "\"say \"\"hi\"\"\r\nbye\"");
    free(s);
    /* formulas become text; numbers and phone numbers stay numbers */
    s = csv("=HYPERLINK(\"http://x\")");
    ck_assert_str_eq(s, "\"'=HYPERLINK(\"\"http://x\"\")\"");
    free(s);
    s = csv("@SUM(A1)");
    ck_assert_str_eq(s, "\"'@SUM(A1)\"");
    free(s);
    s = csv("+628120000001");
    ck_assert_str_eq(s, "+628120000001");
    free(s);
    s = csv("-5");
    ck_assert_str_eq(s, "-5");
    free(s);
    s = csv("-5+cmd|' /C calc'!A0");
    ck_assert_str_eq(s, "\"'-5+cmd|' /C calc'!A0\"");
    free(s);
    s = csv(NULL);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(test_rupiah)
{
    char out[32];

    html_rupiah(0, out, sizeof out);
    ck_assert_str_eq(out, "0");
    html_rupiah(999, out, sizeof out);
    ck_assert_str_eq(out, "999");
    html_rupiah(2500000, out, sizeof out);
    ck_assert_str_eq(out, "2.500.000");
    html_rupiah(1000000000, out, sizeof out);
    ck_assert_str_eq(out, "1.000.000.000");
    html_rupiah(1234567, out, 6);
    ck_assert_uint_eq(strlen(out), 5);
}
END_TEST

START_TEST(test_cookie)
{
    char v[65];
    const char *h = "a=1; kabar_pre=ab12; kabar_session=0123abcd_-";

    ck_assert_int_eq(parse_cookie(h, strlen(h), "kabar_session", v, sizeof v), 0);
    ck_assert_str_eq(v, "0123abcd_-");
    ck_assert_int_eq(parse_cookie(h, strlen(h), "kabar_pre", v, sizeof v), 0);
    ck_assert_str_eq(v, "ab12");
    ck_assert_int_eq(parse_cookie(h, strlen(h), "kabar", v, sizeof v), -1);
    ck_assert_str_eq(v, "");
    h = "kabar_session=\"quoted\"";
    ck_assert_int_eq(parse_cookie(h, strlen(h), "kabar_session", v, sizeof v), -1);
    h = "kabar_session=abcdef";
    ck_assert_int_eq(parse_cookie(h, strlen(h), "kabar_session", v, 4), -1);
    h = "xkabar_session=abc";
    ck_assert_int_eq(parse_cookie(h, strlen(h), "kabar_session", v, sizeof v), -1);
}
END_TEST

/* Fuzz finding (in fuzz_cookie's check, not the parser): the header is bytes with a length, so
 * a NUL before the cookie hides nothing, and a NUL inside a pair is part of its name. */
START_TEST(test_cookie_after_nul)
{
    static const char h[] = "kabar\0\0\0\0sionD=(1; kabar_session=ba8";
    static const char inside[] = "x=1; \0kabar_session=ba8";
    char v[65];

    ck_assert_int_eq(parse_cookie(h, sizeof h - 1, "kabar_session", v, sizeof v), 0);
    ck_assert_str_eq(v, "ba8");
    ck_assert_int_eq(parse_cookie(inside, sizeof inside - 1, "kabar_session", v, sizeof v), -1);
}
END_TEST

static int
parse(const char *body, struct review_filter *f)
{
    char err[128];

    return review_filter_parse(body, strlen(body), f, err, sizeof err);
}

START_TEST(test_filter_parse)
{
    struct review_filter f, g;
    char *json;

    ck_assert_int_eq(parse("", &f), 0);
    ck_assert_int_eq(f.type, REVIEW_ANY);
    ck_assert_int_eq(f.review, REVIEW_UNREVIEWED);
    ck_assert_int_eq(parse("csrf=x&region=52&assistant=3&type=business&bstatus=2&from=2026-11-01"
                           "&to=2026-11-30&q=Siti+Am&review=follow_up&track=welfare",
                           &f),
                     0);
    ck_assert_str_eq(f.region, "52");
    ck_assert_uint_eq(f.assistant, 3);
    ck_assert_int_eq(f.type, REVIEW_BUSINESS);
    ck_assert_uint_eq(f.bstatus, 2);
    ck_assert_str_eq(f.q, "Siti Am");
    ck_assert_int_eq(f.review, REVIEW_FOLLOW_UP);
    ck_assert_int_eq(f.track, REVIEW_TRACK_WELFARE);
    json = review_filter_json(&f);
    ck_assert_ptr_nonnull(json);
    ck_assert_int_eq(review_filter_from_json(json, &g), 0);
    ck_assert_int_eq(memcmp(&f, &g, sizeof f), 0);
    free(json);
    ck_assert_int_eq(parse("region=52%27", &f), -1);
    ck_assert_int_eq(parse("type=other", &f), -1);
    ck_assert_int_eq(parse("bstatus=5", &f), -1);
    ck_assert_int_eq(parse("from=2026-13-01", &f), -1);
    ck_assert_int_eq(parse("to=yesterday", &f), -1);
    ck_assert_int_eq(parse("review=maybe", &f), -1);
    ck_assert_int_eq(parse("assistant=-1", &f), -1);
    ck_assert_int_eq(parse("track=graduated", &f), -1);
    ck_assert_int_eq(parse("track=Welfare", &f), -1);
    ck_assert_int_eq(parse("track=none", &f), 0);
    ck_assert_int_eq(f.track, REVIEW_TRACK_NONE);
    ck_assert_int_eq(parse("track=", &f), 0);
    ck_assert_int_eq(f.track, REVIEW_TRACK_ANY);
    /* a filter kept in a session before there were tracks: any track */
    ck_assert_int_eq(review_filter_from_json("{\"type\":\"help\"}", &f), 0);
    ck_assert_int_eq(f.track, REVIEW_TRACK_ANY);
    ck_assert_int_eq(review_filter_from_json("{\"track\":\"other\"}", &f), -1);
    ck_assert_int_eq(review_filter_from_json("{\"type\":\"nope\"}", &f), -1);
    ck_assert_int_eq(review_filter_from_json("not json", &f), -1);
}
END_TEST

/* the statement's placeholders, which must be as many as its parameters */
static size_t
qmarks(const struct sqlb *b)
{
    size_t i, n = 0;

    for (i = 0; i < b->len; i++)
        n += b->sql[i] == '?';
    return n;
}

START_TEST(test_build)
{
    struct review_filter f;
    struct sqlb b;

    memset(&f, 0, sizeof f);
    /* every type, scoped to a province: each sub-query reads the province's range of its
     * table's region index (migration 019) and checks the code itself */
    ck_assert_int_eq(review_build(&b, &f, "52", REVIEW_PAGE, 0, 0, 50, 100), 0);
    ck_assert_ptr_nonnull(strstr(b.sql, "FROM help_requests x FORCE INDEX (idx_help_requests_prov)"
                                        " STRAIGHT_JOIN kpm k"));
    ck_assert_ptr_nonnull(strstr(b.sql, "x.region_prov = LEFT(?, 2)"));
    /* the province's equality says it all: no LIKE that would read each report's row */
    ck_assert_ptr_null(strstr(b.sql, "x.region_code LIKE"));
    ck_assert_ptr_nonnull(strstr(b.sql, "NOT EXISTS (SELECT 1 FROM reviews v"));
    ck_assert_ptr_nonnull(strstr(b.sql, "LIMIT 50 OFFSET 100"));
    ck_assert_uint_eq(b.np, 3);
    ck_assert_uint_eq(qmarks(&b), b.np);
    /* a count with nothing to check on the KPM reads the index alone; the longer of the scope
     * and the filter picks the level (a desa: its kecamatan's range) */
    ck_assert_int_eq(parse("region=5201042003", &f), 0);
    ck_assert_int_eq(review_build(&b, &f, "52", REVIEW_COUNT, 0, 0, 0, 0), 0);
    ck_assert_ptr_null(strstr(b.sql, "kpm k"));
    ck_assert_ptr_nonnull(strstr(b.sql, "FROM business_reports x FORCE INDEX "
                                        "(idx_business_reports_kec) LEFT JOIN reviews v"));
    ck_assert_ptr_nonnull(strstr(b.sql, "x.region_kec = LEFT(?, 6)"));
    ck_assert_ptr_nonnull(strstr(b.sql, "x.region_code LIKE CONCAT(?, '%')"));
    ck_assert_str_eq(b.p[0].s, "5201042003");
    ck_assert_uint_eq(b.np, 6);
    ck_assert_uint_eq(qmarks(&b), b.np);
    /* unreviewed, counted: an anti-join, not a subquery per report */
    ck_assert_ptr_nonnull(strstr(b.sql, "LEFT JOIN reviews v ON v.report_type = 'business'"));
    ck_assert_ptr_nonnull(strstr(b.sql, "v.id IS NULL"));
    ck_assert_ptr_null(strstr(b.sql, "NOT EXISTS"));
    /* a code too short for a level: the KPM's region, on the walk in the reports' order */
    ck_assert_int_eq(parse("region=5", &f), 0);
    ck_assert_int_eq(review_build(&b, &f, "", REVIEW_COUNT, 0, 0, 0, 0), 0);
    ck_assert_ptr_null(strstr(b.sql, "FORCE INDEX"));
    ck_assert_ptr_nonnull(strstr(b.sql, "k.region_code LIKE"));
    /* a business status keeps only business reports; a name is a LIKE with its wildcards
     * taken literally; a phone number is an equality on the normalised number */
    ck_assert_int_eq(parse("bstatus=1&q=50%25_off", &f), 0);
    ck_assert_int_eq(review_build(&b, &f, "", REVIEW_COUNT, 0, 0, 0, 0), 0);
    ck_assert_ptr_null(strstr(b.sql, "attendance_reports"));
    ck_assert_str_eq(b.like, "%50\\%\\_off%");
    ck_assert_int_eq(parse("q=0812-0000-001", &f), 0);
    ck_assert_int_eq(review_build(&b, &f, "", REVIEW_KEYSET, REVIEW_ATTENDANCE, 77, 1000, 0), 0);
    ck_assert_str_eq(b.like, "+628120000001");
    ck_assert_ptr_nonnull(strstr(b.sql, "k.msisdn = ?"));
    ck_assert_ptr_nonnull(strstr(b.sql, "x.id < ?"));
    ck_assert_int_eq(review_build(&b, &f, "", REVIEW_KEYSET, REVIEW_ANY, 0, 10, 0), -1);
    /* a track: one more parameter, on the KPM row, in every sub-query */
    ck_assert_int_eq(parse("track=natural", &f), 0);
    ck_assert_int_eq(review_build(&b, &f, "52", REVIEW_PAGE, 0, 0, 50, 0), 0);
    ck_assert_uint_eq(b.np, 6);
    ck_assert_ptr_nonnull(strstr(b.sql, "k.graduation = ?"));
    ck_assert_str_eq(b.p[1].s, "natural");
    ck_assert_ptr_nonnull(strstr(b.sql, "STRAIGHT_JOIN kpm k"));
    /* a KPM condition keeps the KPM in a count */
    ck_assert_int_eq(review_build(&b, &f, "52", REVIEW_COUNT, 0, 0, 0, 0), 0);
    ck_assert_ptr_nonnull(strstr(b.sql, "STRAIGHT_JOIN kpm k"));
    ck_assert_int_eq(review_build(&b, &f, "", REVIEW_KEYSET, REVIEW_BUSINESS, 0, 10, 0), 0);
    ck_assert_uint_eq(b.np, 1);
    ck_assert_str_eq(b.p[0].s, "natural");
    /* every filter a region drive can have, and a region and a scope: the statement fits */
    ck_assert_int_eq(parse("region=5201042003&assistant=4294967295&from=2026-01-01&to=2026-12-31"
                           "&review=follow_up&track=welfare",
                           &f),
                     0);
    ck_assert_int_eq(review_build(&b, &f, "5201", REVIEW_PAGE, 0, 0, 50, 0), 0);
    ck_assert_int_eq(review_build(&b, &f, "5201", REVIEW_COUNT, 0, 0, 0, 0), 0);
    ck_assert_int_eq(review_build(&b, &f, "5201", REVIEW_KEYSET, REVIEW_ATTENDANCE, 9, 1000, 0), 0);
    /* a keyset goes by id, which no region index is ordered by: the region's range sorted while
     * it is small, the walk by id past 4,000 KPM, each behind the region's KPM count */
    ck_assert_ptr_nonnull(strstr(b.sql, "FROM attendance_reports x FORCE INDEX "
                                        "(idx_attendance_reports_kec)"));
    ck_assert_ptr_nonnull(strstr(b.sql, "LIMIT 4001) s) <= 4000"));
    ck_assert_ptr_nonnull(strstr(b.sql, " UNION ALL (SELECT x.id"));
    ck_assert_ptr_nonnull(strstr(b.sql, "LIMIT 4001) s) > 4000"));
    ck_assert_ptr_nonnull(strstr(b.sql, ") q ORDER BY id DESC LIMIT 1000"));
    ck_assert_uint_eq(qmarks(&b), b.np);
    ck_assert_ptr_null(review_export_columns(REVIEW_ANY));
    ck_assert_str_eq(review_export_columns(REVIEW_BUSINESS)[0], "report_id");
}
END_TEST

/* Fuzz finding: a search of many % _ \ was cut to fit the pattern's old 104 bytes, so the
 * query looked for a part of the name asked for, or for half of a UTF-8 character. */
START_TEST(test_build_like_every_char_escaped)
{
    struct review_filter f;
    struct sqlb b;
    char want[2 * REVIEW_Q_MAX + 3];
    size_t i, o = 0;

    memset(&f, 0, sizeof f);
    memset(f.q, '%', REVIEW_Q_MAX);
    ck_assert_int_eq(review_build(&b, &f, "", REVIEW_COUNT, 0, 0, 0, 0), 0);
    ck_assert_uint_eq(strlen(b.like), 2 * REVIEW_Q_MAX + 2);
    /* ... the last escaped '%' and the closing one */
    ck_assert_int_eq(b.like[2 * REVIEW_Q_MAX - 1], '\\');
    ck_assert_int_eq(b.like[2 * REVIEW_Q_MAX], '%');
    ck_assert_int_eq(b.like[2 * REVIEW_Q_MAX + 1], '%');
    /* 25 escaped characters, then 37 two-byte letters: all of them, the last one whole */
    ck_assert_int_eq(
        parse("q=%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25"
              "%25%25%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9"
              "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9"
              "%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9"
              "%C3%A9%C3%A9",
              &f),
        0);
    ck_assert_int_eq(review_build(&b, &f, "", REVIEW_PAGE, 0, 0, 50, 0), 0);
    want[o++] = '%';
    for (i = 0; i < 25; i++) {
        want[o++] = '\\';
        want[o++] = '%';
    }
    for (i = 0; i < 37; i++) {
        want[o++] = (char)0xC3;
        want[o++] = (char)0xA9;
    }
    want[o++] = '%';
    want[o] = '\0';
    ck_assert_str_eq(b.like, want);
}
END_TEST

START_TEST(test_action_check)
{
    char longnote[REVIEW_NOTE_MAX + 2];
    int t = -1;

    ck_assert_int_eq(review_action_check("business", "reviewed", NULL, &t), REVIEW_ACTION_OK);
    ck_assert_int_eq(t, REVIEW_BUSINESS);
    ck_assert_int_eq(review_action_check("help", "follow_up", "", &t), REVIEW_ACTION_OK);
    ck_assert_int_eq(t, REVIEW_HELP);
    ck_assert_int_eq(review_action_check("attendance", "note", "called her", &t), REVIEW_ACTION_OK);
    ck_assert_int_eq(t, REVIEW_ATTENDANCE);
    /* a note action needs a note */
    ck_assert_int_eq(review_action_check("business", "note", "", &t), REVIEW_ACTION_NO_NOTE);
    ck_assert_int_eq(review_action_check("business", "note", NULL, &t), REVIEW_ACTION_NO_NOTE);
    /* unknown values: the empty type is the filter's "any", not a report type */
    ck_assert_int_eq(review_action_check("", "reviewed", NULL, &t), REVIEW_ACTION_BAD);
    ck_assert_int_eq(review_action_check("kpm", "reviewed", NULL, &t), REVIEW_ACTION_BAD);
    ck_assert_int_eq(review_action_check("business", "unreviewed", NULL, &t), REVIEW_ACTION_BAD);
    ck_assert_int_eq(review_action_check("business", "Reviewed", NULL, &t), REVIEW_ACTION_BAD);
    /* a note of REVIEW_NOTE_MAX bytes, and one byte more */
    memset(longnote, 'a', REVIEW_NOTE_MAX);
    longnote[REVIEW_NOTE_MAX] = '\0';
    ck_assert_int_eq(review_action_check("business", "note", longnote, &t), REVIEW_ACTION_OK);
    longnote[REVIEW_NOTE_MAX] = 'a';
    longnote[REVIEW_NOTE_MAX + 1] = '\0';
    ck_assert_int_eq(review_action_check("business", "note", longnote, &t), REVIEW_ACTION_BAD);
}
END_TEST

static Suite *
review_suite(void)
{
    Suite *s = suite_create("review");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_html_escape);
    tcase_add_test(tc, test_csv_field);
    tcase_add_test(tc, test_rupiah);
    tcase_add_test(tc, test_cookie);
    tcase_add_test(tc, test_cookie_after_nul);
    tcase_add_test(tc, test_filter_parse);
    tcase_add_test(tc, test_build);
    tcase_add_test(tc, test_build_like_every_char_escaped);
    tcase_add_test(tc, test_action_check);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(review_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
