#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "alerts.h"
#include "config.h"
#include "db.h"
#include "lease.h"
#include "lesson.h"
#include "log.h"
#include "outbox.h"
#include "parse.h"
#include "texts.h"

#define ALERTS_BATCH 200
/* the hour of the day in an assistant's (s) zone; KPM follow their assistant's */
#define ALERTS_LOCAL(t)                                                                            \
    "(" t " + INTERVAL (CASE s.tz WHEN 'WITA' THEN 8 WHEN 'WIT' THEN 9 ELSE 7 END) HOUR)"
/* the order in which a digest names KPM: who needs a call first */
static const int alerts_weight[RULE_COUNT] = {2, 1, 3, 5, 4, 6, 7, 2};
static const char *const alerts_label[RULE_COUNT] = {
    "usaha tutup", "minta bantuan",  "absen pelatihan",    "tidak lapor",
    "omzet turun", "calon graduasi", "minta hubung nomor", "risiko kambuh",
};

static struct {
    struct event_base *base;
    struct config *cfg;
    struct event *tick;
    int running, stopping;
} al;

struct alerts_job {
    struct config *cfg;
    char now[20];
    unsigned sent, digests, reminders;
    unsigned runs; /* of the work: more than one, and what an earlier run queued may be unsent */
    int held;      /* this kabard holds the alerts lease: it ran the tick */
    uint64_t mark, next_mark; /* the watermark read, and where this tick moves it */
    uint64_t upto;            /* the last report this tick reads (ALERTS_REPORTS_CAP) */
    uint64_t new_reports, raised;
    struct timespec t0;
};

/* In the quiet hours of the zone: the local hour within [start, end), which may wrap
 * midnight (21-7). Parameters: now, start, end, start. */
/* (hours are bound signed: with an unsigned operand MariaDB subtracts unsigned) */
#define ALERTS_QUIET "(MOD(HOUR(" ALERTS_LOCAL("?") ") - ? + 24, 24) < MOD(? - ? + 24, 24))"

static int alerts_count_cb(void *arg, char **v, unsigned long *len, unsigned n);

/* ---- raising */

/* What a rule's statement is given, in order (the list ends at ALERTS_END). */
enum alerts_param {
    ALERTS_END,
    ALERTS_NOW,
    ALERTS_URGENCY, /* the rule's: immediate or digest */
    ALERTS_WINDOW,  /* window_days: no second alert for the rule and KPM inside it */
    ALERTS_DAYS,
    ALERTS_WEEKS,
    ALERTS_KEEP, /* 100 - percent: what is left of the previous revenue at most */
    ALERTS_MONTHS,
    ALERTS_MONTHS_1, /* months - 1 */
    ALERTS_REVENUE,
    ALERTS_TRACKS,    /* the rule's tracks: three parameters, for ALERTS_IN_TRACKS */
    ALERTS_FOLLOW_UP, /* follow-up months: welfare's, then natural's (two parameters) */
    ALERTS_MARK,      /* the watermark: the business_reports id the report rules read above */
    ALERTS_MARK_TO    /* ... and up to (ALERTS_REPORTS_CAP) */
};

#define ALERTS_KINDS 18  /* of a rule's list */
#define ALERTS_PARAMS 24 /* what they stand for, at most */
/* the KPM (k) is on one of the given tracks; parameters: alerts_tracks() */
#define ALERTS_IN_TRACKS " k.graduation IN (?, ?, ?)"
/* inside her follow-up period, or never graduated; parameters: the follow-up months of welfare
 * and natural, now */
#define ALERTS_FOLLOWED_UP                                                                         \
    " (k.graduation = 'none' OR k.graduated_on + INTERVAL"                                         \
    " (CASE k.graduation WHEN 'welfare' THEN ? ELSE ? END) MONTH > ?)"
/* one alert per KPM a rule names; parameters: urgency, created_at (unless the key takes one) */
#define ALERTS_INSERT(rule)                                                                        \
    "INSERT INTO alerts (rule, kpm_id, assistant_id, dedupe_key, urgency,"                         \
    " created_at) SELECT '" rule "', k.id, k.assistant_id, "
/* The alerts of one KPM, by her index: statistics taken while a rule raised thousands of
 * alerts at once can make a scan of alerts look cheaper, per KPM (seen: 99M rows examined). */
#define ALERTS_OF_KPM(x) " alerts " x " FORCE INDEX (idx_alerts_kpm_created) "
/* none for this rule and KPM inside the window; parameters: now, window_days */
#define ALERTS_RECENT(rule)                                                                        \
    " AND NOT EXISTS (SELECT 1 FROM" ALERTS_OF_KPM("x") "WHERE x.rule = '" rule "'"                \
                                                        " AND x.kpm_id = k.id"                     \
                                                        " AND x.created_at > ? - INTERVAL ? DAY)"
#define ALERTS_UPSERT " ON DUPLICATE KEY UPDATE id = alerts.id"

static const char alerts_business_closed[] = ALERTS_INSERT(
    "business_closed") "CONCAT('business_closed:', MIN(b.id)), ?, ?"
                       " FROM business_reports b JOIN kpm k ON k.id = b.kpm_id"
                       " WHERE b.id > ? AND b.id <= ? AND b.status IN (2, 3) AND b.created_at > ? "
                       "- INTERVAL 2 DAY"
                       " AND b.created_at <= ? AND" ALERTS_IN_TRACKS ALERTS_RECENT(
                           "business_closed") " GROUP BY k.id" ALERTS_UPSERT;

/* reported absent, or silent N days after a training the KPM was enrolled in */
static const char alerts_training_missed[] = ALERTS_INSERT(
    "training_missed") "CONCAT('training_missed:', k.id, ':', MIN(t.id)), ?, ?"
                       " FROM enrollments e JOIN kpm k ON k.id = e.kpm_id"
                       " JOIN trainings t ON t.id = e.training_id"
                       " LEFT JOIN attendance_reports ar"
                       "  ON ar.kpm_id = k.id AND ar.training_id = t.id"
                       " WHERE t.starts_at > ? - INTERVAL 30 DAY AND" ALERTS_IN_TRACKS
                       " AND ((ar.id IS NOT NULL AND ar.attended = 0)"
                       "  OR (ar.id IS NULL AND t.starts_at <= ? - INTERVAL ? DAY))" ALERTS_RECENT(
                           "training_missed") " GROUP BY k.id" ALERTS_UPSERT;

/* The silent rule walks idx_kpm_last_report (never-reported KPM first, by id, then by the
 * time of the last report) from the cursor in alert_marks, ALERTS_SILENT_CAP entries a tick:
 * a tick costs the same whether ten or nine hundred thousand KPM are silent. Parameters: the
 * cursor (its id, or its time twice and its id), now, weeks, the cap. */
#define ALERTS_SILENT_CAP 20000
#define ALERTS_SILENT_ORDER                                                                        \
    " AND (w.last_report_at IS NULL OR w.last_report_at <= ? - INTERVAL ? WEEK)"                   \
    " ORDER BY w.last_report_at, w.id LIMIT ?"
static const char alerts_silent_window_null[] =
    "SELECT w.id, w.last_report_at FROM kpm w FORCE INDEX (idx_kpm_last_report)"
    " WHERE ((w.last_report_at IS NULL AND w.id > ?) OR w.last_report_at IS NOT "
    "NULL)" ALERTS_SILENT_ORDER;
static const char alerts_silent_window_at[] =
    "SELECT w.id, w.last_report_at FROM kpm w FORCE INDEX (idx_kpm_last_report)"
    " WHERE (w.last_report_at > ? OR (w.last_report_at = ? AND w.id > ?))" ALERTS_SILENT_ORDER;
/* the KPM of the window (alerts_silent()); first parameters: date, urgency, now, then the
 * window's; last: tracks, follow-up, now, now, weeks, now, window_days */
#define ALERTS_SILENT(window)                                                                      \
    ALERTS_INSERT("silent")                                                                        \
    "CONCAT('silent:', k.id, ':', DATE_FORMAT(?, '%Y-%m-%d')), ?, ?"                               \
    " FROM (SELECT w.id" window ") ww JOIN kpm k ON k.id = ww.id"                                  \
    " WHERE" ALERTS_IN_TRACKS " AND" ALERTS_FOLLOWED_UP                                            \
    " AND k.created_at <= ? - INTERVAL ? WEEK" ALERTS_RECENT("silent") ALERTS_UPSERT
static const char alerts_silent_null[] =
    ALERTS_SILENT(" FROM kpm w FORCE INDEX (idx_kpm_last_report) WHERE ((w.last_report_at IS NULL"
                  " AND w.id > ?) OR w.last_report_at IS NOT NULL)" ALERTS_SILENT_ORDER);
static const char alerts_silent_at[] =
    ALERTS_SILENT(" FROM kpm w FORCE INDEX (idx_kpm_last_report) WHERE (w.last_report_at > ?"
                  " OR (w.last_report_at = ? AND w.id > ?))" ALERTS_SILENT_ORDER);

static const char alerts_revenue_drop[] = ALERTS_INSERT(
    "revenue_drop") "CONCAT('revenue_drop:', MAX(b.id)), ?, ?"
                    " FROM business_reports b JOIN kpm k ON k.id = b.kpm_id"
                    " JOIN business_reports p ON p.id = (SELECT p2.id FROM business_reports p2"
                    "  WHERE p2.kpm_id = b.kpm_id AND p2.revenue IS NOT NULL"
                    "  AND (p2.created_at, p2.id) < (b.created_at, b.id)"
                    "  ORDER BY p2.created_at DESC, p2.id DESC LIMIT 1)"
                    " WHERE b.id > ? AND b.id <= ? AND b.revenue IS NOT NULL AND b.created_at > ? "
                    "- INTERVAL 2 "
                    "DAY"
                    " AND b.created_at <= ? AND p.revenue > 0"
                    " AND b.revenue * 100 <= p.revenue * ? AND" ALERTS_IN_TRACKS ALERTS_RECENT(
                        "revenue_drop") " GROUP BY k.id" ALERTS_UPSERT;

/* each of the last K months has a running business at or above the threshold, and no report
 * in them says otherwise. Only for a KPM who reported in the last two days (the index on
 * business_reports.created_at, never a scan of kpm), who has not graduated, is not snoozed (a
 * declined candidate: candidate_snooze_until, a day in WIB), and whose candidacy is neither
 * open (new, sent, or acknowledged as later) nor confirmed: a decided candidate never comes
 * back every month. */
static const char alerts_graduation[] = ALERTS_INSERT(
    "graduation") "CONCAT('graduation:', k.id, ':', DATE_FORMAT(?, '%Y-%m')), ?, ?"
                  " FROM (SELECT DISTINCT r.kpm_id FROM business_reports r"
                  "  WHERE r.id > ? AND r.id <= ? AND r.created_at > ? - INTERVAL 2 DAY AND "
                  "r.created_at <= ?) rr"
                  " JOIN kpm k ON k.id = rr.kpm_id"
                  " WHERE k.graduation = 'none' AND" ALERTS_IN_TRACKS
                  " AND (k.candidate_snooze_until IS NULL"
                  "  OR k.candidate_snooze_until <= DATE(? + INTERVAL 7 HOUR))"
                  " AND NOT EXISTS (SELECT 1 FROM" ALERTS_OF_KPM(
                      "c") "WHERE c.kpm_id = k.id"
                           "  AND c.rule = 'graduation' AND (c.state IN ('new', 'sent')"
                           "  OR c.outcome = 'confirmed' OR (c.outcome = 'later' AND c.state <> "
                           "'expired')))"
                           " AND (SELECT COUNT(DISTINCT DATE_FORMAT(b.created_at, '%Y-%m'))"
                           "  FROM business_reports b WHERE b.kpm_id = k.id AND b.status = 1"
                           "  AND b.created_at >= DATE_FORMAT(? - INTERVAL ? MONTH, '%Y-%m-01')"
                           "  AND b.revenue >= ?) = ?"
                           " AND NOT EXISTS (SELECT 1 FROM business_reports b WHERE b.kpm_id = k.id"
                           "  AND b.created_at >= DATE_FORMAT(? - INTERVAL ? MONTH, '%Y-%m-01')"
                           "  AND (b.status <> 1 OR COALESCE(b.revenue, 0) < ?))" ALERTS_RECENT(
                               "graduation") ALERTS_UPSERT;

/* A graduate's new report (the last two days) inside `months` after her graduation that says
 * her business is closed or paused (as business_closed reads 2 and 3), or whose revenue is at
 * most (100 - percent) % of her report before: one alert per report, no window. */
static const char alerts_relapse[] = ALERTS_INSERT(
    "relapse") "CONCAT('relapse:', b.id), ?, ?"
               " FROM business_reports b JOIN kpm k ON k.id = b.kpm_id"
               " LEFT JOIN business_reports p ON p.id = (SELECT p2.id FROM business_reports p2"
               "  WHERE p2.kpm_id = b.kpm_id AND p2.revenue IS NOT NULL"
               "  AND (p2.created_at, p2.id) < (b.created_at, b.id)"
               "  ORDER BY p2.created_at DESC, p2.id DESC LIMIT 1)"
               " WHERE b.id > ? AND b.id <= ? AND b.created_at > ? - INTERVAL 2 DAY AND "
               "b.created_at <= ? "
               "AND" ALERTS_IN_TRACKS
               " AND k.graduated_on IS NOT NULL AND b.created_at >= k.graduated_on"
               " AND b.created_at < k.graduated_on + INTERVAL ? MONTH"
               " AND (b.status IN (2, 3) OR (b.revenue IS NOT NULL AND p.revenue > 0"
               "  AND b.revenue * 100 <= p.revenue * ?))" ALERTS_UPSERT;

/* in the order of enum config_rule; help and link requests raise theirs where they are saved
 * (report.c, with the same window) */
static const struct alerts_rule {
    const char *sql;
    enum alerts_param p[ALERTS_KINDS + 1];
} alerts_rules[RULE_COUNT] = {
    [RULE_BUSINESS_CLOSED] = {alerts_business_closed,
                              {ALERTS_URGENCY, ALERTS_NOW, ALERTS_MARK, ALERTS_MARK_TO, ALERTS_NOW,
                               ALERTS_NOW, ALERTS_TRACKS, ALERTS_NOW, ALERTS_WINDOW}},
    [RULE_HELP_REQUESTED] = {NULL, {ALERTS_END}},
    [RULE_TRAINING_MISSED] = {alerts_training_missed,
                              {ALERTS_URGENCY, ALERTS_NOW, ALERTS_NOW, ALERTS_TRACKS, ALERTS_NOW,
                               ALERTS_DAYS, ALERTS_NOW, ALERTS_WINDOW}},
    /* its own walk: alerts_silent() */
    [RULE_SILENT] = {NULL, {ALERTS_END}},
    [RULE_REVENUE_DROP] = {alerts_revenue_drop,
                           {ALERTS_URGENCY, ALERTS_NOW, ALERTS_MARK, ALERTS_MARK_TO, ALERTS_NOW,
                            ALERTS_NOW, ALERTS_KEEP, ALERTS_TRACKS, ALERTS_NOW, ALERTS_WINDOW}},
    [RULE_GRADUATION] = {alerts_graduation,
                         {ALERTS_NOW, ALERTS_URGENCY, ALERTS_NOW, ALERTS_MARK, ALERTS_MARK_TO,
                          ALERTS_NOW, ALERTS_NOW, ALERTS_TRACKS, ALERTS_NOW, ALERTS_NOW,
                          ALERTS_MONTHS_1, ALERTS_REVENUE, ALERTS_MONTHS, ALERTS_NOW,
                          ALERTS_MONTHS_1, ALERTS_REVENUE, ALERTS_NOW, ALERTS_WINDOW}},
    [RULE_LINK_REQUEST] = {NULL, {ALERTS_END}},
    [RULE_RELAPSE] = {alerts_relapse,
                      {ALERTS_URGENCY, ALERTS_NOW, ALERTS_MARK, ALERTS_MARK_TO, ALERTS_NOW,
                       ALERTS_NOW, ALERTS_TRACKS, ALERTS_MONTHS, ALERTS_KEEP}},
};

static struct db_param
alerts_param_one(enum alerts_param k, const struct alerts_job *j, const struct config_alert_rule *r)
{
    switch (k) {
    case ALERTS_NOW:
        return DB_STR(j->now);
    case ALERTS_URGENCY:
        return DB_STR(r->immediate ? "immediate" : "digest");
    case ALERTS_WINDOW:
        return DB_U64(j->cfg->alerts.window_days);
    case ALERTS_DAYS:
        return DB_U64(r->days);
    case ALERTS_WEEKS:
        return DB_U64(r->weeks);
    case ALERTS_KEEP:
        return DB_U64(100 - r->percent);
    case ALERTS_MONTHS:
        return DB_U64(r->months);
    case ALERTS_MONTHS_1:
        return DB_U64(r->months - 1);
    case ALERTS_REVENUE:
        return DB_U64(r->revenue);
    case ALERTS_MARK:
        return DB_U64(j->mark);
    case ALERTS_MARK_TO:
        return DB_U64(j->upto);
    case ALERTS_TRACKS:
    case ALERTS_FOLLOW_UP:
    case ALERTS_END:
        break;
    }
    return DB_NULL();
}

/* the parameters of ALERTS_IN_TRACKS for a set of TRACK_BIT()s: the names of the three
 * literal tracks (config_track_names), never text from anywhere else */
static size_t
alerts_tracks(unsigned tracks, struct db_param *p)
{
    const char *v[TRACK_COUNT];
    int t;

    config_track_values(tracks, v);
    for (t = 0; t < TRACK_COUNT; t++)
        p[t] = DB_STR(v[t]);
    return TRACK_COUNT;
}

/* the parameters k stands for, at p (room for ALERTS_WIDEST); how many */
#define ALERTS_WIDEST TRACK_COUNT
static size_t
alerts_param(enum alerts_param k, const struct alerts_job *j, const struct config_alert_rule *r,
             struct db_param *p)
{
    switch (k) {
    case ALERTS_TRACKS:
        return alerts_tracks(r->tracks, p);
    case ALERTS_FOLLOW_UP:
        p[0] = DB_U64(j->cfg->graduation.follow_up_months[TRACK_WELFARE]);
        p[1] = DB_U64(j->cfg->graduation.follow_up_months[TRACK_NATURAL]);
        return 2;
    default:
        p[0] = alerts_param_one(k, j, r);
        return 1;
    }
}

/* an INSERT ... SELECT of a rule, counting the alerts it raised (a duplicate key counts 0) */
static int
alerts_insert(struct db_conn *c, struct alerts_job *j, const char *sql, const struct db_param *p,
              size_t n)
{
    uint64_t affected = 0;
    int err = db_exec(c, sql, p, n, &affected, NULL);

    j->raised += affected;
    return err;
}

/*
 * The report rules' watermark (alert_marks 'reports'), read locked so two kabard take turns.
 * The rules read the reports above it; it then moves to just below the first report younger
 * than ALERTS_SETTLE_SECONDS (or to the last one), in the tick's transaction: a report whose
 * transaction took its id earlier but commits later is still above the mark when it appears,
 * as long as it commits within the settle time, and a tick that crashes moves nothing. The
 * reports of the last settle time are read again by the next tick; the alerts' dedupe keys and
 * windows make that a no-op.
 */
#define ALERTS_STR2(x) #x
#define ALERTS_STR(x) ALERTS_STR2(x)
#define ALERTS_SETTLE_SECONDS 300
/* reports a tick reads at most: a backlog (kabard down, a burst) is read over several ticks,
 * each well inside db.query_timeout (measured at a million KPM on two busy cores: 1,000 new
 * reports in a 6 s tick; 10,000 in one graduation statement took over 10 s) */
#define ALERTS_REPORTS_CAP 1000
#define ALERTS_REPORTS_CAP_1 999 /* OFFSET takes no expression */
static int
alerts_watermark(struct db_conn *c, struct alerts_job *j)
{
    struct db_param p[] = {DB_U64(0)};
    struct db_param q[] = {DB_U64(0), DB_STR(j->now), DB_U64(ALERTS_SETTLE_SECONDS),
                           DB_U64(0), DB_U64(0),      DB_U64(0),
                           DB_U64(0)};
    int err;

    j->mark = j->next_mark = j->new_reports = 0;
    if ((err = db_exec(c, "INSERT IGNORE INTO alert_marks (name) VALUES ('reports')", NULL, 0, NULL,
                       NULL)) != 0 ||
        (err = db_query(c, "SELECT last_id FROM alert_marks WHERE name = 'reports' FOR UPDATE",
                        NULL, 0, alerts_count_cb, &j->mark)) != 0)
        return err;
    /* the rules read reports of the last two days only, and every report below the first one
     * of the last 49 hours is older than that (whatever the order of ids and times), so the
     * mark passes them at once (an hour of margin): a new database, the first tick after
     * migration 014, a backlog after kabard was down for days; none is read a thousand a tick. With
     * none in those 49 hours, none is in flight either (a report in flight has a younger one above
     * it), so the mark goes to the last report. */
    {
        struct db_param f[] = {DB_STR(j->now), DB_U64(j->mark)};
        uint64_t first = 0;

        if ((err = db_query(c,
                            "SELECT COALESCE((SELECT MIN(id) - 1 FROM business_reports"
                            "  WHERE created_at > ? - INTERVAL 49 HOUR AND id > ?),"
                            " (SELECT COALESCE(MAX(id), 0) FROM business_reports))",
                            f, 2, alerts_count_cb, &first)) != 0)
            return err;
        if (first > j->mark)
            j->mark = first;
    }
    p[0] = DB_U64(j->mark);
    /* for the log line only: counted up to a bound, never the whole backlog */
    if ((err = db_query(c,
                        "SELECT COUNT(*) FROM (SELECT 1 FROM business_reports WHERE id > ?"
                        " LIMIT 100000) b",
                        p, 1, alerts_count_cb, &j->new_reports)) != 0)
        return err;
    j->upto = UINT64_MAX;
    if ((err = db_query(c,
                        "SELECT id FROM business_reports WHERE id > ? ORDER BY id"
                        " LIMIT 1 OFFSET " ALERTS_STR(ALERTS_REPORTS_CAP_1),
                        p, 1, alerts_count_cb, &j->upto)) != 0)
        return err;
    q[0] = q[4] = q[5] = DB_U64(j->mark);
    q[3] = q[6] = DB_U64(j->upto);
    return db_query(
        c,
        "SELECT COALESCE((SELECT MIN(id) - 1 FROM business_reports WHERE id > ?"
        "  AND created_at > ? - INTERVAL ? SECOND AND id <= ?),"
        " (SELECT COALESCE(MAX(id), ?) FROM business_reports WHERE id > ? AND id <= ?))",
        q, 7, alerts_count_cb, &j->next_mark);
}

static int
alerts_watermark_move(struct db_conn *c, struct alerts_job *j)
{
    struct db_param p[] = {DB_U64(j->next_mark)};

    if (j->next_mark == j->mark)
        return 0;
    return db_exec(c, "UPDATE alert_marks SET last_id = ? WHERE name = 'reports'", p, 1, NULL,
                   NULL);
}

/* the silent walk's cursor and the window read from it */
struct alerts_walk {
    uint64_t id, n;
    char at[24]; /* "" in the never-reported part */
};

static int
alerts_walk_cb(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct alerts_walk *w = arg;

    (void)len;
    if (n < 2 || v[0] == NULL || parse_u64(v[0], strlen(v[0]), 0, UINT64_MAX, &w->id) == -1)
        return 0;
    snprintf(w->at, sizeof w->at, "%s", v[1] != NULL ? v[1] : "");
    w->n++;
    return 0;
}

/*
 * The silent rule: the next ALERTS_SILENT_CAP KPM of idx_kpm_last_report that are silent
 * (never reported, or last reported `weeks` ago), from the cursor in alert_marks 'silent'; a
 * window shorter than the cap ends the sweep and the next tick starts again from the first.
 * The cursor moves in the tick's transaction, with the alerts the window raised.
 */
static int
alerts_silent(struct db_conn *c, struct alerts_job *j)
{
    const struct config_alert_rule *r = &j->cfg->alerts.rules[RULE_SILENT];
    struct alerts_walk cur = {0, 0, ""}, end = {0, 0, ""};
    struct db_param w[8], p[8 + ALERTS_PARAMS];
    size_t nw = 0, n = 0, i;
    int err;

    if ((err = db_exec(c, "INSERT IGNORE INTO alert_marks (name) VALUES ('silent')", NULL, 0, NULL,
                       NULL)) != 0 ||
        (err = db_query(c, "SELECT last_id, last_at FROM alert_marks WHERE name = 'silent'", NULL,
                        0, alerts_walk_cb, &cur)) != 0)
        return err;
    if (cur.at[0] != '\0') {
        w[nw++] = DB_STR(cur.at);
        w[nw++] = DB_STR(cur.at);
    }
    w[nw++] = DB_U64(cur.id);
    w[nw++] = DB_STR(j->now);
    w[nw++] = DB_U64(r->weeks);
    w[nw++] = DB_U64(ALERTS_SILENT_CAP);
    if ((err = db_query(c, cur.at[0] != '\0' ? alerts_silent_window_at : alerts_silent_window_null,
                        w, nw, alerts_walk_cb, &end)) != 0)
        return err;
    p[n++] = DB_STR(j->now);
    p[n++] = alerts_param_one(ALERTS_URGENCY, j, r);
    p[n++] = DB_STR(j->now);
    for (i = 0; i < nw; i++)
        p[n++] = w[i];
    n += alerts_tracks(r->tracks, &p[n]);
    n += alerts_param(ALERTS_FOLLOW_UP, j, r, &p[n]);
    p[n++] = DB_STR(j->now);
    p[n++] = DB_STR(j->now);
    p[n++] = DB_U64(r->weeks);
    p[n++] = DB_STR(j->now);
    p[n++] = DB_U64(j->cfg->alerts.window_days);
    if ((err = alerts_insert(c, j, cur.at[0] != '\0' ? alerts_silent_at : alerts_silent_null, p,
                             n)) != 0)
        return err;
    if (end.n < ALERTS_SILENT_CAP)
        return db_exec(c,
                       "UPDATE alert_marks SET last_id = 0, last_at = NULL WHERE name = 'silent'",
                       NULL, 0, NULL, NULL);
    w[0] = DB_U64(end.id);
    w[1] = end.at[0] != '\0' ? DB_STR(end.at) : DB_NULL();
    return db_exec(c, "UPDATE alert_marks SET last_id = ?, last_at = ? WHERE name = 'silent'", w, 2,
                   NULL, NULL);
}

static int
alerts_raise(struct db_conn *c, struct alerts_job *j)
{
    const struct config_alerts *a = &j->cfg->alerts;
    struct db_param p[ALERTS_PARAMS + ALERTS_WIDEST];
    size_t n, k;
    int err = 0, i;

    /* help and link alerts are raised 'immediate' where the request is saved, inside their
     * window (report.c): the waiting alerts of every rule take its configured urgency. A
     * waiting alert of a KPM not on its rule's tracks (a help request report.c raised for
     * any KPM, or one raised before her graduation changed) expires unsent. */
    for (i = 0; i < RULE_COUNT && err == 0; i++) {
        p[0] = alerts_param_one(ALERTS_URGENCY, j, &a->rules[i]);
        p[1] = DB_STR(config_rule_names[i]);
        if ((err = db_exec(c, "UPDATE alerts SET urgency = ? WHERE rule = ? AND state = 'new'", p,
                           2, NULL, NULL)) != 0)
            break;
        p[0] = DB_STR(config_rule_names[i]);
        n = 1 + alerts_tracks(a->rules[i].tracks, &p[1]);
        err = db_exec(c,
                      "UPDATE alerts a JOIN kpm k ON k.id = a.kpm_id SET a.state = 'expired'"
                      " WHERE a.rule = ? AND a.state = 'new' AND NOT (" ALERTS_IN_TRACKS ")",
                      p, n, NULL, NULL);
    }
    for (i = 0; i < RULE_COUNT && err == 0; i++) {
        const struct alerts_rule *rule = &alerts_rules[i];

        if (rule->sql == NULL || !a->rules[i].enabled)
            continue;
        for (n = 0, k = 0; k < ALERTS_KINDS && rule->p[k] != ALERTS_END && n <= ALERTS_PARAMS; k++)
            n += alerts_param(rule->p[k], j, &a->rules[i], &p[n]);
        err = alerts_insert(c, j, rule->sql, p, n);
    }
    if (err == 0 && a->rules[RULE_SILENT].enabled)
        err = alerts_silent(c, j);
    return err;
}

/* ---- sending */

struct alerts_row {
    uint64_t id, assistant;
    int rule;
    char kpm[101], pkh[21], msisdn[17];
    struct alerts_row *next;
};

struct alerts_rows {
    struct alerts_row *head, **tail;
    size_t n;
};

static int
alerts_row_cb(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct alerts_rows *rows = arg;
    struct alerts_row *r;
    int i;

    (void)len;
    if (n < 6 || v[0] == NULL || v[1] == NULL || (r = calloc(1, sizeof *r)) == NULL)
        return 0;
    if (parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &r->id) == -1 ||
        (v[5] != NULL && parse_u64(v[5], strlen(v[5]), 1, UINT64_MAX, &r->assistant) == -1)) {
        free(r);
        return 0;
    }
    r->rule = -1;
    for (i = 0; i < RULE_COUNT; i++)
        if (strcmp(v[1], config_rule_names[i]) == 0)
            r->rule = i;
    snprintf(r->kpm, sizeof r->kpm, "%s", v[2] != NULL ? v[2] : "");
    snprintf(r->pkh, sizeof r->pkh, "%s", v[3] != NULL ? v[3] : "");
    snprintf(r->msisdn, sizeof r->msisdn, "%s", v[4] != NULL ? v[4] : "");
    *rows->tail = r;
    rows->tail = &r->next;
    rows->n++;
    return 0;
}

static void
alerts_rows_free(struct alerts_rows *rows)
{
    struct alerts_row *r;

    while ((r = rows->head) != NULL) {
        rows->head = r->next;
        free(r);
    }
    rows->tail = &rows->head;
    rows->n = 0;
}

static int
alerts_mark(struct db_conn *c, struct alerts_job *j, uint64_t alert, uint64_t outbox_id)
{
    struct db_param p[] = {DB_STR(j->now), DB_U64(alert)};
    struct db_param m[] = {DB_U64(alert), DB_U64(outbox_id)};
    int err;

    if ((err = db_exec(c, "UPDATE alerts SET state = 'sent', sent_at = ? WHERE id = ?", p, 2, NULL,
                       NULL)) != 0)
        return err;
    return db_exec(c, "INSERT IGNORE INTO alert_messages (alert_id, outbox_id) VALUES (?, ?)", m, 2,
                   NULL, NULL);
}

static int
alerts_count_cb(void *arg, char **v, unsigned long *len, unsigned n)
{
    uint64_t *count = arg;

    (void)len;
    if (n >= 1 && v[0] != NULL)
        parse_u64(v[0], strlen(v[0]), 0, UINT64_MAX, count);
    return 1;
}

static const char *
alerts_provider(const struct config *cfg)
{
    if (cfg->alerts.provider[0] != '\0')
        return cfg->alerts.provider;
    return cfg->nproviders > 0 ? cfg->providers[0].name : "log";
}

static int
alerts_send_immediate(struct db_conn *c, struct alerts_job *j)
{
    const struct config_alerts *a = &j->cfg->alerts;
    struct alerts_rows rows = {NULL, &rows.head, 0};
    struct db_param p[] = {DB_U64(ALERTS_BATCH)};
    struct alerts_row *r;
    int err;

    /* claimed rows stay locked until this transaction ends: a second kabard skips them */
    if ((err = db_query(c,
                        "SELECT a.id, a.rule, k.name, k.pkh_number, s.msisdn, s.id FROM alerts a"
                        " JOIN kpm k ON k.id = a.kpm_id JOIN assistants s ON s.id = a.assistant_id"
                        " WHERE a.state = 'new' AND a.urgency = 'immediate' ORDER BY a.id"
                        " LIMIT ? FOR UPDATE SKIP LOCKED",
                        p, 1, alerts_row_cb, &rows)) != 0)
        goto out;
    for (r = rows.head; r != NULL && err == 0; r = r->next) {
        uint64_t today = 0, oid = 0;
        char body[480], key[64], idbuf[24];
        struct db_param q[] = {DB_U64(r->assistant), DB_STR(j->now)};

        if (r->rule < 0 || !a->rules[r->rule].enabled) {
            struct db_param e[] = {DB_U64(r->id)};

            err = db_exec(c, "UPDATE alerts SET state = 'expired' WHERE id = ?", e, 1, NULL, NULL);
            continue;
        }
        /* alert SMS already sent to this assistant today, in the assistant's own day */
        if ((err = db_query(
                 c,
                 "SELECT COUNT(*) FROM alerts x JOIN assistants s ON s.id = x.assistant_id"
                 " WHERE x.assistant_id = ? AND x.state <> 'new' AND x.urgency = 'immediate'"
                 " AND DATE(" ALERTS_LOCAL("x.sent_at") ") = DATE(" ALERTS_LOCAL("?") ")",
                 q, 2, alerts_count_cb, &today)) != 0)
            break;
        if (today >= a->daily_cap) {
            struct db_param d[] = {DB_U64(r->id)};

            /* over the cap: it folds into the digest */
            err = db_exec(c, "UPDATE alerts SET urgency = 'digest' WHERE id = ?", d, 1, NULL, NULL);
            continue;
        }
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)r->id);
        {
            const char *kv[] = {"kpm", r->kpm, "pkh", r->pkh, "id", idbuf, NULL};

            texts_render(j->cfg->texts, (enum text_id)(TEXT_ALERT_FIRST + r->rule), 0, kv, body,
                         sizeof body);
        }
        snprintf(key, sizeof key, "alert:%llu", (unsigned long long)r->id);
        {
            struct outbox_msg m = {key,
                                   r->msisdn,
                                   body,
                                   "alert",
                                   1,
                                   alerts_provider(j->cfg),
                                   j->cfg->outbox.max_segments};

            if ((err = outbox_queue(c, &m, &oid)) == 0 &&
                (err = alerts_mark(c, j, r->id, oid)) == 0)
                j->sent++;
            if (err == OUTBOX_TOO_LONG) {
                log_error("alert_text_too_long", "rule=%s", config_rule_names[r->rule]);
                err = 0;
            }
        }
    }
out:
    alerts_rows_free(&rows);
    return err;
}

struct alerts_assistant {
    uint64_t id;
    char msisdn[17];
    char day[11];
    unsigned lessons; /* her KPM who have not started their course (lessons_not_started) */
    struct alerts_assistant *next;
};

static int
alerts_assistant_cb(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct alerts_assistant **list = arg, *s;
    uint64_t lessons = 0;

    (void)len;
    if (n < 3 || v[0] == NULL || v[1] == NULL || v[2] == NULL || (s = calloc(1, sizeof *s)) == NULL)
        return 0;
    if (parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &s->id) == -1) {
        free(s);
        return 0;
    }
    snprintf(s->msisdn, sizeof s->msisdn, "%s", v[1]);
    snprintf(s->day, sizeof s->day, "%s", v[2]);
    if (n > 3 && v[3] != NULL)
        (void)parse_u64(v[3], strlen(v[3]), 0, UINT32_MAX, &lessons);
    s->lessons = (unsigned)lessons;
    s->next = *list;
    *list = s;
    return 0;
}

/*
 * The assistants whose digest is due (alerts_send_digests()), with what lessons_not_started adds:
 * per assistant, her KPM on the rule's tracks enrolled in a course on the day `weeks` before
 * today (her zone) with no lesson progress in it. Read from the index on lesson_enrolments
 * (course, enrolled_at): the courses by a loose scan, then each one's enrolments of three days
 * around that day, never every enrolment. Parameters: now, weeks, now, weeks, now, now, weeks,
 * the tracks (alerts_tracks()).
 */
#define ALERTS_LESSONS_NOT_STARTED                                                                 \
    " LEFT JOIN (SELECT k.assistant_id, COUNT(DISTINCT e.kpm_id) n"                                \
    "  FROM (SELECT course FROM lesson_enrolments GROUP BY course) cs"                             \
    "  JOIN lesson_enrolments e ON e.course = cs.course"                                           \
    "  AND e.enrolled_at > ? - INTERVAL ? WEEK - INTERVAL 2 DAY"                                   \
    "  AND e.enrolled_at <= ? - INTERVAL ? WEEK + INTERVAL 1 DAY"                                  \
    "  JOIN kpm k ON k.id = e.kpm_id JOIN assistants s ON s.id = k.assistant_id"                   \
    "  WHERE DATE(" ALERTS_LOCAL("e.enrolled_at") ") = DATE(" ALERTS_LOCAL(                        \
        "?") ") - INTERVAL ? WEEK"                                                                 \
             "  AND" ALERTS_IN_TRACKS " AND NOT EXISTS (SELECT 1 FROM lesson_progress p"           \
             "  WHERE p.kpm_id = e.kpm_id AND p.course = e.course)"                                \
             "  GROUP BY k.assistant_id) ls ON ls.assistant_id = s.id"
/* due: the digest hour has come in the assistant's zone (a late kabard catches up the same
 * day), outside quiet hours, not yet sent today, and something to say (an alert, or what the
 * lessons join `join` adds as column `lessons`, with `or` saying it counts) */
#define ALERTS_DIGEST_DUE(lessons, join, or)                                                       \
    "SELECT s.id, s.msisdn, DATE(" ALERTS_LOCAL(                                                   \
        "?") "), " lessons " FROM assistants s" join                                               \
             " WHERE HOUR(" ALERTS_LOCAL(                                                          \
                 "?") ") >= ? AND NOT " ALERTS_QUIET                                               \
                      " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key ="          \
                      "  CONCAT('digest:', s.id, ':', DATE(" ALERTS_LOCAL(                         \
                          "?") ")))"                                                               \
                               " AND (EXISTS (SELECT 1 FROM alerts a WHERE a.assistant_id = s.id " \
                               "AND a.state = 'new')" or                                           \
        ") FOR UPDATE SKIP LOCKED"

static int
alerts_digests_due(struct db_conn *c, struct alerts_job *j, struct alerts_assistant **list)
{
    const struct config_alerts *a = &j->cfg->alerts;
    const struct config_lessons_not_started *l = &a->lessons_not_started;
    struct db_param p[8 + 10];
    size_t n = 0;

    p[n++] = DB_STR(j->now);
    if (l->enabled) {
        p[n++] = DB_STR(j->now);
        p[n++] = DB_U64(l->weeks);
        p[n++] = DB_STR(j->now);
        p[n++] = DB_U64(l->weeks);
        p[n++] = DB_STR(j->now);
        p[n++] = DB_U64(l->weeks);
        n += alerts_tracks(l->tracks, &p[n]);
    }
    p[n++] = DB_STR(j->now);
    p[n++] = DB_I64(a->digest_hour);
    p[n++] = DB_STR(j->now);
    p[n++] = DB_I64(a->quiet_start);
    p[n++] = DB_I64(a->quiet_end);
    p[n++] = DB_I64(a->quiet_start);
    p[n++] = DB_STR(j->now);
    /* the assistant's row stays locked until this transaction ends, so a second kabard skips
     * it and then finds the digest sent */
    if (l->enabled)
        return db_query(
            c, ALERTS_DIGEST_DUE("COALESCE(ls.n, 0)", ALERTS_LESSONS_NOT_STARTED, " OR ls.n > 0"),
            p, n, alerts_assistant_cb, list);
    return db_query(c, ALERTS_DIGEST_DUE("0", "", ""), p, n, alerts_assistant_cb, list);
}

static int
alerts_send_digests(struct db_conn *c, struct alerts_job *j)
{
    const struct config_alerts *a = &j->cfg->alerts;
    struct alerts_assistant *list = NULL, *s;
    int err;

    if ((err = alerts_digests_due(c, j, &list)) != 0)
        goto out;
    for (s = list; s != NULL && err == 0; s = s->next) {
        struct alerts_rows rows = {NULL, &rows.head, 0};
        struct db_param p[] = {DB_U64(s->id)};
        struct alerts_row *r;
        unsigned counts[RULE_COUNT] = {0};
        char lines[240] = "", names[200] = "", body[480], key[64], count[24];
        const struct alerts_row *best[3] = {NULL, NULL, NULL};
        uint64_t oid = 0;
        size_t i, total = 0;

        if ((err = db_query(c,
                            "SELECT a.id, a.rule, k.name, k.pkh_number, '', a.assistant_id"
                            " FROM alerts a JOIN kpm k ON k.id = a.kpm_id"
                            " WHERE a.assistant_id = ? AND a.state = 'new' ORDER BY a.id"
                            " FOR UPDATE SKIP LOCKED",
                            p, 1, alerts_row_cb, &rows)) != 0)
            break;
        for (r = rows.head; r != NULL; r = r->next) {
            if (r->rule < 0 || !a->rules[r->rule].enabled)
                continue;
            counts[r->rule]++;
            total++;
            for (i = 0; i < 3; i++) {
                if (best[i] == NULL || alerts_weight[r->rule] < alerts_weight[best[i]->rule]) {
                    memmove(&best[i + 1], &best[i], (2 - i) * sizeof best[0]);
                    best[i] = r;
                    break;
                }
            }
        }
        if (total == 0 && s->lessons == 0) {
            alerts_rows_free(&rows);
            continue;
        }
        for (i = 0; i < RULE_COUNT; i++)
            if (counts[i] > 0)
                snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s%u %s",
                         lines[0] ? ", " : "", counts[i], alerts_label[i]);
        if (s->lessons > 0)
            snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s%u %s",
                     lines[0] ? ", " : "", s->lessons, "belum mulai belajar");
        for (i = 0; i < 3 && best[i] != NULL; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i > 0 ? ", " : "",
                     best[i]->kpm);
        if (names[0] == '\0')
            snprintf(names, sizeof names, "-");
        snprintf(count, sizeof count, "%zu", total + s->lessons);
        {
            const char *kv[] = {"count", count, "lines", lines, "names", names, NULL};

            texts_render(j->cfg->texts, TEXT_DIGEST, 0, kv, body, sizeof body);
        }
        snprintf(key, sizeof key, "digest:%llu:%s", (unsigned long long)s->id, s->day);
        {
            struct outbox_msg m = {key,
                                   s->msisdn,
                                   body,
                                   "digest",
                                   3,
                                   alerts_provider(j->cfg),
                                   j->cfg->outbox.max_segments};

            if ((err = outbox_queue(c, &m, &oid)) == OUTBOX_TOO_LONG) {
                /* many names: the counts alone */
                const char *kv[] = {"count", count, "lines", lines, "names", "-", NULL};

                texts_render(j->cfg->texts, TEXT_DIGEST, 0, kv, body, sizeof body);
                err = outbox_queue(c, &m, &oid);
            }
        }
        for (r = rows.head; r != NULL && err == 0; r = r->next)
            if (r->rule >= 0 && a->rules[r->rule].enabled)
                err = alerts_mark(c, j, r->id, oid);
        if (err == 0)
            j->digests++;
        alerts_rows_free(&rows);
    }
out:
    while ((s = list) != NULL) {
        list = s->next;
        free(s);
    }
    return err;
}

/* ---- reminders to KPM */

struct alerts_reminder {
    uint64_t kpm, training;
    char msisdn[17], lang[3], title[101], date[11], time[6], place[101];
    /* a text of its own and its outbox key (the lesson drip), else "" */
    char body[LESSON_SMS_MAX], key[80];
    struct alerts_reminder *next;
};

static int
alerts_reminder_cb(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct alerts_reminder **list = arg, *r;

    (void)len;
    if (n < 8 || v[0] == NULL || v[2] == NULL || (r = calloc(1, sizeof *r)) == NULL)
        return 0;
    if (parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &r->kpm) == -1) {
        free(r);
        return 0;
    }
    if (v[1] != NULL)
        parse_u64(v[1], strlen(v[1]), 0, UINT64_MAX, &r->training);
    snprintf(r->msisdn, sizeof r->msisdn, "%s", v[2]);
    snprintf(r->lang, sizeof r->lang, "%s", v[3] != NULL ? v[3] : "id");
    snprintf(r->title, sizeof r->title, "%s", v[4] != NULL ? v[4] : "");
    snprintf(r->date, sizeof r->date, "%s", v[5] != NULL ? v[5] : "");
    snprintf(r->time, sizeof r->time, "%s", v[6] != NULL ? v[6] : "");
    snprintf(r->place, sizeof r->place, "%s", v[7] != NULL ? v[7] : "");
    r->next = *list;
    *list = r;
    return 0;
}

static void
alerts_reminders_free(struct alerts_reminder *list)
{
    struct alerts_reminder *r;

    while ((r = list) != NULL) {
        list = r->next;
        free(r);
    }
}

/* period NULL: training reminders (key remind:TRAINING:KPM); else one a month, keyed
 * PERIOD:KPM (nudge:YYYY-MM, checkin:YYYY-MM); a reminder with a body and key of its own (the
 * lesson drip) is sent as it is */
static int
alerts_queue_reminders(struct db_conn *c, struct alerts_job *j, struct alerts_reminder *list,
                       enum text_id text, const char *period)
{
    struct alerts_reminder *r;
    int err = 0;

    for (r = list; r != NULL && err == 0; r = r->next) {
        char body[480], key[80];
        uint64_t oid;
        const char *kv[] = {"title", r->title, "date",   r->date, "time",
                            r->time, "place",  r->place, NULL};
        struct outbox_msg m = {key,
                               r->msisdn,
                               body,
                               "reminder",
                               5,
                               alerts_provider(j->cfg),
                               j->cfg->outbox.max_segments};

        /* the nudges (a million a month) go through every provider, in turn by KPM */
        if (period != NULL && strncmp(period, "nudge:", 6) == 0 &&
            j->cfg->alerts.provider[0] == '\0' && j->cfg->nproviders > 1)
            m.provider = j->cfg->providers[r->kpm % j->cfg->nproviders].name;
        if (r->key[0] != '\0') {
            m.key = r->key;
            m.body = r->body;
        } else {
            texts_render(j->cfg->texts, text, strcmp(r->lang, "en") == 0, kv, body, sizeof body);
        }
        if (period != NULL)
            snprintf(key, sizeof key, "%s:%llu", period, (unsigned long long)r->kpm);
        else
            snprintf(key, sizeof key, "remind:%llu:%llu", (unsigned long long)r->training,
                     (unsigned long long)r->kpm);
        if ((err = outbox_queue(c, &m, &oid)) == 0)
            j->reminders++;
        else if (err == OUTBOX_TOO_LONG)
            err = 0;
    }
    alerts_reminders_free(list);
    return err;
}

/* ---- the weekly lesson drip */

#define ALERTS_DRIP_DAYS 7

/* one due enrolment: KPM, course, phone, language, the modules she passed and those the drip
 * sent (comma-separated) */
struct alerts_drip {
    uint64_t kpm;
    char course[LESSON_ID_MAX + 1], msisdn[17], lang[3];
    char *passed, *sent;
    struct alerts_drip *next;
};

static int
alerts_drip_cb(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct alerts_drip **list = arg, *d;

    (void)len;
    if (n < 6 || v[0] == NULL || v[1] == NULL || v[2] == NULL || (d = calloc(1, sizeof *d)) == NULL)
        return 0;
    if (parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &d->kpm) == -1 ||
        (d->passed = strdup(v[4] != NULL ? v[4] : "")) == NULL ||
        (d->sent = strdup(v[5] != NULL ? v[5] : "")) == NULL) {
        free(d->passed);
        free(d);
        return 0;
    }
    snprintf(d->course, sizeof d->course, "%s", v[1]);
    snprintf(d->msisdn, sizeof d->msisdn, "%s", v[2]);
    snprintf(d->lang, sizeof d->lang, "%s", v[3] != NULL ? v[3] : "id");
    d->next = *list;
    *list = d;
    return 0;
}

static void
alerts_drips_free(struct alerts_drip *list)
{
    struct alerts_drip *d;

    while ((d = list) != NULL) {
        list = d->next;
        free(d->passed);
        free(d->sent);
        free(d);
    }
}

/* 1 when id is one of the comma-separated ids in list */
static int
alerts_drip_listed(const char *list, const char *id)
{
    size_t n = strlen(id);
    const char *p;

    for (p = list; (p = strstr(p, id)) != NULL; p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The drip's next lesson for d: the first module of the course, in the file's order, that she
 * has not passed and the drip has not sent; NULL when none is left (or the course is gone). */
static const struct lesson_module *
alerts_drip_next(const struct config *cfg, const struct alerts_drip *d)
{
    const struct lesson_course *course =
        cfg->lessons != NULL ? lesson_course(cfg->lessons, d->course) : NULL;
    unsigned i;

    for (i = 0; course != NULL && i < course->nmodules; i++)
        if (!alerts_drip_listed(d->passed, course->modules[i].id) &&
            !alerts_drip_listed(d->sent, course->modules[i].id))
            return &course->modules[i];
    return NULL;
}

/*
 * KPM who opted in to the weekly lesson (lesson_enrolments.drip) and had none for
 * ALERTS_DRIP_DAYS: the next module as one SMS (lesson_sms_module()), queued as the nudge is
 * (alerts_queue_reminders(): purpose reminder, the outbox's per-recipient limit), only to KPM who
 * take reminders (STOP) and outside the quiet hours of their zone. A module goes once: the
 * outbox key drip:COURSE:MODULE:KPM, and the lesson_events row drip:COURSE:MODULE that the next
 * choice reads; drip_last_at moves even when nothing is left to send, so that the enrolment is
 * looked at again only a week later. Read from the index on (drip, drip_last_at).
 */
static int
alerts_drip(struct db_conn *c, struct alerts_job *j)
{
    const struct config_alerts *a = &j->cfg->alerts;
    struct alerts_drip *due = NULL, *d;
    struct alerts_reminder *list = NULL, *r;
    struct db_param p[] = {DB_STR(j->now),         DB_U64(ALERTS_DRIP_DAYS), DB_STR(j->now),
                           DB_I64(a->quiet_start), DB_I64(a->quiet_end),     DB_I64(a->quiet_start),
                           DB_U64(ALERTS_BATCH)};
    int err;

    if ((err = db_query(
             c,
             "SELECT k.id, e.course, k.msisdn, k.lang,"
             " (SELECT GROUP_CONCAT(p.module) FROM lesson_progress p WHERE p.kpm_id = k.id"
             "  AND p.course = e.course AND p.passed_at IS NOT NULL),"
             " (SELECT GROUP_CONCAT(SUBSTRING(v.event, LENGTH(e.course) + 7)) FROM lesson_events v"
             "  WHERE v.kpm_id = k.id AND v.event LIKE CONCAT('drip:', e.course, ':%'))"
             " FROM lesson_enrolments e JOIN kpm k ON k.id = e.kpm_id"
             " JOIN assistants s ON s.id = k.assistant_id"
             " WHERE e.drip = 1 AND (e.drip_last_at IS NULL"
             "  OR e.drip_last_at <= ? - INTERVAL ? DAY)"
             " AND k.reminders = 1 AND NOT " ALERTS_QUIET " LIMIT ?",
             p, sizeof p / sizeof p[0], alerts_drip_cb, &due)) != 0)
        goto out;
    for (d = due; d != NULL && err == 0; d = d->next) {
        const struct lesson_module *m = alerts_drip_next(j->cfg, d);
        struct db_param q[] = {DB_STR(j->now), DB_U64(d->kpm), DB_STR(d->course)};
        char kpm[24], event[64];

        if ((err = db_exec(c,
                           "UPDATE lesson_enrolments SET drip_last_at = ? WHERE kpm_id = ?"
                           " AND course = ?",
                           q, 3, NULL, NULL)) != 0 ||
            m == NULL)
            continue;
        if ((r = calloc(1, sizeof *r)) == NULL) {
            err = DB_EUNAVAILABLE;
            break;
        }
        r->kpm = d->kpm;
        snprintf(r->msisdn, sizeof r->msisdn, "%s", d->msisdn);
        snprintf(r->lang, sizeof r->lang, "%s", d->lang);
        snprintf(r->key, sizeof r->key, "drip:%s:%s:%llu", d->course, m->id,
                 (unsigned long long)d->kpm);
        /* lesson_set_load() checked that every module's form fits: a module that does not is
         * passed over (its event is written), never sent cut */
        if (lesson_sms_module(lesson_course(j->cfg->lessons, d->course), m, d->lang, r->body,
                              sizeof r->body) == -1) {
            log_error("lesson_drip_too_long", "course=%s module=%s", d->course, m->id);
            free(r);
        } else {
            r->next = list;
            list = r;
        }
        snprintf(kpm, sizeof kpm, "%llu", (unsigned long long)d->kpm);
        snprintf(event, sizeof event, "drip:%s:%s", d->course, m->id);
        err = db_exec(
            c,
            "INSERT IGNORE INTO lesson_events (channel, session_id, event, kpm_id, created_at)"
            " VALUES ('drip', ?, ?, ?, ?)",
            (struct db_param[]){DB_STR(kpm), DB_STR(event), DB_U64(d->kpm), DB_STR(j->now)}, 4,
            NULL, NULL);
    }
    if (err == 0) {
        err = alerts_queue_reminders(c, j, list, TEXT_NUDGE, NULL);
        list = NULL;
    }
out:
    alerts_reminders_free(list);
    alerts_drips_free(due);
    return err;
}

/* Whom a reminder goes to: the KPM on one of the tracks (alerts_tracks()), and a natural
 * graduate who opted in to keep business support even when natural is not listed. */
#define ALERTS_AUDIENCE                                                                            \
    " (" ALERTS_IN_TRACKS " OR (k.graduation = 'natural' AND k.support_opt_in = 1))"

/* ---- the monthly nudge */

static const char *const alerts_zones[] = {"WIB", "WITA", "WIT"};
static const unsigned alerts_zone_hours[] = {7, 8, 9};
#define ALERTS_ZONES 3

/* How many KPM the nudge walks in a tick: what the providers it sends through can send in one
 * tick, and a tenth more, so the outbox is never idle waiting for the next tick. */
static uint64_t
alerts_nudge_amount(const struct config *cfg)
{
    const struct config_provider *p;
    uint64_t rate = 0;
    unsigned i;

    if (cfg->alerts.provider[0] != '\0')
        rate = (p = config_provider_find(cfg, cfg->alerts.provider)) != NULL ? p->rate : 0;
    else
        for (i = 0; i < cfg->nproviders; i++)
            rate += cfg->providers[i].rate;
    if (rate == 0)
        rate = 1;
    return (rate * cfg->alerts.tick_seconds * 11 + 9) / 10;
}

/* 1 when the nudge waits in zone z: before the nudge day, or in the quiet hours */
static int
alerts_nudge_waits(struct db_conn *c, struct alerts_job *j, int z, uint64_t *waits)
{
    const struct config_alerts *a = &j->cfg->alerts;
    struct db_param p[] = {DB_STR(j->now),
                           DB_U64(alerts_zone_hours[z]),
                           DB_I64(a->quiet_start),
                           DB_I64(a->quiet_end),
                           DB_I64(a->quiet_start),
                           DB_STR(j->now),
                           DB_U64(alerts_zone_hours[z]),
                           DB_I64(a->nudge_day)};

    *waits = 1;
    return db_query(c,
                    "SELECT MOD(HOUR(? + INTERVAL ? HOUR) - ? + 24, 24) < MOD(? - ? + 24, 24)"
                    " OR DAY(? + INTERVAL ? HOUR) < ?",
                    p, sizeof p / sizeof p[0], alerts_count_cb, waits);
}

/* the next `amount` KPM of a zone after the cursor, by id (the primary key, the assistant's
 * row for the zone); parameters: zone, cursor, amount */
#define ALERTS_NUDGE_WINDOW                                                                        \
    " (SELECT k.id FROM kpm k JOIN assistants s ON s.id = k.assistant_id"                          \
    "  WHERE s.tz = ? AND k.id > ? ORDER BY k.id LIMIT ?) w"

/*
 * The monthly nudge, from the nudge day of the month (the KPM's zone), to KPM who take
 * reminders and have not reported this month, once a month (outbox key nudge:MONTH:KPM). Each
 * zone is walked by KPM id from a cursor in alert_marks ('nudge:ZONE', with its month), as many
 * KPM a tick as the providers can send (alerts_nudge_amount(), shared by the zones not in their
 * quiet hours); the cursor moves in the transaction that queues the window's SMS, so a restart
 * neither repeats nor skips anyone, and a new month starts the walk again.
 */
static int
alerts_nudge(struct db_conn *c, struct alerts_job *j)
{
    const struct config_alerts *a = &j->cfg->alerts;
    uint64_t waits[ALERTS_ZONES], amount = alerts_nudge_amount(j->cfg), active = 0;
    char period[24], month[8];
    int z, err = 0;

    snprintf(period, sizeof period, "nudge:%.7s", j->now);
    snprintf(month, sizeof month, "%.7s", j->now);
    for (z = 0; z < ALERTS_ZONES && err == 0; z++)
        if ((err = alerts_nudge_waits(c, j, z, &waits[z])) == 0 && !waits[z])
            active++;
    if (err != 0 || active == 0)
        return err;
    amount = (amount + active - 1) / active;
    for (z = 0; z < ALERTS_ZONES && err == 0; z++) {
        struct alerts_reminder *list = NULL;
        struct alerts_walk cur = {0, 0, ""};
        uint64_t end = 0;
        char name[16];
        struct db_param m[1];
        struct db_param w[] = {DB_STR(alerts_zones[z]), DB_U64(0), DB_U64(amount)};
        struct db_param p[16];
        size_t n = 0;

        if (waits[z])
            continue;
        snprintf(name, sizeof name, "nudge:%s", alerts_zones[z]);
        m[0] = DB_STR(name); /* its length, once written */
        if ((err = db_exec(c, "INSERT IGNORE INTO alert_marks (name, period) VALUES (?, '')", m, 1,
                           NULL, NULL)) != 0 ||
            (err = db_query(c, "SELECT last_id, period FROM alert_marks WHERE name = ? FOR UPDATE",
                            m, 1, alerts_walk_cb, &cur)) != 0)
            break;
        if (strcmp(cur.at, month) != 0)
            cur.id = 0; /* a new month: the walk starts again */
        w[1] = DB_U64(cur.id);
        end = cur.id;
        if ((err = db_query(c, "SELECT MAX(w.id) FROM" ALERTS_NUDGE_WINDOW, w, 3, alerts_count_cb,
                            &end)) != 0)
            break;
        p[n++] = w[0];
        p[n++] = w[1];
        p[n++] = w[2];
        n += alerts_tracks(a->nudge_tracks, &p[n]);
        p[n++] = DB_STR(j->now);
        p[n++] = DB_STR(j->now);
        if ((err = db_query(
                 c,
                 "SELECT k.id, 0, k.msisdn, k.lang, '', '', '', '' FROM" ALERTS_NUDGE_WINDOW
                 " JOIN kpm k ON k.id = w.id WHERE k.reminders = 1 AND" ALERTS_AUDIENCE
                 " AND NOT EXISTS (SELECT 1 FROM business_reports b WHERE b.kpm_id = k.id"
                 "  AND b.created_at >= DATE_FORMAT(?, '%Y-%m-01'))"
                 " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key ="
                 "  CONCAT('nudge:', DATE_FORMAT(?, '%Y-%m'), ':', k.id))",
                 p, n, alerts_reminder_cb, &list)) != 0) {
            alerts_reminders_free(list);
            break;
        }
        if ((err = alerts_queue_reminders(c, j, list, TEXT_NUDGE, period)) != 0)
            break;
        {
            struct db_param u[] = {DB_U64(end), DB_STR(month), DB_STR(name)};

            err = db_exec(c, "UPDATE alert_marks SET last_id = ?, period = ? WHERE name = ?", u, 3,
                          NULL, NULL);
        }
    }
    return err;
}

static int
alerts_reminders(struct db_conn *c, struct alerts_job *j)
{
    const struct config_alerts *a = &j->cfg->alerts;
    const struct config_graduation *g = &j->cfg->graduation;
    struct alerts_reminder *list = NULL;
    struct db_param p[12];
    char period[24];
    size_t n;
    int err = 0;

    if (a->remind_hours > 0) {
        n = 0;
        p[n++] = DB_STR(j->now);
        p[n++] = DB_STR(j->now);
        p[n++] = DB_U64(a->remind_hours);
        n += alerts_tracks(a->remind_tracks, &p[n]);
        p[n++] = DB_STR(j->now);
        p[n++] = DB_I64(a->quiet_start);
        p[n++] = DB_I64(a->quiet_end);
        p[n++] = DB_I64(a->quiet_start);
        p[n++] = DB_U64(ALERTS_BATCH);
        /* trainings starting within the window, to enrolled KPM who take reminders, once
         * (the outbox key), and not in the quiet hours of their zone */
        if ((err = db_query(
                 c,
                 "SELECT k.id, t.id, k.msisdn, k.lang, t.title,"
                 " DATE_FORMAT(" ALERTS_LOCAL(
                     "t.starts_at") ", '%d/%m'),"
                                    " DATE_FORMAT(" ALERTS_LOCAL(
                                        "t.starts_at") ", '%H:%i'), t.place"
                                                       " FROM enrollments e JOIN kpm k ON k.id = "
                                                       "e.kpm_id"
                                                       " JOIN trainings t ON t.id = e.training_id"
                                                       " JOIN assistants s ON s.id = k.assistant_id"
                                                       " WHERE k.reminders = 1 AND t.starts_at > ?"
                                                       " AND t.starts_at <= ? + INTERVAL ? HOUR "
                                                       "AND" ALERTS_AUDIENCE
                                                       " AND NOT " ALERTS_QUIET
                                                       " AND NOT EXISTS (SELECT 1 FROM outbox o "
                                                       "WHERE o.idempotency_key ="
                                                       "  CONCAT('remind:', t.id, ':', k.id)) "
                                                       "LIMIT ?",
                 p, n, alerts_reminder_cb, &list)) != 0) {
            alerts_reminders_free(list);
            return err;
        }
        if ((err = alerts_queue_reminders(c, j, list, TEXT_REMIND_TRAINING, NULL)) != 0)
            return err;
        list = NULL;
    }
    if (a->nudge_day > 0 && (err = alerts_nudge(c, j)) != 0)
        return err;
    if (g->checkin_day > 0 && g->follow_up_months[TRACK_WELFARE] > 0) {
        struct db_param q[] = {DB_STR(j->now),         DB_I64(g->checkin_day),
                               DB_STR(j->now),         DB_U64(g->follow_up_months[TRACK_WELFARE]),
                               DB_STR(j->now),         DB_STR(j->now),
                               DB_I64(a->quiet_start), DB_I64(a->quiet_end),
                               DB_I64(a->quiet_start), DB_STR(j->now),
                               DB_U64(ALERTS_BATCH)};

        snprintf(period, sizeof period, "checkin:%.7s", j->now);
        /* from the check-in day of the month (their zone; a late kabard catches up), welfare
         * graduates inside their follow-up period who take reminders (STOP), once a month, as
         * the nudge: outside quiet hours (the index on kpm.graduation, never a scan of kpm) */
        err = db_query(c,
                       "SELECT k.id, 0, k.msisdn, k.lang, '', '', '', '' FROM kpm k"
                       " JOIN assistants s ON s.id = k.assistant_id"
                       " WHERE k.graduation = 'welfare' AND k.reminders = 1"
                       " AND DAY(" ALERTS_LOCAL(
                           "?") ") >= ? AND k.graduated_on <= ?"
                                " AND k.graduated_on + INTERVAL ? MONTH > ? AND NOT " ALERTS_QUIET
                                " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.idempotency_key ="
                                "  CONCAT('checkin:', DATE_FORMAT(?, '%Y-%m'), ':', k.id)) LIMIT ?",
                       q, sizeof q / sizeof q[0], alerts_reminder_cb, &list);
        if (err != 0)
            alerts_reminders_free(list);
        else
            err = alerts_queue_reminders(c, j, list, TEXT_CHECKIN, period);
    }
    return err;
}

/* One transaction. A re-run after a COMMIT whose answer was lost (db.h) raises and sends
 * nothing twice: an alert has its dedupe key and window, a sent one is no longer 'new', and each
 * SMS its outbox key. It then counts nothing, though the first run queued SMS. */
static int
alerts_tick_work(struct db_conn *c, void *arg)
{
    struct alerts_job *j = arg;
    /* the lease lives three ticks from the tick's end (lease.h) */
    unsigned long long ttl = lease_ttl_ms(j->cfg->alerts.tick_seconds * 1000ULL);
    int err;

    db_txn_name(c, "alerts_tick");
    j->runs++;
    j->sent = j->digests = j->reminders = 0;
    j->raised = 0;
    /* one kabard of several runs the tick: the lease commits with what it raises and sends */
    if ((err = lease_take(c, LEASE_ALERTS, ttl, &j->held)) != 0 || !j->held)
        return err;
    if ((err = alerts_watermark(c, j)) != 0 || (err = alerts_raise(c, j)) != 0 ||
        (err = alerts_watermark_move(c, j)) != 0)
        return err;
    /* a crash here loses the alerts and the moved marks together (tests: link:alerts_raised) */
    db_fault(c, "alerts_raised");
    if ((err = alerts_send_immediate(c, j)) != 0 || (err = alerts_send_digests(c, j)) != 0 ||
        (err = alerts_reminders(c, j)) != 0 || (err = alerts_drip(c, j)) != 0)
        return err;
    return lease_hold(c, LEASE_ALERTS, ttl);
}

static void
alerts_tick_done(int err, void *arg)
{
    struct alerts_job *j = arg;

    al.running = 0;
    if (err != 0) {
        log_warn("alerts_tick_failed", "err=%d now=\"%s\"", err, j->now);
    } else if (!j->held) {
        log_info("alerts_tick_skipped", "reason=lease now=\"%s\"", j->now);
    } else {
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        log_info("alerts_tick",
                 "ms=%lld new_reports=%llu raised=%llu queued=%u now=\"%s\" alerts_sent=%u"
                 " digests=%u reminders=%u mark=%llu runs=%u",
                 (long long)(t1.tv_sec - j->t0.tv_sec) * 1000 +
                     (t1.tv_nsec - j->t0.tv_nsec) / 1000000,
                 (unsigned long long)j->new_reports, (unsigned long long)j->raised,
                 j->sent + j->digests + j->reminders, j->now, j->sent, j->digests, j->reminders,
                 (unsigned long long)j->next_mark, j->runs);
        if (j->sent + j->digests + j->reminders > 0 || j->runs > 1)
            outbox_kick();
    }
    config_unref(j->cfg);
    free(j);
}

static void
alerts_tick(evutil_socket_t fd, short what, void *arg)
{
    struct alerts_job *j;
    time_t now;
    struct tm tm;

    (void)fd;
    (void)what;
    (void)arg;
    if (al.running || al.stopping || !al.cfg->alerts.enabled || !db_is_up())
        return;
    if ((j = calloc(1, sizeof *j)) == NULL)
        return;
    j->cfg = config_ref(al.cfg);
    clock_gettime(CLOCK_MONOTONIC, &j->t0);
    if (j->cfg->alerts.fake_now[0] != '\0') {
        snprintf(j->now, sizeof j->now, "%s", j->cfg->alerts.fake_now);
    } else {
        now = time(NULL);
        gmtime_r(&now, &tm);
        strftime(j->now, sizeof j->now, "%Y-%m-%d %H:%M:%S", &tm);
    }
    al.running = 1;
    /* read committed: the rule scans must not lock ranges that USSD and SMS reports insert
     * into; SKIP LOCKED claims and unique keys keep the tick correct */
    if (db_submit(alerts_tick_work, alerts_tick_done, j,
                  DB_TXN | DB_READ_COMMITTED | DB_BACKGROUND) == -1) {
        al.running = 0;
        config_unref(j->cfg);
        free(j);
    }
}

static void
alerts_schedule(void)
{
    struct timeval tv = {al.cfg->alerts.tick_seconds, 0};

    event_add(al.tick, &tv);
}

int
alerts_start(struct event_base *base, struct config *cfg)
{
    al.base = base;
    al.cfg = config_ref(cfg);
    if ((al.tick = event_new(base, -1, EV_PERSIST, alerts_tick, NULL)) == NULL)
        return -1;
    alerts_schedule();
    return 0;
}

void
alerts_reconfigure(struct config *cfg)
{
    struct config *old = al.cfg;

    al.cfg = config_ref(cfg);
    alerts_schedule();
    config_unref(old);
    /* a new clock (tests) or new rules act at once */
    if (cfg->alerts.enabled)
        event_active(al.tick, EV_TIMEOUT, 0);
}

void
alerts_stop(void)
{
    al.stopping = 1;
}

void
alerts_free(void)
{
    if (al.tick != NULL)
        event_free(al.tick);
    if (al.cfg != NULL)
        config_unref(al.cfg);
    memset(&al, 0, sizeof al);
}
