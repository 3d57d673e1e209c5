/*
 * The outbox's rate limits, pure: a token bucket per provider (its rate a second, at most one
 * second's worth saved up, at most its concurrency in flight) and a sliding minute per
 * recipient. Time is passed in, the caller owns every table, nothing is logged.
 */
#ifndef KABAR_RATELIMIT_H
#define KABAR_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define RATELIMIT_NAME 33         /* a provider's name, with its NUL */
#define RATELIMIT_RECIPIENTS 4096 /* per-recipient windows kept; the stalest are reused */
#define RATELIMIT_WINDOW_MAX 64   /* sends remembered per recipient: the highest limit */

/* What the configuration asks of one provider. */
struct ratelimit_limit {
    const char *name;
    unsigned rate;        /* sends a second, and the most saved up for a burst */
    unsigned concurrency; /* sends in flight */
};

struct ratelimit_bucket {
    char name[RATELIMIT_NAME];
    unsigned rate, concurrency;
    double tokens;
    int64_t last_ns; /* when tokens was last brought up to date */
    unsigned inflight;
};

struct ratelimit_buckets {
    struct ratelimit_bucket *v;
    size_t n;
};

/* One bucket per limit (the names are unique): a name already in the set keeps its tokens and
 * its sends in flight under the new limits, a new one starts full. now_ns is a monotonic clock,
 * the same for every call. -1 when out of memory, and the set is as it was. */
int ratelimit_reload(struct ratelimit_buckets *set, const struct ratelimit_limit *l, size_t n,
                     int64_t now_ns);
struct ratelimit_bucket *ratelimit_find(struct ratelimit_buckets *set, const char *name);
void ratelimit_free(struct ratelimit_buckets *set);

/* One send may start now: 1 (a token taken, one more in flight), or 0 while the bucket is
 * empty or the concurrency is used up. A clock that goes back refills nothing. */
int ratelimit_take(struct ratelimit_bucket *b, int64_t now_ns);
/* A send taken that did not start after all: its token and its place come back. */
void ratelimit_untake(struct ratelimit_bucket *b);
/* A send ended, however it ended. */
void ratelimit_done(struct ratelimit_bucket *b);

struct ratelimit_window {
    char recipient[17]; /* E.164 */
    time_t sent[RATELIMIT_WINDOW_MAX];
    unsigned n, head;
};

/* An open table: a number takes the stalest of a few slots from its hash. Zeroed is empty. */
struct ratelimit_recipients {
    struct ratelimit_window slot[RATELIMIT_RECIPIENTS];
};

/* One more send to this recipient fits in its last minute (per_minute, at most
 * RATELIMIT_WINDOW_MAX): 1, and it is counted; or 0 and *wait_s, the seconds until one would.
 * now_s is in seconds; a send stamped later than now_s (the clock went back) counts as now. */
int ratelimit_recipient(struct ratelimit_recipients *t, const char *recipient, unsigned per_minute,
                        time_t now_s, unsigned *wait_s);

#endif
