/*
 * The CSV exports (GET /export/reports.csv, /export/attendance.csv): every row of one report type
 * the user's filter and region allow; /export/lessons.csv: the lesson progress rows its query's
 * filter (admin_lesson_query_parse()) and the region allow. Streamed: one keyset page of rows per
 * database job, one chunk on the wire at a time, so an export of any size holds one page in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "admin.h"
#include "admin_int.h"
#include "auth.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "parse.h"
#include "review.h"

#define ADMIN_EXPORT_PAGE 1000
/* j->type of the lessons export: past the report types */
#define ADMIN_EXPORT_LESSONS (REVIEW_HELP + 1)

static const char *
admin_export_name(const struct admin_job *j)
{
    return j->type == ADMIN_EXPORT_LESSONS ? "lessons" : review_type_names[j->type];
}

/* the statement of the next page; -1: none (the export ends). The statement's parameters point
 * into *q, which must outlive the query (the caller's, not this function's frame). */
static int
admin_export_sql(struct sqlb *b, struct admin_job *j, struct admin_lesson_query *q)
{
    char err[96];

    if (j->type != ADMIN_EXPORT_LESSONS)
        return review_build(b, &j->filter, j->s.user.region, REVIEW_KEYSET, j->type, j->before,
                            ADMIN_EXPORT_PAGE, 0);
    if (admin_lesson_query_parse(j->query, j->s.user.region, q, err, sizeof err) == -1)
        return -1;
    return admin_lessons_list(b, q, j->before, ADMIN_EXPORT_PAGE);
}

/* One page being read: the job, and the worker's connection (for the tests' fault point). */
struct admin_export_read {
    struct admin_job *j;
    struct db_conn *c;
    size_t first; /* j->rows when the page began */
};

static int
admin_export_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct admin_export_read *x = arg;
    struct admin_job *j = x->j;
    unsigned i;
    uint64_t id;

    /* the link lost with the rest of the page still on its way (tests only) */
    if (j->rows == x->first)
        db_fault(x->c, "admin_export_rows");

    for (i = 0; i < n; i++) {
        if (i > 0)
            evbuffer_add(j->out, ",", 1);
        csv_field(j->out, v[i], v[i] != NULL ? lens[i] : 0);
    }
    evbuffer_add(j->out, "\r\n", 2);
    if (v[0] != NULL && parse_u64(v[0], lens[0], 1, UINT64_MAX, &id) == 0)
        j->before = id;
    j->rows++;
    return 0;
}

static int
admin_export_page(struct db_conn *c, void *arg)
{
    struct admin_job *j = arg;
    struct admin_export_read x = {j, c, j->rows};
    struct admin_lesson_query q; /* the lessons export's filter: the statement points into it */
    struct sqlb *b;
    size_t before_rows = j->rows;
    uint64_t before = j->before;
    int err;

    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    if ((b = malloc(sizeof *b)) == NULL)
        return DB_EUNAVAILABLE;
    if (admin_export_sql(b, j, &q) == -1) {
        free(b);
        j->done = 1;
        return 0;
    }
    err = db_query(c, b->sql, b->p, b->np, admin_export_row, &x);
    free(b);
    if (err != 0) {
        /* a re-run must not count or skip the rows of the failed attempt */
        j->rows = before_rows;
        j->before = before;
        return err;
    }
    j->done = j->rows - before_rows < ADMIN_EXPORT_PAGE;
    return 0;
}

static void admin_export_next(struct http_req *r, void *arg);

static void
admin_export_finish(struct admin_job *j, const char *why)
{
    log_info("admin_export", "req=%llu user_id=%llu type=%s rows=%zu end=%s",
             (unsigned long long)j->r->id, (unsigned long long)j->s.user.id, admin_export_name(j),
             j->rows, why);
    if (strcmp(why, "complete") == 0)
        http_stream_end(j->r);
    else
        http_stream_abort(j->r);
    j->r = NULL;
    admin_job_free(j);
}

static void
admin_export_paged(int err, void *arg)
{
    struct admin_job *j = arg;

    if (err != 0) {
        log_error("admin_export_failed", "req=%llu err=%d rows=%zu", (unsigned long long)j->r->id,
                  err, j->rows);
        admin_export_finish(j, "db_error");
        return;
    }
    if (j->r->req == NULL) {
        admin_export_finish(j, "peer_gone");
        return;
    }
    http_stream_chunk(j->r, j->out, admin_export_next, j);
}

static void
admin_export_next(struct http_req *r, void *arg)
{
    struct admin_job *j = arg;

    if (r->req == NULL) {
        admin_export_finish(j, "peer_gone");
        return;
    }
    if (j->done) {
        admin_export_finish(j, "complete");
        return;
    }
    if (db_submit(admin_export_page, admin_export_paged, j, DB_BACKGROUND) == -1) {
        log_error("admin_export_failed", "req=%llu err=unavailable rows=%zu",
                  (unsigned long long)r->id, j->rows);
        admin_export_finish(j, "db_unavailable");
    }
}

/* on the loop, once the first job has written the header row: the reply becomes a stream */
static void
admin_export_stream(struct admin_job *j)
{
    struct http_req *r = j->r;
    char disp[96], day[16];
    time_t now = time(NULL) + 7 * 3600;
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    snprintf(disp, sizeof disp, "attachment; filename=\"kabar-%s-%s.csv\"",
             j->type == REVIEW_BUSINESS ? "reports" : admin_export_name(j), day);
    admin_headers(r, 1);
    http_add_header(r, "Content-Disposition", disp);
    if (http_stream_start(r, 200, "text/csv; charset=utf-8") == -1) {
        admin_done(DB_EUNAVAILABLE, j);
        return;
    }
    http_stream_chunk(r, j->out, admin_export_next, j);
}

/* the first job: the header row and the audit; not logged in, it is a redirect (admin_work) */
static int
admin_export_start(struct db_conn *c, struct admin_job *j, int type)
{
    const char *const *cols =
        type == ADMIN_EXPORT_LESSONS ? admin_lesson_columns : review_export_columns(type);
    size_t i;

    j->type = type;
    evbuffer_add(j->out, "\xef\xbb\xbf", 3); /* the BOM: Excel then reads UTF-8 */
    for (i = 0; cols[i] != NULL; i++) {
        if (i > 0)
            evbuffer_add(j->out, ",", 1);
        csv_field(j->out, cols[i], strlen(cols[i]));
    }
    evbuffer_add(j->out, "\r\n", 2);
    j->status = 200;
    j->stream = admin_export_stream;
    db_fault(c, "export_audit"); /* tests: the audit INSERT's answer lost, the job re-run */
    return auth_audit_keyed(c, j->key, j->s.user.username, "export", admin_export_name(j), 0, NULL);
}

int
admin_export_reports(struct db_conn *c, struct admin_job *j)
{
    return admin_export_start(c, j, REVIEW_BUSINESS);
}

int
admin_export_attendance(struct db_conn *c, struct admin_job *j)
{
    return admin_export_start(c, j, REVIEW_ATTENDANCE);
}

/* a filter the page could not have made is a 400 before the stream starts */
int
admin_export_lessons(struct db_conn *c, struct admin_job *j)
{
    struct admin_lesson_query q;
    char err[96];

    if (admin_lesson_query_parse(j->query, j->s.user.region, &q, err, sizeof err) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), err);
    return admin_export_start(c, j, ADMIN_EXPORT_LESSONS);
}
