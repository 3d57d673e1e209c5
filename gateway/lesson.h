/*
 * Micro-lessons: courses are data (config/lessons.conf). A course has modules in order; a module
 * has a title, 2-5 short screens and a quiz of 2-4 questions (2-4 options, one right, a one-line
 * explanation) with a pass mark. Pure: no I/O but reading the file, no globals.
 *
 * The SMS forms (lesson_sms_module(), lesson_sms_question(), lesson_sms_feedback()) are the ones
 * every sender uses: the BELAJAR reply and the weekly drip.
 */
#ifndef KABAR_LESSON_H
#define KABAR_LESSON_H

#include <stddef.h>

#define LESSON_ID_MAX 16 /* bytes of a course or module id: [a-z0-9_] */
#define LESSON_SCREENS_MIN 2
#define LESSON_SCREENS_MAX 5
#define LESSON_QUESTIONS_MIN 2
#define LESSON_QUESTIONS_MAX 4
#define LESSON_OPTIONS_MIN 2
#define LESSON_OPTIONS_MAX 4
#define LESSON_PAGES_MAX 3    /* a `paged` screen: 99 pages at most */
#define LESSON_NAV_RESERVE 24 /* characters kept on a USSD screen for its number lines */
#define LESSON_SMS_PARTS 2    /* a module's SMS form */
#define LESSON_SMS_MAX 640    /* bytes of any SMS form, with its NUL */

/* The two languages: index 0 Bahasa Indonesia ("id"), 1 English ("en"). */
struct lesson_text {
    char *t[2];
};

struct lesson_question {
    struct lesson_text q;
    struct lesson_text opts[LESSON_OPTIONS_MAX];
    unsigned nopts;
    unsigned right; /* 1..nopts */
    struct lesson_text why;
};

struct lesson_module {
    char id[LESSON_ID_MAX + 1];
    struct lesson_text title;
    struct lesson_text screens[LESSON_SCREENS_MAX];
    unsigned nscreens;
    int paged[LESSON_SCREENS_MAX];
    struct lesson_question quiz[LESSON_QUESTIONS_MAX];
    unsigned nquestions;
    unsigned pass; /* right answers needed, 1..nquestions */
};

struct lesson_course {
    char id[LESSON_ID_MAX + 1];
    struct lesson_text title;
    struct lesson_module *modules;
    unsigned nmodules;
};

/* Immutable after load. */
struct lesson_set {
    struct lesson_course *courses;
    unsigned ncourses;
};

/*
 * Reads and checks path: NULL on error with err = "FILE:LINE: what is wrong". A screen must fit
 * one USSD screen of screen_limit septets (kabard passes GSM7_USSD_SEPTETS: a smaller configured
 * limit pages every screen) (GSM-7; scaled for UCS-2) with LESSON_NAV_RESERVE to
 * spare, or say `paged = true` and fit LESSON_PAGES_MAX pages of the dialog engine's 99 paging;
 * a module's SMS form must fit LESSON_SMS_PARTS parts.
 */
struct lesson_set *lesson_set_load(const char *path, size_t screen_limit, char *err, size_t errlen);
void lesson_set_free(struct lesson_set *);

/* Lookups: NULL when there is none. */
const struct lesson_course *lesson_course(const struct lesson_set *, const char *id);
const struct lesson_module *lesson_module(const struct lesson_course *, const char *id);
/* The module's place in the course, from 0; -1 when it is not in it. */
int lesson_module_index(const struct lesson_course *, const struct lesson_module *);
/* A text in the language ("en": English, anything else Bahasa Indonesia). */
const char *lesson_tr(const struct lesson_text *, const char *lang);

/*
 * The SMS forms, in lang, written to out (at most outlen bytes with the NUL). Each returns the
 * length written, or -1 when it does not fit outlen.
 *   module    "<title>: <screen 1> <screen 2> ..." (at most LESSON_SMS_PARTS parts)
 *   question  "<n>/<total> <question>\n1 <option>\n2 <option>...\n<reply>", reply being the
 *             caller's instruction line ("Balas B 1-3"), may be NULL
 *   feedback  the verdict on an answer: right ? ok : "<wrong> <n> <option>. <why>", ok and wrong
 *             the caller's words ("Benar.", "Salah, jawaban benar:")
 */
int lesson_sms_module(const struct lesson_course *, const struct lesson_module *, const char *lang,
                      char *out, size_t outlen);
int lesson_sms_question(const struct lesson_module *, unsigned q, const char *lang,
                        const char *reply, char *out, size_t outlen);
int lesson_sms_feedback(const struct lesson_module *, unsigned q, int right, const char *lang,
                        const char *ok, const char *wrong, char *out, size_t outlen);

#endif
