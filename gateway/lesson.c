#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "dialog.h"
#include "gsm7.h"
#include "lesson.h"
#include "parse.h"

static const char *const lesson_langs[2] = {"id", "en"};

static void
lesson_text_free(struct lesson_text *t)
{
    free(t->t[0]);
    free(t->t[1]);
}

static void
lesson_course_free(struct lesson_course *c)
{
    unsigned i, k, q, o;

    for (i = 0; i < c->nmodules; i++) {
        struct lesson_module *m = &c->modules[i];

        lesson_text_free(&m->title);
        for (k = 0; k < m->nscreens; k++)
            lesson_text_free(&m->screens[k]);
        for (q = 0; q < m->nquestions; q++) {
            lesson_text_free(&m->quiz[q].q);
            lesson_text_free(&m->quiz[q].why);
            for (o = 0; o < m->quiz[q].nopts; o++)
                lesson_text_free(&m->quiz[q].opts[o]);
        }
    }
    free(c->modules);
    lesson_text_free(&c->title);
}

void
lesson_set_free(struct lesson_set *s)
{
    unsigned i;

    if (s == NULL)
        return;
    for (i = 0; i < s->ncourses; i++)
        lesson_course_free(&s->courses[i]);
    free(s->courses);
    free(s);
}

/* ---- reading */

struct lesson_load {
    struct cfgfile *f;
    size_t limit;
};

/* { id = "..."; en = "..."; } plus the extra members allowed; both languages, valid UTF-8. */
static int
lesson_text_read(struct lesson_load *L, const config_setting_t *g, const char *what,
                 const char *const *allowed, struct lesson_text *out)
{
    static const char *const plain[] = {"id", "en", NULL};
    int l;

    if (g == NULL || !config_setting_is_group(g))
        return cfgfile_fail(L->f, g, "%s: expected { id = \"...\"; en = \"...\"; }", what);
    if (cfgfile_members(L->f, g, allowed != NULL ? allowed : plain, what) == -1)
        return -1;
    for (l = 0; l < 2; l++) {
        const char *v = NULL;

        if (!config_setting_lookup_string(g, lesson_langs[l], &v))
            return cfgfile_fail(L->f, g, "%s: missing the '%s' text", what, lesson_langs[l]);
        if (v[0] == '\0' || !parse_utf8_valid(v, strlen(v)))
            return cfgfile_fail(L->f, g, "%s: empty or invalid '%s' text", what, lesson_langs[l]);
        if ((out->t[l] = strdup(v)) == NULL)
            return cfgfile_fail(L->f, g, "out of memory");
    }
    return 0;
}

static int
lesson_member_text(struct lesson_load *L, const config_setting_t *g, const char *name,
                   const char *what, struct lesson_text *out)
{
    const config_setting_t *m = config_setting_get_member(g, name);

    if (m == NULL)
        return cfgfile_fail(L->f, g, "%s: missing '%s'", what, name);
    return lesson_text_read(L, m, what, NULL, out);
}

static int
lesson_id_read(struct lesson_load *L, const config_setting_t *g, const char *what, char *out)
{
    const char *v = NULL;
    size_t i, n;

    if (cfgfile_strref(L->f, g, "id", 1, &v) == -1)
        return -1;
    n = strlen(v);
    if (n == 0 || n > LESSON_ID_MAX)
        return cfgfile_fail(L->f, g, "%s: id must be 1-%d characters", what, LESSON_ID_MAX);
    for (i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '_'))
            return cfgfile_fail(L->f, g, "%s: id '%s' may hold only a-z, 0-9 and _", what, v);
    memcpy(out, v, n + 1);
    return 0;
}

/* A list (or array) member of g with between min and max elements. */
static const config_setting_t *
lesson_list(struct lesson_load *L, const config_setting_t *g, const char *name, const char *what,
            unsigned min, unsigned max)
{
    const config_setting_t *l = config_setting_get_member(g, name);
    int n;

    if (l == NULL || !(config_setting_is_list(l) || config_setting_is_array(l))) {
        cfgfile_fail(L->f, l != NULL ? l : g, "%s: '%s' must be a list ( ... )", what, name);
        return NULL;
    }
    n = config_setting_length(l);
    if (n < (int)min || n > (int)max) {
        cfgfile_fail(L->f, l, "%s: %d %s, must be %u-%u", what, n, name, min, max);
        return NULL;
    }
    return l;
}

/* Screens: one USSD screen with room for the number lines, or `paged` and a few 99 pages. */
static int
lesson_screen_fits(struct lesson_load *L, const config_setting_t *g, const struct lesson_text *t,
                   int paged, const char *what)
{
    int l;

    for (l = 0; l < 2; l++) {
        size_t len = strlen(t->t[l]), units;
        int gsm;

        if (gsm7_measure(t->t[l], len, &units, &gsm) == -1)
            return cfgfile_fail(L->f, g, "%s: invalid UTF-8", what);
        if (units + LESSON_NAV_RESERVE <= gsm7_screen_limit(gsm, L->limit))
            continue;
        if (!paged)
            return cfgfile_fail(L->f, g,
                                "%s (%s) is too long for one USSD screen of %zu characters"
                                " (shorten it, or say paged = true)",
                                what, lesson_langs[l], L->limit);
        if (L->limit > LESSON_NAV_RESERVE &&
            dialog_text_pages(L->limit - LESSON_NAV_RESERVE, t->t[l], len, "99 Lanjut") >
                LESSON_PAGES_MAX)
            return cfgfile_fail(L->f, g, "%s (%s) takes more than %d pages of 99 paging", what,
                                lesson_langs[l], LESSON_PAGES_MAX);
    }
    return 0;
}

static int
lesson_question_read(struct lesson_load *L, const config_setting_t *g, struct lesson_question *q)
{
    static const char *const keys[] = {"q", "options", "why", NULL};
    static const char *const opt_keys[] = {"id", "en", "right", NULL};
    const config_setting_t *opts;
    unsigned i, nright = 0;

    if (!config_setting_is_group(g))
        return cfgfile_fail(L->f, g, "question: expected { q = ...; options = (...); why = ...; }");
    if (cfgfile_members(L->f, g, keys, "question") == -1 ||
        lesson_member_text(L, g, "q", "question", &q->q) == -1 ||
        lesson_member_text(L, g, "why", "question", &q->why) == -1 ||
        (opts = lesson_list(L, g, "options", "question", LESSON_OPTIONS_MIN, LESSON_OPTIONS_MAX)) ==
            NULL)
        return -1;
    for (i = 0; i < (unsigned)config_setting_length(opts); i++) {
        const config_setting_t *o = config_setting_get_elem(opts, i);
        int right = 0;

        q->nopts = i + 1; /* freed from here on, whatever is read */
        if (lesson_text_read(L, o, "option", opt_keys, &q->opts[i]) == -1)
            return -1;
        if (cfgfile_bool(L->f, o, "right", &right) == -1)
            return -1;
        if (right) {
            nright++;
            q->right = i + 1;
        }
    }
    if (nright != 1)
        return cfgfile_fail(L->f, opts, "question: %u right answers, must be exactly one", nright);
    return 0;
}

static int
lesson_module_read(struct lesson_load *L, const config_setting_t *g, struct lesson_module *m)
{
    static const char *const keys[] = {"id", "title", "screens", "quiz", "pass", NULL};
    static const char *const screen_keys[] = {"id", "en", "paged", NULL};
    const config_setting_t *screens, *quiz;
    unsigned i;

    if (!config_setting_is_group(g))
        return cfgfile_fail(L->f, g, "module: expected { id = ...; title = ...; ... }");
    if (cfgfile_members(L->f, g, keys, "module") == -1 || lesson_id_read(L, g, "module", m->id) ||
        lesson_member_text(L, g, "title", "module title", &m->title) == -1 ||
        (screens = lesson_list(L, g, "screens", "module", LESSON_SCREENS_MIN,
                               LESSON_SCREENS_MAX)) == NULL ||
        (quiz = lesson_list(L, g, "quiz", "module", LESSON_QUESTIONS_MIN, LESSON_QUESTIONS_MAX)) ==
            NULL)
        return -1;
    for (i = 0; i < (unsigned)config_setting_length(screens); i++) {
        const config_setting_t *s = config_setting_get_elem(screens, i);

        m->nscreens = i + 1;
        if (lesson_text_read(L, s, "screen", screen_keys, &m->screens[i]) == -1)
            return -1;
        if (cfgfile_bool(L->f, s, "paged", &m->paged[i]) == -1 ||
            lesson_screen_fits(L, s, &m->screens[i], m->paged[i], "screen") == -1)
            return -1;
    }
    for (i = 0; i < (unsigned)config_setting_length(quiz); i++) {
        const config_setting_t *q = config_setting_get_elem(quiz, i);

        m->nquestions = i + 1;
        if (lesson_question_read(L, q, &m->quiz[i]) == -1)
            return -1;
    }
    if (config_setting_get_member(g, "pass") == NULL)
        return cfgfile_fail(L->f, g, "module: missing 'pass'");
    if (cfgfile_unsigned(L->f, g, "pass", 1, 255, &m->pass) == -1)
        return -1;
    if (m->pass > m->nquestions)
        return cfgfile_fail(L->f, config_setting_get_member(g, "pass"),
                            "module %s: pass mark %u is above its %u questions", m->id, m->pass,
                            m->nquestions);
    return 0;
}

/* What goes out by SMS must fit: the module in LESSON_SMS_PARTS, each question in one reply. */
static int
lesson_sms_fits(struct lesson_load *L, const config_setting_t *g, const struct lesson_course *c,
                const struct lesson_module *m)
{
    char buf[LESSON_SMS_MAX];
    size_t units;
    int l, n, gsm;
    unsigned q;

    for (l = 0; l < 2; l++) {
        n = lesson_sms_module(c, m, lesson_langs[l], buf, sizeof buf);
        if (n < 0 || gsm7_measure(buf, (size_t)n, &units, &gsm) == -1 ||
            gsm7_sms_segments(units, gsm) > LESSON_SMS_PARTS)
            return cfgfile_fail(L->f, g,
                                "module %s (%s): title and screens do not fit %d SMS parts", m->id,
                                lesson_langs[l], LESSON_SMS_PARTS);
        for (q = 0; q < m->nquestions; q++)
            if (lesson_sms_question(m, q, lesson_langs[l], "Balas B 1-4", buf, sizeof buf) < 0 ||
                lesson_sms_feedback(m, q, 0, lesson_langs[l], "", "Salah, jawaban benar:", buf,
                                    sizeof buf) < 0)
                return cfgfile_fail(L->f, g, "module %s (%s): question %u is too long", m->id,
                                    lesson_langs[l], q + 1);
    }
    return 0;
}

static int
lesson_course_read(struct lesson_load *L, const config_setting_t *g, struct lesson_course *c)
{
    static const char *const keys[] = {"id", "title", "modules", NULL};
    const config_setting_t *mods;
    unsigned i, k, n;

    if (!config_setting_is_group(g))
        return cfgfile_fail(L->f, g,
                            "course: expected { id = ...; title = ...; modules = (...); }");
    if (cfgfile_members(L->f, g, keys, "course") == -1 || lesson_id_read(L, g, "course", c->id) ||
        lesson_member_text(L, g, "title", "course title", &c->title) == -1 ||
        (mods = lesson_list(L, g, "modules", "course", 1, 64)) == NULL)
        return -1;
    n = (unsigned)config_setting_length(mods);
    if ((c->modules = calloc(n, sizeof *c->modules)) == NULL)
        return cfgfile_fail(L->f, g, "out of memory");
    for (i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(mods, i);

        c->nmodules = i + 1;
        if (lesson_module_read(L, m, &c->modules[i]) == -1)
            return -1;
        for (k = 0; k < i; k++)
            if (strcmp(c->modules[k].id, c->modules[i].id) == 0)
                return cfgfile_fail(L->f, m, "module id '%s' is used twice in course %s",
                                    c->modules[i].id, c->id);
        if (lesson_sms_fits(L, m, c, &c->modules[i]) == -1)
            return -1;
    }
    return 0;
}

struct lesson_set *
lesson_set_load(const char *path, size_t screen_limit, char *err, size_t errlen)
{
    static const char *const keys[] = {"version", "courses", NULL};
    struct lesson_set *s = NULL;
    struct cfgfile f;
    struct lesson_load L = {&f, screen_limit};
    const config_setting_t *root, *courses;
    unsigned version = 0, i, k, n;

    if (cfgfile_open(&f, path, err, errlen) == -1)
        goto fail;
    root = cfgfile_root(&f);
    if (cfgfile_members(&f, root, keys, NULL) == -1)
        goto fail;
    if (config_setting_get_member(root, "version") == NULL) {
        cfgfile_fail(&f, NULL, "missing 'version'");
        goto fail;
    }
    if (cfgfile_unsigned(&f, root, "version", 1, 1, &version) == -1 ||
        (courses = lesson_list(&L, root, "courses", "lessons", 1, 16)) == NULL)
        goto fail;
    n = (unsigned)config_setting_length(courses);
    if ((s = calloc(1, sizeof *s)) == NULL ||
        (s->courses = calloc(n, sizeof *s->courses)) == NULL) {
        cfgfile_fail(&f, NULL, "out of memory");
        goto fail;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *c = config_setting_get_elem(courses, i);

        s->ncourses = i + 1;
        if (lesson_course_read(&L, c, &s->courses[i]) == -1)
            goto fail;
        for (k = 0; k < i; k++)
            if (strcmp(s->courses[k].id, s->courses[i].id) == 0) {
                cfgfile_fail(&f, c, "course id '%s' is used twice", s->courses[i].id);
                goto fail;
            }
    }
    cfgfile_close(&f);
    return s;
fail:
    cfgfile_close(&f);
    lesson_set_free(s);
    return NULL;
}

/* ---- lookups */

const struct lesson_course *
lesson_course(const struct lesson_set *s, const char *id)
{
    unsigned i;

    for (i = 0; s != NULL && id != NULL && i < s->ncourses; i++)
        if (strcmp(s->courses[i].id, id) == 0)
            return &s->courses[i];
    return NULL;
}

const struct lesson_module *
lesson_module(const struct lesson_course *c, const char *id)
{
    unsigned i;

    for (i = 0; c != NULL && id != NULL && i < c->nmodules; i++)
        if (strcmp(c->modules[i].id, id) == 0)
            return &c->modules[i];
    return NULL;
}

int
lesson_module_index(const struct lesson_course *c, const struct lesson_module *m)
{
    if (c == NULL || m == NULL || m < c->modules || m >= c->modules + c->nmodules)
        return -1;
    return (int)(m - c->modules);
}

const char *
lesson_tr(const struct lesson_text *t, const char *lang)
{
    return t->t[lang != NULL && strcmp(lang, "en") == 0 ? 1 : 0];
}

/* ---- the SMS forms */

static int
lesson_out(char *out, size_t outlen, size_t *o, const char *s)
{
    size_t n = strlen(s);

    if (*o + n + 1 > outlen)
        return -1;
    memcpy(out + *o, s, n + 1);
    *o += n;
    return 0;
}

int
lesson_sms_module(const struct lesson_course *c, const struct lesson_module *m, const char *lang,
                  char *out, size_t outlen)
{
    size_t o = 0;
    unsigned i;

    (void)c;
    if (outlen == 0 || lesson_out(out, outlen, &o, lesson_tr(&m->title, lang)) == -1 ||
        lesson_out(out, outlen, &o, ":") == -1)
        return -1;
    for (i = 0; i < m->nscreens; i++)
        if (lesson_out(out, outlen, &o, " ") == -1 ||
            lesson_out(out, outlen, &o, lesson_tr(&m->screens[i], lang)) == -1)
            return -1;
    return (int)o;
}

int
lesson_sms_question(const struct lesson_module *m, unsigned q, const char *lang, const char *reply,
                    char *out, size_t outlen)
{
    const struct lesson_question *x;
    char num[32];
    size_t o = 0;
    unsigned i;

    if (q >= m->nquestions || outlen == 0)
        return -1;
    x = &m->quiz[q];
    snprintf(num, sizeof num, "%u/%u ", q + 1, m->nquestions);
    if (lesson_out(out, outlen, &o, num) == -1 ||
        lesson_out(out, outlen, &o, lesson_tr(&x->q, lang)) == -1)
        return -1;
    for (i = 0; i < x->nopts; i++) {
        snprintf(num, sizeof num, "\n%u ", i + 1);
        if (lesson_out(out, outlen, &o, num) == -1 ||
            lesson_out(out, outlen, &o, lesson_tr(&x->opts[i], lang)) == -1)
            return -1;
    }
    if (reply != NULL && reply[0] != '\0' &&
        (lesson_out(out, outlen, &o, "\n") == -1 || lesson_out(out, outlen, &o, reply) == -1))
        return -1;
    return (int)o;
}

int
lesson_sms_feedback(const struct lesson_module *m, unsigned q, int right, const char *lang,
                    const char *ok, const char *wrong, char *out, size_t outlen)
{
    const struct lesson_question *x;
    char num[32];
    size_t o = 0;

    if (q >= m->nquestions || outlen == 0)
        return -1;
    x = &m->quiz[q];
    if (right)
        return lesson_out(out, outlen, &o, ok) == -1 ? -1 : (int)o;
    snprintf(num, sizeof num, " %u ", x->right);
    if (lesson_out(out, outlen, &o, wrong) == -1 || lesson_out(out, outlen, &o, num) == -1 ||
        lesson_out(out, outlen, &o, lesson_tr(&x->opts[x->right - 1], lang)) == -1 ||
        lesson_out(out, outlen, &o, ". ") == -1 ||
        lesson_out(out, outlen, &o, lesson_tr(&x->why, lang)) == -1)
        return -1;
    return (int)o;
}
