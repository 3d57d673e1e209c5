#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "dialog.h"
#include "parse.h"
#include "report.h"

#include <mysqld_error.h>

static const char *const report_sources[] = {"ussd", "sms"};

#include "auth.h"

#define REPORT_BUSINESS_COLS                                                                       \
    "INSERT INTO business_reports (kpm_id, msisdn, channel, session_id, source, status, kind,"     \
    " revenue, workers, difficulty, answers, input_path, started_at"
#define REPORT_BUSINESS_INSERT REPORT_BUSINESS_COLS ") VALUES "
#define REPORT_BUSINESS_ROW "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(? / 1000))"
#define REPORT_BUSINESS_PARAMS 13

/* LAST_INSERT_ID cannot tell many rows apart, so the insert returns each row's number with its
 * key; a row already there (a retried hop) comes back too, with its first number */
static const char *const report_business_batch_sql[DB_BATCH_SIZES] =
    DB_BATCH_SQL(REPORT_BUSINESS_INSERT, REPORT_BUSINESS_ROW,
                 " ON DUPLICATE KEY UPDATE id = id RETURNING id, channel, session_id, created_at");

/* kpm.last_report_at follows the reports saved (migration 014), in their transaction: the
 * created_at of the report, never moved back by a late commit */
static const char report_last_at_sql[] =
    "UPDATE kpm k JOIN business_reports b ON b.id = ? AND k.id = b.kpm_id"
    " SET k.last_report_at = GREATEST(COALESCE(k.last_report_at, b.created_at), b.created_at)";
/* A batch's rows share one created_at, the INSERT's statement time, which RETURNING gave: the
 * KPM of those rows get it, with no join (the join and GROUP BY of the reports cost MariaDB
 * more than the insert). Rows already there (a re-run) are older and were counted when they
 * were committed. */
static const char *const report_last_at_batch_sql[DB_BATCH_SIZES] =
    DB_BATCH_SQL("UPDATE kpm SET last_report_at = GREATEST(COALESCE(last_report_at, ?), ?)"
                 " WHERE id IN (",
                 "?", ")");

static int
report_last_at(struct db_conn *c, uint64_t id)
{
    struct db_param p[] = {DB_U64(id)};

    return id == 0 ? 0 : db_exec(c, report_last_at_sql, p, 1, NULL, NULL);
}

static void
report_answer(struct report_num *n, const struct dialog_session *ds, const char *field)
{
    const char *v = dialog_session_answer(ds, field);

    n->have = v != NULL && parse_u64(v, strlen(v), 0, UINT64_MAX, &n->v) == 0;
}

int
report_from_dialog(struct report *r, enum dialog_action action, const struct dialog_session *ds)
{
    const char *pkh;

    if (dialog_session_answers_json(ds, r->answers, sizeof r->answers) == -1)
        snprintf(r->answers, sizeof r->answers, "{}");
    switch (action) {
    case DIALOG_ACT_BUSINESS:
        r->kind = REPORT_BUSINESS;
        report_answer(&r->status, ds, "status");
        report_answer(&r->biz_kind, ds, "kind");
        report_answer(&r->revenue, ds, "revenue");
        report_answer(&r->workers, ds, "workers");
        report_answer(&r->difficulty, ds, "difficulty");
        return 0;
    case DIALOG_ACT_ATTENDANCE:
        r->kind = REPORT_ATTENDANCE;
        report_answer(&r->training, ds, "training_id");
        report_answer(&r->attended, ds, "attended");
        report_answer(&r->reason, ds, "reason");
        return 0;
    case DIALOG_ACT_HELP:
        r->kind = REPORT_HELP;
        report_answer(&r->topic, ds, "topic");
        return 0;
    case DIALOG_ACT_CHECKIN:
    case DIALOG_ACT_EXIT_SURVEY:
        r->kind = action == DIALOG_ACT_CHECKIN ? REPORT_CHECKIN : REPORT_EXIT_SURVEY;
        report_answer(&r->status, ds, "status");
        report_answer(&r->biz_kind, ds, "kind");
        report_answer(&r->revenue, ds, "revenue");
        report_answer(&r->workers, ds, "workers");
        report_answer(&r->difficulty, ds, "difficulty");
        report_answer(&r->topic, ds, "topic"); /* a check-in: she asked for help */
        return 0;
    case DIALOG_ACT_OPT_IN:
        r->kind = REPORT_OPT_IN;
        report_answer(&r->support, ds, "support");
        return r->support.have ? 0 : -1;
    case DIALOG_ACT_LINK:
        r->kind = REPORT_LINK;
        pkh = dialog_session_answer(ds, "pkh_number");
        snprintf(r->pkh, sizeof r->pkh, "%s", pkh != NULL ? pkh : "");
        return 0;
    case DIALOG_ACT_NONE:
        break;
    }
    return -1;
}

static struct db_param
report_opt(const struct report_num *n)
{
    return n->have ? DB_U64(n->v) : DB_NULL();
}

static struct db_param
report_started(const struct report *r)
{
    return r->started_ms > 0 ? DB_U64((uint64_t)r->started_ms) : DB_NULL();
}

static void
report_business_params(const struct report *r, struct db_param *p)
{
    p[0] = DB_U64(r->kpm_id);
    p[1] = DB_STR(r->msisdn);
    p[2] = DB_STR(r->channel);
    p[3] = DB_STR(r->session_id);
    p[4] = DB_STR(report_sources[r->source]);
    p[5] = report_opt(&r->status);
    p[6] = report_opt(&r->biz_kind);
    p[7] = report_opt(&r->revenue);
    p[8] = report_opt(&r->workers);
    p[9] = report_opt(&r->difficulty);
    p[10] = DB_STR(r->answers);
    p[11] = DB_STR(r->input_path);
    p[12] = report_started(r);
}

static int
report_save_attendance(struct db_conn *c, struct report *r)
{
    struct db_param p[] = {
        DB_U64(r->kpm_id),        report_opt(&r->training), DB_STR(r->msisdn),
        DB_STR(r->channel),       DB_STR(r->session_id),    DB_STR(report_sources[r->source]),
        report_opt(&r->attended), report_opt(&r->reason),   DB_STR(r->answers),
        DB_STR(r->input_path),    report_started(r)};

    return db_exec(c,
                   "INSERT INTO attendance_reports (kpm_id, training_id, msisdn, channel,"
                   " session_id, source, attended, reason, answers, input_path, started_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(? / 1000))"
                   " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                   p, 11, NULL, &r->id);
}

/*
 * The window of a request's alert, in the statement that inserts it: no second one while the KPM
 * has one of the rule that is not expired inside window_days (the last parameter). The KPM's row
 * is locked (FOR UPDATE), so two requests of one KPM committing at once decide in turn, and the
 * second sees the first's alert whatever the isolation level; both having read the row already
 * (the request's foreign key) is a deadlock, which re-runs one of the transactions (db.h).
 */
#define REPORT_ALERT_WINDOW(rule, kpm)                                                             \
    " AND NOT EXISTS (SELECT 1 FROM alerts x WHERE x.rule = '" rule "' AND x.kpm_id = " kpm        \
    " AND x.state <> 'expired' AND x.created_at > NOW(3) - INTERVAL ? DAY)"                        \
    " FOR UPDATE ON DUPLICATE KEY UPDATE id = alerts.id"

static unsigned
report_window(const struct report *r)
{
    return r->window_days > 0 ? r->window_days : CONFIG_WINDOW_DAYS;
}

/* A request and the alert it raises, whose first parameter is the request's number: a retry
 * finds both already there. Sending the alert is the alerts' and the outbox's work. */
static int
report_save_request(struct db_conn *c, struct report *r, const char *sql, const struct db_param *p,
                    size_t np, const char *alert_sql, struct db_param *a, size_t na)
{
    int err;

    if ((err = db_exec(c, sql, p, np, NULL, &r->id)) != 0)
        return err;
    a[0].u = r->id;
    return db_exec(c, alert_sql, a, na, NULL, NULL);
}

/* The request names the KPM's assistant (the one lookup), and its alert goes to that one. */
static int
report_save_help(struct db_conn *c, struct report *r)
{
    struct db_param p[] = {DB_U64(r->kpm_id),     DB_U64(r->kpm_id),
                           DB_STR(r->msisdn),     DB_STR(r->channel),
                           DB_STR(r->session_id), DB_STR(report_sources[r->source]),
                           report_opt(&r->topic), r->text != NULL ? DB_STR(r->text) : DB_NULL()};
    struct db_param a[] = {DB_U64(0), DB_U64(report_window(r))};

    return report_save_request(
        c, r,
        "INSERT INTO help_requests (kpm_id, assistant_id, msisdn, channel, session_id, source,"
        " topic, text) VALUES (?, (SELECT assistant_id FROM kpm WHERE id = ?), ?, ?, ?, ?, ?, ?)"
        " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
        p, 8,
        "INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency)"
        " SELECT 'help_requested', h.kpm_id, h.assistant_id, CONCAT('help:', h.id), 'immediate'"
        " FROM help_requests h JOIN kpm k ON k.id = h.kpm_id WHERE h.id = ?" REPORT_ALERT_WINDOW(
            "help_requested", "h.kpm_id"),
        a, 2);
}

/* An unknown phone asks to be linked to a PKH number; the alert goes to the assistant of the
 * KPM that number names, if it names one. */
static int
report_save_link(struct db_conn *c, struct report *r)
{
    struct db_param p[] = {DB_STR(r->msisdn), DB_STR(r->pkh), DB_STR(r->pkh), DB_STR(r->channel),
                           DB_STR(r->session_id)};
    struct db_param a[] = {DB_U64(0), DB_STR(r->pkh), DB_U64(report_window(r))};

    return report_save_request(
        c, r,
        "INSERT INTO link_requests (msisdn, pkh_number, kpm_id, channel, session_id)"
        " VALUES (?, ?, (SELECT id FROM kpm WHERE pkh_number = ?), ?, ?)"
        " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
        p, 5,
        "INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency)"
        " SELECT 'link_request', k.id, k.assistant_id, CONCAT('link:', ?), 'immediate'"
        " FROM kpm k WHERE k.pkh_number = ?" REPORT_ALERT_WINDOW("link_request", "k.id"),
        a, 3);
}

/* A welfare graduate's check-in is a business report of flow checkin (every figure that reads
 * business reports counts it); "I need help" is a help request of the same session, with its
 * alert exactly as Minta bantuan raises it. */
static int
report_save_checkin(struct db_conn *c, struct report *r)
{
    struct db_param p[REPORT_BUSINESS_PARAMS];
    uint64_t id;
    int err;

    report_business_params(r, p);
    if ((err = db_exec(c,
                       REPORT_BUSINESS_COLS ", flow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                            " FROM_UNIXTIME(? / 1000), 'checkin')"
                                            " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                       p, REPORT_BUSINESS_PARAMS, NULL, &r->id)) != 0 ||
        (err = report_last_at(c, r->id)) != 0 || !r->topic.have)
        return err;
    id = r->id;
    err = report_save_help(c, r);
    r->id = id;
    return err;
}

static int
report_row_u64(void *arg, char **v, unsigned long *len, unsigned n)
{
    (void)len;
    if (n >= 1 && v[0] != NULL)
        (void)parse_u64(v[0], strlen(v[0]), 0, UINT64_MAX, arg);
    return 0;
}

/* The exit survey of a natural graduate, once: the report only while kpm.exit_survey_at is
 * unset, which it then sets. A retried hop finds its own report; another session's second
 * survey writes nothing (id 0). */
static int
report_save_exit_survey(struct db_conn *c, struct report *r)
{
    struct db_param p[REPORT_BUSINESS_PARAMS + 1];
    struct db_param k[] = {DB_STR(r->channel), DB_STR(r->session_id)};
    struct db_param u[] = {DB_U64(r->kpm_id)};
    uint64_t n = 0;
    int err;

    r->id = 0;
    if ((err = db_query(c, "SELECT id FROM business_reports WHERE channel = ? AND session_id = ?",
                        k, 2, report_row_u64, &r->id)) != 0 ||
        r->id != 0)
        return err;
    report_business_params(r, p);
    p[REPORT_BUSINESS_PARAMS] = DB_U64(r->kpm_id);
    if ((err = db_exec(c,
                       REPORT_BUSINESS_COLS ", flow) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                                            " FROM_UNIXTIME(? / 1000), 'exit_survey' FROM kpm"
                                            " WHERE id = ? AND exit_survey_at IS NULL FOR UPDATE",
                       p, REPORT_BUSINESS_PARAMS + 1, &n, &r->id)) != 0 ||
        n == 0) {
        r->id = 0;
        return err;
    }
    if ((err = report_last_at(c, r->id)) != 0)
        return err;
    return db_exec(c, "UPDATE kpm SET exit_survey_at = NOW(3) WHERE id = ?", u, 1, NULL, NULL);
}

/* A natural graduate keeps business support, or stops it: the KPM's own choice, audited as
 * hers ("kpm:ID") when it changes, since it changes what the programme sends her. */
static int
report_save_opt_in(struct db_conn *c, struct report *r)
{
    struct db_param p[] = {DB_U64(r->support.v != 0), DB_U64(r->kpm_id)};
    char who[32];
    uint64_t n = 0;
    int err;

    r->id = r->kpm_id;
    if ((err = db_exec(c, "UPDATE kpm SET support_opt_in = ? WHERE id = ?", p, 2, &n, NULL)) != 0 ||
        n == 0)
        return err;
    snprintf(who, sizeof who, "kpm:%llu", (unsigned long long)r->kpm_id);
    return auth_audit(c, who, r->support.v ? "kpm.support_opt_in" : "kpm.support_opt_out", "kpm",
                      r->kpm_id, report_sources[r->source]);
}

int
report_save(struct db_conn *c, struct report *r)
{
    switch (r->kind) {
    case REPORT_BUSINESS:
        return report_save_business(c, &r, 1); /* a batch of one: the cheaper last_report_at */
    case REPORT_ATTENDANCE:
        return report_save_attendance(c, r);
    case REPORT_HELP:
        return report_save_help(c, r);
    case REPORT_LINK:
        return report_save_link(c, r);
    case REPORT_CHECKIN:
        return report_save_checkin(c, r);
    case REPORT_EXIT_SURVEY:
        return report_save_exit_survey(c, r);
    case REPORT_OPT_IN:
        return report_save_opt_in(c, r);
    }
    return ER_UNKNOWN_ERROR;
}

struct report_batch {
    struct report *const *r;
    size_t n;
    char at[DB_BATCH_MAX][32]; /* created_at of r[i]'s row */
};

static int
report_row_id(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct report_batch *b = arg;
    uint64_t id;
    size_t i;

    (void)len;
    if (n < 4 || v[0] == NULL || v[1] == NULL || v[2] == NULL || v[3] == NULL ||
        parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &id) == -1)
        return 0;
    for (i = 0; i < b->n; i++)
        if (strcmp(b->r[i]->channel, v[1]) == 0 && strcmp(b->r[i]->session_id, v[2]) == 0) {
            b->r[i]->id = id;
            snprintf(b->at[i], sizeof b->at[i], "%s", v[3]);
        }
    return 0;
}

int
report_save_business(struct db_conn *c, struct report *const *r, size_t n)
{
    static _Thread_local struct db_param p[DB_BATCH_MAX * REPORT_BUSINESS_PARAMS];
    static _Thread_local struct report_batch b;
    const char *last = "";
    size_t i, m, rows, k;
    int err;

    if (n == 0 || n > DB_BATCH_MAX)
        return ER_UNKNOWN_ERROR;
    k = db_batch_size(n, &rows);
    for (i = 0; i < rows; i++)
        report_business_params(r[i < n ? i : n - 1], &p[i * REPORT_BUSINESS_PARAMS]);
    b.r = r;
    b.n = n;
    for (i = 0; i < n; i++) {
        r[i]->id = 0;
        b.at[i][0] = '\0';
    }
    /* one round trip: the rows and their numbers (INSERT ... RETURNING, MariaDB 10.5) */
    if ((err = db_query(c, report_business_batch_sql[k], p, rows * REPORT_BUSINESS_PARAMS,
                        report_row_id, &b)) != 0)
        return err;
    for (i = 0; i < n; i++)
        if (r[i]->id == 0)
            return ER_NO_REFERENCED_ROW; /* cannot happen after the insert: say so loudly */
    /* the statement's time: the latest of the rows ("YYYY-MM-DD hh:mm:ss.fff" sorts as text) */
    for (i = 0; i < n; i++)
        if (strcmp(b.at[i], last) > 0)
            last = b.at[i];
    p[0] = DB_STR(last);
    p[1] = DB_STR(last);
    for (i = 0, m = 0; i < n; i++)
        if (strcmp(b.at[i], last) == 0)
            p[2 + m++] = DB_U64(r[i]->kpm_id);
    k = db_batch_size(m, &rows);
    for (i = m; i < rows; i++)
        p[2 + i] = p[2 + m - 1];
    return db_exec(c, report_last_at_batch_sql[k], p, 2 + rows, NULL, NULL);
}
