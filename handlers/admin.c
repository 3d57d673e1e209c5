/*
 * The administrators' pages, on their own listener: login, dashboard, review queue, KPM pages,
 * review actions, alerts, CSV exports. Server-rendered HTML, no script, one stylesheet.
 *
 * Each request is one database job: the worker checks the session (and the CSRF token of a
 * form), runs the page's queries and renders the page into an evbuffer; the loop only sends it.
 * Everything a row or a request brings is escaped on its way out (html.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <sodium.h>

#include "admin.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "handlers.h"
#include "html.h"
#include "http.h"
#include "log.h"
#include "parse.h"
#include "review.h"
#include "svg.h"

#define ADMIN_ROWS_MAX 2000
#define ADMIN_EXPORT_PAGE 1000
#define ADMIN_QUEUE_DEPTH 10000 /* rows: the deepest queue page shown */

struct admin_job;
typedef int (*admin_page_fn)(struct db_conn *, struct admin_job *);

enum admin_need { NEED_NOTHING, NEED_SESSION, NEED_FORM };

struct admin_job {
    struct http_req *r;
    const struct config *cfg;
    admin_page_fn page;
    int need;
    char sid[AUTH_TOKEN_HEX]; /* the session cookie */
    char pre[AUTH_TOKEN_HEX]; /* the login form's cookie */
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
    const char *ctype;
    const char *disposition;
    /* exports */
    int type;
    uint64_t before;
    size_t rows;
    int done;
};

static int admin_logins; /* password checks running: at most one (loop thread) */

#define L(j, id, en) ((j)->lang ? (en) : (id))

static void
out(struct admin_job *j, const char *s)
{
    evbuffer_add(j->out, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) outf(struct admin_job *j, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    evbuffer_add_vprintf(j->out, fmt, ap);
    va_end(ap);
}

static void
esc(struct admin_job *j, const char *s)
{
    html_escape_str(j->out, s != NULL ? s : "");
}

/* -- labels for coded answers, as DOMAIN.md names them */

static const char *const admin_status_id[] = {"-", "berjalan", "tutup sementara", "tutup permanen",
                                              "belum mulai"};
static const char *const admin_status_en[] = {"-", "running", "temporarily closed",
                                              "closed for good", "not started"};
static const char *const admin_kind_id[] = {
    "-", "makanan & minuman", "warung/dagang", "kerajinan", "pertanian/ternak", "jasa", "lainnya"};
static const char *const admin_kind_en[] = {
    "-", "food & drink", "stall/trade", "crafts", "farming/livestock", "services", "other"};
static const char *const admin_reason_id[] = {
    "-", "sakit", "urusan keluarga", "jarak/transport", "tidak tahu jadwal", "lainnya"};
static const char *const admin_reason_en[] = {
    "-", "ill", "family matters", "distance/transport", "did not know the schedule", "other"};
static const char *const admin_topic_id[] = {"-", "modal", "pemasaran", "bantuan PKH", "lainnya"};
static const char *const admin_topic_en[] = {"-", "capital", "marketing", "PKH assistance",
                                             "other"};

static const char *
admin_label(struct admin_job *j, const char *const *id, const char *const *en, size_t n,
            const char *v)
{
    uint64_t i;

    if (v == NULL || parse_u64(v, strlen(v), 1, n - 1, &i) == -1)
        return "-";
    return j->lang ? en[i] : id[i];
}
#define LABEL(j, tab, v) admin_label(j, tab##_id, tab##_en, sizeof tab##_id / sizeof tab##_id[0], v)

static const char *
admin_review_label(struct admin_job *j, const char *rv)
{
    if (rv == NULL || strcmp(rv, "unreviewed") == 0 || strcmp(rv, "none") == 0)
        return L(j, "belum ditinjau", "not reviewed");
    if (strcmp(rv, "follow_up") == 0)
        return L(j, "perlu tindak lanjut", "needs follow-up");
    if (strcmp(rv, "reviewed") == 0)
        return L(j, "sudah ditinjau", "reviewed");
    return L(j, "catatan", "note");
}

static const char *
admin_type_label(struct admin_job *j, const char *t)
{
    if (strcmp(t, "business") == 0)
        return L(j, "usaha", "business");
    if (strcmp(t, "attendance") == 0)
        return L(j, "pelatihan", "training");
    return L(j, "bantuan", "help");
}

void
admin_nik_masked(const char *last4, char *o, size_t outlen)
{
    snprintf(o, outlen, "************%s", last4 != NULL ? last4 : "----");
}

/* -- rows collected for pages that render them out of order */

struct admin_rows {
    size_t n, cap;
    unsigned ncols;
    char **cells; /* n * ncols, NULL for SQL NULL */
};

static int
admin_rows_add(void *arg, char **v, unsigned long *lens, unsigned ncols)
{
    struct admin_rows *rs = arg;
    char **cells;
    unsigned i;

    if (rs->n >= ADMIN_ROWS_MAX)
        return 1;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 32;

        if ((cells = realloc(rs->cells, cap * ncols * sizeof *cells)) == NULL)
            return 1;
        rs->cells = cells;
        rs->cap = cap;
    }
    rs->ncols = ncols;
    for (i = 0; i < ncols; i++) {
        char *c = NULL;

        if (v[i] != NULL && (c = malloc(lens[i] + 1)) != NULL) {
            memcpy(c, v[i], lens[i]);
            c[lens[i]] = '\0';
        }
        rs->cells[rs->n * ncols + i] = c;
    }
    rs->n++;
    return 0;
}

static void
admin_rows_free(struct admin_rows *rs)
{
    size_t i;

    for (i = 0; i < rs->n * rs->ncols; i++)
        free(rs->cells[i]);
    free(rs->cells);
    memset(rs, 0, sizeof *rs);
}

#define CELL(rs, row, col) ((rs)->cells[(row) * (rs)->ncols + (col)])

static const char *
nz(const char *s)
{
    return s != NULL ? s : "";
}

static double
num(const char *s)
{
    return s != NULL ? strtod(s, NULL) : 0;
}

/* -- page frame */

static void
admin_csrf_field(struct admin_job *j)
{
    out(j, "<input type=\"hidden\" name=\"csrf\" value=\"");
    esc(j, j->s.csrf);
    out(j, "\">");
}

static void
admin_head_id(struct admin_job *j, const char *title, const char *main_id, const char *h1_id)
{
    outf(j,
         "<!doctype html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>Kabar &middot; ",
         j->lang ? "en" : "id");
    esc(j, title);
    out(j, "</title><link rel=\"stylesheet\" href=\"/static/admin.css\"></head><body>\n");
    if (j->authed) {
        outf(j,
             "<header><nav><a href=\"/\" id=\"nav-dashboard\">%s</a> "
             "<a href=\"/queue\" id=\"nav-queue\">%s</a> "
             "<a href=\"/alerts\" id=\"nav-alerts\">%s</a>"
             "<span class=\"who\">",
             L(j, "Dasbor", "Dashboard"), L(j, "Antrean tinjauan", "Review queue"),
             L(j, "Peringatan", "Alerts"));
        esc(j, j->s.user.username);
        if (!j->s.user.admin) {
            out(j, " &middot; ");
            esc(j, j->s.user.region);
        }
        out(j, "</span><form method=\"post\" action=\"/lang\" class=\"inline\">");
        admin_csrf_field(j);
        outf(j, "<button name=\"lang\" value=\"%s\">%s</button></form>", j->lang ? "id" : "en",
             j->lang ? "Bahasa Indonesia" : "English");
        out(j, "<form id=\"logout\" method=\"post\" action=\"/logout\" class=\"inline\">");
        admin_csrf_field(j);
        outf(j, "<button>%s</button></form></nav></header>\n", L(j, "Keluar", "Log out"));
    }
    outf(j, "<main id=\"%s\"><h1", main_id);
    if (h1_id != NULL)
        outf(j, " id=\"%s\"", h1_id);
    out(j, ">");
    esc(j, title);
    out(j, "</h1>\n");
}

static void
admin_head(struct admin_job *j, const char *title, const char *main_id)
{
    admin_head_id(j, title, main_id, NULL);
}

static void
admin_foot(struct admin_job *j)
{
    out(j, "</main></body></html>\n");
}

static int
admin_message(struct admin_job *j, int status, const char *title, const char *text)
{
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    j->status = status;
    admin_head(j, title, "message");
    out(j, "<p class=\"message\">");
    esc(j, text);
    outf(j, "</p><p><a href=\"/\">%s</a></p>", L(j, "Kembali", "Back"));
    admin_foot(j);
    return 0;
}

static void
admin_redirect(struct admin_job *j, const char *location)
{
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    j->status = 303;
    snprintf(j->location, sizeof j->location, "%s", location);
}

static void
admin_set_cookie(struct admin_job *j, const char *name, const char *value, const char *path,
                 int clear)
{
    if (j->ncookies >= 2)
        return;
    snprintf(j->cookies[j->ncookies++], sizeof j->cookies[0],
             "%s=%s; Path=%s; HttpOnly; "
             "SameSite=Strict%s%s",
             name, value, path, j->secure ? "; Secure" : "", clear ? "; Max-Age=0" : "");
}

/* -- form fields of POSTs (the body belongs to the request; the loop does not touch it now) */

static int
admin_form(struct admin_job *j, struct parse_field *f, size_t n)
{
    char err[128];

    if (parse_form(j->r->body, j->r->body_len, f, n, err, sizeof err) == -1) {
        admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), err);
        return -1;
    }
    return 0;
}

/* -- login and logout */

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

static int
admin_do_login(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], username[65], password[257], sid[AUTH_TOKEN_HEX];
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
                        p, 1, admin_login_row, &a)) != 0)
        return err;
    ok = auth_password_verify(a.found ? a.hash : NULL, password);
    sodium_memzero(password, sizeof password);
    if (!a.found || a.invalid) {
        /* a write like a known name's, so the answer time does not tell names apart; the
         * name typed is not kept (it may be a password typed in the wrong box) */
        if ((err = auth_audit(c, "-", a.invalid ? "login.invalid_user" : "login.unknown", "user",
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
        if ((err = auth_audit(c, a.u.username, a.locked ? "login.locked" : "login.failed", "user",
                              a.u.id, NULL)) != 0)
            return err;
        log_warn("admin_login_failed", "reason=%s user_id=%llu peer=%s",
                 a.locked ? "locked" : "password", (unsigned long long)a.u.id, j->r->peer);
        return admin_login_form(j, 401, failed);
    }
    p[0] = DB_U64(a.u.id);
    if ((err = db_exec(c,
                       "UPDATE admin_users SET failed_logins = 0, locked_until = NULL WHERE id = ?",
                       p, 1, NULL, NULL)) != 0 ||
        (err = auth_session_create(c, &a.u, j->lang, sid, &j->s)) != 0 ||
        (err = auth_audit(c, a.u.username, "login", "user", a.u.id, NULL)) != 0)
        return err;
    log_info("admin_login", "user_id=%llu peer=%s", (unsigned long long)a.u.id, j->r->peer);
    admin_set_cookie(j, "kabar_session", sid, "/", 0);
    admin_set_cookie(j, "kabar_pre", "x", "/login", 1);
    admin_redirect(j, "/");
    return 0;
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

/* -- dashboard */

struct admin_week_series {
    double v[6][12];
};

static void
admin_week_labels(char labels[12][8], const char *ptrs[12])
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
admin_weeks_fill(struct admin_rows *rs, const char *const *keys, size_t nkeys,
                 struct admin_week_series *s)
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
admin_figure(struct admin_job *j, const char *id, const char *label, const char *value,
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

static int
admin_page_dashboard(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    struct db_param p[4];
    const char *scope = j->s.user.region;
    char v[64], note[96], labels[12][8];
    const char *lp[12];
    struct admin_week_series ws;
    static const char *const sources[] = {"ussd", "sms"};
    static const char *const statuses[] = {"1", "2", "3", "4"};
    struct svg_series series[4];
    double this_week, last_week, total, running;
    int err;
    size_t i;

    admin_head(j, L(j, "Dasbor", "Dashboard"), "dashboard");
    out(j, "<section class=\"figures\">");
    p[0] = DB_STR(scope);
    p[1] = DB_STR(scope);
    p[2] = DB_STR(scope);
    if ((err =
             db_query(c,
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
                      p, 3, admin_rows_add, &rs)) != 0)
        goto fail;
    this_week = rs.n ? num(CELL(&rs, 0, 0)) : 0;
    last_week = rs.n ? num(CELL(&rs, 0, 1)) : 0;
    admin_rows_free(&rs);
    snprintf(v, sizeof v, "%.0f", this_week);
    if (last_week > 0)
        snprintf(note, sizeof note, "%s %.0f (%+.0f%%)", L(j, "minggu lalu", "last week"),
                 last_week, (this_week - last_week) * 100 / last_week);
    else
        snprintf(note, sizeof note, "%s %.0f", L(j, "minggu lalu", "last week"), last_week);
    admin_figure(j, "fig-week", L(j, "laporan 7 hari terakhir", "reports in the last 7 days"), v,
                 note);

    /* each KPM's latest business report of the last 90 days */
    if ((err = db_query(c,
                        "SELECT COUNT(*), COALESCE(SUM(t.status = 1), 0),"
                        " (SELECT DISTINCT MEDIAN(m.revenue) OVER () FROM ("
                        "  SELECT x.revenue, ROW_NUMBER() OVER (PARTITION BY x.kpm_id"
                        "   ORDER BY x.created_at DESC, x.id DESC) rn FROM business_reports x"
                        "  JOIN kpm k ON k.id = x.kpm_id"
                        "  WHERE x.created_at >= NOW(3) - INTERVAL 90 DAY AND" REVIEW_SCOPE
                        " ) m WHERE m.rn = 1 AND m.revenue IS NOT NULL LIMIT 1)"
                        " FROM (SELECT x.status, ROW_NUMBER() OVER (PARTITION BY x.kpm_id"
                        "  ORDER BY x.created_at DESC, x.id DESC) rn FROM business_reports x"
                        "  JOIN kpm k ON k.id = x.kpm_id"
                        "  WHERE x.created_at >= NOW(3) - INTERVAL 90 DAY AND" REVIEW_SCOPE
                        ") t WHERE t.rn = 1",
                        p, 2, admin_rows_add, &rs)) != 0)
        goto fail;
    total = rs.n ? num(CELL(&rs, 0, 0)) : 0;
    running = rs.n ? num(CELL(&rs, 0, 1)) : 0;
    snprintf(v, sizeof v, "%.0f%%", total > 0 ? running * 100 / total : 0);
    snprintf(note, sizeof note, "%.0f / %.0f KPM", running, total);
    admin_figure(j, "fig-running", L(j, "usaha berjalan", "businesses running"), v, note);
    if (rs.n && CELL(&rs, 0, 2) != NULL) {
        char rp[40];

        html_rupiah((unsigned long long)num(CELL(&rs, 0, 2)), rp, sizeof rp);
        snprintf(v, sizeof v, "Rp%s", rp);
    } else {
        snprintf(v, sizeof v, "-");
    }
    admin_rows_free(&rs);
    admin_figure(j, "fig-revenue", L(j, "median omzet sebulan", "median monthly revenue"), v,
                 L(j, "laporan terakhir tiap KPM, 90 hari", "latest report of each KPM, 90 days"));

    if ((err = db_query(c,
                        "SELECT COUNT(*), COALESCE(SUM(x.attended), 0) FROM attendance_reports x"
                        " JOIN kpm k ON k.id = x.kpm_id"
                        " WHERE x.created_at >= NOW(3) - INTERVAL 90 DAY AND" REVIEW_SCOPE,
                        p, 1, admin_rows_add, &rs)) != 0)
        goto fail;
    total = rs.n ? num(CELL(&rs, 0, 0)) : 0;
    running = rs.n ? num(CELL(&rs, 0, 1)) : 0;
    admin_rows_free(&rs);
    snprintf(v, sizeof v, "%.0f%%", total > 0 ? running * 100 / total : 0);
    snprintf(note, sizeof note, "%.0f / %.0f, 90 %s", running, total, L(j, "hari", "days"));
    admin_figure(j, "fig-attendance", L(j, "kehadiran pelatihan", "training attendance"), v, note);

    p[1] = DB_U64(j->cfg->alerts.rules[RULE_SILENT].weeks);
    if ((err = db_query(c,
                        "SELECT (SELECT COUNT(*) FROM alerts a JOIN kpm k ON k.id = a.kpm_id"
                        "  WHERE a.state IN ('new', 'sent') AND" REVIEW_SCOPE "),"
                        " (SELECT COUNT(*) FROM kpm k WHERE k.graduation = 'none' AND" REVIEW_SCOPE
                        "  AND NOT EXISTS (SELECT 1 FROM business_reports b WHERE b.kpm_id = k.id"
                        "  AND b.created_at >= NOW(3) - INTERVAL ? WEEK)),"
                        " (SELECT COUNT(DISTINCT a.kpm_id) FROM alerts a JOIN kpm k"
                        "  ON k.id = a.kpm_id WHERE a.rule = 'graduation' AND a.state <> 'expired'"
                        "  AND a.created_at >= NOW(3) - INTERVAL 90 DAY"
                        "  AND k.graduation = 'none' AND" REVIEW_SCOPE ")",
                        (struct db_param[]){DB_STR(scope), DB_STR(scope), p[1], DB_STR(scope)}, 4,
                        admin_rows_add, &rs)) != 0)
        goto fail;
    if (rs.n) {
        admin_figure(j, "fig-alerts", L(j, "peringatan terbuka", "open alerts"),
                     nz(CELL(&rs, 0, 0)), NULL);
        snprintf(note, sizeof note, "%s %u %s",
                 L(j, "tanpa laporan usaha", "no business report in"),
                 j->cfg->alerts.rules[RULE_SILENT].weeks, L(j, "minggu", "weeks"));
        admin_figure(j, "fig-silent", L(j, "KPM diam", "silent KPM"), nz(CELL(&rs, 0, 1)), note);
        admin_figure(j, "fig-graduation", L(j, "calon graduasi", "graduation candidates"),
                     nz(CELL(&rs, 0, 2)), NULL);
    }
    admin_rows_free(&rs);
    out(j, "</section>\n");

    admin_week_labels(labels, lp);
    p[0] = DB_STR(scope);
    if ((err = db_query(c,
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
                        (struct db_param[]){DB_STR(scope), DB_STR(scope), DB_STR(scope)}, 3,
                        admin_rows_add, &rs)) != 0)
        goto fail;
    admin_weeks_fill(&rs, sources, 2, &ws);
    admin_rows_free(&rs);
    series[0] = (struct svg_series){"USSD", ws.v[0]};
    series[1] = (struct svg_series){"SMS", ws.v[1]};
    outf(j, "<section class=\"chart\" id=\"chart-channel\"><h2>%s</h2>",
         L(j, "Laporan per minggu menurut kanal", "Weekly reports by channel"));
    svg_bars(j->out, L(j, "Laporan per minggu menurut kanal", "Weekly reports by channel"), lp, 12,
             series, 2, 1, L(j, "Belum ada data", "No data yet"));
    out(j, "</section>\n");

    if ((err = db_query(c,
                        "SELECT FLOOR(TIMESTAMPDIFF(DAY, x.created_at, NOW(3)) / 7) w, x.status,"
                        " COUNT(*) FROM business_reports x JOIN kpm k ON k.id = x.kpm_id"
                        " WHERE x.created_at >= NOW(3) - INTERVAL 84 DAY AND" REVIEW_SCOPE
                        " GROUP BY w, x.status",
                        p, 1, admin_rows_add, &rs)) != 0)
        goto fail;
    admin_weeks_fill(&rs, statuses, 4, &ws);
    admin_rows_free(&rs);
    for (i = 0; i < 4; i++)
        series[i] =
            (struct svg_series){j->lang ? admin_status_en[i + 1] : admin_status_id[i + 1], ws.v[i]};
    outf(j, "<section class=\"chart\" id=\"chart-status\"><h2>%s</h2>",
         L(j, "Status usaha dari waktu ke waktu", "Business status over time"));
    svg_lines(j->out, L(j, "Status usaha dari waktu ke waktu", "Business status over time"), lp, 12,
              series, 4, L(j, "Belum ada data", "No data yet"));
    out(j, "</section>\n");

    if ((err = db_query(c,
                        "SELECT r.name, COUNT(*), SUM(x.attended) FROM attendance_reports x"
                        " JOIN kpm k ON k.id = x.kpm_id JOIN regions r"
                        " ON r.code = LEFT(k.region_code, 2)"
                        " WHERE x.created_at >= NOW(3) - INTERVAL 90 DAY AND" REVIEW_SCOPE
                        " GROUP BY r.code, r.name ORDER BY r.name LIMIT 40",
                        p, 1, admin_rows_add, &rs)) != 0)
        goto fail;
    {
        const char *names[40];
        double rate[40];

        for (i = 0; i < rs.n && i < 40; i++) {
            names[i] = nz(CELL(&rs, i, 0));
            rate[i] =
                num(CELL(&rs, i, 1)) > 0 ? num(CELL(&rs, i, 2)) * 100 / num(CELL(&rs, i, 1)) : 0;
        }
        series[0] = (struct svg_series){L(j, "% hadir", "% attended"), rate};
        outf(j, "<section class=\"chart\" id=\"chart-attendance\"><h2>%s</h2>",
             L(j, "Kehadiran pelatihan per provinsi (90 hari)",
               "Training attendance by province (90 days)"));
        svg_bars(j->out, L(j, "Kehadiran per provinsi", "Attendance by province"), names, i, series,
                 1, 0, L(j, "Belum ada data", "No data yet"));
        out(j, "</section>\n");
    }
    admin_rows_free(&rs);
    admin_foot(j);
    return 0;
fail:
    admin_rows_free(&rs);
    return err;
}

/* -- review queue */

static void
admin_option(struct admin_job *j, const char *value, const char *label, int selected)
{
    out(j, "<option value=\"");
    esc(j, value);
    out(j, selected ? "\" selected>" : "\">");
    esc(j, label);
    out(j, "</option>");
}

static int
admin_filter_form(struct db_conn *c, struct admin_job *j)
{
    struct review_filter *f = &j->filter;
    struct admin_rows rs = {0};
    struct db_param p = DB_STR(j->s.user.region);
    char idbuf[24];
    size_t i;
    int err;

    out(j, "<form id=\"filter\" method=\"post\" action=\"/queue\">");
    admin_csrf_field(j);
    outf(j, "<label>%s <select name=\"region\">", L(j, "Wilayah", "Region"));
    admin_option(j, "", L(j, "semua", "all"), f->region[0] == '\0');
    if ((err = db_query(c,
                        "SELECT code, name, level FROM regions WHERE code LIKE CONCAT(?, '%')"
                        " AND level <> 'desa' ORDER BY code",
                        &p, 1, admin_rows_add, &rs)) != 0) {
        admin_rows_free(&rs);
        return err;
    }
    for (i = 0; i < rs.n; i++)
        admin_option(j, nz(CELL(&rs, i, 0)), nz(CELL(&rs, i, 1)),
                     strcmp(nz(CELL(&rs, i, 0)), f->region) == 0);
    admin_rows_free(&rs);
    outf(j, "</select></label><label>%s <select name=\"assistant\">",
         L(j, "Pendamping", "Assistant"));
    admin_option(j, "", L(j, "semua", "all"), f->assistant == 0);
    if ((err = db_query(c,
                        "SELECT id, name FROM assistants WHERE region_code LIKE CONCAT(?, '%')"
                        " ORDER BY name",
                        &p, 1, admin_rows_add, &rs)) != 0) {
        admin_rows_free(&rs);
        return err;
    }
    for (i = 0; i < rs.n; i++) {
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)f->assistant);
        admin_option(j, nz(CELL(&rs, i, 0)), nz(CELL(&rs, i, 1)),
                     strcmp(nz(CELL(&rs, i, 0)), idbuf) == 0);
    }
    admin_rows_free(&rs);
    outf(j, "</select></label><label>%s <select name=\"type\">", L(j, "Jenis", "Type"));
    admin_option(j, "", L(j, "semua", "all"), f->type == REVIEW_ANY);
    admin_option(j, "business", L(j, "usaha", "business"), f->type == REVIEW_BUSINESS);
    admin_option(j, "attendance", L(j, "pelatihan", "training"), f->type == REVIEW_ATTENDANCE);
    admin_option(j, "help", L(j, "bantuan", "help"), f->type == REVIEW_HELP);
    outf(j, "</select></label><label>%s <select name=\"bstatus\">",
         L(j, "Status usaha", "Business status"));
    admin_option(j, "", L(j, "semua", "all"), f->bstatus == 0);
    for (i = 1; i <= 4; i++) {
        snprintf(idbuf, sizeof idbuf, "%zu", i);
        admin_option(j, idbuf, j->lang ? admin_status_en[i] : admin_status_id[i], f->bstatus == i);
    }
    outf(j, "</select></label><label>%s <select name=\"review\">", L(j, "Tinjauan", "Review"));
    admin_option(j, "unreviewed", L(j, "belum ditinjau", "not reviewed"),
                 f->review == REVIEW_UNREVIEWED);
    admin_option(j, "follow_up", L(j, "perlu tindak lanjut", "needs follow-up"),
                 f->review == REVIEW_FOLLOW_UP);
    admin_option(j, "reviewed", L(j, "sudah ditinjau", "reviewed"), f->review == REVIEW_REVIEWED);
    admin_option(j, "all", L(j, "semua", "all"), f->review == REVIEW_ALL);
    outf(j, "</select></label><label>%s <input type=\"date\" name=\"from\" value=\"",
         L(j, "Dari", "From"));
    esc(j, f->from);
    outf(j, "\"></label><label>%s <input type=\"date\" name=\"to\" value=\"", L(j, "Sampai", "To"));
    esc(j, f->to);
    outf(j, "\"></label><label>%s <input name=\"q\" maxlength=\"100\" value=\"",
         L(j, "Nama atau nomor HP", "Name or phone number"));
    esc(j, f->q);
    outf(j,
         "\"></label><button type=\"submit\" id=\"apply\">%s</button>"
         "<button type=\"submit\" name=\"reset\" value=\"1\" id=\"reset\">%s</button></form>\n",
         L(j, "Terapkan", "Apply"), L(j, "Atur ulang", "Reset"));
    return 0;
}

static void
admin_summary(struct admin_job *j, const char *t, const char *a, const char *b, const char *cc)
{
    char rp[40];

    if (strcmp(t, "business") == 0) {
        esc(j, LABEL(j, admin_status, a));
        if (b != NULL) {
            html_rupiah((unsigned long long)num(b), rp, sizeof rp);
            outf(j, ", Rp%s", rp);
        }
        if (cc != NULL) {
            out(j, ", ");
            esc(j, LABEL(j, admin_kind, cc));
        }
    } else if (strcmp(t, "attendance") == 0) {
        esc(j, cc);
        out(j, ": ");
        if (a != NULL && strcmp(a, "1") == 0) {
            out(j, L(j, "hadir", "attended"));
        } else {
            out(j, L(j, "tidak hadir", "did not attend"));
            out(j, " (");
            esc(j, LABEL(j, admin_reason, b));
            out(j, ")");
        }
    } else {
        esc(j, LABEL(j, admin_topic, a));
        if (cc != NULL) {
            out(j, ": ");
            esc(j, cc);
        }
    }
}

static int
admin_page_queue(struct db_conn *c, struct admin_job *j)
{
    struct parse_field qf[] = {{"page", NULL, 8, 0, 0, 0}};
    char pagebuf[8] = "", err_msg[96];
    struct admin_rows rs = {0};
    struct sqlb *b;
    unsigned size = j->cfg->admin.page_size;
    uint64_t page = 0;
    double total;
    size_t i;
    int err = 0;

    qf[0].buf = pagebuf;
    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1 ||
        (pagebuf[0] != '\0' && parse_u64(pagebuf, strlen(pagebuf), 0, 100000, &page) == -1))
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "page");
    if ((b = malloc(sizeof *b)) == NULL)
        return DB_EUNAVAILABLE;
    admin_head(j, L(j, "Antrean tinjauan", "Review queue"), "queue-page");
    if ((err = admin_filter_form(c, j)) != 0)
        goto done;
    if (review_build(b, &j->filter, j->s.user.region, REVIEW_COUNT, 0, 0, 0, 0) == -1) {
        admin_message(j, 400, L(j, "Saringan salah", "Bad filter"), "filter");
        goto done;
    }
    if ((err = db_query(c, b->sql, b->p, b->np, admin_rows_add, &rs)) != 0)
        goto done;
    total = rs.n ? num(CELL(&rs, 0, 0)) : 0;
    admin_rows_free(&rs);
    /* past the end: the last page. Deeper than ADMIN_QUEUE_DEPTH rows is a sort of that many
     * rows per page view, on workers the aggregators share: narrow the filter, or export */
    if (page > 0 && (double)page * size >= total)
        page = total > 0 ? (uint64_t)((total - 1) / size) : 0;
    outf(j, "<p id=\"count\">%.0f %s</p>", total, L(j, "laporan", "reports"));
    if (page * size > ADMIN_QUEUE_DEPTH) {
        outf(j, "<p class=\"message\" id=\"too-deep\">%s</p>",
             L(j,
               "Halaman sedalam ini tidak ditampilkan. Persempit saringan (tanggal, wilayah) "
               "atau unduh CSV.",
               "Pages this deep are not shown. Narrow the filter (dates, region) or download "
               "the CSV."));
        page = ADMIN_QUEUE_DEPTH / size;
    }
    outf(j,
         "<p class=\"exports\"><a id=\"export-reports\" href=\"/export/reports.csv\">%s</a> "
         "<a id=\"export-attendance\" href=\"/export/attendance.csv\">%s</a></p>",
         L(j, "Unduh CSV laporan usaha", "Download business reports CSV"),
         L(j, "Unduh CSV kehadiran", "Download attendance CSV"));
    if (review_build(b, &j->filter, j->s.user.region, REVIEW_PAGE, 0, 0, size,
                     (unsigned)page * size) == -1) {
        admin_message(j, 400, L(j, "Saringan salah", "Bad filter"), "filter");
        goto done;
    }
    if ((err = db_query(c, b->sql, b->p, b->np, admin_rows_add, &rs)) != 0)
        goto done;
    outf(j,
         "<table id=\"queue\"><thead><tr><th>%s</th><th>%s</th><th>KPM</th><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Waktu (WIB)", "Time (WIB)"), L(j, "Jenis", "Type"), L(j, "Wilayah", "Region"),
         L(j, "Kanal", "Channel"), L(j, "Isi", "Contents"), L(j, "Tinjauan", "Review"));
    for (i = 0; i < rs.n; i++) {
        const char *t = nz(CELL(&rs, i, 0));

        out(j, "<tr class=\"report\" data-type=\"");
        esc(j, t);
        out(j, "\" data-id=\"");
        esc(j, CELL(&rs, i, 1));
        out(j, "\"><td>");
        esc(j, CELL(&rs, i, 4));
        out(j, "</td><td>");
        esc(j, admin_type_label(j, t));
        out(j, "</td><td><a class=\"kpm\" href=\"/kpm?id=");
        esc(j, CELL(&rs, i, 2));
        out(j, "#r-");
        esc(j, t);
        out(j, "-");
        esc(j, CELL(&rs, i, 1));
        out(j, "\">");
        esc(j, CELL(&rs, i, 9));
        out(j, "</a><br><span class=\"phone\">");
        esc(j, CELL(&rs, i, 10));
        out(j, "</span></td><td>");
        esc(j, CELL(&rs, i, 11));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 5));
        out(j, "</td><td>");
        admin_summary(j, t, CELL(&rs, i, 6), CELL(&rs, i, 7), CELL(&rs, i, 8));
        out(j, "</td><td>");
        esc(j, admin_review_label(j, CELL(&rs, i, 12)));
        out(j, "</td></tr>\n");
    }
    if (rs.n == 0)
        outf(j, "<tr><td colspan=\"7\">%s</td></tr>",
             L(j, "Tidak ada laporan untuk saringan ini.", "No reports for this filter."));
    out(j, "</tbody></table><p class=\"pager\">");
    if (page > 0)
        outf(j, "<a id=\"prev\" href=\"/queue?page=%llu\">&larr; %s</a> ",
             (unsigned long long)page - 1, L(j, "Sebelumnya", "Previous"));
    if ((double)(page + 1) * size < total)
        outf(j, "<a id=\"next\" href=\"/queue?page=%llu\">%s &rarr;</a>",
             (unsigned long long)page + 1, L(j, "Berikutnya", "Next"));
    out(j, "</p>");
    admin_foot(j);
done:
    admin_rows_free(&rs);
    free(b);
    return err;
}

static int
admin_do_filter(struct db_conn *c, struct admin_job *j)
{
    struct review_filter f;
    unsigned char h[AUTH_HASH_BYTES];
    struct db_param p[2];
    char err[128], reset[4] = "";
    struct parse_field rf[] = {{"reset", reset, sizeof reset, 0, 0, 0}};
    char *json;
    int rc;

    if (parse_form(j->r->body, j->r->body_len, rf, 1, err, sizeof err) == -1 ||
        (reset[0] == '\0' &&
         review_filter_parse(j->r->body, j->r->body_len, &f, err, sizeof err) == -1))
        return admin_message(j, 400, L(j, "Saringan salah", "Bad filter"), err);
    if (reset[0] != '\0')
        memset(&f, 0, sizeof f);
    if ((json = review_filter_json(&f)) == NULL)
        return DB_EUNAVAILABLE;
    auth_token_hash(j->sid, h);
    p[0] = DB_STR(json);
    p[1] = DB_STRN((const char *)h, sizeof h);
    rc = db_exec(c, "UPDATE admin_sessions SET filter = ? WHERE id_hash = ?", p, 2, NULL, NULL);
    free(json);
    admin_redirect(j, "/queue");
    return rc;
}

/* -- one KPM */

static void
admin_table_rows(struct admin_job *j, struct admin_rows *rs, const char *id, const char *empty)
{
    size_t i;
    unsigned k;

    outf(j, "<table id=\"%s\"><tbody>", id);
    for (i = 0; i < rs->n; i++) {
        out(j, "<tr>");
        for (k = 0; k < rs->ncols; k++) {
            out(j, "<td>");
            esc(j, CELL(rs, i, k));
            out(j, "</td>");
        }
        out(j, "</tr>");
    }
    if (rs->n == 0) {
        out(j, "<tr><td>");
        esc(j, empty);
        out(j, "</td></tr>");
    }
    out(j, "</tbody></table>\n");
}

static int
admin_page_kpm(struct db_conn *c, struct admin_job *j)
{
    struct parse_field qf[] = {{"id", NULL, 24, 0, 0, 1}};
    char idbuf[24] = "", nik[24], err_msg[96];
    struct admin_rows prof = {0}, reps = {0}, revs = {0}, rs = {0};
    struct db_param p[4];
    uint64_t id;
    size_t i, r;
    int err;

    qf[0].buf = idbuf;
    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1 ||
        parse_u64(idbuf, strlen(idbuf), 1, UINT64_MAX, &id) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "id");
    p[0] = DB_U64(id);
    p[1] = DB_STR(j->s.user.region);
    if ((err = db_query(c,
                        "SELECT k.id, k.pkh_number, k.nik_last4, k.name, k.msisdn, k.lang,"
                        " k.region_code, r.name, a.name, a.msisdn, g.name, k.graduation,"
                        " k.reminders, " REVIEW_WIB(
                            "k.created_at") " FROM kpm k"
                                            " LEFT JOIN regions r ON r.code = k.region_code"
                                            " LEFT JOIN assistants a ON a.id = k.assistant_id"
                                            " LEFT JOIN kube_groups g ON g.id = k.kube_id"
                                            " WHERE k.id = ? AND" REVIEW_SCOPE,
                        p, 2, admin_rows_add, &prof)) != 0)
        goto done;
    if (prof.n == 0) {
        admin_message(j, 404, L(j, "Tidak ditemukan", "Not found"),
                      L(j, "KPM ini tidak ada, atau di luar wilayah Anda.",
                        "This KPM does not exist, or is outside your region."));
        goto done;
    }
    admin_head_id(j, nz(CELL(&prof, 0, 3)), "kpm-page", "kpm-name");
    admin_nik_masked(CELL(&prof, 0, 2), nik, sizeof nik);
    outf(j,
         "<section id=\"profile\"><dl>"
         "<dt>%s</dt><dd>",
         L(j, "Nomor PKH", "PKH number"));
    esc(j, CELL(&prof, 0, 1));
    out(j, "</dd><dt>NIK</dt><dd>");
    esc(j, nik);
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Nomor HP", "Phone"));
    esc(j, CELL(&prof, 0, 4));
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Wilayah", "Region"));
    esc(j, CELL(&prof, 0, 7));
    out(j, " (");
    esc(j, CELL(&prof, 0, 6));
    outf(j, ")</dd><dt>%s</dt><dd>", L(j, "Pendamping", "Assistant"));
    esc(j, CELL(&prof, 0, 8));
    outf(j, "</dd><dt>KUBE</dt><dd>");
    esc(j, CELL(&prof, 0, 10) != NULL ? CELL(&prof, 0, 10) : "-");
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Graduasi", "Graduation"));
    esc(j, CELL(&prof, 0, 11));
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Bahasa", "Language"));
    esc(j, CELL(&prof, 0, 5));
    outf(j, "</dd><dt>%s</dt><dd>%s</dd></dl></section>\n", L(j, "Pengingat SMS", "SMS reminders"),
         strcmp(nz(CELL(&prof, 0, 12)), "1") == 0 ? L(j, "ya", "yes")
                                                  : L(j, "tidak (STOP)", "no (STOP)"));

    /* the revenue chart: the last 12 business reports */
    if ((err = db_query(c,
                        "SELECT DATE_FORMAT(x.created_at + INTERVAL 7 HOUR, '%d/%m'),"
                        " COALESCE(x.revenue, 0) FROM business_reports x WHERE x.kpm_id = ?"
                        " ORDER BY x.created_at DESC, x.id DESC LIMIT 12",
                        p, 1, admin_rows_add, &rs)) != 0)
        goto done;
    {
        const char *labels[12];
        double v[12];
        /* in millions: the ticks read "2.5 (juta)", where "2.5M" would read as miliar */
        struct svg_series s = {L(j, "Omzet (juta Rp)", "Revenue (million Rp)"), v};

        for (i = 0; i < rs.n && i < 12; i++) {
            labels[rs.n - 1 - i] = nz(CELL(&rs, i, 0));
            v[rs.n - 1 - i] = num(CELL(&rs, i, 1)) / 1e6;
        }
        outf(j, "<section class=\"chart\" id=\"chart-revenue\"><h2>%s</h2>",
             L(j, "Omzet bulanan menurut laporan", "Monthly revenue as reported"));
        svg_lines(j->out, L(j, "Omzet", "Revenue"), labels, rs.n, &s, 1,
                  L(j, "Belum ada laporan usaha", "No business report yet"));
        out(j, "</section>\n");
    }
    admin_rows_free(&rs);

    p[1] = DB_U64(id);
    p[2] = DB_U64(id);
    if ((err = db_query(
             c,
             "SELECT * FROM ("
             "SELECT 'business' t, x.id, x.created_at, " REVIEW_WIB(
                 "x.created_at") " w,"
                                 " x.source, x.status a, x.revenue b, x.kind c, x.workers d,"
                                 " x.difficulty e FROM business_reports x WHERE x.kpm_id = ?"
                                 " UNION ALL SELECT 'attendance', x.id, x.created_at,"
                                 " " REVIEW_WIB(
                                     "x.created_at") ", x.source, x.attended, x.reason, tr.title,"
                                                     " NULL, NULL FROM attendance_reports x"
                                                     " JOIN trainings tr ON tr.id = x.training_id "
                                                     "WHERE x.kpm_id = ?"
                                                     " UNION ALL SELECT 'help', x.id, "
                                                     "x.created_at, " REVIEW_WIB(
                                                         "x.created_at") ", x.source, x.topic, "
                                                                         "NULL, x.text, NULL, NULL "
                                                                         "FROM help_requests x"
                                                                         " WHERE x.kpm_id = ?) q "
                                                                         "ORDER BY created_at "
                                                                         "DESC, id DESC LIMIT 200",
             p, 3, admin_rows_add, &reps)) != 0)
        goto done;
    if ((err =
             db_query(c,
                      "SELECT v.report_type, v.report_id, v.status, v.note, u.username,"
                      " " REVIEW_WIB(
                          "v.created_at") " FROM reviews v"
                                          " JOIN admin_users u ON u.id = v.reviewer_id WHERE"
                                          " (v.report_type = 'business' AND v.report_id IN"
                                          "  (SELECT id FROM business_reports WHERE kpm_id = ?))"
                                          " OR (v.report_type = 'attendance' AND v.report_id IN"
                                          "  (SELECT id FROM attendance_reports WHERE kpm_id = ?))"
                                          " OR (v.report_type = 'help' AND v.report_id IN"
                                          "  (SELECT id FROM help_requests WHERE kpm_id = ?))"
                                          " ORDER BY v.id DESC LIMIT 2000",
                      p, 3, admin_rows_add, &revs)) != 0)
        goto done;
    outf(j, "<section id=\"reports\"><h2>%s</h2>",
         L(j, "Laporan (terbaru dulu)", "Reports (newest first)"));
    for (r = 0; r < reps.n; r++) {
        const char *t = nz(CELL(&reps, r, 0)), *rid = nz(CELL(&reps, r, 1)), *state = "none";

        /* reviews come newest first: the first reviewed or follow_up is the state */
        for (i = 0; i < revs.n; i++)
            if (strcmp(nz(CELL(&revs, i, 0)), t) == 0 && strcmp(nz(CELL(&revs, i, 1)), rid) == 0 &&
                strcmp(nz(CELL(&revs, i, 2)), "note") != 0) {
                state = CELL(&revs, i, 2);
                break;
            }
        out(j, "<article class=\"report\" id=\"r-");
        esc(j, t);
        out(j, "-");
        esc(j, rid);
        out(j, "\" data-review=\"");
        esc(j, state);
        out(j, "\"><h3>");
        esc(j, admin_type_label(j, t));
        out(j, " &middot; ");
        esc(j, CELL(&reps, r, 3));
        out(j, " &middot; ");
        esc(j, CELL(&reps, r, 4));
        out(j, " &middot; #");
        esc(j, rid);
        out(j, "</h3><p>");
        admin_summary(j, t, CELL(&reps, r, 5), CELL(&reps, r, 6), CELL(&reps, r, 7));
        if (strcmp(t, "business") == 0 && CELL(&reps, r, 8) != NULL) {
            outf(j, "; %s ", L(j, "pekerja", "workers"));
            esc(j, CELL(&reps, r, 8));
        }
        outf(j, "</p><p class=\"state\">%s: ", L(j, "Tinjauan", "Review"));
        esc(j, admin_review_label(j, state));
        out(j, "</p><ul class=\"reviews\">");
        for (i = 0; i < revs.n; i++) {
            if (strcmp(nz(CELL(&revs, i, 0)), t) != 0 || strcmp(nz(CELL(&revs, i, 1)), rid) != 0)
                continue;
            out(j, "<li>");
            esc(j, CELL(&revs, i, 5));
            out(j, " ");
            esc(j, CELL(&revs, i, 4));
            out(j, ": ");
            esc(j, admin_review_label(j, CELL(&revs, i, 2)));
            if (CELL(&revs, i, 3) != NULL) {
                out(j, " &mdash; ");
                esc(j, CELL(&revs, i, 3));
            }
            out(j, "</li>");
        }
        out(j, "</ul><form class=\"review\" method=\"post\" action=\"/review\">");
        admin_csrf_field(j);
        out(j, "<input type=\"hidden\" name=\"type\" value=\"");
        esc(j, t);
        out(j, "\"><input type=\"hidden\" name=\"id\" value=\"");
        esc(j, rid);
        outf(j,
             "\"><textarea name=\"note\" maxlength=\"1000\" rows=\"2\" placeholder=\"%s\">"
             "</textarea><button name=\"status\" value=\"reviewed\">%s</button>"
             "<button name=\"status\" value=\"follow_up\">%s</button>"
             "<button name=\"status\" value=\"note\">%s</button></form></article>\n",
             L(j, "Catatan", "Note"), L(j, "Sudah ditinjau", "Reviewed"),
             L(j, "Perlu tindak lanjut", "Needs follow-up"), L(j, "Simpan catatan", "Save note"));
    }
    if (reps.n == 0)
        outf(j, "<p>%s</p>", L(j, "Belum ada laporan.", "No reports yet."));
    out(j, "</section>\n");

    outf(j, "<section id=\"alerts\"><h2>%s</h2>", L(j, "Peringatan", "Alerts"));
    if ((err = db_query(c,
                        "SELECT " REVIEW_WIB(
                            "created_at") ", rule, state, urgency, detail"
                                          " FROM alerts WHERE kpm_id = ? ORDER BY id DESC LIMIT 50",
                        p, 1, admin_rows_add, &rs)) != 0)
        goto done;
    admin_table_rows(j, &rs, "kpm-alerts", L(j, "Tidak ada.", "None."));
    admin_rows_free(&rs);
    outf(j, "</section><section id=\"sms\"><h2>%s</h2><h3>%s</h3>", L(j, "SMS", "SMS"),
         L(j, "Diterima", "Received"));
    p[0] = DB_STR(nz(CELL(&prof, 0, 4)));
    if ((err = db_query(
             c,
             "SELECT " REVIEW_WIB("created_at") ", body, state FROM inbound_messages"
                                                " WHERE msisdn_from = ? ORDER BY id DESC LIMIT 50",
             p, 1, admin_rows_add, &rs)) != 0)
        goto done;
    admin_table_rows(j, &rs, "sms-in", L(j, "Tidak ada.", "None."));
    admin_rows_free(&rs);
    outf(j, "<h3>%s</h3>", L(j, "Dikirim", "Sent"));
    if ((err = db_query(
             c,
             "SELECT " REVIEW_WIB("created_at") ", purpose, body, state FROM outbox"
                                                " WHERE recipient = ? ORDER BY id DESC LIMIT 50",
             p, 1, admin_rows_add, &rs)) != 0)
        goto done;
    admin_table_rows(j, &rs, "sms-out", L(j, "Tidak ada.", "None."));
    admin_rows_free(&rs);
    out(j, "</section>");
    admin_foot(j);
done:
    admin_rows_free(&prof);
    admin_rows_free(&reps);
    admin_rows_free(&revs);
    admin_rows_free(&rs);
    return err;
}

int
admin_review_record(struct db_conn *c, const struct auth_user *u, int type, uint64_t id,
                    const char *status, const char *note, uint64_t *kpm_id)
{
    static const char *const check[4] = {
        NULL,
        "SELECT x.kpm_id FROM business_reports x JOIN kpm k ON k.id = x.kpm_id"
        " WHERE x.id = ? AND" REVIEW_SCOPE,
        "SELECT x.kpm_id FROM attendance_reports x JOIN kpm k ON k.id = x.kpm_id"
        " WHERE x.id = ? AND" REVIEW_SCOPE,
        "SELECT x.kpm_id FROM help_requests x JOIN kpm k ON k.id = x.kpm_id"
        " WHERE x.id = ? AND" REVIEW_SCOPE,
    };
    struct admin_rows rs = {0};
    struct db_param p[5];
    char action[32];
    int err;

    if (type < REVIEW_BUSINESS || type > REVIEW_HELP)
        return ADMIN_ENOTFOUND;
    p[0] = DB_U64(id);
    p[1] = DB_STR(u->region);
    if ((err = db_query(c, check[type], p, 2, admin_rows_add, &rs)) != 0) {
        admin_rows_free(&rs);
        return err;
    }
    if (rs.n == 0 || CELL(&rs, 0, 0) == NULL ||
        parse_u64(CELL(&rs, 0, 0), strlen(CELL(&rs, 0, 0)), 1, UINT64_MAX, kpm_id) == -1) {
        admin_rows_free(&rs);
        return ADMIN_ENOTFOUND;
    }
    admin_rows_free(&rs);
    p[0] = DB_STR(review_type_names[type]);
    p[1] = DB_U64(id);
    p[2] = DB_U64(u->id);
    p[3] = DB_STR(status);
    p[4] = note != NULL && note[0] != '\0' ? DB_STR(note) : DB_NULL();
    if ((err = db_exec(c,
                       "INSERT INTO reviews (report_type, report_id, reviewer_id, status, note)"
                       " VALUES (?, ?, ?, ?, ?)",
                       p, 5, NULL, NULL)) != 0)
        return err;
    /* the note stays in reviews: the audit log says who did what, not what a KPM told */
    snprintf(action, sizeof action, "review.%s", status);
    return auth_audit(c, u->username, action, review_type_names[type], id, NULL);
}

static int
admin_do_review(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], type[16] = "", idbuf[24] = "", status[16] = "", note[1001] = "";
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0}, {"type", type, sizeof type, 0, 0, 1},
        {"id", idbuf, sizeof idbuf, 0, 0, 1}, {"status", status, sizeof status, 0, 0, 1},
        {"note", note, sizeof note, 0, 0, 0},
    };
    uint64_t id, kpm;
    int t, err;
    char loc[96];

    if (admin_form(j, f, 5) == -1)
        return 0;
    for (t = REVIEW_BUSINESS; t <= REVIEW_HELP; t++)
        if (strcmp(type, review_type_names[t]) == 0)
            break;
    if (t > REVIEW_HELP || parse_u64(idbuf, strlen(idbuf), 1, UINT64_MAX, &id) == -1 ||
        (strcmp(status, "reviewed") != 0 && strcmp(status, "follow_up") != 0 &&
         strcmp(status, "note") != 0))
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "type, id, status");
    if (strcmp(status, "note") == 0 && note[0] == '\0')
        return admin_message(j, 400, L(j, "Catatan kosong", "Empty note"),
                             L(j, "Tulis catatan dulu.", "Write a note first."));
    err = admin_review_record(c, &j->s.user, t, id, status, note, &kpm);
    if (err == ADMIN_ENOTFOUND)
        return admin_message(j, 404, L(j, "Tidak ditemukan", "Not found"),
                             L(j, "Laporan ini tidak ada, atau di luar wilayah Anda.",
                               "This report does not exist, or is outside your region."));
    if (err != 0)
        return err;
    snprintf(loc, sizeof loc, "/kpm?id=%llu#r-%s-%llu", (unsigned long long)kpm, type,
             (unsigned long long)id);
    admin_redirect(j, loc);
    return 0;
}

/* -- alerts */

static int
admin_page_alerts(struct db_conn *c, struct admin_job *j)
{
    struct parse_field qf[] = {{"state", NULL, 16, 0, 0, 0}};
    char state[16] = "", err_msg[96];
    struct admin_rows rs = {0};
    struct db_param p = DB_STR(j->s.user.region);
    const char *prev = NULL;
    size_t i;
    int err, acked;

    qf[0].buf = state;
    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "state");
    if (state[0] == '\0' || strcmp(state, "open") == 0)
        acked = 0;
    else if (strcmp(state, "acknowledged") == 0)
        acked = 1;
    else
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"),
                             "state: open, acknowledged");
    admin_head(j, L(j, "Peringatan", "Alerts"), "alerts-page");
    outf(j,
         "<p><a href=\"/alerts?state=open\" id=\"alerts-open\">%s</a> &middot; "
         "<a href=\"/alerts?state=acknowledged\" id=\"alerts-acked\">%s</a></p>",
         L(j, "Terbuka", "Open"), L(j, "Sudah dikonfirmasi", "Acknowledged"));
#define ADMIN_ALERTS_SQL(cond)                                                                     \
    "SELECT s.name, a.id, " REVIEW_WIB(                                                            \
        "a.created_at") ", a.rule, a.state, a.urgency, k.id,"                                      \
                        " k.name, " REVIEW_WIB(                                                    \
                            "a.acked_at") " FROM alerts a JOIN kpm k ON k.id = a.kpm_id"           \
                                          " JOIN assistants s ON s.id = a.assistant_id "           \
                                          "WHERE" REVIEW_SCOPE cond                                \
                                          " ORDER BY s.name, a.created_at DESC LIMIT 1000"
    if ((err = db_query(c,
                        acked ? ADMIN_ALERTS_SQL(" AND a.state = 'acknowledged'")
                              : ADMIN_ALERTS_SQL(" AND a.state IN ('new', 'sent')"),
                        &p, 1, admin_rows_add, &rs)) != 0) {
        admin_rows_free(&rs);
        return err;
    }
#undef ADMIN_ALERTS_SQL
    for (i = 0; i < rs.n; i++) {
        if (prev == NULL || strcmp(prev, nz(CELL(&rs, i, 0))) != 0) {
            if (prev != NULL)
                out(j, "</tbody></table>");
            out(j, "<h2 class=\"assistant\">");
            esc(j, CELL(&rs, i, 0));
            outf(j,
                 "</h2><table class=\"alerts\"><thead><tr><th>%s</th><th>%s</th><th>KPM</th>"
                 "<th>%s</th><th>%s</th></tr></thead><tbody>",
                 L(j, "Waktu (WIB)", "Time (WIB)"), L(j, "Aturan", "Rule"), L(j, "Status", "State"),
                 L(j, "Dikonfirmasi", "Acknowledged"));
            prev = nz(CELL(&rs, i, 0));
        }
        out(j, "<tr class=\"alert\"><td>");
        esc(j, CELL(&rs, i, 2));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 3));
        out(j, "</td><td><a href=\"/kpm?id=");
        esc(j, CELL(&rs, i, 6));
        out(j, "\">");
        esc(j, CELL(&rs, i, 7));
        out(j, "</a></td><td>");
        esc(j, CELL(&rs, i, 4));
        out(j, " / ");
        esc(j, CELL(&rs, i, 5));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 8) != NULL ? CELL(&rs, i, 8) : "-");
        out(j, "</td></tr>\n");
    }
    if (prev != NULL)
        out(j, "</tbody></table>");
    else
        outf(j, "<p>%s</p>", L(j, "Tidak ada peringatan.", "No alerts."));
    admin_rows_free(&rs);
    admin_foot(j);
    return 0;
}

/* -- expired sessions: swept, so a queue filter (a name, a phone number) does not linger */

struct admin_sweep_job {
    unsigned idle, max;
    uint64_t deleted;
};

static int
admin_sweep_work(struct db_conn *c, void *arg)
{
    struct admin_sweep_job *s = arg;
    struct db_param p[2] = {DB_U64(s->idle), DB_U64(s->max)};

    return db_exec(c,
                   "DELETE FROM admin_sessions WHERE last_seen < NOW(3) - INTERVAL ? SECOND"
                   " OR created_at < NOW(3) - INTERVAL ? SECOND",
                   p, 2, &s->deleted, NULL);
}

static void
admin_sweep_done(int err, void *arg)
{
    struct admin_sweep_job *s = arg;

    if (err == 0 && s->deleted > 0)
        log_info("admin_sessions_expired", "deleted=%llu", (unsigned long long)s->deleted);
    free(s);
}

void
admin_sweep(const struct config *cfg)
{
    struct admin_sweep_job *s;

    if (!cfg->admin.enabled || !db_is_up() || (s = calloc(1, sizeof *s)) == NULL)
        return;
    s->idle = cfg->admin.session_idle;
    s->max = cfg->admin.session_max;
    if (db_submit(admin_sweep_work, admin_sweep_done, s, 0) == -1)
        free(s);
}

/* -- the job: session, CSRF, page */

static int
admin_work(struct db_conn *c, void *arg)
{
    struct admin_job *j = arg;
    char csrf[AUTH_TOKEN_HEX] = "";
    struct parse_field cf[] = {{"csrf", csrf, sizeof csrf, 0, 0, 0}};
    int live, err = 0;

    /* a re-run (deadlock, lost link) starts from scratch */
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    free(j->s.filter);
    memset(&j->s, 0, sizeof j->s);
    j->authed = 0;
    j->ncookies = 0;
    j->location[0] = '\0';
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
            log_warn("admin_csrf_refused", "user_id=%llu peer=%s", (unsigned long long)j->s.user.id,
                     j->r->peer);
            return admin_message(j, 403, L(j, "Formulir ditolak", "Form refused"),
                                 L(j,
                                   "Formulir ini kedaluwarsa atau bukan dari halaman ini. "
                                   "Muat ulang halaman lalu coba lagi.",
                                   "This form has expired or did not come from this site. "
                                   "Reload the page and try again."));
        }
    }
    return j->page(c, j);
}

static void
admin_job_free(struct admin_job *j)
{
    if (j->out != NULL)
        evbuffer_free(j->out);
    free(j->s.filter);
    free(j);
}

static void
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

static void
admin_done(int err, void *arg)
{
    struct admin_job *j = arg;
    struct http_req *r = j->r;
    size_t i, len;
    char *body;

    if (j->page == admin_do_login)
        admin_logins--;
    admin_headers(r, 1);
    if (err != 0) {
        log_warn("admin_db_error", "req=%llu err=%d", (unsigned long long)r->id, err);
        http_add_header(r, "Retry-After", "5");
        http_reply(r, 503, "text/html; charset=utf-8",
                   "<!doctype html><title>Kabar</title><p>Basis data sedang tidak tersedia. "
                   "Coba lagi sebentar. / The database is unavailable. Try again shortly.</p>\n",
                   strlen("<!doctype html><title>Kabar</title><p>Basis data sedang tidak "
                          "tersedia. Coba lagi sebentar. / The database is unavailable. Try again "
                          "shortly.</p>\n"));
        admin_job_free(j);
        return;
    }
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
admin_job_new(struct http_req *r, admin_page_fn page, int need)
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
admin_queue_job(struct admin_job *j, db_done_fn done, int flags)
{
    if (db_submit(admin_work, done, j, flags) == 0)
        return 0;
    admin_headers(j->r, 0);
    http_add_header(j->r, "Retry-After", "5");
    http_reply_text(j->r, 503, "database unavailable, try again shortly");
    admin_job_free(j);
    return -1;
}

static void
admin_submit(struct http_req *r, admin_page_fn page, int need, int flags)
{
    struct admin_job *j;

    if (strlen(http_query_raw(r)) >= sizeof j->query) {
        http_reply_text(r, 414, "query too long");
        return;
    }
    if ((j = admin_job_new(r, page, need)) != NULL)
        (void)admin_queue_job(j, admin_done, flags);
}

static void
admin_post_login(struct http_req *r)
{
    struct admin_job *j;

    if (!auth_login_allowed(r->peer, r->cfg->admin.login_per_minute, time(NULL))) {
        log_warn("admin_login_rate", "peer=%s", r->peer);
        admin_headers(r, 0);
        http_add_header(r, "Retry-After", "60");
        http_reply_text(r, 429, "too many login attempts from this address, wait a minute");
        return;
    }
    /* a password check holds a worker for tens of milliseconds: one at a time, so logins can
     * never take every worker from the aggregators' callbacks */
    if (admin_logins > 0) {
        admin_headers(r, 0);
        http_add_header(r, "Retry-After", "1");
        http_reply_text(r, 503, "another login is being checked, try again in a second");
        return;
    }
    if ((j = admin_job_new(r, admin_do_login, NEED_NOTHING)) == NULL)
        return;
    admin_logins++; /* admin_done takes it back */
    if (admin_queue_job(j, admin_done, DB_TXN) == -1)
        admin_logins--;
}

static void
admin_login(struct http_req *r)
{
    if (r->method == EVHTTP_REQ_POST)
        admin_post_login(r);
    else
        admin_submit(r, admin_page_login, NEED_NOTHING, 0);
}

static void
admin_dashboard(struct http_req *r)
{
    admin_submit(r, admin_page_dashboard, NEED_SESSION, 0);
}

static void
admin_queue(struct http_req *r)
{
    if (r->method == EVHTTP_REQ_POST)
        admin_submit(r, admin_do_filter, NEED_FORM, DB_TXN);
    else
        admin_submit(r, admin_page_queue, NEED_SESSION, 0);
}

static void
admin_kpm(struct http_req *r)
{
    admin_submit(r, admin_page_kpm, NEED_SESSION, 0);
}

static void
admin_review(struct http_req *r)
{
    admin_submit(r, admin_do_review, NEED_FORM, DB_TXN);
}

static void
admin_alerts(struct http_req *r)
{
    admin_submit(r, admin_page_alerts, NEED_SESSION, 0);
}

static void
admin_logout(struct http_req *r)
{
    admin_submit(r, admin_do_logout, NEED_FORM, DB_TXN);
}

static void
admin_lang(struct http_req *r)
{
    admin_submit(r, admin_do_lang, NEED_FORM, 0);
}

/* -- CSV exports: one keyset page of rows per database job, one chunk on the wire at a time */

static int
admin_export_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct admin_job *j = arg;
    unsigned i;
    uint64_t id;

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
    struct sqlb *b;
    size_t before_rows = j->rows;
    uint64_t before = j->before;
    int err;

    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    if ((b = malloc(sizeof *b)) == NULL)
        return DB_EUNAVAILABLE;
    if (review_build(b, &j->filter, j->s.user.region, REVIEW_KEYSET, j->type, j->before,
                     ADMIN_EXPORT_PAGE, 0) == -1) {
        free(b);
        j->done = 1;
        return 0;
    }
    err = db_query(c, b->sql, b->p, b->np, admin_export_row, j);
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
             (unsigned long long)j->r->id, (unsigned long long)j->s.user.id,
             review_type_names[j->type], j->rows, why);
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
    if (db_submit(admin_export_page, admin_export_paged, j, 0) == -1) {
        log_error("admin_export_failed", "req=%llu err=unavailable rows=%zu",
                  (unsigned long long)r->id, j->rows);
        admin_export_finish(j, "db_unavailable");
    }
}

static int
admin_export_start(struct db_conn *c, struct admin_job *j)
{
    const char *const *cols = review_export_columns(j->type);
    size_t i;

    evbuffer_add(j->out, "\xef\xbb\xbf", 3); /* the BOM: Excel then reads UTF-8 */
    for (i = 0; cols[i] != NULL; i++) {
        if (i > 0)
            evbuffer_add(j->out, ",", 1);
        csv_field(j->out, cols[i], strlen(cols[i]));
    }
    evbuffer_add(j->out, "\r\n", 2);
    j->status = 200;
    return auth_audit(c, j->s.user.username, "export", review_type_names[j->type], 0, NULL);
}

static void
admin_export_started(int err, void *arg)
{
    struct admin_job *j = arg;
    struct http_req *r = j->r;
    char disp[96], day[16];
    time_t now = time(NULL) + 7 * 3600;
    struct tm tm;

    if (err != 0 || j->status != 200 || r->req == NULL) {
        /* not logged in (a redirect), or the database: an ordinary page */
        admin_done(err, j);
        return;
    }
    gmtime_r(&now, &tm);
    strftime(day, sizeof day, "%Y%m%d", &tm);
    snprintf(disp, sizeof disp, "attachment; filename=\"kabar-%s-%s.csv\"",
             j->type == REVIEW_BUSINESS ? "reports" : "attendance", day);
    admin_headers(r, 1);
    http_add_header(r, "Content-Disposition", disp);
    if (http_stream_start(r, 200, "text/csv; charset=utf-8") == -1) {
        admin_done(DB_EUNAVAILABLE, j);
        return;
    }
    http_stream_chunk(r, j->out, admin_export_next, j);
}

static void
admin_export(struct http_req *r, int type)
{
    struct admin_job *j = admin_job_new(r, admin_export_start, NEED_SESSION);

    if (j == NULL)
        return;
    j->type = type;
    (void)admin_queue_job(j, admin_export_started, 0);
}

static void
admin_export_reports(struct http_req *r)
{
    admin_export(r, REVIEW_BUSINESS);
}

static void
admin_export_attendance(struct http_req *r)
{
    admin_export(r, REVIEW_ATTENDANCE);
}

/* -- the stylesheet: small, readable on a phone */

static const char admin_css[] =
    "body{font-family:system-ui,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}"
    "header{background:#0b4f6c;color:#fff;padding:.5em 1em}"
    "header a{color:#fff;margin-right:1em;font-weight:600}"
    "nav{display:flex;flex-wrap:wrap;align-items:center;gap:.3em}"
    ".who{margin-left:auto;margin-right:1em}.inline{display:inline;margin:0 .2em}"
    "main{padding:1em;max-width:70em;margin:auto}h1{font-size:1.4em}"
    ".figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(10em,1fr));gap:.6em}"
    ".figure{background:#fff;border-radius:6px;padding:.7em;box-shadow:0 1px 2px #0002}"
    ".figure .value{display:block;font-size:1.5em;font-weight:700;overflow-wrap:anywhere}"
    ".figure .label{display:block}.figure .note{display:block;color:#555;font-size:.85em}"
    "section.chart{background:#fff;margin:1em 0;padding:.5em;border-radius:6px}"
    "svg.chart{width:100%;height:auto}"
    "table{border-collapse:collapse;width:100%;background:#fff;font-size:.92em}"
    "td,th{border-bottom:1px solid #ddd;padding:.35em;text-align:left;vertical-align:top}"
    "form#filter{display:flex;flex-wrap:wrap;gap:.5em;align-items:end;margin-bottom:1em}"
    "form#filter label{display:flex;flex-direction:column;font-size:.85em}"
    "form#login{display:flex;flex-direction:column;gap:.7em;max-width:20em}"
    "article.report{background:#fff;margin:.6em 0;padding:.6em;border-radius:6px;"
    "border-left:5px solid #999}"
    "article.report[data-review=reviewed]{border-left-color:#2a7d2e}"
    "article.report[data-review=follow_up]{border-left-color:#c25400}"
    "article h3{font-size:1em;margin:0 0 .3em}textarea{width:100%;box-sizing:border-box}"
    "button{padding:.4em .8em;margin:.2em .2em 0 0}.message{background:#fff3cd;padding:.6em}"
    ""
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;background:#fff;"
    "padding:.6em}dd{margin:0}"
    "@media (max-width:40em){td,th{display:block;border:0}tr{border-bottom:1px solid #ccc;"
    "display:block}thead{display:none}}";

static void
admin_static_css(struct http_req *r)
{
    http_add_header(r, "Cache-Control", "max-age=3600");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_reply(r, 200, "text/css; charset=utf-8", admin_css, sizeof admin_css - 1);
}

static const struct http_route admin_routes[] = {
    {NULL, "/login", EVHTTP_REQ_GET | EVHTTP_REQ_POST, "admin_login", admin_login},
    {NULL, "/logout", EVHTTP_REQ_POST, "admin_logout", admin_logout},
    {NULL, "/lang", EVHTTP_REQ_POST, "admin_lang", admin_lang},
    {NULL, "/", EVHTTP_REQ_GET, "admin_dashboard", admin_dashboard},
    {NULL, "/queue", EVHTTP_REQ_GET | EVHTTP_REQ_POST, "admin_queue", admin_queue},
    {NULL, "/kpm", EVHTTP_REQ_GET, "admin_kpm", admin_kpm},
    {NULL, "/review", EVHTTP_REQ_POST, "admin_review", admin_review},
    {NULL, "/alerts", EVHTTP_REQ_GET, "admin_alerts", admin_alerts},
    {NULL, "/export/reports.csv", EVHTTP_REQ_GET, "admin_export", admin_export_reports},
    {NULL, "/export/attendance.csv", EVHTTP_REQ_GET, "admin_export", admin_export_attendance},
    {NULL, "/static/admin.css", EVHTTP_REQ_GET, "admin_static", admin_static_css},
    {NULL, NULL, 0, NULL, NULL},
};

const struct http_handler handler_admin = {"admin", admin_routes, 1};
