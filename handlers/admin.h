/* Shared by the admin pages (admin*.c) and the JSON API (api.c): recording a review action. */
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
 * `type` (review_type), if the report is within the user's region; and its audit_log row. The
 * values were checked with review_action_check(). Returns 0 and sets *kpm_id, ADMIN_ENOTFOUND,
 * or a MariaDB error. (admin_review.c)
 */
int admin_review_record(struct db_conn *c, const struct auth_user *u, int type, uint64_t id,
                        const char *status, const char *note, uint64_t *kpm_id);

#endif
