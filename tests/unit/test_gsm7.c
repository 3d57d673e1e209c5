#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gsm7.h"

static int
measure(const char *s, size_t *units, int *gsm)
{
    return gsm7_measure(s, strlen(s), units, gsm);
}

static void
expect(const char *s, size_t units, int gsm)
{
    size_t u = 999;
    int g = 9;

    ck_assert_int_eq(measure(s, &u, &g), 0);
    ck_assert_msg(u == units && g == gsm, "'%s': want %zu/%d, got %zu/%d", s, units, gsm, u, g);
}

START_TEST(test_basic_set)
{
    size_t u;
    int g;

    expect("", 0, 1);
    expect("Kabar KPM - Halo Ibu Siti", 25, 1);
    expect("@$_!\"#%&'()*+,-./:;<=>?\n\r", 25, 1);
    /* accented letters and Greek capitals of the default alphabet are one septet */
    expect("\xc3\xa9\xc3\xb1\xc3\xbc\xc3\x84\xc3\x96\xc3\x9c\xc3\xa0\xc3\xa8\xc3\xb9\xc3\xac"
           "\xc3\xb2\xc3\x87\xc3\x89\xc3\x9f\xc3\x86\xc3\xa6\xc3\x85\xc3\xa5\xc3\x98\xc3\xb8",
           20, 1);
    expect("\xc2\xa3\xc2\xa5\xc2\xa4\xc2\xa7\xc2\xa1\xc2\xbf", 6, 1); /* £¥¤§¡¿ */
    expect("\xce\x94\xce\xa6\xce\x93\xce\x9b\xce\xa9\xce\xa0\xce\xa8\xce\xa3\xce\x98\xce\x9e", 10,
           1); /* ΔΦΓΛΩΠΨΣΘΞ */
    /* NUL is a character outside GSM-7 when counted in len */
    ck_assert_int_eq(gsm7_measure("a\0b", 3, &u, &g), 0);
    ck_assert_uint_eq(u, 3);
    ck_assert_int_eq(g, 0);
}
END_TEST

START_TEST(test_extension_set)
{
    expect("^{}\\[~]|", 16, 1);
    expect("\xe2\x82\xac", 2, 1); /* € */
    expect("\f", 2, 1);
    expect("Rp{1}", 7, 1);
}
END_TEST

START_TEST(test_ucs2)
{
    expect("`", 1, 0);
    expect("\t", 1, 0);
    expect("\xc3\xa7", 1, 0);                 /* ç: only Ç is in GSM-7 */
    expect("\xc3\xa1", 1, 0);                 /* á */
    expect("Siti \xe2\x9c\x93", 6, 0);        /* ✓ */
    expect("Siti \xf0\x9f\x98\x80", 7, 0);    /* a non-BMP emoji is two UTF-16 units */
    expect("\xe4\xb8\xad\xe6\x96\x87", 2, 0); /* 中文 */
    /* once outside GSM-7, extension characters count one UTF-16 unit, not two */
    expect("{}\xe2\x82\xac\xd0\x9c", 4, 0);
}
END_TEST

START_TEST(test_invalid_utf8)
{
    static const char *const bad[] = {
        "\x80",             /* lone continuation */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong */
        "\xe0\x80\xaf",     /* overlong '/' */
        "\xed\xa0\x80",     /* surrogate */
        "\xf4\x90\x80\x80", /* > U+10FFFF */
        "\xf8\x88\x80\x80\x80",
        "\xe2\x82", /* truncated € */
        "ok\xc3",   /* truncated at the end */
        "\xc3\x28", /* bad continuation */
        "\xff",
    };
    size_t i, u;
    int g;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(measure(bad[i], &u, &g) == -1, "accepted bad[%zu]", i);
    /* a length that cuts a character in two is invalid too */
    ck_assert_int_eq(gsm7_measure("\xc3\xa9", 1, &u, &g), -1);
    ck_assert_int_eq(gsm7_measure(NULL, 0, &u, &g), 0);
    ck_assert_uint_eq(u, 0);
}
END_TEST

START_TEST(test_utf8_next)
{
    const char *s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    size_t pos = 0, len = strlen(s);
    uint32_t cp;

    ck_assert_int_eq(gsm7_utf8_next(s, len, &pos, &cp), 0);
    ck_assert_uint_eq(cp, 'a');
    ck_assert_int_eq(gsm7_utf8_next(s, len, &pos, &cp), 0);
    ck_assert_uint_eq(cp, 0xE9);
    ck_assert_int_eq(gsm7_utf8_next(s, len, &pos, &cp), 0);
    ck_assert_uint_eq(cp, 0x20AC);
    ck_assert_int_eq(gsm7_utf8_next(s, len, &pos, &cp), 0);
    ck_assert_uint_eq(cp, 0x1F600);
    ck_assert_uint_eq(pos, len);
    ck_assert_int_eq(gsm7_utf8_next(s, len, &pos, &cp), -1);
    pos = 0;
    ck_assert_int_eq(gsm7_utf8_next("\xc3", 1, &pos, &cp), -1);
    ck_assert_uint_eq(pos, 0);
}
END_TEST

START_TEST(test_sms_segments)
{
    ck_assert_uint_eq(gsm7_sms_segments(0, 1), 1);
    ck_assert_uint_eq(gsm7_sms_segments(1, 1), 1);
    ck_assert_uint_eq(gsm7_sms_segments(160, 1), 1);
    ck_assert_uint_eq(gsm7_sms_segments(161, 1), 2);
    ck_assert_uint_eq(gsm7_sms_segments(306, 1), 2);
    ck_assert_uint_eq(gsm7_sms_segments(307, 1), 3);
    ck_assert_uint_eq(gsm7_sms_segments(459, 1), 3);
    ck_assert_uint_eq(gsm7_sms_segments(460, 1), 4);
    ck_assert_uint_eq(gsm7_sms_segments(0, 0), 1);
    ck_assert_uint_eq(gsm7_sms_segments(70, 0), 1);
    ck_assert_uint_eq(gsm7_sms_segments(71, 0), 2);
    ck_assert_uint_eq(gsm7_sms_segments(134, 0), 2);
    ck_assert_uint_eq(gsm7_sms_segments(135, 0), 3);
}
END_TEST

START_TEST(test_screen_limit)
{
    ck_assert_uint_eq(gsm7_screen_limit(1, 182), 182);
    ck_assert_uint_eq(gsm7_screen_limit(0, 182), 80);
    ck_assert_uint_eq(gsm7_screen_limit(1, 0), 182);
    ck_assert_uint_eq(gsm7_screen_limit(0, 0), 80);
    ck_assert_uint_eq(gsm7_screen_limit(1, 500), 182);
    ck_assert_uint_eq(gsm7_screen_limit(0, 500), 80);
    ck_assert_uint_eq(gsm7_screen_limit(1, 60), 60);
    ck_assert_uint_eq(gsm7_screen_limit(0, 60), 26);
    ck_assert_uint_eq(gsm7_screen_limit(0, 160), 70);
    ck_assert_uint_eq(gsm7_screen_limit(1, 1), 1);
    ck_assert_uint_eq(gsm7_screen_limit(0, 1), 0);
}
END_TEST

static Suite *
gsm7_suite(void)
{
    Suite *s = suite_create("gsm7");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_basic_set);
    tcase_add_test(tc, test_extension_set);
    tcase_add_test(tc, test_ucs2);
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_utf8_next);
    tcase_add_test(tc, test_sms_segments);
    tcase_add_test(tc, test_screen_limit);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(gsm7_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
