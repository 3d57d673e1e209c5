/*
 * The assistants page (GET /assistants): each assistant of the user's region with her caseload
 * (her KPM), the TOT trainings she attended and whether she is certified, and since when, under
 * training.certification of kabard.conf (gateway/training.h). 500 a page, in id order (?after=).
 */
#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "db.h"
#include "parse.h"
#include "training.h"

#define ADMIN_ASSISTANTS_PAGE 500

int
admin_page_assistants(struct db_conn *c, struct admin_job *j)
{
    char after[24] = "", err_msg[96];
    struct parse_field qf[] = {{"after", after, sizeof after, 0, 0, 0}};
    struct admin_rows rs = {0};
    struct db_param p[3 + TRAINING_CERT_NPARAMS];
    uint64_t from = 0;
    size_t i;
    int err;

    if (parse_form(j->query, strlen(j->query), qf, 1, err_msg, sizeof err_msg) == -1 ||
        (after[0] != '\0' && parse_u64(after, strlen(after), 0, UINT32_MAX, &from) == -1))
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "after");
    training_cert_params(j->cfg, p);
    p[TRAINING_CERT_NPARAMS] = DB_STR(j->s.user.region);
    p[TRAINING_CERT_NPARAMS + 1] = DB_U64(from);
    /* idx_kpm_assistant counts a caseload; the region prefix walks idx_assistants_region */
    if ((err = admin_rows_query(c,
                                "SELECT a.id, a.name, a.region_code,"
                                " (SELECT COUNT(*) FROM kpm k WHERE k.assistant_id = a.id),"
                                " " TRAINING_TOT_ATTENDED(
                                    "a.id") ","
                                            " " REVIEW_WIB(TRAINING_CERTIFIED_AT(
                                                "a.id")) " FROM assistants a"
                                                         " WHERE a.region_code LIKE CONCAT(?, '%') "
                                                         "AND a.id > ? ORDER BY a.id LIMIT 500",
                                p, TRAINING_CERT_NPARAMS + 2, &rs)) != 0)
        return err;
    admin_head(j, L(j, "Pendamping", "Assistants"), "assistants-page");
    outf(j,
         "<table id=\"assistants\"><thead><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th>"
         "<th>%s</th></tr></thead><tbody>",
         L(j, "Nama", "Name"), L(j, "Wilayah", "Region"), L(j, "KPM dampingan", "Caseload"),
         L(j, "TOT diikuti", "TOT attended"), L(j, "Tersertifikasi", "Certified"));
    for (i = 0; i < rs.n; i++) {
        const char *cert = CELL(&rs, i, 5);

        out(j, "<tr class=\"assistant\" data-id=\"");
        esc(j, CELL(&rs, i, 0));
        outf(j, "\" data-certified=\"%d\" data-tot=\"", cert != NULL);
        esc(j, CELL(&rs, i, 4));
        out(j, "\" data-caseload=\"");
        esc(j, CELL(&rs, i, 3));
        out(j, "\"><td>");
        esc(j, CELL(&rs, i, 1));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 2));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 3));
        out(j, "</td><td>");
        esc(j, CELL(&rs, i, 4));
        out(j, "</td><td>");
        if (cert != NULL) {
            outf(j, "%s, ", L(j, "ya", "yes"));
            esc(j, cert);
        } else {
            out(j, L(j, "belum", "no"));
        }
        out(j, "</td></tr>\n");
    }
    if (rs.n == 0)
        outf(j, "<tr><td colspan=\"5\">%s</td></tr>", L(j, "Tidak ada.", "None."));
    out(j, "</tbody></table>\n");
    if (rs.n == ADMIN_ASSISTANTS_PAGE) {
        out(j, "<p><a id=\"assistants-next\" href=\"/assistants?after=");
        esc(j, CELL(&rs, rs.n - 1, 0));
        outf(j, "\">%s</a></p>", L(j, "Berikutnya", "Next"));
    }
    admin_rows_free(&rs);
    admin_foot(j);
    return 0;
}
