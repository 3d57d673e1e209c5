#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define MS 1000000LL /* nanoseconds */
#define S (1000 * MS)
#define T0 (1000 * S) /* a monotonic clock is far from zero */

static struct ratelimit_buckets set;
static struct ratelimit_recipients *rcpt;

static void
setup(void)
{
    memset(&set, 0, sizeof set);
    rcpt = calloc(1, sizeof *rcpt);
    ck_assert_ptr_nonnull(rcpt);
}

static void
teardown(void)
{
    ratelimit_free(&set);
    free(rcpt);
    rcpt = NULL;
}

static struct ratelimit_bucket *
one(const char *name, unsigned rate, unsigned concurrency, int64_t now)
{
    struct ratelimit_limit l = {name, rate, concurrency};

    ck_assert_int_eq(ratelimit_reload(&set, &l, 1, now), 0);
    return ratelimit_find(&set, name);
}

/* takes as many as the bucket gives at `now` */
static unsigned
drain(struct ratelimit_bucket *b, int64_t now)
{
    unsigned n = 0;

    while (ratelimit_take(b, now)) {
        ratelimit_done(b);
        n++;
    }
    return n;
}

START_TEST(bucket_starts_full_and_bursts_one_second)
{
    struct ratelimit_bucket *b = one("at", 10, 100, T0);

    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(drain(b, T0), 10);
    /* a long quiet saves up no more than one second's worth */
    ck_assert_uint_eq(drain(b, T0 + 3600 * S), 10);
}
END_TEST

START_TEST(bucket_refills_at_its_rate)
{
    struct ratelimit_bucket *b = one("at", 10, 100, T0);

    ck_assert_uint_eq(drain(b, T0), 10);
    ck_assert_int_eq(ratelimit_take(b, T0 + 50 * MS), 0);  /* half a token */
    ck_assert_int_eq(ratelimit_take(b, T0 + 110 * MS), 1); /* 1.1 */
    ratelimit_done(b);
    ck_assert_int_eq(ratelimit_take(b, T0 + 150 * MS), 0); /* 0.5 */
    ck_assert_uint_eq(drain(b, T0 + 520 * MS), 4);         /* 4.2 */
    ck_assert_uint_eq(drain(b, T0 + 1520 * MS), 10);
}
END_TEST

START_TEST(bucket_holds_at_its_concurrency)
{
    struct ratelimit_bucket *b = one("at", 100, 2, T0);

    ck_assert_int_eq(ratelimit_take(b, T0), 1);
    ck_assert_int_eq(ratelimit_take(b, T0), 1);
    ck_assert_int_eq(ratelimit_take(b, T0), 0);
    ck_assert_uint_eq(b->inflight, 2);
    ratelimit_done(b);
    ck_assert_int_eq(ratelimit_take(b, T0), 1);
    ratelimit_done(b);
    ratelimit_done(b);
    ratelimit_done(b); /* one too many changes nothing */
    ck_assert_uint_eq(b->inflight, 0);
}
END_TEST

START_TEST(bucket_untake_gives_back_token_and_place)
{
    struct ratelimit_bucket *b = one("at", 1, 1, T0);

    ck_assert_int_eq(ratelimit_take(b, T0), 1);
    ck_assert_int_eq(ratelimit_take(b, T0), 0);
    ratelimit_untake(b);
    ck_assert_uint_eq(b->inflight, 0);
    ck_assert_int_eq(ratelimit_take(b, T0), 1);
}
END_TEST

START_TEST(bucket_clock_going_back_refills_nothing)
{
    struct ratelimit_bucket *b = one("at", 10, 100, T0);

    ck_assert_uint_eq(drain(b, T0 + 10 * S), 10);
    /* back five seconds: no tokens, and none taken away either */
    ck_assert_int_eq(ratelimit_take(b, T0 + 5 * S), 0);
    ck_assert(b->tokens >= 0.0);
    /* time runs on from where the clock now is */
    ck_assert_uint_eq(drain(b, T0 + 5 * S + 350 * MS), 3);
}
END_TEST

START_TEST(bucket_reload_keeps_state_under_new_limits)
{
    struct ratelimit_limit two[] = {{"at", 100, 8}, {"kannel", 5, 1}};
    struct ratelimit_limit after[] = {{"kannel", 5, 1}, {"at", 4, 1}, {"new", 3, 2}};
    struct ratelimit_bucket *b;

    ck_assert_int_eq(ratelimit_reload(&set, two, 2, T0), 0);
    b = ratelimit_find(&set, "at");
    ck_assert_int_eq(ratelimit_take(b, T0), 1);
    ck_assert_int_eq(ratelimit_take(b, T0), 1); /* two in flight, 98 tokens left */
    ck_assert_int_eq(ratelimit_take(ratelimit_find(&set, "kannel"), T0), 1);

    ck_assert_int_eq(ratelimit_reload(&set, after, 3, T0 + 10 * MS), 0);
    ck_assert_uint_eq(set.n, 3);
    ck_assert_ptr_null(ratelimit_find(&set, "nobody"));
    b = ratelimit_find(&set, "at");
    ck_assert_uint_eq(b->inflight, 2);
    ck_assert_uint_eq(b->rate, 4);
    /* two in flight, concurrency now 1: held until both end */
    ck_assert_int_eq(ratelimit_take(b, T0 + 20 * MS), 0);
    ratelimit_done(b);
    ck_assert_int_eq(ratelimit_take(b, T0 + 20 * MS), 0);
    ratelimit_done(b);
    /* the saved-up tokens shrink to the new rate: four, one at a time */
    ck_assert_uint_eq(drain(b, T0 + 20 * MS), 4);
    ck_assert_uint_eq(ratelimit_find(&set, "kannel")->inflight, 1);
    ck_assert_uint_eq(drain(ratelimit_find(&set, "new"), T0 + 20 * MS), 3);

    /* a provider dropped from the configuration is gone */
    ck_assert_int_eq(ratelimit_reload(&set, after, 1, T0 + 30 * MS), 0);
    ck_assert_ptr_null(ratelimit_find(&set, "at"));
    ck_assert_ptr_nonnull(ratelimit_find(&set, "kannel"));
}
END_TEST

START_TEST(recipient_per_minute_window_slides)
{
    unsigned w = 0, i;

    for (i = 0; i < 5; i++)
        ck_assert_int_eq(ratelimit_recipient(rcpt, "+6281234567890", 5, 1000 + 10 * i, &w), 1);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+6281234567890", 5, 1045, &w), 0);
    /* the first went out at 1000: a place frees at 1060, and the wait rounds up past it */
    ck_assert_uint_eq(w, 60 - 45 + 1);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+6281234567890", 5, 1059, &w), 0);
    ck_assert_uint_eq(w, 2);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+6281234567890", 5, 1060, &w), 1);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+6281234567890", 5, 1060, &w), 0);
    ck_assert_uint_eq(w, 60 - 50 + 1); /* now the one from 1010 is the oldest */
    /* another number has a window of its own */
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+6281200000001", 5, 1060, &w), 1);
    /* a quiet minute empties it */
    for (i = 0; i < 5; i++)
        ck_assert_int_eq(ratelimit_recipient(rcpt, "+6281234567890", 5, 1200, &w), 1);
}
END_TEST

START_TEST(recipient_limit_changes_on_reload)
{
    unsigned w = 0, i;

    for (i = 0; i < 3; i++)
        ck_assert_int_eq(ratelimit_recipient(rcpt, "+628111", 5, 500, &w), 1);
    /* lowered to 2: the three already sent hold the number */
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628111", 2, 510, &w), 0);
    ck_assert_uint_eq(w, 51);
    /* raised to 4: one more fits */
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628111", 4, 510, &w), 1);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628111", 4, 510, &w), 0);
    /* the configuration allows 1000 a minute; a window remembers 64 */
    for (i = 0; i < RATELIMIT_WINDOW_MAX; i++)
        ck_assert_int_eq(ratelimit_recipient(rcpt, "+628222", 1000, 700, &w), 1);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628222", 1000, 700, &w), 0);
    ck_assert_uint_eq(w, 61);
}
END_TEST

START_TEST(recipient_clock_going_back_holds_a_minute_at_most)
{
    unsigned w = 0;

    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628333", 1, 5000, &w), 1);
    /* an hour back: the send counts as now, not as an hour ahead */
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628333", 1, 1400, &w), 0);
    ck_assert_uint_eq(w, 61);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628333", 1, 1459, &w), 0);
    ck_assert_uint_eq(w, 2);
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628333", 1, 1460, &w), 1);
}
END_TEST

START_TEST(recipient_table_reuses_the_stalest)
{
    char num[17];
    unsigned w = 0, i;

    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628444", 1, 100, &w), 1);
    /* twice as many numbers as the table holds, all more recent */
    for (i = 0; i < 2 * RATELIMIT_RECIPIENTS; i++) {
        snprintf(num, sizeof num, "+62819%07u", i);
        ck_assert_int_eq(ratelimit_recipient(rcpt, num, 1, 110 + i / 1000, &w), 1);
    }
    /* the last ones are remembered */
    ck_assert_int_eq(ratelimit_recipient(rcpt, num, 1, 120, &w), 0);
    /* the first, quiet the longest, was forgotten: a forgotten number is sent to */
    ck_assert_int_eq(ratelimit_recipient(rcpt, "+628444", 1, 120, &w), 1);
}
END_TEST

static Suite *
ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bucket_starts_full_and_bursts_one_second);
    tcase_add_test(tc, bucket_refills_at_its_rate);
    tcase_add_test(tc, bucket_holds_at_its_concurrency);
    tcase_add_test(tc, bucket_untake_gives_back_token_and_place);
    tcase_add_test(tc, bucket_clock_going_back_refills_nothing);
    tcase_add_test(tc, bucket_reload_keeps_state_under_new_limits);
    tcase_add_test(tc, recipient_per_minute_window_slides);
    tcase_add_test(tc, recipient_limit_changes_on_reload);
    tcase_add_test(tc, recipient_clock_going_back_holds_a_minute_at_most);
    tcase_add_test(tc, recipient_table_reuses_the_stalest);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ratelimit_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
