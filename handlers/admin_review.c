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

/* Whether review rid, which carries the request's key, is the review asked for. */
static int
admin_review_same(struct db_conn *c, uint64_t rid, int type, uint64_t id, const char *status,
                  const char *note)
{
    struct admin_rows rs = {0};
    struct db_param p = DB_U64(rid);
    char idbuf[24];
    int err, same;

    /* a locking read: the twin that committed a moment ago may be newer than our snapshot */
    if ((err = admin_rows_query(c,
                                "SELECT report_type, report_id, status, COALESCE(note, '')"
                                " FROM reviews WHERE id = ? FOR UPDATE",
                                &p, 1, &rs)) != 0)
        return err;
    snprintf(idbuf, sizeof idbuf, "%llu", (unsigned long long)id);
    same = rs.n == 1 && strcmp(nz(CELL(&rs, 0, 0)), review_type_names[type]) == 0 &&
           strcmp(nz(CELL(&rs, 0, 1)), idbuf) == 0 && strcmp(nz(CELL(&rs, 0, 2)), status) == 0 &&
           strcmp(nz(CELL(&rs, 0, 3)), note != NULL ? note : "") == 0;
    admin_rows_free(&rs);
    return same ? 0 : ADMIN_ECONFLICT;
}

int
admin_review_record(struct db_conn *c, const struct auth_user *u, int type, uint64_t id,
                    const char *status, const char *note, const char *key, uint64_t *kpm_id)
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
    struct db_param p[6];
    uint64_t affected = 0, rid = 0;
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
    if (note != NULL && note[0] == '\0')
        note = NULL;
    p[0] = DB_STR(review_type_names[type]);
    p[1] = DB_U64(id);
    p[2] = DB_U64(u->id);
    p[3] = DB_STR(status);
    p[4] = note != NULL ? DB_STR(note) : DB_NULL();
    p[5] = DB_STR(key);
    /* a twin request in flight waits here for the first to commit, then finds its review */
    if ((err = db_exec(c,
                       "INSERT INTO reviews (report_type, report_id, reviewer_id, status, note,"
                       " idempotency_key) VALUES (?, ?, ?, ?, ?, ?)"
                       " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                       p, 6, &affected, &rid)) != 0)
        return err;
    /* the key's review was there: its audit row is too */
    if (affected != 1)
        return admin_review_same(c, rid, type, id, status, note);
    /* the note stays in reviews: the audit log says who did what, not what a KPM told */
    snprintf(action, sizeof action, "review.%s", status);
    return auth_audit(c, u->username, action, review_type_names[type], id, NULL);
}

int
admin_do_review(struct db_conn *c, struct admin_job *j)
{
    char csrf[AUTH_TOKEN_HEX], type[16] = "", idbuf[24] = "", status[16] = "";
    char note[REVIEW_NOTE_MAX + 1] = "", nonce[PARSE_IDEM_KEY_MAX + 1] = "";
    struct parse_field f[] = {
        {"csrf", csrf, sizeof csrf, 0, 0, 0}, {"type", type, sizeof type, 0, 0, 1},
        {"id", idbuf, sizeof idbuf, 0, 0, 1}, {"status", status, sizeof status, 0, 0, 1},
        {"note", note, sizeof note, 0, 0, 0}, {"nonce", nonce, sizeof nonce, 0, 0, 0},
    };
    uint64_t id, kpm;
    int t, checked, err;
    char loc[96];

    if (admin_form(j, f, 6) == -1)
        return 0;
    checked = review_action_check(type, status, note, &t);
    if (checked == REVIEW_ACTION_BAD || parse_u64(idbuf, strlen(idbuf), 1, UINT64_MAX, &id) == -1 ||
        (nonce[0] != '\0' && !parse_idem_key_valid(nonce, strlen(nonce))))
        return admin_message(j, 400, L(j, "Permintaan salah", "Bad request"),
                             "type, id, status, nonce");
    if (checked == REVIEW_ACTION_NO_NOTE)
        return admin_message(j, 400, L(j, "Catatan kosong", "Empty note"),
                             L(j, "Tulis catatan dulu.", "Write a note first."));
    /* the form's nonce makes a form sent twice one review; a form from before there were
     * nonces has the request's key, which still makes a re-run of this job one review */
    err = admin_review_record(c, &j->s.user, t, id, status, note, nonce[0] != '\0' ? nonce : j->key,
                              &kpm);
    if (err == ADMIN_ECONFLICT)
        return admin_message(j, 409, L(j, "Formulir sudah dikirim", "Form already sent"),
                             L(j,
                               "Formulir ini sudah dikirim dengan pilihan lain. Muat ulang "
                               "halaman lalu coba lagi.",
                               "This form was already sent with another choice. Reload the "
                               "page and try again."));
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
