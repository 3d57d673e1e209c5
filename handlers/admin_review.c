/*
 * A review action: an administrator marks a report reviewed or needing follow-up, or leaves a
 * note. The KPM page's form (POST /review) and the API (POST /api/v1/reviews, api.c) check the
 * values with review_action_check() and record the action here.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "admin_int.h"
#include "auth.h"
#include "db.h"
#include "parse.h"
#include "review.h"

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
    if ((err = admin_rows_query(c, check[type], p, 2, &rs)) != 0)
        return err;
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

int
admin_do_review(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], type[16] = "", idbuf[24] = "", status[16] = "";
    char note[REVIEW_NOTE_MAX + 1] = "";
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0}, {"type", type, sizeof type, 0, 0, 1},
        {"id", idbuf, sizeof idbuf, 0, 0, 1}, {"status", status, sizeof status, 0, 0, 1},
        {"note", note, sizeof note, 0, 0, 0},
    };
    uint64_t id, kpm;
    int t, checked, err;
    char loc[96];

    if (admin_form(j, f, 5) == -1)
        return 0;
    checked = review_action_check(type, status, note, &t);
    if (checked == REVIEW_ACTION_BAD || parse_u64(idbuf, strlen(idbuf), 1, UINT64_MAX, &id) == -1)
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"), "type, id, status");
    if (checked == REVIEW_ACTION_NO_NOTE)
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
