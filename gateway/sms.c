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
    uint64_t kpm_id, assistant_id;
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
    if (n < 6)
        return 1;
    if (v[0] != NULL && parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &s->kpm_id) == 0) {
        s->kpm = 1;
        snprintf(s->lang, sizeof s->lang, "%s", v[1] != NULL ? v[1] : "id");
        if (v[2] != NULL)
            parse_u64(v[2], strlen(v[2]), 1, UINT64_MAX, &s->assistant_id);
        snprintf(s->assistant_name, sizeof s->assistant_name, "%s", v[3] != NULL ? v[3] : "");
    }
    if (v[4] != NULL && parse_u64(v[4], strlen(v[4]), 1, UINT64_MAX, &s->as_assistant_id) == 0)
        s->is_assistant = 1;
    snprintf(s->name, sizeof s->name, "%s", v[5] != NULL ? v[5] : "");
    return 1;
}

struct sms_training {
    uint64_t id;
    char title[101];
};

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

/*
 * The business report one question per SMS (a bare USAHA), driven by the same dialogs as USSD:
 * the answers so far are a path in sms_dialogs, replayed through the engine with the new one.
 * The next question, or the saved text once the report is committed with this transaction,
 * goes into reply. Returns 0 or a MariaDB error.
 */
static int
sms_dialog(struct db_conn *c, struct sms_job *j, const struct sms_sender *who, char *path,
           const char *answer, size_t alen, char *reply, size_t replylen)
{
    struct dialog_session *ds;
    struct dialog_ctx ctx;
    struct dialog_out out;
    struct db_param pm[] = {DB_STR(j->from)};
    size_t i, start, plen;
    int err = 0, started = path[0] == '\0';

    if (started) {
        snprintf(path, 1025, "1"); /* the main menu's "Lapor usaha" */
    } else {
        plen = strlen(path);
        /* '*' separates the answers in a path: one typed in an answer is dropped */
        if (plen + 1 + alen >= 1025)
            alen = 0;
        path[plen++] = '*';
        for (i = 0; i < alen; i++)
            if (answer[i] != '*' && answer[i] != '\n' && answer[i] != '\r')
                path[plen++] = answer[i];
        path[plen] = '\0';
    }
    memset(&ctx, 0, sizeof ctx);
    ctx.registered = 1;
    ctx.kpm_id = who->kpm_id;
    snprintf(ctx.lang, sizeof ctx.lang, "%s", who->lang);
    snprintf(ctx.kpm_name, sizeof ctx.kpm_name, "%s", who->name);
    snprintf(ctx.assistant_name, sizeof ctx.assistant_name, "%s", who->assistant_name);
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
    if (out.action == DIALOG_ACT_BUSINESS) {
        char answers[1024], session[80];
        uint64_t f[5] = {0, 0, 0, 0, 0}, id = 0;
        int have[5];
        static const char *const names[5] = {"status", "kind", "revenue", "workers", "difficulty"};

        for (i = 0; i < 5; i++) {
            const char *v = dialog_session_answer(ds, names[i]);

            have[i] = v != NULL && parse_u64(v, strlen(v), 0, UINT64_MAX, &f[i]) == 0;
        }
        if (dialog_session_answers_json(ds, answers, sizeof answers) == -1)
            snprintf(answers, sizeof answers, "{}");
        snprintf(session, sizeof session, "sms:%s", j->msg_id);
        {
            struct db_param p[] = {DB_U64(who->kpm_id),
                                   DB_STR(j->from),
                                   DB_STR(j->channel),
                                   DB_STR(session),
                                   have[0] ? DB_U64(f[0]) : DB_NULL(),
                                   have[1] ? DB_U64(f[1]) : DB_NULL(),
                                   have[2] ? DB_U64(f[2]) : DB_NULL(),
                                   have[3] ? DB_U64(f[3]) : DB_NULL(),
                                   have[4] ? DB_U64(f[4]) : DB_NULL(),
                                   DB_STR(answers),
                                   DB_STR(path)};

            err = db_exec(c,
                          "INSERT INTO business_reports (kpm_id, msisdn, channel, session_id,"
                          " source, status, kind, revenue, workers, difficulty, answers,"
                          " input_path) VALUES (?, ?, ?, ?, 'sms', ?, ?, ?, ?, ?, ?, ?)"
                          " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                          p, 11, NULL, &id);
        }
        /* the same transaction commits the report and queues this text */
        dialog_session_committed(ds, err == 0, id, &out);
    }
    snprintf(reply, replylen, "%s", out.screen);
    if (err == 0 && (out.end || out.action != DIALOG_ACT_NONE)) {
        err = db_exec(c, "DELETE FROM sms_dialogs WHERE msisdn = ?", pm, 1, NULL, NULL);
    } else if (err == 0) {
        struct db_param p[] = {DB_STR(j->from), DB_U64(who->kpm_id), DB_STR(path)};

        /* an unanswered dialog is forgotten after a day */
        err = db_exec(c,
                      "INSERT INTO sms_dialogs (msisdn, kpm_id, input_path, expires_at)"
                      " VALUES (?, ?, ?, NOW(3) + INTERVAL 1 DAY) ON DUPLICATE KEY UPDATE"
                      " input_path = VALUES(input_path), expires_at = VALUES(expires_at)",
                      p, 3, NULL, NULL);
    }
    dialog_session_free(ds);
    return err;
}

/* Step two, one transaction: act on the keyword, queue the reply, mark the message done. */
static int
sms_process_work(struct db_conn *c, void *arg)
{
    struct sms_job *j = arg;
    const struct texts *x = j->cfg->texts;
    struct sms_sender who;
    struct sms_training tr; /* its title goes into the reply, after the switch */
    struct keyword_msg k;
    struct db_param pf[] = {DB_STR(j->from), DB_STR(j->from)};
    char session[80], idbuf[24] = "", key[128];
    enum text_id t = TEXT_USAGE;
    const char *title = NULL;
    uint64_t id = 0, affected = 0;
    int en, err;

    {
        struct db_param pi[] = {DB_U64(j->inbound_id)};

        /* two deliveries of one message (a retry racing the first) take turns here, and the
         * second finds it done */
        j->processed = 0;
        if ((err = db_query(c, "SELECT state, reply FROM inbound_messages WHERE id = ? FOR UPDATE",
                            pi, 1, sms_row_state, j)) != 0)
            return err;
        if (j->processed)
            return 0;
    }
    memset(&who, 0, sizeof who);
    snprintf(who.lang, sizeof who.lang, "id");
    if ((err = db_query(c,
                        "SELECT k.id, k.lang, k.assistant_id, a.name,"
                        " (SELECT s.id FROM assistants s WHERE s.msisdn = ?), k.name"
                        " FROM (SELECT 1) one LEFT JOIN kpm k ON k.msisdn = ?"
                        " LEFT JOIN assistants a ON a.id = k.assistant_id",
                        pf, 2, sms_row_sender, &who)) != 0)
        return err;
    if (keyword_parse(j->cfg->keywords, j->text, j->text_len, &k) == -1) {
        memset(&k, 0, sizeof k);
        k.error = KWE_UNKNOWN;
    }
    en = strcmp(k.lang_known ? k.lang : who.lang, "en") == 0;
    snprintf(session, sizeof session, "sms:%s", j->msg_id);
    if (who.kpm) {
        char path[1025] = "";
        struct db_param pm[] = {DB_STR(j->from)};

        if ((err = db_query(c,
                            "SELECT input_path FROM sms_dialogs WHERE msisdn = ?"
                            " AND expires_at > NOW(3) FOR UPDATE",
                            pm, 1, sms_row_path, path)) != 0)
            return err;
        if (k.cmd == KW_BUSINESS_DIALOG && k.error == KWE_OK) {
            path[0] = '\0';
            if ((err = sms_dialog(c, j, &who, path, NULL, 0, j->reply, sizeof j->reply)) != 0)
                return err;
            goto queue;
        }
        if (path[0] != '\0' && k.error == KWE_UNKNOWN) {
            /* not a keyword while a dialog waits: it is the answer to its question */
            const char *a = j->text;
            size_t alen = j->text_len;

            while (alen > 0 && (*a == ' ' || *a == '\t'))
                a++, alen--;
            while (alen > 0 && (a[alen - 1] == ' ' || a[alen - 1] == '\t' || a[alen - 1] == '.' ||
                                a[alen - 1] == '\n' || a[alen - 1] == '\r'))
                alen--;
            if ((err = sms_dialog(c, j, &who, path, a, alen, j->reply, sizeof j->reply)) != 0)
                return err;
            goto queue;
        }
        if (path[0] != '\0' &&
            (err = db_exec(c, "DELETE FROM sms_dialogs WHERE msisdn = ?", pm, 1, NULL, NULL)) != 0)
            return err;
    }
    if (k.error == KWE_OK && k.cmd == KW_ACK && who.is_assistant) {
        struct db_param p[] = {DB_U64(k.alert_id), DB_U64(who.as_assistant_id)};

        /* only the assistant the alert was raised for can close it */
        if ((err = db_exec(c,
                           "UPDATE alerts SET state = 'acknowledged', acked_at = NOW(3)"
                           " WHERE id = ? AND assistant_id = ? AND state IN ('new', 'sent')",
                           p, 2, &affected, NULL)) != 0)
            return err;
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)k.alert_id);
        t = affected == 1 ? TEXT_ACK_OK : TEXT_ACK_UNKNOWN;
    } else if (!who.kpm && who.is_assistant) {
        /* an assistant's phone only acknowledges alerts */
        t = TEXT_USAGE_ACK;
    } else if (!who.kpm) {
        /* an unknown number learns nothing about anyone */
        t = TEXT_UNKNOWN_NUMBER;
    } else if (k.error != KWE_OK) {
        switch (k.cmd) {
        case KW_BUSINESS:
        case KW_BUSINESS_DIALOG:
            t = TEXT_USAGE_BUSINESS;
            break;
        case KW_ATTEND:
            t = TEXT_USAGE_ATTEND;
            break;
        case KW_ABSENT:
            t = TEXT_USAGE_ABSENT;
            break;
        default: /* a KPM's "ok, terima kasih" is not an acknowledgement */
            t = TEXT_USAGE;
        }
    } else {
        switch (k.cmd) {
        case KW_BUSINESS: {
            char answers[160];

            snprintf(answers, sizeof answers, "{\"status\":\"%u\"", k.status);
            if (k.has_revenue)
                snprintf(answers + strlen(answers), sizeof answers - strlen(answers),
                         ",\"revenue\":\"%llu\"", (unsigned long long)k.revenue);
            if (k.has_workers)
                snprintf(answers + strlen(answers), sizeof answers - strlen(answers),
                         ",\"workers\":\"%u\"", k.workers);
            strcat(answers, "}");
            /* the parameters take the strings' lengths now: build them first */
            struct db_param p[] = {DB_U64(who.kpm_id),
                                   DB_STR(j->from),
                                   DB_STR(j->channel),
                                   DB_STR(session),
                                   DB_U64(k.status),
                                   k.has_revenue ? DB_U64(k.revenue) : DB_NULL(),
                                   k.has_workers ? DB_U64(k.workers) : DB_NULL(),
                                   DB_STR(answers),
                                   DB_STRN(j->text, j->text_len > 1024 ? 1024 : j->text_len)};

            if ((err = db_exec(c,
                               "INSERT INTO business_reports (kpm_id, msisdn, channel, session_id,"
                               " source, status, revenue, workers, answers, input_path)"
                               " VALUES (?, ?, ?, ?, 'sms', ?, ?, ?, ?, ?)"
                               " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                               p, 9, NULL, &id)) != 0)
                return err;
            t = TEXT_BUSINESS_SAVED;
            break;
        }
        case KW_BUSINESS_DIALOG: /* handled above, with the dialogs */
            t = TEXT_USAGE_BUSINESS;
            break;
        case KW_ATTEND:
        case KW_ABSENT: {
            struct db_param pt[] = {DB_U64(who.kpm_id), DB_STR(k.code)};

            memset(&tr, 0, sizeof tr);
            if ((err = db_query(c,
                                "SELECT t.id, t.title FROM enrollments e"
                                " JOIN trainings t ON t.id = e.training_id"
                                " WHERE e.kpm_id = ? AND t.attendance_code = ?"
                                " AND t.starts_at >= NOW() - INTERVAL 30 DAY"
                                " AND t.starts_at <= NOW() + INTERVAL 1 DAY"
                                " ORDER BY t.starts_at DESC LIMIT 1",
                                pt, 2, sms_row_training, &tr)) != 0)
                return err;
            if (tr.id == 0) {
                t = TEXT_UNKNOWN_CODE;
                break;
            }
            {
                char answers[96];

                snprintf(answers, sizeof answers,
                         "{\"training_id\":\"%llu\",\"attended\":\"%d\",\"code\":\"%s\"}",
                         (unsigned long long)tr.id, k.cmd == KW_ATTEND, k.code);
                struct db_param p[] = {DB_U64(who.kpm_id),
                                       DB_U64(tr.id),
                                       DB_STR(j->from),
                                       DB_STR(j->channel),
                                       DB_STR(session),
                                       DB_U64(k.cmd == KW_ATTEND),
                                       k.reason ? DB_U64(k.reason) : DB_NULL(),
                                       DB_STR(answers),
                                       DB_STRN(j->text, j->text_len > 1024 ? 1024 : j->text_len)};

                if ((err = db_exec(c,
                                   "INSERT INTO attendance_reports (kpm_id, training_id, msisdn,"
                                   " channel, session_id, source, attended, reason, answers,"
                                   " input_path) VALUES (?, ?, ?, ?, ?, 'sms', ?, ?, ?, ?)"
                                   " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                                   p, 9, NULL, &id)) != 0)
                    return err;
            }
            title = tr.title;
            t = k.cmd == KW_ATTEND ? TEXT_ATTEND_SAVED : TEXT_ABSENT_SAVED;
            break;
        }
        case KW_HELP: {
            struct db_param p[] = {DB_U64(who.kpm_id), DB_U64(who.assistant_id), DB_STR(j->from),
                                   DB_STR(j->channel), DB_STR(session),          DB_STR(k.text)};
            struct db_param a[] = {DB_U64(who.kpm_id), DB_U64(who.assistant_id), DB_U64(0)};

            if ((err =
                     db_exec(c,
                             "INSERT INTO help_requests (kpm_id, assistant_id, msisdn, channel,"
                             " session_id, source, topic, text) VALUES (?, ?, ?, ?, ?, 'sms', 4, ?)"
                             " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                             p, 6, NULL, &id)) != 0)
                return err;
            a[2].u = id;
            if ((err =
                     db_exec(c,
                             "INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency)"
                             " VALUES ('help_requested', ?, ?, CONCAT('help:', ?), 'immediate')"
                             " ON DUPLICATE KEY UPDATE id = id",
                             a, 3, NULL, NULL)) != 0)
                return err;
            t = TEXT_HELP_SAVED;
            break;
        }
        case KW_STOP:
        case KW_START: {
            struct db_param p[] = {DB_U64(k.cmd == KW_START), DB_U64(who.kpm_id)};

            if ((err = db_exec(c, "UPDATE kpm SET reminders = ? WHERE id = ?", p, 2, NULL, NULL)) !=
                0)
                return err;
            t = k.cmd == KW_STOP ? TEXT_STOPPED : TEXT_STARTED;
            break;
        }
        case KW_INFO:
            t = TEXT_INFO;
            break;
        case KW_ACK: /* OK n from a KPM's phone: not an assistant, nothing changes */
        case KW_NONE:
            t = TEXT_USAGE;
            break;
        }
    }
    if (id != 0)
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)id);
    sms_render(x, t, en, idbuf, title, k.code, who.assistant_name, j->reply, sizeof j->reply);
queue : {
    struct outbox_msg m = {
        key, j->from, j->reply, "reply", 2, j->provider, j->cfg->outbox.max_segments};
    struct db_param p[] = {DB_STR(j->reply), DB_U64(j->inbound_id)};
    uint64_t oid;

    snprintf(key, sizeof key, "reply:%s:%s", j->channel, j->msg_id);
    err = outbox_queue(c, &m, &oid);
    if (err == OUTBOX_TOO_LONG) {
        /* a configured text too long to send: the short usage goes instead */
        sms_render(x, TEXT_USAGE, en, "", NULL, NULL, NULL, j->reply, sizeof j->reply);
        err = outbox_queue(c, &m, &oid);
    }
    if (err != 0)
        return err == OUTBOX_TOO_LONG ? 1 : err;
    return db_exec(c, "UPDATE inbound_messages SET state = 'processed', reply = ? WHERE id = ?", p,
                   2, NULL, NULL);
}
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
