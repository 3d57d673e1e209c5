/*
 * The admin pages' frame and words: header, navigation and footer, one-message pages, redirects
 * and cookies, the rows a page collects before it renders them, the words for coded answers, and
 * the one stylesheet. Everything a row or a request brings is escaped on its way out (html.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "admin_int.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "parse.h"

#define ADMIN_ROWS_MAX 2000

/* -- the words for coded answers, as docs/DOMAIN.md names them */

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

const char *
admin_status_label(struct admin_job *j, unsigned status)
{
    if (status < 1 || status > ADMIN_BUSINESS_STATUSES)
        return "-";
    return j->lang ? admin_status_en[status] : admin_status_id[status];
}

const char *
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

const char *
admin_type_label(struct admin_job *j, const char *t)
{
    if (strcmp(t, "business") == 0)
        return L(j, "usaha", "business");
    if (strcmp(t, "attendance") == 0)
        return L(j, "pelatihan", "training");
    return L(j, "bantuan", "help");
}

const char *
admin_track_label(struct admin_job *j, const char *track)
{
    if (track != NULL && strcmp(track, "natural") == 0)
        return L(j, "alami (keluar PKH)", "natural (left PKH)");
    if (track != NULL && strcmp(track, "welfare") == 0)
        return L(j, "sejahtera", "welfare");
    return L(j, "belum graduasi", "not graduated");
}

const char *
admin_outcome_label(struct admin_job *j, const char *outcome)
{
    static const char *const codes[] = {"called",    "visited",   "unreachable", "referred",
                                        "no_action", "confirmed", "declined",    "later"};
    static const char *const id[] = {"ditelepon",
                                     "dikunjungi",
                                     "tidak terhubung",
                                     "dirujuk",
                                     "tidak perlu tindakan",
                                     "graduasi dikonfirmasi",
                                     "graduasi ditolak",
                                     "nanti"};
    static const char *const en[] = {"called",
                                     "visited",
                                     "unreachable",
                                     "referred",
                                     "no action needed",
                                     "graduation confirmed",
                                     "graduation declined",
                                     "later"};
    size_t i;

    for (i = 0; outcome != NULL && i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(outcome, codes[i]) == 0)
            return j->lang ? en[i] : id[i];
    return "-";
}

const char *
admin_via_label(struct admin_job *j, const char *via)
{
    if (via == NULL)
        return "-";
    if (strcmp(via, "page") == 0)
        return L(j, "halaman admin", "admin page");
    if (strcmp(via, "api") == 0)
        return "API";
    if (strcmp(via, "ussd") == 0)
        return "USSD";
    return strcmp(via, "sms") == 0 ? "SMS" : "-";
}

const char *
admin_reason_label(struct admin_job *j, const char *code)
{
    const struct config_reason *r = code != NULL ? config_reason_find(j->cfg, code) : NULL;

    if (r == NULL)
        return code != NULL ? code : "-";
    return r->label[j->lang ? 1 : 0];
}

const char *
admin_visit_label(struct admin_job *j, const char *code)
{
    const struct config_visit_outcome *o;
    uint64_t v;

    if (code == NULL || parse_u64(code, strlen(code), 1, 99, &v) == -1)
        return "-";
    if ((o = config_visit_outcome_find(j->cfg, (unsigned)v)) == NULL)
        return code;
    return o->label[j->lang ? 1 : 0];
}

void
admin_actor(struct admin_job *j, const char *type, const char *name)
{
    esc(j, name != NULL ? name : "-");
    if (type != NULL && strcmp(type, "assistant") == 0)
        outf(j, " (%s)", L(j, "pendamping", "assistant"));
}

void
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

/* -- rows collected for pages that render them out of order */

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

int
admin_rows_query(struct db_conn *c, const char *sql, const struct db_param *p, size_t np,
                 struct admin_rows *rs)
{
    int err = db_query(c, sql, p, np, admin_rows_add, rs);

    if (err != 0)
        admin_rows_free(rs);
    return err;
}

int
admin_rows_copy(struct admin_rows *dst, const struct admin_rows *src)
{
    size_t i, n = src->n * src->ncols;

    memset(dst, 0, sizeof *dst);
    if (n == 0)
        return 0;
    if ((dst->cells = calloc(n, sizeof *dst->cells)) == NULL)
        return -1;
    dst->n = dst->cap = src->n;
    dst->ncols = src->ncols;
    for (i = 0; i < n; i++)
        if (src->cells[i] != NULL && (dst->cells[i] = strdup(src->cells[i])) == NULL) {
            admin_rows_free(dst);
            return -1;
        }
    return 0;
}

void
admin_rows_free(struct admin_rows *rs)
{
    size_t i;

    for (i = 0; i < rs->n * rs->ncols; i++)
        free(rs->cells[i]);
    free(rs->cells);
    memset(rs, 0, sizeof *rs);
}

/* -- page frame */

void
admin_csrf_field(struct admin_job *j)
{
    out(j, "<input type=\"hidden\" name=\"csrf\" value=\"");
    esc(j, j->s.csrf);
    out(j, "\">");
}

void
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
             "<a href=\"/alerts\" id=\"nav-alerts\">%s</a> "
             "<a href=\"/trainings\" id=\"nav-trainings\">%s</a> "
             "<a href=\"/lessons\" id=\"nav-lessons\">%s</a>",
             L(j, "Dasbor", "Dashboard"), L(j, "Antrean tinjauan", "Review queue"),
             L(j, "Peringatan", "Alerts"), L(j, "Pelatihan", "Trainings"),
             L(j, "Pelajaran", "Lessons"));
        if (j->s.user.admin)
            outf(j, " <a href=\"/import\" id=\"nav-import\">%s</a>", L(j, "Impor", "Import"));
        out(j, "<span class=\"who\">");
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

void
admin_head(struct admin_job *j, const char *title, const char *main_id)
{
    admin_head_id(j, title, main_id, NULL);
}

void
admin_foot(struct admin_job *j)
{
    out(j, "</main></body></html>\n");
}

int
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

void
admin_redirect(struct admin_job *j, const char *location)
{
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    j->status = 303;
    snprintf(j->location, sizeof j->location, "%s", location);
}

void
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

int
admin_form(struct admin_job *j, struct parse_field *f, size_t n)
{
    char err[128];

    if (parse_form(j->r->body, j->r->body_len, f, n, err, sizeof err) == -1) {
        admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), err);
        return -1;
    }
    return 0;
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

void
admin_static_css(struct http_req *r)
{
    http_add_header(r, "Cache-Control", "max-age=3600");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    http_reply(r, 200, "text/css; charset=utf-8", admin_css, sizeof admin_css - 1);
}
