#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"

static struct fault_spec f[FAULT_MAX];
static char err[128];

static int
parse(const char *s)
{
    err[0] = '\0';
    return fault_parse(s, strlen(s), f, FAULT_MAX, err, sizeof err);
}

START_TEST(empty_arms_nothing)
{
    ck_assert_int_eq(parse(""), 0);
}
END_TEST

START_TEST(one_link_point)
{
    ck_assert_int_eq(parse("link:outbox_claim_readback=1"), 1);
    ck_assert_int_eq(f[0].kind, FAULT_LINK);
    ck_assert_str_eq(f[0].name, "outbox_claim_readback");
    ck_assert_uint_eq(f[0].times, 1);
    ck_assert_uint_eq(f[0].skip, 0);
}
END_TEST

START_TEST(several_entries_with_a_skip)
{
    ck_assert_int_eq(parse("link:outbox_claim_readback=1,commit_lost:outbox_claim=2@3"), 2);
    ck_assert_int_eq(f[1].kind, FAULT_COMMIT_LOST);
    ck_assert_str_eq(f[1].name, "outbox_claim");
    ck_assert_uint_eq(f[1].times, 2);
    ck_assert_uint_eq(f[1].skip, 3);
    ck_assert_str_eq(fault_kind_name(f[1].kind), "commit_lost");
}
END_TEST

START_TEST(a_slow_point)
{
    ck_assert_int_eq(parse("slow:admin_dashboard=1"), 1);
    ck_assert_int_eq(f[0].kind, FAULT_SLOW);
    ck_assert_str_eq(f[0].name, "admin_dashboard");
    ck_assert_str_eq(fault_kind_name(f[0].kind), "slow");
}
END_TEST

START_TEST(one_name_may_have_both_kinds)
{
    ck_assert_int_eq(parse("link:x=1,commit_lost:x=1"), 2);
}
END_TEST

START_TEST(limits_are_inclusive)
{
    char a[FAULT_NAME_SIZE + 1], spec[FAULT_NAME_SIZE + 16];

    ck_assert_int_eq(parse("link:a=1000000@1000000"), 1);
    ck_assert_uint_eq(f[0].times, FAULT_TIMES_MAX);
    ck_assert_uint_eq(f[0].skip, FAULT_TIMES_MAX);
    memset(a, 'a', sizeof a - 1);
    a[FAULT_NAME_SIZE - 1] = '\0';
    snprintf(spec, sizeof spec, "link:%s=1", a);
    ck_assert_int_eq(parse(spec), 1);
    ck_assert_uint_eq(strlen(f[0].name), FAULT_NAME_SIZE - 1);
    a[FAULT_NAME_SIZE - 1] = 'a';
    a[FAULT_NAME_SIZE] = '\0';
    snprintf(spec, sizeof spec, "link:%s=1", a);
    ck_assert_int_eq(parse(spec), -1);
    ck_assert_str_eq(err, "entry 1: name of 1-47 characters expected");
}
END_TEST

START_TEST(malformed_is_refused_with_a_reason)
{
    static const char *const bad[] = {
        "link",
        "link:",
        "link:a",
        "link:a=",
        "link:=1",
        "Link:a=1",
        "drop:a=1",
        "commit_lost_:a=1",
        "link:A=1",
        "link:a-b=1",
        "link:a b=1",
        "link:a:b=1",
        "link:a=0",
        "link:a=-1",
        "link:a=+1",
        "link:a= 1",
        "link:a=1 ",
        "link:a=1x",
        "link:a=0x10",
        "link:a=1000001",
        "link:a=18446744073709551617",
        "link:a=1@",
        "link:a=@1",
        "link:a=1@-1",
        "link:a=1@1000001",
        "link:a=1@1@1",
        "link:a=1,",
        ",link:a=1",
        "link:a=1,,link:b=1",
        "link:a=1;link:b=1",
        " link:a=1",
        "link:a=1,link:a=2",
        "=1:link",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(parse(bad[i]) == -1, "accepted \"%s\"", bad[i]);
        ck_assert_msg(strncmp(err, "entry ", 6) == 0, "\"%s\": %s", bad[i], err);
    }
}
END_TEST

START_TEST(a_nul_inside_is_refused)
{
    ck_assert_int_eq(fault_parse("link:a=1\0", 9, f, FAULT_MAX, err, sizeof err), -1);
    ck_assert_int_eq(fault_parse("link:a\0=1", 9, f, FAULT_MAX, err, sizeof err), -1);
}
END_TEST

START_TEST(more_entries_than_room_is_refused)
{
    ck_assert_int_eq(fault_parse("link:a=1,link:b=1,link:c=1", 26, f, 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "more than 2 entries");
    ck_assert_int_eq(fault_parse("link:a=1,link:b=1", 17, f, 2, err, sizeof err), 2);
}
END_TEST

START_TEST(a_null_or_short_error_buffer_is_fine)
{
    ck_assert_int_eq(fault_parse("x", 1, f, FAULT_MAX, NULL, 0), -1);
    ck_assert_int_eq(fault_parse("x", 1, f, FAULT_MAX, err, 4), -1);
    ck_assert_uint_eq(strlen(err), 3);
}
END_TEST

static Suite *
fault_suite(void)
{
    Suite *s = suite_create("fault");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, empty_arms_nothing);
    tcase_add_test(tc, one_link_point);
    tcase_add_test(tc, several_entries_with_a_skip);
    tcase_add_test(tc, a_slow_point);
    tcase_add_test(tc, one_name_may_have_both_kinds);
    tcase_add_test(tc, limits_are_inclusive);
    tcase_add_test(tc, malformed_is_refused_with_a_reason);
    tcase_add_test(tc, a_nul_inside_is_refused);
    tcase_add_test(tc, more_entries_than_room_is_refused);
    tcase_add_test(tc, a_null_or_short_error_buffer_is_fine);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fault_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
