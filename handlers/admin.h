/* Shared by the admin pages (admin.c), their exports and the JSON API (api.c). */
#ifndef KABAR_ADMIN_H
#define KABAR_ADMIN_H

#include <stdint.h>

#include "auth.h"
#include "kerr.h"

struct db_conn;

/* Outcome of recording a review action: no such report in the region (gateway/kerr.h). */
#define ADMIN_ENOTFOUND KERR_NOT_FOUND

/*
 * On a worker, inside a transaction: a review (reviewed, follow_up or note) of report `id` of
 * `type` (review_type), if the report is within the user's region; and its audit_log row.
 * Returns 0 and sets *kpm_id, ADMIN_ENOTFOUND, or a MariaDB error.
 */
int admin_review_record(struct db_conn *c, const struct auth_user *u, int type, uint64_t id,
                        const char *status, const char *note, uint64_t *kpm_id);

struct config;

/* Deletes expired admin sessions (a database job; nothing when the database is busy). */
void admin_sweep(const struct config *cfg);

/* The NIK as administrators see it: twelve stars and the last four digits. */
void admin_nik_masked(const char *last4, char *out, size_t outlen);

#endif
