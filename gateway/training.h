/*
 * Trainings for assistants and lecturers (TOT): their own attendance, reported from their phones
 * (HADIR <code> by SMS, sms_assistant.c; the assistant's USSD menu, ussd_assistant.c). One
 * function, the same check for both channels: enrolled in a training with that attendance code,
 * not closed, and today (WIB) one of its days. One row per participant and day, so a re-sent SMS
 * or a retried USSD hop counts once. KPM report theirs as reports (report.c), as before.
 */
#ifndef KABAR_TRAINING_H
#define KABAR_TRAINING_H

#include <stdint.h>

struct db_conn;

enum training_who { TRAINING_ASSISTANT, TRAINING_LECTURER };

enum training_result {
    TRAINING_SAVED,   /* today's attendance recorded (or already was) */
    TRAINING_UNKNOWN, /* no training of hers with that code: wrong code or not enrolled */
    TRAINING_CLOSED,  /* hers, but closed, or today is not one of its days */
};

struct training_attend_in {
    enum training_who who;
    uint64_t id; /* assistants.id or lecturers.id */
    const char *code;
    const char *source; /* "sms" or "ussd" */
    const char *channel;
    const char *session_id;
};

struct training_attend_out {
    enum training_result result;
    uint64_t training_id;
    char title[101];
    char day[11];   /* today, WIB, YYYY-MM-DD */
    unsigned days;  /* days she attended, this one included */
    unsigned total; /* days of the training */
};

/* On a worker, inside the caller's transaction. 0 with o filled, or a MariaDB error. */
int training_attend(struct db_conn *c, const struct training_attend_in *in,
                    struct training_attend_out *o);

/*
 * When assistant `a` (an SQL expression of her assistants.id) became certified under the rule
 * training.certification of kabard.conf: the first of her trainings of that kind she attended
 * on every day (or one) and, with the rule's passed, whose course was marked passed; the time is
 * the later of that mark and her last attendance there. NULL: not certified. Takes
 * TRAINING_CERT_NPARAMS parameters, training_cert_params() gives them.
 */
#define TRAINING_CERTIFIED_AT(a)                                                                   \
    "(SELECT MIN(GREATEST(COALESCE(cp.passed_at, '1000-01-01'),"                                   \
    " (SELECT MAX(cx.created_at) FROM training_attendance cx WHERE cx.training_id = "              \
    "cp.training_id"                                                                               \
    " AND cx.participant_type = 'assistant' AND cx.participant_id = cp.participant_id)))"          \
    " FROM training_participants cp JOIN trainings ct ON ct.id = cp.training_id"                   \
    " WHERE cp.participant_type = 'assistant' AND cp.participant_id = " a " AND ct.kind = ?"       \
    " AND (? = 0 OR cp.passed = 1) AND (SELECT COUNT(*) FROM training_attendance cx"               \
    " WHERE cx.training_id = cp.training_id AND cx.participant_type = 'assistant'"                 \
    " AND cx.participant_id = cp.participant_id) >= IF(? = 1,"                                     \
    " DATEDIFF(DATE(COALESCE(ct.ends_at, ct.starts_at) + INTERVAL 7 HOUR),"                        \
    " DATE(ct.starts_at + INTERVAL 7 HOUR)) + 1, 1))"
#define TRAINING_CERT_NPARAMS 3
/* the TOT trainings assistant `a` attended on at least one day */
#define TRAINING_TOT_ATTENDED(a)                                                                   \
    "(SELECT COUNT(DISTINCT tx.training_id) FROM training_attendance tx"                           \
    " JOIN trainings tt ON tt.id = tx.training_id WHERE tx.participant_type = 'assistant'"         \
    " AND tx.participant_id = " a " AND tt.kind = 'tot')"

struct config;
struct db_param;
/* the TRAINING_CERT_NPARAMS parameters of TRAINING_CERTIFIED_AT(), into p */
void training_cert_params(const struct config *cfg, struct db_param *p);

#endif
