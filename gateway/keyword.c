#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "cfgfile.h"
#include "keyword.h"
#include "parse.h"

#define NAME_WORDS 4
#define NAME_BYTES 32
#define LANG_ID 1u
#define LANG_EN 2u
#define SIGNS "?$%+-"
#define UNIT_FACTOR_MAX 1000000000ULL
#define VALUES_MAX KEYWORD_VISIT_OUTCOME_MAX /* the largest value of a word list */
#define ANSWER_MAX 2                         /* visit: 1 yes, 2 no */
#define TRACK_MAX 2                          /* graduate: 1 natural, 2 welfare */

#define LINE(s) ((int)config_setting_source_line(s))

/* One configured name: upper case, split into words (or a single sign such as "?"). */
struct kname {
    char *s;   /* "TUTUP SEMENTARA" */
    char *buf; /* the same, words NUL-separated */
    const char *w[NAME_WORDS];
    size_t nw;
    uint64_t value; /* enum keyword_cmd, status, reason, or a unit's factor */
    unsigned langs; /* LANG_ID | LANG_EN */
    int line;
};

struct klist {
    struct kname *v;
    size_t n, cap;
    const char *what; /* for errors: "command", "state", ... */
};

enum label { LB_REVENUE, LB_WORKERS, LB_CODE, LB_REASON, LB_ALERT, LB_PKH, LB_COUNT };
static const char *const label_names[LB_COUNT + 1] = {"revenue", "workers", "code", "reason",
                                                      "alert",   "pkh",     NULL};

struct keyword_set {
    unsigned version;
    struct klist cmds, states, reasons, currency, units;
    struct klist outcomes;       /* ack: KWO_* */
    struct klist visit_outcomes; /* visit: codes of graduation.visit_outcomes */
    struct klist answers;        /* visit: business seen running, 1 yes 2 no */
    struct klist tracks;         /* graduate */
    struct klist lesson_modes;   /* lesson: KEYWORD_LESSON_WEEKLY, KEYWORD_LESSON_STOP */
    struct klist labels[LB_COUNT];
};

/* Indexed by enum keyword_cmd; NULL: not a configured command. */
static const char *const cmd_names[] = {NULL,    "business", NULL,       "attend", "absent",
                                        "help",  "info",     "stop",     "start",  "ack",
                                        "check", "visit",    "graduate", "lesson", "answer"};
#define CMD_COUNT (sizeof(cmd_names) / sizeof(cmd_names[0]))
_Static_assert(CMD_COUNT == KW_COUNT, "a name for every command");

static void
klist_free(struct klist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].s);
        free(l->v[i].buf);
    }
    free(l->v);
}

void
keyword_set_free(struct keyword_set *set)
{
    size_t i;

    if (set == NULL)
        return;
    klist_free(&set->cmds);
    klist_free(&set->states);
    klist_free(&set->reasons);
    klist_free(&set->currency);
    klist_free(&set->units);
    klist_free(&set->outcomes);
    klist_free(&set->visit_outcomes);
    klist_free(&set->answers);
    klist_free(&set->tracks);
    klist_free(&set->lesson_modes);
    for (i = 0; i < LB_COUNT; i++)
        klist_free(&set->labels[i]);
    free(set);
}

unsigned
keyword_set_version(const struct keyword_set *set)
{
    return set ? set->version : 0;
}

/* Loading */

struct loader {
    struct cfgfile *f; /* errors go there, "FILE:LINE: what" */
};

#define lerr(ld, line, ...) cfgfile_fail_line((ld)->f, (line), __VA_ARGS__)

static int
members_ok(struct loader *ld, const config_setting_t *g, const char *const *allowed,
           const char *what)
{
    return cfgfile_members(ld->f, g, allowed, what);
}

/*
 * "tutup  sementara" is not a name (one space between words keeps the file readable and the
 * matching obvious); out gets "TUTUP SEMENTARA". Returns the number of words, or 0.
 */
static size_t
name_norm(const char *in, char out[NAME_BYTES + 1])
{
    size_t n = strlen(in), i, words = 1;

    if (n == 0 || n > NAME_BYTES)
        return 0;
    if (n == 1 && strchr(SIGNS, in[0]) != NULL) {
        memcpy(out, in, 2);
        return 1;
    }
    for (i = 0; i < n; i++) {
        char c = in[i];

        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c == ' ') {
            if (i == 0 || i + 1 == n || in[i + 1] == ' ' || ++words > NAME_WORDS)
                return 0;
        } else if (c < 'A' || c > 'Z') {
            return 0;
        }
        out[i] = c;
    }
    out[n] = '\0';
    return words;
}

static struct kname *
klist_find(const struct klist *l, const char *norm)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        if (strcmp(l->v[i].s, norm) == 0)
            return &l->v[i];
    return NULL;
}

/* A name may be listed under both languages of one entry; anywhere else twice is a mistake. */
static int
klist_add(struct loader *ld, struct klist *l, const config_setting_t *m, uint64_t value,
          unsigned lang)
{
    char norm[NAME_BYTES + 1];
    const char *in = config_setting_get_string(m);
    struct kname *k, *old;
    size_t nw, i;
    char *p;

    if (in == NULL) {
        lerr(ld, LINE(m), "a %s name must be a string", l->what);
        return -1;
    }
    if ((nw = name_norm(in, norm)) == 0) {
        lerr(ld, LINE(m),
             "bad %s name \"%.40s\": one to %d words of letters A-Z separated by one space "
             "(at most %d bytes), or one of %s",
             l->what, in, NAME_WORDS, NAME_BYTES, SIGNS);
        return -1;
    }
    if ((old = klist_find(l, norm)) != NULL) {
        if (old->value != value || (old->langs & lang)) {
            lerr(ld, LINE(m), "%s name '%s' appears twice (also line %d)", l->what, norm,
                 old->line);
            return -1;
        }
        old->langs |= lang;
        return 0;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct kname *v = realloc(l->v, cap * sizeof(*v));

        if (v == NULL) {
            lerr(ld, LINE(m), "out of memory");
            return -1;
        }
        l->v = v;
        l->cap = cap;
    }
    k = &l->v[l->n];
    memset(k, 0, sizeof(*k));
    if ((k->s = strdup(norm)) == NULL || (k->buf = strdup(norm)) == NULL) {
        free(k->s);
        lerr(ld, LINE(m), "out of memory");
        return -1;
    }
    l->n++;
    k->nw = nw;
    for (i = 0, p = k->buf; i < nw; i++) {
        char *sp = strchr(p, ' ');

        k->w[i] = p;
        if (sp != NULL) {
            *sp = '\0';
            p = sp + 1;
        }
    }
    k->value = value;
    k->langs = lang;
    k->line = LINE(m);
    return 0;
}

/* `member = ["A", "B C"];` (an array or a list), absent allowed. Returns the count or -1. */
static int
load_names(struct loader *ld, const config_setting_t *g, const char *member, struct klist *l,
           uint64_t value, unsigned lang)
{
    const config_setting_t *m = config_setting_get_member(g, member);
    int i, n;

    if (m == NULL)
        return 0;
    if (!config_setting_is_array(m) && !config_setting_is_list(m)) {
        lerr(ld, LINE(m), "'%s' must be a list of names: [\"...\", ...]", member);
        return -1;
    }
    n = config_setting_length(m);
    for (i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(m, (unsigned)i);

        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
            lerr(ld, LINE(e), "'%s' must hold strings only", member);
            return -1;
        }
        if (klist_add(ld, l, e, value, lang) < 0)
            return -1;
    }
    return n;
}

static int
load_int(struct loader *ld, const config_setting_t *g, const char *name, uint64_t min, uint64_t max,
         uint64_t *out)
{
    return cfgfile_u64(ld->f, g, name, min, max, 1, out);
}

/*
 * `states` or `reasons`: ( { status = 1; id = [...]; en = [...]; }, ... ); each value once,
 * all of 1..max when `all` is set.
 */
static int
load_values(struct loader *ld, const config_setting_t *m, const char *key, uint64_t max, int all,
            struct klist *l)
{
    const char *const allowed[] = {key, "id", "en", NULL};
    int seen_line[VALUES_MAX + 1] = {0};
    int i, n;
    uint64_t v;

    if (!config_setting_is_list(m)) {
        lerr(ld, LINE(m), "'%s' must be a list: ( { %s = 1; id = [...]; en = [...]; }, ... )",
             config_setting_name(m), key);
        return -1;
    }
    n = config_setting_length(m);
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(m, (unsigned)i);
        int a, b;

        if (!config_setting_is_group(g)) {
            lerr(ld, LINE(g), "each of '%s' must be a group { %s = N; id = [...]; en = [...]; }",
                 config_setting_name(m), key);
            return -1;
        }
        if (members_ok(ld, g, allowed, config_setting_name(m)) < 0 ||
            load_int(ld, g, key, 1, max, &v) < 0)
            return -1;
        if (seen_line[v]) {
            lerr(ld, LINE(g), "%s %llu appears twice (also line %d)", key, (unsigned long long)v,
                 seen_line[v]);
            return -1;
        }
        seen_line[v] = LINE(g);
        if ((a = load_names(ld, g, "id", l, v, LANG_ID)) < 0 ||
            (b = load_names(ld, g, "en", l, v, LANG_EN)) < 0)
            return -1;
        if (a + b == 0) {
            lerr(ld, LINE(g), "%s %llu has no names", key, (unsigned long long)v);
            return -1;
        }
    }
    for (v = 1; all && v <= max; v++) {
        if (!seen_line[v]) {
            lerr(ld, LINE(m), "missing %s %llu", key, (unsigned long long)v);
            return -1;
        }
    }
    return 0;
}

/* The word lists a command may carry: `member = ( { key = N; id = [...]; en = [...]; }, ... )`. */
struct wordlist {
    enum keyword_cmd cmd;
    const char *member, *key;
    uint64_t max;
    int all;      /* every value 1..max must have names */
    int required; /* the command needs the list */
    size_t off;   /* of the klist in struct keyword_set */
};

static const struct wordlist wordlists[] = {
    {KW_BUSINESS, "states", "status", KEYWORD_STATUS_MAX, 1, 1,
     offsetof(struct keyword_set, states)},
    {KW_ABSENT, "reasons", "reason", KEYWORD_REASON_MAX, 0, 0,
     offsetof(struct keyword_set, reasons)},
    {KW_ACK, "outcomes", "outcome", KWO_COUNT - 1, 0, 0, offsetof(struct keyword_set, outcomes)},
    {KW_VISIT, "outcomes", "outcome", KEYWORD_VISIT_OUTCOME_MAX, 0, 0,
     offsetof(struct keyword_set, visit_outcomes)},
    {KW_VISIT, "answers", "answer", ANSWER_MAX, 1, 0, offsetof(struct keyword_set, answers)},
    {KW_GRADUATE, "tracks", "track", TRACK_MAX, 1, 1, offsetof(struct keyword_set, tracks)},
    {KW_LESSON, "modes", "mode", KEYWORD_LESSON_STOP, 0, 0,
     offsetof(struct keyword_set, lesson_modes)},
};
#define WORDLISTS (sizeof(wordlists) / sizeof(wordlists[0]))

/* the word lists of command c: states, reasons, outcomes, answers, tracks */
static int
load_wordlists(struct loader *ld, struct keyword_set *set, const config_setting_t *g,
               enum keyword_cmd c)
{
    static const struct {
        const char *member, *owners;
    } members[] = {
        {"states", "command 'business' has"},
        {"reasons", "command 'absent' has"},
        {"outcomes", "commands 'ack' and 'visit' have"},
        {"answers", "command 'visit' has"},
        {"tracks", "command 'graduate' has"},
        {"modes", "command 'lesson' has"},
    };
    const config_setting_t *m;
    size_t i, w;

    for (i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        m = config_setting_get_member(g, members[i].member);
        for (w = 0; w < WORDLISTS; w++)
            if (wordlists[w].cmd == c && strcmp(wordlists[w].member, members[i].member) == 0)
                break;
        if (w == WORDLISTS) {
            if (m != NULL) {
                lerr(ld, LINE(m), "only %s '%s'", members[i].owners, members[i].member);
                return -1;
            }
            continue;
        }
        if (m == NULL && wordlists[w].required) {
            lerr(ld, LINE(g), "command '%s' needs '%s'", cmd_names[c], members[i].member);
            return -1;
        }
        if (m != NULL && load_values(ld, m, wordlists[w].key, wordlists[w].max, wordlists[w].all,
                                     (struct klist *)((char *)set + wordlists[w].off)) < 0)
            return -1;
    }
    return 0;
}

static int
load_command(struct loader *ld, struct keyword_set *set, const config_setting_t *g, int *seen_line)
{
    static const char *const allowed[] = {"command",  "id",      "en",     "states", "reasons",
                                          "outcomes", "answers", "tracks", "modes",  NULL};
    const config_setting_t *m;
    const char *name;
    size_t c;
    int a, b;

    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "each command must be a group { command = \"...\"; id = [...]; }");
        return -1;
    }
    if (members_ok(ld, g, allowed, "a command") < 0)
        return -1;
    if ((m = config_setting_get_member(g, "command")) == NULL) {
        lerr(ld, LINE(g), "missing 'command'");
        return -1;
    }
    if ((name = config_setting_get_string(m)) == NULL) {
        lerr(ld, LINE(m), "'command' must be a string");
        return -1;
    }
    for (c = 0; c < CMD_COUNT; c++)
        if (cmd_names[c] && strcmp(cmd_names[c], name) == 0)
            break;
    if (c == CMD_COUNT) {
        lerr(ld, LINE(m),
             "unknown command \"%.40s\" (business, attend, absent, help, info, stop, start, ack,"
             " check, visit, graduate, lesson, answer)",
             name);
        return -1;
    }
    if (seen_line[c]) {
        lerr(ld, LINE(m), "command '%s' appears twice (also line %d)", cmd_names[c], seen_line[c]);
        return -1;
    }
    seen_line[c] = LINE(m);
    if ((a = load_names(ld, g, "id", &set->cmds, c, LANG_ID)) < 0 ||
        (b = load_names(ld, g, "en", &set->cmds, c, LANG_EN)) < 0)
        return -1;
    if (a + b == 0) {
        lerr(ld, LINE(g), "command '%s' has no names", cmd_names[c]);
        return -1;
    }
    return load_wordlists(ld, set, g, (enum keyword_cmd)c);
}

static int
load_money(struct loader *ld, struct keyword_set *set, const config_setting_t *g)
{
    static const char *const allowed[] = {"currency", "units", NULL};
    static const char *const unit_allowed[] = {"names", "factor", NULL};
    const config_setting_t *m;
    int i, n;

    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "'money' must be a group { currency = [...]; units = (...); }");
        return -1;
    }
    if (members_ok(ld, g, allowed, "money") < 0 ||
        load_names(ld, g, "currency", &set->currency, 0, LANG_ID | LANG_EN) < 0)
        return -1;
    if ((m = config_setting_get_member(g, "units")) == NULL)
        return 0;
    if (!config_setting_is_list(m)) {
        lerr(ld, LINE(m), "'units' must be a list: ( { names = [...]; factor = 1000; }, ... )");
        return -1;
    }
    n = config_setting_length(m);
    for (i = 0; i < n; i++) {
        const config_setting_t *u = config_setting_get_elem(m, (unsigned)i);
        uint64_t factor;
        size_t k;

        if (!config_setting_is_group(u)) {
            lerr(ld, LINE(u), "each unit must be a group { names = [...]; factor = N; }");
            return -1;
        }
        if (members_ok(ld, u, unit_allowed, "a unit") < 0 ||
            load_int(ld, u, "factor", 10, UNIT_FACTOR_MAX, &factor) < 0)
            return -1;
        for (k = 0; k < set->units.n; k++) {
            if (set->units.v[k].value == factor) {
                lerr(ld, LINE(u), "two units with factor %llu (also line %d)",
                     (unsigned long long)factor, set->units.v[k].line);
                return -1;
            }
        }
        if (load_names(ld, u, "names", &set->units, factor, LANG_ID | LANG_EN) <= 0) {
            lerr(ld, LINE(u), "a unit needs 'names'");
            return -1;
        }
    }
    return 0;
}

static int
load_labels(struct loader *ld, struct keyword_set *set, const config_setting_t *g)
{
    size_t i;

    if (!config_setting_is_group(g)) {
        lerr(ld, LINE(g), "'labels' must be a group { revenue = [...]; workers = [...]; ... }");
        return -1;
    }
    if (members_ok(ld, g, label_names, "labels") < 0)
        return -1;
    for (i = 0; i < LB_COUNT; i++)
        if (load_names(ld, g, label_names[i], &set->labels[i], 0, LANG_ID | LANG_EN) < 0)
            return -1;
    return 0;
}

/* A word that could be read two ways where both are looked for. */
static int
check_clash(struct loader *ld, const struct klist *a, const struct klist *b)
{
    size_t i;
    const struct kname *k;

    for (i = 0; i < a->n; i++) {
        if ((k = klist_find(b, a->v[i].s)) != NULL && k != &a->v[i]) {
            lerr(ld, a->v[i].line > k->line ? a->v[i].line : k->line,
                 "'%s' is both a %s and a %s name (lines %d and %d)", k->s, a->what, b->what,
                 a->v[i].line, k->line);
            return -1;
        }
    }
    return 0;
}

static int
load_root(struct loader *ld, struct keyword_set *set, config_t *cfg)
{
    /* replies: the SMS texts, read by gateway/texts.c from the same parsed file */
    static const char *const keys[] = {"version", "commands", "money", "labels", "replies", NULL};
    const config_setting_t *root = config_root_setting(cfg), *m;
    int seen_line[CMD_COUNT] = {0};
    const struct klist *around[2 + LB_COUNT];
    uint64_t v;
    size_t i, j;
    int n;

    if (members_ok(ld, root, keys, "the file") < 0)
        return -1;
    if (config_setting_get_member(root, "version") == NULL) {
        lerr(ld, 1, "missing 'version'");
        return -1;
    }
    if (load_int(ld, root, "version", 1, 1, &v) < 0)
        return -1;
    set->version = (unsigned)v;
    if ((m = config_setting_get_member(root, "commands")) == NULL || !config_setting_is_list(m)) {
        lerr(ld, m ? LINE(m) : 1, "missing 'commands = ( {...}, ... );'");
        return -1;
    }
    n = config_setting_length(m);
    for (i = 0; i < (size_t)n; i++)
        if (load_command(ld, set, config_setting_get_elem(m, (unsigned)i), seen_line) < 0)
            return -1;
    for (i = 0; i < CMD_COUNT; i++) {
        /* the micro-lessons' words are optional: without them SMS has no lessons */
        if (cmd_names[i] && !seen_line[i] && i != KW_LESSON && i != KW_ANSWER) {
            lerr(ld, LINE(m), "missing command '%s'", cmd_names[i]);
            return -1;
        }
    }
    if ((m = config_setting_get_member(root, "money")) != NULL && load_money(ld, set, m) < 0)
        return -1;
    if ((m = config_setting_get_member(root, "labels")) != NULL && load_labels(ld, set, m) < 0)
        return -1;
    /* the words read around an argument must each mean one thing */
    around[0] = &set->currency;
    around[1] = &set->units;
    for (i = 0; i < LB_COUNT; i++)
        around[2 + i] = &set->labels[i];
    for (i = 0; i < 2 + LB_COUNT; i++)
        for (j = i + 1; j < 2 + LB_COUNT; j++)
            if (check_clash(ld, around[i], around[j]) < 0)
                return -1;
    /* a label after the number of OK n, an outcome word in the same place */
    if (check_clash(ld, &set->labels[LB_ALERT], &set->outcomes) < 0)
        return -1;
    return check_clash(ld, &set->labels[LB_REASON], &set->reasons);
}

struct keyword_set *
keyword_set_from(struct cfgfile *f)
{
    struct loader ld = {f};
    struct keyword_set *set;
    size_t i;

    if ((set = calloc(1, sizeof(*set))) == NULL) {
        lerr(&ld, 0, "out of memory");
        return NULL;
    }
    set->cmds.what = "command";
    set->states.what = "state";
    set->reasons.what = "reason";
    set->currency.what = "currency";
    set->units.what = "unit";
    set->outcomes.what = "outcome";
    set->visit_outcomes.what = "visit outcome";
    set->answers.what = "answer";
    set->tracks.what = "track";
    for (i = 0; i < LB_COUNT; i++)
        set->labels[i].what = "label";
    if (load_root(&ld, set, &f->cf) < 0 || f->failed) {
        keyword_set_free(set);
        return NULL;
    }
    return set;
}

struct keyword_set *
keyword_set_load(const char *path, char *err, size_t errlen)
{
    struct keyword_set *set = NULL;
    struct cfgfile f;

    if (cfgfile_open(&f, path, err, errlen) == 0)
        set = keyword_set_from(&f);
    cfgfile_close(&f);
    return set;
}

/* Parsing */

enum tk { TK_END, TK_WORD, TK_NUM, TK_SIGN };

struct tok {
    enum tk kind;
    const char *p;
    size_t n;
    size_t end;   /* offset after the token */
    int attached; /* nothing between the lexing position and the token */
};

/*
 * Between tokens: spaces, controls, any non-ASCII byte (emoji, NBSP, curly quotes: people add
 * them anywhere) and punctuation that never changes a keyword's meaning. '.' and ',' inside a
 * number are part of it. What is left are letters, digits and the signs ? $ % + -.
 */
static int
is_sep(unsigned char c)
{
    return c <= ' ' || c >= 0x7f || strchr("!\"#&'()*,./:;<=>@[\\]^_`{|}~", c) != NULL;
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int
all_digits(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return 0;
    return 1;
}

static int
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * The token at or after pos. A number is digits with '.' or ',' between digits, and may end
 * in ",-" or ".-" as in "Rp 2.500.000,-".
 */
static void
lex(const char *s, size_t len, size_t pos, struct tok *t)
{
    size_t i = pos;

    while (i < len && is_sep((unsigned char)s[i]))
        i++;
    t->attached = i == pos;
    t->p = s + i;
    if (i == len) {
        t->kind = TK_END;
        t->n = 0;
        t->end = len;
        return;
    }
    if (is_alpha(s[i])) {
        t->kind = TK_WORD;
        while (i < len && is_alpha(s[i]))
            i++;
    } else if (is_digit(s[i])) {
        t->kind = TK_NUM;
        while (i < len) {
            if (is_digit(s[i])) {
                i++;
            } else if ((s[i] == '.' || s[i] == ',') && i + 1 < len && is_digit(s[i + 1])) {
                i++;
            } else if ((s[i] == '.' || s[i] == ',') && i + 1 < len && s[i + 1] == '-') {
                i += 2;
                break;
            } else {
                break;
            }
        }
    } else {
        t->kind = TK_SIGN;
        i++;
    }
    t->n = (size_t)(s + i - t->p);
    t->end = i;
}

static int
tok_is(const struct tok *t, const char *word)
{
    char buf[NAME_BYTES + 1];

    if (t->kind == TK_SIGN)
        return word[0] == t->p[0] && word[1] == '\0';
    if (t->kind != TK_WORD || t->n > NAME_BYTES || t->n != strlen(word))
        return 0;
    memcpy(buf, t->p, t->n);
    buf[t->n] = '\0';
    return parse_casematch(buf, word);
}

struct kp {
    const struct keyword_set *set;
    const char *s;
    size_t len;
    size_t pos;
    unsigned langs; /* of the state or reason word, if any */
};

static void
kp_peek(const struct kp *kp, struct tok *t)
{
    lex(kp->s, kp->len, kp->pos, t);
}

/* The longest name of l spelled by the tokens at pos; *end is set after it. */
static const struct kname *
match_at(const struct kp *kp, const struct klist *l, size_t pos, size_t *end)
{
    const struct kname *best = NULL;
    struct tok first;
    size_t i, k;

    lex(kp->s, kp->len, pos, &first);
    if (first.kind == TK_END || first.kind == TK_NUM)
        return NULL;
    for (i = 0; i < l->n; i++) {
        const struct kname *nm = &l->v[i];
        struct tok t = first;
        size_t p = pos;

        if (best != NULL && nm->nw <= best->nw)
            continue;
        for (k = 0; k < nm->nw; k++) {
            if (k > 0)
                lex(kp->s, kp->len, p, &t);
            if (!tok_is(&t, nm->w[k]))
                break;
            p = t.end;
        }
        if (k == nm->nw) {
            best = nm;
            *end = p;
        }
    }
    return best;
}

static const struct kname *
kp_match(struct kp *kp, const struct klist *l)
{
    size_t end;
    const struct kname *k = match_at(kp, l, kp->pos, &end);

    if (k != NULL)
        kp->pos = end;
    return k;
}

static int
kp_skip_labels(struct kp *kp, enum label lb)
{
    int n = 0;

    while (kp_match(kp, &kp->set->labels[lb]) != NULL)
        n++;
    return n;
}

/* Is there a word or a number left? Signs alone ("HADIR?") are not an argument. */
static int
kp_has_content(const struct kp *kp)
{
    struct tok t;
    size_t pos = kp->pos;

    for (;;) {
        lex(kp->s, kp->len, pos, &t);
        if (t.kind == TK_END)
            return 0;
        if (t.kind != TK_SIGN)
            return 1;
        pos = t.end;
    }
}

/*
 * After the arguments: words, signs and emoji are ignored ("terima kasih"), but a number means
 * the message was not read as meant ("USAHA BUKA 2 500 000 3").
 */
static enum keyword_error
kp_trailing(const struct kp *kp)
{
    struct tok t;
    size_t pos = kp->pos;

    for (;;) {
        lex(kp->s, kp->len, pos, &t);
        if (t.kind == TK_END)
            return KWE_OK;
        if (t.kind == TK_NUM)
            return KWE_BAD_NUMBER;
        pos = t.end;
    }
}

/* A letter or digit right after a number that the grammar did not take: "4821abc", "1jt500". */
static int
kp_glued(const struct kp *kp)
{
    struct tok t;

    kp_peek(kp, &t);
    return t.attached && (t.kind == TK_WORD || t.kind == TK_NUM);
}

/* Digits only (no separators), min..max. */
static enum keyword_error
tok_u64(const struct tok *t, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *p = t->p;
    size_t n = t->n;
    uint64_t v;

    if (t->kind != TK_NUM || !all_digits(p, n))
        return KWE_BAD_NUMBER;
    while (n > 1 && p[0] == '0') {
        p++;
        n--;
    }
    if (parse_u64(p, n, 0, UINT64_MAX, &v) < 0 || v < min || v > max)
        return KWE_RANGE;
    *out = v;
    return KWE_OK;
}

/* The next argument: a plain number, after optional labels. */
static enum keyword_error
kp_number(struct kp *kp, enum label lb, uint64_t min, uint64_t max, uint64_t *out)
{
    struct tok t;
    enum keyword_error e;

    kp_skip_labels(kp, lb);
    if (!kp_has_content(kp))
        return KWE_MISSING;
    kp_peek(kp, &t);
    if ((e = tok_u64(&t, min, max, out)) != KWE_OK)
        return e;
    kp->pos = t.end;
    kp_skip_labels(kp, lb);
    return KWE_OK;
}

/*
 * One written amount times a unit's factor (1: no unit). "2.500.000" and "2,500,000" group
 * thousands (first group 1-3 digits, then groups of 3, one separator kind); a last separator
 * followed by 1-2 digits (a different one than the grouping) is a decimal point, whose digits
 * must be zero without a unit (cents: "2.500.000,00") and must give whole Rupiah with one
 * ("2,5jt"). A trailing ",-" is Indonesian for "no cents".
 */
static enum keyword_error
money_term(const char *p, size_t n, uint64_t factor, int unit, uint64_t *out)
{
    char digits[24];
    const char *frac = NULL, *lastsep = NULL;
    size_t nfrac = 0, nd = 0, i, nseps = 0, part = 0, parts = 0;
    uint64_t ip, f = 0, pow = 1;
    char gsep = 0;

    if (n >= 2 && p[n - 1] == '-') {
        if (unit)
            return KWE_BAD_NUMBER;
        n -= 2;
    }
    for (i = 0; i < n; i++) {
        if (p[i] == '.' || p[i] == ',') {
            if (nseps++ == 0)
                gsep = p[i];
            lastsep = p + i;
        }
    }
    if (lastsep != NULL) {
        size_t tail = (size_t)(p + n - lastsep - 1);

        if (tail <= 2 && (nseps == 1 || *lastsep != gsep)) {
            frac = lastsep + 1;
            nfrac = tail;
            n = (size_t)(lastsep - p);
            nseps--;
        }
    }
    /* the integer part: digits, or groups (which never start with 0: "0.500" is no 500) */
    if (nseps > 0 && p[0] == '0')
        return KWE_BAD_NUMBER;
    for (i = 0; i < n; i++) {
        if (p[i] == '.' || p[i] == ',') {
            if (p[i] != gsep || (parts == 0 ? part == 0 || part > 3 : part != 3))
                return KWE_BAD_NUMBER;
            parts++;
            part = 0;
            continue;
        }
        part++;
        if (nd == 0 && p[i] == '0')
            continue; /* leading zeros say nothing and must not count towards 20 digits */
        if (nd >= 20)
            return KWE_RANGE;
        digits[nd++] = p[i];
    }
    if (parts > 0 && part != 3)
        return KWE_BAD_NUMBER;
    if (nd == 0)
        digits[nd++] = '0';
    if (parse_u64(digits, nd, 0, UINT64_MAX, &ip) < 0)
        return KWE_RANGE;
    if (frac != NULL) {
        if (parse_u64(frac, nfrac, 0, 99, &f) < 0)
            return KWE_BAD_NUMBER;
        for (i = 0; i < nfrac; i++)
            pow *= 10;
        if ((f * factor) % pow != 0)
            return KWE_BAD_NUMBER;
    }
    if (ip > KEYWORD_REVENUE_MAX / factor)
        return KWE_RANGE;
    *out = ip * factor + f * factor / pow;
    return *out > KEYWORD_REVENUE_MAX ? KWE_RANGE : KWE_OK;
}

/*
 * Revenue: [labels] [currency] amount [unit] [amount smaller-unit]... [currency] [labels].
 * "2 juta 500 ribu" adds up; "1jt500" is refused (1,500,000 or 1,000,500?).
 */
static enum keyword_error
kp_money(struct kp *kp, uint64_t *out)
{
    const struct klist *units = &kp->set->units;
    uint64_t total = 0, prev = 0;
    enum keyword_error e;
    struct tok t, u;
    int currency = 0;

    for (;;) {
        if (kp_match(kp, &kp->set->labels[LB_REVENUE]) != NULL)
            continue;
        if (!currency && kp_match(kp, &kp->set->currency) != NULL) {
            currency = 1;
            continue;
        }
        break;
    }
    if (!kp_has_content(kp))
        return KWE_MISSING;
    kp_peek(kp, &t);
    if (t.kind != TK_NUM)
        return KWE_BAD_NUMBER;
    for (;;) {
        const struct kname *unit;
        size_t end;
        uint64_t v;

        kp->pos = t.end;
        unit = kp_match(kp, units);
        if (unit != NULL && prev != 0 && unit->value >= prev)
            return KWE_BAD_NUMBER;
        e = money_term(t.p, t.n, unit ? unit->value : 1, unit != NULL, &v);
        if (e != KWE_OK)
            return e;
        if (v > KEYWORD_REVENUE_MAX - total)
            return KWE_RANGE;
        total += v;
        if (unit == NULL)
            break;
        prev = unit->value;
        kp_peek(kp, &u);
        if (u.kind != TK_NUM)
            break;
        if (match_at(kp, units, u.end, &end) != NULL) {
            t = u;
            continue;
        }
        if (u.attached)
            return KWE_BAD_NUMBER;
        break;
    }
    if (kp_glued(kp)) {
        size_t end;

        kp_peek(kp, &t);
        if (t.kind == TK_NUM ||
            (match_at(kp, &kp->set->labels[LB_REVENUE], kp->pos, &end) == NULL &&
             match_at(kp, &kp->set->currency, kp->pos, &end) == NULL))
            return KWE_BAD_NUMBER;
    }
    for (;;) {
        if (kp_match(kp, &kp->set->labels[LB_REVENUE]) != NULL ||
            kp_match(kp, &kp->set->currency) != NULL)
            continue;
        break;
    }
    *out = total;
    return KWE_OK;
}

static enum keyword_error
parse_business(struct kp *kp, struct keyword_msg *out)
{
    const struct kname *st;
    enum keyword_error e;
    uint64_t v;
    struct tok t;
    int labelled;

    if (!kp_has_content(kp)) {
        out->cmd = KW_BUSINESS_DIALOG;
        return KWE_OK;
    }
    if ((st = kp_match(kp, &kp->set->states)) == NULL)
        return KWE_BAD_STATE;
    kp->langs = st->langs;
    out->status = (unsigned)st->value;
    if (out->status != 1)
        return kp_trailing(kp);
    if ((e = kp_money(kp, &out->revenue)) != KWE_OK)
        return e;
    out->has_revenue = 1;
    labelled = kp_skip_labels(kp, LB_WORKERS) > 0;
    kp_peek(kp, &t);
    if (t.kind == TK_NUM || labelled) {
        if ((e = kp_number(kp, LB_WORKERS, KEYWORD_WORKERS_MIN, KEYWORD_WORKERS_MAX, &v)) != KWE_OK)
            return e;
        out->has_workers = 1;
        out->workers = (unsigned)v;
        if (kp_glued(kp))
            return KWE_BAD_NUMBER;
    }
    return kp_trailing(kp);
}

static enum keyword_error
kp_code(struct kp *kp, char code[KEYWORD_CODE_MAX + 1])
{
    struct tok t;

    kp_skip_labels(kp, LB_CODE);
    if (!kp_has_content(kp))
        return KWE_MISSING;
    kp_peek(kp, &t);
    if (t.kind != TK_NUM || t.n < KEYWORD_CODE_MIN || t.n > KEYWORD_CODE_MAX ||
        !all_digits(t.p, t.n))
        return KWE_BAD_NUMBER;
    kp->pos = t.end;
    if (kp_glued(kp))
        return KWE_BAD_NUMBER;
    memcpy(code, t.p, t.n);
    code[t.n] = '\0';
    return KWE_OK;
}

static enum keyword_error
parse_absent(struct kp *kp, struct keyword_msg *out)
{
    const struct kname *r;
    enum keyword_error e;
    struct tok t;
    uint64_t v;
    int labelled;

    if ((e = kp_code(kp, out->code)) != KWE_OK)
        return e;
    labelled = kp_skip_labels(kp, LB_REASON) > 0;
    kp_peek(kp, &t);
    if (t.kind == TK_NUM) {
        if ((e = kp_number(kp, LB_REASON, 1, KEYWORD_REASON_MAX, &v)) != KWE_OK)
            return e;
        if (kp_glued(kp))
            return KWE_BAD_NUMBER;
        out->reason = (unsigned)v;
    } else if ((r = kp_match(kp, &kp->set->reasons)) != NULL) {
        out->reason = (unsigned)r->value;
        kp->langs = r->langs;
    } else if (labelled) {
        /* "ABSEN 4821 alasan": the reason was meant but is not there or not understood */
        return kp_has_content(kp) ? KWE_BAD_NUMBER : KWE_MISSING;
    }
    /* anything else is the sender's own words about it, which the number cannot hold */
    return kp_trailing(kp);
}

/* The rest of the message, minus the separator people put after the keyword ("BANTUAN: ..."). */
static void
help_text(const char *s, size_t len, char out[KEYWORD_TEXT_MAX + 1])
{
    size_t i = 0, o = 0;

    while (i < len && ((unsigned char)s[i] <= ' ' || s[i] == 0x7f || strchr(":,.;#*=-!", s[i])))
        i++;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t clen = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

        if (c == '\r' && i + 1 < len && s[i + 1] == '\n') {
            i++;
            continue;
        }
        if (o + clen > KEYWORD_TEXT_MAX)
            break;
        if ((c < ' ' && c != '\n') || c == 0x7f) {
            out[o++] = ' '; /* a tab or a stray control must not reach an alert SMS raw */
            i++;
            continue;
        }
        memcpy(out + o, s + i, clen);
        o += clen;
        i += clen;
    }
    while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\n'))
        o--;
    out[o] = '\0';
}

/* A PKH participant number: 1 to KEYWORD_PKH_MAX digits, nothing else, leading zeros kept. */
static enum keyword_error
kp_pkh(struct kp *kp, char pkh[KEYWORD_PKH_MAX + 1])
{
    struct tok t;

    kp_skip_labels(kp, LB_PKH);
    if (!kp_has_content(kp))
        return KWE_MISSING;
    kp_peek(kp, &t);
    if (t.kind != TK_NUM || !all_digits(t.p, t.n))
        return KWE_BAD_NUMBER;
    if (t.n > KEYWORD_PKH_MAX)
        return KWE_RANGE;
    kp->pos = t.end;
    if (kp_glued(kp))
        return KWE_BAD_NUMBER;
    memcpy(pkh, t.p, t.n);
    pkh[t.n] = '\0';
    kp_skip_labels(kp, LB_PKH);
    return KWE_OK;
}

/*
 * OK <alert> [outcome]: a bare OK n is the acknowledgement it always was, and words after it that
 * are no outcome are the sender's own ("OK 57, sudah saya telepon"). TOLAK needs its reason:
 * the rest of the message.
 */
static enum keyword_error
parse_ack(struct kp *kp, const char *text, size_t len, struct keyword_msg *out)
{
    const struct kname *o;
    enum keyword_error e;
    struct tok t;

    kp_skip_labels(kp, LB_ALERT);
    if (!kp_has_content(kp))
        return KWE_MISSING;
    kp_peek(kp, &t);
    if ((e = tok_u64(&t, 1, KEYWORD_ALERT_MAX, &out->alert_id)) != KWE_OK)
        return e;
    kp->pos = t.end;
    if (kp_glued(kp))
        return KWE_BAD_NUMBER;
    /* "OK 57 no action": the outcome before the label "no" */
    if ((o = kp_match(kp, &kp->set->outcomes)) == NULL && kp_skip_labels(kp, LB_ALERT) > 0)
        o = kp_match(kp, &kp->set->outcomes);
    if (o == NULL)
        return kp_trailing(kp);
    out->outcome = (enum keyword_outcome)o->value;
    kp->langs = o->langs;
    if (out->outcome != KWO_DECLINED)
        return kp_trailing(kp);
    kp_skip_labels(kp, LB_REASON);
    help_text(text + kp->pos, len - kp->pos, out->text);
    return out->text[0] != '\0' ? KWE_OK : KWE_MISSING;
}

/* KUNJUNG <pkh> <outcome: a code or a word> [YA|TIDAK] */
static enum keyword_error
parse_visit(struct kp *kp, struct keyword_msg *out)
{
    const struct kname *w;
    enum keyword_error e;
    struct tok t;
    uint64_t v;

    if ((e = kp_pkh(kp, out->pkh)) != KWE_OK)
        return e;
    if (!kp_has_content(kp))
        return KWE_MISSING;
    kp_peek(kp, &t);
    if (t.kind == TK_NUM) {
        if ((e = tok_u64(&t, 1, KEYWORD_VISIT_OUTCOME_MAX, &v)) != KWE_OK)
            return e;
        kp->pos = t.end;
        if (kp_glued(kp))
            return KWE_BAD_NUMBER;
        out->visit_outcome = (unsigned)v;
    } else if ((w = kp_match(kp, &kp->set->visit_outcomes)) != NULL) {
        out->visit_outcome = (unsigned)w->value;
    } else {
        return KWE_BAD_STATE;
    }
    if ((w = kp_match(kp, &kp->set->answers)) != NULL)
        out->running = (unsigned)w->value;
    return kp_trailing(kp);
}

/* LULUS <pkh> <track> */
static enum keyword_error
parse_graduate(struct kp *kp, struct keyword_msg *out)
{
    const struct kname *w;
    enum keyword_error e;

    if ((e = kp_pkh(kp, out->pkh)) != KWE_OK)
        return e;
    if (!kp_has_content(kp))
        return KWE_MISSING;
    if ((w = kp_match(kp, &kp->set->tracks)) == NULL)
        return KWE_BAD_STATE;
    out->track = (unsigned)w->value;
    return kp_trailing(kp);
}

/* BELAJAR [MINGGUAN|STOP]: words after them are hers ("belajar dong") and ignored */
static enum keyword_error
parse_lesson(struct kp *kp, struct keyword_msg *out)
{
    const struct kname *w;

    if ((w = kp_match(kp, &kp->set->lesson_modes)) != NULL) {
        out->lesson_mode = (unsigned)w->value;
        kp->langs = w->langs;
    }
    return KWE_OK;
}

/* B <n>: one number, 1..KEYWORD_ANSWER_MAX, nothing after it */
static enum keyword_error
parse_answer(struct kp *kp, struct keyword_msg *out)
{
    enum keyword_error e;
    struct tok t;
    uint64_t v;

    if (!kp_has_content(kp))
        return KWE_MISSING;
    kp_peek(kp, &t);
    if ((e = tok_u64(&t, 1, KEYWORD_ANSWER_MAX, &v)) != KWE_OK)
        return e;
    kp->pos = t.end;
    if (kp_glued(kp))
        return KWE_BAD_NUMBER;
    out->answer = (unsigned)v;
    return kp_trailing(kp);
}

static void
set_lang(struct keyword_msg *out, unsigned cmd_langs, unsigned arg_langs)
{
    unsigned l = cmd_langs;

    if (l != LANG_ID && l != LANG_EN)
        l = arg_langs;
    out->lang_known = l == LANG_ID || l == LANG_EN;
    memcpy(out->lang, l == LANG_EN ? "en" : "id", 3);
}

int
keyword_parse(const struct keyword_set *set, const char *text, size_t len, struct keyword_msg *out)
{
    struct kp kp = {set, text, len, 0, 0};
    const struct kname *cmd;
    enum keyword_error e = KWE_OK;
    enum keyword_cmd c;

    memset(out, 0, sizeof(*out));
    out->cmd = KW_NONE;
    out->error = KWE_UNKNOWN;
    memcpy(out->lang, "id", 3);
    if (set == NULL || (text == NULL && len > 0))
        return -1;
    if (!parse_utf8_valid(text, len) || (len > 0 && memchr(text, '\0', len) != NULL))
        return -1;
    if (len > KEYWORD_INPUT_MAX)
        kp.len = KEYWORD_INPUT_MAX; /* enough to name the keyword; the rest is not read */
    cmd = len > 0 ? kp_match(&kp, &set->cmds) : NULL;
    c = cmd ? (enum keyword_cmd)cmd->value : KW_NONE;
    out->cmd = c;
    if (len > KEYWORD_INPUT_MAX) {
        e = KWE_TOO_LONG;
    } else if (cmd == NULL) {
        e = KWE_UNKNOWN;
    } else {
        switch (c) {
        case KW_BUSINESS:
            e = parse_business(&kp, out);
            break;
        case KW_ATTEND:
            if ((e = kp_code(&kp, out->code)) == KWE_OK)
                e = kp_trailing(&kp);
            break;
        case KW_ABSENT:
            e = parse_absent(&kp, out);
            break;
        case KW_HELP:
            help_text(text + kp.pos, len - kp.pos, out->text);
            break;
        case KW_ACK:
            e = parse_ack(&kp, text, len, out);
            break;
        case KW_CHECK:
            if ((e = kp_pkh(&kp, out->pkh)) == KWE_OK)
                e = kp_trailing(&kp);
            break;
        case KW_VISIT:
            e = parse_visit(&kp, out);
            break;
        case KW_GRADUATE:
            e = parse_graduate(&kp, out);
            break;
        case KW_LESSON:
            e = parse_lesson(&kp, out);
            break;
        case KW_ANSWER:
            e = parse_answer(&kp, out);
            break;
        default:
            break; /* INFO, STOP, MULAI: whatever follows, STOP must always work */
        }
    }
    set_lang(out, cmd ? cmd->langs : 0, kp.langs);
    out->error = e;
    if (e != KWE_OK) {
        struct keyword_msg keep = *out;

        memset(out, 0, sizeof(*out));
        out->cmd = keep.cmd;
        out->error = keep.error;
        out->lang_known = keep.lang_known;
        memcpy(out->lang, keep.lang, sizeof(out->lang));
    }
    return 0;
}

const char *
keyword_word(const struct keyword_set *set, enum keyword_words which, unsigned value, int en)
{
    const struct klist *l;
    size_t i;
    int pass;

    if (set == NULL)
        return "";
    switch (which) {
    case KWW_STATE:
        l = &set->states;
        break;
    case KWW_OUTCOME:
        l = &set->outcomes;
        break;
    case KWW_VISIT_OUTCOME:
        l = &set->visit_outcomes;
        break;
    case KWW_TRACK:
        l = &set->tracks;
        break;
    default:
        return "";
    }
    /* the first listed in the language asked for, else any */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; i < l->n; i++)
            if (l->v[i].value == value &&
                (pass == 1 || (l->v[i].langs & (en ? LANG_EN : LANG_ID)) != 0))
                return l->v[i].s;
    return "";
}
