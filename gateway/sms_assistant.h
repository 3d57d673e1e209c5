/*
 * What a social assistant's SMS does: OK n [outcome], CEK <pkh>, KUNJUNG <pkh> <outcome>
 * [YA|TIDAK], LULUS <pkh> <track> (config/keywords.conf), and HADIR <code>, her own TOT attendance
 * (a lecturer's too, gateway/training.c). Runs on the worker of gateway/sms.c's DB_TXN job, inside
 * its transaction, before the reply is queued with the same commit: "saved" is said only of what
 * commits. Every statement is scoped to the sender's own caseload (review.h struct scope {"", her
 * id}); a KPM or an alert of another assistant's gets exactly the reply one that does not exist
 * gets. The writes go through gateway/graduation.c (audited as assistant:ID, via sms), keyed by the
 * message, so a retried MO writes nothing twice.
 */
#ifndef KABAR_SMS_ASSISTANT_H
#define KABAR_SMS_ASSISTANT_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct db_conn;
struct keyword_msg;

struct sms_assistant_msg {
    const struct config *cfg;    /* keywords, texts, graduation */
    const struct keyword_msg *k; /* the message as parsed, well-formed or not */
    uint64_t assistant_id;       /* the sender: assistants.id (lecturers.id with lecturer) */
    const char *channel;         /* the message's key: its channel and aggregator id, ... */
    const char *msg_id;
    uint64_t inbound_id; /* ... and its inbound_messages row */
    int en;              /* reply in English */
    int lecturer;        /* the sender is a lecturer: HADIR <code> only */
};

/* Acts on the message and writes the reply (UTF-8, NUL-terminated) into reply. Returns 0 or a
 * MariaDB error (the transaction is then rolled back and the job re-run or failed). */
int sms_assistant_act(struct db_conn *c, const struct sms_assistant_msg *m, char *reply,
                      size_t replylen);

#endif
