/*
 * Judging a loaded dialog model. At load (dialog_load.c resolves, then asks here): every
 * placeholder and condition names a field or value its flow has, or the file is refused. For
 * `kabard -t`, dialog_set_check(): texts that cannot fit a screen, empty translations, texts
 * outside GSM-7, screens nothing leads to, flows that end without a next screen.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "dialog.h"
#include "dialog_int.h"
#include "gsm7.h"

/* Load-time checks: placeholders and conditions */

static int
check_tmpl(struct cfgfile *f, const struct dialog_set *set, int flow, const char *s, int line)
{
    const char *p = s, *e, *field = NULL;
    size_t flen = 0, size;
    enum ph ph;

    while ((p = strchr(p, '{')) != NULL) {
        if ((e = strchr(p, '}')) == NULL)
            return cfgfile_fail_line(f, line, "'{' without '}'");
        size = (size_t)(e - p - 1);
        ph = dialog_ph_parse(p + 1, size, &field, &flen);
        if (ph == PH_UNKNOWN)
            return cfgfile_fail_line(f, line, "unknown placeholder {%.*s}", (int)size, p + 1);
        if ((ph == PH_ANSWER || ph == PH_LABEL || ph == PH_RUPIAH) &&
            (flow < 0 || !dialog_flow_has_field(&set->flows[flow], field, flen)))
            return cfgfile_fail_line(f, line, "unknown field '%.*s' in {%.*s}", (int)flen, field,
                                     (int)size, p + 1);
        if ((ph == PH_TRAINING_TITLE || ph == PH_TRAINING_DATE || ph == PH_TRAINING_PLACE) &&
            (flow < 0 || !dialog_flow_has_list(&set->flows[flow], MAX_SCREENS)))
            return cfgfile_fail_line(f, line, "{%.*s} needs a list screen in the flow", (int)size,
                                     p + 1);
        p = e + 1;
    }
    return 0;
}

int
dialog_check_text(struct cfgfile *f, const struct dialog_set *set, int flow, const struct text *t)
{
    int l;

    for (l = 0; l < LANGS; l++)
        if (t->s[l] && check_tmpl(f, set, flow, t->s[l], t->line[l]) < 0)
            return -1;
    return 0;
}

/* The values a context field can have, for the fields that have few: a `when` comparing with
 * anything else is a typo that would silently never hold. NULL: any. */
static const char *const *
cond_values(enum ph ph)
{
    static const char *const tracks[] = {"none", "natural", "welfare", NULL};
    static const char *const flags[] = {"0", "1", NULL};

    switch (ph) {
    case PH_KPM_TRACK:
        return tracks;
    case PH_KPM_FOLLOW_UP:
    case PH_KPM_SUPPORT:
    case PH_KPM_EXIT_SURVEY:
        return flags;
    default:
        return NULL;
    }
}

static int
check_cond_values(struct cfgfile *f, const struct cond *c, enum ph ph)
{
    const char *const *ok = cond_values(ph);
    size_t i, k;

    for (i = 0; i < c->nin; i++) {
        if (ok == NULL) {
            if (ph == PH_UNKNOWN && strspn(c->in[i], "0123456789") != strlen(c->in[i]))
                return cfgfile_fail_line(f, c->line, "'when': field '%s' holds numbers, not '%s'",
                                         c->field, c->in[i]);
            continue;
        }
        for (k = 0; ok[k] != NULL && strcmp(ok[k], c->in[i]) != 0; k++)
            ;
        if (ok[k] == NULL)
            return cfgfile_fail_line(f, c->line, "'when': '%s' is never '%s'", c->field, c->in[i]);
    }
    return 0;
}

int
dialog_check_cond(struct cfgfile *f, const struct dialog_set *set, int flow, const struct cond *c)
{
    const char *field = NULL;
    size_t flen = 0, len;
    enum ph ph;

    for (; c != NULL && c->used; c = c->and) {
        len = strlen(c->field);
        if (strchr(c->field, '.') == NULL) {
            if (flow < 0 || !dialog_flow_has_field(&set->flows[flow], c->field, len))
                return cfgfile_fail_line(f, c->line, "unknown field '%s' in 'when'", c->field);
            if (check_cond_values(f, c, PH_UNKNOWN) < 0)
                return -1;
            continue;
        }
        ph = dialog_ph_parse(c->field, len, &field, &flen);
        if (ph == PH_UNKNOWN || ph == PH_MIN || ph == PH_MAX ||
            ((ph == PH_ANSWER || ph == PH_LABEL || ph == PH_RUPIAH) &&
             (flow < 0 || !dialog_flow_has_field(&set->flows[flow], field, flen))))
            return cfgfile_fail_line(f, c->line, "unknown field '%s' in 'when'", c->field);
        if (check_cond_values(f, c, ph) < 0)
            return -1;
    }
    return 0;
}

int
dialog_check_rich(struct cfgfile *f, const struct dialog_set *set, int flow, const struct rich *r)
{
    size_t i;

    for (i = 0; i < r->nparts; i++)
        if (dialog_check_text(f, set, flow, &r->parts[i].text) < 0 ||
            dialog_check_cond(f, set, flow, &r->parts[i].when) < 0)
            return -1;
    return 0;
}

/* dialog_set_check: the deeper checks of `kabard -t` */

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
                dialog_lang_names[t->s[0][0] ? 1 : 0]);
    for (l = 0; l < LANGS; l++) {
        if (gsm7_measure(t->s[l], strlen(t->s[l]), &units, &gsm) == 0 && !gsm)
            creport(c, 0, t->line[l],
                    "%s (%s) has characters outside GSM-7: a screen then holds %zu, not %zu", what,
                    dialog_lang_names[l], gsm7_screen_limit(0, c->limit),
                    gsm7_screen_limit(1, c->limit));
        sb_init(&b, buf, sizeof(buf));
        if (prefix)
            sb_puts(&b, prefix);
        nominal(t->s[l], &b);
        if (fit == FIT_WHOLE) {
            if (b.full || !dialog_fits(c->limit, buf, b.len))
                creport(c, 1, t->line[l], "%s (%s) does not fit one screen of %zu characters", what,
                        dialog_lang_names[l], c->limit);
            continue;
        }
        for (p = buf; p; p = nl ? nl + 1 : NULL) {
            struct sbuf pb;

            nl = strchr(p, '\n');
            sb_init(&pb, page, sizeof(page));
            sb_put(&pb, p, nl ? (size_t)(nl - p) : strlen(p));
            sb_put(&pb, "\n", 1);
            sb_puts(&pb, c->set->msgs[MSG_MORE].s[l]);
            if (pb.full || !dialog_fits(c->limit, page, pb.len)) {
                creport(c, 1, t->line[l],
                        "%s (%s): a line does not fit one screen of %zu characters", what,
                        dialog_lang_names[l], c->limit);
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
        case KIND_LESSON: /* 0 back and 00 menu leave it */
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
            dialog_msg_names[m]);
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
