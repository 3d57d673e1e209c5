/*
 * The administrators' pages, on their own listener: the route table, the job every page request
 * is, and login, logout and the language switch. The pages themselves have a file each
 * (admin_dashboard.c, admin_queue.c, admin_kpm.c, admin_review.c, admin_alerts.c,
 * admin_export.c, admin_lessons.c, admin_trainings.c, admin_assistants.c); their frame is
 * admin_html.c. Server-rendered HTML, no script, one stylesheet.
 *
 * Each request is one database job: the worker checks the session (and the CSRF token of a
 * form), runs the page's queries and renders the page into an evbuffer; the loop only sends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sodium.h>

#include "admin_int.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "parse.h"
#include "review.h"

static int admin_logins; /* password checks running: at most one (loop thread) */

/* -- login, logout and the language */

static int
admin_login_form(struct admin_job *j, int status, const char *msg)
{
    char pre[AUTH_TOKEN_HEX];

    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    j->status = status;
    auth_token_new(pre);
    admin_set_cookie(j, "kabar_pre", pre, "/login", 0);
    admin_head(j, L(j, "Masuk", "Log in"), "login-page");
    if (msg != NULL) {
        out(j, "<p class=\"message\">");
        esc(j, msg);
        out(j, "</p>");
    }
    outf(j,
         "<form id=\"login\" method=\"post\" action=\"/login\">"
         "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
         "<label>%s <input name=\"username\" autocomplete=\"username\" required "
         "maxlength=\"64\"></label>"
         "<label>%s <input name=\"password\" type=\"password\" "
         "autocomplete=\"current-password\" required maxlength=\"256\"></label>"
         "<button type=\"submit\">%s</button></form>",
         pre, L(j, "Nama pengguna", "Username"), L(j, "Kata sandi", "Password"),
         L(j, "Masuk", "Log in"));
    admin_foot(j);
    return 0;
}

static int
admin_page_login(struct db_conn *c, struct admin_job *j)
{
    (void)c;
    if (j->authed) {
        admin_redirect(j, "/");
        return 0;
    }
    return admin_login_form(j, 200, NULL);
}

struct admin_login_row {
    int found;
    struct auth_user u;
    char hash[AUTH_PWHASH_MAX];
    int locked;
    int invalid; /* a supervisor without a region: never let in */
    unsigned failures;
};

static int
admin_login_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct admin_login_row *a = arg;
    uint64_t f = 0;

    (void)lens;
    if (n != 7 || v[4] == NULL)
        return 1;
    a->found = 1;
    a->invalid = auth_user_from_row(&a->u, v) == -1;
    snprintf(a->hash, sizeof a->hash, "%s", v[4]);
    (void)parse_u64(nz(v[5]), strlen(nz(v[5])), 0, UINT32_MAX, &f);
    a->failures = (unsigned)f;
    a->locked = v[6] != NULL && strcmp(v[6], "1") == 0;
    return 1;
}

/* The answer to a login that let the user in: the session's cookie, and on to the dashboard. */
static int
admin_login_ok(struct admin_job *j)
{
    admin_set_cookie(j, "kabar_session", j->new_sid, "/", 0);
    admin_set_cookie(j, "kabar_pre", "x", "/login", 1);
    admin_redirect(j, "/");
    return 0;
}

/*
 * A password check, counted once: the attempt's audit row carries the job's key, and every
 * write of the attempt (the failure count or the session, and that row) commits together. A
 * re-run whose first run committed (db.h) finds the row and answers as that run did.
 */
static int
admin_do_login(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], username[65], password[257], done[AUTH_ACTION_SIZE];
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},
        {"username", username, sizeof username, 0, 0, 0},
        {"password", password, sizeof password, 0, 0, 0},
    };
    struct admin_login_row a;
    struct db_param p[3];
    const char *failed = L(j,
                           "Nama pengguna atau kata sandi salah, atau akun sedang dikunci "
                           "sementara.",
                           "Wrong username or password, or the account is locked for a while.");
    int err, ok;

    memset(&a, 0, sizeof a);
    if ((err = auth_receipt(c, j->key, done)) != 0)
        return err;
    if (done[0] != '\0') {
        log_info("admin_login_rerun", "action=%s peer=%s", done, j->r->peer);
        return strcmp(done, "login") == 0 ? admin_login_ok(j) : admin_login_form(j, 401, failed);
    }
    csrf[0] = username[0] = password[0] = '\0';
    if (admin_form(j, f, 3) == -1)
        return 0;
    if (j->pre[0] == '\0' || !auth_token_equal(csrf, j->pre))
        return admin_login_form(j, 403,
                                L(j, "Formulir kedaluwarsa. Silakan coba lagi.",
                                  "The form has expired. Please try again."));
    p[0] = DB_STR(username);
    if ((err = db_query(c,
                        "SELECT id, username, role, region_code, password_hash, failed_logins,"
                        " locked_until IS NOT NULL AND locked_until > NOW(3)"
                        " FROM admin_users WHERE username = ?",
                        p, 1, admin_login_row, &a)) != 0) {
        sodium_memzero(password, sizeof password);
        return err;
    }
    ok = auth_password_verify(a.found ? a.hash : NULL, password);
    sodium_memzero(password, sizeof password);
    if (!a.found || a.invalid) {
        /* a write like a known name's, so the answer time does not tell names apart; the
         * name typed is not kept (it may be a password typed in the wrong box) */
        if ((err = auth_audit_keyed(c, j->key, "-",
                                    a.invalid ? "login.invalid_user" : "login.unknown", "user",
                                    a.invalid ? a.u.id : 0, NULL)) != 0)
            return err;
        log_warn("admin_login_failed", "reason=%s peer=%s",
                 a.invalid ? "supervisor_without_region" : "unknown_user", j->r->peer);
        return admin_login_form(j, 401, failed);
    }
    if (a.locked || !ok) {
        p[0] = DB_U64(j->cfg->admin.lockout_failures);
        p[1] = DB_U64(j->cfg->admin.lockout_seconds);
        p[2] = DB_U64(a.u.id);
        if (!a.locked &&
            (err = db_exec(c,
                           /* a lock that has run out starts the count again */
                           "UPDATE admin_users SET failed_logins = IF(locked_until IS NOT NULL"
                           "  AND locked_until <= NOW(3), 1, failed_logins + 1),"
                           " locked_until = IF(failed_logins >= ?,"
                           "  NOW(3) + INTERVAL ? SECOND, NULL) WHERE id = ?",
                           p, 3, NULL, NULL)) != 0)
            return err;
        if ((err = auth_audit_keyed(c, j->key, a.u.username,
                                    a.locked ? "login.locked" : "login.failed", "user", a.u.id,
                                    NULL)) != 0)
            return err;
        log_warn("admin_login_failed", "reason=%s user_id=%llu peer=%s",
                 a.locked ? "locked" : "password", (unsigned long long)a.u.id, j->r->peer);
        return admin_login_form(j, 401, failed);
    }
    /* the cookie of the session: one for the request, whichever run commits it */
    if (j->new_sid[0] == '\0')
        auth_token_new(j->new_sid);
    p[0] = DB_U64(a.u.id);
    if ((err = db_exec(c,
                       "UPDATE admin_users SET failed_logins = 0, locked_until = NULL WHERE id = ?",
                       p, 1, NULL, NULL)) != 0 ||
        (err = auth_session_create(c, &a.u, j->lang, j->new_sid, &j->s)) != 0 ||
        (err = auth_audit_keyed(c, j->key, a.u.username, "login", "user", a.u.id, NULL)) != 0)
        return err;
    log_info("admin_login", "user_id=%llu peer=%s", (unsigned long long)a.u.id, j->r->peer);
    return admin_login_ok(j);
}

static int
admin_do_logout(struct db_conn *c, struct admin_job *j)
{
    unsigned char h[AUTH_HASH_BYTES];
    struct db_param p;
    int err;

    auth_token_hash(j->sid, h);
    p = DB_STRN((const char *)h, sizeof h);
    if ((err = db_exec(c, "DELETE FROM admin_sessions WHERE id_hash = ?", &p, 1, NULL, NULL)) !=
            0 ||
        (err = auth_audit(c, j->s.user.username, "logout", "user", j->s.user.id, NULL)) != 0)
        return err;
    admin_set_cookie(j, "kabar_session", "x", "/", 1);
    admin_redirect(j, "/login");
    return 0;
}

static int
admin_do_lang(struct db_conn *c, struct admin_job *j)
{
    char lang[4] = "", csrf[AUTH_TOKEN_HEX];
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},
        {"lang", lang, sizeof lang, 0, 0, 1},
    };
    struct db_param p[2];
    unsigned char h[AUTH_HASH_BYTES];

    if (admin_form(j, f, 2) == -1)
        return 0;
    if (strcmp(lang, "id") != 0 && strcmp(lang, "en") != 0)
        return admin_message(j, 400, "Bahasa / Language", "lang: id, en");
    auth_token_hash(j->sid, h);
    p[0] = DB_STR(lang);
    p[1] = DB_STRN((const char *)h, sizeof h);
    admin_redirect(j, "/");
    return db_exec(c, "UPDATE admin_sessions SET lang = ? WHERE id_hash = ?", p, 2, NULL, NULL);
}

/* -- the job: session, CSRF, page */

int
admin_csrf_refused(struct admin_job *j)
{
    log_warn("admin_csrf_refused", "user_id=%llu peer=%s", (unsigned long long)j->s.user.id,
             j->r->peer);
    return admin_message(j, 403, L(j, "Formulir ditolak", "Form refused"),
                         L(j,
                           "Formulir ini kedaluwarsa atau bukan dari halaman ini. "
                           "Muat ulang halaman lalu coba lagi.",
                           "This form has expired or did not come from this site. "
                           "Reload the page and try again."));
}

static int
admin_work(struct db_conn *c, void *arg)
{
    struct admin_job *j = arg;
    char csrf[AUTH_TOKEN_HEX] = "";
    struct parse_field cf[] = {{"csrf", csrf, sizeof csrf, 0, 0, 0}};
    int live, err = 0;

    db_txn_name(c, j->txn);
    /* a re-run (deadlock, lost link) starts from scratch */
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    free(j->s.filter);
    memset(&j->s, 0, sizeof j->s);
    j->authed = 0;
    j->ncookies = 0;
    j->location[0] = '\0';
    j->stream = NULL;
    j->status = 200;
    live = j->sid[0] != '\0' ? auth_session_load(c, j->sid, j->cfg->admin.session_idle,
                                                 j->cfg->admin.session_max, &j->s, &err)
                             : 0;
    if (live == -1)
        return err;
    if (live == 1) {
        j->authed = 1;
        j->lang = j->s.lang;
        if (j->s.filter == NULL || review_filter_from_json(j->s.filter, &j->filter) == -1)
            memset(&j->filter, 0, sizeof j->filter);
    }
    if (j->need != NEED_NOTHING && !j->authed) {
        if (j->sid[0] != '\0')
            admin_set_cookie(j, "kabar_session", "x", "/", 1);
        admin_redirect(j, "/login");
        return 0;
    }
    if (j->need == NEED_FORM) {
        char err_msg[96];

        if (parse_form(j->r->body, j->r->body_len, cf, 1, err_msg, sizeof err_msg) == -1 ||
            !auth_token_equal(csrf, j->s.csrf)) {
            return admin_csrf_refused(j);
        }
    }
    return j->page(c, j);
}

void
admin_job_free(struct admin_job *j)
{
    /* an upload whose import never started (the peer went, the database failed) */
    if (j->spool[0] != '\0')
        (void)unlink(j->spool);
    if (j->out != NULL)
        evbuffer_free(j->out);
    free(j->s.filter);
    free(j);
}

void
admin_headers(struct http_req *r, int personal)
{
    http_add_header(r, "X-Frame-Options", "DENY");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_add_header(r, "Referrer-Policy", "no-referrer");
    http_add_header(r, "Content-Security-Policy",
                    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                    "frame-ancestors 'none'; base-uri 'none'");
    if (personal)
        http_add_header(r, "Cache-Control", "no-store");
}

void
admin_done(int err, void *arg)
{
    static const char unavailable[] =
        "<!doctype html><title>Kabar</title><p>Basis data sedang tidak tersedia. "
        "Coba lagi sebentar. / The database is unavailable. Try again shortly.</p>\n";
    /* a statement stopped at db.query_timeout: the page, not the database, is the trouble */
    static const char timeout[] =
        "<!doctype html><title>Kabar</title><p id=\"query-timeout\">Halaman ini terlalu lama "
        "disiapkan dan dihentikan (db.query_timeout). Persempit filter atau coba lagi nanti. / "
        "This page took too long to prepare and was stopped (db.query_timeout). Narrow the "
        "filter or try again later.</p>\n";
    struct admin_job *j = arg;
    struct http_req *r = j->r;
    void (*stream)(struct admin_job *) = j->stream;
    size_t i, len;
    char *body;

    if (err == 0 && stream != NULL && r->req != NULL) {
        j->stream = NULL; /* a stream that cannot start comes back here as an ordinary reply */
        stream(j);
        return;
    }
    if (j->page == admin_do_login)
        admin_logins--;
    admin_headers(r, 1);
    if (err != 0 && db_is_timeout(err)) {
        log_warn("admin_query_timeout", "req=%llu err=%d timeout_s=%u", (unsigned long long)r->id,
                 err, j->cfg->db.query_timeout);
        http_add_header(r, "Retry-After", "5");
        http_reply(r, 503, "text/html; charset=utf-8", timeout, sizeof timeout - 1);
        admin_job_free(j);
        return;
    }
    if (err != 0) {
        log_warn("admin_db_error", "req=%llu err=%d", (unsigned long long)r->id, err);
        http_add_header(r, "Retry-After", "5");
        http_reply(r, 503, "text/html; charset=utf-8", unavailable, sizeof unavailable - 1);
        admin_job_free(j);
        return;
    }
    /* a change made here: the dashboard's kept charts are counted again */
    if (r->method == EVHTTP_REQ_POST)
        admin_dashboard_charts_changed();
    for (i = 0; i < j->ncookies; i++)
        http_add_header(r, "Set-Cookie", j->cookies[i]);
    if (j->location[0] != '\0')
        http_add_header(r, "Location", j->location);
    len = evbuffer_get_length(j->out);
    body = (char *)evbuffer_pullup(j->out, -1);
    http_reply(r, j->status, "text/html; charset=utf-8", body != NULL ? body : "", len);
    admin_job_free(j);
}

static struct admin_job *
admin_job_new(struct http_req *r, admin_page_fn page, enum admin_need need)
{
    struct admin_job *j = calloc(1, sizeof *j);
    const char *cookie, *proto, *lang;

    if (j == NULL || (j->out = evbuffer_new()) == NULL) {
        free(j);
        http_reply_text(r, 503, "temporarily unavailable");
        return NULL;
    }
    j->r = r;
    j->cfg = r->cfg;
    j->page = page;
    j->need = need;
    auth_key_new(j->key);
    if ((cookie = http_header(r, "Cookie")) != NULL) {
        (void)parse_cookie(cookie, strlen(cookie), "kabar_session", j->sid, sizeof j->sid);
        (void)parse_cookie(cookie, strlen(cookie), "kabar_pre", j->pre, sizeof j->pre);
    }
    snprintf(j->query, sizeof j->query, "%s", http_query_raw(r));
    proto = http_header(r, "X-Forwarded-Proto");
    /* r->peer is the proxy's client only when the proxy is trusted; then so is its scheme */
    j->secure = r->cfg->admin.secure_cookie ||
                (proto != NULL && strcmp(proto, "https") == 0 && r->cfg->nproxies > 0);
    lang = http_header(r, "Accept-Language");
    j->lang = lang != NULL && strncmp(lang, "en", 2) == 0;
    return j;
}

/* Queues the job; when the database refuses it, answers 503, frees it and returns -1. */
static int
admin_queue_job(struct admin_job *j, int flags)
{
    /* causal: behind HAProxy the login, a review or an import may have gone through another
     * kabard and another Galera node a moment ago; this page sees it */
    if (db_submit(admin_work, admin_done, j, flags | DB_CAUSAL) == 0)
        return 0;
    admin_headers(j->r, 0);
    http_add_header(j->r, "Retry-After", "5");
    http_reply_text(j->r, 503, "database unavailable, try again shortly");
    admin_job_free(j);
    return -1;
}

/* -- the routes */

/* 1 when a password check may start now; else the answer (429 or 503) is sent */
static int
admin_login_gate(struct http_req *r)
{
    if (!auth_login_allowed(r->peer, r->cfg->admin.login_per_minute, time(NULL))) {
        log_warn("admin_login_rate", "peer=%s", r->peer);
        admin_headers(r, 0);
        http_add_header(r, "Retry-After", "60");
        http_reply_text(r, 429, "too many login attempts from this address, wait a minute");
        return 0;
    }
    /* a password check holds a worker for tens of milliseconds: one at a time, so logins can
     * never take every worker from the aggregators' callbacks */
    if (admin_logins > 0) {
        admin_headers(r, 0);
        http_add_header(r, "Retry-After", "1");
        http_reply_text(r, 503, "another login is being checked, try again in a second");
        return 0;
    }
    return 1;
}

/* What a page needs before it runs, and how: each admin route's data (r->route_data). */
struct admin_page {
    enum admin_need need;
    /* a page that writes more than one row runs as one transaction (DB_TXN) named so for
     * db_txn_name(); NULL: each statement commits on its own */
    const char *txn;
    admin_page_fn page;
};

static void
admin_route(struct http_req *r)
{
    const struct admin_page *pg = r->route_data;
    struct admin_job *j;
    int login = pg->page == admin_do_login;

    if (login && !admin_login_gate(r))
        return;
    if (strlen(http_query_raw(r)) >= sizeof j->query) {
        http_reply_text(r, 414, "query too long");
        return;
    }
    if ((j = admin_job_new(r, pg->page, pg->need)) == NULL)
        return;
    j->txn = pg->txn;
    admin_logins += login; /* admin_done takes it back */
    if (admin_queue_job(j, pg->txn != NULL ? DB_TXN : 0) == -1)
        admin_logins -= login;
}

/* One route per path and method: the front door (gateway/http.c) matches it and hands its page
 * to admin_route(). */
/* clang-format off */
#define ADMIN_GET(path, label, need, page) \
    {NULL, path, EVHTTP_REQ_GET, HTTP_BODY_ANY, label, admin_route, \
     &(const struct admin_page){need, NULL, page}}
#define ADMIN_POST(path, label, need, txn, page) \
    {NULL, path, EVHTTP_REQ_POST, HTTP_BODY_FORM, label, admin_route, \
     &(const struct admin_page){need, txn, page}}
/* clang-format on */

static const struct http_route admin_routes[] = {
    ADMIN_GET("/login", "admin_login", NEED_NOTHING, admin_page_login),
    ADMIN_POST("/login", "admin_login", NEED_NOTHING, "admin_login", admin_do_login),
    ADMIN_POST("/logout", "admin_logout", NEED_FORM, "admin_logout", admin_do_logout),
    ADMIN_POST("/lang", "admin_lang", NEED_FORM, NULL, admin_do_lang),
    ADMIN_GET("/", "admin_dashboard", NEED_SESSION, admin_page_dashboard),
    ADMIN_GET("/queue", "admin_queue", NEED_SESSION, admin_page_queue),
    ADMIN_POST("/queue", "admin_queue", NEED_FORM, "admin_filter", admin_do_filter),
    ADMIN_GET("/kpm", "admin_kpm", NEED_SESSION, admin_page_kpm),
    ADMIN_POST("/review", "admin_review", NEED_FORM, "admin_review", admin_do_review),
    ADMIN_POST("/graduation", "admin_graduation", NEED_FORM, "admin_graduation",
               admin_do_graduation),
    ADMIN_POST("/graduation/revoke", "admin_graduation_revoke", NEED_FORM,
               "admin_graduation_revoke", admin_do_graduation_revoke),
    ADMIN_GET("/alerts", "admin_alerts", NEED_SESSION, admin_page_alerts),
    ADMIN_POST("/alerts/outcome", "admin_alert_outcome", NEED_FORM, "admin_alert_outcome",
               admin_do_alert_outcome),
    ADMIN_GET("/trainings", "admin_trainings", NEED_SESSION, admin_page_trainings),
    ADMIN_GET("/trainings/new", "admin_trainings", NEED_SESSION, admin_page_training_new),
    ADMIN_POST("/trainings", "admin_training_create", NEED_FORM, "admin_training_create",
               admin_do_training_create),
    ADMIN_GET("/training", "admin_training", NEED_SESSION, admin_page_training),
    ADMIN_POST("/training/edit", "admin_training_edit", NEED_FORM, "admin_training_edit",
               admin_do_training_edit),
    ADMIN_POST("/training/enrol", "admin_training_enrol", NEED_FORM, "admin_training_enrol",
               admin_do_training_enrol),
    ADMIN_POST("/training/pass", "admin_training_pass", NEED_FORM, "admin_training_pass",
               admin_do_training_pass),
    ADMIN_POST("/training/close", "admin_training_close", NEED_FORM, "admin_training_close",
               admin_do_training_close),
    ADMIN_GET("/assistants", "admin_assistants", NEED_SESSION, admin_page_assistants),
    ADMIN_GET("/export/reports.csv", "admin_export", NEED_SESSION, admin_export_reports),
    ADMIN_GET("/export/attendance.csv", "admin_export", NEED_SESSION, admin_export_attendance),
    ADMIN_GET("/lessons", "admin_lessons", NEED_SESSION, admin_page_lessons),
    ADMIN_GET("/export/lessons.csv", "admin_export", NEED_SESSION, admin_export_lessons),
    ADMIN_GET("/import", "admin_import", NEED_SESSION, admin_page_import),
    ADMIN_GET("/import/job", "admin_import", NEED_SESSION, admin_page_import_job),
    /* multipart: the page checks the CSRF token of the form itself (admin_import.c) */
    {NULL, "/import", EVHTTP_REQ_POST, HTTP_BODY_MULTIPART, "admin_import", admin_route,
     &(const struct admin_page){NEED_SESSION, NULL, admin_do_import}},
    {NULL, "/static/admin.css", EVHTTP_REQ_GET, HTTP_BODY_ANY, "admin_static", admin_static_css,
     NULL},
    {NULL, NULL, 0, HTTP_BODY_ANY, NULL, NULL, NULL},
};

const struct http_handler handler_admin = {"admin", admin_routes, 1};
