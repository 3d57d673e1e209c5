/*
 * The one writer of lesson progress (sql/009_lessons.sql), for USSD and SMS alike: every
 * function runs on a db.c worker inside the caller's DB_TXN and is safe to re-run. A step that
 * moves progress is keyed in lesson_events by (channel, session id, event), so a retried USSD
 * hop or a re-sent SMS counts once; both channels write the same lesson_progress row, so a
 * completion is never counted twice.
 */
#ifndef KABAR_LESSON_STORE_H
#define KABAR_LESSON_STORE_H

#include <stdint.h>

struct db_conn;
struct lesson_course;

enum lesson_via { LESSON_VIA_USSD, LESSON_VIA_SMS };

/* Where a step came from: the lesson_events key. */
struct lesson_key {
    const char *channel;    /* the channel's name */
    const char *session_id; /* the USSD session, or "sms:<message id>" */
};

/* Enrols the KPM in the course (once; a second call changes nothing). 0 or a MariaDB error. */
int lesson_enrol(struct db_conn *c, uint64_t kpm_id, const char *course);

/*
 * Screen `screen` (from 0) of the module read: the module's row is started if it was not,
 * screens_seen grows to screen + 1 (at most nscreens), last_screen is screen (where a dropped
 * session resumes). Keyed "screen:MODULE:N". 0 or a MariaDB error.
 */
int lesson_screen_seen(struct db_conn *c, uint64_t kpm_id, const char *course, const char *module,
                       unsigned screen, unsigned nscreens, enum lesson_via via,
                       const struct lesson_key *key);

/*
 * A quiz finished with `right` of `questions` right answers, pass the mark: attempts + 1, the
 * best score kept, passed_at (and passed_via) set by the first pass only. Keyed
 * "quiz:MODULE:TAG" (tag tells two attempts in one session apart; "" for none). *passed (may be
 * NULL) is 1 when this attempt passed. 0 or a MariaDB error.
 */
int lesson_quiz_finished(struct db_conn *c, uint64_t kpm_id, const char *course, const char *module,
                         unsigned right, unsigned questions, unsigned pass, enum lesson_via via,
                         const struct lesson_key *key, const char *tag, int *passed);

/*
 * Her next module: the first of the course, in course order, she has not passed (NULL when she
 * passed them all), and the screen she last reached in it (*last_screen, 0 if never started).
 * 0 or a MariaDB error.
 */
int lesson_next_module(struct db_conn *c, uint64_t kpm_id, const struct lesson_course *course,
                       int *index, unsigned *last_screen);

#endif
