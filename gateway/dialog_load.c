/*
 * The dialog model: config/dialogs.conf read into a dialog_set (flows of screens, their texts,
 * conditions and options), names resolved to indices, and the set's lifetime. Errors are
 * "FILE:LINE: what" through cfgfile; what the file may contain is documented in the file.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cfgfile.h"
#include "dialog.h"
#include "dialog_int.h"
#include "lesson.h"
#include "gsm7.h"

const char *const dialog_lang_names[LANGS] = {"id", "en"};

const char *const dialog_msg_names[MSG_COUNT + 1] = {"invalid_choice",
                                                     "invalid_number",
                                                     "invalid_text",
                                                     "wrong_code",
                                                     "too_many",
                                                     "code_locked",
                                                     "more",
                                                     "save_failed",
                                                     "ended",
                                                     "resume_prompt",
                                                     "resume_continue",
                                                     "resume_restart",
                                                     NULL};

static const char *const kind_names[KIND_COUNT] = {"choice",  "integer", "text", "code",  "list",
                                                   "confirm", "info",    "end",  "lesson"};

static const char *const todo_names[DO_COUNT] = {"", "submit", "restart", "cancel"};

static const char *const action_names[] = {"",     "business", "attendance", "help",
                                           "link", "checkin",  "optin",      "exit_survey"};
#define ACTION_COUNT (sizeof(action_names) / sizeof(action_names[0]))

static int
screen_index(const struct flow *f, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < f->nscreens; i++)
        if (f->screens[i].name && strlen(f->screens[i].name) == len &&
            memcmp(f->screens[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static int
flow_index(const struct dialog_set *set, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < set->nflows; i++)
        if (set->flows[i].name && strlen(set->flows[i].name) == len &&
            memcmp(set->flows[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

int
dialog_flow_has_field(const struct flow *f, const char *field, size_t len)
{
    size_t i;

    for (i = 0; i < f->nscreens; i++)
        if (f->screens[i].field && strlen(f->screens[i].field) == len &&
            memcmp(f->screens[i].field, field, len) == 0)
            return 1;
    return 0;
}

int
dialog_flow_has_list(const struct flow *f, size_t before)
{
    size_t i;

    for (i = 0; i < f->nscreens && i < before; i++)
        if (f->screens[i].kind == KIND_LIST)
            return 1;
    return 0;
}

/* Freeing */

static void
text_free(struct text *t)
{
    free(t->s[0]);
    free(t->s[1]);
}

static void
rich_free(struct rich *r)
{
    size_t i;

    for (i = 0; i < r->nparts && r->parts; i++) {
        text_free(&r->parts[i].text);
        dialog_cond_free(&r->parts[i].when);
    }
    free(r->parts);
}

static void
screen_free(struct screen *sc)
{
    size_t i;

    free(sc->name);
    free(sc->field);
    dialog_cond_free(&sc->when);
    rich_free(&sc->prompt);
    free(sc->sep);
    for (i = 0; i < sc->nopts && sc->opts; i++) {
        text_free(&sc->opts[i].label);
        free(sc->opts[i].go_name);
        dialog_cond_free(&sc->opts[i].when);
    }
    free(sc->opts);
    text_free(&sc->invalid);
    rich_free(&sc->empty);
    free(sc->course);
}

static void
set_free(struct dialog_set *set)
{
    size_t i, j;

    for (i = 0; i < set->nflows && set->flows; i++) {
        struct flow *f = &set->flows[i];

        free(f->name);
        rich_free(&f->saved);
        for (j = 0; j < f->nscreens && f->screens; j++)
            screen_free(&f->screens[j]);
        free(f->screens);
    }
    free(set->flows);
    for (i = 0; i < MSG_COUNT; i++)
        text_free(&set->msgs[i]);
    for (i = 0; i < DIALOG_A_COUNT; i++)
        text_free(&set->atexts[i]);
    for (i = 0; i < DIALOG_L_COUNT; i++)
        text_free(&set->ltexts[i]);
    lesson_set_free(set->lessons);
    free(set->file);
    free(set);
}

/* Loading */

struct loader {
    struct cfgfile *f; /* errors go there, the first one kept */
    struct dialog_set *set;
};

static int
ident_ok(const char *s)
{
    size_t n = 0;

    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return n > 0 && n <= NAME_MAX_LEN;
}

/*
 * String member `name` of g as the setting's own string, at most TEXT_MAX bytes of UTF-8: *out
 * is NULL when it is absent and not required. *line (if line is not NULL) gets its line.
 */
static int
load_strref(struct loader *ld, const config_setting_t *g, const char *name, int required,
            const char **out, int *line)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    size_t units;
    int gsm;

    if (m != NULL && line != NULL)
        *line = cfgfile_line(m);
    if (cfgfile_strref(ld->f, g, name, required, out) < 0)
        return -1;
    if (*out == NULL)
        return 0;
    if (strlen(*out) > TEXT_MAX)
        return cfgfile_fail(ld->f, m, "'%s' is longer than %d bytes", name, TEXT_MAX);
    if (gsm7_measure(*out, strlen(*out), &units, &gsm) < 0)
        return cfgfile_fail(ld->f, m, "'%s' is not valid UTF-8", name);
    return 0;
}

/* The same, copied into *out for the model to keep. */
static int
load_string(struct loader *ld, const config_setting_t *g, const char *name, int required,
            char **out, int *line)
{
    const char *v;

    *out = NULL;
    if (load_strref(ld, g, name, required, &v, line) < 0)
        return -1;
    if (v != NULL && (*out = strdup(v)) == NULL)
        return cfgfile_fail(ld->f, config_setting_get_member(g, name), "out of memory");
    return 0;
}

/* `in = [1, 2]` of a condition. */
static int
load_cond_in(struct loader *ld, const config_setting_t *in, struct cond *c)
{
    int i, n;

    if (!config_setting_is_array(in) && !config_setting_is_list(in))
        return cfgfile_fail(ld->f, in, "'in' must be a list of integers [1, 2]");
    n = config_setting_length(in);
    if (n < 1 || n > MAX_IN)
        return cfgfile_fail(ld->f, in, "'in' must have 1 to %d values", MAX_IN);
    for (i = 0; i < n; i++) {
        const config_setting_t *v = config_setting_get_elem(in, (unsigned)i);
        long long x;

        if (config_setting_type(v) == CONFIG_TYPE_STRING) {
            const char *sv = config_setting_get_string(v);

            if (!ident_ok(sv) || strlen(sv) >= sizeof(c->in[i]))
                return cfgfile_fail(ld->f, in, "'in' names must be 1 to 20 of a-z 0-9 _");
            snprintf(c->in[i], sizeof(c->in[i]), "%s", sv);
            continue;
        }
        if (config_setting_type(v) != CONFIG_TYPE_INT &&
            config_setting_type(v) != CONFIG_TYPE_INT64)
            return cfgfile_fail(ld->f, in, "'in' must be a list of integers [1, 2] or names");
        if ((x = config_setting_get_int64(v)) < 0)
            return cfgfile_fail(ld->f, in, "'in' values must not be negative");
        snprintf(c->in[i], sizeof(c->in[i]), "%lld", x);
    }
    c->nin = (size_t)n;
    return 0;
}

/* One clause of the short form: FIELD, !FIELD, FIELD == V or FIELD != V (spaces around). */
static int
load_cond_clause(struct loader *ld, const char *p, size_t len, int line, struct cond *c)
{
    const char *op = NULL, *v;
    size_t flen, vlen;

    while (len > 0 && p[0] == ' ')
        p++, len--;
    while (len > 0 && p[len - 1] == ' ')
        len--;
    c->used = 1;
    c->line = line;
    if (len > 0 && p[0] == '!') {
        c->absent = 1;
        p++, len--;
    }
    for (flen = 0; flen + 1 < len; flen++)
        if ((p[flen] == '=' || p[flen] == '!') && p[flen + 1] == '=') {
            op = p + flen;
            break;
        }
    if (op == NULL)
        flen = len;
    while (flen > 0 && p[flen - 1] == ' ')
        flen--;
    if ((c->field = strndup(p, flen)) == NULL)
        return cfgfile_fail_line(ld->f, line, "out of memory");
    if (op == NULL)
        return flen > 0 ? 0 : cfgfile_fail_line(ld->f, line, "'when': an empty clause");
    if (c->absent)
        return cfgfile_fail_line(ld->f, line, "'when': '!FIELD' takes no '==' or '!='");
    c->negate = op[0] == '!';
    for (v = op + 2, vlen = len - (size_t)(v - p); vlen > 0 && v[0] == ' '; v++, vlen--)
        ;
    if (vlen == 0 || vlen >= sizeof(c->in[0]) ||
        strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") < vlen)
        return cfgfile_fail_line(
            ld->f, line, "'when': the value after '%c=' must be 1 to 20 of a-z 0-9 _", op[0]);
    memcpy(c->in[0], v, vlen);
    c->in[0][vlen] = '\0';
    c->nin = 1;
    return 0;
}

/* `when = "a == b && c"`: a chain of clauses. */
static int
load_cond_short(struct loader *ld, const config_setting_t *g, struct cond *c)
{
    const char *s = config_setting_get_string(g), *amp;
    int line = cfgfile_line(g);

    if (s == NULL || strlen(s) > 256)
        return cfgfile_fail(ld->f, g, "'when' is at most 256 bytes");
    for (;;) {
        amp = strstr(s, "&&");
        if (load_cond_clause(ld, s, amp ? (size_t)(amp - s) : strlen(s), line, c) < 0)
            return -1;
        if (amp == NULL)
            return 0;
        if ((c->and = calloc(1, sizeof(*c->and))) == NULL)
            return cfgfile_fail(ld->f, g, "out of memory");
        c = c->and;
        s = amp + 2;
    }
}

static int
load_cond(struct loader *ld, const config_setting_t *g, struct cond *c)
{
    static const char *const keys[] = {"field", "in", "absent", NULL};
    const config_setting_t *in;

    if (config_setting_type(g) == CONFIG_TYPE_STRING)
        return load_cond_short(ld, g, c);
    if (!config_setting_is_group(g))
        return cfgfile_fail(ld->f, g,
                            "'when' must be a group { field = \"...\"; in = [...]; } or a"
                            " string \"FIELD == VALUE && ...\"");
    c->used = 1;
    c->line = cfgfile_line(g);
    if (cfgfile_members(ld->f, g, keys, "when") < 0 ||
        load_string(ld, g, "field", 1, &c->field, &c->line) < 0)
        return -1;
    if ((in = config_setting_get_member(g, "in")) != NULL && load_cond_in(ld, in, c) < 0)
        return -1;
    if (cfgfile_bool(ld->f, g, "absent", &c->absent) < 0)
        return -1;
    if (c->absent && c->nin > 0)
        return cfgfile_fail(ld->f, config_setting_get_member(g, "absent"),
                            "'when' has either 'in' or 'absent = true'");
    return 0;
}

/* { id = "..."; en = "..."; } and, for a part of a list, an optional `when`. */
static int
load_text(struct loader *ld, const config_setting_t *g, struct text *t, struct cond *when,
          const char *what)
{
    static const char *const keys[] = {"id", "en", NULL};
    static const char *const keys_when[] = {"id", "en", "when", NULL};
    const config_setting_t *w;
    int l;

    if (!config_setting_is_group(g))
        return cfgfile_fail(ld->f, g, "%s must be a group { id = \"...\"; en = \"...\"; }", what);
    t->line_group = cfgfile_line(g);
    if (cfgfile_members(ld->f, g, when ? keys_when : keys, what) < 0)
        return -1;
    for (l = 0; l < LANGS; l++) {
        if (config_setting_get_member(g, dialog_lang_names[l]) == NULL)
            return cfgfile_fail(ld->f, g, "missing '%s' text in %s", dialog_lang_names[l], what);
        t->line[l] = cfgfile_line(g);
        if (load_string(ld, g, dialog_lang_names[l], 1, &t->s[l], &t->line[l]) < 0)
            return -1;
    }
    if (when && (w = config_setting_get_member(g, "when")) != NULL)
        return load_cond(ld, w, when);
    return 0;
}

static int
load_rich(struct loader *ld, const config_setting_t *m, struct rich *r, const char *what)
{
    int i, n;

    r->line = cfgfile_line(m);
    if (config_setting_is_group(m)) {
        if ((r->parts = calloc(1, sizeof(*r->parts))) == NULL)
            return cfgfile_fail(ld->f, m, "out of memory");
        r->nparts = 1;
        return load_text(ld, m, &r->parts[0].text, NULL, what);
    }
    if (!config_setting_is_list(m))
        return cfgfile_fail(ld->f, m, "%s must be a text { id = ...; en = ...; } or a list of them",
                            what);
    n = config_setting_length(m);
    if (n < 1 || n > MAX_PARTS)
        return cfgfile_fail(ld->f, m, "%s must have 1 to %d parts", what, MAX_PARTS);
    if ((r->parts = calloc((size_t)n, sizeof(*r->parts))) == NULL)
        return cfgfile_fail(ld->f, m, "out of memory");
    r->nparts = (size_t)n;
    r->is_list = 1;
    for (i = 0; i < n; i++)
        if (load_text(ld, config_setting_get_elem(m, (unsigned)i), &r->parts[i].text,
                      &r->parts[i].when, what) < 0)
            return -1;
    return 0;
}

/* An option's `lang` (the language it switches to) and `do` (what it does instead of a goto). */
static int
load_option_effect(struct loader *ld, const config_setting_t *g, struct option *o)
{
    const char *s;
    int line = 0, i;

    if (load_strref(ld, g, "lang", 0, &s, &line) < 0)
        return -1;
    if (s) {
        for (i = 0; i < LANGS; i++)
            if (strcmp(s, dialog_lang_names[i]) == 0)
                o->lang = i;
        if (o->lang < 0)
            return cfgfile_fail_line(ld->f, line, "'lang' must be \"id\" or \"en\"");
    }
    if (load_strref(ld, g, "do", 0, &s, &line) < 0)
        return -1;
    if (s) {
        for (i = 1; i < DO_COUNT; i++)
            if (strcmp(s, todo_names[i]) == 0)
                o->todo = (enum todo)i;
        if (o->todo == DO_NONE)
            return cfgfile_fail_line(ld->f, line,
                                     "'do' must be \"submit\", \"restart\" or \"cancel\"");
        if (o->go_name)
            return cfgfile_fail_line(ld->f, line, "an option has either 'goto' or 'do'");
    }
    return 0;
}

static int
load_option(struct loader *ld, const config_setting_t *g, struct option *o)
{
    static const char *const keys[] = {"value", "label", "goto", "lang",
                                       "store", "do",    "when", NULL};
    const config_setting_t *m;
    uint64_t store;
    int l;

    o->go_flow = o->go_screen = o->lang = -1;
    if (!config_setting_is_group(g))
        return cfgfile_fail(ld->f, g, "an option must be a group { value = 1; label = {...}; }");
    o->line = cfgfile_line(g);
    if (cfgfile_members(ld->f, g, keys, "option") < 0 ||
        cfgfile_u64(ld->f, g, "value", 0, 999999, 1, &o->value) < 0)
        return -1;
    snprintf(o->vstr, sizeof(o->vstr), "%" PRIu64, o->value);
    store = o->value;
    if (cfgfile_u64(ld->f, g, "store", 0, 999999, 0, &store) < 0)
        return -1;
    snprintf(o->store, sizeof(o->store), "%" PRIu64, store);
    if ((m = config_setting_get_member(g, "label")) == NULL)
        return cfgfile_fail(ld->f, g, "missing 'label' in option %s", o->vstr);
    if (load_text(ld, m, &o->label, NULL, "label") < 0)
        return -1;
    for (l = 0; l < LANGS; l++)
        if (strchr(o->label.s[l], '{'))
            return cfgfile_fail_line(ld->f, o->label.line[l],
                                     "placeholders are not allowed in option labels");
    if (load_string(ld, g, "goto", 0, &o->go_name, NULL) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "when")) != NULL && load_cond(ld, m, &o->when) < 0)
        return -1;
    return load_option_effect(ld, g, o);
}

enum key {
    KEY_FIELD = 1 << 0,
    KEY_OPTIONS = 1 << 1,
    KEY_MINMAX = 1 << 2,
    KEY_LENGTH = 1 << 3,
    KEY_INVALID = 1 << 4,
    KEY_LIST = 1 << 5,
    KEY_COURSE = 1 << 6
};

/* Settings each kind takes beyond name, kind, when, prompt, sep. */
static const unsigned kind_keys[KIND_COUNT] = {
    [KIND_CHOICE] = KEY_FIELD | KEY_OPTIONS | KEY_INVALID,
    [KIND_INTEGER] = KEY_FIELD | KEY_MINMAX | KEY_INVALID,
    [KIND_TEXT] = KEY_FIELD | KEY_LENGTH | KEY_INVALID,
    [KIND_CODE] = KEY_FIELD | KEY_INVALID,
    [KIND_LIST] = KEY_FIELD | KEY_LIST | KEY_INVALID,
    [KIND_CONFIRM] = KEY_OPTIONS,
    [KIND_INFO] = KEY_OPTIONS,
    [KIND_END] = 0,
    [KIND_LESSON] = KEY_COURSE,
};

static const struct {
    const char *name;
    unsigned key;
} screen_keys[] = {
    {"field", KEY_FIELD},   {"options", KEY_OPTIONS},   {"min", KEY_MINMAX},
    {"max", KEY_MINMAX},    {"min_length", KEY_LENGTH}, {"max_length", KEY_LENGTH},
    {"digits", KEY_LENGTH}, {"invalid", KEY_INVALID},   {"source", KEY_LIST},
    {"empty", KEY_LIST},    {"course", KEY_COURSE},
};

/* The screen's name and kind, and no setting its kind does not take. */
static int
load_screen_kind(struct loader *ld, const config_setting_t *g, struct screen *sc)
{
    const config_setting_t *m;
    const char *kind;
    int kline = cfgfile_line(g), i;
    size_t k;

    if (load_string(ld, g, "name", 1, &sc->name, NULL) < 0)
        return -1;
    if (!ident_ok(sc->name))
        return cfgfile_fail_line(ld->f, sc->line, "screen name '%s' must be 1 to %d of a-z 0-9 _",
                                 sc->name, NAME_MAX_LEN);
    if (load_strref(ld, g, "kind", 1, &kind, &kline) < 0)
        return -1;
    for (i = 0; i < KIND_COUNT; i++)
        if (strcmp(kind, kind_names[i]) == 0)
            break;
    if (i == KIND_COUNT)
        return cfgfile_fail_line(
            ld->f, kline,
            "screen '%s': bad kind (choice, integer, text, code, list, confirm, info, end,"
            " lesson)",
            sc->name);
    sc->kind = (enum kind)i;
    for (k = 0; k < sizeof(screen_keys) / sizeof(screen_keys[0]); k++)
        if ((m = config_setting_get_member(g, screen_keys[k].name)) != NULL &&
            !(kind_keys[sc->kind] & screen_keys[k].key))
            return cfgfile_fail(ld->f, m, "screen '%s': kind '%s' takes no '%s'", sc->name,
                                kind_names[sc->kind], screen_keys[k].name);
    return 0;
}

/* `options = ( {...}, ... )`, each value once. */
static int
load_options(struct loader *ld, const config_setting_t *m, struct screen *sc)
{
    size_t k, j;
    int n;

    if (!config_setting_is_list(m))
        return cfgfile_fail(ld->f, m, "'options' must be a list ( {...}, {...} )");
    n = config_setting_length(m);
    if (n < 1 || n > MAX_OPTIONS)
        return cfgfile_fail(ld->f, m, "'options' must have 1 to %d options", MAX_OPTIONS);
    if ((sc->opts = calloc((size_t)n, sizeof(*sc->opts))) == NULL)
        return cfgfile_fail(ld->f, m, "out of memory");
    sc->nopts = (size_t)n;
    for (k = 0; k < sc->nopts; k++) {
        if (load_option(ld, config_setting_get_elem(m, (unsigned)k), &sc->opts[k]) < 0)
            return -1;
        for (j = 0; j < k; j++)
            if (sc->opts[j].value == sc->opts[k].value)
                return cfgfile_fail_line(ld->f, sc->opts[k].line,
                                         "screen '%s': option %s appears twice", sc->name,
                                         sc->opts[k].vstr);
    }
    return 0;
}

/* An integer screen's min and max, a text screen's lengths and `digits`. */
static int
load_screen_limits(struct loader *ld, const config_setting_t *g, struct screen *sc)
{
    uint64_t v = 1;

    if (sc->kind == KIND_INTEGER) {
        if (cfgfile_u64(ld->f, g, "min", 0, UINT64_MAX / 2, 1, &sc->min) < 0 ||
            cfgfile_u64(ld->f, g, "max", 0, UINT64_MAX / 2, 1, &sc->max) < 0)
            return -1;
        if (sc->min > sc->max)
            return cfgfile_fail(ld->f, config_setting_get_member(g, "min"),
                                "screen '%s': min %" PRIu64 " > max %" PRIu64, sc->name, sc->min,
                                sc->max);
    }
    if (sc->kind == KIND_TEXT) {
        if (cfgfile_u64(ld->f, g, "max_length", 0, TEXT_FIELD_MAX, 1, &sc->max) < 0 ||
            cfgfile_u64(ld->f, g, "min_length", 0, TEXT_FIELD_MAX, 0, &v) < 0)
            return -1;
        sc->min = v;
        if (sc->min < 1 || sc->max < 1 || sc->min > sc->max)
            return cfgfile_fail_line(ld->f, sc->line,
                                     "screen '%s': need 1 <= min_length <= max_length <= %d",
                                     sc->name, TEXT_FIELD_MAX);
        if (cfgfile_bool(ld->f, g, "digits", &sc->digits) < 0)
            return -1;
    }
    return 0;
}

/* A list screen's source (only the trainings) and the text shown when the list is empty. */
static int
load_screen_list(struct loader *ld, const config_setting_t *g, struct screen *sc)
{
    const config_setting_t *m;
    const char *source;
    int line = 0;

    if (load_strref(ld, g, "source", 1, &source, &line) < 0)
        return -1;
    if (strcmp(source, "trainings") != 0)
        return cfgfile_fail_line(ld->f, line, "screen '%s': the only list source is \"trainings\"",
                                 sc->name);
    if ((m = config_setting_get_member(g, "empty")) == NULL)
        return cfgfile_fail_line(ld->f, sc->line, "screen '%s': a list needs an 'empty' text",
                                 sc->name);
    return load_rich(ld, m, &sc->empty, "empty");
}

static int
load_screen(struct loader *ld, const config_setting_t *g, struct screen *sc)
{
    static const char *const keys[] = {
        "name",       "kind",       "field",  "when",    "prompt", "sep",   "options", "min", "max",
        "min_length", "max_length", "digits", "invalid", "source", "empty", "course",  NULL};
    const config_setting_t *m;

    if (!config_setting_is_group(g))
        return cfgfile_fail(ld->f, g,
                            "a screen must be a group { name = \"...\"; kind = \"...\"; }");
    sc->line = cfgfile_line(g);
    if (cfgfile_members(ld->f, g, keys, "screen") < 0 || load_screen_kind(ld, g, sc) < 0 ||
        load_string(ld, g, "field", 0, &sc->field, NULL) < 0)
        return -1;
    if (sc->field == NULL && sc->kind != KIND_CHOICE && (kind_keys[sc->kind] & KEY_FIELD))
        return cfgfile_fail_line(ld->f, sc->line, "screen '%s': kind '%s' needs a 'field'",
                                 sc->name, kind_names[sc->kind]);
    if (sc->field && !ident_ok(sc->field))
        return cfgfile_fail_line(ld->f, sc->line, "field '%s' must be 1 to %d of a-z 0-9 _",
                                 sc->field, NAME_MAX_LEN);
    if ((m = config_setting_get_member(g, "when")) != NULL && load_cond(ld, m, &sc->when) < 0)
        return -1;
    if (sc->kind == KIND_LESSON) {
        /* its texts are the course's and the `lesson` group's */
        if (load_string(ld, g, "course", 1, &sc->course, NULL) < 0)
            return -1;
        if (config_setting_get_member(g, "prompt") != NULL)
            return cfgfile_fail_line(ld->f, sc->line,
                                     "screen '%s': kind 'lesson' takes no 'prompt'", sc->name);
        return 0;
    }
    if ((m = config_setting_get_member(g, "prompt")) == NULL)
        return cfgfile_fail_line(ld->f, sc->line, "screen '%s': missing 'prompt'", sc->name);
    if (load_rich(ld, m, &sc->prompt, "prompt") < 0 ||
        load_string(ld, g, "sep", 0, &sc->sep, NULL) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "options")) != NULL) {
        if (load_options(ld, m, sc) < 0)
            return -1;
    } else if (sc->kind == KIND_CHOICE || sc->kind == KIND_CONFIRM) {
        return cfgfile_fail_line(ld->f, sc->line, "screen '%s': kind '%s' needs 'options'",
                                 sc->name, kind_names[sc->kind]);
    }
    if (load_screen_limits(ld, g, sc) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "invalid")) != NULL) {
        sc->has_invalid = 1;
        if (load_text(ld, m, &sc->invalid, NULL, "invalid") < 0)
            return -1;
    }
    if (sc->kind == KIND_LIST)
        return load_screen_list(ld, g, sc);
    return 0;
}

/* A flow's `action` (what its report is) and the `saved` text shown once it is committed. */
static int
load_flow_action(struct loader *ld, const config_setting_t *g, struct flow *f)
{
    const config_setting_t *m;
    const char *action;
    int line = f->line;
    size_t k;

    if (load_strref(ld, g, "action", 0, &action, &line) < 0)
        return -1;
    if (action) {
        for (k = 1; k < ACTION_COUNT; k++)
            if (strcmp(action, action_names[k]) == 0)
                f->action = (enum dialog_action)k;
        if (f->action == DIALOG_ACT_NONE)
            return cfgfile_fail_line(
                ld->f, line,
                "flow '%s': 'action' must be business, attendance, help, link, checkin,"
                " optin or exit_survey",
                f->name);
    }
    if ((m = config_setting_get_member(g, "saved")) != NULL) {
        if (f->action == DIALOG_ACT_NONE)
            return cfgfile_fail(ld->f, m, "flow '%s': 'saved' needs an 'action'", f->name);
        return load_rich(ld, m, &f->saved, "saved");
    }
    if (f->action != DIALOG_ACT_NONE)
        return cfgfile_fail_line(ld->f, f->line, "flow '%s': an 'action' needs a 'saved' text",
                                 f->name);
    return 0;
}

static int
load_flow(struct loader *ld, const config_setting_t *g, struct flow *f)
{
    static const char *const keys[] = {"name", "action", "saved", "screens", NULL};
    const config_setting_t *m;
    size_t k, j;
    int n;

    if (!config_setting_is_group(g))
        return cfgfile_fail(ld->f, g,
                            "a flow must be a group { name = \"...\"; screens = (...); }");
    f->line = cfgfile_line(g);
    if (cfgfile_members(ld->f, g, keys, "flow") < 0 ||
        load_string(ld, g, "name", 1, &f->name, NULL) < 0)
        return -1;
    if (!ident_ok(f->name))
        return cfgfile_fail_line(ld->f, f->line, "flow name '%s' must be 1 to %d of a-z 0-9 _",
                                 f->name, NAME_MAX_LEN);
    if (load_flow_action(ld, g, f) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "screens")) == NULL || !config_setting_is_list(m))
        return cfgfile_fail_line(ld->f, m ? cfgfile_line(m) : f->line,
                                 "flow '%s': needs 'screens = ( {...}, ... );'", f->name);
    n = config_setting_length(m);
    if (n < 1 || n > MAX_SCREENS)
        return cfgfile_fail(ld->f, m, "flow '%s': needs 1 to %d screens", f->name, MAX_SCREENS);
    if ((f->screens = calloc((size_t)n, sizeof(*f->screens))) == NULL)
        return cfgfile_fail(ld->f, m, "out of memory");
    f->nscreens = (size_t)n;
    for (k = 0; k < f->nscreens; k++) {
        if (load_screen(ld, config_setting_get_elem(m, (unsigned)k), &f->screens[k]) < 0)
            return -1;
        for (j = 0; j < k; j++)
            if (strcmp(f->screens[j].name, f->screens[k].name) == 0)
                return cfgfile_fail_line(ld->f, f->screens[k].line,
                                         "flow '%s': screen '%s' appears twice", f->name,
                                         f->screens[k].name);
    }
    return 0;
}

/* Resolving: names to indices, and the checks that need the whole model */

static int
resolve_goto(struct loader *ld, int flow, struct option *o)
{
    const struct dialog_set *set = ld->set;
    const char *name = o->go_name, *dot;
    int f, s;

    if ((dot = strchr(name, '.')) != NULL) {
        f = flow_index(set, name, (size_t)(dot - name));
        s = f < 0 ? -1 : screen_index(&set->flows[f], dot + 1, strlen(dot + 1));
        if (s < 0)
            return cfgfile_fail_line(ld->f, o->line, "unknown screen '%s' in goto", name);
        o->go_flow = f;
        o->go_screen = s;
    } else if ((s = screen_index(&set->flows[flow], name, strlen(name))) >= 0) {
        o->go_flow = flow;
        o->go_screen = s;
    } else if ((f = flow_index(set, name, strlen(name))) >= 0) {
        o->go_flow = f;
    } else {
        return cfgfile_fail_line(ld->f, o->line, "unknown screen or flow '%s' in goto", name);
    }
    return 0;
}

static int
resolve_screen(struct loader *ld, int fi, size_t i)
{
    struct cfgfile *f = ld->f;
    const struct dialog_set *set = ld->set;
    const struct flow *fl = &set->flows[fi];
    struct screen *sc = &fl->screens[i];
    size_t k;

    if (dialog_check_cond(f, set, fi, &sc->when) < 0 ||
        dialog_check_rich(f, set, fi, &sc->prompt) < 0 ||
        (sc->has_invalid && dialog_check_text(f, set, fi, &sc->invalid) < 0) ||
        (sc->kind == KIND_LIST && dialog_check_rich(f, set, fi, &sc->empty) < 0))
        return -1;
    if (sc->kind == KIND_CODE && !dialog_flow_has_list(fl, i))
        return cfgfile_fail_line(
            f, sc->line, "screen '%s': a code screen needs a list screen before it", sc->name);
    for (k = 0; k < sc->nopts; k++) {
        struct option *o = &sc->opts[k];

        if (dialog_check_cond(f, set, fi, &o->when) < 0 ||
            (o->go_name && resolve_goto(ld, fi, o) < 0))
            return -1;
        if (o->todo == DO_SUBMIT && fl->action == DIALOG_ACT_NONE)
            return cfgfile_fail_line(f, o->line, "flow '%s' has no 'action' to submit", fl->name);
    }
    return 0;
}

static int
resolve(struct loader *ld)
{
    struct dialog_set *set = ld->set;
    size_t f, i;

    for (f = 0; f < set->nflows; f++) {
        struct flow *fl = &set->flows[f];

        if (fl->action != DIALOG_ACT_NONE && dialog_check_rich(ld->f, set, (int)f, &fl->saved) < 0)
            return -1;
        for (i = 0; i < fl->nscreens; i++)
            if (resolve_screen(ld, (int)f, i) < 0)
                return -1;
    }
    for (i = 0; i < MSG_COUNT; i++)
        if (dialog_check_text(ld->f, set, -1, &set->msgs[i]) < 0)
            return -1;
    return 0;
}

/* The file's top level */

static int
load_messages(struct loader *ld, const config_setting_t *root)
{
    struct dialog_set *set = ld->set;
    const config_setting_t *m = config_setting_get_member(root, "messages");
    int i;

    if (m == NULL || !config_setting_is_group(m))
        return cfgfile_fail_line(ld->f, m ? cfgfile_line(m) : 1, "missing 'messages = { ... };'");
    if (cfgfile_members(ld->f, m, dialog_msg_names, "messages") < 0)
        return -1;
    for (i = 0; i < MSG_COUNT; i++) {
        const config_setting_t *t = config_setting_get_member(m, dialog_msg_names[i]);

        if (t == NULL)
            return cfgfile_fail(ld->f, m, "missing message '%s'", dialog_msg_names[i]);
        if (load_text(ld, t, &set->msgs[i], NULL, dialog_msg_names[i]) < 0)
            return -1;
    }
    return 0;
}

static int
load_flows(struct loader *ld, const config_setting_t *root)
{
    struct dialog_set *set = ld->set;
    const config_setting_t *m = config_setting_get_member(root, "flows");
    size_t k, j;
    int n;

    if (m == NULL || !config_setting_is_list(m))
        return cfgfile_fail_line(ld->f, m ? cfgfile_line(m) : 1,
                                 "missing 'flows = ( {...}, ... );'");
    n = config_setting_length(m);
    if (n < 1 || n > MAX_FLOWS)
        return cfgfile_fail(ld->f, m, "'flows' must have 1 to %d flows", MAX_FLOWS);
    if ((set->flows = calloc((size_t)n, sizeof(*set->flows))) == NULL)
        return cfgfile_fail(ld->f, m, "out of memory");
    set->nflows = (size_t)n;
    for (k = 0; k < set->nflows; k++) {
        if (load_flow(ld, config_setting_get_elem(m, (unsigned)k), &set->flows[k]) < 0)
            return -1;
        for (j = 0; j < k; j++)
            if (strcmp(set->flows[j].name, set->flows[k].name) == 0)
                return cfgfile_fail_line(ld->f, set->flows[k].line, "flow '%s' appears twice",
                                         set->flows[k].name);
    }
    return 0;
}

/* `start`, `start_unknown` (flows) and `last_status_labels` (a choice screen, "flow.screen"). */
static int
load_starts(struct loader *ld, const config_setting_t *root)
{
    static const char *const names[2] = {"start", "start_unknown"};
    struct dialog_set *set = ld->set;
    const char *s, *dot;
    int i, line = 1;

    for (i = 0; i < 2; i++) {
        if (load_strref(ld, root, names[i], 1, &s, &line) < 0)
            return -1;
        if ((set->start[i] = flow_index(set, s, strlen(s))) < 0)
            return cfgfile_fail_line(ld->f, line, "'%s' names no flow", names[i]);
    }
    set->last_flow = set->last_screen = -1;
    if (load_strref(ld, root, "last_status_labels", 0, &s, &line) < 0)
        return -1;
    if (s == NULL)
        return 0;
    if ((dot = strchr(s, '.')) != NULL &&
        (set->last_flow = flow_index(set, s, (size_t)(dot - s))) >= 0)
        set->last_screen = screen_index(&set->flows[set->last_flow], dot + 1, strlen(dot + 1));
    if (set->last_screen < 0 ||
        set->flows[set->last_flow].screens[set->last_screen].kind != KIND_CHOICE)
        return cfgfile_fail_line(
            ld->f, line, "'last_status_labels' must name a choice screen as \"flow.screen\"");
    return 0;
}

static const char *const atext_names[DIALOG_A_COUNT + 1] = {"menu",
                                                            "alerts",
                                                            "alerts_none",
                                                            "rule_help",
                                                            "rule_link",
                                                            "rule_graduation",
                                                            "rule_business_closed",
                                                            "rule_revenue_drop",
                                                            "rule_silent",
                                                            "rule_training_missed",
                                                            "rule_relapse",
                                                            "alert",
                                                            "outcomes",
                                                            "candidate",
                                                            "link",
                                                            "decline",
                                                            "pkh",
                                                            "not_found",
                                                            "kpm",
                                                            "last",
                                                            "no_report",
                                                            "statuses",
                                                            "visit_date",
                                                            "visit_outcome",
                                                            "visit_running",
                                                            "visit_confirm",
                                                            "saved",
                                                            "conflict",
                                                            "failed",
                                                            "invalid",
                                                            "language",
                                                            "more",
                                                            "back",
                                                            NULL};

/* The assistant's menu texts: their only placeholders are {1} to {4}. */
static int
load_atexts(struct loader *ld, const config_setting_t *root)
{
    const config_setting_t *m = config_setting_get_member(root, "assistant");
    struct dialog_set *set = ld->set;
    const char *p;
    int i, l;

    if (m == NULL)
        return 0;
    if (!config_setting_is_group(m))
        return cfgfile_fail(ld->f, m, "'assistant' must be a group { menu = {...}; ... }");
    if (cfgfile_members(ld->f, m, atext_names, "assistant") < 0)
        return -1;
    for (i = 0; i < DIALOG_A_COUNT; i++) {
        const config_setting_t *t = config_setting_get_member(m, atext_names[i]);

        if (t == NULL)
            return cfgfile_fail(ld->f, m, "'assistant' misses '%s'", atext_names[i]);
        if (load_text(ld, t, &set->atexts[i], NULL, atext_names[i]) < 0)
            return -1;
        for (l = 0; l < LANGS; l++)
            for (p = set->atexts[i].s[l]; p != NULL && (p = strchr(p, '{')) != NULL; p++)
                if (p[1] < '1' || p[1] > '4' || p[2] != '}')
                    return cfgfile_fail_line(ld->f, set->atexts[i].line[l],
                                             "assistant '%s': the only placeholders are {1} to {4}",
                                             atext_names[i]);
    }
    set->has_atexts = 1;
    return 0;
}

const char *const dialog_ltext_names[DIALOG_L_COUNT + 1] = {"screen", "next",   "question", "right",
                                                            "wrong",  "passed", "failed",   "done",
                                                            "none",   "resume", NULL};

/* The lesson screens' words: required with a lesson screen, placeholders {1} to {3}. */
static int
load_ltexts(struct loader *ld, const config_setting_t *root)
{
    const config_setting_t *m = config_setting_get_member(root, "lesson");
    struct dialog_set *set = ld->set;
    const char *p;
    size_t fi, si;
    int i, l;

    if (m == NULL) {
        for (fi = 0; fi < set->nflows; fi++)
            for (si = 0; si < set->flows[fi].nscreens; si++)
                if (set->flows[fi].screens[si].kind == KIND_LESSON)
                    return cfgfile_fail_line(
                        ld->f, set->flows[fi].screens[si].line,
                        "a lesson screen needs the group 'lesson' (its words)");
        return 0;
    }
    if (!config_setting_is_group(m))
        return cfgfile_fail(ld->f, m, "'lesson' must be a group { next = {...}; ... }");
    if (cfgfile_members(ld->f, m, dialog_ltext_names, "lesson") < 0)
        return -1;
    for (i = 0; i < DIALOG_L_COUNT; i++) {
        const config_setting_t *t = config_setting_get_member(m, dialog_ltext_names[i]);

        if (t == NULL)
            return cfgfile_fail(ld->f, m, "'lesson' misses '%s'", dialog_ltext_names[i]);
        if (load_text(ld, t, &set->ltexts[i], NULL, dialog_ltext_names[i]) < 0)
            return -1;
        for (l = 0; l < LANGS; l++)
            for (p = set->ltexts[i].s[l]; p != NULL && (p = strchr(p, '{')) != NULL; p++)
                if (p[1] < '1' || p[1] > '3' || p[2] != '}')
                    return cfgfile_fail_line(ld->f, set->ltexts[i].line[l],
                                             "lesson '%s': the only placeholders are {1} to {3}",
                                             dialog_ltext_names[i]);
    }
    set->has_ltexts = 1;
    return 0;
}

int
dialog_set_attach_lessons(struct dialog_set *set, struct lesson_set *lessons, char *err,
                          size_t errlen)
{
    size_t fi, si;

    set->lessons = lessons;
    for (fi = 0; fi < set->nflows; fi++)
        for (si = 0; si < set->flows[fi].nscreens; si++) {
            const struct screen *sc = &set->flows[fi].screens[si];
            const struct lesson_course *c;

            if (sc->kind != KIND_LESSON || lessons == NULL)
                continue;
            if ((c = lesson_course(lessons, sc->course)) == NULL) {
                snprintf(err, errlen, "%s:%d: screen '%s': course '%s' is not in the lessons file",
                         set->file, sc->line, sc->name, sc->course);
                return -1;
            }
            if (set->course != NULL && set->course != c) {
                snprintf(err, errlen, "%s:%d: screen '%s': every lesson screen teaches one course",
                         set->file, sc->line, sc->name);
                return -1;
            }
            set->course = c;
        }
    return 0;
}

const struct lesson_course *
dialog_set_lesson_course(const struct dialog_set *set)
{
    return set != NULL ? set->course : NULL;
}

const char *
dialog_set_atext(const struct dialog_set *set, enum dialog_atext t, const char *lang)
{
    int l = lang != NULL && strcmp(lang, "en") == 0;

    if (set == NULL || !set->has_atexts || (unsigned)t >= DIALOG_A_COUNT)
        return NULL;
    return set->atexts[t].s[l] != NULL ? set->atexts[t].s[l] : "";
}

static int
load_root(struct loader *ld)
{
    static const char *const keys[] = {"version",  "start", "start_unknown", "last_status_labels",
                                       "messages", "flows", "assistant",     "lesson",
                                       NULL};
    const config_setting_t *root = cfgfile_root(ld->f);
    uint64_t v;

    if (cfgfile_members(ld->f, root, keys, "the file") < 0)
        return -1;
    if (config_setting_get_member(root, "version") == NULL)
        return cfgfile_fail_line(ld->f, 1, "missing 'version'");
    if (cfgfile_u64(ld->f, root, "version", 0, UINT32_MAX, 1, &v) < 0)
        return -1;
    ld->set->version = (unsigned)v;
    if (load_messages(ld, root) < 0 || load_flows(ld, root) < 0 || load_starts(ld, root) < 0 ||
        load_atexts(ld, root) < 0 || load_ltexts(ld, root) < 0)
        return -1;
    return resolve(ld);
}

struct dialog_set *
dialog_set_load(const char *path, char *err, size_t errlen)
{
    struct cfgfile f;
    struct loader ld = {&f, NULL};

    if (cfgfile_open(&f, path, err, errlen) == 0) {
        if ((ld.set = calloc(1, sizeof(*ld.set))) == NULL ||
            (ld.set->file = strdup(path)) == NULL) {
            cfgfile_fail_line(&f, 0, "out of memory");
        } else {
            atomic_init(&ld.set->refs, 1);
            load_root(&ld);
        }
    }
    cfgfile_close(&f);
    if (f.failed) {
        if (ld.set)
            set_free(ld.set);
        return NULL;
    }
    return ld.set;
}

void
dialog_set_ref(struct dialog_set *set)
{
    if (set)
        atomic_fetch_add(&set->refs, 1);
}

void
dialog_set_unref(struct dialog_set *set)
{
    if (set && atomic_fetch_sub(&set->refs, 1) == 1)
        set_free(set);
}

unsigned
dialog_set_version(const struct dialog_set *set)
{
    return set ? set->version : 0;
}
