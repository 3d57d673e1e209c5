/*
 * Private to the admin pages (admin*.c): the job every page request is, the page frame and the
 * output helpers. A page function runs on a database worker and writes its page into j->out;
 * admin.c's job plumbing sends it from the loop.
 */
#ifndef KABAR_ADMIN_INT_H
#define KABAR_ADMIN_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "auth.h"
#include "html.h"
#include "parse.h"
#include "review.h"

struct config;
struct db_conn;
struct db_param;
struct http_req;
struct admin_job;

/* A page: on a worker, 0 with the page in j->out (or a redirect), or a MariaDB error. */
typedef int (*admin_page_fn)(struct db_conn *, struct admin_job *);

/* What a page needs before it runs; admin_work() checks it. */
enum admin_need {
    NEED_NOTHING, /* the login page */
    NEED_SESSION, /* a live session, else a redirect to /login */
    NEED_FORM     /* a live session and the session's CSRF token in the POSTed form */
};

struct admin_job {
    struct http_req *r;
    const struct config *cfg;
    admin_page_fn page;
    enum admin_need need;
    const char *txn;        /* the route's transaction name (db_txn_name()), NULL without DB_TXN */
    char key[AUTH_KEY_HEX]; /* the request's, the same for every run of the job */
    char new_sid[AUTH_TOKEN_HEX]; /* a login's new session cookie, drawn once */
    char sid[AUTH_TOKEN_HEX];     /* the session cookie */
    char pre[AUTH_TOKEN_HEX];     /* the login form's cookie */
    char query[512];
    int secure;
    /* the session, once checked */
    int authed;
    struct auth_session s;
    struct review_filter filter;
    int lang;
    /* the reply */
    int status;
    struct evbuffer *out;
    char location[160];
    char cookies[2][200];
    size_t ncookies;
    /* set by a page that streams its reply (the exports): the loop starts the stream with it
     * instead of sending j->out as a page */
    void (*stream)(struct admin_job *);
    /* exports */
    int type;
    uint64_t before;
    size_t rows;
    int done;
    /* an import's upload (admin_import.c): its spool file, unlinked with the job unless the
     * import took it */
    char spool[1100];
    char import_kind[16];
    int import_dry;
    char config_path[1024];
};

/* the page's language: Indonesian, or English when the session (or browser) asks for it */
#define L(j, id, en) ((j)->lang ? (en) : (id))

static inline void
out(struct admin_job *j, const char *s)
{
    evbuffer_add(j->out, s, strlen(s));
}

static inline void __attribute__((format(printf, 2, 3)))
outf(struct admin_job *j, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    evbuffer_add_vprintf(j->out, fmt, ap);
    va_end(ap);
}

/* text from a row or a request, escaped; NULL is "" */
static inline void
esc(struct admin_job *j, const char *s)
{
    html_escape_str(j->out, s != NULL ? s : "");
}

static inline const char *
nz(const char *s)
{
    return s != NULL ? s : "";
}

static inline double
num(const char *s)
{
    return s != NULL ? strtod(s, NULL) : 0;
}

/* -- rows collected for pages that render them out of order (admin_html.c) */

struct admin_rows {
    size_t n, cap;
    unsigned ncols;
    char **cells; /* n * ncols, NULL for SQL NULL */
};

#define CELL(rs, row, col) ((rs)->cells[(row) * (rs)->ncols + (col)])

/* db_query() into rs (at most 2,000 rows); on an error rs is left empty */
int admin_rows_query(struct db_conn *c, const char *sql, const struct db_param *p, size_t np,
                     struct admin_rows *rs);
void admin_rows_free(struct admin_rows *rs);
/* a deep copy of src into dst (empty on failure); 0 or -1 */
int admin_rows_copy(struct admin_rows *dst, const struct admin_rows *src);

/* -- the dashboard (admin_dashboard.c) */

/* the dashboard's counted charts are counted again at their next view (a change was made) */
void admin_dashboard_charts_changed(void);

/* -- the page frame (admin_html.c) */

void admin_head(struct admin_job *j, const char *title, const char *main_id);
/* the same, with an id on the h1 */
void admin_head_id(struct admin_job *j, const char *title, const char *main_id, const char *h1_id);
void admin_foot(struct admin_job *j);
void admin_csrf_field(struct admin_job *j);
/* replaces what was written with a page of one message; returns 0 (the page's result) */
int admin_message(struct admin_job *j, int status, const char *title, const char *text);
void admin_redirect(struct admin_job *j, const char *location);
void admin_set_cookie(struct admin_job *j, const char *name, const char *value, const char *path,
                      int clear);
/* the fields of a POSTed form; on an error the page is a 400 and this returns -1 */
int admin_form(struct admin_job *j, struct parse_field *f, size_t n);
void admin_static_css(struct http_req *r);

/* -- the words for coded answers, as docs/DOMAIN.md names them (admin_html.c) */

enum { ADMIN_BUSINESS_STATUSES = 4 };
/* business status 1..4 */
const char *admin_status_label(struct admin_job *j, unsigned status);
/* a review's state: unreviewed (or none), follow_up, reviewed, note */
const char *admin_review_label(struct admin_job *j, const char *rv);
/* a report type: business, attendance, help */
const char *admin_type_label(struct admin_job *j, const char *t);
/* a graduation track: none, natural, welfare */
const char *admin_track_label(struct admin_job *j, const char *track);
/* an alert's outcome (alerts.outcome), where it was recorded (graduations.decided_via) */
const char *admin_outcome_label(struct admin_job *j, const char *outcome);
const char *admin_via_label(struct admin_job *j, const char *via);
/* a graduation reason code / a visit outcome code, by its configured label (the code itself
 * when the configuration no longer has it) */
const char *admin_reason_label(struct admin_job *j, const char *code);
const char *admin_visit_label(struct admin_job *j, const char *code);
/* "NAME" for an administrator, "NAME (pendamping)" for an assistant: who acted */
void admin_actor(struct admin_job *j, const char *type, const char *name);
/* one report's contents in a line, from its columns a, b, c (see review_build()) */
void admin_summary(struct admin_job *j, const char *t, const char *a, const char *b,
                   const char *cc);

/* -- the job (admin.c) */

/* the 403 page of a form without the session's CSRF token; returns 0 */
int admin_csrf_refused(struct admin_job *j);
/* the security headers of every admin reply; personal: and not to be cached */
void admin_headers(struct http_req *r, int personal);
/* on the loop: sends the page (or the 503 of a database error) and frees the job */
void admin_done(int err, void *arg);
void admin_job_free(struct admin_job *j);

/* -- the pages, one file each; admin.c's route table names them */

int admin_page_dashboard(struct db_conn *c, struct admin_job *j); /* admin_dashboard.c */
int admin_page_queue(struct db_conn *c, struct admin_job *j);     /* admin_queue.c */
int admin_do_filter(struct db_conn *c, struct admin_job *j);
int admin_page_kpm(struct db_conn *c, struct admin_job *j); /* admin_kpm.c */
/* What the graduation forms of a KPM page were sent with, shown again with a message when the
 * values were refused (admin_graduation.c). */
struct admin_grad_form {
    const char *error;  /* the record form's message, or NULL */
    const char *revoke; /* the revoke form's message, or NULL */
    char track[16], reason[40], date[16], note[512];
};
/* the KPM page of KPM id (the page, or a 404 outside the user's region); g: NULL or the forms
 * to show again (admin_kpm.c) */
int admin_kpm_show(struct db_conn *c, struct admin_job *j, uint64_t id,
                   const struct admin_grad_form *g);
/* the KPM page's graduation section, home visits and alerts (admin_graduation.c) */
int admin_graduation_section(struct db_conn *c, struct admin_job *j, uint64_t id, const char *track,
                             const char *graduated_on, const struct admin_grad_form *g);
int admin_graduation_visits(struct db_conn *c, struct admin_job *j, uint64_t id);
int admin_graduation_alerts(struct db_conn *c, struct admin_job *j, uint64_t id);
int admin_do_graduation(struct db_conn *c, struct admin_job *j);
int admin_do_graduation_revoke(struct db_conn *c, struct admin_job *j);
int admin_do_alert_outcome(struct db_conn *c, struct admin_job *j); /* admin_alerts.c */
int admin_do_review(struct db_conn *c, struct admin_job *j);        /* admin_review.c */
int admin_page_alerts(struct db_conn *c, struct admin_job *j);      /* admin_alerts.c */
int admin_export_reports(struct db_conn *c, struct admin_job *j);   /* admin_export.c */
int admin_export_attendance(struct db_conn *c, struct admin_job *j);
/* trainings and their forms (admin_trainings.c), the assistants page (admin_assistants.c) */
int admin_page_trainings(struct db_conn *c, struct admin_job *j);
int admin_page_training_new(struct db_conn *c, struct admin_job *j);
int admin_page_training(struct db_conn *c, struct admin_job *j);
int admin_do_training_create(struct db_conn *c, struct admin_job *j);
int admin_do_training_edit(struct db_conn *c, struct admin_job *j);
int admin_do_training_enrol(struct db_conn *c, struct admin_job *j);
int admin_do_training_pass(struct db_conn *c, struct admin_job *j);
int admin_do_training_close(struct db_conn *c, struct admin_job *j);
int admin_page_assistants(struct db_conn *c, struct admin_job *j);
int admin_export_lessons(struct db_conn *c, struct admin_job *j);
int admin_page_lessons(struct db_conn *c, struct admin_job *j); /* admin_lessons.c */
/* the KPM page's lesson history (admin_lessons.c) */
int admin_lessons_history(struct db_conn *c, struct admin_job *j, uint64_t id);
/* the import upload, its form and its result (admin_import.c; administrators only) */
int admin_page_import(struct db_conn *c, struct admin_job *j);
int admin_do_import(struct db_conn *c, struct admin_job *j);
int admin_page_import_job(struct db_conn *c, struct admin_job *j);

#endif
