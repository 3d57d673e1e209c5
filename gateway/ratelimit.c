#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RATELIMIT_PROBE 16 /* slots a number may take, from its hash on */

struct ratelimit_bucket *
ratelimit_find(struct ratelimit_buckets *set, const char *name)
{
    size_t i;

    for (i = 0; i < set->n; i++)
        if (strcmp(set->v[i].name, name) == 0)
            return &set->v[i];
    return NULL;
}

int
ratelimit_reload(struct ratelimit_buckets *set, const struct ratelimit_limit *l, size_t n,
                 int64_t now_ns)
{
    struct ratelimit_bucket *nb = calloc(n + 1, sizeof *nb);
    size_t i;

    if (nb == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        const struct ratelimit_bucket *old = ratelimit_find(set, l[i].name);

        snprintf(nb[i].name, sizeof nb[i].name, "%s", l[i].name);
        nb[i].rate = l[i].rate;
        nb[i].concurrency = l[i].concurrency;
        if (old != NULL) {
            nb[i].tokens = old->tokens;
            nb[i].inflight = old->inflight;
            nb[i].last_ns = old->last_ns;
        } else {
            nb[i].tokens = l[i].rate;
            nb[i].last_ns = now_ns;
        }
    }
    free(set->v);
    set->v = nb;
    set->n = n;
    return 0;
}

void
ratelimit_free(struct ratelimit_buckets *set)
{
    free(set->v);
    set->v = NULL;
    set->n = 0;
}

int
ratelimit_take(struct ratelimit_bucket *b, int64_t now_ns)
{
    if (now_ns > b->last_ns)
        b->tokens += (double)(now_ns - b->last_ns) / 1e9 * b->rate;
    b->last_ns = now_ns;
    if (b->tokens > b->rate)
        b->tokens = b->rate; /* at most one second's worth in a burst */
    if (b->tokens < 1.0 || b->inflight >= b->concurrency)
        return 0;
    b->tokens -= 1.0;
    b->inflight++;
    return 1;
}

void
ratelimit_untake(struct ratelimit_bucket *b)
{
    if (b->inflight > 0)
        b->inflight--;
    b->tokens += 1.0;
}

void
ratelimit_done(struct ratelimit_bucket *b)
{
    if (b->inflight > 0)
        b->inflight--;
}

static uint32_t
ratelimit_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    while (*s != '\0')
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

static time_t
ratelimit_window_last(const struct ratelimit_window *w)
{
    return w->n > 0 ? w->sent[(w->head + w->n - 1) % RATELIMIT_WINDOW_MAX] : 0;
}

/* The number's window, or the probed slot quiet longest, emptied for it. */
static struct ratelimit_window *
ratelimit_window(struct ratelimit_recipients *t, const char *recipient)
{
    uint32_t h = ratelimit_hash(recipient);
    struct ratelimit_window *stalest = NULL;
    unsigned k;

    for (k = 0; k < RATELIMIT_PROBE; k++) {
        struct ratelimit_window *c = &t->slot[(h + k) % RATELIMIT_RECIPIENTS];

        if (strcmp(c->recipient, recipient) == 0)
            return c;
        if (stalest == NULL || c->recipient[0] == '\0' ||
            (stalest->recipient[0] != '\0' &&
             ratelimit_window_last(c) < ratelimit_window_last(stalest)))
            stalest = c;
    }
    memset(stalest, 0, sizeof *stalest);
    snprintf(stalest->recipient, sizeof stalest->recipient, "%s", recipient);
    return stalest;
}

int
ratelimit_recipient(struct ratelimit_recipients *t, const char *recipient, unsigned per_minute,
                    time_t now_s, unsigned *wait_s)
{
    struct ratelimit_window *w = ratelimit_window(t, recipient);
    unsigned i;

    /* a clock gone back would otherwise hold the number for as long as it went back */
    for (i = 0; i < w->n; i++)
        if (w->sent[(w->head + i) % RATELIMIT_WINDOW_MAX] > now_s)
            w->sent[(w->head + i) % RATELIMIT_WINDOW_MAX] = now_s;
    /* forget what is older than a minute */
    for (i = 0; i < w->n; i++)
        if (now_s - w->sent[(w->head + i) % RATELIMIT_WINDOW_MAX] < 60)
            break;
    w->head = (w->head + i) % RATELIMIT_WINDOW_MAX;
    w->n -= i;
    if (per_minute > RATELIMIT_WINDOW_MAX)
        per_minute = RATELIMIT_WINDOW_MAX;
    else if (per_minute == 0)
        per_minute = 1; /* never reached from the configuration, which asks for 1 or more */
    if (w->n >= per_minute) {
        *wait_s = (unsigned)(60 - (now_s - w->sent[w->head])) + 1;
        return 0;
    }
    w->sent[(w->head + w->n) % RATELIMIT_WINDOW_MAX] = now_s;
    w->n++;
    return 1;
}
