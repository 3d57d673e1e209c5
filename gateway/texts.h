/*
 * The SMS texts Kabar sends (replies, alerts, digests, reminders): data in keywords.conf, group
 * `replies`, each in Bahasa Indonesia and English, named in code by an id. Pure: no I/O but the
 * file the caller has read, no globals.
 */
#ifndef KABAR_TEXTS_H
#define KABAR_TEXTS_H

#include <stddef.h>

enum text_id {
    TEXT_UNKNOWN_NUMBER,
    TEXT_USAGE,
    TEXT_USAGE_BUSINESS,
    TEXT_USAGE_ATTEND,
    TEXT_USAGE_ABSENT,
    TEXT_USAGE_ACK,
    TEXT_INFO,
    TEXT_BUSINESS_SAVED,
    TEXT_ATTEND_SAVED,
    TEXT_ABSENT_SAVED,
    TEXT_UNKNOWN_CODE,
    TEXT_HELP_SAVED,
    TEXT_STOPPED,
    TEXT_STARTED,
    TEXT_ACK_OK,
    TEXT_ACK_UNKNOWN,
    TEXT_ALERT_FIRST, /* one per alert rule, in the order of enum config_rule */
    TEXT_ALERT_BUSINESS_CLOSED = TEXT_ALERT_FIRST,
    TEXT_ALERT_HELP_REQUESTED,
    TEXT_ALERT_TRAINING_MISSED,
    TEXT_ALERT_SILENT,
    TEXT_ALERT_REVENUE_DROP,
    TEXT_ALERT_GRADUATION,
    TEXT_ALERT_LINK_REQUEST,
    TEXT_ALERT_RELAPSE,
    TEXT_DIGEST,
    TEXT_REMIND_TRAINING,
    TEXT_NUDGE,
    TEXT_CHECKIN, /* the welfare graduates' monthly check-in nudge */
    /* replies to assistants' SMS (gateway/sms_assistant.c) */
    TEXT_USAGE_ASSISTANT,  /* an assistant's message that is no well-formed command of hers */
    TEXT_KPM_UNKNOWN,      /* no KPM of hers with that PKH number (or none at all) */
    TEXT_CHECK,            /* CEK: her KPM, the latest business report, open alerts */
    TEXT_CHECK_NO_REPORT,  /* CEK of a KPM who never reported her business */
    TEXT_VISIT_SAVED,      /* KUNJUNG recorded */
    TEXT_GRADUATION_SAVED, /* LULUS recorded */
    TEXT_OUTCOME_SAVED,    /* OK n <outcome> recorded */
    TEXT_OUTCOME_REFUSED,  /* OK n <outcome> that the alert does not take */
    /* an assistant's or lecturer's own TOT attendance (gateway/training.c) */
    TEXT_TRAINING_SAVED,     /* HADIR <code>: today's attendance recorded */
    TEXT_TRAINING_UNKNOWN,   /* no training of hers with the code (wrong code, not enrolled) */
    TEXT_TRAINING_CLOSED,    /* hers, but closed or not today */
    TEXT_USAGE_ATTEND_TOT,   /* an assistant's HADIR without a well-formed code */
    TEXT_USAGE_LECTURER,     /* a lecturer's message that is no HADIR <code> */
    TEXT_USSD_TRAINING_ITEM, /* the line of the assistant's USSD menu (gateway/ussd_assistant.c) */
    TEXT_USSD_TRAINING_CODE, /* its screen asking for the code */
    /* the micro-lessons (gateway/sms_lesson.c, and the weekly drip) */
    TEXT_LESSON_NONE,        /* no course configured (or she is no KPM of one) */
    TEXT_LESSON_DONE,        /* every module of the course passed */
    TEXT_LESSON_REPLY,       /* the line under a question: how to answer it */
    TEXT_LESSON_RIGHT,       /* an answer right */
    TEXT_LESSON_WRONG,       /* an answer wrong: the right option and its explanation follow */
    TEXT_LESSON_PASSED,      /* {title} {right} {total}: the quiz passed */
    TEXT_LESSON_FAILED,      /* {right} {total} {pass}: the quiz not passed */
    TEXT_LESSON_WEEKLY,      /* BELAJAR MINGGUAN */
    TEXT_LESSON_WEEKLY_STOP, /* BELAJAR STOP */
    TEXT_USAGE_ANSWER,       /* B n with no question waiting, or malformed */
    TEXT_COUNT
};

struct texts;
struct cfgfile;

/* From keywords.conf already read; an error ("FILE:LINE: ...") goes to the cfgfile. */
struct texts *texts_from(struct cfgfile *f);
void texts_free(struct texts *);
/* The name of a text in the file ("business_saved"). */
const char *texts_name(enum text_id id);
/* Every text, with room for its placeholders, fits max_segments SMS parts; else -1 and err
 * names the text. */
int texts_check(const struct texts *x, unsigned max_segments, char *err, size_t errlen);
/* Text id in Indonesian (en = 0) or English, with {key} filled from kv (key, value, ..., NULL);
 * an unknown {key} is left as it is. Truncated to outlen. 0, or -1 for an id out of range. */
int texts_render(const struct texts *x, enum text_id id, int en, const char *const *kv, char *out,
                 size_t outlen);

#endif
