#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errmsg.h>
#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "db.h"
#include "lease.h"
#include "gsm7.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "outbox_int.h"
#include "parse.h"
#include "ratelimit.h"

/* The claims whose rows a heartbeat keeps fresh, copied for the worker that runs it. */
struct outbox_held {
    char (*tokens)[25];
    size_t n;
    unsigned claim_timeout;
};

/* A claim whose rows this process holds, and how many of them. */
struct outbox_hold {
    char token[25];
    size_t n;
};

struct outbox_claim {
    char token[25];
    struct outbox_held held;
    unsigned batch, poll_ms;
    struct outbox_send *list, **tail;
    size_t n;
    int unread;                /* a claimed row could not be taken into the list */
    unsigned runs;             /* of its work: a re-run may find rows its first run committed */
    struct outbox_claim *next; /* waiting to be released */
};

static struct {
    struct event_base *base;
    struct config *cfg;
    struct event *poll, *kick, *pump_timer;
    int claiming, stopping, again;
    struct outbox_send *waiting, **waiting_tail;
    size_t nwaiting;
    struct ratelimit_buckets buckets;       /* one per provider */
    struct ratelimit_recipients recipients; /* a sliding minute per number */
    struct db_batcher results;
    char instance[13]; /* every claim token of this process starts with it */
    unsigned long long claims;
    struct outbox_send *unrecorded;  /* outcomes the database did not take yet: kept, retried */
    struct outbox_claim *unreleased; /* failed claims whose rows may be ours: kept, retried */
    /* the claims whose rows are waiting, in flight or not recorded yet: the heartbeats name
     * them and nothing else, so a row this process lost track of goes stale at claim_timeout
     * and is sent again however busy the process stays */
    struct outbox_hold *holds;
    size_t nholds, capholds;
    time_t last_beat;
} ob;

/* ---- queueing, in the caller's transaction */

int
outbox_queue(struct db_conn *c, const struct outbox_msg *m, uint64_t *id)
{
    size_t units, segments;
    int gsm7;

    if (gsm7_measure(m->body, strlen(m->body), &units, &gsm7) == -1)
        return OUTBOX_TOO_LONG;
    segments = gsm7_sms_segments(units, gsm7);
    if (segments > m->max_segments)
        return OUTBOX_TOO_LONG;
    {
        struct db_param p[] = {DB_STR(m->key),      DB_STR(m->recipient),
                               DB_STR(m->body),     DB_STR(m->purpose),
                               DB_I64(m->priority), DB_STR(m->provider),
                               DB_U64(segments),    DB_STR(gsm7 ? "gsm7" : "ucs2")};

        return db_exec(c,
                       "INSERT INTO outbox (idempotency_key, recipient, body, purpose, priority,"
                       " provider, state, next_attempt_at, segments, encoding)"
                       " VALUES (?, ?, ?, ?, ?, ?, 'queued', NOW(3), ?, ?)"
                       " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                       p, 8, NULL, id);
    }
}

/* ---- delivery reports: final states never move backwards */

static int
outbox_dlr_by_provider_id(struct db_conn *c, const char *provider, const char *msg_id,
                          enum outbox_dlr what, const char *reason, uint64_t *affected)
{
    struct db_param p[] = {DB_STR(what == OUTBOX_DLR_DELIVERED ? "delivered" : "failed"),
                           reason != NULL ? DB_STR(reason) : DB_NULL(), DB_STR(provider),
                           DB_STR(msg_id)};

    *affected = 0;
    if (what == OUTBOX_DLR_INTERIM)
        return 0;
    return db_exec(c,
                   "UPDATE outbox SET state = ?, last_error = COALESCE(?, last_error)"
                   " WHERE provider = ? AND provider_msg_id = ? AND state IN ('sending', 'sent')",
                   p, 4, affected, NULL);
}

static int
outbox_dlr_by_id(struct db_conn *c, const char *provider, uint64_t id, enum outbox_dlr what,
                 const char *reason, uint64_t *affected)
{
    struct db_param p[] = {DB_STR(what == OUTBOX_DLR_DELIVERED ? "delivered" : "failed"),
                           reason != NULL ? DB_STR(reason) : DB_NULL(), DB_U64(id),
                           DB_STR(provider)};

    *affected = 0;
    if (what == OUTBOX_DLR_INTERIM)
        return 0;
    return db_exec(c,
                   "UPDATE outbox SET state = ?, last_error = COALESCE(?, last_error)"
                   " WHERE id = ? AND provider = ? AND state IN ('sending', 'sent')",
                   p, 4, affected, NULL);
}

struct outbox_report_job {
    struct http_req *r; /* only handed back to ack */
    outbox_ack_fn ack;
    char channel[33];
    char provider[33]; /* a channel's reports move only its own provider's rows */
    char msg_id[65];
    int by_msg_id;
    uint64_t id;
    enum outbox_dlr what;
    char reason[65];
    uint64_t affected;
};

static int
outbox_report_work(struct db_conn *c, void *arg)
{
    struct outbox_report_job *j = arg;
    const char *reason = j->reason[0] != '\0' ? j->reason : NULL;

    if (j->by_msg_id)
        return outbox_dlr_by_provider_id(c, j->provider, j->msg_id, j->what, reason, &j->affected);
    return outbox_dlr_by_id(c, j->provider, j->id, j->what, reason, &j->affected);
}

static void
outbox_report_done(int err, void *arg)
{
    struct outbox_report_job *j = arg;

    if (err == 0 && j->affected == 0 && j->what != OUTBOX_DLR_INTERIM)
        log_info("dlr_unmatched", "channel=%s provider=%s id=%s%llu what=%d", j->channel,
                 j->provider, j->by_msg_id ? j->msg_id : "",
                 j->by_msg_id ? 0ULL : (unsigned long long)j->id, (int)j->what);
    j->ack(j->r, err == 0);
    free(j);
}

void
outbox_report(struct http_req *r, const struct outbox_report *rep, outbox_ack_fn ack)
{
    struct outbox_report_job *j = calloc(1, sizeof *j);

    if (j == NULL) {
        ack(r, 0);
        return;
    }
    j->r = r;
    j->ack = ack;
    snprintf(j->channel, sizeof j->channel, "%s", rep->channel);
    snprintf(j->provider, sizeof j->provider, "%s", rep->provider);
    j->by_msg_id = rep->msg_id != NULL;
    snprintf(j->msg_id, sizeof j->msg_id, "%s", rep->msg_id != NULL ? rep->msg_id : "");
    j->id = rep->id;
    j->what = rep->what;
    snprintf(j->reason, sizeof j->reason, "%s", rep->reason != NULL ? rep->reason : "");
    if (db_submit(outbox_report_work, outbox_report_done, j, 0) == -1) {
        free(j);
        ack(r, 0);
    }
}

/* ---- what this process holds */

static struct outbox_hold *
outbox_hold_find(const char *token)
{
    size_t i;

    for (i = 0; i < ob.nholds; i++)
        if (strcmp(ob.holds[i].token, token) == 0)
            return &ob.holds[i];
    return NULL;
}

/* Room for one more claim's hold, made before the claim is submitted (one claim runs at a
 * time), so that recording it when it comes back cannot fail: 0, or -1 (claim later). */
static int
outbox_hold_reserve(void)
{
    struct outbox_hold *h;
    size_t ncap;

    if (ob.nholds < ob.capholds)
        return 0;
    ncap = ob.capholds ? ob.capholds * 2 : 16;
    if ((h = realloc(ob.holds, ncap * sizeof *h)) == NULL)
        return -1;
    ob.holds = h;
    ob.capholds = ncap;
    return 0;
}

/* n rows of the claim token are ours until their outcomes are recorded (room reserved) */
static void
outbox_hold_add(const char *token, size_t n)
{
    struct outbox_hold *h;

    if (n == 0 || ob.nholds == ob.capholds)
        return;
    h = &ob.holds[ob.nholds++];
    snprintf(h->token, sizeof h->token, "%s", token);
    h->n = n;
}

/* s is no longer ours (its outcome is recorded): freed */
static void
outbox_let_go(struct outbox_send *s)
{
    struct outbox_hold *h = outbox_hold_find(s->token);

    if (h != NULL && --h->n == 0)
        *h = ob.holds[--ob.nholds];
    outbox_send_free(s);
}

/* ---- recording outcomes, batched */

/* One transaction (DB_TXN). Each UPDATE wants the row still 'sending' under the claim's token,
 * so a re-run after a COMMIT whose answer was lost changes nothing: not even a row that went
 * back to the queue and was claimed again in between (a deferral is not counted twice). */
static int
outbox_results_work(struct db_conn *c, void **items, size_t n)
{
    size_t i;
    int err = 0;

    db_txn_name(c, "outbox_results");
    for (i = 0; i < n && err == 0; i++) {
        struct outbox_send *s = items[i];

        switch (s->outcome) {
        case OUTCOME_SENT: {
            struct db_param p[] = {DB_STR(s->msg_id), DB_U64(s->id), DB_STR(s->token)};

            err = db_exec(c,
                          "UPDATE outbox SET state = 'sent', provider_msg_id = ?,"
                          " last_error = NULL, claim_token = NULL"
                          " WHERE id = ? AND state = 'sending' AND claim_token = ?",
                          p, 3, NULL, NULL);
            break;
        }
        case OUTCOME_RETRY:
        case OUTCOME_DEFER: {
            struct db_param p[] = {DB_U64(s->delay_ms * 1000), DB_STR(s->error),
                                   DB_U64(s->outcome == OUTCOME_DEFER), DB_U64(s->id),
                                   DB_STR(s->token)};

            /* a deferral by the recipient limit is not an attempt */
            err = db_exec(c,
                          "UPDATE outbox SET state = 'queued', claim_token = NULL,"
                          " next_attempt_at = NOW(3) + INTERVAL ? MICROSECOND, last_error = ?,"
                          " attempts = attempts - ? WHERE id = ? AND state = 'sending'"
                          " AND claim_token = ?",
                          p, 5, NULL, NULL);
            break;
        }
        case OUTCOME_FAILED: {
            struct db_param p[] = {DB_STR(s->error), DB_U64(s->id), DB_STR(s->token)};

            err = db_exec(c,
                          "UPDATE outbox SET state = 'failed', last_error = ?, claim_token = NULL"
                          " WHERE id = ? AND state = 'sending' AND claim_token = ?",
                          p, 3, NULL, NULL);
            break;
        }
        }
    }
    return err;
}

static void
outbox_keep_unrecorded(struct outbox_send *s)
{
    /* the row stays 'sending' under our claim token, which the next claims keep fresh, so
     * nobody sends it again while the outcome waits here for the database */
    s->next = ob.unrecorded;
    ob.unrecorded = s;
}

static void
outbox_results_done(int err, void *arg)
{
    struct outbox_send *s = arg;

    if (err != 0) {
        log_warn("outbox_outcome_not_recorded", "id=%llu err=%d", (unsigned long long)s->id, err);
        if (!ob.stopping) {
            outbox_keep_unrecorded(s);
            return;
        }
    }
    outbox_let_go(s);
}

static void
outbox_retry_unrecorded(void)
{
    struct outbox_send *list = ob.unrecorded, *s;

    ob.unrecorded = NULL;
    while ((s = list) != NULL) {
        list = s->next;
        s->next = NULL;
        if (db_submit_batch(&ob.results, s) == -1)
            outbox_keep_unrecorded(s);
    }
}

void
outbox_finish(struct outbox_send *s)
{
    struct ratelimit_bucket *b = ratelimit_find(&ob.buckets, s->provider);
    char m[24], q[300];

    /* a deferral never took the bucket's place: the pump gave it back */
    if (b != NULL && s->outcome != OUTCOME_DEFER)
        ratelimit_done(b);
    /* both come from the provider's answer, copied to a fixed length: MariaDB refuses a text
     * that is not UTF-8, and the outcome could never be recorded */
    parse_utf8_clean(s->error);
    parse_utf8_clean(s->msg_id);
    switch (s->outcome) {
    case OUTCOME_SENT:
        metrics_add(METRIC_OUTBOX_SENT, 1);
        log_info("outbox_sent", "id=%llu provider=%s to=%s msgid=%s attempt=%u",
                 (unsigned long long)s->id, s->provider, log_msisdn(s->recipient, m, sizeof m),
                 s->msg_id, s->attempts);
        break;
    case OUTCOME_RETRY:
        metrics_add(METRIC_OUTBOX_RETRIES, 1);
        log_warn("outbox_retry", "id=%llu provider=%s attempt=%u in_ms=%llu error=%s",
                 (unsigned long long)s->id, s->provider, s->attempts, s->delay_ms,
                 log_quote(s->error, strlen(s->error), q, sizeof q));
        break;
    case OUTCOME_DEFER:
        metrics_add(METRIC_OUTBOX_DEFERRED, 1);
        break;
    case OUTCOME_FAILED:
        metrics_add(METRIC_OUTBOX_FAILED, 1);
        log_warn("outbox_failed", "id=%llu provider=%s to=%s attempt=%u error=%s",
                 (unsigned long long)s->id, s->provider, log_msisdn(s->recipient, m, sizeof m),
                 s->attempts, log_quote(s->error, strlen(s->error), q, sizeof q));
        break;
    }
    if (db_submit_batch(&ob.results, s) == -1)
        outbox_keep_unrecorded(s);
}

/* Exponential backoff with jitter, or failure once the message is too old to matter. */
void
outbox_retry(struct outbox_send *s, const char *detail)
{
    const struct config_outbox *o = &ob.cfg->outbox;
    unsigned long long delay = o->backoff_min;
    unsigned i;

    snprintf(s->error, sizeof s->error, "%s", detail);
    for (i = 1; i < s->attempts && delay < o->backoff_max; i++)
        delay *= 2;
    if (delay > o->backoff_max)
        delay = o->backoff_max;
    /* between 3/4 and 5/4 of the step, so a burst of failures does not come back as one;
     * in milliseconds, or the jitter of a short step rounds away */
    delay = delay * (750 + randombytes_uniform(501));
    if ((s->age_s * 1000 + delay) / 1000 > o->max_age) {
        s->outcome = OUTCOME_FAILED;
        snprintf(s->error, sizeof s->error, "gave up after %u attempts: ", s->attempts);
        strncat(s->error, detail, sizeof s->error - strlen(s->error) - 1);
        return;
    }
    s->outcome = OUTCOME_RETRY;
    s->delay_ms = delay;
}

static void
outbox_pump_later(unsigned ms)
{
    struct timeval tv = {ms / 1000, (long)(ms % 1000) * 1000};

    if (!evtimer_pending(ob.pump_timer, NULL))
        evtimer_add(ob.pump_timer, &tv);
}

static int64_t
outbox_now_ns(void)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

void
outbox_pump(void)
{
    struct outbox_send **pp = &ob.waiting, *s;
    int64_t now = outbox_now_ns();
    int held = 0;

    while ((s = *pp) != NULL) {
        const struct config_provider *p = config_provider_find(ob.cfg, s->provider);
        struct ratelimit_bucket *b = ratelimit_find(&ob.buckets, s->provider);
        unsigned wait_s;

        if (p == NULL || b == NULL) {
            *pp = s->next;
            ob.nwaiting--;
            s->outcome = OUTCOME_FAILED;
            snprintf(s->error, sizeof s->error, "no provider named '%s'", s->provider);
            outbox_finish(s);
            continue;
        }
        if (!ratelimit_take(b, now)) {
            held = 1;
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        ob.nwaiting--;
        if (!ratelimit_recipient(&ob.recipients, s->recipient,
                                 ob.cfg->outbox.per_recipient_per_minute,
                                 (time_t)(now / 1000000000), &wait_s)) {
            ratelimit_untake(b);
            s->outcome = OUTCOME_DEFER;
            s->delay_ms = 1000ULL * wait_s;
            snprintf(s->error, sizeof s->error, "held: %u a minute to one number",
                     ob.cfg->outbox.per_recipient_per_minute);
            outbox_finish(s);
            continue;
        }
        switch (outbox_send_start(s, p)) {
        case -1:
            outbox_retry(s, "could not build the request");
            outbox_finish(s);
            break;
        case 1:
            outbox_finish(s);
            break;
        }
    }
    if (ob.waiting == NULL)
        ob.waiting_tail = &ob.waiting;
    else
        for (ob.waiting_tail = &ob.waiting; *ob.waiting_tail != NULL;
             ob.waiting_tail = &(*ob.waiting_tail)->next)
            ;
    if (held)
        outbox_pump_later(20);
}

static void
outbox_pump_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    outbox_pump();
}

/* ---- claiming due rows */

static void
outbox_claim_empty(struct outbox_claim *cl)
{
    struct outbox_send *s;

    while ((s = cl->list) != NULL) {
        cl->list = s->next;
        outbox_send_free(s);
    }
    cl->tail = &cl->list;
    cl->n = 0;
    cl->unread = 0;
}

static int
outbox_row_claimed(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct outbox_claim *cl = arg;
    struct outbox_send *s;
    uint64_t x;

    /* a row left out would stay 'sending' under our token: the whole claim is rolled back */
    if (n < 6 || v[0] == NULL || v[1] == NULL || v[2] == NULL || v[3] == NULL ||
        (s = calloc(1, sizeof *s)) == NULL) {
        cl->unread = 1;
        return 1;
    }
    if (parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &s->id) == -1 ||
        (s->body = malloc(len[2] + 1)) == NULL) {
        free(s);
        cl->unread = 1;
        return 1;
    }
    memcpy(s->body, v[2], len[2] + 1);
    snprintf(s->token, sizeof s->token, "%s", cl->token);
    snprintf(s->recipient, sizeof s->recipient, "%s", v[1]);
    snprintf(s->provider, sizeof s->provider, "%s", v[3]);
    if (v[4] != NULL && parse_u64(v[4], strlen(v[4]), 0, UINT32_MAX, &x) == 0)
        s->attempts = (unsigned)x;
    if (v[5] != NULL && parse_u64(v[5], strlen(v[5]), 0, UINT64_MAX, &x) == 0)
        s->age_s = x;
    *cl->tail = s;
    cl->tail = &s->next;
    cl->n++;
    return 0;
}

/* ---- heartbeats */

/* A copy of the tokens to keep fresh, for a worker: the held claims, those that failed and wait
 * in ob.unreleased for a release that could not start (their rows may have committed), and own,
 * a claim's token, when not NULL. 0, or -1 without memory (the beat or claim waits a poll). */
static int
outbox_held_copy(struct outbox_held *h, const char *own)
{
    const struct outbox_claim *cl;
    size_t n = ob.nholds + (own != NULL), i;

    memset(h, 0, sizeof *h);
    h->claim_timeout = ob.cfg->outbox.claim_timeout;
    for (cl = ob.unreleased; cl != NULL; cl = cl->next)
        n++;
    if (n > 0 && (h->tokens = calloc(n, sizeof *h->tokens)) == NULL)
        return -1;
    for (i = 0; i < ob.nholds; i++)
        memcpy(h->tokens[h->n++], ob.holds[i].token, sizeof *h->tokens);
    for (cl = ob.unreleased; cl != NULL; cl = cl->next)
        memcpy(h->tokens[h->n++], cl->token, sizeof *h->tokens);
    if (own != NULL)
        snprintf(h->tokens[h->n++], sizeof *h->tokens, "%s", own);
    return 0;
}

/* Sixteen tokens a statement, the last one repeated to fill it: one text to prepare. */
#define OUTBOX_BEAT_TOKENS 16
#define OUTBOX_BEAT_IN "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"

/* What this process still holds is not stale, however long it waits: the rows of the claims
 * it holds are touched once they are half way to claim_timeout. Only those: a row it lost
 * track of (a claim's commit that reached a Galera node after its release had run there) goes
 * stale and is sent again, at least once, instead of being kept fresh for as long as the
 * process holds anything else. */
static int
outbox_heartbeat(struct db_conn *c, const struct outbox_held *h)
{
    struct db_param p[OUTBOX_BEAT_TOKENS + 1];
    size_t i, k;
    int err;

    for (i = 0; i < h->n; i += OUTBOX_BEAT_TOKENS) {
        for (k = 0; k < OUTBOX_BEAT_TOKENS; k++)
            p[k] = DB_STR(h->tokens[i + k < h->n ? i + k : h->n - 1]);
        p[k] = DB_U64(h->claim_timeout * 1000 / 2);
        if ((err = db_exec(c,
                           "UPDATE outbox SET updated_at = NOW(3) WHERE state = 'sending'"
                           " AND claim_token IN (" OUTBOX_BEAT_IN ")"
                           " AND updated_at < NOW(3) - INTERVAL ? * 1000 MICROSECOND",
                           p, OUTBOX_BEAT_TOKENS + 1, NULL, NULL)) != 0)
            return err;
    }
    return 0;
}

static int
outbox_beat_work(struct db_conn *c, void *arg)
{
    return outbox_heartbeat(c, arg);
}

static void
outbox_beat_done(int err, void *arg)
{
    struct outbox_held *h = arg;

    if (err != 0)
        log_warn("outbox_heartbeat_failed", "err=%d", err);
    free(h->tokens);
    free(h);
}

/* One transaction (DB_TXN): rows are stamped 'sending' with our token only if they are also
 * read back into the list. A re-run after a lost COMMIT keeps the token, so it reads back what
 * the first run committed together with what it claims itself. */
static int
outbox_claim_work(struct db_conn *c, void *arg)
{
    struct outbox_claim *cl = arg;
    struct db_param stale[] = {DB_U64(cl->held.claim_timeout)};
    struct db_param claim[] = {DB_STR(cl->token), DB_U64(cl->batch)};
    struct db_param read[] = {DB_STR(cl->token)};
    int err, held;

    db_txn_name(c, "outbox_claim");
    /* a re-run (after a lost connection) starts from nothing; db_run has waited until this
     * node applied what the cluster committed, the first run's COMMIT included */
    outbox_claim_empty(cl);
    cl->runs++;
    /* the claim's own token is in it: the rows a first run committed are kept fresh too */
    if ((err = outbox_heartbeat(c, &cl->held)) != 0)
        return err;
    /* one kabard of several claims (and sends at the providers' rates); the others keep only
     * their own rows fresh, above */
    if ((err = lease_take(c, LEASE_OUTBOX, lease_ttl_ms(cl->poll_ms), &held)) != 0)
        return err;
    if (held) {
        /* a crash left these half-sent: send again (at least once) */
        if ((err = db_exec(c,
                           "UPDATE outbox SET state = 'queued', claim_token = NULL"
                           " WHERE state = 'sending' AND updated_at < NOW(3) - INTERVAL ? SECOND",
                           stale, 1, NULL, NULL)) != 0)
            return err;
        if ((err = db_exec(c,
                           "UPDATE outbox SET state = 'sending', claim_token = ?,"
                           " attempts = attempts + 1, updated_at = NOW(3)"
                           " WHERE state = 'queued' AND next_attempt_at <= NOW(3)"
                           " ORDER BY priority, next_attempt_at LIMIT ?",
                           claim, 2, NULL, NULL)) != 0)
            return err;
    } else if (cl->runs == 1) {
        return 0;
    }
    /* without the lease, a re-run still takes what its first run stamped with our token */
    db_fault(c, "outbox_claim_readback");
    if ((err = db_query(c,
                        "SELECT id, recipient, body, provider, attempts,"
                        " TIMESTAMPDIFF(SECOND, created_at, NOW(3)) FROM outbox"
                        " WHERE claim_token = ? AND state = 'sending' ORDER BY priority, id",
                        read, 1, outbox_row_claimed, cl)) != 0)
        return err;
    return cl->unread ? CR_OUT_OF_MEMORY : 0;
}

static void
outbox_claim_free(struct outbox_claim *cl)
{
    free(cl->held.tokens);
    free(cl);
}

/* A claim that failed may still have committed (its COMMIT's answer lost, and every retry
 * failed): whatever carries its token goes back to the queue, not counted as an attempt. Until
 * that is done the heartbeats keep those rows ours, so no other process takes them either. */

static int
outbox_release_work(struct db_conn *c, void *arg)
{
    struct outbox_claim *cl = arg;
    struct db_param p[] = {DB_STR(cl->token)};

    return db_exec(c,
                   "UPDATE outbox SET state = 'queued', claim_token = NULL,"
                   " attempts = attempts - 1 WHERE claim_token = ? AND state = 'sending'",
                   p, 1, NULL, NULL);
}

static void
outbox_release_done(int err, void *arg)
{
    struct outbox_claim *cl = arg;

    if (err != 0) {
        log_warn("outbox_release_failed", "token=%s err=%d", cl->token, err);
        cl->next = ob.unreleased;
        ob.unreleased = cl;
        return;
    }
    log_info("outbox_released", "token=%s", cl->token);
    outbox_claim_free(cl);
}

static void
outbox_release_unreleased(void)
{
    struct outbox_claim *list = ob.unreleased, *cl;

    ob.unreleased = NULL;
    while ((cl = list) != NULL) {
        list = cl->next;
        cl->next = NULL;
        /* causal: what the failed claim committed may reach this node after the release else */
        if (db_submit(outbox_release_work, outbox_release_done, cl, DB_CAUSAL) == -1) {
            cl->next = ob.unreleased;
            ob.unreleased = cl;
        }
    }
}

static void
outbox_claim_done(int err, void *arg)
{
    struct outbox_claim *cl = arg;
    struct outbox_send *s;
    size_t held = 0;

    ob.claiming = 0;
    /* the heartbeat's copy was for the run; a failed claim's own token is beaten from
     * ob.unreleased */
    free(cl->held.tokens);
    cl->held.tokens = NULL;
    if (err != 0) {
        if (err != DB_EUNAVAILABLE)
            log_warn("outbox_claim_failed", "token=%s err=%d", cl->token, err);
        /* the list is of a run whose COMMIT failed or went unanswered: none of it is ours for
         * sure, so nothing is sent, and the release hands back whatever did commit */
        outbox_claim_empty(cl);
        cl->next = ob.unreleased;
        ob.unreleased = cl;
        if (db_is_up())
            outbox_release_unreleased();
        return;
    }
    while ((s = cl->list) != NULL) {
        cl->list = s->next;
        s->next = NULL;
        if (ob.stopping) {
            /* never sent: it goes back at claim_timeout */
            outbox_send_free(s);
            continue;
        }
        *ob.waiting_tail = s;
        ob.waiting_tail = &s->next;
        ob.nwaiting++;
        held++;
    }
    outbox_hold_add(cl->token, held);
    /* a full batch means more may be due: look again at once */
    ob.again = cl->n >= cl->batch;
    outbox_claim_free(cl);
    outbox_pump();
    if (ob.again)
        outbox_kick();
}

static void
outbox_poll(evutil_socket_t fd, short what, void *arg)
{
    struct outbox_claim *cl;

    (void)fd;
    (void)what;
    (void)arg;
    if (ob.unrecorded != NULL && db_is_up())
        outbox_retry_unrecorded();
    if (ob.unreleased != NULL && db_is_up())
        outbox_release_unreleased();
    /* held rows (waiting, in flight, unrecorded, unreleased) stay ours even when nothing is
     * claimed */
    if (ob.cfg != NULL && db_is_up() && (ob.nholds > 0 || ob.unreleased != NULL)) {
        time_t now = time(NULL);

        if (now - ob.last_beat >= (time_t)(ob.cfg->outbox.claim_timeout / 4 + 1)) {
            struct outbox_held *h = calloc(1, sizeof *h);

            /* without memory, the next poll tries again */
            if (h == NULL || outbox_held_copy(h, NULL) == -1) {
                free(h);
            } else {
                ob.last_beat = now;
                if (db_submit(outbox_beat_work, outbox_beat_done, h, 0) == -1)
                    outbox_beat_done(0, h);
            }
        }
    }
    if (ob.claiming || ob.stopping || ob.cfg == NULL || !db_is_up() ||
        ob.nwaiting >= ob.cfg->outbox.batch)
        return;
    if (outbox_hold_reserve() == -1 || (cl = calloc(1, sizeof *cl)) == NULL)
        return;
    snprintf(cl->token, sizeof cl->token, "%s%012llx", ob.instance, ++ob.claims);
    if (outbox_held_copy(&cl->held, cl->token) == -1) {
        free(cl);
        return;
    }
    cl->batch = ob.cfg->outbox.batch;
    cl->poll_ms = ob.cfg->outbox.poll_ms;
    cl->tail = &cl->list;
    ob.claiming = 1;
    if (db_submit(outbox_claim_work, outbox_claim_done, cl, DB_TXN | DB_READ_COMMITTED) == -1) {
        ob.claiming = 0;
        outbox_claim_free(cl);
    }
}

/* A poll now, through an event of its own: libevent reschedules a persistent timer that was
 * activated by hand one interval after its *next* deadline, so kicking ob.poll itself pushed
 * its ticks a poll_ms further out each time, and after a burst of N new messages the
 * heartbeats, outcome retries, releases and claims of due retries stopped for N * poll_ms. */
void
outbox_kick(void)
{
    if (ob.base != NULL && !ob.stopping)
        event_active(ob.kick, EV_TIMEOUT, 0);
}

/* The providers' buckets for cfg: one kept across a reload keeps its tokens and sends in flight. */
static void
outbox_buckets(struct config *cfg)
{
    struct ratelimit_limit *l = calloc(cfg->nproviders + 1, sizeof *l);
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < cfg->nproviders; i++) {
        l[i].name = cfg->providers[i].name;
        l[i].rate = cfg->providers[i].rate;
        l[i].concurrency = cfg->providers[i].concurrency;
    }
    ratelimit_reload(&ob.buckets, l, cfg->nproviders, outbox_now_ns());
    free(l);
}

int
outbox_start(struct event_base *base, struct config *cfg)
{
    struct timeval tv = {cfg->outbox.poll_ms / 1000, (long)(cfg->outbox.poll_ms % 1000) * 1000};

    unsigned char rnd[6];
    size_t i;

    ob.base = base;
    ob.cfg = config_ref(cfg);
    ob.waiting_tail = &ob.waiting;
    randombytes_buf(rnd, sizeof rnd);
    for (i = 0; i < sizeof rnd; i++)
        snprintf(ob.instance + 2 * i, 3, "%02x", rnd[i]);
    outbox_buckets(cfg);
    if (outbox_send_init(base) == -1)
        return -1;
    ob.pump_timer = evtimer_new(base, outbox_pump_tick, NULL);
    ob.poll = event_new(base, -1, EV_PERSIST, outbox_poll, NULL);
    ob.kick = event_new(base, -1, 0, outbox_poll, NULL);
    if (ob.pump_timer == NULL || ob.poll == NULL || ob.kick == NULL ||
        event_add(ob.poll, &tv) == -1)
        return -1;
    db_batcher_init(&ob.results, outbox_results_work, outbox_results_done, 64, DB_TXN);
    /* which process a 'sending' row's claim_token names */
    log_info("outbox_started", "claim_prefix=%s", ob.instance);
    return 0;
}

void
outbox_reconfigure(struct config *cfg)
{
    struct config *old = ob.cfg;
    struct timeval tv = {cfg->outbox.poll_ms / 1000, (long)(cfg->outbox.poll_ms % 1000) * 1000};

    ob.cfg = config_ref(cfg);
    outbox_buckets(cfg);
    event_add(ob.poll, &tv);
    config_unref(old);
}

void
outbox_stop(void)
{
    struct outbox_send *s;

    ob.stopping = 1;
    /* claimed but not sent: back to the queue at once, and not counted as an attempt */
    while ((s = ob.waiting) != NULL) {
        ob.waiting = s->next;
        ob.nwaiting--;
        s->next = NULL;
        s->outcome = OUTCOME_DEFER;
        s->delay_ms = 0;
        snprintf(s->error, sizeof s->error, "released at shutdown");
        outbox_finish(s);
    }
    ob.waiting_tail = &ob.waiting;
}

int
outbox_idle(void)
{
    return outbox_send_idle();
}

void
outbox_free(void)
{
    struct outbox_send *s;
    struct outbox_claim *cl;

    if (ob.base == NULL)
        return;
    while ((s = ob.waiting) != NULL) {
        ob.waiting = s->next;
        outbox_send_free(s);
    }
    while ((s = ob.unrecorded) != NULL) {
        ob.unrecorded = s->next;
        outbox_send_free(s);
    }
    while ((cl = ob.unreleased) != NULL) {
        ob.unreleased = cl->next;
        outbox_claim_free(cl);
    }
    free(ob.holds);
    if (ob.pump_timer != NULL)
        event_free(ob.pump_timer);
    if (ob.poll != NULL)
        event_free(ob.poll);
    if (ob.kick != NULL)
        event_free(ob.kick);
    ratelimit_free(&ob.buckets);
    config_unref(ob.cfg);
    outbox_send_cleanup(); /* libcurl last: the freed sends held easy handles */
    memset(&ob, 0, sizeof ob);
}
