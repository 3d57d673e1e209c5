#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "dialog.h"
#include "http.h"
#include "keyword.h"
#include "lesson.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "parse.h"
#include "report.h"
#include "sms.h"
#include "sms_assistant.h"
#include "sms_dialog.h"
#include "sms_lesson.h"
#include "texts.h"

#include <mysqld_error.h>

static void
sms_render(const struct texts *x, enum text_id t, int en, const char *id, const char *title,
           const char *code, const char *assistant, char *out, size_t outlen)
{
    const char *kv[] = {"id", id, "title", title, "code", code, "assistant", assistant, NULL};

    texts_render(x, t, en, kv, out, outlen);
}

/* ---- the job */

struct sms_job {
    struct http_req *r;
    sms_ack_fn ack;
    struct config *cfg; /* a reference: keywords, texts, providers */
    char channel[33];
    char provider[33];
    char msg_id[65];
    char from[17];
    char to[21];
    char *text;
    size_t text_len;
    uint64_t inbound_id;
    int duplicate;
    int processed;
    char reply[1601];
    char follow[LESSON_SMS_MAX]; /* a second message after the reply (a lesson's question) */
};

static void
sms_job_free(struct sms_job *j)
{
    config_unref(j->cfg);
    free(j->text);
    free(j);
}

static int
sms_row_state(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_job *j = arg;

    (void)len;
    if (n >= 2 && v[0] != NULL && strcmp(v[0], "processed") == 0) {
        j->processed = 1;
        snprintf(j->reply, sizeof j->reply, "%s", v[1] != NULL ? v[1] : "");
    }
    return 1;
}

/* Step one, committed on its own: the message as it came. A retry finds it and stops here. */
static int
sms_store_work(struct db_conn *c, void *arg)
{
    struct sms_job *j = arg;
    struct db_param p[] = {DB_STR(j->channel), DB_STR(j->msg_id), DB_STR(j->from), DB_STR(j->to),
                           DB_STRN(j->text, j->text_len)};
    struct db_param q[] = {DB_U64(0)};
    uint64_t affected = 0;
    int err;

    /* autocommitted: an INSERT whose answer is lost is re-run and finds its own row, which is
     * then read like a retried callback's (not yet processed) */
    db_fault(c, "sms_store");
    if ((err = db_exec(c,
                       "INSERT INTO inbound_messages (channel, provider_msg_id, msisdn_from,"
                       " msisdn_to, body, received_at) VALUES (?, ?, ?, ?, ?, NOW(3))"
                       " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                       p, 5, &affected, &j->inbound_id)) != 0)
        return err;
    j->duplicate = affected != 1;
    if (!j->duplicate)
        return 0;
    q[0].u = j->inbound_id;
    return db_query(c, "SELECT state, reply FROM inbound_messages WHERE id = ?", q, 1,
                    sms_row_state, j);
}

struct sms_sender {
    int kpm;
    uint64_t kpm_id;
    char lang[3];
    char name[101];
    char assistant_name[101];
    int is_assistant;
    uint64_t as_assistant_id;
    int is_lecturer;
    uint64_t lecturer_id;
};

static int
sms_row_sender(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_sender *s = arg;

    (void)len;
    if (n < 6)
        return 1;
    if (v[0] != NULL && parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &s->kpm_id) == 0) {
        s->kpm = 1;
        snprintf(s->lang, sizeof s->lang, "%s", v[1] != NULL ? v[1] : "id");
        snprintf(s->assistant_name, sizeof s->assistant_name, "%s", v[2] != NULL ? v[2] : "");
    }
    if (v[3] != NULL && parse_u64(v[3], strlen(v[3]), 1, UINT64_MAX, &s->as_assistant_id) == 0)
        s->is_assistant = 1;
    snprintf(s->name, sizeof s->name, "%s", v[4] != NULL ? v[4] : "");
    if (v[5] != NULL && parse_u64(v[5], strlen(v[5]), 1, UINT64_MAX, &s->lecturer_id) == 0)
        s->is_lecturer = 1;
    return 1;
}

/* What acting on one message knows, on its worker, inside its transaction. */
struct sms_act {
    struct db_conn *c;
    struct sms_job *j;
    struct sms_sender who;
    struct keyword_msg k;
    char path[SMS_DIALOG_PATH_MAX + 1]; /* a business dialog's answers so far, as stored: */
    size_t path_len;                    /* over SMS_DIALOG_PATH_MAX when the row is */
    enum text_id t;                     /* the reply: this text ... */
    uint64_t id;     /* ... with this number (the report's, or the alert acknowledged) ... */
    char title[101]; /* ... and this training's title */
    int written;     /* the business dialog wrote the reply itself */
    int en;          /* the reply's language is English */
};

/* A report from this message: its key is the aggregator's message id, so a retried callback
 * gets the first report's number and writes nothing. */
static void
sms_report(const struct sms_act *x, struct report *r, enum report_kind kind)
{
    const struct sms_job *j = x->j;

    memset(r, 0, sizeof *r);
    r->kind = kind;
    r->source = REPORT_SMS;
    r->kpm_id = x->who.kpm_id;
    snprintf(r->msisdn, sizeof r->msisdn, "%s", j->from);
    snprintf(r->channel, sizeof r->channel, "%s", j->channel);
    snprintf(r->session_id, sizeof r->session_id, "sms:%s", j->msg_id);
    snprintf(r->input_path, sizeof r->input_path, "%.*s",
             (int)(j->text_len > 1024 ? 1024 : j->text_len), j->text);
    r->window_days = j->cfg->alerts.window_days;
}

struct sms_training {
    uint64_t id;
    char title[101];
};

/* The report saved, and the reply that says so with its number. */
static int
sms_save(struct sms_act *x, struct report *r, enum text_id saved)
{
    int err;

    if ((err = report_save(x->c, r)) != 0)
        return err;
    x->id = r->id;
    x->t = saved;
    return 0;
}

static int
sms_row_training(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_training *t = arg;

    (void)len;
    if (n >= 2 && v[0] != NULL && parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &t->id) == 0)
        snprintf(t->title, sizeof t->title, "%s", v[1] != NULL ? v[1] : "");
    return 1;
}

/* the stored path as read, cut one byte past the longest path so the step can tell it is over */
static int
sms_row_path(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_act *x = arg;

    if (n >= 1 && v[0] != NULL) {
        x->path_len = len[0] > SMS_DIALOG_PATH_MAX ? SMS_DIALOG_PATH_MAX + 1 : (size_t)len[0];
        memcpy(x->path, v[0], x->path_len);
    }
    return 1;
}

/* The report the dialog ended with (business, or help after 00 to the menu), committed with this
 * transaction, and its saved text in out. */
static int
sms_dialog_save(struct sms_act *x, struct sms_dialog_step *st)
{
    struct report r;
    int err;

    sms_report(x, &r, REPORT_BUSINESS);
    report_from_dialog(&r, st->out.action, st->ds);
    snprintf(r.input_path, sizeof r.input_path, "%s", st->path);
    err = report_save(x->c, &r);
    dialog_session_committed(st->ds, err == 0, r.id, &st->out);
    return err;
}

/* The step's outcome kept: the path for the next answer, or the dialog forgotten. */
static int
sms_dialog_store(struct sms_act *x, const struct sms_dialog_step *st)
{
    struct sms_job *j = x->j;
    struct db_param pm[] = {DB_STR(j->from)};
    struct db_param p[] = {DB_STR(j->from), DB_U64(x->who.kpm_id), DB_STR(st->path)};

    if (st->next != SMS_DIALOG_ASK)
        return db_exec(x->c, "DELETE FROM sms_dialogs WHERE msisdn = ?", pm, 1, NULL, NULL);
    /* an unanswered dialog is forgotten after a day */
    return db_exec(x->c,
                   "INSERT INTO sms_dialogs (msisdn, kpm_id, input_path, expires_at)"
                   " VALUES (?, ?, ?, NOW(3) + INTERVAL 1 DAY) ON DUPLICATE KEY UPDATE"
                   " input_path = VALUES(input_path), expires_at = VALUES(expires_at)",
                   p, 3, NULL, NULL);
}

/*
 * The business dialog one step on (sms_dialog.c): the next question, or the saved text once the
 * report is committed with this transaction, goes into the reply. answer is NULL for a new
 * dialog. Returns 0 or a MariaDB error.
 */
static int
sms_dialog(struct sms_act *x, const char *answer, size_t alen)
{
    struct sms_job *j = x->j;
    struct sms_dialog_step st;
    struct dialog_ctx ctx;
    int err = 0;

    memset(&ctx, 0, sizeof ctx);
    ctx.registered = 1;
    ctx.kpm_id = x->who.kpm_id;
    snprintf(ctx.lang, sizeof ctx.lang, "%s", x->who.lang);
    snprintf(ctx.kpm_name, sizeof ctx.kpm_name, "%s", x->who.name);
    snprintf(ctx.assistant_name, sizeof ctx.assistant_name, "%s", x->who.assistant_name);
    if (sms_dialog_step(j->cfg->dialogs, &ctx, answer != NULL ? x->path : NULL, x->path_len, answer,
                        alen, &st) == -1)
        return ER_OUTOFMEMORY;
    /* FULL, no room for one more answer: the dialog is over, and the message is read like any
     * other (sms_act) */
    if (st.next != SMS_DIALOG_FULL) {
        x->written = 1;
        if (st.next == SMS_DIALOG_ACTION)
            err = sms_dialog_save(x, &st);
        snprintf(j->reply, sizeof j->reply, "%s", st.out.screen);
    }
    if (err == 0)
        err = sms_dialog_store(x, &st);
    sms_dialog_step_free(&st);
    return err;
}

/* A KPM's business dialog waiting for an answer: a message that is not a keyword answers it;
 * a keyword ends it. */
static int
sms_dialog_pending(struct sms_act *x)
{
    struct sms_job *j = x->j;
    struct db_param pm[] = {DB_STR(j->from)};
    int err;

    if ((err = db_query(x->c,
                        "SELECT input_path FROM sms_dialogs WHERE msisdn = ?"
                        " AND expires_at > NOW(3) FOR UPDATE",
                        pm, 1, sms_row_path, x)) != 0 ||
        x->path_len == 0)
        return err;
    if (x->k.error != KWE_UNKNOWN) {
        x->path_len = 0;
        return db_exec(x->c, "DELETE FROM sms_dialogs WHERE msisdn = ?", pm, 1, NULL, NULL);
    }
    return sms_dialog(x, j->text, j->text_len);
}

/* ---- the keyword actions: a well-formed keyword from a KPM (an assistant's: sms_assistant.c) */

static int
sms_act_usage(struct sms_act *x)
{
    x->t = TEXT_USAGE;
    return 0;
}

static int
sms_act_info(struct sms_act *x)
{
    x->t = TEXT_INFO;
    return 0;
}

static int
sms_act_business(struct sms_act *x)
{
    const struct keyword_msg *k = &x->k;
    char revenue[48] = "", workers[32] = "";
    struct report r;

    sms_report(x, &r, REPORT_BUSINESS);
    /* each part on its own, then one snprintf: no offset to run past the buffer */
    if (k->has_revenue)
        snprintf(revenue, sizeof revenue, ",\"revenue\":\"%llu\"", (unsigned long long)k->revenue);
    if (k->has_workers)
        snprintf(workers, sizeof workers, ",\"workers\":\"%u\"", k->workers);
    snprintf(r.answers, sizeof r.answers, "{\"status\":\"%u\"%s%s}", k->status, revenue, workers);
    r.status = (struct report_num){1, k->status};
    r.revenue = (struct report_num){k->has_revenue, k->revenue};
    r.workers = (struct report_num){k->has_workers, k->workers};
    return sms_save(x, &r, TEXT_BUSINESS_SAVED);
}

/* a bare USAHA: the business dialog, from its first question */
static int
sms_act_dialog(struct sms_act *x)
{
    return sms_dialog(x, NULL, 0);
}

/* HADIR / ABSEN with the code announced at one of the KPM's recent trainings */
static int
sms_act_attendance(struct sms_act *x)
{
    const struct keyword_msg *k = &x->k;
    struct db_param pt[] = {DB_U64(x->who.kpm_id), DB_STR(k->code)};
    int attended = k->cmd == KW_ATTEND, err;
    struct sms_training tr;
    struct report r;

    memset(&tr, 0, sizeof tr);
    if ((err = db_query(x->c,
                        "SELECT t.id, t.title FROM enrollments e"
                        " JOIN trainings t ON t.id = e.training_id"
                        " WHERE e.kpm_id = ? AND t.attendance_code = ?"
                        " AND t.starts_at >= NOW() - INTERVAL 30 DAY"
                        " AND t.starts_at <= NOW() + INTERVAL 1 DAY AND t.closed_at IS NULL"
                        " ORDER BY t.starts_at DESC LIMIT 1",
                        pt, 2, sms_row_training, &tr)) != 0)
        return err;
    if (tr.id == 0) {
        x->t = TEXT_UNKNOWN_CODE;
        return 0;
    }
    sms_report(x, &r, REPORT_ATTENDANCE);
    snprintf(r.answers, sizeof r.answers,
             "{\"training_id\":\"%llu\",\"attended\":\"%d\",\"code\":\"%s\"}",
             (unsigned long long)tr.id, attended, k->code);
    r.training = (struct report_num){1, tr.id};
    r.attended = (struct report_num){1, (uint64_t)attended};
    r.reason = (struct report_num){k->reason != 0, k->reason};
    snprintf(x->title, sizeof x->title, "%s", tr.title);
    return sms_save(x, &r, attended ? TEXT_ATTEND_SAVED : TEXT_ABSENT_SAVED);
}

static int
sms_act_help(struct sms_act *x)
{
    struct report r;

    sms_report(x, &r, REPORT_HELP);
    r.topic = (struct report_num){1, 4}; /* "other": the message says what in words */
    r.text = x->k.text;
    return sms_save(x, &r, TEXT_HELP_SAVED);
}

static int
sms_act_reminders(struct sms_act *x)
{
    int start = x->k.cmd == KW_START, err;
    struct db_param p[] = {DB_U64(start), DB_U64(x->who.kpm_id)};

    if ((err = db_exec(x->c, "UPDATE kpm SET reminders = ? WHERE id = ?", p, 2, NULL, NULL)) != 0)
        return err;
    x->t = start ? TEXT_STARTED : TEXT_STOPPED;
    return 0;
}

/* BELAJAR, B n, or a bare n while a lesson question waits (sms_lesson.c) */
static int
sms_act_lesson(struct sms_act *x)
{
    struct sms_job *j = x->j;
    struct sms_lesson_msg m = {j->cfg,        &x->k,      j->text,   j->text_len,
                               x->who.kpm_id, j->channel, j->msg_id, x->en};
    int handled = 0, err;

    if ((err = sms_lesson_act(x->c, &m, j->reply, sizeof j->reply, j->follow, sizeof j->follow,
                              &handled)) != 0)
        return err;
    x->written = handled;
    x->t = TEXT_USAGE;
    return 0;
}

static const struct sms_action {
    int (*act)(struct sms_act *x); /* the keyword well-formed */
    enum text_id usage;            /* the reply to it malformed */
} sms_actions[] = {
    [KW_NONE] = {sms_act_usage, TEXT_USAGE},
    [KW_BUSINESS] = {sms_act_business, TEXT_USAGE_BUSINESS},
    [KW_BUSINESS_DIALOG] = {sms_act_dialog, TEXT_USAGE_BUSINESS},
    [KW_ATTEND] = {sms_act_attendance, TEXT_USAGE_ATTEND},
    [KW_ABSENT] = {sms_act_attendance, TEXT_USAGE_ABSENT},
    [KW_HELP] = {sms_act_help, TEXT_USAGE},
    [KW_INFO] = {sms_act_info, TEXT_USAGE},
    [KW_STOP] = {sms_act_reminders, TEXT_USAGE},
    [KW_START] = {sms_act_reminders, TEXT_USAGE},
    /* an assistant's words from a KPM's phone: a KPM's "ok, terima kasih" is no
     * acknowledgement, and CEK tells her nothing */
    [KW_ACK] = {sms_act_usage, TEXT_USAGE},
    [KW_CHECK] = {sms_act_usage, TEXT_USAGE},
    [KW_VISIT] = {sms_act_usage, TEXT_USAGE},
    [KW_GRADUATE] = {sms_act_usage, TEXT_USAGE},
    [KW_LESSON] = {sms_act_lesson, TEXT_USAGE},
    [KW_ANSWER] = {sms_act_lesson, TEXT_USAGE_ANSWER},
};
_Static_assert(sizeof sms_actions / sizeof sms_actions[0] == KW_COUNT,
               "one action per keyword command");

/* An assistant's words: from an assistant's phone they are hers, whatever else the number is. */
static int
sms_is_assistant_word(enum keyword_cmd c)
{
    return c == KW_ACK || c == KW_CHECK || c == KW_VISIT || c == KW_GRADUATE;
}

/* The assistant's (or lecturer's) message acted on, its reply written (sms_assistant.c). */
static int
sms_act_assistant(struct sms_act *x, int en, int lecturer)
{
    struct sms_job *j = x->j;
    struct sms_assistant_msg m = {
        j->cfg,     &x->k,     lecturer ? x->who.lecturer_id : x->who.as_assistant_id,
        j->channel, j->msg_id, j->inbound_id,
        en,         lecturer};

    x->written = 1;
    return sms_assistant_act(x->c, &m, j->reply, sizeof j->reply);
}

/* The reply to a message no dialog answered, and what the keyword does. */
static int
sms_act(struct sms_act *x, int en)
{
    const struct keyword_msg *k = &x->k;
    const struct sms_action *a = &sms_actions[KW_NONE];

    /* an assistant's phone: her commands, or her usage; HADIR from a number that is no KPM's
     * is her own TOT attendance (a KPM's number keeps HADIR as the KPM's word) */
    if (x->who.is_assistant && (sms_is_assistant_word(k->cmd) || !x->who.kpm))
        return sms_act_assistant(x, en, 0);
    if (x->who.is_lecturer && !x->who.kpm)
        return sms_act_assistant(x, en, 1);
    if (!x->who.kpm) {
        /* an unknown number learns nothing about anyone */
        x->t = TEXT_UNKNOWN_NUMBER;
        return 0;
    }
    if ((unsigned)k->cmd < sizeof sms_actions / sizeof sms_actions[0])
        a = &sms_actions[k->cmd];
    if (k->error != KWE_OK) {
        x->t = a->usage;
        return 0;
    }
    return a->act(x);
}

/* Two deliveries of one message (a retry racing the first) take turns here, and the second
 * finds it done (j->processed). */
static int
sms_claim(struct db_conn *c, struct sms_job *j)
{
    struct db_param pi[] = {DB_U64(j->inbound_id)};

    j->processed = 0;
    return db_query(c, "SELECT state, reply FROM inbound_messages WHERE id = ? FOR UPDATE", pi, 1,
                    sms_row_state, j);
}

static int
sms_sender_load(struct db_conn *c, const struct sms_job *j, struct sms_sender *who)
{
    struct db_param pf[] = {DB_STR(j->from), DB_STR(j->from), DB_STR(j->from)};

    memset(who, 0, sizeof *who);
    snprintf(who->lang, sizeof who->lang, "id");
    return db_query(c,
                    "SELECT k.id, k.lang, a.name,"
                    " (SELECT s.id FROM assistants s WHERE s.msisdn = ?), k.name,"
                    " (SELECT l.id FROM lecturers l WHERE l.msisdn = ?)"
                    " FROM (SELECT 1) one LEFT JOIN kpm k ON k.msisdn = ?"
                    " LEFT JOIN assistants a ON a.id = k.assistant_id",
                    pf, 3, sms_row_sender, who);
}

/* The reply into the outbox, keyed by the message, and the message marked done. */
static int
sms_reply_queue(struct db_conn *c, struct sms_job *j, int en)
{
    char key[128];
    struct outbox_msg m = {
        key, j->from, j->reply, "reply", 2, j->provider, j->cfg->outbox.max_segments};
    struct db_param p[] = {DB_STR(j->reply), DB_U64(j->inbound_id)};
    uint64_t oid;
    int err;

    snprintf(key, sizeof key, "reply:%s:%s", j->channel, j->msg_id);
    err = outbox_queue(c, &m, &oid);
    if (err == OUTBOX_TOO_LONG) {
        /* a configured text too long to send: the short usage goes instead */
        sms_render(j->cfg->texts, TEXT_USAGE, en, "", NULL, NULL, NULL, j->reply, sizeof j->reply);
        err = outbox_queue(c, &m, &oid);
    }
    if (err != 0)
        return err == OUTBOX_TOO_LONG ? 1 : err;
    if (j->follow[0] != '\0') {
        /* after the reply, in the same commit: the lesson's first question */
        struct outbox_msg f = {
            key, j->from, j->follow, "reply", 2, j->provider, j->cfg->outbox.max_segments};

        snprintf(key, sizeof key, "reply:%s:%s:2", j->channel, j->msg_id);
        if ((err = outbox_queue(c, &f, &oid)) != 0 && err != OUTBOX_TOO_LONG)
            return err;
    }
    return db_exec(c, "UPDATE inbound_messages SET state = 'processed', reply = ? WHERE id = ?", p,
                   2, NULL, NULL);
}

/* Step two, one transaction: act on the keyword, queue the reply, mark the message done. */
static int
sms_process_work(struct db_conn *c, void *arg)
{
    struct sms_job *j = arg;
    struct sms_act x;
    char idbuf[24] = "";
    int en, err;

    db_txn_name(c, "sms_process");
    if ((err = sms_claim(c, j)) != 0 || j->processed)
        return err;
    memset(&x, 0, sizeof x);
    x.c = c;
    x.j = j;
    if ((err = sms_sender_load(c, j, &x.who)) != 0)
        return err;
    if (keyword_parse(j->cfg->keywords, j->text, j->text_len, &x.k) == -1) {
        memset(&x.k, 0, sizeof x.k);
        x.k.error = KWE_UNKNOWN;
    }
    en = strcmp(x.k.lang_known ? x.k.lang : x.who.lang, "en") == 0;
    x.en = en;
    if (x.who.kpm && (err = sms_dialog_pending(&x)) != 0)
        return err;
    /* a bare number answers a lesson question waiting for her, if one is */
    if (x.who.kpm && !x.written && x.k.error == KWE_UNKNOWN && (err = sms_act_lesson(&x)) != 0)
        return err;
    if (!x.written && (err = sms_act(&x, en)) != 0)
        return err;
    if (!x.written) {
        if (x.id != 0)
            snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)x.id);
        sms_render(j->cfg->texts, x.t, en, idbuf, x.title, x.k.code, x.who.assistant_name, j->reply,
                   sizeof j->reply);
    }
    return sms_reply_queue(c, j, en);
}

static void
sms_process_done(int err, void *arg)
{
    struct sms_job *j = arg;
    char m[24];

    if (err != 0)
        log_warn("sms_not_processed", "channel=%s id=%s from=%s err=%d", j->channel, j->msg_id,
                 log_msisdn(j->from, m, sizeof m), err);
    else
        outbox_kick();
    j->ack(j->r, err == 0);
    sms_job_free(j);
}

static void
sms_store_done(int err, void *arg)
{
    struct sms_job *j = arg;

    if (err != 0) {
        j->ack(j->r, 0);
        sms_job_free(j);
        return;
    }
    if (!j->duplicate)
        metrics_add(METRIC_SMS_IN, 1);
    if (j->processed) {
        /* a retried callback: same answer, nothing done twice */
        j->ack(j->r, 1);
        sms_job_free(j);
        return;
    }
    if (db_submit(sms_process_work, sms_process_done, j, DB_TXN) == -1) {
        j->ack(j->r, 0);
        sms_job_free(j);
    }
}

void
sms_receive(struct http_req *r, const struct sms_in *in, sms_ack_fn ack)
{
    struct sms_job *j = calloc(1, sizeof *j);
    const char *prov = r->channel->provider;

    if (j == NULL || (j->text = malloc(in->text_len + 1)) == NULL) {
        free(j);
        ack(r, 0);
        return;
    }
    j->r = r;
    j->ack = ack;
    j->cfg = config_ref(r->cfg);
    snprintf(j->channel, sizeof j->channel, "%s", r->channel->name);
    /* a channel without its own provider answers through the first one configured */
    snprintf(j->provider, sizeof j->provider, "%s",
             prov[0] != '\0' ? prov : (r->cfg->nproviders > 0 ? r->cfg->providers[0].name : "log"));
    snprintf(j->msg_id, sizeof j->msg_id, "%s", in->provider_msg_id);
    snprintf(j->from, sizeof j->from, "%s", in->from);
    snprintf(j->to, sizeof j->to, "%s", in->to != NULL ? in->to : "");
    memcpy(j->text, in->text, in->text_len);
    j->text[in->text_len] = '\0';
    j->text_len = in->text_len;
    if (db_submit(sms_store_work, sms_store_done, j, 0) == -1) {
        sms_job_free(j);
        ack(r, 0);
    }
}
