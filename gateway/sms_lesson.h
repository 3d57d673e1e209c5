/*
 * The micro-lessons over SMS (config/lessons.conf, the words in keywords.conf): BELAJAR sends a
 * KPM her next module as one SMS of at most two parts, then its first question; B <n> (or a bare
 * n while a question waits: lesson_enrolments.sms_module/sms_question/sms_right) is scored and
 * answered with the next question or the result; BELAJAR MINGGUAN / BELAJAR STOP set the weekly
 * drip. Runs on the worker of gateway/sms.c's DB_TXN job, inside its transaction; progress goes
 * through gateway/lesson_store.c, keyed by the message, so a retried MO counts once.
 */
#ifndef KABAR_SMS_LESSON_H
#define KABAR_SMS_LESSON_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct db_conn;
struct keyword_msg;

struct sms_lesson_msg {
    const struct config *cfg;    /* lessons, texts */
    const struct keyword_msg *k; /* the message as parsed */
    const char *text;            /* ... and as sent, for a bare number */
    size_t text_len;
    uint64_t kpm_id;     /* the sender, a KPM */
    const char *channel; /* the message's key: its channel and aggregator id */
    const char *msg_id;
    int en; /* reply in English */
};

/*
 * Acts on a lesson message. *handled is 0 when the message is none (a bare number with no
 * question waiting keeps its old meaning): nothing was done. Otherwise the reply is in reply and
 * a second message, when there is one (the first question after a lesson), in follow ("" if
 * none). Returns 0 or a MariaDB error.
 */
int sms_lesson_act(struct db_conn *c, const struct sms_lesson_msg *m, char *reply, size_t replylen,
                   char *follow, size_t followlen, int *handled);

#endif
