/*
 * Alerts (GET /alerts?state=open|acknowledged): the alerts within the user's region, grouped by
 * the assistant they went to.
 */
#include <string.h>

#include "admin_int.h"
#include "db.h"
#include "parse.h"
#include "review.h"

int
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
