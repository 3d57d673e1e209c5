/*
 * Alerts (GET /alerts?state=open|acknowledged): the alerts within the user's region, grouped by
 * the assistant they went to, each with what came of it; a graduation candidate gets the
 * buttons confirm, decline (with a reason) and later (POST /alerts/outcome, recorded by
 * graduation_candidate_outcome()).
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "admin_int.h"
#include "config.h"
#include "db.h"
#include "graduation.h"
#include "parse.h"
#include "review.h"

/* what came of alert row i (columns 9..13 of the page's statement) */
static void
admin_alerts_outcome(struct admin_job *j, struct admin_rows *rs, size_t i)
{
    if (CELL(rs, i, 9) == NULL) {
        out(j, "-");
        return;
    }
    out(j, "<span class=\"outcome\">");
    esc(j, admin_outcome_label(j, CELL(rs, i, 9)));
    out(j, "</span> &middot; ");
    admin_actor(j, CELL(rs, i, 10), CELL(rs, i, 11));
    out(j, " &middot; ");
    esc(j, CELL(rs, i, 12));
    if (CELL(rs, i, 13) != NULL) {
        out(j, " &mdash; ");
        esc(j, CELL(rs, i, 13));
    }
}

/* the buttons of an open graduation candidate not decided yet */
static void
admin_alerts_buttons(struct admin_job *j, struct admin_rows *rs, size_t i)
{
    const char *o = CELL(rs, i, 9);

    if (strcmp(nz(CELL(rs, i, 3)), config_rule_names[RULE_GRADUATION]) != 0 ||
        strcmp(nz(CELL(rs, i, 4)), "acknowledged") == 0 ||
        strcmp(nz(CELL(rs, i, 4)), "expired") == 0 ||
        (o != NULL && (strcmp(o, "confirmed") == 0 || strcmp(o, "declined") == 0)))
        return;
    out(j, "<form class=\"candidate\" method=\"post\" action=\"/alerts/outcome\">");
    admin_csrf_field(j);
    out(j, "<input type=\"hidden\" name=\"id\" value=\"");
    esc(j, CELL(rs, i, 1));
    outf(j,
         "\"><input name=\"reason\" maxlength=\"%d\" placeholder=\"%s\">"
         "<button name=\"outcome\" value=\"confirmed\">%s</button>"
         "<button name=\"outcome\" value=\"declined\">%s</button>"
         "<button name=\"outcome\" value=\"later\">%s</button></form>",
         GRADUATION_REASON_MAX, L(j, "Alasan (wajib bila ditolak)", "Reason (needed to decline)"),
         L(j, "Konfirmasi graduasi sejahtera", "Confirm welfare graduation"),
         L(j, "Tolak", "Decline"), L(j, "Nanti", "Later"));
}

/* the page; msg: NULL, or why a candidate's outcome was refused (the page is then a 422) */
static int
admin_alerts_show(struct db_conn *c, struct admin_job *j, const char *msg)
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
    if (msg != NULL) {
        out(j, "<p class=\"message\" id=\"outcome-error\">");
        esc(j, msg);
        out(j, "</p>");
    }
    outf(j,
         "<p><a href=\"/alerts?state=open\" id=\"alerts-open\">%s</a> &middot; "
         "<a href=\"/alerts?state=acknowledged\" id=\"alerts-acked\">%s</a></p>",
         L(j, "Terbuka", "Open"), L(j, "Sudah dikonfirmasi", "Acknowledged"));
#define ADMIN_ALERTS_SQL(cond)                                                                                                               \
    "SELECT s.name, a.id, " REVIEW_WIB(                                                                                                      \
        "a.created_at") ", a.rule, a.state, a.urgency, k.id,"                                                                                \
                        " k.name, " REVIEW_WIB("a.acked_at") ", a.outcome, " ADMIN_ACTOR_TAG_TYPE("a.outcome_by") ", " ADMIN_ACTOR_TAG_NAME( \
                            "a.outcome_by") ", " REVIEW_WIB("a.outcome_at") ", a.outcome_note"                                               \
                                                                            " FROM alerts a JOIN "                                           \
                                                                            "kpm k ON k.id = "                                               \
                                                                            "a.kpm_id"                                                       \
                                                                            " JOIN assistants s "                                            \
                                                                            "ON s.id = "                                                     \
                                                                            "a.assistant_id "                                                \
                                                                            "WHERE" REVIEW_SCOPE                                             \
                                                                                cond                                                         \
                                                                            " ORDER BY s.name, "                                             \
                                                                            "a.created_at DESC "                                             \
                                                                            "LIMIT 1000"
    if ((err = admin_rows_query(c,
                                acked ? ADMIN_ALERTS_SQL(" AND a.state = 'acknowledged'")
                                      : ADMIN_ALERTS_SQL(" AND a.state IN ('new', 'sent')"),
                                &p, 1, &rs)) != 0)
        return err;
#undef ADMIN_ALERTS_SQL
    for (i = 0; i < rs.n; i++) {
        if (prev == NULL || strcmp(prev, nz(CELL(&rs, i, 0))) != 0) {
            if (prev != NULL)
                out(j, "</tbody></table>");
            out(j, "<h2 class=\"assistant\">");
            esc(j, CELL(&rs, i, 0));
            outf(j,
                 "</h2><table class=\"alerts\"><thead><tr><th>%s</th><th>%s</th><th>KPM</th>"
                 "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>",
                 L(j, "Waktu (WIB)", "Time (WIB)"), L(j, "Aturan", "Rule"), L(j, "Status", "State"),
                 L(j, "Dikonfirmasi", "Acknowledged"), L(j, "Hasil", "Outcome"));
            prev = nz(CELL(&rs, i, 0));
        }
        /* the row's own attributes go on its first cell: <tr class="alert"> stays as it was */
        out(j, "<tr class=\"alert\"><td id=\"alert-");
        esc(j, CELL(&rs, i, 1));
        out(j, "\" data-rule=\"");
        esc(j, CELL(&rs, i, 3));
        out(j, "\" data-outcome=\"");
        esc(j, CELL(&rs, i, 9));
        out(j, "\">");
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
        out(j, "</td><td>");
        admin_alerts_outcome(j, &rs, i);
        admin_alerts_buttons(j, &rs, i);
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

int
admin_page_alerts(struct db_conn *c, struct admin_job *j)
{
    return admin_alerts_show(c, j, NULL);
}

int
admin_do_alert_outcome(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], idbuf[24] = "", outcome[16] = "", reason[1024] = "", loc[64];
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0},
        {"id", idbuf, sizeof idbuf, 0, 0, 1},
        {"outcome", outcome, sizeof outcome, 0, 0, 1},
        {"reason", reason, sizeof reason, 0, 0, 0},
    };
    struct scope scope = {j->s.user.region, 0};
    struct actor actor = {ACTOR_ADMIN, j->s.user.id, j->s.user.username, VIA_PAGE};
    const char *no_reason = L(j, "Tulis alasan penolakan (paling panjang 255 byte).",
                              "Write why the candidate is declined (at most 255 bytes).");
    enum alert_outcome o;
    uint64_t id;
    int err;

    if (admin_form(j, f, sizeof f / sizeof f[0]) == -1)
        return 0;
    for (o = OUTCOME_CONFIRMED; o <= OUTCOME_LATER; o++)
        if (strcmp(outcome, alert_outcome_names[o]) == 0)
            break;
    if (o > OUTCOME_LATER || parse_u64(idbuf, strlen(idbuf), 1, UINT64_MAX, &id) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"),
                             "id, outcome: confirmed, declined, later");
    if (strlen(reason) > GRADUATION_REASON_MAX || !parse_utf8_valid(reason, strlen(reason)) ||
        (o == OUTCOME_DECLINED && reason[0] == '\0')) {
        j->status = 422;
        return admin_alerts_show(c, j, no_reason);
    }
    err = graduation_candidate_outcome(c, j->cfg, &scope, &actor, id, o, reason);
    if (err == KERR_NOT_FOUND)
        return admin_message(j, 404, L(j, "Tidak ditemukan", "Not found"),
                             L(j, "Peringatan ini tidak ada, atau di luar wilayah Anda.",
                               "This alert does not exist, or is outside your region."));
    if (err == KERR_CONFLICT)
        return admin_message(j, 409, L(j, "Sudah diputuskan", "Already decided"),
                             L(j, "Calon graduasi ini sudah dikonfirmasi atau ditolak.",
                               "This graduation candidate was confirmed or declined already."));
    if (err == KERR_INVALID) {
        j->status = 422;
        return admin_alerts_show(c, j,
                                 L(j, "Hanya calon graduasi yang dapat dikonfirmasi atau ditolak.",
                                   "Only a graduation candidate can be confirmed or declined."));
    }
    if (err != 0)
        return err;
    snprintf(loc, sizeof loc, "/alerts?state=open#alert-%llu", (unsigned long long)id);
    admin_redirect(j, loc);
    return 0;
}
