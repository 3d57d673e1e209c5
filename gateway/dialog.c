#include <stdatomic.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libconfig.h>

#include "cfgfile.h"
#include "dialog.h"
#include "gsm7.h"
#include "parse.h"

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

#define LINE(s) ((int)config_setting_source_line(s))

static const char *const lang_names[LANGS] = {"id", "en"};

struct text {
    char *s[LANGS];
    int line[LANGS];
    int line_group;
};

/* `when = { field = "status"; in = [1, 2]; }` or `{ field = "last.status"; absent = true; }` */
struct cond {
    int used;
    char *field;
    int absent;
    size_t nin;
    char in[MAX_IN][21];
    int line;
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
    KIND_COUNT
};
static const char *const kind_names[KIND_COUNT] = {"choice", "integer", "text", "code",
                                                   "list",   "confirm", "info", "end"};

enum todo { DO_NONE, DO_SUBMIT, DO_RESTART, DO_CANCEL, DO_COUNT };
static const char *const todo_names[DO_COUNT] = {"", "submit", "restart", "cancel"};

static const char *const action_names[] = {"", "business", "attendance", "help", "link"};
#define ACTION_COUNT (sizeof(action_names) / sizeof(action_names[0]))

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
static const char *const msg_names[MSG_COUNT + 1] = {"invalid_choice",
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

struct dialog_set {
    atomic_int refs; /* sessions run on the loop and, for SMS, on the database workers */
    unsigned version;
    char *file;
    struct flow *flows;
    size_t nflows;
    int start[2]; /* [0] registered, [1] unknown numbers */
    int last_flow, last_screen;
    struct text msgs[MSG_COUNT];
};

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
    PH_RUPIAH
};

static const struct {
    const char *name;
    enum ph ph;
} ph_fixed[] = {
    {"kpm.name", PH_KPM_NAME},
    {"assistant.name", PH_ASSISTANT_NAME},
    {"report.id", PH_REPORT_ID},
    {"min", PH_MIN},
    {"max", PH_MAX},
    {"last.date", PH_LAST_DATE},
    {"last.status", PH_LAST_STATUS},
    {"last.revenue", PH_LAST_REVENUE},
    {"last.workers", PH_LAST_WORKERS},
    {"trainings.attended", PH_TRAININGS_ATTENDED},
    {"training.title", PH_TRAINING_TITLE},
    {"training.date", PH_TRAINING_DATE},
    {"training.place", PH_TRAINING_PLACE},
};

static const struct {
    const char *prefix;
    enum ph ph;
} ph_prefixed[] = {
    {"answer.", PH_ANSWER},
    {"label.", PH_LABEL},
    {"rupiah.", PH_RUPIAH},
};

static enum ph
ph_parse(const char *name, size_t len, const char **field, size_t *flen)
{
    size_t i;

    for (i = 0; i < sizeof(ph_fixed) / sizeof(ph_fixed[0]); i++)
        if (strlen(ph_fixed[i].name) == len && memcmp(ph_fixed[i].name, name, len) == 0)
            return ph_fixed[i].ph;
    for (i = 0; i < sizeof(ph_prefixed) / sizeof(ph_prefixed[0]); i++) {
        size_t pl = strlen(ph_prefixed[i].prefix);

        if (len > pl && memcmp(ph_prefixed[i].prefix, name, pl) == 0) {
            *field = name + pl;
            *flen = len - pl;
            return ph_prefixed[i].ph;
        }
    }
    return PH_UNKNOWN;
}

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

static int
flow_has_field(const struct flow *f, const char *field, size_t len)
{
    size_t i;

    for (i = 0; i < f->nscreens; i++)
        if (f->screens[i].field && strlen(f->screens[i].field) == len &&
            memcmp(f->screens[i].field, field, len) == 0)
            return 1;
    return 0;
}

static int
flow_has_list(const struct flow *f, size_t before)
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
        free(r->parts[i].when.field);
    }
    free(r->parts);
}

static void
screen_free(struct screen *sc)
{
    size_t i;

    free(sc->name);
    free(sc->field);
    free(sc->when.field);
    rich_free(&sc->prompt);
    free(sc->sep);
    for (i = 0; i < sc->nopts && sc->opts; i++) {
        text_free(&sc->opts[i].label);
        free(sc->opts[i].go_name);
    }
    free(sc->opts);
    text_free(&sc->invalid);
    rich_free(&sc->empty);
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
    free(set->file);
    free(set);
}

/* Loading */

struct loader {
    const char *file;
    char *err;
    size_t errlen;
    int failed;
    struct dialog_set *set;
};

static void lerr(struct loader *ld, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
lerr(struct loader *ld, int line, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (ld->failed)
        return;
    ld->failed = 1;
    if (ld->err == NULL || ld->errlen == 0)
        return;
    n = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->file, line);
    if (n < 0 || (size_t)n >= ld->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(ld->err + n, ld->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static int
ident_ok(const char *s)
{
    size_t n = 0;

    for (; *s; s++, n++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return n > 0 && n <= NAME_MAX_LEN;
}

static int
members_ok(struct loader *ld, const config_setting_t *g, const char *const *allowed,
           const char *what)
{
    const config_setting_t *m = cfgfile_unknown_member(g, allowed);
    const char *name;

    if (m == NULL)
        return 0;
    name = config_setting_name(m);
    lerr(ld, LINE(m), "unknown setting '%s' in %s", name ? name : "?", what);
    return -1;
}

static int
check_string(struct loader *ld, const config_setting_t *m, const char *name, const char *v)
{
    size_t units;
    int gsm;

    if (strlen(v) > TEXT_MAX) {
        lerr(ld, LINE(m), "'%s' is longer than %d bytes", name, TEXT_MAX);
        return -1;
    }
    if (gsm7_measure(v, strlen(v), &units, &gsm) < 0) {
        lerr(ld, LINE(m), "'%s' is not valid UTF-8", name);
        return -1;
    }
    return 0;
}

/* Copies string member `name` of g into *out (NULL when absent and not required). */
static int
load_string(struct loader *ld, const config_setting_t *g, const char *name, int required,
            char **out, int *line)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    const char *v;

    *out = NULL;
    if (m == NULL) {
        if (required) {
            lerr(ld, LINE(g), "missing '%s'", name);
            return -1;
        }
        return 0;
    }
    if (line)
        *line = LINE(m);
    if (config_setting_type(m) != CONFIG_TYPE_STRING) {
        lerr(ld, LINE(m), "'%s' must be a string", name);
        return -1;
    }
    v = config_setting_get_string(m);
    if (check_string(ld, m, name, v) < 0)
        return -1;
    if ((*out = strdup(v)) == NULL) {
        lerr(ld, LINE(m), "out of memory");
        return -1;
    }
    return 0;
}

static int
load_u64(struct loader *ld, const config_setting_t *g, const char *name, int required, uint64_t max,
         uint64_t *out, int *present)
{
    const config_setting_t *m = config_setting_get_member(g, name);
    long long v;

    *present = m != NULL;
    if (m == NULL) {
        if (required)
            lerr(ld, LINE(g), "missing '%s'", name);
        return required ? -1 : 0;
    }
    if (config_setting_type(m) != CONFIG_TYPE_INT && config_setting_type(m) != CONFIG_TYPE_INT64) {
        lerr(ld, LINE(m), "'%s' must be an integer", name);
        return -1;
    }
    v = config_setting_get_int64(m);
    if (v < 0 || (uint64_t)v > max) {
        lerr(ld, LINE(m), "'%s' must be 0 to %" PRIu64, name, max);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static int
load_cond(struct loader *ld, const config_setting_t *g, struct cond *c)
{
    static const char *const keys[] = {"field", "in", "absent", NULL};
    const config_setting_t *in, *absent;
    int i, n;

    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "'when' must be a group { field = \"...\"; in = [...]; }");
        return -1;
    }
    c->used = 1;
    c->line = LINE(g);
    if (members_ok(ld, g, keys, "when") < 0 || load_string(ld, g, "field", 1, &c->field, &c->line))
        return -1;
    if ((in = config_setting_get_member(g, "in")) != NULL) {
        if (!config_setting_is_array(in) && !config_setting_is_list(in)) {
            lerr(ld, LINE(in), "'in' must be a list of integers [1, 2]");
            return -1;
        }
        n = config_setting_length(in);
        if (n < 1 || n > MAX_IN) {
            lerr(ld, LINE(in), "'in' must have 1 to %d values", MAX_IN);
            return -1;
        }
        for (i = 0; i < n; i++) {
            const config_setting_t *v = config_setting_get_elem(in, (unsigned)i);
            long long x;

            if (config_setting_type(v) != CONFIG_TYPE_INT &&
                config_setting_type(v) != CONFIG_TYPE_INT64) {
                lerr(ld, LINE(in), "'in' must be a list of integers [1, 2]");
                return -1;
            }
            if ((x = config_setting_get_int64(v)) < 0) {
                lerr(ld, LINE(in), "'in' values must not be negative");
                return -1;
            }
            snprintf(c->in[i], sizeof(c->in[i]), "%lld", x);
        }
        c->nin = (size_t)n;
    }
    if ((absent = config_setting_get_member(g, "absent")) != NULL) {
        if (config_setting_type(absent) != CONFIG_TYPE_BOOL) {
            lerr(ld, LINE(absent), "'absent' must be true or false");
            return -1;
        }
        c->absent = config_setting_get_bool(absent);
        if (c->absent && c->nin > 0) {
            lerr(ld, LINE(absent), "'when' has either 'in' or 'absent = true'");
            return -1;
        }
    }
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

    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "%s must be a group { id = \"...\"; en = \"...\"; }", what);
        return -1;
    }
    t->line_group = LINE(g);
    if (members_ok(ld, g, when ? keys_when : keys, what) < 0)
        return -1;
    for (l = 0; l < LANGS; l++) {
        if (config_setting_get_member(g, lang_names[l]) == NULL) {
            lerr(ld, LINE(g), "missing '%s' text in %s", lang_names[l], what);
            return -1;
        }
        t->line[l] = LINE(g);
        if (load_string(ld, g, lang_names[l], 1, &t->s[l], &t->line[l]) < 0)
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

    r->line = LINE(m);
    if (config_setting_is_group(m)) {
        if ((r->parts = calloc(1, sizeof(*r->parts))) == NULL) {
            lerr(ld, LINE(m), "out of memory");
            return -1;
        }
        r->nparts = 1;
        return load_text(ld, m, &r->parts[0].text, NULL, what);
    }
    if (!config_setting_is_list(m)) {
        lerr(ld, LINE(m), "%s must be a text { id = ...; en = ...; } or a list of them", what);
        return -1;
    }
    n = config_setting_length(m);
    if (n < 1 || n > MAX_PARTS) {
        lerr(ld, LINE(m), "%s must have 1 to %d parts", what, MAX_PARTS);
        return -1;
    }
    if ((r->parts = calloc((size_t)n, sizeof(*r->parts))) == NULL) {
        lerr(ld, LINE(m), "out of memory");
        return -1;
    }
    r->nparts = (size_t)n;
    r->is_list = 1;
    for (i = 0; i < n; i++)
        if (load_text(ld, config_setting_get_elem(m, (unsigned)i), &r->parts[i].text,
                      &r->parts[i].when, what) < 0)
            return -1;
    return 0;
}

static int
load_option(struct loader *ld, const config_setting_t *g, struct option *o)
{
    static const char *const keys[] = {"value", "label", "goto", "lang", "store", "do", NULL};
    const config_setting_t *m;
    char *s = NULL;
    uint64_t v;
    int present, l, i;

    o->go_flow = o->go_screen = o->lang = -1;
    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "an option must be a group { value = 1; label = {...}; }");
        return -1;
    }
    o->line = LINE(g);
    if (members_ok(ld, g, keys, "option") < 0 ||
        load_u64(ld, g, "value", 1, 999999, &o->value, &present) < 0)
        return -1;
    snprintf(o->vstr, sizeof(o->vstr), "%" PRIu64, o->value);
    memcpy(o->store, o->vstr, sizeof(o->store));
    if (load_u64(ld, g, "store", 0, 999999, &v, &present) < 0)
        return -1;
    if (present)
        snprintf(o->store, sizeof(o->store), "%" PRIu64, v);
    if ((m = config_setting_get_member(g, "label")) == NULL) {
        lerr(ld, LINE(g), "missing 'label' in option %s", o->vstr);
        return -1;
    }
    if (load_text(ld, m, &o->label, NULL, "label") < 0)
        return -1;
    for (l = 0; l < LANGS; l++)
        if (strchr(o->label.s[l], '{')) {
            lerr(ld, o->label.line[l], "placeholders are not allowed in option labels");
            return -1;
        }
    if (load_string(ld, g, "goto", 0, &o->go_name, NULL) < 0 ||
        load_string(ld, g, "lang", 0, &s, &l) < 0)
        return -1;
    if (s) {
        for (i = 0; i < LANGS; i++)
            if (strcmp(s, lang_names[i]) == 0)
                o->lang = i;
        free(s);
        s = NULL;
        if (o->lang < 0) {
            lerr(ld, l, "'lang' must be \"id\" or \"en\"");
            return -1;
        }
    }
    if (load_string(ld, g, "do", 0, &s, &l) < 0)
        return -1;
    if (s) {
        for (i = 1; i < DO_COUNT; i++)
            if (strcmp(s, todo_names[i]) == 0)
                o->todo = (enum todo)i;
        free(s);
        if (o->todo == DO_NONE) {
            lerr(ld, l, "'do' must be \"submit\", \"restart\" or \"cancel\"");
            return -1;
        }
        if (o->go_name) {
            lerr(ld, l, "an option has either 'goto' or 'do'");
            return -1;
        }
    }
    return 0;
}

enum key {
    KEY_FIELD = 1 << 0,
    KEY_OPTIONS = 1 << 1,
    KEY_MINMAX = 1 << 2,
    KEY_LENGTH = 1 << 3,
    KEY_INVALID = 1 << 4,
    KEY_LIST = 1 << 5
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
};

static const struct {
    const char *name;
    unsigned key;
} screen_keys[] = {
    {"field", KEY_FIELD},   {"options", KEY_OPTIONS},   {"min", KEY_MINMAX},
    {"max", KEY_MINMAX},    {"min_length", KEY_LENGTH}, {"max_length", KEY_LENGTH},
    {"digits", KEY_LENGTH}, {"invalid", KEY_INVALID},   {"source", KEY_LIST},
    {"empty", KEY_LIST},
};

static int
load_screen(struct loader *ld, const config_setting_t *g, struct screen *sc)
{
    static const char *const keys[] = {
        "name", "kind",       "field",      "when",   "prompt",  "sep",    "options", "min",
        "max",  "min_length", "max_length", "digits", "invalid", "source", "empty",   NULL};
    const config_setting_t *m;
    char *kind = NULL, *source = NULL;
    int kline = LINE(g), present, i, n;
    size_t k, j;
    uint64_t v;

    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "a screen must be a group { name = \"...\"; kind = \"...\"; }");
        return -1;
    }
    sc->line = LINE(g);
    if (members_ok(ld, g, keys, "screen") < 0 || load_string(ld, g, "name", 1, &sc->name, NULL))
        return -1;
    if (!ident_ok(sc->name)) {
        lerr(ld, sc->line, "screen name '%s' must be 1 to %d of a-z 0-9 _", sc->name, NAME_MAX_LEN);
        return -1;
    }
    if (load_string(ld, g, "kind", 1, &kind, &kline) < 0)
        return -1;
    for (i = 0; i < KIND_COUNT; i++)
        if (strcmp(kind, kind_names[i]) == 0)
            break;
    free(kind);
    if (i == KIND_COUNT) {
        lerr(ld, kline,
             "screen '%s': bad kind (choice, integer, text, code, list, confirm, info, end)",
             sc->name);
        return -1;
    }
    sc->kind = (enum kind)i;
    for (k = 0; k < sizeof(screen_keys) / sizeof(screen_keys[0]); k++)
        if ((m = config_setting_get_member(g, screen_keys[k].name)) != NULL &&
            !(kind_keys[sc->kind] & screen_keys[k].key)) {
            lerr(ld, LINE(m), "screen '%s': kind '%s' takes no '%s'", sc->name,
                 kind_names[sc->kind], screen_keys[k].name);
            return -1;
        }
    if (load_string(ld, g, "field", 0, &sc->field, NULL) < 0)
        return -1;
    if (sc->field == NULL && sc->kind != KIND_CHOICE && (kind_keys[sc->kind] & KEY_FIELD)) {
        lerr(ld, sc->line, "screen '%s': kind '%s' needs a 'field'", sc->name,
             kind_names[sc->kind]);
        return -1;
    }
    if (sc->field && !ident_ok(sc->field)) {
        lerr(ld, sc->line, "field '%s' must be 1 to %d of a-z 0-9 _", sc->field, NAME_MAX_LEN);
        return -1;
    }
    if ((m = config_setting_get_member(g, "when")) != NULL && load_cond(ld, m, &sc->when) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "prompt")) == NULL) {
        lerr(ld, sc->line, "screen '%s': missing 'prompt'", sc->name);
        return -1;
    }
    if (load_rich(ld, m, &sc->prompt, "prompt") < 0 ||
        load_string(ld, g, "sep", 0, &sc->sep, NULL) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "options")) != NULL) {
        if (!config_setting_is_list(m)) {
            lerr(ld, LINE(m), "'options' must be a list ( {...}, {...} )");
            return -1;
        }
        n = config_setting_length(m);
        if (n < 1 || n > MAX_OPTIONS) {
            lerr(ld, LINE(m), "'options' must have 1 to %d options", MAX_OPTIONS);
            return -1;
        }
        if ((sc->opts = calloc((size_t)n, sizeof(*sc->opts))) == NULL) {
            lerr(ld, LINE(m), "out of memory");
            return -1;
        }
        sc->nopts = (size_t)n;
        for (k = 0; k < sc->nopts; k++) {
            if (load_option(ld, config_setting_get_elem(m, (unsigned)k), &sc->opts[k]) < 0)
                return -1;
            for (j = 0; j < k; j++)
                if (sc->opts[j].value == sc->opts[k].value) {
                    lerr(ld, sc->opts[k].line, "screen '%s': option %s appears twice", sc->name,
                         sc->opts[k].vstr);
                    return -1;
                }
        }
    } else if (sc->kind == KIND_CHOICE || sc->kind == KIND_CONFIRM) {
        lerr(ld, sc->line, "screen '%s': kind '%s' needs 'options'", sc->name,
             kind_names[sc->kind]);
        return -1;
    }
    if (sc->kind == KIND_INTEGER) {
        if (load_u64(ld, g, "min", 1, UINT64_MAX / 2, &sc->min, &present) < 0 ||
            load_u64(ld, g, "max", 1, UINT64_MAX / 2, &sc->max, &present) < 0)
            return -1;
        if (sc->min > sc->max) {
            lerr(ld, LINE(config_setting_get_member(g, "min")),
                 "screen '%s': min %" PRIu64 " > max %" PRIu64, sc->name, sc->min, sc->max);
            return -1;
        }
    }
    if (sc->kind == KIND_TEXT) {
        if (load_u64(ld, g, "max_length", 1, TEXT_FIELD_MAX, &sc->max, &present) < 0 ||
            load_u64(ld, g, "min_length", 0, TEXT_FIELD_MAX, &v, &present) < 0)
            return -1;
        sc->min = present ? v : 1;
        if (sc->min < 1 || sc->max < 1 || sc->min > sc->max) {
            lerr(ld, sc->line, "screen '%s': need 1 <= min_length <= max_length <= %d", sc->name,
                 TEXT_FIELD_MAX);
            return -1;
        }
        if ((m = config_setting_get_member(g, "digits")) != NULL) {
            if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
                lerr(ld, LINE(m), "'digits' must be true or false");
                return -1;
            }
            sc->digits = config_setting_get_bool(m);
        }
    }
    if ((m = config_setting_get_member(g, "invalid")) != NULL) {
        sc->has_invalid = 1;
        if (load_text(ld, m, &sc->invalid, NULL, "invalid") < 0)
            return -1;
    }
    if (sc->kind == KIND_LIST) {
        if (load_string(ld, g, "source", 1, &source, &kline) < 0)
            return -1;
        i = strcmp(source, "trainings");
        free(source);
        if (i != 0) {
            lerr(ld, kline, "screen '%s': the only list source is \"trainings\"", sc->name);
            return -1;
        }
        if ((m = config_setting_get_member(g, "empty")) == NULL) {
            lerr(ld, sc->line, "screen '%s': a list needs an 'empty' text", sc->name);
            return -1;
        }
        if (load_rich(ld, m, &sc->empty, "empty") < 0)
            return -1;
    }
    return 0;
}

static int
load_flow(struct loader *ld, const config_setting_t *g, struct flow *f)
{
    static const char *const keys[] = {"name", "action", "saved", "screens", NULL};
    const config_setting_t *m;
    char *action = NULL;
    int line = LINE(g), n, i;
    size_t k, j;

    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "a flow must be a group { name = \"...\"; screens = (...); }");
        return -1;
    }
    f->line = LINE(g);
    if (members_ok(ld, g, keys, "flow") < 0 || load_string(ld, g, "name", 1, &f->name, NULL) < 0)
        return -1;
    if (!ident_ok(f->name)) {
        lerr(ld, f->line, "flow name '%s' must be 1 to %d of a-z 0-9 _", f->name, NAME_MAX_LEN);
        return -1;
    }
    if (load_string(ld, g, "action", 0, &action, &line) < 0)
        return -1;
    if (action) {
        for (k = 1; k < ACTION_COUNT; k++)
            if (strcmp(action, action_names[k]) == 0)
                f->action = (enum dialog_action)k;
        free(action);
        if (f->action == DIALOG_ACT_NONE) {
            lerr(ld, line, "flow '%s': 'action' must be business, attendance, help or link",
                 f->name);
            return -1;
        }
    }
    if ((m = config_setting_get_member(g, "saved")) != NULL) {
        if (f->action == DIALOG_ACT_NONE) {
            lerr(ld, LINE(m), "flow '%s': 'saved' needs an 'action'", f->name);
            return -1;
        }
        if (load_rich(ld, m, &f->saved, "saved") < 0)
            return -1;
    } else if (f->action != DIALOG_ACT_NONE) {
        lerr(ld, f->line, "flow '%s': an 'action' needs a 'saved' text", f->name);
        return -1;
    }
    if ((m = config_setting_get_member(g, "screens")) == NULL || !config_setting_is_list(m)) {
        lerr(ld, m ? LINE(m) : f->line, "flow '%s': needs 'screens = ( {...}, ... );'", f->name);
        return -1;
    }
    n = config_setting_length(m);
    if (n < 1 || n > MAX_SCREENS) {
        lerr(ld, LINE(m), "flow '%s': needs 1 to %d screens", f->name, MAX_SCREENS);
        return -1;
    }
    if ((f->screens = calloc((size_t)n, sizeof(*f->screens))) == NULL) {
        lerr(ld, LINE(m), "out of memory");
        return -1;
    }
    f->nscreens = (size_t)n;
    for (i = 0; i < n; i++) {
        k = (size_t)i;
        if (load_screen(ld, config_setting_get_elem(m, (unsigned)i), &f->screens[k]) < 0)
            return -1;
        for (j = 0; j < k; j++)
            if (strcmp(f->screens[j].name, f->screens[k].name) == 0) {
                lerr(ld, f->screens[k].line, "flow '%s': screen '%s' appears twice", f->name,
                     f->screens[k].name);
                return -1;
            }
    }
    return 0;
}

static int
check_tmpl(struct loader *ld, int flow, const char *s, int line)
{
    const struct dialog_set *set = ld->set;
    const char *p = s, *e, *field = NULL;
    size_t flen = 0, size;
    enum ph ph;

    while ((p = strchr(p, '{')) != NULL) {
        if ((e = strchr(p, '}')) == NULL) {
            lerr(ld, line, "'{' without '}'");
            return -1;
        }
        size = (size_t)(e - p - 1);
        ph = ph_parse(p + 1, size, &field, &flen);
        if (ph == PH_UNKNOWN) {
            lerr(ld, line, "unknown placeholder {%.*s}", (int)size, p + 1);
            return -1;
        }
        if ((ph == PH_ANSWER || ph == PH_LABEL || ph == PH_RUPIAH) &&
            (flow < 0 || !flow_has_field(&set->flows[flow], field, flen))) {
            lerr(ld, line, "unknown field '%.*s' in {%.*s}", (int)flen, field, (int)size, p + 1);
            return -1;
        }
        if ((ph == PH_TRAINING_TITLE || ph == PH_TRAINING_DATE || ph == PH_TRAINING_PLACE) &&
            (flow < 0 || !flow_has_list(&set->flows[flow], MAX_SCREENS))) {
            lerr(ld, line, "{%.*s} needs a list screen in the flow", (int)size, p + 1);
            return -1;
        }
        p = e + 1;
    }
    return 0;
}

static int
check_text(struct loader *ld, int flow, const struct text *t)
{
    int l;

    for (l = 0; l < LANGS; l++)
        if (t->s[l] && check_tmpl(ld, flow, t->s[l], t->line[l]) < 0)
            return -1;
    return 0;
}

static int
check_cond(struct loader *ld, int flow, const struct cond *c)
{
    const char *field = NULL;
    size_t flen = 0, len;
    enum ph ph;

    if (!c->used)
        return 0;
    len = strlen(c->field);
    if (strchr(c->field, '.') == NULL) {
        if (flow < 0 || !flow_has_field(&ld->set->flows[flow], c->field, len)) {
            lerr(ld, c->line, "unknown field '%s' in 'when'", c->field);
            return -1;
        }
        return 0;
    }
    ph = ph_parse(c->field, len, &field, &flen);
    if (ph == PH_UNKNOWN || ph == PH_MIN || ph == PH_MAX ||
        ((ph == PH_ANSWER || ph == PH_LABEL || ph == PH_RUPIAH) &&
         (flow < 0 || !flow_has_field(&ld->set->flows[flow], field, flen)))) {
        lerr(ld, c->line, "unknown field '%s' in 'when'", c->field);
        return -1;
    }
    return 0;
}

static int
check_rich(struct loader *ld, int flow, const struct rich *r)
{
    size_t i;

    for (i = 0; i < r->nparts; i++)
        if (check_text(ld, flow, &r->parts[i].text) < 0 ||
            check_cond(ld, flow, &r->parts[i].when) < 0)
            return -1;
    return 0;
}

static int
resolve_goto(struct loader *ld, int flow, struct option *o)
{
    const struct dialog_set *set = ld->set;
    const char *name = o->go_name, *dot;
    int f, s;

    if ((dot = strchr(name, '.')) != NULL) {
        f = flow_index(set, name, (size_t)(dot - name));
        s = f < 0 ? -1 : screen_index(&set->flows[f], dot + 1, strlen(dot + 1));
        if (s < 0) {
            lerr(ld, o->line, "unknown screen '%s' in goto", name);
            return -1;
        }
        o->go_flow = f;
        o->go_screen = s;
    } else if ((s = screen_index(&set->flows[flow], name, strlen(name))) >= 0) {
        o->go_flow = flow;
        o->go_screen = s;
    } else if ((f = flow_index(set, name, strlen(name))) >= 0) {
        o->go_flow = f;
    } else {
        lerr(ld, o->line, "unknown screen or flow '%s' in goto", name);
        return -1;
    }
    return 0;
}

static int
resolve(struct loader *ld)
{
    struct dialog_set *set = ld->set;
    size_t f, i, k;
    int fi;

    for (f = 0; f < set->nflows; f++) {
        struct flow *fl = &set->flows[f];

        fi = (int)f;
        if (fl->action != DIALOG_ACT_NONE && check_rich(ld, fi, &fl->saved) < 0)
            return -1;
        for (i = 0; i < fl->nscreens; i++) {
            struct screen *sc = &fl->screens[i];

            if (check_cond(ld, fi, &sc->when) < 0 || check_rich(ld, fi, &sc->prompt) < 0 ||
                (sc->has_invalid && check_text(ld, fi, &sc->invalid) < 0) ||
                (sc->kind == KIND_LIST && check_rich(ld, fi, &sc->empty) < 0))
                return -1;
            if (sc->kind == KIND_CODE && !flow_has_list(fl, i)) {
                lerr(ld, sc->line, "screen '%s': a code screen needs a list screen before it",
                     sc->name);
                return -1;
            }
            for (k = 0; k < sc->nopts; k++) {
                struct option *o = &sc->opts[k];

                if (o->go_name && resolve_goto(ld, fi, o) < 0)
                    return -1;
                if (o->todo == DO_SUBMIT && fl->action == DIALOG_ACT_NONE) {
                    lerr(ld, o->line, "flow '%s' has no 'action' to submit", fl->name);
                    return -1;
                }
            }
        }
    }
    for (i = 0; i < MSG_COUNT; i++)
        if (check_text(ld, -1, &set->msgs[i]) < 0)
            return -1;
    return 0;
}

static int
load_root(struct loader *ld, config_t *cfg)
{
    static const char *const keys[] = {
        "version", "start", "start_unknown", "last_status_labels", "messages", "flows", NULL};
    struct dialog_set *set = ld->set;
    const config_setting_t *root = config_root_setting(cfg), *m;
    const char *names[2] = {"start", "start_unknown"};
    char *s = NULL, *dot;
    uint64_t v;
    int present, n, i, line = 1;
    size_t k, j;

    if (members_ok(ld, root, keys, "the file") < 0)
        return -1;
    if ((m = config_setting_get_member(root, "version")) == NULL) {
        lerr(ld, 1, "missing 'version'");
        return -1;
    }
    if (load_u64(ld, root, "version", 1, UINT32_MAX, &v, &present) < 0)
        return -1;
    set->version = (unsigned)v;
    if ((m = config_setting_get_member(root, "messages")) == NULL || !config_setting_is_group(m)) {
        lerr(ld, m ? LINE(m) : 1, "missing 'messages = { ... };'");
        return -1;
    }
    if (members_ok(ld, m, msg_names, "messages") < 0)
        return -1;
    for (i = 0; i < MSG_COUNT; i++) {
        const config_setting_t *t = config_setting_get_member(m, msg_names[i]);

        if (t == NULL) {
            lerr(ld, LINE(m), "missing message '%s'", msg_names[i]);
            return -1;
        }
        if (load_text(ld, t, &set->msgs[i], NULL, msg_names[i]) < 0)
            return -1;
    }
    if ((m = config_setting_get_member(root, "flows")) == NULL || !config_setting_is_list(m)) {
        lerr(ld, m ? LINE(m) : 1, "missing 'flows = ( {...}, ... );'");
        return -1;
    }
    n = config_setting_length(m);
    if (n < 1 || n > MAX_FLOWS) {
        lerr(ld, LINE(m), "'flows' must have 1 to %d flows", MAX_FLOWS);
        return -1;
    }
    if ((set->flows = calloc((size_t)n, sizeof(*set->flows))) == NULL) {
        lerr(ld, LINE(m), "out of memory");
        return -1;
    }
    set->nflows = (size_t)n;
    for (k = 0; k < set->nflows; k++) {
        if (load_flow(ld, config_setting_get_elem(m, (unsigned)k), &set->flows[k]) < 0)
            return -1;
        for (j = 0; j < k; j++)
            if (strcmp(set->flows[j].name, set->flows[k].name) == 0) {
                lerr(ld, set->flows[k].line, "flow '%s' appears twice", set->flows[k].name);
                return -1;
            }
    }
    for (i = 0; i < 2; i++) {
        if (load_string(ld, root, names[i], 1, &s, &line) < 0)
            return -1;
        set->start[i] = flow_index(set, s, strlen(s));
        free(s);
        if (set->start[i] < 0) {
            lerr(ld, line, "'%s' names no flow", names[i]);
            return -1;
        }
    }
    set->last_flow = set->last_screen = -1;
    if (load_string(ld, root, "last_status_labels", 0, &s, &line) < 0)
        return -1;
    if (s) {
        if ((dot = strchr(s, '.')) != NULL &&
            (set->last_flow = flow_index(set, s, (size_t)(dot - s))) >= 0)
            set->last_screen = screen_index(&set->flows[set->last_flow], dot + 1, strlen(dot + 1));
        free(s);
        if (set->last_screen < 0 ||
            set->flows[set->last_flow].screens[set->last_screen].kind != KIND_CHOICE) {
            lerr(ld, line, "'last_status_labels' must name a choice screen as \"flow.screen\"");
            return -1;
        }
    }
    return resolve(ld);
}

struct dialog_set *
dialog_set_load(const char *path, char *err, size_t errlen)
{
    struct loader ld = {path ? path : "(null)", err, errlen, 0, NULL};
    config_t cfg;

    if (err && errlen)
        err[0] = '\0';
    if (path == NULL) {
        lerr(&ld, 0, "no file");
        return NULL;
    }
    if ((ld.set = calloc(1, sizeof(*ld.set))) == NULL || (ld.set->file = strdup(path)) == NULL) {
        lerr(&ld, 0, "out of memory");
        if (ld.set)
            free(ld.set);
        return NULL;
    }
    atomic_init(&ld.set->refs, 1);
    config_init(&cfg);
    if (config_read_file(&cfg, path) != CONFIG_TRUE) {
        if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
            lerr(&ld, 0, "cannot read the file");
        else
            lerr(&ld, config_error_line(&cfg), "%s", config_error_text(&cfg));
    } else {
        load_root(&ld, &cfg);
    }
    config_destroy(&cfg);
    if (ld.failed) {
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

/* Bounded text building: truncates at a UTF-8 boundary, never overflows. */

struct sbuf {
    char *p;
    size_t cap, len;
    int full;
};

static void
sb_init(struct sbuf *b, char *p, size_t cap)
{
    b->p = p;
    b->cap = cap;
    b->len = 0;
    b->full = 0;
    p[0] = '\0';
}

static void
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

static void
sb_puts(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* Sessions */

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

/* A read of the trainings or the last report before they were loaded. The session is on the
 * heap, never const itself: only the accessors' view of it is. */
static void
want_details(const struct dialog_session *s)
{
    if (!s->ctx.details)
        ((struct dialog_session *)(uintptr_t)s)->wants_details = 1;
}

int
dialog_session_wants_details(const struct dialog_session *s)
{
    return s->wants_details;
}

struct xtra {
    const char *min, *max;
};

static void
enter_state(struct dialog_session *s, enum state st)
{
    s->state = st;
}

static const struct entry *
top(const struct dialog_session *s)
{
    return s->depth ? &s->stack[s->depth - 1] : NULL;
}

static const struct screen *
entry_screen(const struct dialog_session *s, const struct entry *e)
{
    return &s->set->flows[e->flow].screens[e->screen];
}

static int
cur_flow(const struct dialog_session *s)
{
    const struct entry *e = top(s);

    return e ? e->flow : s->set->start[!s->ctx.registered];
}

static const char *
tr(const struct dialog_session *s, const struct text *t)
{
    return t->s[s->lang] ? t->s[s->lang] : "";
}

static const struct entry *
find_answer(const struct dialog_session *s, int flow, const char *field, size_t flen)
{
    size_t i;

    for (i = s->depth; i-- > 0;) {
        const struct entry *e = &s->stack[i];
        const struct screen *sc = entry_screen(s, e);

        if (e->flow == flow && e->has_value && sc->field && strlen(sc->field) == flen &&
            memcmp(sc->field, field, flen) == 0)
            return e;
    }
    return NULL;
}

static const struct dialog_training *
flow_training(const struct dialog_session *s, int flow)
{
    size_t i;

    want_details(s);
    for (i = s->depth; i-- > 0;) {
        const struct entry *e = &s->stack[i];

        if (e->flow == flow && e->has_value && entry_screen(s, e)->kind == KIND_LIST &&
            e->item >= 0 && (size_t)e->item < s->ctx.ntrainings)
            return &s->ctx.trainings[e->item];
    }
    return NULL;
}

/* "2024-11-12" -> "12/11" or "12/11/2024"; anything else as it is. */
static const char *
fmt_date(const char *d, int year, char *buf, size_t n)
{
    int i;

    if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
        return d;
    for (i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
            return d;
    if (year)
        snprintf(buf, n, "%.2s/%.2s/%.4s", d + 8, d + 5, d);
    else
        snprintf(buf, n, "%.2s/%.2s", d + 8, d + 5);
    return buf;
}

/* 2500000 -> "Rp2.500.000" */
static const char *
fmt_rupiah(uint64_t v, char *buf, size_t n)
{
    char digits[21];
    size_t len, i, o = 2;

    snprintf(digits, sizeof(digits), "%" PRIu64, v);
    len = strlen(digits);
    if (n < 2 + len + len / 3 + 1) {
        snprintf(buf, n, "Rp%s", digits);
        return buf;
    }
    buf[0] = 'R';
    buf[1] = 'p';
    for (i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = '.';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

static const char *
entry_label(const struct dialog_session *s, const struct entry *e, char *tmp, size_t n)
{
    const struct screen *sc = entry_screen(s, e);
    char d[16];

    switch (sc->kind) {
    case KIND_CHOICE:
    case KIND_CONFIRM:
    case KIND_INFO:
        if (e->opt >= 0 && (size_t)e->opt < sc->nopts)
            return tr(s, &sc->opts[e->opt].label);
        return e->value;
    case KIND_LIST:
        want_details(s);
        if (e->item >= 0 && (size_t)e->item < s->ctx.ntrainings) {
            const struct dialog_training *t = &s->ctx.trainings[e->item];

            snprintf(tmp, n, "%s %s", t->title, fmt_date(t->date, 0, d, sizeof(d)));
            return tmp;
        }
        return e->value;
    default:
        return e->value;
    }
}

static const char *
last_status_label(const struct dialog_session *s, const char *dec)
{
    const struct screen *sc;
    size_t i;

    if (s->set->last_flow < 0)
        return dec;
    sc = &s->set->flows[s->set->last_flow].screens[s->set->last_screen];
    for (i = 0; i < sc->nopts; i++)
        if (strcmp(sc->opts[i].store, dec) == 0)
            return tr(s, &sc->opts[i].label);
    return dec;
}

/*
 * The value of placeholder `name` in flow, or NULL when it has none. raw: as stored (for
 * `when`), not formatted for the screen.
 */
static const char *
ph_value(const struct dialog_session *s, int flow, const char *name, size_t nlen,
         const struct xtra *x, int raw, char *tmp, size_t n)
{
    const struct dialog_ctx *c = &s->ctx;
    const struct dialog_training *t;
    const struct entry *e;
    const char *field = NULL;
    size_t flen = 0, i;
    uint64_t v;
    struct sbuf b;

    switch (ph_parse(name, nlen, &field, &flen)) {
    case PH_KPM_NAME:
        return c->kpm_name[0] ? c->kpm_name : NULL;
    case PH_ASSISTANT_NAME:
        return c->assistant_name[0] ? c->assistant_name : NULL;
    case PH_REPORT_ID:
        if (!s->has_report)
            return NULL;
        snprintf(tmp, n, "%" PRIu64, s->report_id);
        return tmp;
    case PH_MIN:
        return x ? x->min : NULL;
    case PH_MAX:
        return x ? x->max : NULL;
    case PH_LAST_DATE:
        want_details(s);
        if (!c->has_last || !c->last_date[0])
            return NULL;
        return raw ? c->last_date : fmt_date(c->last_date, 1, tmp, n);
    case PH_LAST_STATUS:
        want_details(s);
        if (!c->has_last)
            return NULL;
        snprintf(tmp, n, "%u", c->last_status);
        return raw ? tmp : last_status_label(s, tmp);
    case PH_LAST_REVENUE:
        want_details(s);
        if (!c->has_last)
            return NULL;
        if (raw) {
            snprintf(tmp, n, "%" PRIu64, c->last_revenue);
            return tmp;
        }
        return fmt_rupiah(c->last_revenue, tmp, n);
    case PH_LAST_WORKERS:
        want_details(s);
        if (!c->has_last)
            return NULL;
        snprintf(tmp, n, "%u", c->last_workers);
        return tmp;
    case PH_TRAININGS_ATTENDED:
        want_details(s);
        sb_init(&b, tmp, n);
        for (i = 0; i < c->ntrainings; i++) {
            if (!c->trainings[i].attended || !c->trainings[i].title[0])
                continue;
            if (b.len)
                sb_puts(&b, ", ");
            sb_puts(&b, c->trainings[i].title);
        }
        return b.len ? tmp : NULL;
    case PH_TRAINING_TITLE:
        t = flow_training(s, flow);
        return t && t->title[0] ? t->title : NULL;
    case PH_TRAINING_DATE:
        t = flow_training(s, flow);
        return t && t->date[0] ? (raw ? t->date : fmt_date(t->date, 1, tmp, n)) : NULL;
    case PH_TRAINING_PLACE:
        t = flow_training(s, flow);
        return t && t->place[0] ? t->place : NULL;
    case PH_ANSWER:
        e = find_answer(s, flow, field, flen);
        return e ? e->value : NULL;
    case PH_LABEL:
        e = find_answer(s, flow, field, flen);
        return e ? (raw ? e->value : entry_label(s, e, tmp, n)) : NULL;
    case PH_RUPIAH:
        if ((e = find_answer(s, flow, field, flen)) == NULL)
            return NULL;
        if (raw || parse_u64(e->value, strlen(e->value), 0, UINT64_MAX, &v) < 0)
            return e->value;
        return fmt_rupiah(v, tmp, n);
    default:
        return NULL;
    }
}

static int
cond_ok(const struct dialog_session *s, int flow, const struct cond *c)
{
    char tmp[VALUE_BUF];
    const struct entry *e;
    const char *v;
    size_t i;

    if (!c->used)
        return 1;
    if (strchr(c->field, '.')) {
        v = ph_value(s, flow, c->field, strlen(c->field), NULL, 1, tmp, sizeof(tmp));
    } else {
        e = find_answer(s, flow, c->field, strlen(c->field));
        v = e ? e->value : NULL;
    }
    if (c->absent)
        return v == NULL;
    if (v == NULL)
        return 0;
    if (c->nin == 0)
        return 1;
    for (i = 0; i < c->nin; i++)
        if (strcmp(v, c->in[i]) == 0)
            return 1;
    return 0;
}

/* Appends template t; in strict mode a placeholder without value fails (-1) the whole text. */
static int
expand(const struct dialog_session *s, int flow, const char *t, const struct xtra *x, int strict,
       struct sbuf *b)
{
    char tmp[VALUE_BUF];
    const char *open, *close, *v;

    while (*t) {
        if ((open = strchr(t, '{')) == NULL || (close = strchr(open, '}')) == NULL) {
            sb_puts(b, t);
            break;
        }
        sb_put(b, t, (size_t)(open - t));
        v = ph_value(s, flow, open + 1, (size_t)(close - open - 1), x, 0, tmp, sizeof(tmp));
        if (v)
            sb_puts(b, v);
        else if (strict)
            return -1;
        t = close + 1;
    }
    return 0;
}

static void
put_rich(const struct dialog_session *s, int flow, const struct rich *r, const char *sep,
         struct sbuf *b)
{
    size_t i, mark, first = 1;
    int full;

    for (i = 0; i < r->nparts; i++) {
        const struct part *p = &r->parts[i];

        if (!cond_ok(s, flow, &p->when))
            continue;
        mark = b->len;
        full = b->full;
        if (!first)
            sb_puts(b, sep ? sep : "\n");
        if (expand(s, flow, tr(s, &p->text), NULL, r->is_list, b) < 0) {
            b->len = mark;
            b->full = full;
            b->p[mark] = '\0';
            continue;
        }
        first = 0;
    }
}

static void
put_msg(const struct dialog_session *s, enum msg m, const struct xtra *x, struct sbuf *b)
{
    expand(s, -1, tr(s, &s->set->msgs[m]), x, 0, b);
}

/* Paging: a screen's lines cut into pages that each fit the limit with a "99 More" line. */

struct span {
    size_t off, len;
};

struct layout {
    char text[CONTENT_MAX + 512];
    size_t len;
    struct span lines[MAX_LINES];
    size_t nlines;
    size_t starts[MAX_LINES + 1];
    size_t npages;
    const char *more; /* NULL: one page, no "99" line */
};

static int
fits(size_t limit, const char *t, size_t len)
{
    size_t units;
    int gsm;

    if (gsm7_measure(t, len, &units, &gsm) < 0)
        return 0;
    return units <= gsm7_screen_limit(gsm, limit);
}

/* Joins spans [i, j) and the more line into buf; 0 if it does not fit buf. */
static int
join(const struct layout *L, const struct span *sp, size_t i, size_t j, const char *more, char *buf,
     size_t cap, size_t *outlen)
{
    struct sbuf b;
    size_t k;

    sb_init(&b, buf, cap);
    for (k = i; k < j; k++) {
        if (k > i)
            sb_put(&b, "\n", 1);
        sb_put(&b, L->text + sp[k].off, sp[k].len);
    }
    if (more) {
        if (j > i)
            sb_put(&b, "\n", 1);
        sb_puts(&b, more);
    }
    *outlen = b.len;
    return !b.full;
}

static int
spans_fit(size_t limit, const struct layout *L, const struct span *sp, size_t i, size_t j,
          const char *more)
{
    char buf[PAGE_BUF];
    size_t len;

    return join(L, sp, i, j, more, buf, sizeof(buf), &len) && fits(limit, buf, len);
}

/* Cuts one line that does not fit a page into pieces, at spaces where it can. */
static void
wrap_line(size_t limit, struct layout *L, struct span line, const char *more, struct span *out,
          size_t *n)
{
    const char *t = L->text;

    if (line.len == 0 && *n < MAX_LINES)
        out[(*n)++] = line;
    while (line.len > 0 && *n < MAX_LINES) {
        struct span piece = line;
        size_t pos = 0, good = 0, cut, skip = 0, k;
        uint32_t cp;

        if (spans_fit(limit, L, &piece, 0, 1, more)) {
            out[(*n)++] = line;
            return;
        }
        while (pos < line.len) {
            size_t nx = pos;

            if (gsm7_utf8_next(t + line.off, line.len, &nx, &cp) < 0)
                nx = pos + 1;
            piece.len = nx;
            if (!spans_fit(limit, L, &piece, 0, 1, more))
                break;
            good = pos = nx;
        }
        if (good == 0) {
            good = 0;
            if (gsm7_utf8_next(t + line.off, line.len, &good, &cp) < 0)
                good = 1;
        }
        cut = good;
        if (cut < line.len) {
            if (t[line.off + cut] == ' ') {
                skip = 1;
            } else {
                for (k = cut; k > 0 && t[line.off + k - 1] != ' '; k--)
                    ;
                if (k > 1) {
                    cut = k - 1;
                    skip = 1;
                }
            }
        }
        out[(*n)++] = (struct span){line.off, cut};
        line.off += cut + skip;
        line.len -= cut + skip;
        while (line.len > 0 && t[line.off] == ' ') {
            line.off++;
            line.len--;
        }
    }
}

static void
layout_build(size_t limit, struct layout *L, const char *more)
{
    struct span wrapped[MAX_LINES];
    size_t i, j, start = 0, n = 0;

    L->nlines = 0;
    for (i = 0; i <= L->len && L->nlines < MAX_LINES; i++)
        if (i == L->len || L->text[i] == '\n') {
            L->lines[L->nlines++] = (struct span){start, i - start};
            start = i + 1;
        }
    L->more = NULL;
    if (fits(limit, L->text, L->len)) {
        L->npages = 1;
        L->starts[0] = 0;
        L->starts[1] = L->nlines;
        return;
    }
    for (i = 0; i < L->nlines; i++)
        wrap_line(limit, L, L->lines[i], more, wrapped, &n);
    memcpy(L->lines, wrapped, n * sizeof(wrapped[0]));
    L->nlines = n;
    L->npages = 0;
    for (i = 0; i < n && L->npages < MAX_LINES;) {
        for (j = i + 1; j < n && spans_fit(limit, L, L->lines, i, j + 1, more); j++)
            ;
        L->starts[L->npages++] = i;
        i = j;
    }
    if (L->npages == 0)
        L->starts[L->npages++] = 0;
    L->starts[L->npages] = n;
    L->more = more;
}

/* Writes page `page` (END: the first page only, no "99" line) of reason + content. */
static size_t
emit(struct dialog_session *s, struct dialog_out *out, const char *content, int end, size_t page)
{
    struct layout *L;
    struct sbuf b;
    size_t len, npages;
    char more[64];

    if ((L = malloc(sizeof(*L))) == NULL) {
        out->end = end;
        snprintf(out->screen, sizeof(out->screen), "%s", "");
        return 1;
    }
    sb_init(&b, L->text, sizeof(L->text));
    if (s->reason[0]) {
        sb_puts(&b, s->reason);
        sb_put(&b, "\n", 1);
    }
    sb_puts(&b, content);
    L->len = b.len;
    sb_init(&b, more, sizeof(more));
    put_msg(s, MSG_MORE, NULL, &b);
    layout_build(s->limit, L, end ? NULL : more);
    npages = L->npages;
    page = end ? 0 : page % npages;
    if (!join(L, L->lines, L->starts[page], L->starts[page + 1], L->more, out->screen,
              sizeof(out->screen), &len) ||
        !fits(s->limit, out->screen, len)) {
        /* cannot happen with a limit >= MIN_LIMIT; stay within bounds anyway */
        out->screen[0] = '\0';
    }
    out->end = end;
    free(L);
    return npages;
}

/* The content of the current screen (without the reason line). */
static void
screen_content(const struct dialog_session *s, struct sbuf *b)
{
    const struct dialog_ctx *c = &s->ctx;
    const struct screen *sc;
    const struct entry *e;
    char line[VALUE_BUF], d[16];
    size_t i;

    if (s->state == ST_RESUME || (e = top(s)) == NULL) {
        put_msg(s, MSG_RESUME_PROMPT, NULL, b);
        sb_puts(b, "\n1 ");
        put_msg(s, MSG_RESUME_CONTINUE, NULL, b);
        sb_puts(b, "\n2 ");
        put_msg(s, MSG_RESUME_RESTART, NULL, b);
        return;
    }
    sc = entry_screen(s, e);
    if (sc->kind == KIND_LIST)
        want_details(s);
    if (sc->kind == KIND_LIST && c->ntrainings == 0) {
        put_rich(s, e->flow, &sc->empty, sc->sep, b);
        return;
    }
    put_rich(s, e->flow, &sc->prompt, sc->sep, b);
    for (i = 0; i < sc->nopts; i++) {
        snprintf(line, sizeof(line), "%s%s %s", b->len ? "\n" : "", sc->opts[i].vstr,
                 tr(s, &sc->opts[i].label));
        sb_puts(b, line);
    }
    if (sc->kind == KIND_LIST)
        for (i = 0; i < c->ntrainings; i++) {
            snprintf(line, sizeof(line), "%s%zu %s %s", b->len ? "\n" : "", i + 1,
                     c->trainings[i].title, fmt_date(c->trainings[i].date, 0, d, sizeof(d)));
            sb_puts(b, line);
        }
}

/* Renders the current state into out. Returns the number of pages of the screen. */
static size_t
show(struct dialog_session *s, struct dialog_out *out)
{
    char content[CONTENT_MAX];
    struct sbuf b;
    size_t n;

    sb_init(&b, content, sizeof(content));
    switch (s->state) {
    case ST_RESUME:
    case ST_ASK:
        screen_content(s, &b);
        n = emit(s, out, content, 0, s->page);
        s->page %= n;
        return n;
    case ST_COMMIT:
        out->action = s->set->flows[cur_flow(s)].action;
        out->screen[0] = '\0';
        return 1;
    default:
        put_msg(s, MSG_ENDED, NULL, &b);
        s->reason[0] = '\0';
        return emit(s, out, content, 1, 0);
    }
}

/* END with a flow's rich text (r) or a message. */
static void
finish(struct dialog_session *s, struct dialog_out *out, enum msg m, int flow, const struct rich *r,
       const char *sep)
{
    char content[CONTENT_MAX];
    struct sbuf b;

    sb_init(&b, content, sizeof(content));
    if (r)
        put_rich(s, flow, r, sep, &b);
    else
        put_msg(s, m, NULL, &b);
    s->reason[0] = '\0';
    enter_state(s, ST_ENDED);
    emit(s, out, content, 1, 0);
}

static void
fresh_screen(struct dialog_session *s)
{
    s->strikes = 0;
    s->page = 0;
    s->reason[0] = '\0';
}

static void
clear_top(struct dialog_session *s)
{
    struct entry *e = &s->stack[s->depth - 1];

    e->has_value = 0;
    e->opt = e->item = -1;
    e->value[0] = '\0';
}

static int
first_eligible(const struct dialog_session *s, int flow, size_t from)
{
    const struct flow *f = &s->set->flows[flow];
    size_t i;

    for (i = from; i < f->nscreens; i++)
        if (cond_ok(s, flow, &f->screens[i].when))
            return (int)i;
    return -1;
}

static void
push(struct dialog_session *s, int flow, int screen)
{
    struct entry *e = &s->stack[s->depth++];

    e->flow = (unsigned char)flow;
    e->screen = (unsigned char)screen;
    clear_top(s);
}

static void
to_start(struct dialog_session *s)
{
    int flow = s->set->start[!s->ctx.registered], i = first_eligible(s, flow, 0);

    s->depth = 0;
    push(s, flow, i < 0 ? 0 : i);
    fresh_screen(s);
}

enum step { STEP_OK, STEP_STOP };

/* Shows screen idx of flow (or the next one whose `when` holds); a screen on the stack is
 * returned to, which keeps loops in the data from growing the stack. */
static enum step
enter(struct dialog_session *s, int flow, size_t from, struct dialog_out *out, int replay)
{
    int idx = first_eligible(s, flow, from);
    const struct screen *sc;
    size_t p;

    if (idx < 0) {
        /* the flow ran out of screens (dialog_set_check reports it): back to the menu */
        if (replay)
            return STEP_STOP;
        to_start(s);
        show(s, out);
        return STEP_OK;
    }
    for (p = 0; p < s->depth; p++)
        if (s->stack[p].flow == flow && s->stack[p].screen == idx) {
            s->depth = p + 1;
            clear_top(s);
            fresh_screen(s);
            show(s, out);
            return STEP_OK;
        }
    sc = &s->set->flows[flow].screens[idx];
    if (sc->kind == KIND_END || s->depth == DIALOG_MAX_INPUTS) {
        if (replay)
            return STEP_STOP;
        if (sc->kind == KIND_END)
            finish(s, out, MSG_ENDED, flow, &sc->prompt, sc->sep);
        else
            finish(s, out, MSG_ENDED, flow, NULL, NULL);
        return STEP_OK;
    }
    push(s, flow, idx);
    fresh_screen(s);
    show(s, out);
    return STEP_OK;
}

static int
has_answers(const struct dialog_session *s, int flow)
{
    size_t i;

    for (i = 0; i < s->depth; i++)
        if (s->stack[i].flow == flow && s->stack[i].has_value &&
            entry_screen(s, &s->stack[i])->field)
            return 1;
    return 0;
}

static int
in_report(const struct dialog_session *s)
{
    int flow = cur_flow(s);

    return s->state == ST_ASK && s->set->flows[flow].action != DIALOG_ACT_NONE &&
           has_answers(s, flow);
}

static void
to_menu(struct dialog_session *s, struct dialog_out *out)
{
    /* leaving a report with 00 abandons it: its draft must not be offered again */
    if (in_report(s))
        out->draft_discard = 1;
    to_start(s);
    show(s, out);
}

static void
back(struct dialog_session *s, struct dialog_out *out)
{
    if (s->depth > 1)
        s->depth--;
    clear_top(s);
    fresh_screen(s);
    show(s, out);
}

/* Back to where the current flow was entered, its answers forgotten. */
static void
restart(struct dialog_session *s, struct dialog_out *out)
{
    int flow = cur_flow(s);

    while (s->depth > 1 && s->stack[s->depth - 2].flow == flow)
        s->depth--;
    clear_top(s);
    fresh_screen(s);
    show(s, out);
}

static enum step
invalid(struct dialog_session *s, struct dialog_out *out, const struct screen *sc, enum msg m,
        uint64_t min, uint64_t max, int replay)
{
    char smin[21], smax[21];
    struct xtra x = {smin, smax};
    struct sbuf b;

    if (replay)
        return STEP_STOP;
    if (++s->strikes >= STRIKES) {
        finish(s, out, MSG_TOO_MANY, -1, NULL, NULL);
        return STEP_OK;
    }
    snprintf(smin, sizeof(smin), "%" PRIu64, min);
    snprintf(smax, sizeof(smax), "%" PRIu64, max);
    sb_init(&b, s->reason, sizeof(s->reason));
    if (sc && sc->has_invalid)
        expand(s, cur_flow(s), tr(s, &sc->invalid), &x, 0, &b);
    else
        put_msg(s, m, &x, &b);
    s->page = 0;
    show(s, out);
    return STEP_OK;
}

static enum step
next(struct dialog_session *s, struct dialog_out *out, int replay)
{
    const struct entry *e = top(s);

    return enter(s, e->flow, (size_t)e->screen + 1, out, replay);
}

static enum step
accept(struct dialog_session *s, struct dialog_out *out, const char *value, int item, int replay)
{
    struct entry *e = &s->stack[s->depth - 1];

    e->has_value = 1;
    e->item = item;
    snprintf(e->value, sizeof(e->value), "%s", value);
    return next(s, out, replay);
}

static enum step
choose(struct dialog_session *s, struct dialog_out *out, size_t i, int replay)
{
    struct entry *e = &s->stack[s->depth - 1];
    const struct screen *sc = entry_screen(s, e);
    const struct option *o = &sc->opts[i];

    if (replay && (o->lang >= 0 || o->todo != DO_NONE))
        return STEP_STOP;
    e->has_value = 1;
    e->opt = (int)i;
    snprintf(e->value, sizeof(e->value), "%s", o->store);
    if (o->lang >= 0) {
        s->lang = o->lang;
        out->lang_changed = 1;
        memcpy(out->lang, lang_names[s->lang], 3);
    }
    switch (o->todo) {
    case DO_SUBMIT:
        enter_state(s, ST_COMMIT);
        fresh_screen(s);
        show(s, out);
        return STEP_OK;
    case DO_RESTART:
        out->draft_discard = 1;
        restart(s, out);
        return STEP_OK;
    case DO_CANCEL:
        out->draft_discard = 1;
        to_start(s);
        show(s, out);
        return STEP_OK;
    default:
        break;
    }
    if (o->go_flow >= 0)
        return enter(s, o->go_flow, o->go_screen >= 0 ? (size_t)o->go_screen : 0, out, replay);
    return next(s, out, replay);
}

static int
is(const char *in, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(in, word, len) == 0;
}

static int
has_option(const struct screen *sc, uint64_t v)
{
    size_t i;

    for (i = 0; i < sc->nopts; i++)
        if (sc->opts[i].value == v)
            return 1;
    return 0;
}

/* A typed text: printable UTF-8, no '*' (it joins the inputs of a USSD path). */
static int
text_ok(const char *in, size_t len, const struct screen *sc)
{
    size_t pos = 0, n = 0;
    uint32_t cp;

    if (len > TEXT_FIELD_MAX * 4)
        return 0;
    while (pos < len) {
        if (gsm7_utf8_next(in, len, &pos, &cp) < 0)
            return 0;
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == '*')
            return 0;
        if (sc->digits && (cp < '0' || cp > '9'))
            return 0;
        n++;
    }
    return n >= sc->min && n <= sc->max;
}

static enum step
input_code(struct dialog_session *s, struct dialog_out *out, const struct screen *sc,
           const char *in, size_t len, int replay)
{
    const struct dialog_training *t = flow_training(s, cur_flow(s));
    const struct screen any = {.min = 1, .max = CODE_INPUT_MAX};
    char value[CODE_INPUT_MAX * 4 + 1];

    if (len == 0 || t == NULL)
        return invalid(s, out, sc, MSG_WRONG_CODE, 0, 0, replay);
    if (t->code[0] == '\0' && text_ok(in, len, &any)) {
        /* a training without a code: whatever was announced is recorded as typed */
        memcpy(value, in, len);
        value[len] = '\0';
        return accept(s, out, value, -1, replay);
    }
    if (t->code[0] && strlen(t->code) == len && strncasecmp(t->code, in, len) == 0)
        return accept(s, out, t->code, -1, replay);
    if (replay)
        return STEP_STOP;
    if (++s->code_fails >= CODE_TRIES) {
        finish(s, out, MSG_CODE_LOCKED, -1, NULL, NULL);
        return STEP_OK;
    }
    return invalid(s, out, sc, MSG_WRONG_CODE, 0, 0, replay);
}

static enum step
input_list(struct dialog_session *s, struct dialog_out *out, const struct screen *sc,
           const char *in, size_t len, int replay)
{
    char value[21];
    uint64_t v;
    size_t i;

    want_details(s);
    if (replay && len > 1 && in[0] == '#') {
        /* a draft names the training by id: the list may have changed since */
        if (parse_u64(in + 1, len - 1, 0, UINT64_MAX, &v) < 0)
            return STEP_STOP;
        for (i = 0; i < s->ctx.ntrainings; i++)
            if (s->ctx.trainings[i].id == v)
                break;
        if (i == s->ctx.ntrainings)
            return STEP_STOP;
    } else if (s->ctx.ntrainings && parse_u64(in, len, 1, s->ctx.ntrainings, &v) == 0) {
        i = (size_t)(v - 1);
    } else {
        return invalid(s, out, sc, MSG_INVALID_CHOICE, 0, 0, replay);
    }
    snprintf(value, sizeof(value), "%" PRIu64, s->ctx.trainings[i].id);
    return accept(s, out, value, (int)i, replay);
}

static enum step input_resume(struct dialog_session *s, struct dialog_out *out, const char *in,
                              size_t len);

/* One trimmed input. replay: a draft being replayed, which stops at anything but a plain answer. */
static enum step
step(struct dialog_session *s, const char *in, size_t len, struct dialog_out *out, int replay)
{
    const struct screen *sc;
    char value[21];
    uint64_t v;
    size_t i, npages;

    if (s->state == ST_RESUME && !replay)
        return input_resume(s, out, in, len);
    if (s->state != ST_ASK) {
        if (replay)
            return STEP_STOP;
        finish(s, out, MSG_ENDED, -1, NULL, NULL);
        return STEP_OK;
    }
    sc = entry_screen(s, top(s));
    if (is(in, len, "00")) {
        if (replay)
            return STEP_STOP;
        to_menu(s, out);
        return STEP_OK;
    }
    if (is(in, len, "99")) {
        struct dialog_out probe;

        memset(&probe, 0, sizeof(probe));
        npages = show(s, &probe);
        if (npages > 1) {
            if (replay)
                return STEP_STOP;
            s->page = (s->page + 1) % npages;
            s->strikes = 0;
            show(s, out);
            return STEP_OK;
        }
    }
    if (is(in, len, "0") && !has_option(sc, 0) && !(sc->kind == KIND_INTEGER && sc->min == 0)) {
        if (replay)
            return STEP_STOP;
        back(s, out);
        return STEP_OK;
    }
    switch (sc->kind) {
    case KIND_CHOICE:
    case KIND_CONFIRM:
    case KIND_INFO:
        if (parse_u64(in, len, 0, UINT64_MAX, &v) == 0)
            for (i = 0; i < sc->nopts; i++)
                if (sc->opts[i].value == v)
                    return choose(s, out, i, replay);
        return invalid(s, out, sc, MSG_INVALID_CHOICE, 0, 0, replay);
    case KIND_INTEGER:
        if (parse_u64(in, len, sc->min, sc->max, &v) < 0)
            return invalid(s, out, sc, MSG_INVALID_NUMBER, sc->min, sc->max, replay);
        snprintf(value, sizeof(value), "%" PRIu64, v);
        return accept(s, out, value, -1, replay);
    case KIND_TEXT:
        if (!text_ok(in, len, sc))
            return invalid(s, out, sc, MSG_INVALID_TEXT, sc->min, sc->max, replay);
        {
            char text[VALUE_MAX];

            memcpy(text, in, len);
            text[len] = '\0';
            return accept(s, out, text, -1, replay);
        }
    case KIND_CODE:
        return input_code(s, out, sc, in, len, replay);
    case KIND_LIST:
        return input_list(s, out, sc, in, len, replay);
    default:
        return invalid(s, out, sc, MSG_INVALID_CHOICE, 0, 0, replay);
    }
}

static void
trim(const char **in, size_t *len)
{
    while (*len && (**in == ' ' || **in == '\t' || **in == '\r' || **in == '\n')) {
        (*in)++;
        (*len)--;
    }
    while (*len && ((*in)[*len - 1] == ' ' || (*in)[*len - 1] == '\t' || (*in)[*len - 1] == '\r' ||
                    (*in)[*len - 1] == '\n'))
        (*len)--;
}

/* Replays the draft's inputs from the start screen, silently, as far as they go. */
static void
replay_draft(struct dialog_session *s, struct dialog_out *out)
{
    struct dialog_out scratch;
    const char *p = s->ctx.draft_path, *star;
    size_t n = 0, len;

    enter_state(s, ST_ASK);
    to_start(s);
    while (*p && n++ < DIALOG_MAX_INPUTS && s->state == ST_ASK) {
        const char *tok = p;

        star = strchr(p, '*');
        len = star ? (size_t)(star - p) : strlen(p);
        p = star ? star + 1 : p + len;
        trim(&tok, &len);
        memset(&scratch, 0, sizeof(scratch));
        if (step(s, tok, len, &scratch, 1) == STEP_STOP)
            break;
    }
    if (s->state != ST_ASK) {
        /* cannot happen: replay stops before side effects; stay safe */
        enter_state(s, ST_ASK);
        to_start(s);
    }
    if (s->ctx.draft_flow[0] && strcmp(s->set->flows[cur_flow(s)].name, s->ctx.draft_flow) != 0) {
        /* the draft no longer leads into its flow (the dialogs changed): drop it */
        out->draft_discard = 1;
        to_start(s);
    }
    fresh_screen(s);
    show(s, out);
}

static enum step
input_resume(struct dialog_session *s, struct dialog_out *out, const char *in, size_t len)
{
    if (is(in, len, "1")) {
        replay_draft(s, out);
    } else if (is(in, len, "2") || is(in, len, "00")) {
        /* 00 keeps the draft for another call; 2 ("start over") drops it */
        if (is(in, len, "2"))
            out->draft_discard = 1;
        enter_state(s, ST_ASK);
        to_start(s);
        show(s, out);
    } else if (is(in, len, "0")) {
        fresh_screen(s);
        show(s, out);
    } else {
        return invalid(s, out, NULL, MSG_INVALID_CHOICE, 0, 0, 0);
    }
    return STEP_OK;
}

static void
update_path(struct dialog_session *s)
{
    struct sbuf b;
    size_t i;

    sb_init(&b, s->path, sizeof(s->path));
    for (i = 0; i < s->depth; i++) {
        const struct entry *e = &s->stack[i];
        const struct screen *sc = entry_screen(s, e);

        if (!e->has_value)
            continue;
        if (b.len)
            sb_put(&b, "*", 1);
        if ((sc->kind == KIND_CHOICE || sc->kind == KIND_CONFIRM || sc->kind == KIND_INFO) &&
            e->opt >= 0) {
            sb_puts(&b, sc->opts[e->opt].vstr);
        } else {
            if (sc->kind == KIND_LIST)
                sb_put(&b, "#", 1);
            sb_puts(&b, e->value);
        }
    }
    s->path_ok = !b.full;
    if (!s->path_ok)
        s->path[0] = '\0';
}

static void
clean(char *str, size_t size)
{
    size_t pos = 0, len, k, start;
    uint32_t cp;

    str[size - 1] = '\0';
    len = strlen(str);
    while (pos < len) {
        start = pos;
        if (gsm7_utf8_next(str, len, &pos, &cp) < 0) {
            str[start] = '?';
            pos = start + 1;
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            /* a new line in a name would break the screen's lines */
            for (k = start; k < pos; k++)
                str[k] = ' ';
        }
    }
}

struct dialog_session *
dialog_session_new(struct dialog_set *set, const struct dialog_ctx *ctx, size_t screen_limit)
{
    struct dialog_session *s;
    struct dialog_ctx *c;
    size_t i;

    if (set == NULL || ctx == NULL || (s = calloc(1, sizeof(*s))) == NULL)
        return NULL;
    dialog_set_ref(set);
    s->set = set;
    s->ctx = *ctx;
    c = &s->ctx;
    c->registered = c->registered != 0;
    clean(c->lang, sizeof(c->lang));
    clean(c->kpm_name, sizeof(c->kpm_name));
    clean(c->assistant_name, sizeof(c->assistant_name));
    clean(c->last_date, sizeof(c->last_date));
    clean(c->draft_flow, sizeof(c->draft_flow));
    clean(c->draft_path, sizeof(c->draft_path));
    if (c->ntrainings > DIALOG_MAX_TRAININGS)
        c->ntrainings = DIALOG_MAX_TRAININGS;
    for (i = 0; i < DIALOG_MAX_TRAININGS; i++) {
        clean(c->trainings[i].title, sizeof(c->trainings[i].title));
        clean(c->trainings[i].date, sizeof(c->trainings[i].date));
        clean(c->trainings[i].place, sizeof(c->trainings[i].place));
        clean(c->trainings[i].code, sizeof(c->trainings[i].code));
    }
    if (!c->registered) {
        /* an unknown number sees nothing of anyone */
        c->kpm_id = 0;
        c->kpm_name[0] = c->assistant_name[0] = '\0';
        c->ntrainings = 0;
        c->has_last = 0;
    }
    s->lang = strcmp(c->lang, "en") == 0;
    if (screen_limit == 0 || screen_limit > DIALOG_SCREEN_MAX)
        screen_limit = DIALOG_SCREEN_MAX;
    s->limit = screen_limit < MIN_LIMIT ? MIN_LIMIT : screen_limit;
    s->path_ok = 1;
    enter_state(s, ST_NEW);
    return s;
}

void
dialog_session_free(struct dialog_session *s)
{
    if (s == NULL)
        return;
    dialog_set_unref(s->set);
    free(s);
}

static void
out_init(const struct dialog_session *s, struct dialog_out *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->lang, lang_names[s->lang], 3);
}

static void
start(struct dialog_session *s)
{
    if (s->state != ST_NEW)
        return;
    if (s->ctx.has_draft && s->ctx.draft_path[0]) {
        enter_state(s, ST_RESUME);
        s->depth = 0;
        fresh_screen(s);
    } else {
        enter_state(s, ST_ASK);
        to_start(s);
    }
}

void
dialog_session_begin(struct dialog_session *s, struct dialog_out *out)
{
    out_init(s, out);
    start(s);
    show(s, out);
    update_path(s);
}

void
dialog_session_input(struct dialog_session *s, const char *in, size_t len, struct dialog_out *out)
{
    out_init(s, out);
    start(s);
    if (in == NULL)
        len = 0;
    trim(&in, &len);
    step(s, in ? in : "", len, out, 0);
    update_path(s);
    memcpy(out->lang, lang_names[s->lang], 3);
}

void
dialog_session_committed(struct dialog_session *s, int ok, uint64_t report_id,
                         struct dialog_out *out)
{
    int flow = cur_flow(s);

    out_init(s, out);
    if (s->state != ST_COMMIT) {
        finish(s, out, MSG_ENDED, -1, NULL, NULL);
    } else if (ok) {
        s->report_id = report_id;
        s->has_report = 1;
        out->draft_discard = 1;
        finish(s, out, MSG_ENDED, flow, &s->set->flows[flow].saved, "\n");
    } else {
        finish(s, out, MSG_SAVE_FAILED, -1, NULL, NULL);
    }
    update_path(s);
}

const char *
dialog_session_answer(const struct dialog_session *s, const char *field)
{
    const struct entry *e;

    if (s == NULL || field == NULL || s->depth == 0)
        return NULL;
    e = find_answer(s, cur_flow(s), field, strlen(field));
    return e ? e->value : NULL;
}

static void
json_str(struct sbuf *b, const char *v)
{
    char esc[8];

    sb_put(b, "\"", 1);
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20 || c == 0x7F) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            sb_puts(b, esc);
        } else {
            sb_put(b, v, 1);
        }
    }
    sb_put(b, "\"", 1);
}

int
dialog_session_answers_json(const struct dialog_session *s, char *out, size_t outlen)
{
    struct sbuf b;
    size_t i, j;
    int flow, first = 1;

    if (out == NULL || outlen < 3)
        return -1;
    sb_init(&b, out, outlen);
    sb_put(&b, "{", 1);
    flow = cur_flow(s);
    for (i = 0; i < s->depth; i++) {
        const struct entry *e = &s->stack[i];
        const char *field = entry_screen(s, e)->field;

        if (e->flow != flow || !e->has_value || field == NULL)
            continue;
        /* a field asked twice on the way: the later answer counts */
        for (j = i + 1; j < s->depth; j++)
            if (s->stack[j].flow == flow && s->stack[j].has_value &&
                entry_screen(s, &s->stack[j])->field &&
                strcmp(entry_screen(s, &s->stack[j])->field, field) == 0)
                break;
        if (j < s->depth)
            continue;
        if (!first)
            sb_put(&b, ",", 1);
        first = 0;
        json_str(&b, field);
        sb_put(&b, ":", 1);
        json_str(&b, e->value);
    }
    sb_put(&b, "}", 1);
    if (b.full) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

const char *
dialog_session_flow(const struct dialog_session *s)
{
    return s->set->flows[cur_flow(s)].name;
}

int
dialog_session_in_report(const struct dialog_session *s)
{
    return s->path_ok && in_report(s);
}

const char *
dialog_session_draft_path(const struct dialog_session *s)
{
    return s->path;
}

int
dialog_session_ended(const struct dialog_session *s)
{
    return s->state == ST_ENDED;
}

/* dialog_set_check */

struct checker {
    const struct dialog_set *set;
    size_t limit;
    void (*report)(void *arg, int is_error, const char *msg);
    void *arg;
    int errors;
};

static void creport(struct checker *c, int is_error, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
creport(struct checker *c, int is_error, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    int n;

    n = snprintf(msg, sizeof(msg), "%s:%d: ", c->set->file, line);
    if (n >= 0 && (size_t)n < sizeof(msg)) {
        va_start(ap, fmt);
        vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    if (is_error)
        c->errors++;
    if (c->report)
        c->report(c->arg, is_error, msg);
}

/* The text with each placeholder measured as NOMINAL. */
static void
nominal(const char *t, struct sbuf *b)
{
    const char *open, *close;

    while (*t) {
        if ((open = strchr(t, '{')) == NULL || (close = strchr(open, '}')) == NULL) {
            sb_puts(b, t);
            return;
        }
        sb_put(b, t, (size_t)(open - t));
        sb_puts(b, NOMINAL);
        t = close + 1;
    }
}

enum fit { FIT_LINES, FIT_WHOLE };

/*
 * FIT_LINES: each line of the text (after prefix) must fit a page with the "99" line;
 * FIT_WHOLE: an END text, all of it on one screen.
 */
static void
check_fit(struct checker *c, const struct text *t, const char *prefix, enum fit fit,
          const char *what)
{
    char buf[CONTENT_MAX], page[PAGE_BUF];
    struct sbuf b;
    const char *p, *nl;
    size_t units;
    int l, gsm;

    if (t->s[0] == NULL || t->s[1] == NULL)
        return;
    if ((t->s[0][0] == '\0') != (t->s[1][0] == '\0'))
        creport(c, 1, t->line[t->s[0][0] ? 1 : 0], "%s: the '%s' translation is empty", what,
                lang_names[t->s[0][0] ? 1 : 0]);
    for (l = 0; l < LANGS; l++) {
        if (gsm7_measure(t->s[l], strlen(t->s[l]), &units, &gsm) == 0 && !gsm)
            creport(c, 0, t->line[l],
                    "%s (%s) has characters outside GSM-7: a screen then holds %zu, not %zu", what,
                    lang_names[l], gsm7_screen_limit(0, c->limit), gsm7_screen_limit(1, c->limit));
        sb_init(&b, buf, sizeof(buf));
        if (prefix)
            sb_puts(&b, prefix);
        nominal(t->s[l], &b);
        if (fit == FIT_WHOLE) {
            if (b.full || !fits(c->limit, buf, b.len))
                creport(c, 1, t->line[l], "%s (%s) does not fit one screen of %zu characters", what,
                        lang_names[l], c->limit);
            continue;
        }
        for (p = buf; p; p = nl ? nl + 1 : NULL) {
            struct sbuf pb;

            nl = strchr(p, '\n');
            sb_init(&pb, page, sizeof(page));
            sb_put(&pb, p, nl ? (size_t)(nl - p) : strlen(p));
            sb_put(&pb, "\n", 1);
            sb_puts(&pb, c->set->msgs[MSG_MORE].s[l]);
            if (pb.full || !fits(c->limit, page, pb.len)) {
                creport(c, 1, t->line[l],
                        "%s (%s): a line does not fit one screen of %zu characters", what,
                        lang_names[l], c->limit);
                break;
            }
        }
    }
}

static void
check_rich_fit(struct checker *c, const struct rich *r, enum fit fit, const char *what)
{
    size_t i;

    for (i = 0; i < r->nparts; i++)
        check_fit(c, &r->parts[i].text, NULL, fit, what);
}

struct reach {
    unsigned char seen[MAX_FLOWS][MAX_SCREENS];
    unsigned char queue[MAX_FLOWS * MAX_SCREENS][2];
    size_t n;
};

static void
reach_entry(const struct dialog_set *set, struct reach *r, int f, size_t from)
{
    const struct flow *fl = &set->flows[f];
    size_t i;

    for (i = from; i < fl->nscreens; i++) {
        if (!r->seen[f][i]) {
            r->seen[f][i] = 1;
            r->queue[r->n][0] = (unsigned char)f;
            r->queue[r->n][1] = (unsigned char)i;
            r->n++;
        }
        if (!fl->screens[i].when.used)
            break;
    }
}

static void
check_reach(struct checker *c)
{
    const struct dialog_set *set = c->set;
    struct reach *r = calloc(1, sizeof(*r));
    size_t q, k, f, i;

    if (r == NULL) {
        creport(c, 1, 0, "out of memory");
        return;
    }
    reach_entry(set, r, set->start[0], 0);
    reach_entry(set, r, set->start[1], 0);
    for (q = 0; q < r->n; q++) {
        int fi = r->queue[q][0];
        size_t si = r->queue[q][1];
        const struct flow *fl = &set->flows[fi];
        const struct screen *sc = &fl->screens[si];
        int seq = 0;

        switch (sc->kind) {
        case KIND_END:
            break;
        case KIND_CHOICE:
        case KIND_CONFIRM:
        case KIND_INFO:
            for (k = 0; k < sc->nopts; k++) {
                const struct option *o = &sc->opts[k];

                if (o->todo == DO_RESTART)
                    reach_entry(set, r, fi, 0);
                else if (o->go_flow >= 0)
                    reach_entry(set, r, o->go_flow, o->go_screen >= 0 ? (size_t)o->go_screen : 0);
                else if (o->todo == DO_NONE)
                    seq = 1;
            }
            break;
        default:
            seq = 1;
        }
        if (!seq)
            continue;
        if (si + 1 < fl->nscreens)
            reach_entry(set, r, fi, si + 1);
        else
            creport(c, 1, sc->line,
                    "screen '%s.%s' has no next screen: the flow '%s' ends there without a "
                    "confirm or end screen",
                    fl->name, sc->name, fl->name);
    }
    for (f = 0; f < set->nflows; f++)
        for (i = 0; i < set->flows[f].nscreens; i++)
            if (!r->seen[f][i])
                creport(c, 1, set->flows[f].screens[i].line, "screen '%s.%s' cannot be reached",
                        set->flows[f].name, set->flows[f].screens[i].name);
    free(r);
}

int
dialog_set_check(const struct dialog_set *set, size_t screen_limit,
                 void (*report)(void *arg, int is_error, const char *msg), void *arg)
{
    struct checker c = {set, screen_limit, report, arg, 0};
    char what[128], prefix[24];
    size_t f, i, k, m;

    if (set == NULL)
        return 1;
    if (c.limit == 0 || c.limit > DIALOG_SCREEN_MAX)
        c.limit = DIALOG_SCREEN_MAX;
    for (m = 0; m < MSG_COUNT; m++)
        check_fit(
            &c, &set->msgs[m], m == MSG_RESUME_CONTINUE || m == MSG_RESUME_RESTART ? "1 " : NULL,
            m == MSG_TOO_MANY || m == MSG_CODE_LOCKED || m == MSG_SAVE_FAILED || m == MSG_ENDED
                ? FIT_WHOLE
                : FIT_LINES,
            msg_names[m]);
    for (f = 0; f < set->nflows; f++) {
        const struct flow *fl = &set->flows[f];

        if (fl->action != DIALOG_ACT_NONE) {
            snprintf(what, sizeof(what), "flow '%s' saved text", fl->name);
            check_rich_fit(&c, &fl->saved, FIT_WHOLE, what);
        }
        for (i = 0; i < fl->nscreens; i++) {
            const struct screen *sc = &fl->screens[i];

            snprintf(what, sizeof(what), "screen '%s.%s' prompt", fl->name, sc->name);
            check_rich_fit(&c, &sc->prompt, sc->kind == KIND_END ? FIT_WHOLE : FIT_LINES, what);
            if (sc->kind == KIND_LIST) {
                snprintf(what, sizeof(what), "screen '%s.%s' empty text", fl->name, sc->name);
                check_rich_fit(&c, &sc->empty, FIT_LINES, what);
            }
            if (sc->has_invalid) {
                snprintf(what, sizeof(what), "screen '%s.%s' invalid text", fl->name, sc->name);
                check_fit(&c, &sc->invalid, NULL, FIT_LINES, what);
            }
            for (k = 0; k < sc->nopts; k++) {
                snprintf(what, sizeof(what), "screen '%s.%s' option %s", fl->name, sc->name,
                         sc->opts[k].vstr);
                snprintf(prefix, sizeof(prefix), "%s ", sc->opts[k].vstr);
                check_fit(&c, &sc->opts[k].label, prefix, FIT_LINES, what);
                if (sc->opts[k].value == 99)
                    creport(&c, 0, sc->opts[k].line,
                            "%s: 99 also means 'next page' when the screen is paged", what);
            }
        }
    }
    check_reach(&c);
    return c.errors;
}
