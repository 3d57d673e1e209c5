/*
 * The lesson screens (kind "lesson"): the KPM's next module of the course, read screen by screen
 * with 1 (and 99 for a long screen), then its quiz, one question per screen, each answer followed
 * by its verdict (a wrong one shows the right option and the explanation), then the result.
 * Each step is one entry of the session's stack, its `item` the step and its value the input
 * that left it, so a draft's path replays to the same step:
 *     0 .. S-1            the module's screens
 *     S + 2q, S + 2q + 1  question q, its verdict
 *     S + 2Q              the result (1 takes the quiz again when it is not passed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog.h"
#include "dialog_int.h"
#include "lesson.h"

unsigned
dialog_lesson_step(const struct entry *e)
{
    return e->item > 0 ? (unsigned)e->item : 0;
}

/* The module she learns in this session, or NULL. */
static const struct lesson_module *
lesson_mod(const struct dialog_session *s)
{
    const struct lesson_course *c = s->set->course;

    if (c == NULL || s->ctx.lesson_module < 0 || (unsigned)s->ctx.lesson_module >= c->nmodules)
        return NULL;
    return &c->modules[s->ctx.lesson_module];
}

static const char *
lesson_lang(const struct dialog_session *s)
{
    return dialog_lang_names[s->lang];
}

static const char *
ltext(const struct dialog_session *s, enum dialog_ltext t)
{
    return s->set->has_ltexts ? tr(s, &s->set->ltexts[t]) : "";
}

/* A lesson text with {1}..{4} filled. */
static void
lput(const struct dialog_session *s, enum dialog_ltext t, const char *a1, const char *a2,
     const char *a3, struct sbuf *b)
{
    const char *args[3] = {a1, a2, a3};
    const char *p = ltext(s, t);

    while (*p) {
        if (p[0] == '{' && p[1] >= '1' && p[1] <= '3' && p[2] == '}') {
            const char *v = args[p[1] - '1'];

            sb_puts(b, v != NULL ? v : "");
            p += 3;
        } else {
            sb_put(b, p, 1);
            p++;
        }
    }
}

/* The answer given to question q of the attempt that ends at or before stack position top:
 * the value of the latest entry of this screen at q's step, 0 if none. */
static unsigned
answer_of(const struct dialog_session *s, size_t top_pos, unsigned qstep)
{
    const struct entry *t = &s->stack[top_pos];
    size_t i;

    for (i = top_pos + 1; i-- > 0;) {
        const struct entry *e = &s->stack[i];

        if (e->flow != t->flow || e->screen != t->screen)
            break;
        if (dialog_lesson_step(e) == qstep && e->has_value)
            return (unsigned)strtoul(e->value, NULL, 10);
        if (dialog_lesson_step(e) < qstep)
            break;
    }
    return 0;
}

unsigned
dialog_lesson_score(const struct dialog_session *s)
{
    const struct lesson_module *m = lesson_mod(s);
    unsigned q, right = 0;

    if (m == NULL || s->depth == 0)
        return 0;
    for (q = 0; q < m->nquestions; q++)
        if (answer_of(s, s->depth - 1, m->nscreens + 2 * q) == m->quiz[q].right)
            right++;
    return right;
}

int
dialog_lesson_in_progress(const struct dialog_session *s)
{
    const struct entry *e = top(s);
    const struct lesson_module *m = lesson_mod(s);

    if (e == NULL || m == NULL || entry_screen(s, e)->kind != KIND_LESSON)
        return 0;
    /* begun (one screen on), not at the result */
    return s->depth >= 2 && entry_screen(s, &s->stack[s->depth - 2])->kind == KIND_LESSON &&
           dialog_lesson_step(e) < m->nscreens + 2 * m->nquestions;
}

void
dialog_lesson_content(const struct dialog_session *s, struct sbuf *b)
{
    const struct lesson_module *m = lesson_mod(s);
    const char *lang = lesson_lang(s);
    unsigned st = dialog_lesson_step(top(s)), q, i;
    char n1[16], n2[16], n3[16];

    if (s->set->course == NULL) {
        lput(s, DIALOG_L_NONE, NULL, NULL, NULL, b);
        return;
    }
    if (m == NULL) {
        lput(s, DIALOG_L_DONE, NULL, NULL, NULL, b);
        return;
    }
    if (st < m->nscreens) {
        snprintf(n1, sizeof(n1), "%u", st + 1);
        snprintf(n2, sizeof(n2), "%u", m->nscreens);
        lput(s, DIALOG_L_SCREEN, lesson_tr(&m->title, lang), n1, n2, b);
        sb_puts(b, "\n");
        sb_puts(b, lesson_tr(&m->screens[st], lang));
        sb_puts(b, "\n");
        lput(s, DIALOG_L_NEXT, NULL, NULL, NULL, b);
        return;
    }
    q = (st - m->nscreens) / 2;
    if (q < m->nquestions && (st - m->nscreens) % 2 == 0) {
        const struct lesson_question *x = &m->quiz[q];

        snprintf(n1, sizeof(n1), "%u", q + 1);
        snprintf(n2, sizeof(n2), "%u", m->nquestions);
        lput(s, DIALOG_L_QUESTION, n1, n2, NULL, b);
        sb_puts(b, " ");
        sb_puts(b, lesson_tr(&x->q, lang));
        for (i = 0; i < x->nopts; i++) {
            snprintf(n1, sizeof(n1), "\n%u ", i + 1);
            sb_puts(b, n1);
            sb_puts(b, lesson_tr(&x->opts[i], lang));
        }
        return;
    }
    if (q < m->nquestions) {
        const struct lesson_question *x = &m->quiz[q];

        if (answer_of(s, s->depth - 1, st - 1) == x->right) {
            lput(s, DIALOG_L_RIGHT, NULL, NULL, NULL, b);
        } else {
            snprintf(n1, sizeof(n1), "%u", x->right);
            lput(s, DIALOG_L_WRONG, n1, lesson_tr(&x->opts[x->right - 1], lang), NULL, b);
            sb_puts(b, "\n");
            sb_puts(b, lesson_tr(&x->why, lang));
        }
        sb_puts(b, "\n");
        lput(s, DIALOG_L_NEXT, NULL, NULL, NULL, b);
        return;
    }
    snprintf(n1, sizeof(n1), "%u", dialog_lesson_score(s));
    snprintf(n2, sizeof(n2), "%u", m->nquestions);
    snprintf(n3, sizeof(n3), "%u", m->pass);
    if (dialog_lesson_score(s) >= m->pass)
        lput(s, DIALOG_L_PASSED, n1, n2, lesson_tr(&m->title, lang), b);
    else
        lput(s, DIALOG_L_FAILED, n1, n2, n3, b);
}

/*
 * One input on a lesson step: 1 moves on from a screen or a verdict, an option's number answers
 * a question, 1 on a failed result starts the quiz again. Returns the next step (filling ev with
 * what to record), or -1 when the input is none of these.
 */
int
dialog_lesson_next(const struct dialog_session *s, const char *in, size_t len,
                   struct dialog_lesson_step *ev)
{
    const struct lesson_module *m = lesson_mod(s);
    unsigned st = dialog_lesson_step(top(s)), q, next;
    int one = len == 1 && in[0] == '1';

    memset(ev, 0, sizeof(*ev));
    if (m == NULL)
        return -1;
    q = st >= m->nscreens ? (st - m->nscreens) / 2 : 0;
    if (st < m->nscreens || (q < m->nquestions && (st - m->nscreens) % 2 == 1)) {
        if (!one)
            return -1;
        next = st + 1;
    } else if (q < m->nquestions) {
        if (len != 1 || in[0] < '1' || (unsigned)(in[0] - '0') > m->quiz[q].nopts)
            return -1;
        next = st + 1;
    } else {
        /* the result: again when not passed */
        if (!one || dialog_lesson_score(s) >= m->pass)
            return -1;
        next = m->nscreens;
    }
    snprintf(ev->course, sizeof(ev->course), "%s", s->set->course->id);
    snprintf(ev->module, sizeof(ev->module), "%s", m->id);
    if (next < m->nscreens) {
        ev->kind = DIALOG_LESSON_SCREEN;
        ev->screen = next;
        ev->nscreens = m->nscreens;
    } else if (next == m->nscreens + 2 * m->nquestions) {
        ev->kind = DIALOG_LESSON_QUIZ; /* the score is the caller's, once the step is pushed */
        ev->questions = m->nquestions;
        ev->pass = m->pass;
    }
    return (int)next;
}

/* The event of entering the lesson screen: its first screen shown. */
void
dialog_lesson_first(const struct dialog_session *s, struct dialog_lesson_step *ev)
{
    const struct lesson_module *m = lesson_mod(s);

    memset(ev, 0, sizeof(*ev));
    if (m == NULL)
        return;
    ev->kind = DIALOG_LESSON_SCREEN;
    snprintf(ev->course, sizeof(ev->course), "%s", s->set->course->id);
    snprintf(ev->module, sizeof(ev->module), "%s", m->id);
    ev->nscreens = m->nscreens;
}
