#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "db.h"
#include "dialog.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "report.h"
#include "ussd.h"

#define USSD_BUCKETS 16384
#define USSD_MAX_SESSIONS 200000
/* hops of one session waiting for its context or commit; load generators send many at once */
#define USSD_MAX_WAITERS 64
#define USSD_KEY 100
#define USSD_FLUSH_MS 200
/* a draft is written once its session has been quiet this long: a person takes seconds per
 * answer, and a session that finishes sooner never needs one */
#define USSD_DRAFT_QUIET_MS 1000
#define USSD_SWEEP_SECS 5
/* a draft this fresh belongs to a session still being answered somewhere */
#define USSD_DRAFT_SETTLE "5"

/* Said when MariaDB cannot be reached: no dialog text can be trusted to be saved then. */
static const char ussd_busy_id[] = "Maaf, layanan sedang sibuk. Silakan coba lagi nanti.";
static const char ussd_busy_en[] = "Sorry, the service is busy. Please try again later.";

enum ussd_state {
    USSD_LOADING, /* the caller's context is being read */
    USSD_READY,
    USSD_SAVING, /* a report is being committed */
    USSD_DONE    /* END sent; kept to answer a retried final hop the same way */
};

struct ussd_waiter {
    struct http_req *r;
    ussd_reply_fn reply;
    enum ussd_input_kind kind;
    char text[1025];
    size_t len;
    struct ussd_waiter *next;
};

struct ussd_session {
    struct ussd_session *next; /* hash chain */
    char key[USSD_KEY];
    char channel[33];
    char session_id[65];
    char msisdn[17];
    enum ussd_state state;
    struct dialog_ctx ctx;
    struct dialog_set *set; /* the dialogs this session started with */
    struct dialog_session *ds;
    unsigned screen_limit;
    char path[1025]; /* the inputs processed so far, '*'-joined */
    size_t path_len;
    int have_screen;
    char screen[DIALOG_SCREEN_MAX * 4 + 1];
    int end;
    long long touched; /* monotonic ms */
    int over;          /* the network said the session ended */
    int draft_written; /* a draft row for this session may exist */
    long long started_ms;
    struct ussd_waiter *waiters, **waiters_tail;
    size_t nwaiters;
    int draft_dirty;  /* write (or delete) the draft at the next flush */
    int draft_delete; /* ... and it is a delete */
    int draft_inflight;
    char draft_path[1025];
    char draft_flow[33];
    struct http_req *pending; /* the hop waiting for its context or its commit */
    ussd_reply_fn pending_reply;
};

static struct {
    struct event_base *base;
    struct config *cfg;
    struct ussd_session *buckets[USSD_BUCKETS];
    size_t nsessions;
    struct event *flush_ev, *sweep_ev;
    int stopping;
    struct db_batcher loads, details, saves;
} ussd;

static void ussd_feed(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                      enum ussd_input_kind kind, const char *text, size_t len);

static long long
ussd_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
ussd_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t
ussd_hash(const char *key)
{
    uint32_t h = 2166136261u;

    while (*key != '\0')
        h = (h ^ (unsigned char)*key++) * 16777619u;
    return h;
}

static void
ussd_make_key(char *key, const char *channel, const char *session_id)
{
    snprintf(key, USSD_KEY, "%s\x1f%s", channel, session_id);
}

static struct ussd_session *
ussd_find(const char *key)
{
    struct ussd_session *s;

    for (s = ussd.buckets[ussd_hash(key) % USSD_BUCKETS]; s != NULL; s = s->next)
        if (strcmp(s->key, key) == 0)
            return s;
    return NULL;
}

static void
ussd_session_free(struct ussd_session *s)
{
    struct ussd_session **pp = &ussd.buckets[ussd_hash(s->key) % USSD_BUCKETS];

    while (*pp != NULL && *pp != s)
        pp = &(*pp)->next;
    if (*pp == s)
        *pp = s->next;
    if (s->ds != NULL)
        dialog_session_free(s->ds);
    if (s->set != NULL)
        dialog_set_unref(s->set);
    free(s);
    ussd.nsessions--;
}

static const char *
ussd_busy_text(const struct ussd_session *s)
{
    return s != NULL && strcmp(s->ctx.lang, "en") == 0 ? ussd_busy_en : ussd_busy_id;
}

/* Every change of a session's state goes through here, so the debug log can follow it. */
static void
ussd_enter_state(struct ussd_session *s, enum ussd_state state)
{
    static const char *const names[] = {"loading", "ready", "saving", "done"};
    char m[24];

    if (state != s->state && log_get_level() >= LOG_DEBUG)
        log_debug("ussd_state", "channel=%s session=%s msisdn=%s from=%s to=%s", s->channel,
                  s->session_id, log_msisdn(s->msisdn, m, sizeof m), names[s->state], names[state]);
    s->state = state;
}

static void
ussd_remember(struct ussd_session *s, const struct dialog_out *out)
{
    snprintf(s->screen, sizeof s->screen, "%s", out->screen);
    s->end = out->end;
    s->have_screen = 1;
    if (out->end)
        ussd_enter_state(s, USSD_DONE);
}

/* ---- drafts: written behind, in batches, so a hop never waits for them */

struct ussd_draft_rec {
    char key[USSD_KEY];
    char msisdn[17];
    char channel[33];
    char session_id[65];
    char flow[33];
    char path[1025];
    uint64_t kpm_id;
    unsigned version;
    int del;
};

struct ussd_draft_job {
    struct ussd_draft_rec *recs;
    size_t n;
    unsigned window;
};

static void
ussd_draft_mark(struct ussd_session *s, const struct dialog_out *out)
{
    if (s->ds == NULL || !s->ctx.registered)
        return;
    if (dialog_session_in_report(s->ds)) {
        const char *p = dialog_session_draft_path(s->ds);

        if (strcmp(p, s->draft_path) != 0 || s->draft_delete) {
            snprintf(s->draft_path, sizeof s->draft_path, "%s", p);
            snprintf(s->draft_flow, sizeof s->draft_flow, "%s", dialog_session_flow(s->ds));
            s->draft_dirty = 1;
            s->draft_delete = 0;
        }
    } else if (out->draft_discard || (s->ctx.has_draft && s->draft_path[0] != '\0')) {
        s->draft_path[0] = '\0';
        s->draft_dirty = 1;
        s->draft_delete = 1;
    }
}

static int
ussd_draft_work(struct db_conn *c, void *arg)
{
    struct ussd_draft_job *j = arg;
    size_t i;
    int err;

    for (i = 0; i < j->n; i++) {
        const struct ussd_draft_rec *d = &j->recs[i];

        if (d->del) {
            struct db_param p[] = {DB_STR(d->msisdn)};

            err = db_exec(c, "DELETE FROM ussd_drafts WHERE msisdn = ?", p, 1, NULL, NULL);
        } else {
            struct db_param p[] = {DB_STR(d->msisdn),     DB_U64(d->kpm_id), DB_STR(d->channel),
                                   DB_STR(d->session_id), DB_STR(d->flow),   DB_STR(d->path),
                                   DB_U64(d->version),    DB_U64(j->window)};

            err = db_exec(c,
                          "INSERT INTO ussd_drafts (msisdn, kpm_id, channel, session_id, flow,"
                          " input_path, dialog_version, updated_at, expires_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, NOW(3), NOW(3) + INTERVAL ? SECOND)"
                          " ON DUPLICATE KEY UPDATE kpm_id = VALUES(kpm_id),"
                          " channel = VALUES(channel), session_id = VALUES(session_id),"
                          " flow = VALUES(flow), input_path = VALUES(input_path),"
                          " dialog_version = VALUES(dialog_version), updated_at = NOW(3),"
                          " expires_at = VALUES(expires_at)",
                          p, 8, NULL, NULL);
        }
        if (err != 0)
            return err;
    }
    return 0;
}

static void
ussd_draft_done(int err, void *arg)
{
    struct ussd_draft_job *j = arg;
    struct ussd_session *s;
    size_t i;

    for (i = 0; i < j->n; i++) {
        if ((s = ussd_find(j->recs[i].key)) == NULL)
            continue;
        s->draft_inflight = 0;
        if (err != 0)
            s->draft_dirty = 1; /* try again at the next flush */
    }
    if (err != 0)
        log_warn("ussd_draft_write_failed", "err=%d drafts=%zu", err, j->n);
    free(j->recs);
    free(j);
}

static void
ussd_flush_drafts(void)
{
    struct ussd_draft_job *j;
    struct ussd_session *s;
    size_t i, n = 0, cap = 0;

    long long now = ussd_mono();

    if (ussd.cfg == NULL || !db_is_up())
        return;
    if ((j = calloc(1, sizeof *j)) == NULL)
        return;
    j->window = ussd.cfg->ussd.resume_window;
    for (i = 0; i < USSD_BUCKETS; i++) {
        for (s = ussd.buckets[i]; s != NULL; s = s->next) {
            struct ussd_draft_rec *d;

            if (!s->draft_dirty || s->draft_inflight ||
                (!s->over && !ussd.stopping && now - s->touched < USSD_DRAFT_QUIET_MS))
                continue;
            /* nothing to delete if this session never wrote one and none was offered */
            if (s->draft_delete && !s->draft_written && !s->ctx.has_draft) {
                s->draft_dirty = 0;
                continue;
            }
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                struct ussd_draft_rec *nr = realloc(j->recs, ncap * sizeof *nr);

                if (nr == NULL)
                    break;
                j->recs = nr;
                cap = ncap;
            }
            d = &j->recs[n++];
            memset(d, 0, sizeof *d);
            memcpy(d->key, s->key, sizeof d->key);
            memcpy(d->msisdn, s->msisdn, sizeof d->msisdn);
            memcpy(d->channel, s->channel, sizeof d->channel);
            memcpy(d->session_id, s->session_id, sizeof d->session_id);
            memcpy(d->flow, s->draft_flow, sizeof d->flow);
            memcpy(d->path, s->draft_path, sizeof d->path);
            d->kpm_id = s->ctx.kpm_id;
            d->version = dialog_set_version(s->set);
            d->del = s->draft_delete;
            s->draft_written = !d->del;
            s->draft_dirty = 0;
            s->draft_inflight = 1;
        }
    }
    j->n = n;
    if (n == 0 || db_submit(ussd_draft_work, ussd_draft_done, j, DB_TXN) == -1)
        ussd_draft_done(n == 0 ? 0 : DB_EUNAVAILABLE, j);
}

static void
ussd_flush_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    ussd_flush_drafts();
}

/* ---- the caller's context */

struct ussd_load {
    char key[USSD_KEY];
    char msisdn[17];
    char session_id[65];
    int full; /* with the last report and the trainings (a batch is all one or the other) */
    struct dialog_ctx ctx;
};

static void
ussd_ctx_trainings(struct dialog_ctx *ctx, const char *json)
{
    json_t *a = json_loads(json, 0, NULL), *t;
    size_t i;

    json_array_foreach(a, i, t)
    {
        struct dialog_training *d;
        json_int_t id = json_integer_value(json_object_get(t, "id"));
        const char *v;

        if (ctx->ntrainings >= DIALOG_MAX_TRAININGS || id <= 0)
            break;
        d = &ctx->trainings[ctx->ntrainings++];
        d->id = (uint64_t)id;
        v = json_string_value(json_object_get(t, "title"));
        snprintf(d->title, sizeof d->title, "%s", v != NULL ? v : "");
        v = json_string_value(json_object_get(t, "date"));
        snprintf(d->date, sizeof d->date, "%s", v != NULL ? v : "");
        v = json_string_value(json_object_get(t, "place"));
        snprintf(d->place, sizeof d->place, "%s", v != NULL ? v : "");
        v = json_string_value(json_object_get(t, "code"));
        snprintf(d->code, sizeof d->code, "%s", v != NULL ? v : "");
        d->attended = json_integer_value(json_object_get(t, "attended")) == 1;
    }
    json_decref(a);
}

/* What a session needs, one row per caller: kpm, assistant, last business report, the enrolled
 * trainings of the last 30 days (a JSON array) and a draft with its session; NULL where absent.
 * A draft is a candidate once its session went quiet or the network said it ended, and never
 * once that session's report was saved after all.
 * The first load of a session leaves out the last report and the trainings (USSD_LOAD_LIGHT):
 * a business report, most sessions, never shows them, and they are most of the query's cost.
 * A session whose dialog reaches them loads them (USSD_LOAD_FULL) and replays its inputs. */
#define USSD_LOAD_HEAD "SELECT k.id, k.name, k.lang, a.name, "
#define USSD_LOAD_DETAILS                                                                          \
    "b.status, b.revenue, b.workers,"                                                              \
    " DATE_FORMAT(b.created_at, '%Y-%m-%d'), d.flow, d.input_path,"                                \
    " (SELECT JSON_ARRAYAGG(JSON_OBJECT('id', t.id, 'title', t.title,"                             \
    "   'date', DATE_FORMAT(t.starts_at, '%Y-%m-%d'), 'place', t.place,"                           \
    "   'code', t.attendance_code, 'attended', EXISTS (SELECT 1"                                   \
    "   FROM attendance_reports r WHERE r.kpm_id = k.id AND r.training_id = t.id"                  \
    "   AND r.attended = 1)) ORDER BY t.starts_at DESC, t.id)"                                     \
    "  FROM enrollments e JOIN trainings t ON t.id = e.training_id"                                \
    "  WHERE e.kpm_id = k.id AND t.starts_at >= NOW() - INTERVAL 30 DAY"                           \
    "  AND t.starts_at <= NOW()),"                                                                 \
    " d.session_id, k.msisdn"                                                                      \
    " FROM kpm k JOIN assistants a ON a.id = k.assistant_id"                                       \
    " LEFT JOIN business_reports b ON b.id = (SELECT r.id FROM business_reports r"                 \
    "  WHERE r.kpm_id = k.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1)"
#define USSD_LOAD_NO_DETAILS                                                                       \
    "NULL, NULL, NULL, NULL, d.flow, d.input_path, NULL, d.session_id, k.msisdn"                   \
    " FROM kpm k JOIN assistants a ON a.id = k.assistant_id"
#define USSD_LOAD_DRAFT                                                                            \
    " LEFT JOIN ussd_drafts d ON d.msisdn = k.msisdn AND d.expires_at > NOW(3)"                    \
    "  AND (d.updated_at < NOW(3) - INTERVAL " USSD_DRAFT_SETTLE " SECOND"                         \
    "   OR EXISTS (SELECT 1 FROM ussd_session_ends x"                                              \
    "    WHERE x.channel = d.channel AND x.session_id = d.session_id))"                            \
    "  AND NOT EXISTS (SELECT 1 FROM business_reports r"                                           \
    "   WHERE r.channel = d.channel AND r.session_id = d.session_id)"                              \
    "  AND NOT EXISTS (SELECT 1 FROM attendance_reports r"                                         \
    "   WHERE r.channel = d.channel AND r.session_id = d.session_id)"                              \
    "  AND NOT EXISTS (SELECT 1 FROM help_requests r"                                              \
    "   WHERE r.channel = d.channel AND r.session_id = d.session_id)"                              \
    " WHERE k.msisdn IN ("
#define USSD_LOAD_LIGHT USSD_LOAD_HEAD USSD_LOAD_NO_DETAILS USSD_LOAD_DRAFT
#define USSD_LOAD_FULL USSD_LOAD_HEAD USSD_LOAD_DETAILS USSD_LOAD_DRAFT

/* batched: light, full, each in the sizes of db.h */
static const char *const ussd_load_sql[2][DB_BATCH_SIZES] = {
    DB_BATCH_SQL(USSD_LOAD_LIGHT, "?", ")"), DB_BATCH_SQL(USSD_LOAD_FULL, "?", ")")};

static int
ussd_row_ctx(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct ussd_load **loads = arg;
    struct dialog_ctx ctx;
    uint64_t x;
    size_t i;

    (void)len;
    if (n < 13 || v[0] == NULL || v[12] == NULL)
        return 0;
    memset(&ctx, 0, sizeof ctx);
    if (parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &ctx.kpm_id) == -1)
        return 0;
    ctx.registered = 1;
    snprintf(ctx.kpm_name, sizeof ctx.kpm_name, "%s", v[1] ? v[1] : "");
    snprintf(ctx.lang, sizeof ctx.lang, "%s", v[2] ? v[2] : "id");
    snprintf(ctx.assistant_name, sizeof ctx.assistant_name, "%s", v[3] ? v[3] : "");
    if (v[4] != NULL && parse_u64(v[4], strlen(v[4]), 0, 255, &x) == 0) {
        ctx.has_last = 1;
        ctx.last_status = (unsigned)x;
        if (v[5] != NULL && parse_u64(v[5], strlen(v[5]), 0, UINT64_MAX, &x) == 0)
            ctx.last_revenue = x;
        if (v[6] != NULL && parse_u64(v[6], strlen(v[6]), 0, 65535, &x) == 0)
            ctx.last_workers = (unsigned)x;
        snprintf(ctx.last_date, sizeof ctx.last_date, "%s", v[7] ? v[7] : "");
    }
    if (v[10] != NULL)
        ussd_ctx_trainings(&ctx, v[10]);
    for (i = 0; loads[i] != NULL; i++) {
        struct ussd_load *l = loads[i];

        if (strcmp(l->msisdn, v[12]) != 0)
            continue;
        l->ctx = ctx;
        l->ctx.details = l->full;
        /* a session's own draft is not offered to it (a replay after a restart) */
        if (v[8] != NULL && v[9] != NULL && (v[11] == NULL || strcmp(v[11], l->session_id) != 0)) {
            l->ctx.has_draft = 1;
            snprintf(l->ctx.draft_flow, sizeof l->ctx.draft_flow, "%s", v[8]);
            snprintf(l->ctx.draft_path, sizeof l->ctx.draft_path, "%s", v[9]);
        }
    }
    return 0;
}

static int
ussd_load_batch(struct db_conn *c, void **items, size_t n)
{
    struct ussd_load *loads[DB_BATCH_MAX + 1];
    struct db_param p[DB_BATCH_MAX];
    size_t i, rows, k = db_batch_size(n, &rows);

    for (i = 0; i < n; i++) {
        loads[i] = items[i];
        memset(&loads[i]->ctx, 0, sizeof loads[i]->ctx);
        snprintf(loads[i]->ctx.lang, sizeof loads[i]->ctx.lang, "id");
        loads[i]->ctx.details = loads[i]->full;
    }
    loads[n] = NULL;
    for (i = 0; i < rows; i++)
        p[i] = DB_STR(loads[i < n ? i : n - 1]->msisdn);
    return db_query(c, ussd_load_sql[loads[0]->full ? 1 : 0][k], p, rows, ussd_row_ctx, loads);
}

static void
ussd_reply_waiters(struct ussd_session *s)
{
    struct ussd_waiter *w;

    /* hops that arrived while the database was busy for this session, in order */
    while (s->state != USSD_LOADING && s->state != USSD_SAVING && (w = s->waiters) != NULL) {
        s->waiters = w->next;
        if (s->waiters == NULL)
            s->waiters_tail = &s->waiters;
        s->nwaiters--;
        ussd_feed(s, w->r, w->reply, w->kind, w->text, w->len);
        free(w);
    }
}

static void
ussd_fail_waiters(struct ussd_session *s, const char *text)
{
    struct ussd_waiter *w;

    while ((w = s->waiters) != NULL) {
        s->waiters = w->next;
        w->reply(w->r, 1, text);
        free(w);
    }
    s->waiters_tail = &s->waiters;
    s->nwaiters = 0;
}

static int ussd_restart_dialog(struct ussd_session *s, struct dialog_out *out);
static int ussd_run_inputs(struct ussd_session *s, const char *text, size_t len,
                           struct dialog_out *out);

/* The last report and the trainings have come: the same first screen (the draft offer stays
 * as it was decided), the same inputs again, then the hop that needed them. */
static void
ussd_details_loaded(struct ussd_session *s, struct ussd_load *l)
{
    struct dialog_ctx *c = &l->ctx;
    struct dialog_out out;
    char path[sizeof s->path];

    if (!c->registered || c->kpm_id != s->ctx.kpm_id) {
        ussd_fail_waiters(s, ussd_busy_text(s));
        ussd_session_free(s);
        return;
    }
    c->has_draft = s->ctx.has_draft;
    memcpy(c->draft_flow, s->ctx.draft_flow, sizeof c->draft_flow);
    memcpy(c->draft_path, s->ctx.draft_path, sizeof c->draft_path);
    s->ctx = *c;
    memcpy(path, s->path, sizeof path);
    memset(&out, 0, sizeof out);
    if (ussd_restart_dialog(s, &out) == -1) {
        ussd_fail_waiters(s, ussd_busy_text(s));
        ussd_session_free(s);
        return;
    }
    if (path[0] != '\0')
        (void)ussd_run_inputs(s, path, strlen(path), &out);
    ussd_remember(s, &out); /* the screen before this hop, now with the details */
    ussd_enter_state(s, USSD_READY);
    ussd_reply_waiters(s);
}

static void
ussd_load_done(int err, void *arg)
{
    struct ussd_load *l = arg;
    struct ussd_session *s = ussd_find(l->key);
    struct dialog_out out;

    if (s == NULL) {
        free(l);
        return;
    }
    if (err != 0) {
        log_warn("ussd_context_failed", "channel=%s err=%d", s->channel, err);
        ussd_fail_waiters(s, ussd_busy_text(NULL));
        ussd_session_free(s);
        free(l);
        return;
    }
    if (l->full) {
        ussd_details_loaded(s, l);
        free(l);
        return;
    }
    s->ctx = l->ctx;
    free(l);
    if ((s->ds = dialog_session_new(s->set, &s->ctx, s->screen_limit)) == NULL) {
        ussd_fail_waiters(s, ussd_busy_text(s));
        ussd_session_free(s);
        return;
    }
    dialog_session_begin(s->ds, &out);
    ussd_remember(s, &out);
    ussd_enter_state(s, USSD_READY);
    ussd_reply_waiters(s);
}

/* ---- saving a report: committed before the final screen goes out */

struct ussd_save {
    char key[USSD_KEY];
    enum dialog_action action;
    int del_draft; /* a draft row may exist for this caller */
    struct report rep;
};

static int
ussd_save_work(struct db_conn *c, void *arg)
{
    struct ussd_save *sv = arg;
    struct db_param draft[] = {DB_STR(sv->rep.msisdn)};
    int err;

    /* a retried final hop hits the unique key and gets the first report's number */
    if ((err = report_save(c, &sv->rep)) != 0)
        return err;
    /* a link request comes from an unknown phone, which has no draft */
    if (sv->rep.kind != REPORT_LINK && sv->del_draft)
        err = db_exec(c, "DELETE FROM ussd_drafts WHERE msisdn = ?", draft, 1, NULL, NULL);
    return err;
}

/* Business reports under load, with no draft to delete: one statement for all of them. */
static int
ussd_save_batch(struct db_conn *c, void **items, size_t n)
{
    struct report *reps[DB_BATCH_MAX];
    size_t i;

    for (i = 0; i < n && i < DB_BATCH_MAX; i++)
        reps[i] = &((struct ussd_save *)items[i])->rep;
    return report_save_business(c, reps, i);
}

static void
ussd_save_done(int err, void *arg)
{
    struct ussd_save *sv = arg;
    struct ussd_session *s = ussd_find(sv->key);
    struct dialog_out out;
    char m[24];

    if (err == 0) {
        metrics_add(METRIC_REPORTS_SAVED, 1);
        log_info("ussd_report_saved", "channel=%s action=%d report=%llu msisdn=%s", sv->rep.channel,
                 (int)sv->action, (unsigned long long)sv->rep.id,
                 log_msisdn(sv->rep.msisdn, m, sizeof m));
    } else {
        log_warn("ussd_report_not_saved", "channel=%s action=%d err=%d msisdn=%s", sv->rep.channel,
                 (int)sv->action, err, log_msisdn(sv->rep.msisdn, m, sizeof m));
    }
    if (s != NULL) {
        dialog_session_committed(s->ds, err == 0, sv->rep.id, &out);
        if (err == 0) {
            /* saved: nothing left to resume */
            s->draft_dirty = 0;
            s->draft_path[0] = '\0';
            ussd_remember(s, &out);
        } else {
            /* not saved: answer, but let a retried hop try the commit again */
            ussd_enter_state(s, USSD_READY);
            s->have_screen = 0;
            s->path_len = 0;
            s->path[0] = '\0';
            dialog_session_free(s->ds);
            s->ds = NULL;
        }
        if (s->pending != NULL)
            s->pending_reply(s->pending, 1, out.screen);
        s->pending = NULL;
        if (err == 0)
            ussd_reply_waiters(s);
        else
            ussd_fail_waiters(s, out.screen);
    }
    free(sv);
}

static void
ussd_save(struct ussd_session *s, enum dialog_action action, struct http_req *r,
          ussd_reply_fn reply)
{
    struct ussd_save *sv = calloc(1, sizeof *sv);
    struct report *rep;
    struct dialog_out out;

    if (sv == NULL)
        goto fail;
    rep = &sv->rep;
    memcpy(sv->key, s->key, sizeof sv->key);
    sv->action = action;
    sv->del_draft = s->draft_written || s->draft_inflight || s->ctx.has_draft;
    if (report_from_dialog(rep, action, s->ds) == -1) {
        free(sv);
        goto fail;
    }
    rep->source = REPORT_USSD;
    rep->kpm_id = s->ctx.kpm_id;
    memcpy(rep->msisdn, s->msisdn, sizeof rep->msisdn);
    memcpy(rep->channel, s->channel, sizeof rep->channel);
    snprintf(rep->session_id, sizeof rep->session_id, "%s", s->session_id);
    rep->started_ms = s->started_ms;
    snprintf(rep->input_path, sizeof rep->input_path, "%s", s->path);
    ussd_enter_state(s, USSD_SAVING);
    s->pending = r;
    s->pending_reply = reply;
    /* the common case goes with others; more statements share one transaction */
    if (action == DIALOG_ACT_BUSINESS && !sv->del_draft) {
        if (db_submit_batch(&ussd.saves, sv) == 0)
            return;
    } else if (db_submit(ussd_save_work, ussd_save_done, sv,
                         action == DIALOG_ACT_ATTENDANCE && !sv->del_draft ? 0 : DB_TXN) == 0) {
        return;
    }
    s->pending = NULL;
    ussd_enter_state(s, USSD_READY);
    free(sv);
fail:
    dialog_session_committed(s->ds, 0, 0, &out);
    /* the session can still be retried: forget the path so the next hop replays it */
    s->path_len = 0;
    s->path[0] = '\0';
    s->have_screen = 0;
    dialog_session_free(s->ds);
    s->ds = NULL;
    reply(r, 1, out.screen);
}

/* ---- a hop */

static void
ussd_lang_done(int err, void *arg)
{
    if (err != 0)
        log_warn("ussd_language_not_saved", "err=%d", err);
    free(arg);
}

struct ussd_lang {
    uint64_t kpm_id;
    char lang[3];
};

static int
ussd_lang_work(struct db_conn *c, void *arg)
{
    struct ussd_lang *l = arg;
    struct db_param p[] = {DB_STR(l->lang), DB_U64(l->kpm_id)};

    return db_exec(c, "UPDATE kpm SET lang = ? WHERE id = ?", p, 2, NULL, NULL);
}

static void
ussd_lang_save(struct ussd_session *s, const char *lang)
{
    struct ussd_lang *l;

    snprintf(s->ctx.lang, sizeof s->ctx.lang, "%s", lang);
    if (!s->ctx.registered || (l = calloc(1, sizeof *l)) == NULL)
        return;
    l->kpm_id = s->ctx.kpm_id;
    snprintf(l->lang, sizeof l->lang, "%s", lang);
    if (db_submit(ussd_lang_work, ussd_lang_done, l, 0) == -1)
        free(l);
}

static int
ussd_path_append(struct ussd_session *s, const char *in, size_t len)
{
    size_t need = len + (s->path_len > 0 ? 1 : 0);

    if (s->path_len + need >= sizeof s->path)
        return -1;
    if (s->path_len > 0)
        s->path[s->path_len++] = '*';
    memcpy(s->path + s->path_len, in, len);
    s->path_len += len;
    s->path[s->path_len] = '\0';
    return 0;
}

/* Feeds inputs to the dialog; returns 1 with the last output, or 0 when the path held none. */
static int
ussd_run_inputs(struct ussd_session *s, const char *text, size_t len, struct dialog_out *out)
{
    size_t i = 0, start;
    int any = 0;

    while (i <= len) {
        start = i;
        while (i < len && text[i] != '*')
            i++;
        if (ussd_path_append(s, text + start, i - start) == -1)
            break;
        dialog_session_input(s->ds, text + start, i - start, out);
        any = 1;
        if (out->lang_changed)
            ussd_lang_save(s, out->lang);
        /* an action or an END stops the walk: what follows cannot be meant */
        if (out->action != DIALOG_ACT_NONE || out->end)
            break;
        i++;
    }
    return any;
}

static int
ussd_restart_dialog(struct ussd_session *s, struct dialog_out *out)
{
    if (s->ds != NULL)
        dialog_session_free(s->ds);
    if ((s->ds = dialog_session_new(s->set, &s->ctx, s->screen_limit)) == NULL)
        return -1;
    s->path_len = 0;
    s->path[0] = '\0';
    dialog_session_begin(s->ds, out);
    return 0;
}

/* A hop that waits for its session's database work, at the back of the queue, or at the front
 * for the hop being undone, which a full queue must not refuse. */
static int
ussd_wait(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
          enum ussd_input_kind kind, const char *text, size_t len, int front)
{
    struct ussd_waiter *w;

    if ((!front && s->nwaiters >= USSD_MAX_WAITERS) || len >= sizeof w->text ||
        (w = calloc(1, sizeof *w)) == NULL)
        return -1;
    w->r = r;
    w->reply = reply;
    w->kind = kind;
    memcpy(w->text, text, len);
    w->len = len;
    if (front) {
        w->next = s->waiters;
        if (s->waiters == NULL)
            s->waiters_tail = &w->next;
        s->waiters = w;
    } else {
        *s->waiters_tail = w;
        s->waiters_tail = &w->next;
    }
    s->nwaiters++;
    return 0;
}

/* Loads a session's context (full: with the trainings and last report); the session waits in
 * USSD_LOADING. -1 when it could not be queued (the caller answers and frees). */
static int
ussd_load_start(struct ussd_session *s, int full)
{
    struct ussd_load *l = calloc(1, sizeof *l);

    if (l == NULL)
        return -1;
    memcpy(l->key, s->key, sizeof l->key);
    memcpy(l->msisdn, s->msisdn, sizeof l->msisdn);
    memcpy(l->session_id, s->session_id, sizeof l->session_id);
    l->full = full;
    ussd_enter_state(s, USSD_LOADING);
    if (db_submit_batch(full ? &ussd.details : &ussd.loads, l) == -1) {
        free(l);
        return -1;
    }
    return 0;
}

/* This hop's dialog read what the first load left out: undo the hop, load the details, and let
 * the hop wait at the head of the queue; ussd_details_loaded() replays and then serves it. */
static void
ussd_need_details(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                  enum ussd_input_kind kind, const char *text, size_t len, const char *path_before)
{
    snprintf(s->path, sizeof s->path, "%s", path_before);
    s->path_len = strlen(s->path);
    dialog_session_free(s->ds);
    s->ds = NULL;
    if (ussd_wait(s, r, reply, kind, text, len, 1) == -1) {
        reply(r, 1, ussd_busy_text(s));
        return;
    }
    metrics_add(METRIC_USSD_DETAIL_LOADS, 1);
    if (ussd_load_start(s, 1) == -1) {
        ussd_fail_waiters(s, ussd_busy_text(s));
        ussd_session_free(s);
    }
}

static void
ussd_feed(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
          enum ussd_input_kind kind, const char *text, size_t len)
{
    struct dialog_out out;
    char path_before[sizeof s->path];

    s->touched = ussd_mono();
    memcpy(path_before, s->path, s->path_len + 1);
    memset(&out, 0, sizeof out);
    if (kind == USSD_PATH && s->have_screen && len == s->path_len &&
        memcmp(text, s->path, len) == 0) {
        /* the aggregator retried a hop: the same answer, nothing done twice */
        reply(r, s->end, s->screen);
        return;
    }
    if (s->state == USSD_DONE) {
        reply(r, 1, s->screen);
        return;
    }
    if (s->ds == NULL && ussd_restart_dialog(s, &out) == -1) {
        reply(r, 1, ussd_busy_text(s));
        return;
    }
    if (kind == USSD_BEGIN) {
        if (!s->have_screen)
            dialog_session_begin(s->ds, &out);
        else
            snprintf(out.screen, sizeof out.screen, "%s", s->screen);
    } else if (kind == USSD_INPUT) {
        if (ussd_path_append(s, text, len) == -1) {
            reply(r, 1, ussd_busy_text(s));
            return;
        }
        dialog_session_input(s->ds, text, len, &out);
        if (out.lang_changed)
            ussd_lang_save(s, out.lang);
    } else if (s->path_len > 0 && len > s->path_len && text[s->path_len] == '*' &&
               memcmp(text, s->path, s->path_len) == 0) {
        ussd_run_inputs(s, text + s->path_len + 1, len - s->path_len - 1, &out);
    } else if (s->path_len == 0 && s->have_screen && len > 0) {
        ussd_run_inputs(s, text, len, &out);
    } else {
        /* the path is not ours (another kabard served earlier hops, or a restart): replay it
         * from the first screen; the dialog is deterministic for the same context */
        if (ussd_restart_dialog(s, &out) == -1) {
            reply(r, 1, ussd_busy_text(s));
            return;
        }
        if (len > 0)
            ussd_run_inputs(s, text, len, &out);
    }
    if (!s->ctx.details && s->ctx.registered && dialog_session_wants_details(s->ds)) {
        ussd_need_details(s, r, reply, kind, text, len, path_before);
        return;
    }
    ussd_draft_mark(s, &out);
    if (out.action != DIALOG_ACT_NONE) {
        ussd_save(s, out.action, r, reply);
        return;
    }
    ussd_remember(s, &out);
    reply(r, out.end, out.screen);
}

static struct ussd_session *
ussd_session_new(const char *key, const struct config_channel *ch, const struct ussd_hop *hop,
                 struct config *cfg)
{
    struct ussd_session *s;
    uint32_t b;

    if (ussd.nsessions >= USSD_MAX_SESSIONS || (s = calloc(1, sizeof *s)) == NULL)
        return NULL;
    memcpy(s->key, key, USSD_KEY);
    snprintf(s->channel, sizeof s->channel, "%s", ch->name);
    snprintf(s->session_id, sizeof s->session_id, "%s", hop->session_id);
    snprintf(s->msisdn, sizeof s->msisdn, "%s", hop->msisdn);
    s->set = cfg->dialogs;
    dialog_set_ref(s->set);
    s->screen_limit = cfg->ussd.screen_limit;
    s->waiters_tail = &s->waiters;
    s->touched = ussd_mono();
    s->started_ms = ussd_now_ms();
    b = ussd_hash(key) % USSD_BUCKETS;
    s->next = ussd.buckets[b];
    ussd.buckets[b] = s;
    ussd.nsessions++;
    metrics_add(METRIC_USSD_SESSIONS, 1);
    return s;
}

void
ussd_hop(struct http_req *r, const struct ussd_hop *hop, ussd_reply_fn reply)
{
    char key[USSD_KEY];
    struct ussd_session *s;

    ussd_make_key(key, r->channel->name, hop->session_id);
    if ((s = ussd_find(key)) != NULL && strcmp(s->msisdn, hop->msisdn) != 0) {
        /* a session id is not a password: another phone cannot step into this dialog */
        reply(r, 1, ussd_busy_text(NULL));
        return;
    }
    if (s == NULL) {
        if (ussd.stopping || (s = ussd_session_new(key, r->channel, hop, r->cfg)) == NULL) {
            reply(r, 1, ussd_busy_text(NULL));
            return;
        }
        /* this hop waits like any other: if the load fails, even at once, its done callback
         * answers it and frees the session, and nothing here touches either again */
        if (ussd_wait(s, r, reply, hop->kind, hop->text, hop->text_len, 0) == -1) {
            ussd_session_free(s);
            reply(r, 1, ussd_busy_text(NULL));
            return;
        }
        if (ussd_load_start(s, 0) == -1) {
            ussd_fail_waiters(s, ussd_busy_text(NULL));
            ussd_session_free(s);
        }
        return;
    }
    if (s->state == USSD_LOADING || s->state == USSD_SAVING || s->waiters != NULL) {
        if (ussd_wait(s, r, reply, hop->kind, hop->text, hop->text_len, 0) == -1)
            reply(r, 1, ussd_busy_text(s));
        return;
    }
    ussd_feed(s, r, reply, hop->kind, hop->text, hop->text_len);
}

/* ---- the end of a session, as the network reports it */

struct ussd_end_job {
    struct http_req *r;
    ussd_ack_fn ack;
    char channel[33], session_id[65], msisdn[17], status[17], network[17];
    char input[1025], last[1025], error[256];
    unsigned long long duration_ms, hops;
};

static int
ussd_end_work(struct db_conn *c, void *arg)
{
    struct ussd_end_job *e = arg;
    struct db_param p[] = {DB_STR(e->channel), DB_STR(e->session_id), DB_STR(e->msisdn),
                           DB_STR(e->status),  DB_STR(e->network),    DB_U64(e->duration_ms),
                           DB_U64(e->hops),    DB_STR(e->input),      DB_STR(e->last),
                           DB_STR(e->error)};

    return db_exec(c,
                   "INSERT INTO ussd_session_ends (channel, session_id, msisdn, status,"
                   " network_code, duration_ms, hops, input, last_response, error_message)"
                   " VALUES (?, ?, ?, ?, ?, LEAST(?, 4294967295), LEAST(?, 4294967295), ?, ?, ?)"
                   " ON DUPLICATE KEY UPDATE id = id",
                   p, 10, NULL, NULL);
}

static void
ussd_end_done(int err, void *arg)
{
    struct ussd_end_job *e = arg;
    char key[USSD_KEY];
    struct ussd_session *s;

    ussd_make_key(key, e->channel, e->session_id);
    if ((s = ussd_find(key)) != NULL && s->state == USSD_READY && s->waiters == NULL)
        s->over = 1; /* its draft is written at the next flush, then the sweeper lets it go */
    if (s != NULL)
        s->touched = 0;
    e->ack(e->r, err == 0);
    free(e);
}

void
ussd_end(struct http_req *r, const struct ussd_end *end, ussd_ack_fn ack)
{
    struct ussd_end_job *e = calloc(1, sizeof *e);

    if (e == NULL) {
        ack(r, 0);
        return;
    }
    e->r = r;
    e->ack = ack;
    snprintf(e->channel, sizeof e->channel, "%s", r->channel->name);
    snprintf(e->session_id, sizeof e->session_id, "%s", end->session_id);
    snprintf(e->msisdn, sizeof e->msisdn, "%s", end->msisdn ? end->msisdn : "");
    snprintf(e->status, sizeof e->status, "%s", end->status ? end->status : "");
    snprintf(e->network, sizeof e->network, "%s", end->network_code ? end->network_code : "");
    snprintf(e->input, sizeof e->input, "%s", end->input ? end->input : "");
    snprintf(e->last, sizeof e->last, "%s", end->last_response ? end->last_response : "");
    snprintf(e->error, sizeof e->error, "%s", end->error_message ? end->error_message : "");
    e->duration_ms = end->duration_ms;
    e->hops = end->hops;
    if (db_submit(ussd_end_work, ussd_end_done, e, 0) == -1) {
        free(e);
        ack(r, 0);
    }
}

/* ---- idle sessions */

static void
ussd_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct ussd_session *s, *next;
    long long now = ussd_mono();
    size_t i;

    (void)fd;
    (void)what;
    (void)arg;
    if (ussd.cfg == NULL)
        return;
    for (i = 0; i < USSD_BUCKETS; i++) {
        for (s = ussd.buckets[i]; s != NULL; s = next) {
            next = s->next;
            if (s->state == USSD_LOADING || s->state == USSD_SAVING || s->waiters != NULL ||
                s->draft_dirty || s->draft_inflight)
                continue;
            /* a finished session is kept only to answer a retried final hop */
            if (now - s->touched >=
                (s->state == USSD_DONE ? 30000LL : 0) +
                    (s->state == USSD_DONE ? 0 : 1000LL * ussd.cfg->ussd.session_idle))
                ussd_session_free(s);
        }
    }
}

static double
ussd_gauge_sessions(void)
{
    return (double)ussd.nsessions;
}

int
ussd_start(struct event_base *base, struct config *cfg)
{
    struct timeval flush = {0, USSD_FLUSH_MS * 1000}, sweep = {USSD_SWEEP_SECS, 0};

    ussd.base = base;
    ussd.cfg = config_ref(cfg);
    db_batcher_init(&ussd.loads, ussd_load_batch, ussd_load_done, DB_BATCH_MAX, 0);
    db_batcher_init(&ussd.details, ussd_load_batch, ussd_load_done, DB_BATCH_MAX, 0);
    db_batcher_init(&ussd.saves, ussd_save_batch, ussd_save_done, DB_BATCH_MAX, 0);
    ussd.flush_ev = event_new(base, -1, EV_PERSIST, ussd_flush_tick, NULL);
    ussd.sweep_ev = event_new(base, -1, EV_PERSIST, ussd_sweep, NULL);
    if (ussd.flush_ev == NULL || ussd.sweep_ev == NULL || event_add(ussd.flush_ev, &flush) == -1 ||
        event_add(ussd.sweep_ev, &sweep) == -1)
        return -1;
    metrics_gauge_fn("kabar_ussd_sessions", "USSD sessions held in memory.", ussd_gauge_sessions);
    return 0;
}

void
ussd_reconfigure(struct config *cfg)
{
    struct config *old = ussd.cfg;

    /* running sessions keep the dialogs they started with; new ones take the new set */
    ussd.cfg = config_ref(cfg);
    config_unref(old);
}

void
ussd_stop(void)
{
    ussd.stopping = 1;
}

void
ussd_flush(void)
{
    ussd_flush_drafts();
}

void
ussd_free(void)
{
    size_t i;

    if (ussd.flush_ev != NULL)
        event_free(ussd.flush_ev);
    if (ussd.sweep_ev != NULL)
        event_free(ussd.sweep_ev);
    ussd.flush_ev = ussd.sweep_ev = NULL;
    for (i = 0; i < USSD_BUCKETS; i++)
        while (ussd.buckets[i] != NULL) {
            ussd_fail_waiters(ussd.buckets[i], ussd_busy_text(NULL));
            ussd_session_free(ussd.buckets[i]);
        }
    if (ussd.cfg != NULL)
        config_unref(ussd.cfg);
    ussd.cfg = NULL;
}
