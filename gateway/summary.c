/*
 * The summary step: every SUMMARY_SECONDS, one DB_TXN job per step sums the reports past each
 * table's mark (summary_marks) into report_hours and moves the mark in the same transaction, so
 * a crash or a lost link leaves the rows and the mark together, and a re-run sums nothing twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "db.h"
#include "lease.h"
#include "log.h"
#include "parse.h"
#include "summary.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static struct {
    struct event *tick;
    int running, stopping;
} sm;

struct summary_job {
    uint64_t rows;   /* summed in this step, all tables */
    uint64_t latest; /* business reports walked for kpm_latest */
    int full;        /* a table had a full batch: step again at once */
};

/* what one table's rows add to report_hours: (hour, province, kind, source, status, attended) */
static const struct summary_table {
    const char *name;
    const char *next_sql; /* the upper end of the batch past the mark */
    const char *young_sql;
    const char *sum_sql;
} summary_tables[] = {
#define SUMMARY_TABLE(table, kind, status, attended)                                               \
    {                                                                                              \
        table,                                                                                     \
            "SELECT COALESCE(MAX(id), 0) FROM (SELECT id FROM " table " WHERE id > ? ORDER BY id"  \
            " LIMIT " STR(SUMMARY_BATCH) ") b",                                                    \
            "SELECT COALESCE(MIN(id), 0) FROM " table " WHERE id > ? AND id <= ?"                  \
            " AND created_at >= NOW(3) - INTERVAL " STR(SUMMARY_LAG_SECONDS) " SECOND",            \
            "INSERT INTO report_hours (hour, province, kind, source, status, attended, n)"         \
            " SELECT DATE_FORMAT(x.created_at, '%Y-%m-%d %H:00:00'), LEFT(k.region_code, "         \
            "2), " kind ","                                                                        \
            " x.source, " status ", " attended ", COUNT(*) FROM " table                            \
            " x JOIN kpm k ON k.id = x.kpm_id"                                                     \
            " WHERE x.id > ? AND x.id <= ? GROUP BY 1, 2, 4, 5, 6 ON DUPLICATE KEY UPDATE n = n "  \
            "+ VALUES(n)"                                                                          \
    }
    SUMMARY_TABLE("business_reports", "1", "x.status", "0"),
    SUMMARY_TABLE("attendance_reports", "2", "0", "x.attended"),
    SUMMARY_TABLE("help_requests", "3", "0", "0"),
#undef SUMMARY_TABLE
};

static int
summary_u64(void *arg, char **vals, unsigned long *lens, unsigned ncols)
{
    *(uint64_t *)arg = 0;
    if (ncols > 0 && vals[0] != NULL &&
        parse_u64(vals[0], lens[0], 0, UINT64_MAX, (uint64_t *)arg) == -1)
        return -1;
    return 0;
}

/* one table: the mark (locked), the batch's end short of the young rows, the sum, the mark */
static int
summary_table_step(struct db_conn *c, const struct summary_table *t, struct summary_job *j)
{
    struct db_param p[2] = {DB_STR(t->name)};
    uint64_t mark = 0, upto = 0, young = 0, n = 0;
    int err;

    if ((err = db_query(c, "SELECT last_id FROM summary_marks WHERE name = ? FOR UPDATE", p, 1,
                        summary_u64, &mark)) != 0 ||
        (err = db_query(c, t->next_sql, (struct db_param[]){DB_U64(mark)}, 1, summary_u64,
                        &upto)) != 0)
        return err;
    if (upto <= mark)
        return 0;
    if ((err = db_query(c, t->young_sql, (struct db_param[]){DB_U64(mark), DB_U64(upto)}, 2,
                        summary_u64, &young)) != 0)
        return err;
    if (young != 0)
        upto = young - 1;
    else if (upto - mark >= SUMMARY_BATCH - 1)
        j->full = 1;
    if (upto <= mark)
        return 0;
    if ((err = db_exec(c, t->sum_sql, (struct db_param[]){DB_U64(mark), DB_U64(upto)}, 2, &n,
                       NULL)) != 0)
        return err;
    p[0] = DB_U64(upto);
    p[1] = DB_STR(t->name);
    if ((err =
             db_exec(c, "UPDATE summary_marks SET last_id = ?, updated_at = NOW(3) WHERE name = ?",
                     p, 2, NULL, NULL)) != 0)
        return err;
    j->rows += upto - mark;
    return 0;
}

/*
 * Each KPM's latest business report (kpm_latest) and the KPM counted per (province, status,
 * revenue bucket) whose latest is after the window mark (latest_counts), sql/016: one batch of
 * reports past the 'kpm_latest' mark, in the transaction of the other tables' steps.
 */
#define SUMMARY_WINDOW "NOW(3) - INTERVAL 90 DAY"
/* the batch's latest report of each of its KPM, as nb */
#define SUMMARY_BATCH_LATEST                                                                       \
    "(SELECT * FROM (SELECT x.kpm_id, x.id, x.created_at, LEFT(k.region_code, 2) province,"        \
    " x.status, COALESCE(ROUND(x.revenue / 10000), -1) bucket, ROW_NUMBER() OVER (PARTITION BY"    \
    " x.kpm_id ORDER BY x.created_at DESC, x.id DESC) rn FROM business_reports x"                  \
    " JOIN kpm k ON k.id = x.kpm_id WHERE x.id > ? AND x.id <= ?) r WHERE r.rn = 1) nb"
/* nb newer than her summed latest l, or she has none */
#define SUMMARY_NEWER                                                                              \
    " LEFT JOIN kpm_latest l ON l.kpm_id = nb.kpm_id WHERE (l.kpm_id IS NULL"                      \
    " OR (nb.created_at, nb.id) > (l.created_at, l.report_id))"
#define SUMMARY_COUNT_ADD                                                                          \
    " GROUP BY 1, 2, 3 ON DUPLICATE KEY UPDATE n = latest_counts.n + VALUES(n)"

static const char *const summary_latest_sql[] = {
    /* her summed latest, if counted, out of the counts */
    "INSERT INTO latest_counts (province, status, bucket, n) SELECT l.province, l.status,"
    " l.bucket, -COUNT(*) FROM " SUMMARY_BATCH_LATEST SUMMARY_NEWER
    " AND l.created_at > ?" SUMMARY_COUNT_ADD,
    /* the new latest in, if in the window */
    "INSERT INTO latest_counts (province, status, bucket, n) SELECT nb.province, nb.status,"
    " nb.bucket, COUNT(*) FROM " SUMMARY_BATCH_LATEST SUMMARY_NEWER
    " AND nb.created_at > ?" SUMMARY_COUNT_ADD,
    /* and kept as her latest */
    "INSERT INTO kpm_latest (kpm_id, report_id, created_at, province, status, bucket)"
    " SELECT nb.kpm_id, nb.id, nb.created_at, nb.province, nb.status, nb.bucket"
    " FROM " SUMMARY_BATCH_LATEST SUMMARY_NEWER
    " ON DUPLICATE KEY UPDATE report_id = VALUES(report_id), created_at = VALUES(created_at),"
    " province = VALUES(province), status = VALUES(status), bucket = VALUES(bucket)",
};

struct summary_latest_mark {
    uint64_t id;
    char at[32], win[32]; /* the window mark, and where it moves to */
    int found;
};

static int
summary_latest_row(void *arg, char **vals, unsigned long *lens, unsigned ncols)
{
    struct summary_latest_mark *m = arg;

    if (ncols != 3 || vals[0] == NULL || vals[1] == NULL || vals[2] == NULL ||
        lens[1] >= sizeof m->at || lens[2] >= sizeof m->win ||
        parse_u64(vals[0], lens[0], 0, UINT64_MAX, &m->id) == -1)
        return -1;
    memcpy(m->at, vals[1], lens[1] + 1);
    memcpy(m->win, vals[2], lens[2] + 1);
    m->found = 1;
    return 0;
}

static int
summary_latest_step(struct db_conn *c, struct summary_job *j)
{
    const struct summary_table *t = &summary_tables[0]; /* business_reports */
    struct summary_latest_mark m = {0};
    uint64_t upto = 0, young = 0;
    size_t i;
    int err;

    /* the mark and the window's next position (the largest of the two: never back) */
    if ((err = db_query(c,
                        "SELECT last_id, last_at, GREATEST(last_at, " SUMMARY_WINDOW ")"
                        " FROM summary_marks WHERE name = 'kpm_latest' AND last_at IS NOT NULL"
                        " FOR UPDATE",
                        NULL, 0, summary_latest_row, &m)) != 0)
        return err;
    if (!m.found) /* before migration 016 */
        return 0;
    /* KPM whose latest report left the window since the last step: a range of
     * idx_kpm_latest_created, as long as the reports of the last SUMMARY_SECONDS 90 days ago */
    if (strcmp(m.at, m.win) != 0 &&
        (err = db_exec(c,
                       "INSERT INTO latest_counts (province, status, bucket, n)"
                       " SELECT l.province, l.status, l.bucket, -COUNT(*) FROM kpm_latest l"
                       " WHERE l.created_at > ? AND l.created_at <= ?" SUMMARY_COUNT_ADD,
                       (struct db_param[]){DB_STR(m.at), DB_STR(m.win)}, 2, NULL, NULL)) != 0)
        return err;
    db_fault(c, "summary_latest");
    if ((err = db_query(c, t->next_sql, (struct db_param[]){DB_U64(m.id)}, 1, summary_u64,
                        &upto)) != 0)
        return err;
    if (upto > m.id &&
        (err = db_query(c, t->young_sql, (struct db_param[]){DB_U64(m.id), DB_U64(upto)}, 2,
                        summary_u64, &young)) != 0)
        return err;
    if (young != 0)
        upto = young - 1;
    else if (upto > m.id && upto - m.id >= SUMMARY_BATCH - 1)
        j->full = 1;
    if (upto > m.id) {
        for (i = 0; i < sizeof summary_latest_sql / sizeof summary_latest_sql[0]; i++) {
            struct db_param p[3] = {DB_U64(m.id), DB_U64(upto), DB_STR(m.win)};

            if ((err = db_exec(c, summary_latest_sql[i], p, i < 2 ? 3 : 2, NULL, NULL)) != 0)
                return err;
            db_fault(c, "summary_latest");
        }
        j->latest += upto - m.id;
    } else {
        upto = m.id;
    }
    return db_exec(c,
                   "UPDATE summary_marks SET last_id = ?, last_at = ?, updated_at = NOW(3)"
                   " WHERE name = 'kpm_latest'",
                   (struct db_param[]){DB_U64(upto), DB_STR(m.win)}, 2, NULL, NULL);
}

static int
summary_work(struct db_conn *c, void *arg)
{
    struct summary_job *j = arg;
    size_t i;
    int err, held;

    db_txn_name(c, "summary_step");
    /* a re-run after a rollback starts over */
    j->rows = 0;
    j->latest = 0;
    j->full = 0;
    if ((err = lease_take(c, LEASE_SUMMARY, lease_ttl_ms(SUMMARY_SECONDS * 1000), &held)) != 0 ||
        !held)
        return err; /* one kabard of several sums */
    for (i = 0; i < sizeof summary_tables / sizeof summary_tables[0]; i++)
        if ((err = summary_table_step(c, &summary_tables[i], j)) != 0)
            return err;
    return summary_latest_step(c, j);
}

static void
summary_done(int err, void *arg)
{
    struct summary_job *j = arg;

    sm.running = 0;
    if (err != 0)
        log_warn("summary_step_failed", "err=%d", err);
    else if (j->rows > 0 || j->latest > 0)
        log_info("summary_step", "rows=%llu latest=%llu more=%d", (unsigned long long)j->rows,
                 (unsigned long long)j->latest, j->full);
    /* catching up (the first start on a big table): the next batch at once */
    if (err == 0 && j->full && !sm.stopping)
        event_active(sm.tick, EV_TIMEOUT, 0);
    free(j);
}

static void
summary_tick(evutil_socket_t fd, short what, void *arg)
{
    struct summary_job *j;

    (void)fd;
    (void)what;
    (void)arg;
    if (sm.running || sm.stopping || !db_is_up() || (j = calloc(1, sizeof *j)) == NULL)
        return;
    sm.running = 1;
    /* read committed: the sums must not lock ranges that new reports insert into */
    if (db_submit(summary_work, summary_done, j, DB_TXN | DB_READ_COMMITTED | DB_BACKGROUND) ==
        -1) {
        sm.running = 0;
        free(j);
    }
}

int
summary_start(struct event_base *base)
{
    struct timeval tv = {SUMMARY_SECONDS, 0};

    if ((sm.tick = event_new(base, -1, EV_PERSIST, summary_tick, NULL)) == NULL)
        return -1;
    event_add(sm.tick, &tv);
    event_active(sm.tick, EV_TIMEOUT, 0); /* the first step at start */
    return 0;
}

void
summary_stop(void)
{
    sm.stopping = 1;
}

void
summary_free(void)
{
    if (sm.tick != NULL)
        event_free(sm.tick);
    sm.tick = NULL;
}
