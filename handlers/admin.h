/* Shared by the admin pages (admin*.c) and the JSON API (api.c): recording a review action. */
#ifndef KABAR_ADMIN_H
#define KABAR_ADMIN_H

#include <stdint.h>

#include "auth.h"
#include "kerr.h"
#include "review.h"

struct db_conn;

/* Outcomes of recording a review action: no such report in the region, or the key names
 * another review of this user (gateway/kerr.h). */
#define ADMIN_ENOTFOUND KERR_NOT_FOUND
#define ADMIN_ECONFLICT KERR_CONFLICT

/*
 * On a worker, inside a transaction: a review (reviewed, follow_up or note) of report `id` of
 * `type` (review_type), if the report is within the user's region; and its audit_log row. The
 * values were checked with review_action_check(). key (parse_idem_key_valid()) is the request's:
 * a review of this user with this key already there (a re-run after a lost COMMIT, a form or API
 * call sent again) is the answer, and nothing is written. Returns 0 and sets *kpm_id,
 * ADMIN_ENOTFOUND, ADMIN_ECONFLICT (the key's review is of another report, status or note), or
 * a MariaDB error. (admin_review.c)
 */
int admin_review_record(struct db_conn *c, const struct auth_user *u, int type, uint64_t id,
                        const char *status, const char *note, const char *key, uint64_t *kpm_id);

/*
 * SQL pieces for who acted, pages and API alike: the administrator's username or the
 * assistant's name, from a (type, id) pair of columns (graduations.decided_by_*, revoked_by_*)
 * or from an actor column written as the audit log writes it ("admin:NAME", "assistant:ID",
 * alerts.outcome_by). The _TYPE piece is 'admin' or 'assistant' (NULL with no actor).
 */
#define ADMIN_ACTOR_NAME(type, id)                                                                 \
    "CASE " type " WHEN 'admin' THEN (SELECT au.username FROM admin_users au WHERE au.id = " id    \
    ") WHEN 'assistant' THEN (SELECT aa.name FROM assistants aa WHERE aa.id = " id ") END"
#define ADMIN_ACTOR_TAG_TYPE(col) "SUBSTRING_INDEX(" col ", ':', 1)"
#define ADMIN_ACTOR_TAG_NAME(col)                                                                  \
    "CASE WHEN " col " LIKE 'assistant:%' THEN (SELECT aa.name FROM assistants aa"                 \
    " WHERE aa.id = CAST(SUBSTRING(" col ", 11) AS UNSIGNED)) ELSE SUBSTRING(" col ", 7) END"

/*
 * Lesson progress rows as the export and GET /api/v1/lessons/progress list them
 * (admin_lessons.c): the review queue's region/assistant/track filter, and a KPM, a course and a
 * module, all within the user's region `scope`.
 */
#define ADMIN_LESSON_ID_MAX 32 /* lesson_progress.course and .module */
struct admin_lesson_query {
    const char *scope;
    struct review_filter f; /* region, assistant, track */
    uint64_t kpm;           /* 0: any */
    char course[ADMIN_LESSON_ID_MAX + 1];
    char module[ADMIN_LESSON_ID_MAX + 1];
};
/* Pure: the query from a query string (region, assistant, track, kpm, course, module); -1 with a
 * message naming the field. */
int admin_lesson_query_parse(const char *query, const char *scope, struct admin_lesson_query *q,
                             char *err, size_t errlen);
/* the statement of one keyset page (id < before, 0: from the top; newest first), with the
 * columns of admin_lesson_columns; -1 when it does not fit */
int admin_lessons_list(struct sqlb *b, const struct admin_lesson_query *q, uint64_t before,
                       unsigned limit);
extern const char *const admin_lesson_columns[];

#endif
