/*
 * The dashboard (GET /): the week's figures and three charts over twelve weeks, all within the
 * user's region.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_int.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "parse.h"
#include "review.h"
#include "svg.h"
#include "training.h"

struct admin_dashboard_series {
    double v[6][12];
};

/*
 * The rows of the two charts that read the most at a million KPM, the certified assistants
 * (every KPM's assistant: a million index entries for the country) and the cohort (each
 * graduate's reports), kept per chart and scope for admin.chart_cache_seconds: counted once per
 * scope in that time, not at every view. The DB workers read and fill it under its lock. A
 * change made on this kabard's admin pages (admin_done: a POST that succeeded) makes every
 * entry old at once; the other kabard of a cluster, and changes by SMS, USSD or the import
 * command, wait the time out. The page says when its figures were counted.
 */
enum { DASH_CHART_TRAINED, DASH_CHART_COHORT, DASH_CHARTS };
#define DASH_CHART_SCOPES 32 /* scopes kept per chart; the oldest goes first */

struct admin_dashboard_chart {
    char scope[sizeof(((struct auth_user *)0)->region)];
    time_t at;    /* when it was counted */
    unsigned gen; /* admin_dashboard_charts.gen then */
    int used;
    struct admin_rows rs;
};

static struct {
    pthread_mutex_t lock;
    unsigned gen;
    struct admin_dashboard_chart e[DASH_CHARTS][DASH_CHART_SCOPES];
} admin_dashboard_charts = {.lock = PTHREAD_MUTEX_INITIALIZER};

void
admin_dashboard_charts_changed(void)
{
    pthread_mutex_lock(&admin_dashboard_charts.lock);
    admin_dashboard_charts.gen++;
    pthread_mutex_unlock(&admin_dashboard_charts.lock);
}

/* The chart's rows for the user's scope into rs: kept ones younger than the setting, else
 * counted by sql and kept. *at is when they were counted. */
static int
admin_dashboard_chart_rows(struct db_conn *c, struct admin_job *j, int chart, const char *sql,
                           const struct db_param *p, size_t np, struct admin_rows *rs, time_t *at)
{
    struct admin_dashboard_chart *e = admin_dashboard_charts.e[chart], *slot = NULL;
    const char *scope = j->s.user.region;
    unsigned ttl = j->cfg->admin.chart_cache_seconds, gen;
    time_t now = time(NULL);
    size_t i;
    int err, found = 0;

    *at = now;
    if (ttl == 0)
        return admin_rows_query(c, sql, p, np, rs);
    pthread_mutex_lock(&admin_dashboard_charts.lock);
    gen = admin_dashboard_charts.gen;
    for (i = 0; i < DASH_CHART_SCOPES; i++)
        if (e[i].used && strcmp(e[i].scope, scope) == 0 && e[i].gen == gen &&
            now - e[i].at < (time_t)ttl && now >= e[i].at) {
            found = admin_rows_copy(rs, &e[i].rs) == 0;
            *at = e[i].at;
            break;
        }
    pthread_mutex_unlock(&admin_dashboard_charts.lock);
    if (found)
        return 0;
    *at = now;
    if ((err = admin_rows_query(c, sql, p, np, rs)) != 0)
        return err;
    pthread_mutex_lock(&admin_dashboard_charts.lock);
    /* a change made while it was counted: not kept, it may not hold the change */
    if (gen == admin_dashboard_charts.gen) {
        /* its scope's entry, else a free one, else the oldest */
        for (i = 0; i < DASH_CHART_SCOPES && slot == NULL; i++)
            if (e[i].used && strcmp(e[i].scope, scope) == 0)
                slot = &e[i];
        for (i = 0; i < DASH_CHART_SCOPES && slot == NULL; i++)
            if (!e[i].used)
                slot = &e[i];
        if (slot == NULL) {
            slot = &e[0];
            for (i = 1; i < DASH_CHART_SCOPES; i++)
                if (e[i].at < slot->at)
                    slot = &e[i];
        }
        admin_rows_free(&slot->rs);
        if (admin_rows_copy(&slot->rs, rs) == 0) {
            snprintf(slot->scope, sizeof slot->scope, "%s", scope);
            slot->at = now;
            slot->gen = gen;
            slot->used = 1;
        } else {
            slot->used = 0;
        }
    }
    pthread_mutex_unlock(&admin_dashboard_charts.lock);
    return 0;
}

/* the note under a counted chart: when it was counted, WIB */
static void
admin_dashboard_counted_at(struct admin_job *j, time_t at)
{
    char hm[8];
    struct tm tm;
    time_t wib = at + 7 * 3600;

    gmtime_r(&wib, &tm);
    strftime(hm, sizeof hm, "%H:%M", &tm);
    outf(j, "<p class=\"note counted\">%s %s WIB</p>", L(j, "Dihitung pukul", "Counted at"), hm);
}

/*
 * The reports since S (an SQL expression), as rows (t, kind, source, status, attended, n,
 * province), from report_hours (sql/015_scale_pages.sql) where it has them: its whole hours from
 * the one after S's, the reports of S's own hour already summed, and every report past the
 * summary's mark. Each report is in exactly one part, read in one statement (one snapshot of the
 * hours and the marks), so the counts are exact. t is the hour for a summed row: a chart that
 * cuts weeks at NOW() - 7k days counts a boundary hour's summed reports in the older week.
 * The scope is a province or all (DASH_SUMMED): report_hours is kept by province.
 * Parameters: the scope, DASH_ROWS_NPARAMS times.
 */
#define DASH_HOUR(s) "(DATE_FORMAT(" s ", '%Y-%m-%d %H:00:00') + INTERVAL 1 HOUR)"
#define DASH_MARK(t) "(SELECT m.last_id FROM summary_marks m WHERE m.name = '" t "')"
#define DASH_RAW(t, kind, status, attended, s)                                                     \
    " UNION ALL SELECT x.created_at, " kind ", x.source, " status ", " attended                    \
    ", 1, LEFT(k.region_code, 2) FROM " t " x JOIN kpm k ON k.id = x.kpm_id"                       \
    " WHERE x.created_at >= " s " AND x.created_at < " DASH_HOUR(s) " AND x.id <= " DASH_MARK(     \
        t) " AND" REVIEW_SCOPE " UNION ALL SELECT x.created_at, " kind ", x.source, " status       \
           ", " attended ", 1, LEFT(k.region_code, 2) FROM " t " x JOIN kpm k ON k.id = x.kpm_id"  \
           " WHERE x.id > " DASH_MARK(t) " AND x.created_at >= " s " AND" REVIEW_SCOPE
/* the reports of the three tables that S's hour and the mark leave out */
#define DASH_RAWS(s)                                                                               \
    DASH_RAW("business_reports", "1", "x.status", "0", s)                                          \
    DASH_RAW("attendance_reports", "2", "0", "x.attended", s)                                      \
    DASH_RAW("help_requests", "3", "0", "0", s)
#define DASH_ROWS(s)                                                                               \
    "(SELECT h.hour t, h.kind, h.source, h.status, h.attended, h.n, h.province"                    \
    " FROM report_hours h WHERE h.hour >= " DASH_HOUR(                                             \
        s) " AND h.province LIKE CONCAT(?, '%')" DASH_RAWS(s) ")"
#define DASH_ROWS_NPARAMS 7
/* The same rows for a total over the window (no weeks): report_days (sql/020) for the whole
 * days after S's, report_hours for the rest of S's day, and the reports as in DASH_ROWS.
 * t is the day or the hour. Parameters: the scope, DASH_DAYS_NPARAMS times. */
#define DASH_DAYS(s)                                                                               \
    "(SELECT d.day t, d.kind, d.source, d.status, d.attended, d.n, d.province"                     \
    " FROM report_days d WHERE d.day > DATE(" s ") AND d.province LIKE CONCAT(?, '%')"             \
    " UNION ALL SELECT h.hour, h.kind, h.source, h.status, h.attended, h.n, h.province"            \
    " FROM report_hours h WHERE h.hour >= " DASH_HOUR(                                             \
        s) " AND h.hour < DATE(" s                                                                 \
           ") + INTERVAL 1 DAY AND h.province LIKE CONCAT(?, '%')" DASH_RAWS(s) ")"
#define DASH_DAYS_NPARAMS 8
/* The same rows for the weekly charts (weeks cut at NOW() - 7k days, k = 1..11, S = NOW() - 84
 * days): a day holds no cut unless it is DATE(NOW()) - 7k, so the other days are read from
 * report_days (t, the day's start, is in the right week for all of its reports), the 13 days
 * with a cut (S's among them) from report_hours, one range each, as DASH_ROWS reads them.
 * S must be NOW() - 84 days or later: the cuts listed are those of the 12 weeks. */
#define DASH_CUT(k)                                                                                \
    "(h.hour >= DATE(NOW(3)) - INTERVAL " k " DAY AND h.hour < DATE(NOW(3)) - INTERVAL " k         \
    " DAY + INTERVAL 1 DAY)"
/* constant ranges, one per day with a cut: MariaDB reads each (joined to a list of the days, it
 * read all of report_hours into a join buffer, 62 ms) */
/* clang-format off */
#define DASH_CUT_DAYS                                                                              \
    "(" DASH_CUT("0") " OR " DASH_CUT("7") " OR " DASH_CUT("14") " OR " DASH_CUT("21")           \
    " OR " DASH_CUT("28") " OR " DASH_CUT("35") " OR " DASH_CUT("42") " OR " DASH_CUT("49")      \
    " OR " DASH_CUT("56") " OR " DASH_CUT("63") " OR " DASH_CUT("70") " OR " DASH_CUT("77")      \
    " OR " DASH_CUT("84") ")"
/* clang-format on */
#define DASH_WEEK_ROWS(s)                                                                          \
    "(SELECT d.day t, d.kind, d.source, d.status, d.attended, d.n, d.province"                     \
    " FROM report_days d WHERE d.day > DATE(" s ") AND DATEDIFF(DATE(NOW(3)), d.day) MOD 7 <> 0"   \
    " AND d.province LIKE CONCAT(?, '%')"                                                          \
    " UNION ALL SELECT h.hour, h.kind, h.source, h.status, h.attended, h.n, h.province"            \
    " FROM report_hours h WHERE h.hour >= " DASH_HOUR(                                             \
        s) " AND " DASH_CUT_DAYS " AND h.province LIKE CONCAT(?, '%')" DASH_RAWS(s) ")"
/* report_hours answers for all of the country or a province; a narrower scope reads reports */
#define DASH_SUMMED(j) (strlen((j)->s.user.region) <= 2)

static void
admin_dashboard_scope(struct admin_job *j, struct db_param *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = DB_STR(j->s.user.region);
}

static void
admin_dashboard_labels(char labels[12][8], const char *ptrs[12])
{
    time_t now = time(NULL) + 7 * 3600;
    struct tm tm;
    int i;

    for (i = 0; i < 12; i++) {
        time_t t = now - (time_t)(11 - i) * 7 * 86400 - 6 * 86400;

        gmtime_r(&t, &tm);
        strftime(labels[i], sizeof labels[i], "%d/%m", &tm);
        ptrs[i] = labels[i];
    }
}

/* rows of (week 0..11 counting back, key, count) into series by key index */
static void
admin_dashboard_fill(struct admin_rows *rs, const char *const *keys, size_t nkeys,
                     struct admin_dashboard_series *s)
{
    size_t i, k;
    uint64_t w;

    memset(s, 0, sizeof *s);
    for (i = 0; i < rs->n; i++) {
        const char *wk = CELL(rs, i, 0), *key = CELL(rs, i, 1);

        if (wk == NULL || key == NULL || parse_u64(wk, strlen(wk), 0, 11, &w) == -1)
            continue;
        for (k = 0; k < nkeys; k++)
            if (strcmp(key, keys[k]) == 0)
                s->v[k][11 - w] += num(CELL(rs, i, 2));
    }
}

static void
admin_dashboard_figure(struct admin_job *j, const char *id, const char *label, const char *value,
                       const char *note)
{
    outf(j, "<div class=\"figure\" id=\"%s\"><span class=\"value\">", id);
    esc(j, value);
    out(j, "</span><span class=\"label\">");
    esc(j, label);
    out(j, "</span>");
    if (note != NULL) {
        out(j, "<span class=\"note\">");
        esc(j, note);
        out(j, "</span>");
    }
    out(j, "</div>");
}

/* reports of the last 7 days against the 7 before */
static int
admin_dashboard_week(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    const char *scope = j->s.user.region;
    struct db_param p[3] = {DB_STR(scope), DB_STR(scope), DB_STR(scope)};
    struct db_param sp[2 * DASH_ROWS_NPARAMS];
    double this_week, last_week;
    char v[64], note[96];
    int err;

    admin_dashboard_scope(j, sp, 2 * DASH_ROWS_NPARAMS);
    if (DASH_SUMMED(j)) {
        if ((err = admin_rows_query(
                 c,
                 "SELECT (SELECT COALESCE(SUM(w.n), 0) FROM " DASH_ROWS(
                     "NOW(3) - INTERVAL 7 DAY") " w), (SELECT COALESCE(SUM(w.n), 0) "
                                                "FROM " DASH_ROWS("NOW(3) - INTERVAL 14 DAY") " w)",
                 sp, 2 * DASH_ROWS_NPARAMS, &rs)) != 0)
            return err;
    } else if ((err = admin_rows_query(
                    c,
                    "SELECT COALESCE(SUM(t >= NOW(3) - INTERVAL 7 DAY), 0),"
                    " COALESCE(SUM(t < NOW(3) - INTERVAL 7 DAY), 0) FROM ("
                    "SELECT x.created_at t FROM business_reports x JOIN kpm k ON k.id = x.kpm_id"
                    " WHERE x.created_at >= NOW(3) - INTERVAL 14 DAY AND" REVIEW_SCOPE
                    " UNION ALL SELECT x.created_at FROM attendance_reports x"
                    " JOIN kpm k ON k.id = x.kpm_id"
                    " WHERE x.created_at >= NOW(3) - INTERVAL 14 DAY AND" REVIEW_SCOPE
                    " UNION ALL SELECT x.created_at FROM help_requests x"
                    " JOIN kpm k ON k.id = x.kpm_id"
                    " WHERE x.created_at >= NOW(3) - INTERVAL 14 DAY AND" REVIEW_SCOPE ") w",
                    p, 3, &rs)) != 0)
        return err;
    this_week = rs.n ? num(CELL(&rs, 0, 0)) : 0;
    /* summed, the second is the fortnight: last week is the difference */
    last_week = rs.n ? num(CELL(&rs, 0, 1)) - (DASH_SUMMED(j) ? this_week : 0) : 0;
    admin_rows_free(&rs);
    snprintf(v, sizeof v, "%.0f", this_week);
    if (last_week > 0)
        snprintf(note, sizeof note, "%s %.0f (%+.0f%%)", L(j, "minggu lalu", "last week"),
                 last_week, (this_week - last_week) * 100 / last_week);
    else
        snprintf(note, sizeof note, "%s %.0f", L(j, "minggu lalu", "last week"), last_week);
    admin_dashboard_figure(j, "fig-week",
                           L(j, "laporan 7 hari terakhir", "reports in the last 7 days"), v, note);
    return 0;
}

#define ADMIN_FIGURE_SECONDS "3"

/*
 * Each KPM's latest business report of the last 90 days, as rows (status, revenue bucket, KPM)
 * by bucket; the bucket is ROUND(revenue / 10000), -1 without a revenue (sql/016).
 * A province or all (DASH_SUMMED): latest_counts, minus the KPM it counts whose latest report
 * left the window since the summary's window mark, and, for each KPM with reports past the
 * summary's mark (a few minutes of them), her summed latest out and her real latest in: one
 * statement, one snapshot. A narrower scope reads its KPM by idx_kpm_region and each one's
 * latest report by idx_business_reports_kpm_created.
 */
#define DASH_LATEST_ID(k)                                                                          \
    "(SELECT b2.id FROM business_reports b2 FORCE INDEX (idx_business_reports_kpm_created)"        \
    " WHERE b2.kpm_id = " k " ORDER BY b2.created_at DESC, b2.id DESC LIMIT 1)"
#define DASH_WINDOW "NOW(3) - INTERVAL 90 DAY"
#define DASH_BUCKET "COALESCE(ROUND(b.revenue / 10000), -1)"
#define DASH_LATEST_MARK(c) "(SELECT m." c " FROM summary_marks m WHERE m.name = 'kpm_latest')"
#define DASH_LATEST_PAST                                                                           \
    " IN (SELECT x.kpm_id FROM business_reports x WHERE x.id > " DASH_LATEST_MARK("last_id") ")"
#define DASH_LATEST_SUMMED                                                                         \
    "SELECT d.status, d.bucket, SUM(d.n) FROM ("                                                   \
    "SELECT c.status, c.bucket, c.n FROM latest_counts c WHERE c.province LIKE CONCAT(?, '%')"     \
    " UNION ALL SELECT l.status, l.bucket, -1 FROM kpm_latest l"                                   \
    " WHERE l.created_at > " DASH_LATEST_MARK(                                                     \
        "last_at") " AND l.created_at <= " DASH_WINDOW " AND l.province LIKE CONCAT(?, '%')"       \
                   " UNION ALL SELECT l.status, l.bucket, -1 FROM kpm_latest l WHERE "             \
                   "l.kpm_id" DASH_LATEST_PAST " AND l.created_at > " DASH_WINDOW                  \
                   " AND l.province LIKE CONCAT(?, '%')"                                           \
                   " UNION ALL SELECT b.status, " DASH_BUCKET                                      \
                   ", 1 FROM kpm k JOIN business_reports b"                                        \
                   " ON b.id = " DASH_LATEST_ID(                                                   \
                       "k.id") " WHERE k.id" DASH_LATEST_PAST " AND b.created_at > " DASH_WINDOW   \
                               " AND LEFT(k.region_code, 2) LIKE CONCAT(?, '%')"                   \
                               ") d GROUP BY d.status, d.bucket HAVING SUM(d.n) > 0 ORDER BY "     \
                               "d.bucket"
#define DASH_LATEST_DIRECT                                                                         \
    "SELECT b.status, " DASH_BUCKET ", COUNT(*) FROM kpm k JOIN business_reports b"                \
    " ON b.id = " DASH_LATEST_ID("k.id") " WHERE" REVIEW_SCOPE " AND b.created_at > " DASH_WINDOW  \
                                         " GROUP BY 1, 2 ORDER BY 2"

/* the median of the revenue buckets (rows by bucket), as MEDIAN() would give it: the middle
 * one, or the mean of the two middle ones */
static double
admin_dashboard_median(struct admin_rows *rs, uint64_t nrev)
{
    double pos[2] = {(double)((nrev + 1) / 2), (double)(nrev / 2 + 1)}, v[2] = {0, 0}, seen = 0, n;
    size_t i, k = 0;

    for (i = 0; i < rs->n && k < 2; i++) {
        if (num(CELL(rs, i, 1)) < 0 || (n = num(CELL(rs, i, 2))) <= 0)
            continue;
        seen += n;
        while (k < 2 && seen >= pos[k])
            v[k++] = num(CELL(rs, i, 1)) * 10000;
    }
    return (v[0] + v[1]) / 2;
}

/* each KPM's latest business report of the last 90 days: running, and the median revenue */
static int
admin_dashboard_running(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    struct db_param p[4];
    double total = 0, running = 0, nrev = 0, n;
    char v[64], note[96];
    size_t i;
    int err;

    admin_dashboard_scope(j, p, 4);
    db_fault(c, "admin_dashboard_running");
    /* a bound all the same: past ADMIN_FIGURE_SECONDS the two figures say so and the rest of
     * the dashboard is shown */
    if ((err = admin_rows_query(c,
                                DASH_SUMMED(j)
                                    ? "SET STATEMENT max_statement_time = " ADMIN_FIGURE_SECONDS
                                      " FOR " DASH_LATEST_SUMMED
                                    : "SET STATEMENT max_statement_time = " ADMIN_FIGURE_SECONDS
                                      " FOR " DASH_LATEST_DIRECT,
                                p, DASH_SUMMED(j) ? 4 : 1, &rs)) != 0 &&
        db_is_timeout(err)) {
        log_warn("admin_figure_timeout", "figure=running seconds=%s", ADMIN_FIGURE_SECONDS);
        admin_dashboard_figure(j, "fig-running", L(j, "usaha berjalan", "businesses running"), "-",
                               L(j, "terlalu lama dihitung", "took too long to count"));
        admin_dashboard_figure(j, "fig-revenue",
                               L(j, "median omzet sebulan", "median monthly revenue"), "-",
                               L(j, "terlalu lama dihitung", "took too long to count"));
        return 0;
    }
    if (err != 0)
        return err;
    for (i = 0; i < rs.n; i++) {
        if ((n = num(CELL(&rs, i, 2))) <= 0)
            continue;
        total += n;
        if (num(CELL(&rs, i, 0)) == 1)
            running += n;
        if (num(CELL(&rs, i, 1)) >= 0)
            nrev += n;
    }
    snprintf(v, sizeof v, "%.0f%%", total > 0 ? running * 100 / total : 0);
    snprintf(note, sizeof note, "%.0f / %.0f KPM", running, total);
    admin_dashboard_figure(j, "fig-running", L(j, "usaha berjalan", "businesses running"), v, note);
    if (nrev > 0) {
        char rp[40];

        html_rupiah((unsigned long long)admin_dashboard_median(&rs, (uint64_t)nrev), rp, sizeof rp);
        snprintf(v, sizeof v, "Rp%s", rp);
    } else {
        snprintf(v, sizeof v, "-");
    }
    admin_rows_free(&rs);
    admin_dashboard_figure(j, "fig-revenue", L(j, "median omzet sebulan", "median monthly revenue"),
                           v,
                           L(j, "laporan terakhir tiap KPM, 90 hari, dibulatkan ke Rp10.000",
                             "latest report of each KPM, 90 days, to the nearest Rp10,000"));
    return 0;
}

static int
admin_dashboard_attendance(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    struct db_param p[DASH_DAYS_NPARAMS];
    double total, attended;
    char v[64], note[96];
    int err;

    admin_dashboard_scope(j, p, DASH_DAYS_NPARAMS);
    if ((err = admin_rows_query(
             c,
             DASH_SUMMED(j)
                 ? "SELECT COALESCE(SUM(r.n), 0), COALESCE(SUM(r.n * r.attended), 0)"
                   " FROM " DASH_DAYS("NOW(3) - INTERVAL 90 DAY") " r WHERE r.kind = 2"
                 : "SELECT COUNT(*), COALESCE(SUM(x.attended), 0) FROM attendance_reports x"
                   " JOIN kpm k ON k.id = x.kpm_id"
                   " WHERE x.created_at >= NOW(3) - INTERVAL 90 DAY AND" REVIEW_SCOPE,
             p, DASH_SUMMED(j) ? DASH_DAYS_NPARAMS : 1, &rs)) != 0)
        return err;
    total = rs.n ? num(CELL(&rs, 0, 0)) : 0;
    attended = rs.n ? num(CELL(&rs, 0, 1)) : 0;
    admin_rows_free(&rs);
    snprintf(v, sizeof v, "%.0f%%", total > 0 ? attended * 100 / total : 0);
    snprintf(note, sizeof note, "%.0f / %.0f, 90 %s", attended, total, L(j, "hari", "days"));
    admin_dashboard_figure(j, "fig-attendance", L(j, "kehadiran pelatihan", "training attendance"),
                           v, note);
    return 0;
}

#define ADMIN_SILENT_CAP 10000
#define ADMIN_SILENT_CAP1 "10001"
/* silent KPM (by idx_kpm_last_report, sql/014) and graduation candidates (by
 * idx_alerts_rule_created, sql/017); parameters: the weeks, the scope twice */
#define DASH_ALERTS_REST                                                                           \
    " (SELECT COUNT(*) FROM (SELECT 1 FROM kpm k WHERE (k.last_report_at IS NULL"                  \
    " OR k.last_report_at < NOW(3) - INTERVAL ? WEEK) AND k.graduation = 'none'"                   \
    " AND" REVIEW_SCOPE " LIMIT " ADMIN_SILENT_CAP1 ") s),"                                        \
    " (SELECT COUNT(DISTINCT a.kpm_id) FROM alerts a JOIN kpm k ON k.id = a.kpm_id"                \
    " WHERE a.rule = 'graduation' AND a.created_at >= NOW(3) - INTERVAL 90 DAY"                    \
    " AND a.state <> 'expired' AND k.graduation = 'none' AND" REVIEW_SCOPE ")"

/* open alerts, silent KPM (at most 10,000+: by idx_kpm_last_report, sql/014) and graduation
 * candidates */
static int
admin_dashboard_alerts(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    const char *scope = j->s.user.region;
    unsigned weeks = j->cfg->alerts.rules[RULE_SILENT].weeks;
    struct db_param p[4] = {DB_STR(scope), DB_U64(weeks), DB_STR(scope), DB_STR(scope)};
    int all = scope[0] == '\0';
    char note[96];
    int err;

    /* the whole country counts open alerts on idx_alerts_state_urgency alone */
    if ((err = admin_rows_query(c,
                                all ? "SELECT (SELECT COUNT(*) FROM alerts a"
                                      " WHERE a.state IN ('new', 'sent'))," DASH_ALERTS_REST
                                    : "SELECT (SELECT COUNT(*) FROM alerts a JOIN kpm k"
                                      " ON k.id = a.kpm_id WHERE a.state IN ('new', 'sent')"
                                      " AND" REVIEW_SCOPE ")," DASH_ALERTS_REST,
                                all ? p + 1 : p, all ? 3 : 4, &rs)) != 0)
        return err;
    if (rs.n) {
        admin_dashboard_figure(j, "fig-alerts", L(j, "peringatan terbuka", "open alerts"),
                               nz(CELL(&rs, 0, 0)), NULL);
        snprintf(note, sizeof note, "%s %u %s",
                 L(j, "tanpa laporan usaha", "no business report in"), weeks,
                 L(j, "minggu", "weeks"));
        /* one row per silent KPM: the count stops past ADMIN_SILENT_CAP */
        admin_dashboard_figure(j, "fig-silent", L(j, "KPM diam", "silent KPM"),
                               num(CELL(&rs, 0, 1)) > ADMIN_SILENT_CAP ? L(j, "10.000+", "10,000+")
                                                                       : nz(CELL(&rs, 0, 1)),
                               note);
        admin_dashboard_figure(j, "fig-graduation", L(j, "calon graduasi", "graduation candidates"),
                               nz(CELL(&rs, 0, 2)), NULL);
    }
    admin_rows_free(&rs);
    return 0;
}

/* weekly reports by channel, twelve weeks */
static int
admin_dashboard_channels(struct db_conn *c, struct admin_job *j, const char *const *lp)
{
    static const char *const sources[] = {"ussd", "sms"};
    struct admin_rows rs = {0};
    const char *scope = j->s.user.region;
    struct admin_dashboard_series ws;
    struct svg_series series[2];
    int err;

    struct db_param sp[DASH_DAYS_NPARAMS];

    admin_dashboard_scope(j, sp, DASH_DAYS_NPARAMS);
    if (DASH_SUMMED(j)) {
        if ((err = admin_rows_query(c,
                                    "SELECT FLOOR(TIMESTAMPDIFF(DAY, r.t, NOW(3)) / 7) w, r.source,"
                                    " SUM(r.n) FROM " DASH_WEEK_ROWS(
                                        "NOW(3) - INTERVAL 84 DAY") " r GROUP BY w, r.source",
                                    sp, DASH_DAYS_NPARAMS, &rs)) != 0)
            return err;
    } else if ((err = admin_rows_query(
                    c,
                    "SELECT FLOOR(TIMESTAMPDIFF(DAY, t, NOW(3)) / 7) w, s, COUNT(*) FROM ("
                    "SELECT x.created_at t, x.source s FROM business_reports x"
                    " JOIN kpm k ON k.id = x.kpm_id"
                    " WHERE x.created_at >= NOW(3) - INTERVAL 84 DAY AND" REVIEW_SCOPE
                    " UNION ALL SELECT x.created_at, x.source FROM attendance_reports x"
                    " JOIN kpm k ON k.id = x.kpm_id"
                    " WHERE x.created_at >= NOW(3) - INTERVAL 84 DAY AND" REVIEW_SCOPE
                    " UNION ALL SELECT x.created_at, x.source FROM help_requests x"
                    " JOIN kpm k ON k.id = x.kpm_id"
                    " WHERE x.created_at >= NOW(3) - INTERVAL 84 DAY AND" REVIEW_SCOPE
                    ") r GROUP BY w, s",
                    (struct db_param[]){DB_STR(scope), DB_STR(scope), DB_STR(scope)}, 3, &rs)) != 0)
        return err;
    admin_dashboard_fill(&rs, sources, 2, &ws);
    admin_rows_free(&rs);
    series[0] = (struct svg_series){"USSD", ws.v[0]};
    series[1] = (struct svg_series){"SMS", ws.v[1]};
    outf(j, "<section class=\"chart\" id=\"chart-channel\"><h2>%s</h2>",
         L(j, "Laporan per minggu menurut kanal", "Weekly reports by channel"));
    svg_bars(j->out, L(j, "Laporan per minggu menurut kanal", "Weekly reports by channel"), lp, 12,
             series, 2, 1, L(j, "Belum ada data", "No data yet"));
    out(j, "</section>\n");
    return 0;
}

/* business reports by status, twelve weeks */
static int
admin_dashboard_status(struct db_conn *c, struct admin_job *j, const char *const *lp)
{
    static const char *const statuses[ADMIN_BUSINESS_STATUSES] = {"1", "2", "3", "4"};
    struct admin_rows rs = {0};
    struct db_param p[DASH_DAYS_NPARAMS];
    struct admin_dashboard_series ws;
    struct svg_series series[ADMIN_BUSINESS_STATUSES];
    unsigned i;
    int err;

    admin_dashboard_scope(j, p, DASH_DAYS_NPARAMS);
    if ((err = admin_rows_query(
             c,
             DASH_SUMMED(j)
                 ? "SELECT FLOOR(TIMESTAMPDIFF(DAY, r.t, NOW(3)) / 7) w, r.status, SUM(r.n)"
                   " FROM " DASH_WEEK_ROWS("NOW(3) - INTERVAL 84 DAY") " r WHERE r.kind = 1"
                                                                       " GROUP BY w, r.status"
                 : "SELECT FLOOR(TIMESTAMPDIFF(DAY, x.created_at, NOW(3)) / 7) w, x.status,"
                   " COUNT(*) FROM business_reports x JOIN kpm k ON k.id = x.kpm_id"
                   " WHERE x.created_at >= NOW(3) - INTERVAL 84 DAY AND" REVIEW_SCOPE
                   " GROUP BY w, x.status",
             p, DASH_SUMMED(j) ? DASH_DAYS_NPARAMS : 1, &rs)) != 0)
        return err;
    admin_dashboard_fill(&rs, statuses, ADMIN_BUSINESS_STATUSES, &ws);
    admin_rows_free(&rs);
    for (i = 0; i < ADMIN_BUSINESS_STATUSES; i++)
        series[i] = (struct svg_series){admin_status_label(j, i + 1), ws.v[i]};
    outf(j, "<section class=\"chart\" id=\"chart-status\"><h2>%s</h2>",
         L(j, "Status usaha dari waktu ke waktu", "Business status over time"));
    svg_lines(j->out, L(j, "Status usaha dari waktu ke waktu", "Business status over time"), lp, 12,
              series, ADMIN_BUSINESS_STATUSES, L(j, "Belum ada data", "No data yet"));
    out(j, "</section>\n");
    return 0;
}

/* training attendance by province, 90 days */
static int
admin_dashboard_provinces(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    struct db_param p[DASH_DAYS_NPARAMS];
    const char *names[40];
    double rate[40];
    struct svg_series series;
    size_t i;
    int err;

    admin_dashboard_scope(j, p, DASH_DAYS_NPARAMS);
    if ((err = admin_rows_query(
             c,
             DASH_SUMMED(j)
                 /* summed by province first, then named: joined before, with the tens of
                  * thousands of regions of the country MariaDB walked the regions and ran
                  * the rows once for each (33 million rows, past query_timeout) */
                 ? "SELECT g.name, s.n, s.a FROM (SELECT r.province, SUM(r.n) n,"
                   " SUM(r.n * r.attended) a FROM " DASH_DAYS(
                       "NOW(3) - INTERVAL 90 DAY") " r WHERE r.kind = 2 GROUP BY r.province) s"
                                                   " JOIN regions g ON g.code = s.province"
                                                   " ORDER BY g.name LIMIT 40"
                 : "SELECT r.name, COUNT(*), SUM(x.attended) FROM attendance_reports x"
                   " JOIN kpm k ON k.id = x.kpm_id JOIN regions r"
                   " ON r.code = LEFT(k.region_code, 2)"
                   " WHERE x.created_at >= NOW(3) - INTERVAL 90 DAY AND" REVIEW_SCOPE
                   " GROUP BY r.code, r.name ORDER BY r.name LIMIT 40",
             p, DASH_SUMMED(j) ? DASH_DAYS_NPARAMS : 1, &rs)) != 0)
        return err;
    for (i = 0; i < rs.n && i < 40; i++) {
        names[i] = nz(CELL(&rs, i, 0));
        rate[i] = num(CELL(&rs, i, 1)) > 0 ? num(CELL(&rs, i, 2)) * 100 / num(CELL(&rs, i, 1)) : 0;
    }
    series = (struct svg_series){L(j, "% hadir", "% attended"), rate};
    outf(j, "<section class=\"chart\" id=\"chart-attendance\"><h2>%s</h2>",
         L(j, "Kehadiran pelatihan per provinsi (90 hari)",
           "Training attendance by province (90 days)"));
    svg_bars(j->out, L(j, "Kehadiran per provinsi", "Attendance by province"), names, i, &series, 1,
             0, L(j, "Belum ada data", "No data yet"));
    out(j, "</section>\n");
    admin_rows_free(&rs);
    return 0;
}

/* Trained assistants per province against their caseloads: assistants certified under
 * training.certification (gateway/training.h) and the KPM they serve, of the user's region.
 * Walks the region's assistants (idx_assistants_region), each caseload counted once on
 * idx_kpm_assistant. */
static int
admin_dashboard_trained(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    struct db_param p[TRAINING_CERT_NPARAMS + 1];
    const char *names[40];
    double share[2][40];
    struct svg_series series[2];
    time_t at;
    size_t i;
    int err;

    training_cert_params(j->cfg, p);
    p[TRAINING_CERT_NPARAMS] = DB_STR(j->s.user.region);
    if ((err = admin_dashboard_chart_rows(
             c, j, DASH_CHART_TRAINED,
             /* t materialised: each assistant's certification and caseload counted once (the
              * caseload was counted twice, in the total and the certified sum: two million
              * index entries at a million KPM) */
             "SET STATEMENT optimizer_switch = 'derived_merge=off' FOR"
             " SELECT r.name, COUNT(*), SUM(t.cert), SUM(t.cl), SUM(IF(t.cert, t.cl, 0))"
             " FROM (SELECT LEFT(a.region_code, 2) prov, " TRAINING_CERTIFIED_AT(
                 "a.id") " IS NOT NULL cert,"
                         " (SELECT COUNT(*) FROM kpm k WHERE k.assistant_id = a.id) cl"
                         " FROM assistants a WHERE a.region_code LIKE CONCAT(?, '%')) t"
                         " JOIN regions r ON r.code = t.prov GROUP BY r.code, r.name"
                         " ORDER BY r.name LIMIT 40",
             p, TRAINING_CERT_NPARAMS + 1, &rs, &at)) != 0)
        return err;
    outf(j,
         "<section class=\"chart\" id=\"chart-trained\"><h2>%s</h2>"
         "<table id=\"trained\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
         "<th>%s</th></tr></thead><tbody>",
         L(j, "Pendamping tersertifikasi per provinsi", "Certified assistants by province"),
         L(j, "Provinsi", "Province"), L(j, "Pendamping", "Assistants"),
         L(j, "Tersertifikasi", "Certified"), L(j, "KPM dampingan", "Caseload"),
         L(j, "KPM dengan pendamping tersertifikasi", "KPM with a certified assistant"));
    for (i = 0; i < rs.n && i < 40; i++) {
        names[i] = nz(CELL(&rs, i, 0));
        share[0][i] =
            num(CELL(&rs, i, 1)) > 0 ? num(CELL(&rs, i, 2)) * 100 / num(CELL(&rs, i, 1)) : 0;
        share[1][i] =
            num(CELL(&rs, i, 3)) > 0 ? num(CELL(&rs, i, 4)) * 100 / num(CELL(&rs, i, 3)) : 0;
        out(j, "<tr class=\"province\"><td>");
        esc(j, CELL(&rs, i, 0));
        out(j, "</td><td class=\"assistants\">");
        esc(j, CELL(&rs, i, 1));
        out(j, "</td><td class=\"certified\">");
        esc(j, CELL(&rs, i, 2));
        out(j, "</td><td class=\"caseload\">");
        esc(j, CELL(&rs, i, 3));
        out(j, "</td><td class=\"covered\">");
        esc(j, CELL(&rs, i, 4));
        out(j, "</td></tr>");
    }
    out(j, "</tbody></table>");
    series[0] = (struct svg_series){L(j, "% pendamping tersertifikasi", "% assistants certified"),
                                    share[0]};
    series[1] = (struct svg_series){
        L(j, "% KPM dengan pendamping tersertifikasi", "% KPM with a certified assistant"),
        share[1]};
    svg_bars(j->out, L(j, "Pendamping tersertifikasi", "Certified assistants"), names, i, series, 2,
             0, L(j, "Belum ada data", "No data yet"));
    admin_dashboard_counted_at(j, at);
    out(j, "</section>\n");
    admin_rows_free(&rs);
    return 0;
}

/* graduates by track and month: the last 12 months (WIB), from the unrevoked graduations by
 * their effective date; a KPM counted once per month and track */
static int
admin_dashboard_graduates(struct db_conn *c, struct admin_job *j)
{
    static const char *const tracks[2] = {"natural", "welfare"};
    struct admin_rows rs = {0};
    char months[12][16], labels[12][16], first[24];
    const char *lp[12];
    double v[2][12];
    struct svg_series series[2];
    time_t now = time(NULL) + 7 * 3600;
    struct tm tm;
    size_t i, m, t;
    int err, y, mo;

    gmtime_r(&now, &tm);
    memset(v, 0, sizeof v);
    for (i = 0; i < 12; i++) {
        /* month i counts from 11 months ago to this one */
        mo = tm.tm_mon - (11 - (int)i);
        y = tm.tm_year + 1900 + (mo < 0 ? (mo - 11) / 12 : 0);
        mo = ((mo % 12) + 12) % 12;
        snprintf(months[i], sizeof months[i], "%04d-%02d", y % 10000, mo + 1);
        snprintf(labels[i], sizeof labels[i], "%02d/%02d", mo + 1, y % 100);
        lp[i] = labels[i];
    }
    snprintf(first, sizeof first, "%s-01", months[0]);
    if ((err = admin_rows_query(
             c,
             "SELECT DATE_FORMAT(g.effective_date, '%Y-%m'), g.track, COUNT(DISTINCT g.kpm_id)"
             " FROM graduations g JOIN kpm k ON k.id = g.kpm_id"
             " WHERE g.track IN ('natural', 'welfare') AND g.effective_date >= ?"
             " AND g.revoked_at IS NULL AND" REVIEW_SCOPE " GROUP BY 1, 2",
             (struct db_param[]){DB_STR(first), DB_STR(j->s.user.region)}, 2, &rs)) != 0)
        return err;
    for (i = 0; i < rs.n; i++)
        for (m = 0; m < 12; m++)
            for (t = 0; t < 2; t++)
                if (strcmp(nz(CELL(&rs, i, 0)), months[m]) == 0 &&
                    strcmp(nz(CELL(&rs, i, 1)), tracks[t]) == 0)
                    v[t][m] += num(CELL(&rs, i, 2));
    admin_rows_free(&rs);
    series[0] = (struct svg_series){admin_track_label(j, "natural"), v[0]};
    series[1] = (struct svg_series){admin_track_label(j, "welfare"), v[1]};
    outf(j, "<section class=\"chart\" id=\"chart-graduates\"><h2>%s</h2>",
         L(j, "Graduasi per bulan menurut jalur", "Graduates by month and track"));
    svg_bars(j->out, L(j, "Graduasi per bulan menurut jalur", "Graduates by month and track"), lp,
             12, series, 2, 1, L(j, "Belum ada graduasi", "No graduation yet"));
    outf(j,
         "<table id=\"graduates-table\"><thead><tr><th>%s</th><th>%s</th><th>%s</th></tr>"
         "</thead><tbody>",
         L(j, "Bulan", "Month"), series[0].label, series[1].label);
    for (m = 0; m < 12; m++)
        outf(j,
             "<tr data-month=\"%s\"><td>%s</td><td class=\"natural\">%.0f</td>"
             "<td class=\"welfare\">%.0f</td></tr>",
             months[m], months[m], v[0][m], v[1][m]);
    out(j, "</tbody></table></section>\n");
    return 0;
}

/*
 * The welfare cohort: of the welfare graduates (kpm.graduation welfare, by her standing
 * graduation, effective in the last ADMIN_COHORT_MONTHS months) whose graduated_on + N months
 * is today or before, the share whose latest business report dated (WIB) from graduated_on to
 * graduated_on + N months says running (status 1); one without a report in that window counts
 * as not running. The work is one index range of graduations and, per graduate and N, one step
 * back on business_reports (kpm_id, created_at): it grows with the cohort, never with reports.
 */
#define ADMIN_COHORT_MONTHS 24
#define ADMIN_TODAY "CAST(NOW() + INTERVAL 7 HOUR AS DATE)"
/*
 * KPM k's status n months after her graduation: NULL before she reaches it, else the status of
 * her latest business report dated (WIB) in [graduated_on, graduated_on + n months], 0 for none.
 * (A subquery per column, not a join with a table of the three months: MariaDB 10.11 loses the
 * outer column of a derived table in a correlated subquery when a prepared statement runs a
 * second time, error 1054.) FORCE INDEX, or MariaDB may walk every report newest first. The
 * walk reads the index alone (her reports past the window's end are skipped there, not each
 * read from the table: 31 pages a graduate) and the one report found gives its status.
 */
#define ADMIN_COHORT_STATUS(n)                                                                     \
    "CASE WHEN k.graduated_on + INTERVAL " n " MONTH <= " ADMIN_TODAY " THEN COALESCE((SELECT"     \
    " b.status FROM business_reports b WHERE b.id = (SELECT b2.id FROM business_reports b2"        \
    " FORCE INDEX (idx_business_reports_kpm_created) WHERE b2.kpm_id = k.id"                       \
    " AND b2.created_at >= k.graduated_on - INTERVAL 7 HOUR"                                       \
    " AND b2.created_at < k.graduated_on + INTERVAL " n " MONTH + INTERVAL 17 HOUR"                \
    " ORDER BY b2.created_at DESC, b2.id DESC LIMIT 1)), 0) END"
#define ADMIN_COHORT_S3 ADMIN_COHORT_STATUS("3")
#define ADMIN_COHORT_S6 ADMIN_COHORT_STATUS("6")
#define ADMIN_COHORT_S12 ADMIN_COHORT_STATUS("12")
/* the cohort: KPM k by her standing welfare graduation of the last ? months, in the region */
#define ADMIN_COHORT_GRADUATES                                                                     \
    " FROM kpm k WHERE k.id IN (SELECT g.kpm_id FROM graduations g WHERE g.track = 'welfare'"      \
    " AND g.effective_date >= " ADMIN_TODAY " - INTERVAL ? MONTH AND g.revoked_at IS NULL"         \
    " AND g.effective_date = k.graduated_on) AND k.graduation = 'welfare' AND" REVIEW_SCOPE

static int
admin_dashboard_cohort(struct db_conn *c, struct admin_job *j)
{
    static const unsigned ns[3] = {3, 6, 12};
    struct admin_rows rs = {0};
    double share[3] = {0}, total[3] = {0}, running[3] = {0}, none[3] = {0};
    char lbl[3][24];
    const char *lp[3];
    struct svg_series series;
    time_t at;
    size_t k;
    int err;

    if ((err = admin_dashboard_chart_rows(
             c, j, DASH_CHART_COHORT,
             /* t materialised: merged, each of its columns ran its dives once per use
              * (three times), 0.9 s at a million KPM */
             "SET STATEMENT optimizer_switch = 'derived_merge=off' FOR"
             " SELECT COUNT(t.s3), COALESCE(SUM(t.s3 = 1), 0), COALESCE(SUM(t.s3 = 0), 0),"
             " COUNT(t.s6), COALESCE(SUM(t.s6 = 1), 0), COALESCE(SUM(t.s6 = 0), 0),"
             " COUNT(t.s12), COALESCE(SUM(t.s12 = 1), 0), COALESCE(SUM(t.s12 = 0), 0)"
             " FROM (SELECT " ADMIN_COHORT_S3 " s3, " ADMIN_COHORT_S6 " s6, " ADMIN_COHORT_S12
             " s12" ADMIN_COHORT_GRADUATES ") t",
             (struct db_param[]){DB_U64(ADMIN_COHORT_MONTHS), DB_STR(j->s.user.region)}, 2, &rs,
             &at)) != 0)
        return err;
    for (k = 0; k < 3 && rs.n == 1; k++) {
        total[k] = num(CELL(&rs, 0, 3 * k));
        running[k] = num(CELL(&rs, 0, 3 * k + 1));
        none[k] = num(CELL(&rs, 0, 3 * k + 2));
    }
    admin_rows_free(&rs);
    for (k = 0; k < 3; k++) {
        share[k] = total[k] > 0 ? running[k] * 100 / total[k] : 0;
        snprintf(lbl[k], sizeof lbl[k], "%u %s", ns[k], L(j, "bulan", "months"));
        lp[k] = lbl[k];
    }
    series = (struct svg_series){L(j, "% usaha berjalan", "% business running"), share};
    outf(j, "<section class=\"chart\" id=\"chart-cohort\"><h2>%s</h2>",
         L(j, "Graduasi sejahtera: usaha masih berjalan",
           "Welfare graduates: business still running"));
    svg_bars(j->out,
             L(j, "Usaha masih berjalan setelah graduasi", "Business running after graduation"), lp,
             3, &series, 1, 0, L(j, "Belum ada data", "No data yet"));
    outf(j,
         "<table id=\"cohort-table\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
         "<th>%s</th></tr></thead><tbody>",
         L(j, "Setelah", "After"), L(j, "Graduasi", "Graduates"), L(j, "Berjalan", "Running"),
         L(j, "Tanpa laporan", "No report"), L(j, "Persen", "Share"));
    for (k = 0; k < 3; k++)
        outf(j,
             "<tr data-months=\"%u\"><td>%s</td><td class=\"graduates\">%.0f</td>"
             "<td class=\"running\">%.0f</td><td class=\"none\">%.0f</td>"
             "<td class=\"share\">%.0f%%</td></tr>",
             ns[k], lbl[k], total[k], running[k], none[k], share[k]);
    outf(j, "</tbody></table><p class=\"note\" id=\"cohort-definition\">%s</p>",
         L(j,
           "Graduasi sejahtera yang berlaku dalam 24 bulan terakhir dan sudah mencapai N bulan. "
           "Berjalan: laporan usaha terakhirnya dari tanggal graduasi sampai tanggal graduasi + "
           "N bulan (WIB) menyatakan usaha berjalan; tanpa laporan di rentang itu dihitung tidak "
           "berjalan.",
           "Welfare graduations effective in the last 24 months that have reached N months. "
           "Running: her latest business report dated from the graduation date to the graduation "
           "date + N months (WIB) says the business is running; one without a report in that "
           "window counts as not running."));
    admin_dashboard_counted_at(j, at);
    out(j, "</section>\n");
    return 0;
}

int
admin_page_dashboard(struct db_conn *c, struct admin_job *j)
{
    char labels[12][8];
    const char *lp[12];
    int err;

    db_fault(c, "admin_dashboard");
    admin_head(j, L(j, "Dasbor", "Dashboard"), "dashboard");
    out(j, "<section class=\"figures\">");
    if ((err = admin_dashboard_week(c, j)) != 0 || (err = admin_dashboard_running(c, j)) != 0 ||
        (err = admin_dashboard_attendance(c, j)) != 0 || (err = admin_dashboard_alerts(c, j)) != 0)
        return err;
    out(j, "</section>\n");
    admin_dashboard_labels(labels, lp);
    if ((err = admin_dashboard_channels(c, j, lp)) != 0 ||
        (err = admin_dashboard_status(c, j, lp)) != 0 ||
        (err = admin_dashboard_provinces(c, j)) != 0 ||
        (err = admin_dashboard_graduates(c, j)) != 0 || (err = admin_dashboard_cohort(c, j)) != 0 ||
        (err = admin_dashboard_trained(c, j)) != 0)
        return err;
    admin_foot(j);
    return 0;
}
