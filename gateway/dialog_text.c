/*
 * What a dialog screen says: placeholders ({kpm.name}, {answer.revenue}, ...) filled from the
 * session, conditions on parts of a text, dates and rupiah formatted, and the result cut into
 * pages that fit the screen limit with a "99 More" line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog.h"
#include "dialog_int.h"
#include "gsm7.h"
#include "parse.h"

/* Placeholders */

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
    {"kpm.track", PH_KPM_TRACK},
    {"kpm.follow_up", PH_KPM_FOLLOW_UP},
    {"kpm.support_opt_in", PH_KPM_SUPPORT},
    {"kpm.exit_survey", PH_KPM_EXIT_SURVEY},
};

static const struct {
    const char *prefix;
    enum ph ph;
} ph_prefixed[] = {
    {"answer.", PH_ANSWER},
    {"label.", PH_LABEL},
    {"rupiah.", PH_RUPIAH},
};

enum ph
dialog_ph_parse(const char *name, size_t len, const char **field, size_t *flen)
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

/* Values from the session */

const struct entry *
dialog_find_answer(const struct dialog_session *s, int flow, const char *field, size_t flen)
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

const struct dialog_training *
dialog_flow_training(const struct dialog_session *s, int flow)
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

    switch (dialog_ph_parse(name, nlen, &field, &flen)) {
    case PH_KPM_NAME:
        return c->kpm_name[0] ? c->kpm_name : NULL;
    case PH_ASSISTANT_NAME:
        return c->assistant_name[0] ? c->assistant_name : NULL;
    case PH_REPORT_ID:
        if (!s->has_report)
            return NULL;
        snprintf(tmp, n, "%" PRIu64, s->report_id);
        return tmp;
    case PH_KPM_TRACK:
        return c->track;
    case PH_KPM_FOLLOW_UP:
        return c->follow_up ? "1" : "0";
    case PH_KPM_SUPPORT:
        return c->support_opt_in ? "1" : "0";
    case PH_KPM_EXIT_SURVEY:
        return c->exit_survey_done ? "1" : "0";
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
        t = dialog_flow_training(s, flow);
        return t && t->title[0] ? t->title : NULL;
    case PH_TRAINING_DATE:
        t = dialog_flow_training(s, flow);
        return t && t->date[0] ? (raw ? t->date : fmt_date(t->date, 1, tmp, n)) : NULL;
    case PH_TRAINING_PLACE:
        t = dialog_flow_training(s, flow);
        return t && t->place[0] ? t->place : NULL;
    case PH_ANSWER:
        e = dialog_find_answer(s, flow, field, flen);
        return e ? e->value : NULL;
    case PH_LABEL:
        e = dialog_find_answer(s, flow, field, flen);
        return e ? (raw ? e->value : entry_label(s, e, tmp, n)) : NULL;
    case PH_RUPIAH:
        if ((e = dialog_find_answer(s, flow, field, flen)) == NULL)
            return NULL;
        if (raw || parse_u64(e->value, strlen(e->value), 0, UINT64_MAX, &v) < 0)
            return e->value;
        return fmt_rupiah(v, tmp, n);
    default:
        return NULL;
    }
}

/* Conditions and templates */

int
dialog_cond_ok(const struct dialog_session *s, int flow, const struct cond *c)
{
    char tmp[VALUE_BUF];
    const struct entry *e;
    const char *v;
    size_t i;

    for (; c != NULL && c->used; c = c->and) {
        int hit = 0;

        if (strchr(c->field, '.')) {
            v = ph_value(s, flow, c->field, strlen(c->field), NULL, 1, tmp, sizeof(tmp));
        } else {
            e = dialog_find_answer(s, flow, c->field, strlen(c->field));
            v = e ? e->value : NULL;
        }
        if (c->absent) {
            if (v != NULL)
                return 0;
            continue;
        }
        for (i = 0; v != NULL && i < c->nin; i++)
            if (strcmp(v, c->in[i]) == 0)
                hit = 1;
        if (c->negate ? hit : (v == NULL || (c->nin > 0 && !hit)))
            return 0;
    }
    return 1;
}

void
dialog_cond_free(struct cond *c)
{
    struct cond *n = c->and, *next;

    free(c->field);
    for (; n != NULL; n = next) {
        next = n->and;
        free(n->field);
        free(n);
    }
    c->field = NULL;
    c->and = NULL;
}

int
dialog_option_ok(const struct dialog_session *s, int flow, const struct screen *sc, size_t i)
{
    return dialog_cond_ok(s, flow, &sc->opts[i].when);
}

/* Appends template t; in strict mode a placeholder without value fails (-1) the whole text. */
int
dialog_expand(const struct dialog_session *s, int flow, const char *t, const struct xtra *x,
              int strict, struct sbuf *b)
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

void
dialog_put_rich(const struct dialog_session *s, int flow, const struct rich *r, const char *sep,
                struct sbuf *b)
{
    size_t i, mark, first = 1;
    int full;

    for (i = 0; i < r->nparts; i++) {
        const struct part *p = &r->parts[i];

        if (!dialog_cond_ok(s, flow, &p->when))
            continue;
        mark = b->len;
        full = b->full;
        if (!first)
            sb_puts(b, sep ? sep : "\n");
        if (dialog_expand(s, flow, tr(s, &p->text), NULL, r->is_list, b) < 0) {
            b->len = mark;
            b->full = full;
            b->p[mark] = '\0';
            continue;
        }
        first = 0;
    }
}

void
dialog_put_msg(const struct dialog_session *s, enum msg m, const struct xtra *x, struct sbuf *b)
{
    dialog_expand(s, -1, tr(s, &s->set->msgs[m]), x, 0, b);
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

int
dialog_fits(size_t limit, const char *t, size_t len)
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

    return join(L, sp, i, j, more, buf, sizeof(buf), &len) && dialog_fits(limit, buf, len);
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
    if (dialog_fits(limit, L->text, L->len)) {
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

/* How many 99 pages text takes on a screen of limit septets, with more as the "99" line. */
size_t
dialog_text_pages(size_t limit, const char *text, size_t len, const char *more)
{
    struct layout *L;
    size_t n;

    if (limit < MIN_LIMIT || len >= CONTENT_MAX || (L = malloc(sizeof(*L))) == NULL)
        return 0;
    memcpy(L->text, text, len);
    L->text[len] = '\0';
    L->len = len;
    layout_build(limit, L, more);
    n = L->npages;
    free(L);
    return n;
}

/* Writes page `page` (END: the first page only, no "99" line) of reason + content. */
size_t
dialog_emit(struct dialog_session *s, struct dialog_out *out, const char *content, int end,
            size_t page)
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
    dialog_put_msg(s, MSG_MORE, NULL, &b);
    layout_build(s->limit, L, end ? NULL : more);
    npages = L->npages;
    page = end ? 0 : page % npages;
    if (!join(L, L->lines, L->starts[page], L->starts[page + 1], L->more, out->screen,
              sizeof(out->screen), &len) ||
        !dialog_fits(s->limit, out->screen, len)) {
        /* cannot happen with a limit >= MIN_LIMIT; stay within bounds anyway */
        out->screen[0] = '\0';
    }
    out->end = end;
    free(L);
    return npages;
}

/* The draft offered is a lesson left in the middle: its flow has a lesson screen. */
static int
draft_is_lesson(const struct dialog_session *s)
{
    size_t f, i;

    if (!s->set->has_ltexts)
        return 0;
    for (f = 0; f < s->set->nflows; f++)
        if (strcmp(s->set->flows[f].name, s->ctx.draft_flow) == 0)
            for (i = 0; i < s->set->flows[f].nscreens; i++)
                if (s->set->flows[f].screens[i].kind == KIND_LESSON)
                    return 1;
    return 0;
}

/* The content of the current screen (without the reason line). */
void
dialog_screen_content(const struct dialog_session *s, struct sbuf *b)
{
    const struct dialog_ctx *c = &s->ctx;
    const struct screen *sc;
    const struct entry *e;
    char line[VALUE_BUF], d[16];
    size_t i;

    if (s->state == ST_RESUME || (e = top(s)) == NULL) {
        if (draft_is_lesson(s))
            sb_puts(b, tr(s, &s->set->ltexts[DIALOG_L_RESUME]));
        else
            dialog_put_msg(s, MSG_RESUME_PROMPT, NULL, b);
        sb_puts(b, "\n1 ");
        dialog_put_msg(s, MSG_RESUME_CONTINUE, NULL, b);
        sb_puts(b, "\n2 ");
        dialog_put_msg(s, MSG_RESUME_RESTART, NULL, b);
        return;
    }
    sc = entry_screen(s, e);
    if (sc->kind == KIND_LESSON) {
        dialog_lesson_content(s, b);
        return;
    }
    if (sc->kind == KIND_LIST)
        want_details(s);
    if (sc->kind == KIND_LIST && c->ntrainings == 0) {
        dialog_put_rich(s, e->flow, &sc->empty, sc->sep, b);
        return;
    }
    dialog_put_rich(s, e->flow, &sc->prompt, sc->sep, b);
    for (i = 0; i < sc->nopts; i++) {
        if (!dialog_option_ok(s, e->flow, sc, i))
            continue;
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
