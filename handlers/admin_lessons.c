/*
 * Lessons (GET /lessons): how far the KPM of the user's region got in a course, by region, by
 * assistant and by graduation track, with the review queue's region/assistant/track filters;
 * a KPM's lesson history on her page; and the one list statement of progress rows that the
 * CSV export (/export/lessons.csv) and GET /api/v1/lessons/progress share.
 *
 * The four figures of a group, per KPM enrolled in the course (lesson_enrolments):
 *   enrolled   she has an enrolment row;
 *   started    she has at least one lesson_progress row of the course;
 *   passed     at least one of her modules has passed_at;
 *   completed  she passed every module: as many passed modules as the course has in
 *              config/lessons.conf (gateway/lesson.h); for a course the file no longer has,
 *              as many as the distinct modules of its progress rows (read from the index on
 *              (course, module, passed_at)).
 * One statement reads the enrolments in scope once (index on course, then kpm by its key),
 * grouped by (region, assistant, track); the three tables are summed from its rows here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "admin_int.h"
#include "config.h"
#include "db.h"
#include "lesson.h"
#include "parse.h"
#include "review.h"

#define ADMIN_LESSONS_ASSISTANTS 200 /* assistants shown, most enrolled first */

/* -- the list of progress rows (export and API) */

const char *const admin_lesson_columns[] = {
    "id",        "kpm_id",     "region_code", "assistant_id", "track",    "course",
    "module",    "started_at", "started_via", "screens_seen", "attempts", "score",
    "questions", "passed_at",  "passed_via",  "updated_at",   NULL};

#define ADMIN_LESSON_TIME(col) "DATE_FORMAT(" col ", '%Y-%m-%dT%H:%i:%sZ')"

int
admin_lessons_list(struct sqlb *b, const struct admin_lesson_query *q, uint64_t before,
                   unsigned limit)
{
    memset(b, 0, sizeof *b);
    sqlb_add(b, "SELECT p.id, p.kpm_id, k.region_code, k.assistant_id, k.graduation, p.course,"
                " p.module, " ADMIN_LESSON_TIME(
                    "p.started_at") ", p.started_via,"
                                    " p.screens_seen, p.attempts, p.score, p.questions,"
                                    " " ADMIN_LESSON_TIME(
                                        "p.passed_at") ", p.passed_via,"
                                                       " " ADMIN_LESSON_TIME(
                                                           "p.updated_at") " FROM lesson_progress p"
                                                                           " JOIN kpm k ON k.id = "
                                                                           "p.kpm_id WHERE");
    sqlb_param(b, REVIEW_SCOPE, DB_STR(q->scope));
    if (q->f.region[0] != '\0')
        sqlb_param(b, " AND" REVIEW_SCOPE, DB_STR(q->f.region));
    if (q->f.assistant != 0)
        sqlb_param(b, " AND k.assistant_id = ?", DB_U64(q->f.assistant));
    if (q->f.track != REVIEW_TRACK_ANY)
        sqlb_param(b, " AND k.graduation = ?", DB_STR(review_track_names[q->f.track]));
    if (q->kpm != 0)
        sqlb_param(b, " AND p.kpm_id = ?", DB_U64(q->kpm));
    if (q->course[0] != '\0')
        sqlb_param(b, " AND p.course = ?", DB_STR(q->course));
    if (q->module[0] != '\0')
        sqlb_param(b, " AND p.module = ?", DB_STR(q->module));
    if (before != 0)
        sqlb_param(b, " AND p.id < ?", DB_U64(before));
    sqlb_param(b, " ORDER BY p.id DESC LIMIT ?", DB_U64(limit));
    return b->overflow ? -1 : 0;
}

/* a course or module id as lessons.conf writes them: a letter or digit, then [a-z0-9_-] */
static int
admin_lesson_id_valid(const char *s)
{
    size_t i, n = strlen(s);

    if (n > ADMIN_LESSON_ID_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

int
admin_lesson_query_parse(const char *query, const char *scope, struct admin_lesson_query *q,
                         char *err, size_t errlen)
{
    char kpm[24] = "";
    struct parse_field f[] = {
        {"course", q->course, sizeof q->course, 0, 0, 0},
        {"module", q->module, sizeof q->module, 0, 0, 0},
        {"kpm", kpm, sizeof kpm, 0, 0, 0},
    };

    memset(q, 0, sizeof *q);
    q->scope = scope;
    if (review_filter_parse(query, strlen(query), &q->f, err, errlen) == -1 ||
        parse_form(query, strlen(query), f, 3, err, errlen) == -1)
        return -1;
    if (!admin_lesson_id_valid(q->course) || !admin_lesson_id_valid(q->module)) {
        parse_seterr(err, errlen, "course and module must be ids of the lessons file");
        return -1;
    }
    if (kpm[0] != '\0' && parse_u64(kpm, strlen(kpm), 1, UINT64_MAX, &q->kpm) == -1) {
        parse_seterr(err, errlen, "kpm must be a KPM id");
        return -1;
    }
    return 0;
}

/* -- the rates page */

enum { RATE_ENROLLED, RATE_STARTED, RATE_PASSED, RATE_COMPLETED, RATE_N };

struct admin_lesson_group {
    char key[24];   /* region code prefix, assistant id or track name */
    char name[101]; /* what the table shows */
    uint64_t n[RATE_N];
};

struct admin_lesson_groups {
    struct admin_lesson_group *g;
    size_t n, cap;
};

struct admin_lesson_rates {
    struct admin_lesson_groups region, assistant, track;
    int oom;
};

/* the group of key in gs, added when new; NULL without memory */
static struct admin_lesson_group *
admin_lesson_group(struct admin_lesson_groups *gs, const char *key, const char *name, int last)
{
    struct admin_lesson_group *g;
    size_t i;

    /* the assistants come in order (the statement's): only the last can be hers */
    for (i = last && gs->n > 0 ? gs->n - 1 : 0; i < gs->n; i++)
        if (strcmp(gs->g[i].key, key) == 0)
            return &gs->g[i];
    if (gs->n == gs->cap) {
        size_t cap = gs->cap ? gs->cap * 2 : 16;

        if ((g = realloc(gs->g, cap * sizeof *g)) == NULL)
            return NULL;
        gs->g = g;
        gs->cap = cap;
    }
    g = &gs->g[gs->n++];
    memset(g, 0, sizeof *g);
    snprintf(g->key, sizeof g->key, "%s", key);
    snprintf(g->name, sizeof g->name, "%s", name);
    return g;
}

static void
admin_lesson_add(struct admin_lesson_group *g, char **v)
{
    int i;

    for (i = 0; i < RATE_N; i++)
        g->n[i] += (uint64_t)num(v[5 + i]);
}

/* a row: region prefix, region name, assistant id, assistant name, track, the four counts */
static int
admin_lesson_rate_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct admin_lesson_rates *r = arg;
    struct admin_lesson_group *g[3];

    (void)lens;
    if (n != 5 + RATE_N)
        return 1;
    g[0] = admin_lesson_group(&r->region, nz(v[0]), v[1] != NULL ? v[1] : nz(v[0]), 0);
    g[1] =
        admin_lesson_group(&r->assistant, v[2] != NULL ? v[2] : "-", v[3] != NULL ? v[3] : "-", 1);
    g[2] = admin_lesson_group(&r->track, nz(v[4]), nz(v[4]), 0);
    if (g[0] == NULL || g[1] == NULL || g[2] == NULL) {
        r->oom = 1;
        return 1;
    }
    admin_lesson_add(g[0], v);
    admin_lesson_add(g[1], v);
    admin_lesson_add(g[2], v);
    return 0;
}

static int
admin_lesson_by_enrolled(const void *a, const void *b)
{
    const struct admin_lesson_group *x = a, *y = b;

    if (x->n[RATE_ENROLLED] != y->n[RATE_ENROLLED])
        return x->n[RATE_ENROLLED] > y->n[RATE_ENROLLED] ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void
admin_lesson_groups_free(struct admin_lesson_groups *gs)
{
    free(gs->g);
    memset(gs, 0, sizeof *gs);
}

/* one cell: the count and its share of the enrolled */
static void
admin_lesson_cell(struct admin_job *j, const char *what, uint64_t v, uint64_t of)
{
    outf(j, "<td class=\"%s\" data-n=\"%llu\">%llu", what, (unsigned long long)v,
         (unsigned long long)v);
    if (of > 0)
        outf(j, " <span class=\"note\">(%.1f%%)</span>", 100.0 * (double)v / (double)of);
    out(j, "</td>");
}

static void
admin_lesson_table(struct admin_job *j, const char *id, const char *title, const char *col,
                   struct admin_lesson_groups *gs, size_t max, int tracks)
{
    static const char *const cls[RATE_N] = {"enrolled", "started", "passed", "completed"};
    size_t i;
    int k;

    outf(j,
         "<section><h2>%s</h2><table id=\"%s\"><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
         "<th>%s</th><th>%s</th></tr></thead><tbody>",
         title, id, col, L(j, "Terdaftar", "Enrolled"), L(j, "Mulai", "Started"),
         L(j, "Lulus minimal satu modul", "Passed at least one module"),
         L(j, "Tamat (lulus semua modul)", "Completed (passed every module)"));
    for (i = 0; i < gs->n && i < max; i++) {
        struct admin_lesson_group *g = &gs->g[i];

        out(j, "<tr class=\"group\" data-key=\"");
        esc(j, g->key);
        out(j, "\"><td>");
        esc(j, tracks ? admin_track_label(j, g->name) : g->name);
        out(j, "</td>");
        for (k = 0; k < RATE_N; k++)
            admin_lesson_cell(j, cls[k], g->n[k], k > 0 ? g->n[RATE_ENROLLED] : 0);
        out(j, "</tr>");
    }
    if (gs->n == 0)
        outf(j, "<tr><td colspan=\"5\">%s</td></tr>",
             L(j, "Belum ada KPM terdaftar.", "No KPM enrolled yet."));
    if (gs->n > max)
        outf(j, "<tr><td colspan=\"5\">%s</td></tr>",
             L(j, "Saring menurut wilayah untuk melihat pendamping lainnya.",
               "Filter by region to see the other assistants."));
    out(j, "</tbody></table></section>\n");
}

struct admin_lesson_courses {
    char id[8][ADMIN_LESSON_ID_MAX + 1];
    size_t n;
};

static void
admin_lesson_course_add(struct admin_lesson_courses *cs, const char *id)
{
    size_t i;

    for (i = 0; i < cs->n; i++)
        if (strcmp(cs->id[i], id) == 0)
            return;
    if (cs->n < sizeof cs->id / sizeof cs->id[0])
        snprintf(cs->id[cs->n++], sizeof cs->id[0], "%s", id);
}

static int
admin_lesson_course_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    (void)lens;
    if (n >= 1 && v[0] != NULL)
        admin_lesson_course_add(arg, v[0]);
    return 0;
}

static int
admin_lesson_count_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    (void)lens;
    if (n >= 1 && v[0] != NULL)
        (void)parse_u64(v[0], strlen(v[0]), 0, UINT64_MAX, arg);
    return 1;
}

/* the filter form: course, region, assistant, track (GET, so the page's address keeps it) */
static void
admin_lesson_form(struct admin_job *j, const struct admin_lesson_query *q,
                  const struct admin_lesson_courses *cs)
{
    size_t i;
    int t;

    outf(
        j,
        "<form id=\"filter\" method=\"get\" action=\"/lessons\"><label>%s <select name=\"course\">",
        L(j, "Kursus", "Course"));
    for (i = 0; i < cs->n; i++) {
        out(j, "<option value=\"");
        esc(j, cs->id[i]);
        out(j, strcmp(cs->id[i], q->course) == 0 ? "\" selected>" : "\">");
        esc(j, cs->id[i]);
        out(j, "</option>");
    }
    outf(j, "</select></label><label>%s <input name=\"region\" maxlength=\"13\" value=\"",
         L(j, "Kode wilayah", "Region code"));
    esc(j, q->f.region);
    outf(j, "\"></label><label>%s <input name=\"assistant\" maxlength=\"10\" value=\"",
         L(j, "ID pendamping", "Assistant id"));
    if (q->f.assistant != 0)
        outf(j, "%llu", (unsigned long long)q->f.assistant);
    outf(j, "\"></label><label>%s <select name=\"track\"><option value=\"\">%s</option>",
         L(j, "Jalur graduasi", "Graduation track"), L(j, "semua", "all"));
    for (t = REVIEW_TRACK_NONE; t <= REVIEW_TRACK_WELFARE; t++) {
        outf(j, "<option value=\"%s\"%s>", review_track_names[t],
             q->f.track == t ? " selected" : "");
        esc(j, admin_track_label(j, review_track_names[t]));
        out(j, "</option>");
    }
    outf(j, "</select></label><button type=\"submit\">%s</button></form>",
         L(j, "Terapkan", "Apply"));
}

/* the grouping: one level below the narrower of the user's region and the filter's */
static unsigned
admin_lesson_level(const char *scope, const char *region)
{
    size_t n = strlen(region) > strlen(scope) ? strlen(region) : strlen(scope);

    return n < 2 ? 2 : n < 4 ? 4 : n < 6 ? 6 : 13;
}

/* in the order of the parameters of admin_page_lessons()'s statement */
#define ADMIN_LESSON_RATES                                                                         \
    "SELECT x.rg, (SELECT r.name FROM regions r WHERE r.code = x.rg), x.assistant_id,"             \
    " (SELECT s.name FROM assistants s WHERE s.id = x.assistant_id), x.graduation,"                \
    " COUNT(*), SUM(x.started > 0), SUM(x.passed > 0), SUM(? > 0 AND x.passed >= ?)"               \
    " FROM (SELECT MAX(LEFT(k.region_code, ?)) rg, MAX(k.assistant_id) assistant_id,"              \
    "  MAX(k.graduation) graduation, COUNT(p.module) started, COUNT(p.passed_at) passed"           \
    "  FROM lesson_enrolments e JOIN kpm k ON k.id = e.kpm_id"                                     \
    "  LEFT JOIN lesson_progress p FORCE INDEX (PRIMARY)"                                          \
    "  ON p.kpm_id = e.kpm_id AND p.course = e.course"                                             \
    "  WHERE e.course = ? AND" REVIEW_SCOPE " AND" REVIEW_SCOPE                                    \
    "  AND (? = 0 OR k.assistant_id = ?) AND (? = '' OR k.graduation = ?)"                         \
    "  GROUP BY e.kpm_id) x GROUP BY x.assistant_id, x.rg, x.graduation"                           \
    " ORDER BY x.assistant_id"

int
admin_page_lessons(struct db_conn *c, struct admin_job *j)
{
    struct admin_lesson_query q;
    struct admin_lesson_courses cs = {0};
    struct admin_lesson_rates r = {0};
    const struct lesson_set *set = j->cfg->lessons;
    const struct lesson_course *lc;
    const char *track;
    char err_msg[128];
    uint64_t modules = 0;
    size_t i;
    int err;

    if (admin_lesson_query_parse(j->query, j->s.user.region, &q, err_msg, sizeof err_msg) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), err_msg);
    /* the courses: the file's, then any other with enrolments (a loose scan of the index on
     * course, enrolled_at: one entry per course) */
    for (i = 0; set != NULL && i < set->ncourses; i++)
        admin_lesson_course_add(&cs, set->courses[i].id);
    if ((err = db_query(c, "SELECT course FROM lesson_enrolments GROUP BY course LIMIT 8", NULL, 0,
                        admin_lesson_course_row, &cs)) != 0)
        return err;
    if (q.course[0] == '\0' && cs.n > 0)
        snprintf(q.course, sizeof q.course, "%s", cs.id[0]);
    if ((lc = set != NULL ? lesson_course(set, q.course) : NULL) != NULL)
        modules = lc->nmodules;
    else if ((err = db_query(
                  c,
                  "SELECT COUNT(*) FROM (SELECT module FROM lesson_progress WHERE course = ?"
                  " GROUP BY module) m",
                  (struct db_param[]){DB_STR(q.course)}, 1, admin_lesson_count_row, &modules)) != 0)
        return err;
    track = review_track_names[q.f.track];
    if ((err = db_query(c, ADMIN_LESSON_RATES,
                        (struct db_param[]){DB_U64(modules), DB_U64(modules),
                                            DB_U64(admin_lesson_level(q.scope, q.f.region)),
                                            DB_STR(q.course), DB_STR(q.scope), DB_STR(q.f.region),
                                            DB_U64(q.f.assistant), DB_U64(q.f.assistant),
                                            DB_STR(track), DB_STR(track)},
                        10, admin_lesson_rate_row, &r)) != 0)
        goto done;
    if (r.oom) {
        err = DB_EUNAVAILABLE;
        goto done;
    }
    /* an empty group has no array: qsort must not be handed NULL */
    if (r.region.n > 1)
        qsort(r.region.g, r.region.n, sizeof *r.region.g, admin_lesson_by_enrolled);
    if (r.assistant.n > 1)
        qsort(r.assistant.g, r.assistant.n, sizeof *r.assistant.g, admin_lesson_by_enrolled);
    admin_head(j, L(j, "Pelajaran", "Lessons"), "lessons-page");
    admin_lesson_form(j, &q, &cs);
    out(j, "<p id=\"lessons-course\" data-course=\"");
    esc(j, q.course);
    outf(j, "\" data-modules=\"%llu\">", (unsigned long long)modules);
    outf(j, "%s <span id=\"lessons-modules\">%llu</span> %s %s",
         L(j, "Modul kursus:", "Modules of the course:"), (unsigned long long)modules,
         lc != NULL ? L(j, "(berkas pelajaran).", "(the lessons file).")
                    : L(j, "(modul yang berbeda dalam catatan kemajuan).",
                        "(the distinct modules of its progress rows)."),
         L(j, "Tamat: lulus sebanyak itu modul.", "Completed: passed that many modules."));
    /* the export of the rows counted here: this course and filter */
    out(j, " <a id=\"lessons-export\" href=\"/export/lessons.csv?course=");
    esc(j, q.course);
    if (q.f.region[0] != '\0') {
        out(j, "&amp;region=");
        esc(j, q.f.region);
    }
    if (q.f.assistant != 0)
        outf(j, "&amp;assistant=%llu", (unsigned long long)q.f.assistant);
    if (q.f.track != REVIEW_TRACK_ANY)
        outf(j, "&amp;track=%s", track);
    outf(j, "\">%s</a></p>", L(j, "Unduh CSV", "Download CSV"));
    admin_lesson_table(j, "lessons-by-region", L(j, "Menurut wilayah", "By region"),
                       L(j, "Wilayah", "Region"), &r.region, SIZE_MAX, 0);
    admin_lesson_table(j, "lessons-by-assistant", L(j, "Menurut pendamping", "By assistant"),
                       L(j, "Pendamping", "Assistant"), &r.assistant, ADMIN_LESSONS_ASSISTANTS, 0);
    admin_lesson_table(j, "lessons-by-track", L(j, "Menurut jalur graduasi", "By graduation track"),
                       L(j, "Jalur", "Track"), &r.track, SIZE_MAX, 1);
    admin_foot(j);
done:
    admin_lesson_groups_free(&r.region);
    admin_lesson_groups_free(&r.assistant);
    admin_lesson_groups_free(&r.track);
    return err;
}

/* -- a KPM's lesson history, on her page */

int
admin_lessons_history(struct db_conn *c, struct admin_job *j, uint64_t id)
{
    struct admin_rows rs = {0};
    struct db_param p = DB_U64(id);
    size_t i;
    int err;

    if ((err = admin_rows_query(
             c,
             "SELECT p.course, p.module, " REVIEW_WIB(
                 "p.started_at") ", p.started_via,"
                                 " p.screens_seen, p.attempts, p.score, p.questions, " REVIEW_WIB(
                                     "p.passed_at") ","
                                                    " p.passed_via FROM lesson_progress p WHERE "
                                                    "p.kpm_id = ?"
                                                    " ORDER BY p.course, p.started_at, p.module "
                                                    "LIMIT 200",
             &p, 1, &rs)) != 0)
        return err;
    outf(j,
         "<section id=\"lessons\"><h2>%s</h2><table id=\"kpm-lessons\"><thead><tr><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Pelajaran", "Lessons"), L(j, "Modul", "Module"),
         L(j, "Mulai (WIB)", "Started (WIB)"), L(j, "Layar dibaca", "Screens seen"),
         L(j, "Percobaan kuis", "Quiz attempts"), L(j, "Skor terbaik", "Best score"),
         L(j, "Lulus (WIB)", "Passed (WIB)"), L(j, "Lulus lewat", "Passed via"));
    for (i = 0; i < rs.n; i++) {
        out(j, "<tr class=\"lesson\" data-module=\"");
        esc(j, CELL(&rs, i, 1));
        out(j, "\" data-passed=\"");
        out(j, CELL(&rs, i, 8) != NULL ? "1" : "0");
        out(j, "\"><td>");
        esc(j, CELL(&rs, i, 0));
        out(j, " / ");
        esc(j, CELL(&rs, i, 1));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 2));
        out(j, " (");
        esc(j, admin_via_label(j, CELL(&rs, i, 3)));
        out(j, ")</td><td class=\"screens\">");
        esc(j, CELL(&rs, i, 4));
        out(j, "</td><td class=\"attempts\">");
        esc(j, CELL(&rs, i, 5));
        out(j, "</td><td class=\"score\">");
        if (CELL(&rs, i, 6) != NULL) {
            esc(j, CELL(&rs, i, 6));
            out(j, "/");
            esc(j, CELL(&rs, i, 7));
        } else {
            out(j, "-");
        }
        out(j, "</td><td class=\"passed\">");
        esc(j, CELL(&rs, i, 8) != NULL ? CELL(&rs, i, 8) : "-");
        out(j, "</td><td class=\"via\">");
        esc(j, admin_via_label(j, CELL(&rs, i, 9)));
        out(j, "</td></tr>");
    }
    if (rs.n == 0)
        outf(j, "<tr><td colspan=\"7\">%s</td></tr>",
             L(j, "Belum mulai belajar.", "Has not started a lesson."));
    out(j, "</tbody></table></section>\n");
    admin_rows_free(&rs);
    return 0;
}
