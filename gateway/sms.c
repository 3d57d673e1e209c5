#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "dialog.h"
#include "http.h"
#include "keyword.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "parse.h"
#include "report.h"
#include "sms.h"
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
};

static int
sms_row_sender(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_sender *s = arg;

    (void)len;
    if (n < 5)
        return 1;
    if (v[0] != NULL && parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &s->kpm_id) == 0) {
        s->kpm = 1;
        snprintf(s->lang, sizeof s->lang, "%s", v[1] != NULL ? v[1] : "id");
        snprintf(s->assistant_name, sizeof s->assistant_name, "%s", v[2] != NULL ? v[2] : "");
    }
    if (v[3] != NULL && parse_u64(v[3], strlen(v[3]), 1, UINT64_MAX, &s->as_assistant_id) == 0)
        s->is_assistant = 1;
    snprintf(s->name, sizeof s->name, "%s", v[4] != NULL ? v[4] : "");
    return 1;
}

/* What acting on one message knows, on its worker, inside its transaction. */
struct sms_act {
    struct db_conn *c;
    struct sms_job *j;
    struct sms_sender who;
    struct keyword_msg k;
    char path[1025]; /* the answers so far of a business dialog waiting for the next one */
    enum text_id t;  /* the reply: this text ... */
    uint64_t id;     /* ... with this number (the report's, or the alert acknowledged) ... */
    char title[101]; /* ... and this training's title */
    int written;     /* the business dialog wrote the reply itself */
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

static int
sms_row_path(void *arg, char **v, unsigned long *len, unsigned n)
{
    char *path = arg;

    (void)len;
    if (n >= 1 && v[0] != NULL)
        snprintf(path, 1025, "%s", v[0]);
    return 1;
}

/* The dialog's path with one more answer ('*' separates the answers in a path: one typed in an
 * answer is dropped), or the path of a new dialog. */
static void
sms_dialog_path(char *path, const char *answer, size_t alen)
{
    size_t i, plen;

    if (path[0] == '\0') {
        snprintf(path, 1025, "1"); /* the main menu's "Lapor usaha" */
        return;
    }
    plen = strlen(path);
    if (plen + 1 + alen >= 1025)
        alen = 0;
    path[plen++] = '*';
    for (i = 0; i < alen; i++)
        if (answer[i] != '*' && answer[i] != '\n' && answer[i] != '\r')
            path[plen++] = answer[i];
    path[plen] = '\0';
}

/* The business report committed with this transaction, and the saved text in out. */
static int
sms_dialog_save(struct sms_act *x, struct dialog_session *ds, struct dialog_out *out)
{
    struct report r;
    int err;

    sms_report(x, &r, REPORT_BUSINESS);
    report_from_dialog(&r, out->action, ds);
    snprintf(r.input_path, sizeof r.input_path, "%s", x->path);
    err = report_save(x->c, &r);
    dialog_session_committed(ds, err == 0, r.id, out);
    return err;
}

/*
 * The business report one question per SMS (a bare USAHA), driven by the same dialogs as USSD:
 * the answers so far are a path in sms_dialogs, replayed through the engine with the new one.
 * The next question, or the saved text once the report is committed with this transaction,
 * goes into the reply. Returns 0 or a MariaDB error.
 */
static int
sms_dialog(struct sms_act *x, const char *answer, size_t alen)
{
    struct sms_job *j = x->j;
    struct dialog_session *ds;
    struct dialog_ctx ctx;
    struct dialog_out out;
    struct db_param pm[] = {DB_STR(j->from)};
    char *path = x->path;
    size_t i, start;
    int err = 0;

    x->written = 1;
    sms_dialog_path(path, answer, alen);
    memset(&ctx, 0, sizeof ctx);
    ctx.registered = 1;
    ctx.kpm_id = x->who.kpm_id;
    snprintf(ctx.lang, sizeof ctx.lang, "%s", x->who.lang);
    snprintf(ctx.kpm_name, sizeof ctx.kpm_name, "%s", x->who.name);
    snprintf(ctx.assistant_name, sizeof ctx.assistant_name, "%s", x->who.assistant_name);
    /* one question a message: one SMS part */
    if ((ds = dialog_session_new(j->cfg->dialogs, &ctx, 160)) == NULL)
        return ER_OUTOFMEMORY;
    dialog_session_begin(ds, &out);
    for (i = 0, start = 0;; i++) {
        if (path[i] == '*' || path[i] == '\0') {
            dialog_session_input(ds, path + start, i - start, &out);
            start = i + 1;
            if (out.action != DIALOG_ACT_NONE || out.end || path[i] == '\0')
                break;
        }
    }
    if (out.action == DIALOG_ACT_BUSINESS)
        err = sms_dialog_save(x, ds, &out);
    snprintf(j->reply, sizeof j->reply, "%s", out.screen);
    if (err == 0 && (out.end || out.action != DIALOG_ACT_NONE)) {
        err = db_exec(x->c, "DELETE FROM sms_dialogs WHERE msisdn = ?", pm, 1, NULL, NULL);
    } else if (err == 0) {
        struct db_param p[] = {DB_STR(j->from), DB_U64(x->who.kpm_id), DB_STR(path)};

        /* an unanswered dialog is forgotten after a day */
        err = db_exec(x->c,
                      "INSERT INTO sms_dialogs (msisdn, kpm_id, input_path, expires_at)"
                      " VALUES (?, ?, ?, NOW(3) + INTERVAL 1 DAY) ON DUPLICATE KEY UPDATE"
                      " input_path = VALUES(input_path), expires_at = VALUES(expires_at)",
                      p, 3, NULL, NULL);
    }
    dialog_session_free(ds);
    return err;
}

/* A KPM's business dialog waiting for an answer: a message that is not a keyword answers it;
 * a keyword ends it. */
static int
sms_dialog_pending(struct sms_act *x)
{
    struct sms_job *j = x->j;
    struct db_param pm[] = {DB_STR(j->from)};
    const char *a = j->text;
    size_t alen = j->text_len;
    int err;

    if ((err = db_query(x->c,
                        "SELECT input_path FROM sms_dialogs WHERE msisdn = ?"
                        " AND expires_at > NOW(3) FOR UPDATE",
                        pm, 1, sms_row_path, x->path)) != 0 ||
        x->path[0] == '\0')
        return err;
    if (x->k.error != KWE_UNKNOWN) {
        x->path[0] = '\0';
        return db_exec(x->c, "DELETE FROM sms_dialogs WHERE msisdn = ?", pm, 1, NULL, NULL);
    }
    while (alen > 0 && (*a == ' ' || *a == '\t'))
        a++, alen--;
    while (alen > 0 && (a[alen - 1] == ' ' || a[alen - 1] == '\t' || a[alen - 1] == '.' ||
                        a[alen - 1] == '\n' || a[alen - 1] == '\r'))
        alen--;
    return sms_dialog(x, a, alen);
}

/* ---- the keyword actions: a well-formed keyword from a KPM (OK n: from an assistant too) */

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
    struct report r;
    size_t n;

    sms_report(x, &r, REPORT_BUSINESS);
    n = (size_t)snprintf(r.answers, sizeof r.answers, "{\"status\":\"%u\"", k->status);
    if (k->has_revenue)
        n += (size_t)snprintf(r.answers + n, sizeof r.answers - n, ",\"revenue\":\"%llu\"",
                              (unsigned long long)k->revenue);
    if (k->has_workers)
        n += (size_t)snprintf(r.answers + n, sizeof r.answers - n, ",\"workers\":\"%u\"",
                              k->workers);
    snprintf(r.answers + n, sizeof r.answers - n, "}");
    r.status = (struct report_num){1, k->status};
    r.revenue = (struct report_num){k->has_revenue, k->revenue};
    r.workers = (struct report_num){k->has_workers, k->workers};
    return sms_save(x, &r, TEXT_BUSINESS_SAVED);
}

/* a bare USAHA: the business dialog, from its first question */
static int
sms_act_dialog(struct sms_act *x)
{
    x->path[0] = '\0';
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
                        " AND t.starts_at <= NOW() + INTERVAL 1 DAY"
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

static int
sms_act_ack(struct sms_act *x)
{
    struct db_param p[] = {DB_U64(x->k.alert_id), DB_U64(x->who.as_assistant_id)};
    uint64_t affected = 0;
    int err;

    /* OK n from a KPM's phone: not an assistant, nothing changes */
    if (!x->who.is_assistant)
        return sms_act_usage(x);
    /* only the assistant the alert was raised for can close it */
    if ((err = db_exec(x->c,
                       "UPDATE alerts SET state = 'acknowledged', acked_at = NOW(3)"
                       " WHERE id = ? AND assistant_id = ? AND state IN ('new', 'sent')",
                       p, 2, &affected, NULL)) != 0)
        return err;
    x->id = x->k.alert_id;
    x->t = affected == 1 ? TEXT_ACK_OK : TEXT_ACK_UNKNOWN;
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
    /* a KPM's "ok, terima kasih" is not an acknowledgement */
    [KW_ACK] = {sms_act_ack, TEXT_USAGE},
};
_Static_assert(sizeof sms_actions / sizeof sms_actions[0] == KW_ACK + 1,
               "one action per keyword command");

/* The reply to a message no dialog answered, and what the keyword does. */
static int
sms_act(struct sms_act *x)
{
    const struct keyword_msg *k = &x->k;
    const struct sms_action *a = &sms_actions[KW_NONE];

    if (!x->who.kpm && !(k->error == KWE_OK && k->cmd == KW_ACK && x->who.is_assistant)) {
        /* an assistant's phone only acknowledges alerts; an unknown number learns nothing
         * about anyone */
        x->t = x->who.is_assistant ? TEXT_USAGE_ACK : TEXT_UNKNOWN_NUMBER;
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
    struct db_param pf[] = {DB_STR(j->from), DB_STR(j->from)};

    memset(who, 0, sizeof *who);
    snprintf(who->lang, sizeof who->lang, "id");
    return db_query(c,
                    "SELECT k.id, k.lang, a.name,"
                    " (SELECT s.id FROM assistants s WHERE s.msisdn = ?), k.name"
                    " FROM (SELECT 1) one LEFT JOIN kpm k ON k.msisdn = ?"
                    " LEFT JOIN assistants a ON a.id = k.assistant_id",
                    pf, 2, sms_row_sender, who);
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
    if (x.who.kpm && (err = sms_dialog_pending(&x)) != 0)
        return err;
    if (!x.written && (err = sms_act(&x)) != 0)
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
