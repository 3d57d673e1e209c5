/*
 * Graduation on the KPM page: her track and since when, the history of graduations (who decided,
 * where, revocations), the form that records one (POST /graduation) and the one that revokes one
 * (POST /graduation/revoke), her home visits and her alerts with what came of them. Recording and
 * revoking go through the one store, gateway/graduation.c, within the user's region; a form
 * whose values are refused shows the page again, with a message, as 422.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "admin_int.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "graduation.h"
#include "parse.h"
#include "review.h"

/* a form nonce as the page draws it (AUTH_KEY_HEX) or any short key: with "page:USER:" it fits
 * graduations.idem_key */
#define ADMIN_GRAD_NONCE_MAX 40

/* the times shown, in WIB */
#define ADMIN_GRAD_CREATED REVIEW_WIB("g.created_at")
#define ADMIN_GRAD_REVOKED REVIEW_WIB("g.revoked_at")

static void
admin_grad_option(struct admin_job *j, const char *value, const char *label, int selected)
{
    out(j, "<option value=\"");
    esc(j, value);
    out(j, selected ? "\" selected>" : "\">");
    esc(j, label);
    out(j, "</option>");
}

/* the history: one row per graduation, newest first, with a revoke form on the standing ones */
static void
admin_grad_history(struct admin_job *j, struct admin_rows *rs, uint64_t kpm)
{
    size_t i;

    outf(j,
         "<table id=\"graduations\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Jalur", "Track"), L(j, "Alasan", "Reason"), L(j, "Berlaku", "Effective"),
         L(j, "Diputuskan oleh", "Decided by"), L(j, "Lewat", "Via"), L(j, "Catatan", "Note"),
         L(j, "Pencabutan", "Revocation"));
    for (i = 0; i < rs->n; i++) {
        int revoked = CELL(rs, i, 9) != NULL;

        out(j, "<tr class=\"graduation\" data-id=\"");
        esc(j, CELL(rs, i, 0));
        out(j, "\" data-track=\"");
        esc(j, CELL(rs, i, 1));
        outf(j, "\" data-revoked=\"%d\"><td>", revoked);
        esc(j, admin_track_label(j, CELL(rs, i, 1)));
        out(j, "</td><td>");
        esc(j, admin_reason_label(j, CELL(rs, i, 2)));
        out(j, "</td><td>");
        esc(j, CELL(rs, i, 3));
        out(j, "</td><td class=\"by\">");
        admin_actor(j, CELL(rs, i, 4), CELL(rs, i, 5));
        out(j, "<br><span class=\"note\">");
        esc(j, CELL(rs, i, 8));
        out(j, "</span></td><td>");
        esc(j, admin_via_label(j, CELL(rs, i, 6)));
        out(j, "</td><td>");
        esc(j, CELL(rs, i, 7));
        out(j, "</td><td class=\"revocation\">");
        if (revoked) {
            outf(j, "%s ", L(j, "dicabut", "revoked"));
            esc(j, CELL(rs, i, 9));
            outf(j, " %s ", L(j, "oleh", "by"));
            admin_actor(j, CELL(rs, i, 10), CELL(rs, i, 11));
            out(j, ": ");
            esc(j, CELL(rs, i, 12));
        } else {
            out(j, "<form class=\"revoke\" method=\"post\" action=\"/graduation/revoke\">");
            admin_csrf_field(j);
            out(j, "<input type=\"hidden\" name=\"id\" value=\"");
            esc(j, CELL(rs, i, 0));
            outf(j,
                 "\"><input type=\"hidden\" name=\"kpm\" value=\"%llu\">"
                 "<input name=\"reason\" maxlength=\"%d\" required placeholder=\"%s\">"
                 "<button>%s</button></form>",
                 (unsigned long long)kpm, GRADUATION_REASON_MAX,
                 L(j, "Alasan pencabutan", "Why revoke"), L(j, "Cabut", "Revoke"));
        }
        out(j, "</td></tr>\n");
    }
    if (rs->n == 0)
        outf(j, "<tr><td colspan=\"7\">%s</td></tr>",
             L(j, "Belum ada graduasi.", "No graduation yet."));
    out(j, "</tbody></table>\n");
}

/* the form recording a graduation; its nonce makes it, sent twice, one graduation */
static void
admin_grad_form(struct admin_job *j, uint64_t kpm, const struct admin_grad_form *g)
{
    const struct config_graduation *cg = &j->cfg->graduation;
    char nonce[AUTH_KEY_HEX], today[11];
    time_t now = time(NULL) + 7 * 3600;
    struct tm tm;
    size_t i;
    int t;

    auth_key_new(nonce);
    gmtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    outf(j, "<h3>%s</h3>", L(j, "Catat graduasi", "Record a graduation"));
    if (g != NULL && g->error != NULL) {
        out(j, "<p class=\"message\" id=\"graduation-error\">");
        esc(j, g->error);
        out(j, "</p>");
    }
    out(j, "<form id=\"graduation-form\" method=\"post\" action=\"/graduation\">");
    admin_csrf_field(j);
    outf(j,
         "<input type=\"hidden\" name=\"nonce\" value=\"%s\">"
         "<input type=\"hidden\" name=\"kpm\" value=\"%llu\">"
         "<label>%s <select name=\"track\" required>",
         nonce, (unsigned long long)kpm, L(j, "Jalur", "Track"));
    for (t = TRACK_NATURAL; t <= TRACK_WELFARE; t++)
        admin_grad_option(j, config_track_names[t], admin_track_label(j, config_track_names[t]),
                          g != NULL && strcmp(g->track, config_track_names[t]) == 0);
    outf(j, "</select></label><label>%s <select name=\"reason\" required>",
         L(j, "Alasan", "Reason"));
    for (t = TRACK_NATURAL; t <= TRACK_WELFARE; t++) {
        out(j, "<optgroup label=\"");
        esc(j, admin_track_label(j, config_track_names[t]));
        out(j, "\">");
        for (i = 0; i < cg->nreasons; i++)
            if (cg->reasons[i].track == (enum config_track)t)
                admin_grad_option(j, cg->reasons[i].code, cg->reasons[i].label[j->lang ? 1 : 0],
                                  g != NULL && strcmp(g->reason, cg->reasons[i].code) == 0);
        out(j, "</optgroup>");
    }
    outf(j,
         "</select></label><label>%s <input type=\"date\" name=\"effective_date\" required "
         "max=\"%s\" value=\"",
         L(j, "Tanggal berlaku", "Effective date"), today);
    esc(j, g != NULL ? g->date : today);
    outf(j, "\"></label><label>%s <textarea name=\"note\" maxlength=\"%d\" rows=\"2\">",
         L(j, "Catatan", "Note"), GRADUATION_NOTE_MAX);
    esc(j, g != NULL ? g->note : "");
    outf(j,
         "</textarea></label><button type=\"submit\" id=\"graduation-record\">%s</button></form>",
         L(j, "Simpan graduasi", "Record graduation"));
}

int
admin_graduation_section(struct db_conn *c, struct admin_job *j, uint64_t id, const char *track,
                         const char *graduated_on, const struct admin_grad_form *g)
{
    struct admin_rows rs = {0};
    struct db_param p = DB_U64(id);
    int err;

    if ((err = admin_rows_query(
             c,
             "SELECT g.id, g.track, g.reason, DATE_FORMAT(g.effective_date, '%Y-%m-%d'),"
             " g.decided_by_type, " ADMIN_ACTOR_NAME(
                 "g.decided_by_type",
                 "g.decided_by_id") ","
                                    " g.decided_via, g.note, " ADMIN_GRAD_CREATED
                                    ", " ADMIN_GRAD_REVOKED ","
                                    " g.revoked_by_type, " ADMIN_ACTOR_NAME(
                                        "g.revoked_by_type",
                                        "g.revoked_by_id") ","
                                                           " g.revoke_reason"
                                                           " FROM graduations g WHERE g.kpm_id = ? "
                                                           "ORDER BY g.id DESC LIMIT 100",
             &p, 1, &rs)) != 0)
        return err;
    outf(j,
         "<section id=\"graduation\"><h2>%s</h2><dl><dt>%s</dt><dd id=\"graduation-track\" "
         "data-track=\"",
         L(j, "Graduasi", "Graduation"), L(j, "Jalur", "Track"));
    esc(j, track);
    out(j, "\">");
    esc(j, admin_track_label(j, track));
    outf(j, "</dd><dt>%s</dt><dd id=\"graduated-on\">", L(j, "Berlaku sejak", "Effective since"));
    esc(j, graduated_on != NULL ? graduated_on : "-");
    out(j, "</dd></dl>");
    if (g != NULL && g->revoke != NULL) {
        out(j, "<p class=\"message\" id=\"revoke-error\">");
        esc(j, g->revoke);
        out(j, "</p>");
    }
    admin_grad_history(j, &rs, id);
    admin_rows_free(&rs);
    admin_grad_form(j, id, g);
    out(j, "</section>\n");
    return 0;
}

int
admin_graduation_visits(struct db_conn *c, struct admin_job *j, uint64_t id)
{
    struct admin_rows rs = {0};
    struct db_param p = DB_U64(id);
    size_t i;
    int err;

    if ((err = admin_rows_query(c,
                                "SELECT DATE_FORMAT(v.visit_date, '%Y-%m-%d'), s.name, v.outcome,"
                                " v.business_running, v.source FROM home_visits v"
                                " JOIN assistants s ON s.id = v.assistant_id WHERE v.kpm_id = ?"
                                " ORDER BY v.visit_date DESC, v.id DESC LIMIT 50",
                                &p, 1, &rs)) != 0)
        return err;
    outf(j,
         "<section id=\"visits\"><h2>%s</h2><table id=\"kpm-visits\"><thead><tr><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Kunjungan rumah", "Home visits"), L(j, "Tanggal", "Date"),
         L(j, "Pendamping", "Assistant"), L(j, "Hasil", "Outcome"),
         L(j, "Usaha terlihat berjalan", "Business seen running"), L(j, "Lewat", "Via"));
    for (i = 0; i < rs.n; i++) {
        const char *run = CELL(&rs, i, 3);

        out(j, "<tr class=\"visit\"><td>");
        esc(j, CELL(&rs, i, 0));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 1));
        out(j, "</td><td>");
        esc(j, admin_visit_label(j, CELL(&rs, i, 2)));
        out(j, "</td><td>");
        esc(j, run == NULL ? "-" : strcmp(run, "1") == 0 ? L(j, "ya", "yes") : L(j, "tidak", "no"));
        out(j, "</td><td>");
        esc(j, admin_via_label(j, CELL(&rs, i, 4)));
        out(j, "</td></tr>");
    }
    if (rs.n == 0)
        outf(j, "<tr><td colspan=\"5\">%s</td></tr>", L(j, "Tidak ada.", "None."));
    out(j, "</tbody></table></section>\n");
    admin_rows_free(&rs);
    return 0;
}

/* A KPM's alerts, newest first, with who recorded each outcome. */
/* clang-format off */
#define GRADUATION_ALERTS_SQL                                                                      \
    "SELECT a.id, " REVIEW_WIB("a.created_at") ", a.rule, a.state, a.urgency, a.detail,"          \
    " a.outcome, " ADMIN_ACTOR_TAG_TYPE("a.outcome_by") ","                                       \
    " " ADMIN_ACTOR_TAG_NAME("a.outcome_by") ", " REVIEW_WIB("a.outcome_at") ","                  \
    " a.outcome_note FROM alerts a WHERE a.kpm_id = ? ORDER BY a.id DESC LIMIT 50"
/* clang-format on */

int
admin_graduation_alerts(struct db_conn *c, struct admin_job *j, uint64_t id)
{
    struct admin_rows rs = {0};
    struct db_param p = DB_U64(id);
    size_t i;
    int err;

    if ((err = admin_rows_query(c, GRADUATION_ALERTS_SQL, &p, 1, &rs)) != 0)
        return err;
    outf(j,
         "<section id=\"alerts\"><h2>%s</h2><table id=\"kpm-alerts\"><thead><tr><th>%s</th>"
         "<th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
         L(j, "Peringatan", "Alerts"), L(j, "Waktu (WIB)", "Time (WIB)"), L(j, "Aturan", "Rule"),
         L(j, "Status", "State"), L(j, "Rincian", "Detail"), L(j, "Hasil", "Outcome"));
    for (i = 0; i < rs.n; i++) {
        out(j, "<tr class=\"alert\" data-id=\"");
        esc(j, CELL(&rs, i, 0));
        out(j, "\" data-outcome=\"");
        esc(j, CELL(&rs, i, 6));
        out(j, "\"><td>");
        esc(j, CELL(&rs, i, 1));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 2));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 3));
        out(j, " / ");
        esc(j, CELL(&rs, i, 4));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 5));
        out(j, "</td><td class=\"outcome\">");
        if (CELL(&rs, i, 6) != NULL) {
            esc(j, admin_outcome_label(j, CELL(&rs, i, 6)));
            outf(j, " &middot; %s ", L(j, "oleh", "by"));
            admin_actor(j, CELL(&rs, i, 7), CELL(&rs, i, 8));
            out(j, " &middot; ");
            esc(j, CELL(&rs, i, 9));
            if (CELL(&rs, i, 10) != NULL) {
                out(j, " &mdash; ");
                esc(j, CELL(&rs, i, 10));
            }
        } else {
            out(j, "-");
        }
        out(j, "</td></tr>");
    }
    if (rs.n == 0)
        outf(j, "<tr><td colspan=\"5\">%s</td></tr>", L(j, "Tidak ada.", "None."));
    out(j, "</tbody></table></section>\n");
    admin_rows_free(&rs);
    return 0;
}

/* the KPM id a form names, or 0 (the page is then a 400) */
static uint64_t
admin_grad_kpm(struct admin_job *j, const char *kpm)
{
    uint64_t id;

    if (parse_u64(kpm, strlen(kpm), 1, UINT64_MAX, &id) == -1) {
        admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "kpm");
        return 0;
    }
    return id;
}

/* the KPM page again, with the form as it was sent and why it was refused */
static int
admin_grad_again(struct db_conn *c, struct admin_job *j, uint64_t kpm, struct admin_grad_form *g,
                 const char *msg, int revoke)
{
    evbuffer_drain(j->out, evbuffer_get_length(j->out));
    j->status = 422;
    if (revoke)
        g->revoke = msg;
    else
        g->error = msg;
    return admin_kpm_show(c, j, kpm, g);
}

int
admin_do_graduation(struct db_conn *c, struct admin_job *j)
{
    struct admin_grad_form g;
    char csrf[AUTH_TOKEN_HEX], kpm[24] = "", note[2048] = "", nonce[ADMIN_GRAD_NONCE_MAX + 1] = "";
    char key[GRADUATION_KEY_MAX + 1], loc[64];
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},
        {"kpm", kpm, sizeof kpm, 0, 0, 1},
        {"track", g.track, sizeof g.track, 0, 0, 0},
        {"reason", g.reason, sizeof g.reason, 0, 0, 0},
        {"effective_date", g.date, sizeof g.date, 0, 0, 0},
        {"note", note, sizeof note, 0, 0, 0},
        {"nonce", nonce, sizeof nonce, 0, 0, 0},
    };
    struct scope scope = {j->s.user.region, 0};
    struct actor actor = {ACTOR_ADMIN, j->s.user.id, j->s.user.username, VIA_PAGE};
    const struct config_reason *reason;
    struct graduation_in in;
    uint64_t id, gid = 0;
    int track, err;

    memset(&g, 0, sizeof g);
    if (admin_form(j, f, sizeof f / sizeof f[0]) == -1 || (id = admin_grad_kpm(j, kpm)) == 0)
        return 0;
    if (nonce[0] != '\0' && !parse_idem_key_valid(nonce, strlen(nonce)))
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "nonce");
    if (strlen(note) <= GRADUATION_NOTE_MAX)
        memcpy(g.note, note, strlen(note) + 1);
    track = config_track_parse(g.track);
    if (track != TRACK_NATURAL && track != TRACK_WELFARE)
        return admin_grad_again(
            c, j, id, &g,
            L(j, "Pilih jalur: alami atau sejahtera.", "Choose a track: natural or welfare."), 0);
    reason = config_reason_find(j->cfg, g.reason);
    if (reason == NULL || reason->track != (enum config_track)track)
        return admin_grad_again(c, j, id, &g,
                                L(j, "Pilih alasan dari daftar, yang sesuai dengan jalurnya.",
                                  "Choose a reason from the list, one of the track chosen."),
                                0);
    if (!graduation_date_ok(g.date, strlen(g.date), time(NULL)))
        return admin_grad_again(c, j, id, &g,
                                L(j,
                                  "Tanggal berlaku harus tanggal yang benar (TTTT-BB-HH) dan "
                                  "tidak di masa depan.",
                                  "The effective date must be a real date (YYYY-MM-DD), not in "
                                  "the future."),
                                0);
    if (strlen(note) > GRADUATION_NOTE_MAX || !parse_utf8_valid(note, strlen(note)))
        return admin_grad_again(
            c, j, id, &g,
            L(j, "Catatan paling panjang 500 byte.", "The note may be at most 500 bytes."), 0);
    /* the form's nonce makes a form sent twice one graduation; without one, the request's key
     * still makes a re-run of this job one */
    snprintf(key, sizeof key, "page:%llu:%s", (unsigned long long)j->s.user.id,
             nonce[0] != '\0' ? nonce : j->key);
    in = (struct graduation_in){id, (enum config_track)track, g.reason, g.date, note, key};
    err = graduation_record(c, j->cfg, &scope, &actor, &in, &gid);
    if (err == KERR_NOT_FOUND)
        return admin_kpm_show(c, j, id, NULL); /* the 404 of a KPM outside the region */
    if (err == KERR_CONFLICT)
        return admin_message(j, 409, L(j, "Formulir sudah dikirim", "Form already sent"),
                             L(j,
                               "Formulir ini sudah dikirim dengan isi lain. Muat ulang "
                               "halaman lalu coba lagi.",
                               "This form was already sent with other values. Reload the "
                               "page and try again."));
    if (err == KERR_INVALID)
        return admin_grad_again(c, j, id, &g,
                                L(j, "Isian ditolak: periksa jalur, alasan, tanggal dan catatan.",
                                  "Refused: check the track, reason, date and note."),
                                0);
    if (err != 0)
        return err;
    snprintf(loc, sizeof loc, "/kpm?id=%llu#graduation", (unsigned long long)id);
    admin_redirect(j, loc);
    return 0;
}

int
admin_do_graduation_revoke(struct db_conn *c, struct admin_job *j)
{
    struct admin_grad_form g;
    char csrf[AUTH_TOKEN_HEX], gidbuf[24] = "", kpm[24] = "", reason[1024] = "", loc[64];
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},
        {"id", gidbuf, sizeof gidbuf, 0, 0, 1},
        {"kpm", kpm, sizeof kpm, 0, 0, 1},
        {"reason", reason, sizeof reason, 0, 0, 0},
    };
    struct scope scope = {j->s.user.region, 0};
    struct actor actor = {ACTOR_ADMIN, j->s.user.id, j->s.user.username, VIA_PAGE};
    uint64_t id, gid, of = 0;
    int err;

    const char *bad_reason = L(j, "Tulis alasan pencabutan (paling panjang 255 byte).",
                               "Write why the graduation is revoked (at most 255 bytes).");

    memset(&g, 0, sizeof g);
    if (admin_form(j, f, sizeof f / sizeof f[0]) == -1 || (id = admin_grad_kpm(j, kpm)) == 0)
        return 0;
    if (parse_u64(gidbuf, strlen(gidbuf), 1, UINT64_MAX, &gid) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "id");
    if (reason[0] == '\0' || strlen(reason) > GRADUATION_REASON_MAX ||
        !parse_utf8_valid(reason, strlen(reason)))
        return admin_grad_again(c, j, id, &g, bad_reason, 1);
    err = graduation_revoke(c, &scope, &actor, gid, reason, &of);
    if (err == KERR_NOT_FOUND)
        return admin_message(j, 404, L(j, "Tidak ditemukan", "Not found"),
                             L(j, "Graduasi ini tidak ada, atau di luar wilayah Anda.",
                               "This graduation does not exist, or is outside your region."));
    if (err == KERR_INVALID)
        return admin_grad_again(c, j, id, &g, bad_reason, 1);
    if (err != 0)
        return err;
    snprintf(loc, sizeof loc, "/kpm?id=%llu#graduation", (unsigned long long)of);
    admin_redirect(j, loc);
    return 0;
}
