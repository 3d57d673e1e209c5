#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "lesson.h"
#include "lesson_store.h"
#include "parse.h"

static const char *
lesson_via_name(enum lesson_via via)
{
    return via == LESSON_VIA_SMS ? "sms" : "ussd";
}

int
lesson_enrol(struct db_conn *c, uint64_t kpm_id, const char *course)
{
    struct db_param p[] = {DB_U64(kpm_id), DB_STR(course)};

    return db_exec(c, "INSERT IGNORE INTO lesson_enrolments (kpm_id, course) VALUES (?, ?)", p, 2,
                   NULL, NULL);
}

/* The step's key written: *fresh is 0 when the same step was counted before. */
static int
lesson_event(struct db_conn *c, uint64_t kpm_id, const struct lesson_key *key, const char *event,
             int *fresh)
{
    struct db_param p[] = {DB_STR(key->channel), DB_STR(key->session_id), DB_STR(event),
                           DB_U64(kpm_id)};
    uint64_t affected = 0;
    int err;

    err = db_exec(c,
                  "INSERT IGNORE INTO lesson_events (channel, session_id, event, kpm_id)"
                  " VALUES (?, ?, ?, ?)",
                  p, 4, &affected, NULL);
    *fresh = err == 0 && affected > 0;
    return err;
}

int
lesson_screen_seen(struct db_conn *c, uint64_t kpm_id, const char *course, const char *module,
                   unsigned screen, unsigned nscreens, enum lesson_via via,
                   const struct lesson_key *key)
{
    unsigned seen = screen + 1 > nscreens ? nscreens : screen + 1;
    struct db_param p[] = {DB_U64(kpm_id), DB_STR(course),
                           DB_STR(module), DB_STR(lesson_via_name(via)),
                           DB_U64(seen),   DB_U64(screen)};
    char event[48];
    int err, fresh;

    snprintf(event, sizeof event, "screen:%s:%u", module, screen);
    if ((err = lesson_enrol(c, kpm_id, course)) != 0 ||
        (err = lesson_event(c, kpm_id, key, event, &fresh)) != 0 || !fresh)
        return err;
    return db_exec(c,
                   "INSERT INTO lesson_progress (kpm_id, course, module, started_via, screens_seen,"
                   " last_screen) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
                   " screens_seen = GREATEST(screens_seen, VALUES(screens_seen)),"
                   /* the furthest screen read: two hops' jobs may commit out of order on two
                    * workers, and the later screen must win whichever commits last */
                   " last_screen = GREATEST(last_screen, VALUES(last_screen))",
                   p, 6, NULL, NULL);
}

int
lesson_quiz_finished(struct db_conn *c, uint64_t kpm_id, const char *course, const char *module,
                     unsigned right, unsigned questions, unsigned pass, enum lesson_via via,
                     const struct lesson_key *key, const char *tag, int *passed)
{
    int ok = right >= pass, err, fresh;
    const char *vn = lesson_via_name(via);
    struct db_param p[] = {DB_U64(kpm_id), DB_STR(course),    DB_STR(module), DB_STR(vn),
                           DB_U64(right),  DB_U64(questions), DB_U64(ok),     DB_U64(ok),
                           DB_STR(vn),     DB_U64(ok),        DB_STR(vn)};
    char event[48];

    if (passed != NULL)
        *passed = ok;
    snprintf(event, sizeof event, "quiz:%s:%s", module, tag != NULL ? tag : "");
    if ((err = lesson_enrol(c, kpm_id, course)) != 0 ||
        (err = lesson_event(c, kpm_id, key, event, &fresh)) != 0 || !fresh)
        return err;
    /* passed_at and passed_via are set by the first pass only */
    return db_exec(c,
                   "INSERT INTO lesson_progress (kpm_id, course, module, started_via, attempts,"
                   " score, questions, passed_at, passed_via) VALUES (?, ?, ?, ?, 1, ?, ?,"
                   " IF(?, NOW(3), NULL), IF(?, ?, NULL)) ON DUPLICATE KEY UPDATE"
                   " attempts = attempts + 1,"
                   " score = GREATEST(COALESCE(score, 0), VALUES(score)),"
                   " questions = VALUES(questions),"
                   " passed_via = IF(passed_at IS NULL AND ?, ?, passed_via),"
                   " passed_at = COALESCE(passed_at, VALUES(passed_at))",
                   p, 11, NULL, NULL);
}

struct lesson_row {
    const struct lesson_course *course;
    unsigned char passed[64];
    unsigned last[64];
};

static int
lesson_row_progress(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct lesson_row *r = arg;
    const struct lesson_module *m;
    uint64_t last = 0;
    int i;

    (void)len;
    if (n < 3 || v[0] == NULL || (m = lesson_module(r->course, v[0])) == NULL ||
        (i = lesson_module_index(r->course, m)) < 0 || i >= 64)
        return 1;
    r->passed[i] = v[1] != NULL;
    if (v[2] != NULL && parse_u64(v[2], strlen(v[2]), 0, 65535, &last) == 0)
        r->last[i] = (unsigned)last;
    return 1;
}

int
lesson_next_module(struct db_conn *c, uint64_t kpm_id, const struct lesson_course *course,
                   int *index, unsigned *last_screen)
{
    struct db_param p[] = {DB_U64(kpm_id), DB_STR(course->id)};
    struct lesson_row r;
    unsigned i;
    int err;

    memset(&r, 0, sizeof r);
    r.course = course;
    *index = -1;
    *last_screen = 0;
    if ((err = db_query(c,
                        "SELECT module, passed_at, last_screen FROM lesson_progress"
                        " WHERE kpm_id = ? AND course = ?",
                        p, 2, lesson_row_progress, &r)) != 0)
        return err;
    for (i = 0; i < course->nmodules && i < 64; i++)
        if (!r.passed[i]) {
            *index = (int)i;
            *last_screen = r.last[i];
            break;
        }
    return 0;
}
