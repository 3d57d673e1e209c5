/*
 * A USSD hop, whatever the aggregator's wire format: the session found or begun (a new session
 * from a number ends the older one), the caller's context loaded in batches, the dialog rebuilt
 * and fed, a report committed before its final screen, and the network's end of a session. The
 * sessions themselves live in ussd_session.c, their drafts in ussd_draft.c.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "config.h"
#include "db.h"
#include "dialog.h"
#include "http.h"
#include "lesson.h"
#include "lesson_store.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "report.h"
#include "ussd.h"
#include "ussd_int.h"

#define USSD_FLUSH_MS 200
#define USSD_SWEEP_SECS 5

/* Said when MariaDB cannot be reached: no dialog text can be trusted to be saved then. */
static const char ussd_busy_id[] = "Maaf, layanan sedang sibuk. Silakan coba lagi nanti.";
static const char ussd_busy_en[] = "Sorry, the service is busy. Please try again later.";

/* What a redial hands to the new session of the same number, with its load. */
enum ussd_hand {
    USSD_HAND_NONE,    /* nothing in memory: the database's draft, if any, is offered */
    USSD_HAND_DRAFT,   /* the older session's report in progress: offer it */
    USSD_HAND_NO_DRAFT /* the older session discarded its draft, or is committing its report */
};

static struct {
    struct event_base *base;
    struct config *cfg;
    struct event *flush_ev, *sweep_ev;
    int stopping;
    struct db_batcher loads, details, saves;
} ussd;

static void ussd_feed(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                      enum ussd_input_kind kind, const char *text, size_t len);

static const char *
ussd_busy_text(const struct ussd_session *s)
{
    return s != NULL && strcmp(s->lang, "en") == 0 ? ussd_busy_en : ussd_busy_id;
}

static void
ussd_remember(struct ussd_session *s, const struct dialog_out *out)
{
    (void)ussd_session_set_screen(s, out->screen, out->end);
    if (out->end)
        ussd_session_enter(s, USSD_DONE);
}

/* ---- the caller's context */

struct ussd_load {
    struct ussd_key key;
    char msisdn[17];
    char session_id[65];
    int full; /* with the last report and the trainings (a batch is all one or the other) */
    enum ussd_hand hand;
    char hand_flow[33];
    char hand_path[USSD_PATH_MAX + 1];
    long long grad_months; /* whole months since graduated_on; -1: not graduated or not known */
    struct dialog_ctx ctx;
    /* the caller is no KPM but an assistant (ussd_assistant.c): her id, name, language and
     * open alerts */
    uint64_t asst_id;
    char asst_name[41], asst_lang[3];
    unsigned asst_open;
    char lesson_passed[1024];                  /* "course:module ..." she has passed */
    char draft_channel[33], draft_session[65]; /* the session that wrote her draft */
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
 * A draft of another session is a candidate at once (a phone holds one USSD dialogue at a time:
 * a new session means the one that wrote it is over), and never once that session's report was
 * saved after all.
 * The first load of a session leaves out the last report and the trainings (USSD_LOAD_LIGHT):
 * a business report, most sessions, never shows them, and they are most of the query's cost.
 * A session whose dialog reaches them loads them (USSD_LOAD_FULL) and replays its inputs. */
#define USSD_LOAD_HEAD "SELECT k.id, k.name, k.lang, a.name, "
/* the track, whole months since graduated_on (the follow-up period is the configuration's, so
 * decided on the loop), support_opt_in, whether the exit survey was answered */
#define USSD_LOAD_TRACK                                                                            \
    "k.graduation, TIMESTAMPDIFF(MONTH, k.graduated_on, UTC_DATE()), k.support_opt_in,"            \
    " k.exit_survey_at IS NOT NULL, (SELECT GROUP_CONCAT(CONCAT(p.course, ':', p.module)"          \
    " SEPARATOR ' ') FROM lesson_progress p WHERE p.kpm_id = k.id AND p.passed_at IS NOT NULL),"   \
    " d.channel"
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
    "  AND t.starts_at <= NOW() AND t.closed_at IS NULL),"                                         \
    " d.session_id, k.msisdn, " USSD_LOAD_TRACK                                                    \
    " FROM kpm k JOIN assistants a ON a.id = k.assistant_id"                                       \
    " LEFT JOIN business_reports b ON b.id = (SELECT r.id FROM business_reports r"                 \
    "  WHERE r.kpm_id = k.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1)"
#define USSD_LOAD_NO_DETAILS                                                                       \
    "NULL, NULL, NULL, NULL, d.flow, d.input_path, NULL, d.session_id, k.msisdn, " USSD_LOAD_TRACK \
    " FROM kpm k JOIN assistants a ON a.id = k.assistant_id"
/* whether the draft's session saved its report after all is asked apart (ussd_load_saved),
 * for the few callers that have a draft: three subqueries here were optimised at every load */
#define USSD_LOAD_DRAFT                                                                            \
    " LEFT JOIN ussd_drafts d ON d.msisdn = k.msisdn AND d.expires_at > NOW(3)"                    \
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
    long long months = -1;
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
    if (n >= 17) {
        snprintf(ctx.track, sizeof ctx.track, "%s", v[13] ? v[13] : "none");
        if (v[14] != NULL && parse_u64(v[14], strlen(v[14]), 0, 100000, &x) == 0)
            months = (long long)x;
        ctx.support_opt_in = v[15] != NULL && strcmp(v[15], "1") == 0;
        ctx.exit_survey_done = v[16] != NULL && strcmp(v[16], "1") == 0;
    }
    for (i = 0; loads[i] != NULL; i++) {
        struct ussd_load *l = loads[i];

        if (strcmp(l->msisdn, v[12]) != 0)
            continue;
        l->ctx = ctx;
        l->ctx.details = l->full;
        l->grad_months = months;
        snprintf(l->lesson_passed, sizeof l->lesson_passed, "%s", n >= 18 && v[17] ? v[17] : "");
        /* a session's own draft is not offered to it (a replay after a restart) */
        if (v[8] != NULL && v[9] != NULL && (v[11] == NULL || strcmp(v[11], l->session_id) != 0)) {
            l->ctx.has_draft = 1;
            snprintf(l->ctx.draft_flow, sizeof l->ctx.draft_flow, "%s", v[8]);
            snprintf(l->ctx.draft_path, sizeof l->ctx.draft_path, "%s", v[9]);
            snprintf(l->draft_channel, sizeof l->draft_channel, "%s",
                     n >= 19 && v[18] != NULL ? v[18] : "");
            snprintf(l->draft_session, sizeof l->draft_session, "%s", v[11] ? v[11] : "");
        }
    }
    return 0;
}

static int
ussd_row_assistant(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct ussd_load **loads = arg;
    uint64_t id, open = 0;
    size_t i;

    (void)len;
    if (n < 5 || v[0] == NULL || v[3] == NULL ||
        parse_u64(v[0], strlen(v[0]), 1, UINT32_MAX, &id) == -1)
        return 0;
    if (v[4] != NULL)
        (void)parse_u64(v[4], strlen(v[4]), 0, UINT32_MAX, &open);
    for (i = 0; loads[i] != NULL; i++) {
        struct ussd_load *l = loads[i];

        if (l->ctx.registered || strcmp(l->msisdn, v[3]) != 0)
            continue;
        l->asst_id = id;
        snprintf(l->asst_name, sizeof l->asst_name, "%s", v[1] ? v[1] : "");
        snprintf(l->asst_lang, sizeof l->asst_lang, "%s", v[2] ? v[2] : "id");
        l->asst_open = (unsigned)open;
    }
    return 0;
}

/* The callers no KPM has the number of may be assistants: her own menu. A number that is both
 * a KPM's and an assistant's is the KPM's (her reports are what the number was registered for;
 * the assistant has SMS and the admin pages). */
#define USSD_LOAD_ASSISTANTS                                                                       \
    "SELECT a.id, a.name, a.language, a.msisdn, (SELECT COUNT(*) FROM alerts x"                    \
    " WHERE x.assistant_id = a.id AND x.state IN ('new', 'sent'))"                                 \
    " FROM assistants a WHERE a.msisdn IN ("
static const char *const ussd_load_assistants_sql[DB_BATCH_SIZES] =
    DB_BATCH_SQL(USSD_LOAD_ASSISTANTS, "?", ")");

static int
ussd_load_assistants(struct db_conn *c, struct ussd_load **loads, size_t n)
{
    struct db_param p[DB_BATCH_MAX];
    size_t i, m = 0, rows, k;
    const char *first = NULL;

    for (i = 0; i < n; i++)
        if (!loads[i]->ctx.registered) {
            p[m++] = DB_STR(loads[i]->msisdn);
            first = loads[i]->msisdn;
        }
    if (m == 0)
        return 0;
    k = db_batch_size(m, &rows);
    for (i = m; i < rows; i++)
        p[i] = DB_STR(first);
    return db_query(c, ussd_load_assistants_sql[k], p, rows, ussd_row_assistant, loads);
}

static int
ussd_row_flag(void *arg, char **v, unsigned long *len, unsigned n)
{
    (void)len;
    *(int *)arg = n >= 1 && v[0] != NULL && strcmp(v[0], "1") == 0;
    return 0;
}

/* A draft is never offered once the session that wrote it saved its report after all. */
static int
ussd_load_saved(struct db_conn *c, struct ussd_load *l)
{
    struct db_param p[] = {DB_STR(l->draft_channel), DB_STR(l->draft_session),
                           DB_STR(l->draft_channel), DB_STR(l->draft_session),
                           DB_STR(l->draft_channel), DB_STR(l->draft_session)};
    int saved = 0, err;

    if ((err = db_query(c,
                        "SELECT EXISTS (SELECT 1 FROM business_reports"
                        "  WHERE channel = ? AND session_id = ?)"
                        " OR EXISTS (SELECT 1 FROM attendance_reports"
                        "  WHERE channel = ? AND session_id = ?)"
                        " OR EXISTS (SELECT 1 FROM help_requests"
                        "  WHERE channel = ? AND session_id = ?)",
                        p, 6, ussd_row_flag, &saved)) != 0)
        return err;
    if (saved) {
        l->ctx.has_draft = 0;
        l->ctx.draft_flow[0] = l->ctx.draft_path[0] = '\0';
    }
    return 0;
}

static int
ussd_load_batch(struct db_conn *c, void **items, size_t n)
{
    struct ussd_load *loads[DB_BATCH_MAX + 1];
    struct db_param p[DB_BATCH_MAX];
    size_t i, rows, k = db_batch_size(n, &rows);
    int err;

    for (i = 0; i < n; i++) {
        loads[i] = items[i];
        memset(&loads[i]->ctx, 0, sizeof loads[i]->ctx);
        loads[i]->grad_months = -1;
        loads[i]->asst_id = 0;
        snprintf(loads[i]->ctx.lang, sizeof loads[i]->ctx.lang, "id");
        loads[i]->ctx.details = loads[i]->full;
    }
    loads[n] = NULL;
    for (i = 0; i < rows; i++)
        p[i] = DB_STR(loads[i < n ? i : n - 1]->msisdn);
    if ((err = db_query(c, ussd_load_sql[loads[0]->full ? 1 : 0][k], p, rows, ussd_row_ctx,
                        loads)) != 0)
        return err;
    for (i = 0; i < n; i++)
        if (loads[i]->ctx.has_draft && (err = ussd_load_saved(c, loads[i])) != 0)
            return err;
    if (loads[0]->full)
        return 0;
    return ussd_load_assistants(c, loads, n);
}

void
ussd_serve_waiters(struct ussd_session *s)
{
    struct ussd_waiter *w;

    /* hops that arrived while the database was busy for this session, in order; a hop may start
     * database work again (LOADING, SAVING) or end the session (USSD_GONE): then they wait, or
     * were answered by the kill */
    while ((s->state == USSD_READY || s->state == USSD_DONE) &&
           (w = ussd_session_next_waiter(s)) != NULL) {
        ussd_feed(s, w->r, w->reply, w->kind, w->text, w->len);
        free(w);
    }
}

/* The last report and the trainings have come: the same first screen (the draft offer stays
 * as it was decided), the same inputs again, then the hop that needed them. */
static void
ussd_details_loaded(struct ussd_session *s, const struct dialog_ctx *c)
{
    struct dialog_session *ds;
    struct dialog_out out;

    if (!c->registered || c->kpm_id != s->kpm_id || ussd_session_set_details(s, c) == -1 ||
        (ds = ussd_session_dialog(s, &out)) == NULL) {
        ussd_session_kill(s, ussd_busy_text(s));
        return;
    }
    dialog_session_free(ds);
    ussd_remember(s, &out); /* the screen before this hop, now with the details */
    if (s->state == USSD_LOADING)
        ussd_session_enter(s, USSD_READY);
    ussd_serve_waiters(s);
}

/* What a redial handed over: the older session's draft, from memory, over the database's. */
static void
ussd_take_hand(struct ussd_load *l)
{
    struct dialog_ctx *c = &l->ctx;

    if (!c->registered || l->hand == USSD_HAND_NONE)
        return;
    c->has_draft = l->hand == USSD_HAND_DRAFT;
    snprintf(c->draft_flow, sizeof c->draft_flow, "%s", c->has_draft ? l->hand_flow : "");
    snprintf(c->draft_path, sizeof c->draft_path, "%s", c->has_draft ? l->hand_path : "");
}

/* Her next module of the course the lesson screens teach: the first she has not passed. */
static void
ussd_lesson_next(struct ussd_load *l, const struct dialog_set *set)
{
    const struct lesson_course *c = dialog_set_lesson_course(set);
    char want[LESSON_ID_MAX * 2 + 3];
    unsigned i;

    l->ctx.lesson_module = -1;
    for (i = 0; c != NULL && i < c->nmodules; i++) {
        const char *p = l->lesson_passed;
        size_t n;

        n = (size_t)snprintf(want, sizeof want, "%s:%s", c->id, c->modules[i].id);
        while ((p = strstr(p, want)) != NULL &&
               !((p == l->lesson_passed || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')))
            p += n;
        if (p == NULL) {
            l->ctx.lesson_module = (int)i;
            return;
        }
    }
}

/* Inside her track's follow-up period: graduated_on + graduation.follow_up_months, decided on
 * the loop, which owns the configuration. */
static void
ussd_follow_up(struct ussd_load *l)
{
    int t = config_track_parse(l->ctx.track);

    l->ctx.follow_up = t > 0 && l->grad_months >= 0 &&
                       l->grad_months < (long long)ussd.cfg->graduation.follow_up_months[t];
}

static void
ussd_load_done(int err, void *arg)
{
    struct ussd_load *l = arg;
    struct ussd_session *s = ussd_session_find(&l->key);
    struct dialog_session *ds;
    struct dialog_out out;

    if (s == NULL || s->state != USSD_LOADING) {
        free(l);
        return;
    }
    if (err != 0) {
        log_warn("ussd_context_failed", "channel=%s err=%d", ussd_channel(s), err);
        ussd_session_kill(s, ussd_busy_text(NULL));
    } else if (l->full) {
        ussd_details_loaded(s, &l->ctx);
    } else if (l->asst_id != 0 && !l->ctx.registered &&
               ussd_assistant_begin(s, l->asst_id, l->asst_name, l->asst_lang, l->asst_open) == 0) {
        ussd_assistant_first(s, ussd.cfg);
        if (s->state == USSD_LOADING)
            ussd_session_enter(s, USSD_READY);
        ussd_serve_waiters(s);
    } else {
        ussd_take_hand(l);
        ussd_follow_up(l);
        ussd_lesson_next(l, s->set);
        if (ussd_session_set_ctx(s, &l->ctx) == -1 || (ds = ussd_session_dialog(s, &out)) == NULL) {
            ussd_session_kill(s, ussd_busy_text(s));
        } else {
            dialog_session_free(ds);
            ussd_remember(s, &out);
            if (s->state == USSD_LOADING)
                ussd_session_enter(s, USSD_READY);
            ussd_serve_waiters(s);
        }
    }
    free(l);
}

/* ---- saving a report: committed before the final screen goes out */

struct ussd_save {
    struct ussd_key key;
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

    db_txn_name(c, "ussd_save");
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

    db_txn_name(c, "ussd_save_batch");
    for (i = 0; i < n && i < DB_BATCH_MAX; i++)
        reps[i] = &((struct ussd_save *)items[i])->rep;
    return report_save_business(c, reps, i);
}

/* The final screen: the session's dialog at its commit (held, or rebuilt), told how the commit
 * went. */
static void
ussd_committed(struct ussd_session *s, int ok, uint64_t report_id, struct dialog_out *out)
{
    struct dialog_session *ds = ussd_session_resume(s, out);

    if (ds == NULL) {
        memset(out, 0, sizeof *out);
        snprintf(out->screen, sizeof out->screen, "%s", ussd_busy_text(s));
        out->end = 1;
        return;
    }
    dialog_session_committed(ds, ok, report_id, out);
    dialog_session_free(ds);
}

static void
ussd_save_done(int err, void *arg)
{
    struct ussd_save *sv = arg;
    struct ussd_session *s = ussd_session_find(&sv->key);
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
    if (s != NULL && s->state == USSD_SAVING) {
        ussd_committed(s, err == 0, sv->rep.id, &out);
        if (err == 0) {
            /* saved: nothing left to resume */
            ussd_session_set_dirty(s, 0);
            (void)ussd_session_set_draft(s, NULL, NULL);
            ussd_remember(s, &out);
        } else {
            /* not saved: answer, but let a retried hop try the commit again */
            ussd_session_enter(s, USSD_READY);
            (void)ussd_session_set_screen(s, NULL, 0);
            (void)ussd_session_set_path(s, NULL, 0);
        }
        if (s->pending != NULL)
            s->pending_reply(s->pending, 1, out.screen);
        s->pending = NULL;
        if (err == 0)
            ussd_serve_waiters(s);
        else
            ussd_session_fail_waiters(s, out.screen);
    }
    free(sv);
}

/* Commits the report the hop's dialog ds ended with; the hop waits for it (USSD_SAVING). */
static void
ussd_save(struct ussd_session *s, struct dialog_session *ds, enum dialog_action action,
          struct http_req *r, ussd_reply_fn reply)
{
    struct ussd_save *sv = calloc(1, sizeof *sv);
    struct report *rep;
    struct dialog_out out;

    if (sv == NULL)
        goto fail;
    rep = &sv->rep;
    ussd_session_key_of(s, &sv->key);
    sv->action = action;
    sv->del_draft = s->draft_written || s->draft_inflight || s->has_draft;
    if (report_from_dialog(rep, action, ds) == -1) {
        free(sv);
        goto fail;
    }
    rep->source = REPORT_USSD;
    rep->kpm_id = s->kpm_id;
    snprintf(rep->msisdn, sizeof rep->msisdn, "%s", s->msisdn);
    snprintf(rep->channel, sizeof rep->channel, "%s", ussd_channel(s));
    snprintf(rep->session_id, sizeof rep->session_id, "%s", ussd_session_id(s));
    rep->started_ms = s->started_ms;
    rep->window_days = ussd.cfg->alerts.window_days;
    snprintf(rep->input_path, sizeof rep->input_path, "%s", s->path != NULL ? s->path : "");
    ussd_session_enter(s, USSD_SAVING);
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
    ussd_session_enter(s, USSD_READY);
    free(sv);
fail:
    dialog_session_committed(ds, 0, 0, &out);
    /* the session can still be retried: forget the path so the next hop replays it */
    (void)ussd_session_set_path(s, NULL, 0);
    (void)ussd_session_set_screen(s, NULL, 0);
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

    snprintf(s->lang, sizeof s->lang, "%s", lang);
    if (!s->registered || (l = calloc(1, sizeof *l)) == NULL)
        return;
    l->kpm_id = s->kpm_id;
    snprintf(l->lang, sizeof l->lang, "%s", lang);
    if (db_submit(ussd_lang_work, ussd_lang_done, l, 0) == -1)
        free(l);
}

/* ---- a lesson step: written behind, keyed by the session, so a retried hop counts once */

struct ussd_lesson {
    uint64_t kpm_id;
    char channel[33];
    char session_id[65];
    struct dialog_lesson_step st;
};

static int
ussd_lesson_work(struct db_conn *c, void *arg)
{
    struct ussd_lesson *l = arg;
    struct lesson_key key = {l->channel, l->session_id};
    char tag[16];

    db_txn_name(c, "ussd_lesson");
    if (l->st.kind == DIALOG_LESSON_SCREEN)
        return lesson_screen_seen(c, l->kpm_id, l->st.course, l->st.module, l->st.screen,
                                  l->st.nscreens, LESSON_VIA_USSD, &key);
    snprintf(tag, sizeof tag, "%u", l->st.tag);
    return lesson_quiz_finished(c, l->kpm_id, l->st.course, l->st.module, l->st.right,
                                l->st.questions, l->st.pass, LESSON_VIA_USSD, &key, tag, NULL);
}

static void
ussd_lesson_done(int err, void *arg)
{
    if (err != 0)
        log_warn("ussd_lesson_failed", "err=%d", err);
    free(arg);
}

static void
ussd_lesson_save(struct ussd_session *s, const struct dialog_out *out)
{
    struct ussd_lesson *l;

    if (out->lesson.kind == DIALOG_LESSON_NONE || !s->registered ||
        (l = calloc(1, sizeof *l)) == NULL)
        return;
    l->kpm_id = s->kpm_id;
    snprintf(l->channel, sizeof l->channel, "%s", ussd_channel(s));
    snprintf(l->session_id, sizeof l->session_id, "%s", ussd_session_id(s));
    l->st = out->lesson;
    if (db_submit(ussd_lesson_work, ussd_lesson_done, l, DB_TXN) == -1) {
        log_warn("ussd_lesson_failed", "err=queue");
        free(l);
    }
}

/* Feeds inputs to the dialog, each recorded in the path first. */
static void
ussd_run_inputs(struct ussd_session *s, struct dialog_session *ds, const char *text, size_t len,
                struct dialog_out *out)
{
    size_t i = 0, start;

    while (i <= len) {
        start = i;
        while (i < len && text[i] != '*')
            i++;
        if (ussd_session_append(s, text + start, i - start) == -1)
            break;
        dialog_session_input(ds, text + start, i - start, out);
        if (out->lang_changed)
            ussd_lang_save(s, out->lang);
        ussd_lesson_save(s, out);
        /* an action or an END stops the walk: what follows cannot be meant */
        if (out->action != DIALOG_ACT_NONE || out->end)
            break;
        i++;
    }
}

/* Loads a session's context (full: with the trainings and last report) with l, or a new job
 * when l is NULL; the session waits in USSD_LOADING. -1 when it could not be queued (l freed;
 * the caller answers and kills the session). */
static int
ussd_load_start(struct ussd_session *s, int full, struct ussd_load *l)
{
    if (l == NULL && (l = calloc(1, sizeof *l)) == NULL)
        return -1;
    ussd_session_key_of(s, &l->key);
    snprintf(l->msisdn, sizeof l->msisdn, "%s", s->msisdn);
    snprintf(l->session_id, sizeof l->session_id, "%s", ussd_session_id(s));
    l->full = full;
    ussd_session_enter(s, USSD_LOADING);
    if (db_submit_batch(full ? &ussd.details : &ussd.loads, l) == -1) {
        free(l);
        return -1;
    }
    return 0;
}

/* The path as it was before a hop, to undo the hop. */
struct ussd_undo {
    char path[USSD_PATH_MAX + 1];
    size_t len;
    uint8_t lead_empty;
};

/* This hop's dialog read what the first load left out: undo the hop, load the details, and let
 * the hop wait at the head of the queue; ussd_details_loaded() replays and then serves it. When
 * the load is refused the session is killed: the caller must not go on with it. */
static void
ussd_need_details(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                  enum ussd_input_kind kind, const char *text, size_t len,
                  const struct ussd_undo *u)
{
    (void)ussd_session_set_path(s, u->path, u->len);
    s->lead_empty = u->lead_empty;
    if (ussd_session_wait(s, r, reply, kind, text, len, 1) == -1) {
        reply(r, 1, ussd_busy_text(s));
        return;
    }
    metrics_add(METRIC_USSD_DETAIL_LOADS, 1);
    if (ussd_load_start(s, 1, NULL) == -1)
        ussd_session_kill(s, ussd_busy_text(s));
}

/* The session's dialog into *ds, where the last hop left it (held, or the path replayed),
 * and the hop's inputs walked into it; -1: no room. */
static int
ussd_walk(struct ussd_session *s, struct dialog_session **ds, enum ussd_input_kind kind,
          const char *text, size_t len, struct dialog_out *out)
{
    const char *in = text;
    size_t n = len;
    int run = len > 0;

    if (kind == USSD_PATH && s->path_len > 0 && len > s->path_len && text[s->path_len] == '*' &&
        memcmp(text, s->path, s->path_len) == 0) {
        in = text + s->path_len + 1;
        n = len - s->path_len - 1;
        run = 1;
    } else if (kind == USSD_PATH && !(s->path_len == 0 && s->screen != NULL && len > 0)) {
        /* the path is not ours (another kabard served earlier hops, or a restart): replay it
         * from the first screen; the dialog is deterministic for the same context */
        if (ussd_session_set_path(s, NULL, 0) == -1)
            return -1;
    }
    /* a hop that goes on from the path held needs no replay: every input sets out again */
    if ((*ds = kind == USSD_BEGIN ? ussd_session_dialog(s, out) : ussd_session_resume(s, out)) ==
        NULL)
        return -1;
    if (kind == USSD_BEGIN) {
        /* the first screen again (a retried initiation), without the replay's side effects */
        if (s->screen != NULL)
            snprintf(out->screen, sizeof out->screen, "%s", s->screen);
        out->end = out->lang_changed = out->draft_discard = 0;
        out->action = DIALOG_ACT_NONE;
    } else if (kind == USSD_INPUT) {
        if (ussd_session_append(s, text, len) == -1)
            return -1;
        dialog_session_input(*ds, text, len, out);
        if (out->lang_changed)
            ussd_lang_save(s, out->lang);
        ussd_lesson_save(s, out);
    } else if (run) {
        ussd_run_inputs(s, *ds, in, n, out);
    }
    return 0;
}

static void
ussd_feed(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
          enum ussd_input_kind kind, const char *text, size_t len)
{
    struct dialog_session *ds;
    struct dialog_out out;
    struct ussd_undo u;

    ussd_session_touch(s);
    if (kind == USSD_PATH && s->screen != NULL && len == s->path_len &&
        (len == 0 || memcmp(text, s->path, len) == 0)) {
        /* the aggregator retried a hop: the same answer, nothing done twice */
        reply(r, s->end, s->screen);
        return;
    }
    if (s->state == USSD_DONE) {
        reply(r, 1, s->screen != NULL ? s->screen : ussd_busy_text(s));
        return;
    }
    if (s->asst != NULL) {
        ussd_assistant_feed(s, r, reply, kind, text, len);
        return; /* the session may be saving now */
    }
    u.len = s->path_len;
    memcpy(u.path, s->path != NULL ? s->path : "", u.len);
    u.path[u.len] = '\0';
    u.lead_empty = s->lead_empty;
    ds = NULL;
    if (ussd_walk(s, &ds, kind, text, len, &out) == -1) {
        dialog_session_free(ds);
        reply(r, 1, ussd_busy_text(s));
        return;
    }
    if (!s->details_loaded && s->registered && dialog_session_wants_details(ds)) {
        dialog_session_free(ds);
        ussd_need_details(s, r, reply, kind, text, len, &u);
        return; /* the session may be dead now */
    }
    ussd_draft_mark(s, ds, &out);
    /* the next hop, or the commit's answer, goes on from here */
    if (out.action != DIALOG_ACT_NONE || !out.end)
        ussd_session_hold(s, ds);
    if (out.action != DIALOG_ACT_NONE)
        ussd_save(s, ds, out.action, r, reply);
    else
        ussd_remember(s, &out);
    dialog_session_free(ds);
    if (out.action == DIALOG_ACT_NONE)
        reply(r, out.end, out.screen);
}

/* A new session from a number whose older session is still here: that one is over (a phone
 * holds one USSD dialogue at a time). Its report in progress goes to the new session with l,
 * and is written as a draft at once in case the new session drops too. */
static void
ussd_supersede(struct ussd_session *old, struct ussd_load *l)
{
    char m[24];

    ussd_session_unindex(old);
    if (old->state == USSD_SAVING) {
        l->hand = USSD_HAND_NO_DRAFT; /* its report is being committed: nothing to continue */
        return;
    }
    if (old->state != USSD_READY || old->waiters != NULL)
        return;
    if (old->draft_path != NULL && !old->draft_delete) {
        l->hand = USSD_HAND_DRAFT;
        snprintf(l->hand_flow, sizeof l->hand_flow, "%s", old->draft_flow);
        snprintf(l->hand_path, sizeof l->hand_path, "%s", old->draft_path);
    } else if (old->draft_delete && (old->draft_dirty || old->draft_inflight)) {
        l->hand = USSD_HAND_NO_DRAFT;
    }
    log_info("ussd_redial", "channel=%s session=%s msisdn=%s draft=%d", ussd_channel(old),
             ussd_session_id(old), log_msisdn(old->msisdn, m, sizeof m),
             l->hand == USSD_HAND_DRAFT);
    old->touched = 0;
    ussd_draft_write_now(old, ussd.cfg);
    if (!old->draft_dirty && !old->draft_inflight)
        ussd_session_kill(old, ussd_busy_text(old));
}

static void
ussd_hop_new(struct http_req *r, const struct ussd_hop *hop, ussd_reply_fn reply,
             const struct ussd_key *key)
{
    struct ussd_session *s, *old;
    struct ussd_load *l;

    if (ussd.stopping || ussd_session_admit() == -1 || (l = calloc(1, sizeof *l)) == NULL) {
        reply(r, 1, ussd_busy_text(NULL));
        return;
    }
    if ((old = ussd_session_by_msisdn(hop->msisdn)) != NULL)
        ussd_supersede(old, l);
    if ((s = ussd_session_new(key, hop->msisdn, r->cfg->dialogs, r->cfg->ussd.screen_limit)) ==
        NULL) {
        free(l);
        reply(r, 1, ussd_busy_text(NULL));
        return;
    }
    /* this hop waits like any other: if the load fails, even at once, the session is killed,
     * which answers it, and nothing here touches either again */
    if (ussd_session_wait(s, r, reply, hop->kind, hop->text, hop->text_len, 0) == -1) {
        free(l);
        ussd_session_kill(s, ussd_busy_text(NULL));
        reply(r, 1, ussd_busy_text(NULL));
        return;
    }
    if (ussd_load_start(s, 0, l) == -1)
        ussd_session_kill(s, ussd_busy_text(NULL));
}

void
ussd_hop(struct http_req *r, const struct ussd_hop *hop, ussd_reply_fn reply)
{
    struct ussd_key key;
    struct ussd_session *s;

    if (ussd_session_key(&key, r->channel->name, hop->session_id) == -1) {
        reply(r, 1, ussd_busy_text(NULL));
        return;
    }
    if ((s = ussd_session_find(&key)) != NULL && strcmp(s->msisdn, hop->msisdn) != 0) {
        /* a session id is not a password: another phone cannot step into this dialog */
        reply(r, 1, ussd_busy_text(NULL));
        return;
    }
    if (s == NULL) {
        ussd_hop_new(r, hop, reply, &key);
        return;
    }
    if (s->state == USSD_LOADING || s->state == USSD_SAVING || s->waiters != NULL) {
        if (ussd_session_wait(s, r, reply, hop->kind, hop->text, hop->text_len, 0) == -1)
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
    struct ussd_key key;
    struct ussd_session *s = NULL;

    if (ussd_session_key(&key, e->channel, e->session_id) == 0)
        s = ussd_session_find(&key);
    if (s != NULL && s->state == USSD_READY && s->waiters == NULL)
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

/* ---- timers, and the daemon's life */

static void
ussd_flush_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    ussd_draft_flush(ussd.cfg, ussd.stopping);
}

static void
ussd_sweep_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    ussd_session_sweep();
}

static double
ussd_gauge_sessions(void)
{
    return (double)ussd_session_count();
}

static double
ussd_gauge_bytes(void)
{
    return (double)ussd_session_bytes();
}

int
ussd_start(struct event_base *base, struct config *cfg)
{
    struct timeval flush = {0, USSD_FLUSH_MS * 1000}, sweep = {USSD_SWEEP_SECS, 0};

    ussd.base = base;
    ussd.cfg = config_ref(cfg);
    ussd_session_limits(cfg);
    db_batcher_init(&ussd.loads, ussd_load_batch, ussd_load_done, DB_BATCH_MAX, 0);
    db_batcher_init(&ussd.details, ussd_load_batch, ussd_load_done, DB_BATCH_MAX, 0);
    /* a transaction: the reports and their KPM's last_report_at commit together */
    db_batcher_init(&ussd.saves, ussd_save_batch, ussd_save_done, DB_BATCH_MAX, DB_TXN);
    ussd.flush_ev = event_new(base, -1, EV_PERSIST, ussd_flush_tick, NULL);
    ussd.sweep_ev = event_new(base, -1, EV_PERSIST, ussd_sweep_tick, NULL);
    if (ussd_session_start(base) == -1 || ussd.flush_ev == NULL || ussd.sweep_ev == NULL ||
        event_add(ussd.flush_ev, &flush) == -1 || event_add(ussd.sweep_ev, &sweep) == -1)
        return -1;
    metrics_gauge_fn("kabar_ussd_sessions", "USSD sessions held in memory.", ussd_gauge_sessions);
    metrics_gauge_fn("kabar_ussd_session_bytes",
                     "Bytes the USSD sessions in memory hold (bounded by ussd.max_session_mb).",
                     ussd_gauge_bytes);
    return 0;
}

void
ussd_reconfigure(struct config *cfg)
{
    struct config *old = ussd.cfg;

    /* running sessions keep the dialogs they started with; new ones take the new set */
    ussd.cfg = config_ref(cfg);
    ussd_session_limits(cfg);
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
    ussd_draft_flush(ussd.cfg, ussd.stopping);
}

void
ussd_free(void)
{
    if (ussd.flush_ev != NULL)
        event_free(ussd.flush_ev);
    if (ussd.sweep_ev != NULL)
        event_free(ussd.sweep_ev);
    ussd.flush_ev = ussd.sweep_ev = NULL;
    ussd_session_free_all(ussd_busy_text(NULL));
    if (ussd.cfg != NULL)
        config_unref(ussd.cfg);
    ussd.cfg = NULL;
}
