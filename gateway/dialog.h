/*
 * The USSD dialog engine. Dialogs are data (config/dialogs.conf): flows of screens with
 * kinds, texts in Bahasa Indonesia and English, conditions and transitions; this engine
 * walks them. Pure: no I/O except reading the config file in dialog_set_load(), no
 * globals, no database. The caller loads a dialog_ctx when a session begins, feeds the
 * inputs, and commits a report when an action comes out.
 */
#ifndef KABAR_DIALOG_H
#define KABAR_DIALOG_H

#include <stddef.h>
#include <stdint.h>

#define DIALOG_SCREEN_MAX 182
#define DIALOG_MAX_TRAININGS 16
#define DIALOG_MAX_INPUTS 64

/* Immutable after load, refcounted: a reload swaps sets while old sessions finish. */
struct dialog_set;

/* NULL on error, with err = "FILE:LINE: what is wrong". */
struct dialog_set *dialog_set_load(const char *path, char *err, size_t errlen);
void dialog_set_ref(struct dialog_set *);
void dialog_set_unref(struct dialog_set *); /* frees at zero */
unsigned dialog_set_version(const struct dialog_set *);
/*
 * Deeper checks for `kabard -t`: unreachable screens, texts that cannot fit a screen of
 * screen_limit septets, empty translations, flows that end without a next screen (errors,
 * report(arg, 1, "FILE:LINE: msg")), texts outside GSM-7 (warnings, report(arg, 0, ...)).
 * Placeholders are measured as 10 characters. Returns the number of errors.
 */
int dialog_set_check(const struct dialog_set *, size_t screen_limit,
                     void (*report)(void *arg, int is_error, const char *msg), void *arg);

/*
 * The micro-lessons: a screen of kind "lesson" (`course = "ID";`) teaches the KPM her next module
 * of that course, then its quiz. The set takes ownership of lessons (freed with the set, also on
 * error); -1 with "FILE:LINE: ..." in err when a lesson screen names a course lessons lacks.
 * lessons NULL: the lesson screens say there is no lesson.
 */
struct lesson_set;
struct lesson_course;
int dialog_set_attach_lessons(struct dialog_set *, struct lesson_set *lessons, char *err,
                              size_t errlen);
/* The course the lesson screens teach (NULL: none), and the lessons attached. */
const struct lesson_course *dialog_set_lesson_course(const struct dialog_set *);

/* How many pages the engine's 99 paging cuts len bytes of text into on a screen of limit
 * septets, more being the "99" line; 0 when the limit is below the engine's least. */
size_t dialog_text_pages(size_t limit, const char *text, size_t len, const char *more);

/*
 * The texts of an assistant's own USSD menu (ussd_assistant.c), `assistant = { NAME = { id = ...;
 * en = ...; }; ... }` in dialogs.conf: optional, but all of them when the group is there. Their
 * only placeholders are {1} to {4}, filled by the caller.
 */
enum dialog_atext {
    DIALOG_A_MENU,          /* {1} her name, {2} open alerts */
    DIALOG_A_ALERTS,        /* the title of her alert list */
    DIALOG_A_ALERTS_NONE,   /* no open alert */
    DIALOG_A_RULE_HELP,     /* an alert's short name by rule: help_requested */
    DIALOG_A_RULE_LINK,     /* link_request */
    DIALOG_A_RULE_GRAD,     /* graduation (a candidate) */
    DIALOG_A_RULE_CLOSED,   /* business_closed */
    DIALOG_A_RULE_DROP,     /* revenue_drop */
    DIALOG_A_RULE_SILENT,   /* silent */
    DIALOG_A_RULE_MISSED,   /* training_missed */
    DIALOG_A_RULE_RELAPSE,  /* relapse */
    DIALOG_A_ALERT,         /* {1} rule {2} KPM name {3} PKH {4} date */
    DIALOG_A_OUTCOMES,      /* the five outcomes, numbered 1 to 5 */
    DIALOG_A_CANDIDATE,     /* 1 confirm 2 decline 3 later */
    DIALOG_A_LINK,          /* 1 approve 2 reject */
    DIALOG_A_DECLINE,       /* the reasons to decline, numbered 1 to 4 */
    DIALOG_A_PKH,           /* asks for a PKH number */
    DIALOG_A_NOT_FOUND,     /* not one of hers, or no such number: the same screen */
    DIALOG_A_KPM,           /* {1} name {2} PKH {3} latest report {4} open alerts */
    DIALOG_A_LAST,          /* {1} date {2} status label {3} revenue */
    DIALOG_A_NO_REPORT,     /* no business report yet */
    DIALOG_A_STATUSES,      /* the four business statuses, '|'-separated */
    DIALOG_A_VISIT_DATE,    /* asks for the visit date (DDMM, 1 today) */
    DIALOG_A_VISIT_OUTCOME, /* the title above graduation.visit_outcomes */
    DIALOG_A_VISIT_RUNNING, /* business seen running: 1 yes 2 no 3 not seen */
    DIALOG_A_VISIT_CONFIRM, /* {1} name {2} date {3} outcome {4} business */
    DIALOG_A_SAVED,         /* committed */
    DIALOG_A_CONFLICT,      /* decided before, otherwise */
    DIALOG_A_FAILED,        /* could not be saved */
    DIALOG_A_INVALID,       /* an answer that is not on the screen */
    DIALOG_A_LANGUAGE,      /* 1 Bahasa Indonesia 2 English */
    DIALOG_A_MORE,          /* the next page */
    DIALOG_A_BACK,          /* 0 back, 00 menu */
    DIALOG_A_COUNT
};
/* Its text in lang ("id" or "en"), or NULL when the set has no assistant texts. */
const char *dialog_set_atext(const struct dialog_set *, enum dialog_atext, const char *lang);

struct dialog_training {
    uint64_t id;
    char title[65];
    char date[11]; /* YYYY-MM-DD */
    char place[65];
    char code[9]; /* empty: the training has no code, any code is accepted */
    int attended; /* already reported attended */
};

/* What the caller loaded from MariaDB when the session began. */
struct dialog_ctx {
    int registered; /* 0: unknown phone number; no personal field is ever shown */
    uint64_t kpm_id;
    char lang[3]; /* "id" or "en"; anything else is "id" */
    char kpm_name[101];
    char assistant_name[101];
    struct dialog_training trainings[DIALOG_MAX_TRAININGS]; /* last 30 days, newest first */
    size_t ntrainings;
    int has_last; /* last business report */
    unsigned last_status;
    uint64_t last_revenue;
    unsigned last_workers;
    char last_date[11];
    int details;           /* trainings and last report loaded (see wants_details) */
    int has_draft;         /* an interrupted report: */
    char draft_flow[33];   /* its flow (dialog_session_flow()) */
    char draft_path[1025]; /* its inputs from the main menu (dialog_session_draft_path()) */
    /* The KPM's graduation track, for conditions in dialogs.conf ({kpm.track} ...) */
    char track[8];        /* "none", "natural" or "welfare"; anything else is "none" */
    int follow_up;        /* inside her track's follow-up period (graduation.follow_up_months) */
    int support_opt_in;   /* kpm.support_opt_in */
    int exit_survey_done; /* kpm.exit_survey_at is set */
    /* The micro-lessons: her next module of the lesson screens' course, from 0 (-1: she passed
     * them all). Fixed for the session, so that its inputs replay the same way. */
    int lesson_module;
};

enum dialog_action {
    DIALOG_ACT_NONE,
    DIALOG_ACT_BUSINESS,
    DIALOG_ACT_ATTENDANCE,
    DIALOG_ACT_HELP,
    DIALOG_ACT_LINK,
    DIALOG_ACT_CHECKIN,    /* a welfare graduate's check-in: a business report, flow checkin */
    DIALOG_ACT_OPT_IN,     /* a natural graduate keeps (or stops) business support */
    DIALOG_ACT_EXIT_SURVEY /* a natural graduate's exit survey, once */
};

struct dialog_out {
    int end; /* 1: END (session over); 0: CON */
    /* UTF-8, never longer than the screen limit in GSM-7 septets or UCS-2 units */
    char screen[DIALOG_SCREEN_MAX * 4 + 1];
    /*
     * != NONE: the caller must commit the report (dialog_session_answer*()), then call
     * dialog_session_committed() for the final screen; `screen` is empty.
     */
    enum dialog_action action;
    int lang_changed; /* side effect to persist: the KPM chose language `lang` */
    char lang[3];     /* always the session's current language */
    /* "start over" on the resume prompt, cancel, 00 out of a report, restart, or saved */
    int draft_discard;
    /* A lesson step to record (gateway/lesson_store.c), after the screen goes out. */
    struct dialog_lesson_step {
        enum { DIALOG_LESSON_NONE, DIALOG_LESSON_SCREEN, DIALOG_LESSON_QUIZ } kind;
        char course[17], module[17];
        unsigned screen, nscreens;       /* SCREEN: the screen shown, from 0, of nscreens */
        unsigned right, questions, pass; /* QUIZ: the score, the quiz's size, its pass mark */
        unsigned tag;                    /* QUIZ: tells two attempts of one session apart */
    } lesson;
};

struct dialog_session;

/* Takes a ref on set; ctx is copied (and sanitized). screen_limit: 0 or > 182 is 182, < 32 is 32.
 */
struct dialog_session *dialog_session_new(struct dialog_set *set, const struct dialog_ctx *ctx,
                                          size_t screen_limit);
void dialog_session_free(struct dialog_session *); /* drops the set ref */
/* First screen: the resume prompt if ctx has a draft, else the start menu. */
void dialog_session_begin(struct dialog_session *, struct dialog_out *out);
/* One input (trimmed of surrounding spaces). Any bytes are safe. */
void dialog_session_input(struct dialog_session *, const char *in, size_t len,
                          struct dialog_out *out);
/* After an action: END "saved, No. {report.id}" (ok) or "could not be saved, try later". */
void dialog_session_committed(struct dialog_session *, int ok, uint64_t report_id,
                              struct dialog_out *out);

/*
 * 1 once a begin or an input has read the caller's trainings or last report while ctx.details was
 * 0: its output is not to be used. The caller loads them and replays the same inputs into a new
 * session (ussd.c: most sessions are business reports and never need them).
 */
int dialog_session_wants_details(const struct dialog_session *);
/* Canonical value of an answer of the current flow ("1", "2500000", training id), or NULL. */
const char *dialog_session_answer(const struct dialog_session *, const char *field);
/* {"field":"value",...} for the current flow, JSON-escaped. 0, or -1 if it does not fit. */
int dialog_session_answers_json(const struct dialog_session *, char *out, size_t outlen);
const char *dialog_session_flow(const struct dialog_session *); /* current flow name */
/* Inside a report flow with at least one answer and not finished: worth a resumable draft. */
int dialog_session_in_report(const struct dialog_session *);
/*
 * Inputs from the main menu that lead to the current screen, '*'-joined (a training
 * chosen from the list is written "#ID" so a changed list cannot shift it). "" if it
 * does not fit 1024 bytes (then dialog_session_in_report() is 0).
 */
const char *dialog_session_draft_path(const struct dialog_session *);
int dialog_session_ended(const struct dialog_session *);

/*
 * Where a session is (its screen, answers, strikes and language), without its context: a heap
 * blob of *len bytes (the caller's to free()) to hold between hops instead of the whole
 * session, or NULL. dialog_session_resume() makes the session of that place again, with the
 * set, ctx and screen_limit it was created with: the same as a replay of the same inputs.
 */
void *dialog_session_mark(const struct dialog_session *, size_t *len);
struct dialog_session *dialog_session_resume(struct dialog_set *set, const struct dialog_ctx *ctx,
                                             size_t screen_limit, const void *mark, size_t len);

#endif
