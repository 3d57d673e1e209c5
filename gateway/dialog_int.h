/*
 * Inside the dialog engine (dialog.h is its public face). The model a dialog set is made of,
 * the session walking it, and what the four parts share:
 *   dialog_load.c     the model: loading config/dialogs.conf, resolving names, freeing
 *   dialog_check.c    judging a loaded model: fields named by placeholders and conditions
 *                     (load errors), and dialog_set_check()'s deeper checks for `kabard -t`
 *   dialog_text.c     what a screen says: placeholders, conditions, formatting, paging
 *   dialog_session.c  the session engine: states, the stack of screens, inputs, drafts
 * Everything here is pure, like the engine: no I/O but reading the file.
 */
#ifndef KABAR_DIALOG_INT_H
#define KABAR_DIALOG_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dialog.h"

struct cfgfile;
struct lesson_set;
struct lesson_course;

/* The words of lesson screens, `lesson = { NAME = { id = ...; en = ...; }; ... }` in dialogs.conf;
 * placeholders {1} to {4} as each comment says. */
enum dialog_ltext {
    DIALOG_L_SCREEN,   /* {1} module title, {2} screen number, {3} screens */
    DIALOG_L_NEXT,     /* the "1 next" line */
    DIALOG_L_QUESTION, /* {1} question number, {2} questions */
    DIALOG_L_RIGHT,    /* an answer right */
    DIALOG_L_WRONG,    /* {1} the right option's number, {2} its text; the explanation follows */
    DIALOG_L_PASSED,   /* {1} right answers, {2} questions, {3} the module */
    DIALOG_L_FAILED,   /* {1} right answers, {2} questions, {3} needed; "1 again" */
    DIALOG_L_DONE,     /* every module passed */
    DIALOG_L_NONE,     /* no lessons configured */
    DIALOG_L_RESUME,   /* the redial offer's first line for a lesson left in the middle */
    DIALOG_L_COUNT
};
extern const char *const dialog_ltext_names[DIALOG_L_COUNT + 1];

#define LANGS 2
#define NAME_MAX_LEN 32
#define TEXT_MAX 1024 /* bytes of one configured text */
#define MAX_FLOWS 32
#define MAX_SCREENS 32
#define MAX_OPTIONS 32
#define MAX_PARTS 16
#define MAX_IN 16
#define TEXT_FIELD_MAX 64 /* characters of a typed text answer */
#define CODE_INPUT_MAX 16
#define VALUE_MAX (TEXT_FIELD_MAX * 4 + 1)
#define CONTENT_MAX 4096
#define MAX_LINES 256
#define PAGE_BUF 1024  /* a fitting page is at most ~546 bytes */
#define VALUE_BUF 1280 /* one placeholder value: 16 training titles joined */
#define STRIKES 3
#define CODE_TRIES 3
#define MIN_LIMIT 32
#define NOMINAL "XXXXXXXXXX" /* what dialog_set_check measures for a placeholder */

/* The model (dialog_load.c) */

extern const char *const dialog_lang_names[LANGS]; /* "id", "en": a text's languages */

struct text {
    char *s[LANGS];
    int line[LANGS];
    int line_group;
};

/*
 * `when = { field = "status"; in = [1, 2]; }`, `{ field = "last.status"; absent = true; }`,
 * or the short form `when = "kpm.track == welfare && kpm.follow_up == 1"` (clauses FIELD,
 * !FIELD, FIELD == V, FIELD != V): every clause of the `and` chain must hold.
 */
struct cond {
    int used;
    char *field;
    int absent;
    int negate; /* `!=`: holds when the value is none of `in` (or there is none) */
    size_t nin;
    char in[MAX_IN][21];
    int line;
    struct cond *and; /* the next clause, owned */
};

struct part {
    struct text text;
    struct cond when;
};

/* A text, or a list of parts; parts whose placeholders have no value are left out. */
struct rich {
    struct part *parts;
    size_t nparts;
    int is_list;
    int line;
};

enum kind {
    KIND_CHOICE,
    KIND_INTEGER,
    KIND_TEXT,
    KIND_CODE,
    KIND_LIST,
    KIND_CONFIRM,
    KIND_INFO,
    KIND_END,
    KIND_LESSON, /* the micro-lessons: its steps are the entries' `item` (dialog_lesson.c) */
    KIND_COUNT
};

enum todo { DO_NONE, DO_SUBMIT, DO_RESTART, DO_CANCEL, DO_COUNT };

struct option {
    uint64_t value;
    char vstr[21];  /* what the KPM types */
    char store[21]; /* what the answer records */
    struct text label;
    char *go_name;
    int go_flow;   /* -1: none */
    int go_screen; /* -1: the flow's first screen */
    int lang;      /* -1: none */
    enum todo todo;
    struct cond when; /* false: the option is neither shown nor accepted */
    int line;
};

struct screen {
    char *name;
    enum kind kind;
    char *field;
    struct cond when;
    struct rich prompt;
    char *sep;
    struct option *opts;
    size_t nopts;
    uint64_t min, max;
    int digits;
    int has_invalid;
    struct text invalid;
    struct rich empty;
    char *course; /* lesson: the course's id in lessons.conf */
    int line;
};

struct flow {
    char *name;
    enum dialog_action action;
    struct rich saved;
    struct screen *screens;
    size_t nscreens;
    int line;
};

enum msg {
    MSG_INVALID_CHOICE,
    MSG_INVALID_NUMBER,
    MSG_INVALID_TEXT,
    MSG_WRONG_CODE,
    MSG_TOO_MANY,
    MSG_CODE_LOCKED,
    MSG_MORE,
    MSG_SAVE_FAILED,
    MSG_ENDED,
    MSG_RESUME_PROMPT,
    MSG_RESUME_CONTINUE,
    MSG_RESUME_RESTART,
    MSG_COUNT
};
extern const char *const dialog_msg_names[MSG_COUNT + 1]; /* NULL-terminated */

struct dialog_set {
    atomic_int refs; /* sessions run on the loop and, for SMS, on the database workers */
    unsigned version;
    char *file;
    struct flow *flows;
    size_t nflows;
    int start[2]; /* [0] registered, [1] unknown numbers */
    int last_flow, last_screen;
    struct text msgs[MSG_COUNT];
    int has_atexts;
    struct text atexts[DIALOG_A_COUNT];
    int has_ltexts;
    struct text ltexts[DIALOG_L_COUNT]; /* the lesson screens' words: `lesson = { ... }` */
    struct lesson_set *lessons;         /* owned (dialog_set_attach_lessons) */
    const struct lesson_course *course; /* the lesson screens' course, in lessons */
};

/* Whether a screen of f asks for `field`; whether one of its first `before` screens is a list. */
int dialog_flow_has_field(const struct flow *f, const char *field, size_t len);
int dialog_flow_has_list(const struct flow *f, size_t before);

/* Load-time checks (dialog_check.c): placeholders and conditions must name what flow has.
 * flow -1: a message, outside any flow. 0, or -1 with the error reported in f. */
int dialog_check_text(struct cfgfile *f, const struct dialog_set *set, int flow,
                      const struct text *t);
int dialog_check_cond(struct cfgfile *f, const struct dialog_set *set, int flow,
                      const struct cond *c);
int dialog_check_rich(struct cfgfile *f, const struct dialog_set *set, int flow,
                      const struct rich *r);

/* Placeholders (dialog_text.c) */

enum ph {
    PH_UNKNOWN,
    PH_KPM_NAME,
    PH_ASSISTANT_NAME,
    PH_REPORT_ID,
    PH_MIN,
    PH_MAX,
    PH_LAST_DATE,
    PH_LAST_STATUS,
    PH_LAST_REVENUE,
    PH_LAST_WORKERS,
    PH_TRAININGS_ATTENDED,
    PH_TRAINING_TITLE,
    PH_TRAINING_DATE,
    PH_TRAINING_PLACE,
    PH_ANSWER,
    PH_LABEL,
    PH_RUPIAH,
    PH_KPM_TRACK,
    PH_KPM_FOLLOW_UP,
    PH_KPM_SUPPORT,
    PH_KPM_EXIT_SURVEY
};

/* The placeholder `name` (without braces); for answer./label./rupiah. also its field. */
enum ph dialog_ph_parse(const char *name, size_t len, const char **field, size_t *flen);
/* Whether len bytes of UTF-8 t fit one screen of `limit` septets (gsm7_screen_limit()). */
int dialog_fits(size_t limit, const char *t, size_t len);

/* Bounded text building: truncates at a UTF-8 boundary, never overflows. */

struct sbuf {
    char *p;
    size_t cap, len;
    int full;
};

static inline void
sb_init(struct sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = 0;
    p[0] = '\0';
}

static inline void
sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->full)
        return;
    if (n >= b->cap - b->len) {
        n = b->cap - b->len - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
        b->full = 1;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void
sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Sessions (dialog_session.c) */

struct entry {
    unsigned char flow, screen;
    int has_value;
    int opt;  /* choice: the option chosen */
    int item; /* list: the training chosen */
    char value[VALUE_MAX];
};

enum state { ST_NEW, ST_RESUME, ST_ASK, ST_COMMIT, ST_ENDED };

struct dialog_session {
    struct dialog_set *set;
    struct dialog_ctx ctx;
    size_t limit;
    int lang;
    enum state state;
    struct entry stack[DIALOG_MAX_INPUTS];
    size_t depth;
    int strikes;    /* invalid answers in a row on this screen */
    int code_fails; /* wrong attendance codes in this session, never reset */
    size_t page;
    char reason[256];
    uint64_t report_id;
    int has_report;
    char path[1025];
    int path_ok;
    int wants_details;
};

/* The values of {min} and {max} in an "invalid" text. */
struct xtra {
    const char *min, *max;
};

/* A read of the trainings or the last report before they were loaded. The session is on the
 * heap, never const itself: only the accessors' view of it is. */
static inline void
want_details(const struct dialog_session *s)
{
    if (!s->ctx.details)
        ((struct dialog_session *)(uintptr_t)s)->wants_details = 1;
}

static inline const struct entry *
top(const struct dialog_session *s)
{
    return s->depth ? &s->stack[s->depth - 1] : NULL;
}

static inline const struct screen *
entry_screen(const struct dialog_session *s, const struct entry *e)
{
    return &s->set->flows[e->flow].screens[e->screen];
}

static inline int
cur_flow(const struct dialog_session *s)
{
    const struct entry *e = top(s);

    return e ? e->flow : s->set->start[!s->ctx.registered];
}

static inline const char *
tr(const struct dialog_session *s, const struct text *t)
{
    return t->s[s->lang] ? t->s[s->lang] : "";
}

/* What a screen says (dialog_text.c) */

/* The latest answer to `field` in flow, or NULL. */
const struct entry *dialog_find_answer(const struct dialog_session *s, int flow, const char *field,
                                       size_t flen);
/* The training chosen on the flow's list screen, or NULL. */
const struct dialog_training *dialog_flow_training(const struct dialog_session *s, int flow);
/* Whether condition c holds (an unused one always does). */
void dialog_cond_free(struct cond *c);
/* Whether option i of sc is offered now (its `when`). */
int dialog_option_ok(const struct dialog_session *s, int flow, const struct screen *sc, size_t i);
int dialog_cond_ok(const struct dialog_session *s, int flow, const struct cond *c);
/* Appends template t; in strict mode a placeholder without value fails (-1) the whole text. */
int dialog_expand(const struct dialog_session *s, int flow, const char *t, const struct xtra *x,
                  int strict, struct sbuf *b);
/* Appends the parts of r whose conditions hold and whose placeholders all have values. */
void dialog_put_rich(const struct dialog_session *s, int flow, const struct rich *r,
                     const char *sep, struct sbuf *b);
void dialog_put_msg(const struct dialog_session *s, enum msg m, const struct xtra *x,
                    struct sbuf *b);
/* The content of the current screen (without the reason line). */
void dialog_screen_content(const struct dialog_session *s, struct sbuf *b);

/* The lesson screens (dialog_lesson.c): what one shows, and one input to it. */
void dialog_lesson_content(const struct dialog_session *s, struct sbuf *b);
/* The step of the lesson entry e: its `item`, 0 when not set. */
unsigned dialog_lesson_step(const struct entry *e);
/* Whether the current screen is a lesson begun and not finished (worth a draft). */
int dialog_lesson_in_progress(const struct dialog_session *s);
/* Right answers of the latest attempt on the stack. */
unsigned dialog_lesson_score(const struct dialog_session *s);
/* The step an input leads to (ev: what to record), or -1 when the input is not taken. */
int dialog_lesson_next(const struct dialog_session *s, const char *in, size_t len,
                       struct dialog_lesson_step *ev);
/* What entering a lesson screen records: its first screen shown (kind NONE: no module). */
void dialog_lesson_first(const struct dialog_session *s, struct dialog_lesson_step *ev);
/* Writes page `page` (END: the first page only, no "99" line) of reason + content into out.
 * Returns the number of pages. */
size_t dialog_emit(struct dialog_session *s, struct dialog_out *out, const char *content, int end,
                   size_t page);

#endif
