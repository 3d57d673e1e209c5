/*
 * What the review targets check of a filter the parsers accept (fuzz_review_filter: the queue
 * form and the API's query string; fuzz_review_json: the copy kept in the admin session): its
 * fields are in range, it survives the trip through JSON, and every statement built from it
 * fits, has one parameter per '?', and searches for exactly the text that was asked for.
 */
#ifndef KABAR_FUZZ_REVIEW_H
#define KABAR_FUZZ_REVIEW_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"
#include "review.h"

static void
fuzz_review_check_date(const char *s)
{
    size_t i;

    if (s[0] == '\0')
        return;
    FUZZ_CHECK(strlen(s) == 10 && s[4] == '-' && s[7] == '-');
    for (i = 0; i < 10; i++)
        FUZZ_CHECK(i == 4 || i == 7 || (s[i] >= '0' && s[i] <= '9'));
}

/* the name search: '%' + q with % _ \ escaped + '%' */
static void
fuzz_review_check_like(const char *like, const char *q)
{
    size_t n = strlen(like), i, k = 0;

    FUZZ_CHECK(parse_utf8_valid(like, n));
    FUZZ_CHECK(n >= 2 && like[0] == '%' && like[n - 1] == '%');
    for (i = 1; i + 1 < n; i++) {
        if (like[i] == '\\') {
            i++;
            FUZZ_CHECK(i + 1 < n && (like[i] == '%' || like[i] == '_' || like[i] == '\\'));
        } else {
            FUZZ_CHECK(like[i] != '%' && like[i] != '_');
        }
        FUZZ_CHECK(like[i] == q[k]);
        k++;
    }
    FUZZ_CHECK(q[k] == '\0');
}

static void
fuzz_review_check_sql(const struct sqlb *b, const struct review_filter *f)
{
    char msisdn[PARSE_MSISDN_SIZE];
    size_t i, marks = 0;

    FUZZ_CHECK(!b->overflow && b->len == strlen(b->sql) && b->np <= SQLB_MAXP);
    for (i = 0; i < b->len; i++) {
        /* nothing of the filter is ever written into the text */
        FUZZ_CHECK((unsigned char)b->sql[i] < 0x80);
        marks += b->sql[i] == '?';
    }
    FUZZ_CHECK(marks == b->np);
    for (i = 0; i < b->np; i++)
        if (b->p[i].type == DBP_STR)
            FUZZ_CHECK(b->p[i].s != NULL && strlen(b->p[i].s) == b->p[i].len);
    if (f->q[0] == '\0')
        return;
    if (parse_msisdn(f->q, strlen(f->q), msisdn) == 0)
        FUZZ_CHECK(strcmp(b->like, msisdn) == 0);
    else
        fuzz_review_check_like(b->like, f->q);
}

static void
fuzz_review_check_builds(const struct review_filter *f)
{
    static const char *const scopes[] = {"", "52", "5201234567890"};
    struct sqlb *b = malloc(sizeof *b);
    size_t s;
    int t;

    FUZZ_CHECK(b != NULL);
    for (s = 0; s < sizeof scopes / sizeof scopes[0]; s++) {
        FUZZ_CHECK(review_build(b, f, scopes[s], REVIEW_PAGE, 0, 0, 50, 5000000) == 0);
        fuzz_review_check_sql(b, f);
        FUZZ_CHECK(review_build(b, f, scopes[s], REVIEW_COUNT, 0, 0, 0, 0) == 0);
        fuzz_review_check_sql(b, f);
        for (t = REVIEW_BUSINESS; t <= REVIEW_HELP; t++) {
            FUZZ_CHECK(review_build(b, f, scopes[s], REVIEW_KEYSET, t, UINT64_MAX, 1000, 0) == 0);
            fuzz_review_check_sql(b, f);
        }
    }
    free(b);
}

static void
fuzz_review_check(const struct review_filter *f)
{
    struct review_filter g;
    char *json;

    fuzz_check_str(f->region, sizeof f->region);
    FUZZ_CHECK(review_region_valid(f->region));
    FUZZ_CHECK(f->assistant <= UINT32_MAX);
    FUZZ_CHECK(f->type >= REVIEW_ANY && f->type <= REVIEW_HELP);
    FUZZ_CHECK(f->bstatus <= 4);
    FUZZ_CHECK(f->bstatus == 0 || f->type == REVIEW_ANY || f->type == REVIEW_BUSINESS);
    fuzz_check_str(f->from, sizeof f->from);
    fuzz_check_str(f->to, sizeof f->to);
    fuzz_review_check_date(f->from);
    fuzz_review_check_date(f->to);
    fuzz_check_str(f->q, sizeof f->q);
    FUZZ_CHECK(f->review >= REVIEW_UNREVIEWED && f->review <= REVIEW_ALL);
    FUZZ_CHECK(f->track >= REVIEW_TRACK_ANY && f->track <= REVIEW_TRACK_WELFARE);

    json = review_filter_json(f);
    FUZZ_CHECK(json != NULL);
    FUZZ_CHECK(review_filter_from_json(json, &g) == 0);
    free(json);
    FUZZ_CHECK(strcmp(f->region, g.region) == 0 && f->assistant == g.assistant &&
               f->type == g.type && f->bstatus == g.bstatus && strcmp(f->from, g.from) == 0 &&
               strcmp(f->to, g.to) == 0 && strcmp(f->q, g.q) == 0 && f->review == g.review &&
               f->track == g.track);

    fuzz_review_check_builds(f);
}

#endif
