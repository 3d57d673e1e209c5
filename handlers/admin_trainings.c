/*
 * Trainings on the admin pages: the list (GET /trainings), a new one (GET /trainings/new, POST
 * /trainings), one training with its roster and attendance (GET /training?id=), and its forms:
 * edit (POST /training/edit), enrol (POST /training/enrol: by region, by assistant, by KUBE or a
 * list of PKH or phone numbers), the pass mark of an assistant or lecturer (POST /training/pass)
 * and close (POST /training/close; no attendance is taken after it).
 *
 * An administrator sees every training; a supervisor those of her region, and one outside it is
 * a 404 with nothing written. Every form carries the CSRF token and a nonce: the nonce is the key
 * of the audit row (auth_audit_keyed), so a form sent twice does its work once. Refused values
 * show the form again, with a message, as 422.
 */
#include <stdio.h>
#include <string.h>

#include <mysqld_error.h>
#include <sodium.h>

#include "admin_int.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "parse.h"
#include "training.h"

#define TR_SCOPE " t.region_code LIKE CONCAT(?, '%')"
/* a training's times as entered and shown: WIB */
#define TR_WIB(x) "DATE_FORMAT(" x " + INTERVAL 7 HOUR, '%Y-%m-%d %H:%i')"
/* at most this many participants enrolled by one form, and lines of one list */
#define TR_ENROL_MAX 5000
#define TR_LIST_MAX 1000

static const char *const tr_audiences[] = {"kpm", "assistant", "lecturer"};
static const char *const tr_kinds[] = {"in_person", "tot", "online"};

struct tr_form {
    const char *error;
    char code[17], title[101], place[101], region[14], start_date[11], start_time[6], end_date[11],
        audience[12], kind[12];
};

static const char *
tr_audience_label(struct admin_job *j, const char *a)
{
    if (strcmp(nz(a), "assistant") == 0)
        return L(j, "pendamping", "assistants");
    if (strcmp(nz(a), "lecturer") == 0)
        return L(j, "narasumber", "lecturers");
    return "KPM";
}

static const char *
tr_kind_label(struct admin_job *j, const char *k)
{
    if (strcmp(nz(k), "tot") == 0)
        return L(j, "TOT (pelatihan pelatih)", "TOT (training of trainers)");
    if (strcmp(nz(k), "online") == 0)
        return L(j, "daring", "online");
    return L(j, "tatap muka", "in person");
}

static int
tr_in(const char *v, const char *const *set, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(v, set[i]) == 0)
            return 1;
    return 0;
}

/* the id of ?id= or a form's id field; 0 after a 400 page */
static uint64_t
tr_id(struct admin_job *j, const char *s)
{
    uint64_t id;

    if (parse_u64(s, strlen(s), 1, UINT32_MAX, &id) == -1) {
        admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "id");
        return 0;
    }
    return id;
}

/* the audit key of a form: its nonce (32 hex, as auth_key_new() draws it), else the job's */
static const char *
tr_key(struct admin_job *j, const char *nonce)
{
    size_t n = strlen(nonce);

    return n == AUTH_KEY_HEX - 1 && strspn(nonce, "0123456789abcdef") == n ? nonce : j->key;
}

static int
tr_row_u64(void *arg, char **v, unsigned long *len, unsigned n)
{
    uint64_t *u = arg;

    (void)len;
    if (n >= 1 && v[0] != NULL)
        (void)parse_u64(v[0], strlen(v[0]), 0, UINT64_MAX, u);
    return 1;
}

/* Whether the form with this key was done already, and its target: 0 or a MariaDB error. */
static int
tr_done(struct db_conn *c, const char *key, uint64_t *target)
{
    struct db_param p = DB_STR(key);

    *target = 0;
    return db_query(c, "SELECT COALESCE(target_id, 0) + 1 FROM audit_log WHERE request_key = ?", &p,
                    1, tr_row_u64, target);
}

static void
tr_option(struct admin_job *j, const char *value, const char *label, const char *selected)
{
    out(j, "<option value=\"");
    esc(j, value);
    out(j, strcmp(value, nz(selected)) == 0 ? "\" selected>" : "\">");
    esc(j, label);
    out(j, "</option>");
}

static void
tr_input(struct admin_job *j, const char *label, const char *name, const char *type,
         const char *value, const char *extra)
{
    outf(j, "<label>%s <input type=\"%s\" name=\"%s\" %s value=\"", label, type, name, extra);
    esc(j, value);
    out(j, "\"></label>");
}

static void
tr_hidden_nonce(struct admin_job *j)
{
    char nonce[AUTH_KEY_HEX];

    auth_key_new(nonce);
    admin_csrf_field(j);
    outf(j, "<input type=\"hidden\" name=\"nonce\" value=\"%s\">", nonce);
}

static void
tr_message(struct admin_job *j, const char *id, const char *msg)
{
    if (msg == NULL)
        return;
    outf(j, "<p class=\"message\" id=\"%s\">", id);
    esc(j, msg);
    out(j, "</p>");
}

/* the create or edit form; id 0: create */
static void
tr_form_render(struct admin_job *j, const struct tr_form *f, uint64_t id)
{
    size_t i;

    tr_message(j, "training-error", f->error);
    if (id == 0)
        out(j, "<form id=\"training-form\" method=\"post\" action=\"/trainings\">");
    else
        outf(j,
             "<form id=\"training-form\" method=\"post\" action=\"/training/edit\">"
             "<input type=\"hidden\" name=\"id\" value=\"%llu\">",
             (unsigned long long)id);
    tr_hidden_nonce(j);
    tr_input(j, L(j, "Kode", "Code"), "code", "text", f->code,
             "required maxlength=\"16\" pattern=\"[A-Za-z0-9-]{2,16}\"");
    tr_input(j, L(j, "Judul", "Title"), "title", "text", f->title, "required maxlength=\"100\"");
    tr_input(j, L(j, "Tempat", "Place"), "place", "text", f->place, "required maxlength=\"100\"");
    tr_input(j, L(j, "Kode wilayah", "Region code"), "region", "text", f->region,
             "required maxlength=\"13\"");
    tr_input(j, L(j, "Mulai (tanggal, WIB)", "Starts (date, WIB)"), "start_date", "date",
             f->start_date, "required");
    tr_input(j, L(j, "Jam mulai (WIB)", "Start time (WIB)"), "start_time", "time",
             f->start_time[0] != '\0' ? f->start_time : "08:00", "required");
    tr_input(j, L(j, "Selesai (tanggal, WIB)", "Ends (date, WIB)"), "end_date", "date", f->end_date,
             "required");
    outf(j, "<label>%s <select name=\"audience\">", L(j, "Peserta", "Audience"));
    for (i = 0; i < 3; i++)
        tr_option(j, tr_audiences[i], tr_audience_label(j, tr_audiences[i]), f->audience);
    outf(j, "</select></label><label>%s <select name=\"kind\">", L(j, "Jenis", "Kind"));
    for (i = 0; i < 3; i++)
        tr_option(j, tr_kinds[i], tr_kind_label(j, tr_kinds[i]), f->kind);
    outf(j, "</select></label><button type=\"submit\" id=\"training-save\">%s</button></form>",
         L(j, "Simpan pelatihan", "Save training"));
}

int
admin_page_trainings(struct db_conn *c, struct admin_job *j)
{
    struct admin_rows rs = {0};
    struct db_param p = DB_STR(j->s.user.region);
    size_t i;
    int err;

    if ((err = admin_rows_query(
             c,
             "SELECT t.id, t.code, t.title, t.place, t.region_code, " TR_WIB(
                 "t.starts_at") ", " TR_WIB("COALESCE(t.ends_at, t.starts_at)") ", t.audience, "
                                                                                "t.kind, "
                                                                                "t.closed_at IS "
                                                                                "NOT NULL,"
                                                                                " (SELECT COUNT(*) "
                                                                                "FROM enrollments "
                                                                                "e WHERE "
                                                                                "e.training_id = "
                                                                                "t.id)"
                                                                                " + (SELECT "
                                                                                "COUNT(*) FROM "
                                                                                "training_"
                                                                                "participants q"
                                                                                "  WHERE "
                                                                                "q.training_id = "
                                                                                "t.id)"
                                                                                " FROM trainings t "
                                                                                "WHERE" TR_SCOPE
                                                                                " ORDER BY "
                                                                                "t.starts_at DESC, "
                                                                                "t.id DESC LIMIT "
                                                                                "200",
             &p, 1, &rs)) != 0)
        return err;
    admin_head(j, L(j, "Pelatihan", "Trainings"), "trainings-page");
    outf(j,
         "<p><a href=\"/trainings/new\" id=\"training-new\">%s</a> &middot; "
         "<a href=\"/assistants\">%s</a></p>"
         "<table id=\"trainings\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Pelatihan baru", "New training"), L(j, "Pendamping", "Assistants"),
         L(j, "Kode", "Code"), L(j, "Judul", "Title"), L(j, "Tempat", "Place"),
         L(j, "Wilayah", "Region"), L(j, "Waktu (WIB)", "When (WIB)"), L(j, "Peserta", "Audience"),
         L(j, "Jenis", "Kind"), L(j, "Terdaftar", "Enrolled"), L(j, "Status", "State"));
    for (i = 0; i < rs.n; i++) {
        out(j, "<tr class=\"training\" data-id=\"");
        esc(j, CELL(&rs, i, 0));
        out(j, "\" data-code=\"");
        esc(j, CELL(&rs, i, 1));
        out(j, "\"><td><a href=\"/training?id=");
        esc(j, CELL(&rs, i, 0));
        out(j, "\">");
        esc(j, CELL(&rs, i, 1) != NULL ? CELL(&rs, i, 1) : CELL(&rs, i, 0));
        out(j, "</a></td><td>");
        esc(j, CELL(&rs, i, 2));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 3));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 4));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 5));
        out(j, " &ndash; ");
        esc(j, CELL(&rs, i, 6));
        out(j, "</td><td>");
        esc(j, tr_audience_label(j, CELL(&rs, i, 7)));
        out(j, "</td><td>");
        esc(j, tr_kind_label(j, CELL(&rs, i, 8)));
        out(j, "</td><td class=\"enrolled\">");
        esc(j, CELL(&rs, i, 10));
        outf(j, "</td><td>%s</td></tr>\n",
             strcmp(nz(CELL(&rs, i, 9)), "1") == 0 ? L(j, "ditutup", "closed")
                                                   : L(j, "terbuka", "open"));
    }
    if (rs.n == 0)
        outf(j, "<tr><td colspan=\"9\">%s</td></tr>",
             L(j, "Belum ada pelatihan.", "No training yet."));
    out(j, "</tbody></table>\n");
    admin_rows_free(&rs);
    admin_foot(j);
    return 0;
}

static int
tr_new_page(struct admin_job *j, const struct tr_form *f, int status)
{
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    j->status = status;
    admin_head(j, L(j, "Pelatihan baru", "New training"), "training-new-page");
    tr_form_render(j, f, 0);
    admin_foot(j);
    return 0;
}

int
admin_page_training_new(struct db_conn *c, struct admin_job *j)
{
    struct tr_form f;

    (void)c;
    memset(&f, 0, sizeof f);
    snprintf(f.region, sizeof f.region, "%s", j->s.user.region);
    snprintf(f.audience, sizeof f.audience, "assistant");
    snprintf(f.kind, sizeof f.kind, "tot");
    return tr_new_page(j, &f, 200);
}

/* "HH:MM" with real hours and minutes */
static int
tr_time_ok(const char *s)
{
    uint64_t h, m;

    return strlen(s) == 5 && s[2] == ':' && parse_u64(s, 2, 0, 23, &h) == 0 &&
           parse_u64(s + 3, 2, 0, 59, &m) == 0;
}

static int
tr_code_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 2 && n <= 16 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* The form's values checked (the region within the user's): NULL, or why they are refused. */
static int
tr_check(struct db_conn *c, struct admin_job *j, const struct tr_form *f, uint64_t id,
         const char **why)
{
    struct db_param pr[] = {DB_STR(f->region), DB_STR(j->s.user.region)};
    struct db_param pc[] = {DB_STR(f->code), DB_U64(id)};
    uint32_t s, e;
    uint64_t n = 0;
    int err;

    *why = NULL;
    if (!tr_code_ok(f->code))
        *why = L(j, "Kode: 2-16 huruf, angka atau tanda minus.",
                 "Code: 2-16 letters, digits or dashes.");
    else if (f->title[0] == '\0' || !parse_utf8_valid(f->title, strlen(f->title)))
        *why = L(j, "Tulis judulnya (paling panjang 100 byte).",
                 "Write the title (at most 100 bytes).");
    else if (f->place[0] == '\0' || !parse_utf8_valid(f->place, strlen(f->place)))
        *why = L(j, "Tulis tempatnya (paling panjang 100 byte).",
                 "Write the place (at most 100 bytes).");
    else if (parse_date(f->start_date, strlen(f->start_date), &s) == -1 ||
             parse_date(f->end_date, strlen(f->end_date), &e) == -1 || !tr_time_ok(f->start_time))
        *why = L(j, "Tanggal (TTTT-BB-HH) dan jam (JJ:MM) harus benar.",
                 "Dates (YYYY-MM-DD) and time (HH:MM) must be real ones.");
    else if (e < s)
        *why = L(j, "Tanggal selesai tidak boleh sebelum tanggal mulai.",
                 "The end date cannot be before the start date.");
    else if (!tr_in(f->audience, tr_audiences, 3) || !tr_in(f->kind, tr_kinds, 3))
        *why = L(j, "Pilih peserta dan jenis dari daftar.",
                 "Choose the audience and kind from the list.");
    if (*why != NULL)
        return 0;
    if ((err = db_query(c,
                        "SELECT COUNT(*) FROM regions WHERE code = ?"
                        " AND code LIKE CONCAT(?, '%')",
                        pr, 2, tr_row_u64, &n)) != 0)
        return err;
    if (n == 0) {
        *why = L(j, "Kode wilayah tidak dikenal, atau di luar wilayah Anda.",
                 "Unknown region code, or outside your region.");
        return 0;
    }
    n = 0;
    if ((err = db_query(c, "SELECT COUNT(*) FROM trainings WHERE code = ? AND id <> ?", pc, 2,
                        tr_row_u64, &n)) != 0)
        return err;
    if (n != 0)
        *why = L(j, "Kode ini sudah dipakai pelatihan lain.",
                 "This code is used by another training.");
    return 0;
}

static int
tr_form_read(struct admin_job *j, struct tr_form *f, char *nonce, size_t nlen, char *id,
             size_t idlen)
{
    char csrf[AUTH_TOKEN_HEX];
    struct parse_field pf[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},
        {"nonce", nonce, nlen, 0, 0, 0},
        {"id", id, idlen, 0, 0, 0},
        {"code", f->code, sizeof f->code, 0, 0, 0},
        {"title", f->title, sizeof f->title, 0, 0, 0},
        {"place", f->place, sizeof f->place, 0, 0, 0},
        {"region", f->region, sizeof f->region, 0, 0, 0},
        {"start_date", f->start_date, sizeof f->start_date, 0, 0, 0},
        {"start_time", f->start_time, sizeof f->start_time, 0, 0, 0},
        {"end_date", f->end_date, sizeof f->end_date, 0, 0, 0},
        {"audience", f->audience, sizeof f->audience, 0, 0, 0},
        {"kind", f->kind, sizeof f->kind, 0, 0, 0},
    };

    memset(f, 0, sizeof *f);
    return admin_form(j, pf, sizeof pf / sizeof pf[0]);
}

static void
tr_redirect(struct admin_job *j, uint64_t id, const char *anchor)
{
    char loc[80];

    snprintf(loc, sizeof loc, "/training?id=%llu%s", (unsigned long long)id, anchor);
    admin_redirect(j, loc);
}

int
admin_do_training_create(struct db_conn *c, struct admin_job *j)
{
    char nonce[AUTH_KEY_HEX + 8] = "", idbuf[24] = "", acode[8], start[20], end[20];
    const char *key, *why;
    struct tr_form f;
    uint64_t done, id = 0;
    int err;

    if (tr_form_read(j, &f, nonce, sizeof nonce, idbuf, sizeof idbuf) == -1)
        return 0;
    key = tr_key(j, nonce);
    if ((err = tr_done(c, key, &done)) != 0)
        return err;
    if (done > 1) {
        tr_redirect(j, done - 1, "");
        return 0;
    }
    if ((err = tr_check(c, j, &f, 0, &why)) != 0)
        return err;
    if (why != NULL) {
        f.error = why;
        return tr_new_page(j, &f, 422);
    }
    /* the code said in the room, HADIR <code>: 6 digits */
    snprintf(acode, sizeof acode, "%06u", 100000 + (unsigned)randombytes_uniform(900000));
    snprintf(start, sizeof start, "%s %s:00", f.start_date, f.start_time);
    snprintf(end, sizeof end, "%s 23:59:59", f.end_date);
    {
        struct db_param p[] = {DB_STR(f.title), DB_STR(start),
                               DB_STR(f.place), DB_STR(f.region),
                               DB_STR(acode),   DB_STR(f.audience),
                               DB_STR(f.kind),  DB_STR(f.code),
                               DB_STR(end),     DB_STR(j->s.user.username)};

        err = db_exec(c,
                      "INSERT INTO trainings (title, starts_at, place, region_code,"
                      " attendance_code, audience, kind, code, ends_at, created_by)"
                      " VALUES (?, CAST(? AS DATETIME) - INTERVAL 7 HOUR, ?, ?, ?, ?, ?, ?,"
                      " CAST(? AS DATETIME) - INTERVAL 7 HOUR, ?)",
                      p, 10, NULL, &id);
    }
    if (err == ER_DUP_ENTRY) {
        f.error = L(j, "Kode ini sudah dipakai pelatihan lain.",
                    "This code is used by another training.");
        return tr_new_page(j, &f, 422);
    }
    if (err != 0 || (err = auth_audit_keyed(c, key, j->s.user.username, "training.create",
                                            "training", id, f.code)) != 0)
        return err;
    tr_redirect(j, id, "");
    return 0;
}

/* -- one training */

/* the training's columns, as tr_load() reads them */
enum {
    TR_ID,
    TR_CODE,
    TR_TITLE,
    TR_PLACE,
    TR_REGION,
    TR_START_DATE,
    TR_START_TIME,
    TR_END_DATE,
    TR_AUDIENCE,
    TR_KIND,
    TR_ACODE,
    TR_CLOSED,
    TR_DAYS,
    TR_CREATED_BY
};

/* the training id within the user's region: 0 and rs filled, or a MariaDB error; rs->n == 0
 * when it does not exist or is outside the region */
static int
tr_load(struct db_conn *c, struct admin_job *j, uint64_t id, struct admin_rows *rs)
{
    struct db_param p[] = {DB_U64(id), DB_STR(j->s.user.region)};

    return admin_rows_query(
        c,
        "SELECT t.id, t.code, t.title, t.place, t.region_code,"
        " DATE_FORMAT(t.starts_at + INTERVAL 7 HOUR, '%Y-%m-%d'),"
        " DATE_FORMAT(t.starts_at + INTERVAL 7 HOUR, '%H:%i'),"
        " DATE_FORMAT(COALESCE(t.ends_at, t.starts_at) + INTERVAL 7 HOUR, '%Y-%m-%d'),"
        " t.audience, t.kind, t.attendance_code, " TR_WIB(
            "t.closed_at") ","
                           " DATEDIFF(DATE(COALESCE(t.ends_at, t.starts_at) + INTERVAL 7 HOUR),"
                           "  DATE(t.starts_at + INTERVAL 7 HOUR)) + 1, t.created_by"
                           " FROM trainings t WHERE t.id = ? AND" TR_SCOPE,
        p, 2, rs);
}

static int
tr_not_found(struct admin_job *j)
{
    return admin_message(j, 404, L(j, "Tidak ditemukan", "Not found"),
                         L(j, "Pelatihan ini tidak ada, atau di luar wilayah Anda.",
                           "This training does not exist, or is outside your region."));
}

/* the training of a form, within the region, open or closed: 1, or 0 with the 404 written; a
 * MariaDB error as *err */
static int
tr_find(struct db_conn *c, struct admin_job *j, uint64_t id, struct admin_rows *t, int *err)
{
    if ((*err = tr_load(c, j, id, t)) != 0)
        return 0;
    if (t->n == 0) {
        tr_not_found(j);
        return 0;
    }
    return 1;
}

/* A form whose key was done already (sent twice, or its job re-run after a lost COMMIT): 1 with
 * the redirect to the training written, else 0; a MariaDB error as *err. */
static int
tr_replayed(struct db_conn *c, struct admin_job *j, const char *key, uint64_t id,
            const char *anchor, int *err)
{
    uint64_t done;

    if ((*err = tr_done(c, key, &done)) != 0)
        return 0;
    if (done == 0)
        return 0;
    tr_redirect(j, id, anchor);
    return 1;
}

static void
tr_details(struct admin_job *j, struct admin_rows *t)
{
    outf(j, "<section id=\"training-details\"><dl><dt>%s</dt><dd id=\"training-code\">",
         L(j, "Kode", "Code"));
    esc(j, CELL(t, 0, TR_CODE));
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Tempat", "Place"));
    esc(j, CELL(t, 0, TR_PLACE));
    out(j, " (");
    esc(j, CELL(t, 0, TR_REGION));
    outf(j, ")</dd><dt>%s</dt><dd>", L(j, "Waktu (WIB)", "When (WIB)"));
    esc(j, CELL(t, 0, TR_START_DATE));
    out(j, " ");
    esc(j, CELL(t, 0, TR_START_TIME));
    out(j, " &ndash; ");
    esc(j, CELL(t, 0, TR_END_DATE));
    outf(j, " (%s ", L(j, "hari:", "days:"));
    esc(j, CELL(t, 0, TR_DAYS));
    outf(j, ")</dd><dt>%s</dt><dd id=\"training-audience\">", L(j, "Peserta", "Audience"));
    esc(j, tr_audience_label(j, CELL(t, 0, TR_AUDIENCE)));
    out(j, " &middot; ");
    esc(j, tr_kind_label(j, CELL(t, 0, TR_KIND)));
    outf(j, "</dd><dt>%s</dt><dd id=\"attendance-code\">",
         L(j, "Kode kehadiran", "Attendance code"));
    esc(j, CELL(t, 0, TR_ACODE));
    outf(j, " <small>(HADIR ");
    esc(j, CELL(t, 0, TR_ACODE));
    outf(j, ")</small></dd><dt>%s</dt><dd id=\"training-state\" data-closed=\"%d\">",
         L(j, "Status", "State"), CELL(t, 0, TR_CLOSED) != NULL);
    if (CELL(t, 0, TR_CLOSED) != NULL) {
        outf(j, "%s ", L(j, "ditutup", "closed"));
        esc(j, CELL(t, 0, TR_CLOSED));
    } else {
        out(j, L(j, "terbuka", "open"));
    }
    out(j, "</dd></dl></section>\n");
}

static int
tr_roster(struct db_conn *c, struct admin_job *j, struct admin_rows *t, uint64_t id)
{
    struct admin_rows rs = {0};
    struct db_param p[] = {DB_U64(id), DB_U64(id), DB_U64(id)};
    size_t i;
    int err;

    /* KPM (enrollments, attendance as reports) and assistants and lecturers (their days) */
    if ((err = admin_rows_query(
             c,
             "(SELECT 'kpm', k.id, k.name, k.pkh_number, k.region_code,"
             "  (SELECT COUNT(*) FROM attendance_reports r WHERE r.training_id = e.training_id"
             "   AND r.kpm_id = k.id AND r.attended = 1) > 0, NULL"
             " FROM enrollments e JOIN kpm k ON k.id = e.kpm_id WHERE e.training_id = ?"
             " ORDER BY k.name LIMIT 500)"
             " UNION ALL (SELECT q.participant_type, q.participant_id, COALESCE(a.name, l.name),"
             "  COALESCE(a.msisdn, l.msisdn), COALESCE(a.region_code, l.region_code),"
             "  (SELECT COUNT(*) FROM training_attendance x WHERE x.training_id = q.training_id"
             "   AND x.participant_type = q.participant_type"
             "   AND x.participant_id = q.participant_id), q.passed"
             " FROM training_participants q"
             " LEFT JOIN assistants a ON q.participant_type = 'assistant'"
             "  AND a.id = q.participant_id"
             " LEFT JOIN lecturers l ON q.participant_type = 'lecturer'"
             "  AND l.id = q.participant_id"
             " WHERE q.training_id = ? ORDER BY 1, 3 LIMIT 500)",
             p, 2, &rs)) != 0)
        return err;
    outf(j,
         "<section id=\"roster\"><h2>%s</h2><table id=\"roster-table\"><thead><tr><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Peserta dan kehadiran", "Roster and attendance"), L(j, "Jenis", "Type"),
         L(j, "Nama", "Name"), L(j, "No. PKH / telepon", "PKH no. / phone"),
         L(j, "Wilayah", "Region"), L(j, "Hadir (hari)", "Attended (days)"),
         L(j, "Kursus", "Course"));
    for (i = 0; i < rs.n; i++) {
        const char *type = nz(CELL(&rs, i, 0)), *passed = CELL(&rs, i, 6);
        int kpm = strcmp(type, "kpm") == 0;

        out(j, "<tr class=\"participant\" data-type=\"");
        esc(j, type);
        out(j, "\" data-id=\"");
        esc(j, CELL(&rs, i, 1));
        out(j, "\" data-attended=\"");
        esc(j, CELL(&rs, i, 5));
        out(j, "\" data-passed=\"");
        esc(j, passed != NULL ? passed : "");
        out(j, "\"><td>");
        esc(j, kpm ? "KPM" : tr_audience_label(j, type));
        out(j, "</td><td>");
        if (kpm) {
            out(j, "<a href=\"/kpm?id=");
            esc(j, CELL(&rs, i, 1));
            out(j, "\">");
        }
        esc(j, CELL(&rs, i, 2));
        out(j, kpm ? "</a></td><td>" : "</td><td>");
        esc(j, CELL(&rs, i, 3));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 4));
        out(j, "</td><td>");
        if (kpm) {
            esc(j, strcmp(nz(CELL(&rs, i, 5)), "0") != 0 ? L(j, "hadir", "attended") : "-");
        } else {
            esc(j, CELL(&rs, i, 5));
            out(j, " / ");
            esc(j, CELL(t, 0, TR_DAYS));
        }
        out(j, "</td><td>");
        if (!kpm) {
            esc(j, passed == NULL             ? "-"
                   : strcmp(passed, "1") == 0 ? L(j, "lulus", "passed")
                                              : L(j, "tidak lulus", "failed"));
            out(j, " <form class=\"pass\" method=\"post\" action=\"/training/pass\">");
            tr_hidden_nonce(j);
            outf(j, "<input type=\"hidden\" name=\"id\" value=\"%llu\">", (unsigned long long)id);
            out(j, "<input type=\"hidden\" name=\"type\" value=\"");
            esc(j, type);
            out(j, "\"><input type=\"hidden\" name=\"pid\" value=\"");
            esc(j, CELL(&rs, i, 1));
            outf(j,
                 "\"><button name=\"passed\" value=\"1\">%s</button>"
                 "<button name=\"passed\" value=\"0\">%s</button></form>",
                 L(j, "Lulus", "Passed"), L(j, "Tidak lulus", "Failed"));
        }
        out(j, "</td></tr>\n");
    }
    if (rs.n == 0)
        outf(j, "<tr><td colspan=\"6\">%s</td></tr>",
             L(j, "Belum ada peserta.", "Nobody enrolled yet."));
    out(j, "</tbody></table></section>\n");
    admin_rows_free(&rs);
    return 0;
}

static void
tr_enrol_form(struct admin_job *j, uint64_t id, const char *msg)
{
    outf(j, "<section id=\"enrol\"><h2>%s</h2>", L(j, "Daftarkan peserta", "Enrol participants"));
    tr_message(j, "enrol-message", msg);
    out(j, "<form id=\"enrol-form\" method=\"post\" action=\"/training/enrol\">");
    tr_hidden_nonce(j);
    outf(j,
         "<input type=\"hidden\" name=\"id\" value=\"%llu\">"
         "<label>%s <select name=\"by\">"
         "<option value=\"region\">%s</option><option value=\"assistant\">%s</option>"
         "<option value=\"kube\">%s</option><option value=\"list\">%s</option></select></label>"
         "<label>%s <input name=\"value\" maxlength=\"24\"></label>"
         "<label>%s <textarea name=\"list\" rows=\"4\"></textarea></label>"
         "<button type=\"submit\" id=\"enrol-submit\">%s</button></form></section>\n",
         (unsigned long long)id, L(j, "Cara", "By"), L(j, "wilayah", "region"),
         L(j, "pendamping (KPM-nya)", "assistant (her KPM)"), L(j, "kelompok KUBE", "KUBE group"),
         L(j, "daftar", "list"),
         L(j, "Kode wilayah / no. pendamping / no. KUBE", "Region code / assistant no. / KUBE no."),
         L(j, "Daftar: satu no. PKH atau no. telepon per baris",
           "List: one PKH number or phone number a line"),
         L(j, "Daftarkan", "Enrol"));
}

static int
tr_show(struct db_conn *c, struct admin_job *j, uint64_t id, const struct tr_form *edit,
        const char *enrol_msg, int status)
{
    struct admin_rows t = {0};
    struct tr_form f;
    int err;

    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    if (!tr_find(c, j, id, &t, &err))
        goto done;
    j->status = status;
    admin_head_id(j, nz(CELL(&t, 0, TR_TITLE)), "training-page", "training-title");
    tr_details(j, &t);
    if ((err = tr_roster(c, j, &t, id)) != 0)
        goto done;
    if (CELL(&t, 0, TR_CLOSED) == NULL) {
        tr_enrol_form(j, id, enrol_msg);
        if (edit == NULL) {
            memset(&f, 0, sizeof f);
            snprintf(f.code, sizeof f.code, "%s", nz(CELL(&t, 0, TR_CODE)));
            snprintf(f.title, sizeof f.title, "%s", nz(CELL(&t, 0, TR_TITLE)));
            snprintf(f.place, sizeof f.place, "%s", nz(CELL(&t, 0, TR_PLACE)));
            snprintf(f.region, sizeof f.region, "%s", nz(CELL(&t, 0, TR_REGION)));
            snprintf(f.start_date, sizeof f.start_date, "%s", nz(CELL(&t, 0, TR_START_DATE)));
            snprintf(f.start_time, sizeof f.start_time, "%s", nz(CELL(&t, 0, TR_START_TIME)));
            snprintf(f.end_date, sizeof f.end_date, "%s", nz(CELL(&t, 0, TR_END_DATE)));
            snprintf(f.audience, sizeof f.audience, "%s", nz(CELL(&t, 0, TR_AUDIENCE)));
            snprintf(f.kind, sizeof f.kind, "%s", nz(CELL(&t, 0, TR_KIND)));
            edit = &f;
        }
        outf(j, "<section id=\"edit\"><h2>%s</h2>", L(j, "Ubah", "Edit"));
        tr_form_render(j, edit, id);
        outf(j, "</section><section id=\"close\"><h2>%s</h2>",
             L(j, "Tutup pelatihan", "Close the training"));
        out(j, "<form id=\"close-form\" method=\"post\" action=\"/training/close\">");
        tr_hidden_nonce(j);
        outf(j,
             "<input type=\"hidden\" name=\"id\" value=\"%llu\"><p>%s</p>"
             "<button type=\"submit\" id=\"close-submit\">%s</button></form></section>\n",
             (unsigned long long)id,
             L(j, "Setelah ditutup, kehadiran tidak dicatat lagi.",
               "Once closed, no more attendance is taken."),
             L(j, "Tutup", "Close"));
    }
    admin_foot(j);
done:
    admin_rows_free(&t);
    return err;
}

int
admin_page_training(struct db_conn *c, struct admin_job *j)
{
    char idbuf[24] = "", err_msg[96];
    struct parse_field qf[] = {{"id", idbuf, sizeof idbuf, 0, 0, 1}};
    uint64_t id;

    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "id");
    if ((id = tr_id(j, idbuf)) == 0)
        return 0;
    return tr_show(c, j, id, NULL, NULL, 200);
}

/* the training of a form, within the region and open: 1, or 0 with the page (404, or the
 * training page with a 422 when it is closed) written; a MariaDB error as *err */
static int
tr_open(struct db_conn *c, struct admin_job *j, uint64_t id, struct admin_rows *t, int *err)
{
    if (!tr_find(c, j, id, t, err))
        return 0;
    if (CELL(t, 0, TR_CLOSED) != NULL) {
        admin_message(j, 422, L(j, "Pelatihan ditutup", "Training closed"),
                      L(j, "Pelatihan ini sudah ditutup dan tidak bisa diubah.",
                        "This training is closed and cannot be changed."));
        return 0;
    }
    return 1;
}

int
admin_do_training_edit(struct db_conn *c, struct admin_job *j)
{
    char nonce[AUTH_KEY_HEX + 8] = "", idbuf[24] = "", start[20], end[20];
    struct admin_rows t = {0};
    const char *key, *why;
    struct tr_form f;
    uint64_t id;
    int err = 0;

    if (tr_form_read(j, &f, nonce, sizeof nonce, idbuf, sizeof idbuf) == -1 ||
        (id = tr_id(j, idbuf)) == 0)
        return 0;
    key = tr_key(j, nonce);
    if (tr_replayed(c, j, key, id, "", &err) || err != 0)
        return err;
    if (!tr_open(c, j, id, &t, &err))
        goto done;
    if ((err = tr_check(c, j, &f, id, &why)) != 0)
        goto done;
    if (why != NULL) {
        f.error = why;
        err = tr_show(c, j, id, &f, NULL, 422);
        goto done;
    }
    snprintf(start, sizeof start, "%s %s:00", f.start_date, f.start_time);
    snprintf(end, sizeof end, "%s 23:59:59", f.end_date);
    {
        struct db_param p[] = {DB_STR(f.title),  DB_STR(start),      DB_STR(f.place),
                               DB_STR(f.region), DB_STR(f.audience), DB_STR(f.kind),
                               DB_STR(f.code),   DB_STR(end),        DB_U64(id)};

        if ((err = db_exec(c,
                           "UPDATE trainings SET title = ?,"
                           " starts_at = CAST(? AS DATETIME) - INTERVAL 7 HOUR, place = ?,"
                           " region_code = ?, audience = ?, kind = ?, code = ?,"
                           " ends_at = CAST(? AS DATETIME) - INTERVAL 7 HOUR WHERE id = ?",
                           p, 9, NULL, NULL)) != 0)
            goto done;
    }
    if ((err = auth_audit_keyed(c, key, j->s.user.username, "training.update", "training", id,
                                f.code)) != 0)
        goto done;
    tr_redirect(j, id, "");
done:
    admin_rows_free(&t);
    return err;
}

/* -- enrolment */

/* participants of a training's audience */
enum tr_who { TR_KPM, TR_ASSISTANT, TR_LECTURER };

static int
tr_row_count(void *arg, char **v, unsigned long *len, unsigned n)
{
    return tr_row_u64(arg, v, len, n);
}

/* The participants a statement selects (their ids, "FROM ... WHERE ..." with params p, within
 * the user's region by its own first param), enrolled; at most TR_ENROL_MAX. 0, or a MariaDB
 * error; *count is how many there were, *too_many when over the limit (nothing written). */
static int
tr_enrol_select(struct db_conn *c, uint64_t id, enum tr_who who, const char *user, const char *from,
                const struct db_param *p, size_t np, uint64_t *count, int *too_many)
{
    char sql[1024];
    struct db_param q[8];
    size_t i, k;
    int err;

    *count = 0;
    *too_many = 0;
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM (SELECT 1 %s LIMIT %d) x", from,
             TR_ENROL_MAX + 1);
    if ((err = db_query(c, sql, p, np, tr_row_count, count)) != 0)
        return err;
    if (*count > TR_ENROL_MAX) {
        *too_many = 1;
        return 0;
    }
    q[0] = DB_U64(id);
    q[1] = DB_STR(user);
    /* a KPM's enrolment has no enrolled_by: the audit row says who */
    k = who == TR_KPM ? 1 : 2;
    for (i = 0; i < np && i + k < sizeof q / sizeof q[0]; i++)
        q[i + k] = p[i];
    if (who == TR_KPM)
        snprintf(sql, sizeof sql,
                 "INSERT IGNORE INTO enrollments (training_id, kpm_id) SELECT ?, x.id %s", from);
    else
        snprintf(sql, sizeof sql,
                 "INSERT IGNORE INTO training_participants (training_id, participant_type,"
                 " participant_id, enrolled_by) SELECT ?, '%s', x.id, ? %s",
                 who == TR_ASSISTANT ? "assistant" : "lecturer", from);
    return db_exec(c, sql, q, i + k, NULL, NULL);
}

/* one line of a list: a KPM by PKH number or phone, an assistant or lecturer by phone, within
 * the user's region; 1 when found (enrolled now or before) */
static int
tr_enrol_line(struct db_conn *c, struct admin_job *j, uint64_t id, enum tr_who audience,
              const char *line, int *found)
{
    char msisdn[PARSE_MSISDN_SIZE];
    const char *reg = j->s.user.region;
    uint64_t n = 0;
    int phone = parse_msisdn(line, strlen(line), msisdn) == 0, too_many, err;

    *found = 0;
    if (audience == TR_KPM) {
        struct db_param p[] = {DB_STR(reg), DB_STR(phone ? msisdn : ""), DB_STR(line)};

        err = tr_enrol_select(c, id, TR_KPM, j->s.user.username,
                              "FROM kpm x WHERE x.region_code LIKE CONCAT(?, '%')"
                              " AND (x.msisdn = ? OR x.pkh_number = ?)",
                              p, 3, &n, &too_many);
    } else {
        struct db_param p[] = {DB_STR(reg), DB_STR(phone ? msisdn : "-")};

        if ((err = tr_enrol_select(c, id, TR_ASSISTANT, j->s.user.username,
                                   "FROM assistants x WHERE x.region_code LIKE CONCAT(?, '%')"
                                   " AND x.msisdn = ?",
                                   p, 2, &n, &too_many)) != 0 ||
            n > 0)
            goto out;
        err = tr_enrol_select(c, id, TR_LECTURER, j->s.user.username,
                              "FROM lecturers x WHERE x.region_code LIKE CONCAT(?, '%')"
                              " AND x.msisdn = ?",
                              p, 2, &n, &too_many);
    }
out:
    *found = n > 0;
    return err;
}

int
admin_do_training_enrol(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], nonce[AUTH_KEY_HEX + 8] = "", idbuf[24] = "", by[16] = "",
                                                    value[32] = "", list[32768] = "", detail[64],
                                                    msg[1024];
    struct parse_field pf[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},    {"nonce", nonce, sizeof nonce, 0, 0, 0},
        {"id", idbuf, sizeof idbuf, 0, 0, 1},    {"by", by, sizeof by, 0, 0, 0},
        {"value", value, sizeof value, 0, 0, 0}, {"list", list, sizeof list, 0, 0, 0},
    };
    const char *reg = j->s.user.region, *key, *why = NULL, *audience;
    struct admin_rows t = {0};
    enum tr_who who;
    uint64_t id, n = 0, num = 0, missing = 0, lines = 0;
    int too_many = 0, err = 0;
    size_t m = 0;

    if (admin_form(j, pf, sizeof pf / sizeof pf[0]) == -1 || (id = tr_id(j, idbuf)) == 0)
        return 0;
    key = tr_key(j, nonce);
    if (tr_replayed(c, j, key, id, "#roster", &err) || err != 0)
        return err;
    if (!tr_open(c, j, id, &t, &err))
        goto done;
    audience = nz(CELL(&t, 0, TR_AUDIENCE));
    who = strcmp(audience, "kpm") == 0        ? TR_KPM
          : strcmp(audience, "lecturer") == 0 ? TR_LECTURER
                                              : TR_ASSISTANT;
    msg[0] = '\0';
    if (strcmp(by, "region") == 0) {
        struct db_param p[] = {DB_STR(reg), DB_STR(value)};

        if (value[0] == '\0' || strspn(value, "0123456789.") != strlen(value))
            why = L(j, "Tulis kode wilayah.", "Write a region code.");
        else
            err = tr_enrol_select(c, id, who, j->s.user.username,
                                  who == TR_KPM ? "FROM kpm x WHERE x.region_code LIKE"
                                                  " CONCAT(?, '%') AND x.region_code LIKE"
                                                  " CONCAT(?, '%')"
                                  : who == TR_ASSISTANT
                                      ? "FROM assistants x WHERE x.region_code LIKE"
                                        " CONCAT(?, '%') AND x.region_code LIKE CONCAT(?, '%')"
                                      : "FROM lecturers x WHERE x.region_code LIKE"
                                        " CONCAT(?, '%') AND x.region_code LIKE CONCAT(?, '%')",
                                  p, 2, &n, &too_many);
    } else if (strcmp(by, "assistant") == 0 || strcmp(by, "kube") == 0) {
        int kube = by[0] == 'k';

        if (parse_u64(value, strlen(value), 1, UINT32_MAX, &num) == -1)
            why = L(j, "Tulis nomor pendamping atau KUBE.",
                    "Write the assistant's or KUBE's number.");
        else if (who == TR_LECTURER || (who == TR_ASSISTANT && kube))
            why = L(j, "Cara ini tidak cocok untuk peserta pelatihan ini.",
                    "This way does not fit the audience of this training.");
        else {
            struct db_param p[] = {DB_STR(reg), DB_U64(num)};

            err = tr_enrol_select(c, id, who, j->s.user.username,
                                  who == TR_ASSISTANT ? "FROM assistants x WHERE x.region_code"
                                                        " LIKE CONCAT(?, '%') AND x.id = ?"
                                  : kube ? "FROM kpm x WHERE x.region_code LIKE CONCAT(?, '%')"
                                           " AND x.kube_id = ?"
                                         : "FROM kpm x WHERE x.region_code LIKE CONCAT(?, '%')"
                                           " AND x.assistant_id = ?",
                                  p, 2, &n, &too_many);
            if (err == 0 && n == 0)
                why =
                    L(j, "Tidak ada yang cocok di wilayah Anda.", "Nobody matches in your region.");
        }
    } else if (strcmp(by, "list") == 0) {
        char *line = list, *next;

        size_t nl = 0, k;

        for (k = 0; list[k] != '\0'; k++)
            nl += list[k] == '\n' || list[k] == ',' || list[k] == ';';
        if (!parse_utf8_valid(list, strlen(list)))
            why = L(j, "Daftar bukan teks yang benar.", "The list is not valid text.");
        else if (nl >= TR_LIST_MAX)
            why = L(j, "Daftar paling banyak 1000 baris.", "A list has at most 1000 lines.");
        for (; why == NULL && err == 0 && line != NULL && *line != '\0'; line = next) {
            size_t len = strcspn(line, "\r\n,;");
            int found;

            next = line[len] != '\0' ? line + len + 1 : NULL;
            line[len] = '\0';
            while (*line == ' ' || *line == '\t')
                line++;
            len = strlen(line);
            while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
                line[--len] = '\0';
            if (len == 0)
                continue;
            lines++;
            if ((err = tr_enrol_line(c, j, id, who, line, &found)) != 0)
                break;
            n += (uint64_t)found;
            if (!found) {
                missing++;
                if (m + strlen(line) + 3 < sizeof msg - 64)
                    m += (size_t)snprintf(msg + m, sizeof msg - m, "%s%s", m > 0 ? ", " : "", line);
            }
        }
        if (why == NULL && err == 0 && lines == 0)
            why = L(j, "Tulis satu nomor per baris.", "Write one number a line.");
    } else {
        why = L(j, "Pilih cara mendaftarkan.", "Choose how to enrol.");
    }
    if (err == 0 && too_many)
        why = L(j, "Terlalu banyak peserta (lebih dari 5000): persempit wilayahnya.",
                "Too many participants (over 5000): narrow the region.");
    if (err != 0)
        goto done;
    if (why != NULL) {
        /* refused before anything was written */
        err = tr_show(c, j, id, NULL, why, 422);
        goto done;
    }
    snprintf(detail, sizeof detail, "by=%s n=%llu missing=%llu", by, (unsigned long long)n,
             (unsigned long long)missing);
    if ((err = auth_audit_keyed(c, key, j->s.user.username, "training.enrol", "training", id,
                                detail)) != 0)
        goto done;
    if (missing > 0) {
        char text[1200];

        snprintf(text, sizeof text, "%s (%llu): %s",
                 L(j, "Tidak ditemukan di wilayah Anda", "Not found in your region"),
                 (unsigned long long)missing, msg);
        err = tr_show(c, j, id, NULL, text, 200);
        goto done;
    }
    tr_redirect(j, id, "#roster");
done:
    admin_rows_free(&t);
    return err;
}

int
admin_do_training_pass(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], nonce[AUTH_KEY_HEX + 8] = "", idbuf[24] = "", type[16] = "",
                                                    pid[24] = "", passed[4] = "", detail[64];
    struct parse_field pf[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0}, {"nonce", nonce, sizeof nonce, 0, 0, 0},
        {"id", idbuf, sizeof idbuf, 0, 0, 1}, {"type", type, sizeof type, 0, 0, 1},
        {"pid", pid, sizeof pid, 0, 0, 1},    {"passed", passed, sizeof passed, 0, 0, 1},
    };
    struct admin_rows t = {0};
    const char *key;
    uint64_t id, who, affected = 0;
    int err = 0;

    if (admin_form(j, pf, sizeof pf / sizeof pf[0]) == -1 || (id = tr_id(j, idbuf)) == 0)
        return 0;
    if ((strcmp(type, "assistant") != 0 && strcmp(type, "lecturer") != 0) ||
        parse_u64(pid, strlen(pid), 1, UINT32_MAX, &who) == -1 ||
        (strcmp(passed, "1") != 0 && strcmp(passed, "0") != 0))
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "type, pid, passed");
    key = tr_key(j, nonce);
    if (tr_replayed(c, j, key, id, "#roster", &err) || err != 0)
        return err;
    if (!tr_find(c, j, id, &t, &err))
        goto done;
    {
        struct db_param p[] = {DB_U64(passed[0] == '1'), DB_U64(id), DB_STR(type), DB_U64(who)};

        if ((err = db_exec(c,
                           "UPDATE training_participants SET passed = ?, passed_at = NOW(3)"
                           " WHERE training_id = ? AND participant_type = ?"
                           " AND participant_id = ?",
                           p, 4, &affected, NULL)) != 0)
            goto done;
    }
    snprintf(detail, sizeof detail, "%s:%llu passed=%s", type, (unsigned long long)who, passed);
    if ((err = auth_audit_keyed(c, key, j->s.user.username, "training.pass", "training", id,
                                detail)) != 0)
        goto done;
    tr_redirect(j, id, "#roster");
done:
    admin_rows_free(&t);
    return err;
}

int
admin_do_training_close(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], nonce[AUTH_KEY_HEX + 8] = "", idbuf[24] = "";
    struct parse_field pf[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},
        {"nonce", nonce, sizeof nonce, 0, 0, 0},
        {"id", idbuf, sizeof idbuf, 0, 0, 1},
    };
    struct admin_rows t = {0};
    const char *key;
    uint64_t id;
    int err = 0;

    if (admin_form(j, pf, sizeof pf / sizeof pf[0]) == -1 || (id = tr_id(j, idbuf)) == 0)
        return 0;
    key = tr_key(j, nonce);
    if (tr_replayed(c, j, key, id, "", &err) || err != 0)
        return err;
    if (!tr_find(c, j, id, &t, &err))
        goto done;
    if (CELL(&t, 0, TR_CLOSED) == NULL) {
        struct db_param p = DB_U64(id);

        /* the row lock waits for an attendance being written (training.c reads FOR UPDATE) */
        if ((err = db_exec(c, "UPDATE trainings SET closed_at = NOW(3) WHERE id = ?", &p, 1, NULL,
                           NULL)) != 0 ||
            (err = auth_audit_keyed(c, key, j->s.user.username, "training.close", "training", id,
                                    NULL)) != 0)
            goto done;
    }
    tr_redirect(j, id, "");
done:
    admin_rows_free(&t);
    return err;
}
