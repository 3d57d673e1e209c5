/*
 * One KPM (GET /kpm?id=N): the profile, the revenue chart, every report with its reviews and the
 * review form (POSTed to /review, admin_review.c), the KPM's alerts, her lessons
 * (admin_lessons.c) and SMS both ways.
 */
#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "db.h"
#include "parse.h"
#include "review.h"
#include "svg.h"

/* the times shown, in WIB (named, so the statements below read as SQL) */
#define ADMIN_KPM_K_WIB " " REVIEW_WIB("k.created_at")
#define ADMIN_KPM_X_WIB " " REVIEW_WIB("x.created_at")
#define ADMIN_KPM_V_WIB " " REVIEW_WIB("v.created_at")
#define ADMIN_KPM_WIB " " REVIEW_WIB("created_at")

/* a table of rows as they came, or one cell saying there are none */
static void
admin_kpm_table(struct admin_job *j, struct admin_rows *rs, const char *id, const char *empty)
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

/* the rows of sql (one parameter) as a table */
static int
admin_kpm_list(struct db_conn *c, struct admin_job *j, const char *sql, struct db_param p,
               const char *id)
{
    struct admin_rows rs = {0};
    int err;

    if ((err = admin_rows_query(c, sql, &p, 1, &rs)) == 0)
        admin_kpm_table(j, &rs, id, L(j, "Tidak ada.", "None."));
    admin_rows_free(&rs);
    return err;
}

/* the profile: the columns of the query in admin_page_kpm() */
static void
admin_kpm_profile(struct admin_job *j, struct admin_rows *prof)
{
    outf(j,
         "<section id=\"profile\"><dl>"
         "<dt>%s</dt><dd>",
         L(j, "Nomor PKH", "PKH number"));
    esc(j, CELL(prof, 0, 1));
    out(j, "</dd><dt>NIK</dt><dd>");
    esc(j, CELL(prof, 0, 2));
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Nomor HP", "Phone"));
    esc(j, CELL(prof, 0, 4));
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Wilayah", "Region"));
    esc(j, CELL(prof, 0, 7));
    out(j, " (");
    esc(j, CELL(prof, 0, 6));
    outf(j, ")</dd><dt>%s</dt><dd>", L(j, "Pendamping", "Assistant"));
    esc(j, CELL(prof, 0, 8));
    outf(j, "</dd><dt>KUBE</dt><dd>");
    esc(j, CELL(prof, 0, 10) != NULL ? CELL(prof, 0, 10) : "-");
    outf(j, "</dd><dt>%s</dt><dd id=\"profile-track\">", L(j, "Graduasi", "Graduation"));
    esc(j, admin_track_label(j, CELL(prof, 0, 11)));
    if (CELL(prof, 0, 14) != NULL) {
        outf(j, " (%s ", L(j, "sejak", "since"));
        esc(j, CELL(prof, 0, 14));
        out(j, ")");
    }
    outf(j, "</dd><dt>%s</dt><dd>", L(j, "Bahasa", "Language"));
    esc(j, CELL(prof, 0, 5));
    outf(j, "</dd><dt>%s</dt><dd>%s</dd></dl></section>\n", L(j, "Pengingat SMS", "SMS reminders"),
         strcmp(nz(CELL(prof, 0, 12)), "1") == 0 ? L(j, "ya", "yes")
                                                 : L(j, "tidak (STOP)", "no (STOP)"));
}

/* the revenue chart: the last 12 business reports */
static int
admin_kpm_revenue(struct db_conn *c, struct admin_job *j, uint64_t id)
{
    struct admin_rows rs = {0};
    struct db_param p = DB_U64(id);
    const char *labels[12];
    double v[12];
    /* in millions: the ticks read "2.5 (juta)", where "2.5M" would read as miliar */
    struct svg_series s = {L(j, "Omzet (juta Rp)", "Revenue (million Rp)"), v};
    size_t i;
    int err;

    if ((err = admin_rows_query(c,
                                "SELECT DATE_FORMAT(x.created_at + INTERVAL 7 HOUR, '%d/%m'),"
                                " COALESCE(x.revenue, 0) FROM business_reports x WHERE x.kpm_id = ?"
                                " ORDER BY x.created_at DESC, x.id DESC LIMIT 12",
                                &p, 1, &rs)) != 0)
        return err;
    for (i = 0; i < rs.n && i < 12; i++) {
        labels[rs.n - 1 - i] = nz(CELL(&rs, i, 0));
        v[rs.n - 1 - i] = num(CELL(&rs, i, 1)) / 1e6;
    }
    outf(j, "<section class=\"chart\" id=\"chart-revenue\"><h2>%s</h2>",
         L(j, "Omzet bulanan menurut laporan", "Monthly revenue as reported"));
    svg_lines(j->out, L(j, "Omzet", "Revenue"), labels, rs.n, &s, 1,
              L(j, "Belum ada laporan usaha", "No business report yet"));
    out(j, "</section>\n");
    admin_rows_free(&rs);
    return 0;
}

/* the review form of one report; its nonce makes the form, sent twice, one review */
static void
admin_kpm_review_form(struct admin_job *j, const char *t, const char *rid)
{
    char nonce[AUTH_KEY_HEX];

    auth_key_new(nonce);
    out(j, "<form class=\"review\" method=\"post\" action=\"/review\">");
    admin_csrf_field(j);
    outf(j, "<input type=\"hidden\" name=\"nonce\" value=\"%s\">", nonce);
    out(j, "<input type=\"hidden\" name=\"type\" value=\"");
    esc(j, t);
    out(j, "\"><input type=\"hidden\" name=\"id\" value=\"");
    esc(j, rid);
    outf(j,
         "\"><textarea name=\"note\" maxlength=\"%d\" rows=\"2\" placeholder=\"%s\">"
         "</textarea><button name=\"status\" value=\"reviewed\">%s</button>"
         "<button name=\"status\" value=\"follow_up\">%s</button>"
         "<button name=\"status\" value=\"note\">%s</button></form>",
         REVIEW_NOTE_MAX, L(j, "Catatan", "Note"), L(j, "Sudah ditinjau", "Reviewed"),
         L(j, "Perlu tindak lanjut", "Needs follow-up"), L(j, "Simpan catatan", "Save note"));
}

/* report r of reps (type, id, created_at, WIB, source, a, b, c, workers) with its reviews */
static void
admin_kpm_report(struct admin_job *j, struct admin_rows *reps, size_t r, struct admin_rows *revs)
{
    const char *t = nz(CELL(reps, r, 0)), *rid = nz(CELL(reps, r, 1)), *state = "none";
    size_t i;

    /* reviews come newest first: the first reviewed or follow_up is the state */
    for (i = 0; i < revs->n; i++)
        if (strcmp(nz(CELL(revs, i, 0)), t) == 0 && strcmp(nz(CELL(revs, i, 1)), rid) == 0 &&
            strcmp(nz(CELL(revs, i, 2)), "note") != 0) {
            state = CELL(revs, i, 2);
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
    esc(j, CELL(reps, r, 3));
    out(j, " &middot; ");
    esc(j, CELL(reps, r, 4));
    out(j, " &middot; #");
    esc(j, rid);
    out(j, "</h3><p>");
    admin_summary(j, t, CELL(reps, r, 5), CELL(reps, r, 6), CELL(reps, r, 7));
    if (strcmp(t, "business") == 0 && CELL(reps, r, 8) != NULL) {
        outf(j, "; %s ", L(j, "pekerja", "workers"));
        esc(j, CELL(reps, r, 8));
    }
    outf(j, "</p><p class=\"state\">%s: ", L(j, "Tinjauan", "Review"));
    esc(j, admin_review_label(j, state));
    out(j, "</p><ul class=\"reviews\">");
    for (i = 0; i < revs->n; i++) {
        if (strcmp(nz(CELL(revs, i, 0)), t) != 0 || strcmp(nz(CELL(revs, i, 1)), rid) != 0)
            continue;
        out(j, "<li>");
        esc(j, CELL(revs, i, 5));
        out(j, " ");
        esc(j, CELL(revs, i, 4));
        out(j, ": ");
        esc(j, admin_review_label(j, CELL(revs, i, 2)));
        if (CELL(revs, i, 3) != NULL) {
            out(j, " &mdash; ");
            esc(j, CELL(revs, i, 3));
        }
        out(j, "</li>");
    }
    out(j, "</ul>");
    admin_kpm_review_form(j, t, rid);
    out(j, "</article>\n");
}

/* every report of the KPM, newest first, with its reviews */
static int
admin_kpm_reports(struct db_conn *c, struct admin_job *j, uint64_t id)
{
    struct admin_rows reps = {0}, revs = {0};
    struct db_param p[3] = {DB_U64(id), DB_U64(id), DB_U64(id)};
    size_t r;
    int err;

    if ((err = admin_rows_query(
             c,
             "SELECT * FROM (SELECT 'business' t, x.id, x.created_at," ADMIN_KPM_X_WIB
             " w, x.source, x.status a, x.revenue b, x.kind c, x.workers d,"
             " x.difficulty e FROM business_reports x WHERE x.kpm_id = ?"
             " UNION ALL SELECT 'attendance', x.id, x.created_at," ADMIN_KPM_X_WIB
             ", x.source, x.attended, x.reason, tr.title, NULL, NULL"
             " FROM attendance_reports x JOIN trainings tr ON tr.id = x.training_id"
             " WHERE x.kpm_id = ?"
             " UNION ALL SELECT 'help', x.id, x.created_at," ADMIN_KPM_X_WIB
             ", x.source, x.topic, NULL, x.text, NULL, NULL FROM help_requests x"
             " WHERE x.kpm_id = ?) q ORDER BY created_at DESC, id DESC LIMIT 200",
             p, 3, &reps)) != 0 ||
        (err = admin_rows_query(
             c,
             "SELECT v.report_type, v.report_id, v.status, v.note, u.username," ADMIN_KPM_V_WIB
             /* from her reports to their reviews, one index dive each: the ORs of IN
              * subqueries this replaces read every review of the reviewer (6 s at a million
              * KPM); STRAIGHT_JOIN keeps that order when a type has few reviews so far */
             " FROM (SELECT STRAIGHT_JOIN v.* FROM business_reports x JOIN reviews v"
             "  ON v.report_type = 'business' AND v.report_id = x.id WHERE x.kpm_id = ?"
             " UNION ALL SELECT STRAIGHT_JOIN v.* FROM attendance_reports x JOIN reviews v"
             "  ON v.report_type = 'attendance' AND v.report_id = x.id WHERE x.kpm_id = ?"
             " UNION ALL SELECT STRAIGHT_JOIN v.* FROM help_requests x JOIN reviews v"
             "  ON v.report_type = 'help' AND v.report_id = x.id WHERE x.kpm_id = ?) v"
             " JOIN admin_users u ON u.id = v.reviewer_id"
             " ORDER BY v.id DESC LIMIT 2000",
             p, 3, &revs)) != 0)
        goto done;
    outf(j, "<section id=\"reports\"><h2>%s</h2>",
         L(j, "Laporan (terbaru dulu)", "Reports (newest first)"));
    for (r = 0; r < reps.n; r++)
        admin_kpm_report(j, &reps, r, &revs);
    if (reps.n == 0)
        outf(j, "<p>%s</p>", L(j, "Belum ada laporan.", "No reports yet."));
    out(j, "</section>\n");
done:
    admin_rows_free(&reps);
    admin_rows_free(&revs);
    return err;
}

/* SMS from and to the KPM's phone number, newest first by created_at: the (number, created_at)
 * indexes answer that, where ORDER BY id walked the primary key back through every message */
static int
admin_kpm_messages(struct db_conn *c, struct admin_job *j, const char *msisdn)
{
    int err;

    outf(j, "<section id=\"sms\"><h2>%s</h2><h3>%s</h3>", L(j, "SMS", "SMS"),
         L(j, "Diterima", "Received"));
    if ((err = admin_kpm_list(c, j,
                              "SELECT" ADMIN_KPM_WIB ", body, state FROM"
                              " inbound_messages WHERE msisdn_from = ?"
                              " ORDER BY created_at DESC, id DESC LIMIT 50",
                              DB_STR(msisdn), "sms-in")) != 0)
        return err;
    outf(j, "<h3>%s</h3>", L(j, "Dikirim", "Sent"));
    if ((err = admin_kpm_list(c, j,
                              "SELECT" ADMIN_KPM_WIB ", purpose, body, state FROM"
                              " outbox WHERE recipient = ?"
                              " ORDER BY created_at DESC, id DESC LIMIT 50",
                              DB_STR(msisdn), "sms-out")) != 0)
        return err;
    out(j, "</section>");
    return 0;
}

int
admin_page_kpm(struct db_conn *c, struct admin_job *j)
{
    struct parse_field qf[] = {{"id", NULL, 24, 0, 0, 1}};
    char idbuf[24] = "", err_msg[96];
    uint64_t id;

    qf[0].buf = idbuf;
    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1 ||
        parse_u64(idbuf, strlen(idbuf), 1, UINT64_MAX, &id) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "id");
    return admin_kpm_show(c, j, id, NULL);
}

int
admin_kpm_show(struct db_conn *c, struct admin_job *j, uint64_t id, const struct admin_grad_form *g)
{
    struct admin_rows prof = {0};
    struct db_param p[2];
    int err;

    p[0] = DB_U64(id);
    p[1] = DB_STR(j->s.user.region);
    if ((err = admin_rows_query(
             c,
             "SELECT k.id, k.pkh_number," REVIEW_NIK_MASKED ", k.name, k.msisdn,"
             " k.lang, k.region_code, r.name, a.name, a.msisdn, g.name, k.graduation,"
             " k.reminders," ADMIN_KPM_K_WIB ", DATE_FORMAT(k.graduated_on, '%Y-%m-%d') FROM kpm k"
             " LEFT JOIN regions r ON r.code = k.region_code"
             " LEFT JOIN assistants a ON a.id = k.assistant_id"
             " LEFT JOIN kube_groups g ON g.id = k.kube_id"
             " WHERE k.id = ? AND" REVIEW_SCOPE,
             p, 2, &prof)) != 0)
        goto done;
    if (prof.n == 0) {
        admin_message(j, 404, L(j, "Tidak ditemukan", "Not found"),
                      L(j, "KPM ini tidak ada, atau di luar wilayah Anda.",
                        "This KPM does not exist, or is outside your region."));
        goto done;
    }
    admin_head_id(j, nz(CELL(&prof, 0, 3)), "kpm-page", "kpm-name");
    admin_kpm_profile(j, &prof);
    if ((err = admin_graduation_section(c, j, id, CELL(&prof, 0, 11), CELL(&prof, 0, 14), g)) !=
            0 ||
        (err = admin_kpm_revenue(c, j, id)) != 0 || (err = admin_kpm_reports(c, j, id)) != 0 ||
        (err = admin_graduation_alerts(c, j, id)) != 0 ||
        (err = admin_graduation_visits(c, j, id)) != 0 ||
        (err = admin_lessons_history(c, j, id)) != 0 ||
        (err = admin_kpm_messages(c, j, nz(CELL(&prof, 0, 4)))) != 0)
        goto done;
    admin_foot(j);
done:
    admin_rows_free(&prof);
    return err;
}
