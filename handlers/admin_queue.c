/*
 * The review queue (GET /queue): the filter form, a page of reports of every type newest first,
 * and the links to the CSV exports. POST /queue keeps a new filter in the session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "parse.h"
#include "review.h"

#define ADMIN_QUEUE_DEPTH 10000 /* rows: the deepest queue page shown */

static void
admin_queue_option(struct admin_job *j, const char *value, const char *label, int selected)
{
    out(j, "<option value=\"");
    esc(j, value);
    out(j, selected ? "\" selected>" : "\">");
    esc(j, label);
    out(j, "</option>");
}

static int
admin_queue_filter_form(struct db_conn *c, struct admin_job *j)
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
    admin_queue_option(j, "", L(j, "semua", "all"), f->region[0] == '\0');
    if ((err =
             admin_rows_query(c,
                              "SELECT code, name, level FROM regions WHERE code LIKE CONCAT(?, '%')"
                              " AND level <> 'desa' ORDER BY code",
                              &p, 1, &rs)) != 0)
        return err;
    for (i = 0; i < rs.n; i++)
        admin_queue_option(j, nz(CELL(&rs, i, 0)), nz(CELL(&rs, i, 1)),
                           strcmp(nz(CELL(&rs, i, 0)), f->region) == 0);
    admin_rows_free(&rs);
    outf(j, "</select></label><label>%s <select name=\"assistant\">",
         L(j, "Pendamping", "Assistant"));
    admin_queue_option(j, "", L(j, "semua", "all"), f->assistant == 0);
    if ((err = admin_rows_query(
             c,
             "SELECT id, name FROM assistants WHERE region_code LIKE CONCAT(?, '%')"
             " ORDER BY name",
             &p, 1, &rs)) != 0)
        return err;
    for (i = 0; i < rs.n; i++) {
        snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)f->assistant);
        admin_queue_option(j, nz(CELL(&rs, i, 0)), nz(CELL(&rs, i, 1)),
                           strcmp(nz(CELL(&rs, i, 0)), idbuf) == 0);
    }
    admin_rows_free(&rs);
    outf(j, "</select></label><label>%s <select name=\"type\">", L(j, "Jenis", "Type"));
    admin_queue_option(j, "", L(j, "semua", "all"), f->type == REVIEW_ANY);
    admin_queue_option(j, "business", L(j, "usaha", "business"), f->type == REVIEW_BUSINESS);
    admin_queue_option(j, "attendance", L(j, "pelatihan", "training"),
                       f->type == REVIEW_ATTENDANCE);
    admin_queue_option(j, "help", L(j, "bantuan", "help"), f->type == REVIEW_HELP);
    outf(j, "</select></label><label>%s <select name=\"bstatus\">",
         L(j, "Status usaha", "Business status"));
    admin_queue_option(j, "", L(j, "semua", "all"), f->bstatus == 0);
    for (i = 1; i <= ADMIN_BUSINESS_STATUSES; i++) {
        snprintf(idbuf, sizeof idbuf, "%zu", i);
        admin_queue_option(j, idbuf, admin_status_label(j, (unsigned)i), f->bstatus == i);
    }
    outf(j, "</select></label><label>%s <select name=\"review\">", L(j, "Tinjauan", "Review"));
    admin_queue_option(j, "unreviewed", L(j, "belum ditinjau", "not reviewed"),
                       f->review == REVIEW_UNREVIEWED);
    admin_queue_option(j, "follow_up", L(j, "perlu tindak lanjut", "needs follow-up"),
                       f->review == REVIEW_FOLLOW_UP);
    admin_queue_option(j, "reviewed", L(j, "sudah ditinjau", "reviewed"),
                       f->review == REVIEW_REVIEWED);
    admin_queue_option(j, "all", L(j, "semua", "all"), f->review == REVIEW_ALL);
    outf(j, "</select></label><label>%s <select name=\"track\">",
         L(j, "Jalur graduasi", "Graduation track"));
    admin_queue_option(j, "", L(j, "semua", "all"), f->track == REVIEW_TRACK_ANY);
    for (i = REVIEW_TRACK_NONE; i <= REVIEW_TRACK_WELFARE; i++)
        admin_queue_option(j, review_track_names[i], admin_track_label(j, review_track_names[i]),
                           f->track == (int)i);
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

/* the rows of one queue page (columns: see review_build(), REVIEW_PAGE) */
static void
admin_queue_table(struct admin_job *j, struct admin_rows *rs)
{
    size_t i;

    outf(j,
         "<table id=\"queue\"><thead><tr><th>%s</th><th>%s</th><th>KPM</th><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Waktu (WIB)", "Time (WIB)"), L(j, "Jenis", "Type"), L(j, "Wilayah", "Region"),
         L(j, "Kanal", "Channel"), L(j, "Isi", "Contents"), L(j, "Tinjauan", "Review"));
    for (i = 0; i < rs->n; i++) {
        const char *t = nz(CELL(rs, i, 0));

        out(j, "<tr class=\"report\" data-type=\"");
        esc(j, t);
        out(j, "\" data-id=\"");
        esc(j, CELL(rs, i, 1));
        out(j, "\"><td>");
        esc(j, CELL(rs, i, 4));
        out(j, "</td><td>");
        esc(j, admin_type_label(j, t));
        out(j, "</td><td><a class=\"kpm\" href=\"/kpm?id=");
        esc(j, CELL(rs, i, 2));
        out(j, "#r-");
        esc(j, t);
        out(j, "-");
        esc(j, CELL(rs, i, 1));
        out(j, "\">");
        esc(j, CELL(rs, i, 9));
        out(j, "</a><br><span class=\"phone\">");
        esc(j, CELL(rs, i, 10));
        out(j, "</span></td><td>");
        esc(j, CELL(rs, i, 11));
        out(j, "</td><td>");
        esc(j, CELL(rs, i, 5));
        out(j, "</td><td>");
        admin_summary(j, t, CELL(rs, i, 6), CELL(rs, i, 7), CELL(rs, i, 8));
        out(j, "</td><td>");
        esc(j, admin_review_label(j, CELL(rs, i, 12)));
        out(j, "</td></tr>\n");
    }
    if (rs->n == 0)
        outf(j, "<tr><td colspan=\"7\">%s</td></tr>",
             L(j, "Tidak ada laporan untuk saringan ini.", "No reports for this filter."));
    out(j, "</tbody></table>");
}

int
admin_page_queue(struct db_conn *c, struct admin_job *j)
{
    struct parse_field qf[] = {{"page", NULL, 8, 0, 0, 0}};
    char pagebuf[8] = "", err_msg[96];
    struct admin_rows rs = {0};
    struct sqlb *b;
    unsigned size = j->cfg->admin.page_size;
    uint64_t page = 0;
    double total;
    int err = 0;

    qf[0].buf = pagebuf;
    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1 ||
        (pagebuf[0] != '\0' && parse_u64(pagebuf, strlen(pagebuf), 0, 100000, &page) == -1))
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "page");
    if ((b = malloc(sizeof *b)) == NULL)
        return DB_EUNAVAILABLE;
    admin_head(j, L(j, "Antrean tinjauan", "Review queue"), "queue-page");
    if ((err = admin_queue_filter_form(c, j)) != 0)
        goto done;
    if (review_build(b, &j->filter, j->s.user.region, REVIEW_COUNT, 0, 0, 0, 0) == -1) {
        admin_message(j, 400, L(j, "Saringan salah", "Bad filter"), "filter");
        goto done;
    }
    if ((err = admin_rows_query(c, b->sql, b->p, b->np, &rs)) != 0)
        goto done;
    total = rs.n ? num(CELL(&rs, 0, 0)) : 0;
    admin_rows_free(&rs);
    /* past the end: the last page (a capped count has no known end: the depth below stops it).
     * Deeper than ADMIN_QUEUE_DEPTH rows is a sort of that many
     * rows per page view, on workers the aggregators share: narrow the filter, or export */
    if (page > 0 && total <= REVIEW_COUNT_CAP && (double)page * size >= total)
        page = total > 0 ? (uint64_t)((total - 1) / size) : 0;
    if (total > REVIEW_COUNT_CAP)
        outf(j, "<p id=\"count\">%s %s</p>", L(j, "10.000+", "10,000+"),
             L(j, "laporan", "reports"));
    else
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
    if ((err = admin_rows_query(c, b->sql, b->p, b->np, &rs)) != 0)
        goto done;
    admin_queue_table(j, &rs);
    out(j, "<p class=\"pager\">");
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

int
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
