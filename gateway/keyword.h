/*
 * SMS keywords: "USAHA BUKA 2.500.000 3", "HADIR 4821", "OK 57"... The words are data
 * (config/keywords.conf: command names, business states, absence reasons, money units and
 * currency words, field labels, each in Bahasa Indonesia and English); the grammar of each
 * command's arguments is here. keyword_parse() is pure: no I/O, no globals, no allocation.
 */
#ifndef KABAR_KEYWORD_H
#define KABAR_KEYWORD_H

#include <stddef.h>
#include <stdint.h>

#define KEYWORD_REVENUE_MAX 1000000000ULL /* Rupiah a month, as the USSD dialog */
#define KEYWORD_WORKERS_MIN 1
#define KEYWORD_WORKERS_MAX 999
#define KEYWORD_CODE_MIN 4 /* digits of a training's attendance code */
#define KEYWORD_CODE_MAX 8
#define KEYWORD_STATUS_MAX 4
#define KEYWORD_REASON_MAX 5
#define KEYWORD_TEXT_MAX 480           /* bytes of help text kept */
#define KEYWORD_ALERT_MAX (1ULL << 53) /* alert ids stay exact in JSON numbers */
#define KEYWORD_INPUT_MAX 1600         /* bytes: the longest SMS text a handler passes */
#define KEYWORD_PKH_MAX 20             /* digits of a PKH participant number (kpm.pkh_number) */
#define KEYWORD_VISIT_OUTCOME_MAX 99   /* home visit outcome codes (graduation.visit_outcomes) */
#define KEYWORD_LESSON_WEEKLY 1        /* BELAJAR MINGGUAN */
#define KEYWORD_LESSON_STOP 2          /* BELAJAR STOP */
#define KEYWORD_ANSWER_MAX 9           /* B <n>: a lesson question's option */

/* Immutable after load. */
struct keyword_set;

/* NULL on error, with err = "FILE:LINE: what is wrong" (LINE 0: the file as a whole). */
struct keyword_set *keyword_set_load(const char *path, char *err, size_t errlen);
/* The same from a file already read (its error goes to the cfgfile), so that keywords.conf is
 * parsed once for the keywords and the reply texts. */
struct cfgfile;
struct keyword_set *keyword_set_from(struct cfgfile *f);
void keyword_set_free(struct keyword_set *);
unsigned keyword_set_version(const struct keyword_set *);

enum keyword_cmd {
    KW_NONE,
    KW_BUSINESS,
    KW_BUSINESS_DIALOG, /* bare USAHA: start the business dialog, one question per SMS */
    KW_ATTEND,
    KW_ABSENT,
    KW_HELP,
    KW_INFO,
    KW_STOP,
    KW_START,
    KW_ACK,
    KW_CHECK,    /* CEK <pkh>: an assistant looks up one of her KPM */
    KW_VISIT,    /* KUNJUNG <pkh> <outcome> [YA|TIDAK]: an assistant's home visit today */
    KW_GRADUATE, /* LULUS <pkh> <track>: an assistant records a graduation */
    KW_LESSON,   /* BELAJAR [MINGGUAN|STOP]: the next micro-lesson, or the weekly drip on/off */
    KW_ANSWER,   /* B <n>: the answer to the lesson question waiting for her */
    KW_COUNT
};

/* What came of an alert, as OK n <outcome> says it (graduation.h enum alert_outcome + 1). */
enum keyword_outcome {
    KWO_NONE, /* a bare OK n: the acknowledgement */
    KWO_CALLED,
    KWO_VISITED,
    KWO_UNREACHABLE,
    KWO_REFERRED,
    KWO_NO_ACTION,
    KWO_CONFIRMED, /* the last three answer a graduation-candidate alert */
    KWO_DECLINED,  /* with a reason: the rest of the message, in text */
    KWO_LATER,
    KWO_COUNT
};

enum keyword_error {
    KWE_OK,
    KWE_UNKNOWN,    /* not a keyword: send the general usage */
    KWE_MISSING,    /* a keyword, but a required argument is missing */
    KWE_BAD_NUMBER, /* an argument that should be a number is not one, or a number is extra */
    KWE_RANGE,      /* a number out of its range */
    KWE_BAD_STATE,  /* USAHA followed by no known business state, LULUS by no known track,
                       KUNJUNG by no known visit outcome */
    KWE_TOO_LONG    /* the message is longer than KEYWORD_INPUT_MAX bytes */
};

/*
 * When error != KWE_OK, only cmd (whose usage to send; KW_NONE: the general usage), error,
 * lang and lang_known are set; every other field is zero.
 */
struct keyword_msg {
    enum keyword_cmd cmd;
    enum keyword_error error;
    char lang[3];     /* "id" or "en": the language of the keyword used ("id" if unknown) */
    int lang_known;   /* 0: the words are the same in both languages (INFO, STOP, OK, "?") or no
                         keyword: better use the sender's saved language */
    unsigned status;  /* business: 1 running, 2 paused, 3 closed, 4 not started */
    int has_revenue;  /* set with status 1 */
    uint64_t revenue; /* Rupiah, 0..KEYWORD_REVENUE_MAX */
    int has_workers;  /* workers are optional */
    unsigned workers; /* 1..999 */
    char code[KEYWORD_CODE_MAX + 1]; /* attend/absent: 4-8 digits, leading zeros kept */
    unsigned reason;                 /* absent: 1..5, 0 = not given */
    char text[KEYWORD_TEXT_MAX + 1]; /* help: free text, trimmed, UTF-8, may be empty;
                                        ack declined: its reason, never empty */
    uint64_t alert_id;               /* ack: 1..KEYWORD_ALERT_MAX */
    enum keyword_outcome outcome;    /* ack: KWO_NONE for a bare OK n */
    char pkh[KEYWORD_PKH_MAX + 1];   /* check, visit, graduate: 1-20 digits, leading zeros kept */
    unsigned visit_outcome;          /* visit: 1..KEYWORD_VISIT_OUTCOME_MAX */
    unsigned running;                /* visit: the business seen running: 1 yes, 2 no, 0 not said */
    unsigned track;                  /* graduate: 1 natural, 2 welfare (enum config_track) */
    unsigned lesson_mode;            /* lesson: 0 the next lesson, KEYWORD_LESSON_WEEKLY, or
                                        KEYWORD_LESSON_STOP (the weekly drip on, off) */
    unsigned answer;                 /* answer: 1..KEYWORD_ANSWER_MAX, the option chosen */
};

/*
 * One inbound SMS text (UTF-8, as the handler decoded it; not NUL-terminated). Returns 0 with
 * out->error saying the outcome, or -1 if text is not valid UTF-8, holds a NUL byte, or set is
 * NULL (out is then filled as KWE_UNKNOWN, so a caller that replies anyway sends the usage).
 */
int keyword_parse(const struct keyword_set *set, const char *text, size_t len,
                  struct keyword_msg *out);

/* The configured words of a value, for replies that name it ("BUKA", "DITELEPON"). */
enum keyword_words { KWW_STATE, KWW_OUTCOME, KWW_VISIT_OUTCOME, KWW_TRACK };
/* The first name of `value` listed in that language (en 0: Indonesian), else in the other; ""
 * when there is none. Lives as long as the set. */
const char *keyword_word(const struct keyword_set *set, enum keyword_words which, unsigned value,
                         int en);

#endif
