/*
 * The dialog session engine: one session walks the screens of a dialog set as a stack of
 * entries (one per screen shown, with its answer), one input at a time: answers, 0 back,
 * 00 menu, 99 next page, the resume prompt of a draft and its silent replay. Screens are
 * rendered by dialog_text.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dialog.h"
#include "dialog_int.h"
#include "gsm7.h"
#include "parse.h"

static void
enter_state(struct dialog_session *s, enum state st)
{
    s->state = st;
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
        dialog_screen_content(s, &b);
        n = dialog_emit(s, out, content, 0, s->page);
        s->page %= n;
        return n;
    case ST_COMMIT:
        out->action = s->set->flows[cur_flow(s)].action;
        out->screen[0] = '\0';
        return 1;
    default:
        dialog_put_msg(s, MSG_ENDED, NULL, &b);
        s->reason[0] = '\0';
        return dialog_emit(s, out, content, 1, 0);
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
        dialog_put_rich(s, flow, r, sep, &b);
    else
        dialog_put_msg(s, m, NULL, &b);
    s->reason[0] = '\0';
    enter_state(s, ST_ENDED);
    dialog_emit(s, out, content, 1, 0);
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
        if (dialog_cond_ok(s, flow, &f->screens[i].when))
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
    if (sc->kind == KIND_LESSON) {
        /* her next module's first screen, recorded as read */
        s->stack[s->depth - 1].item = 0;
        if (!replay)
            dialog_lesson_first(s, &out->lesson);
    }
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

    return s->state == ST_ASK &&
           ((s->set->flows[flow].action != DIALOG_ACT_NONE && has_answers(s, flow)) ||
            dialog_lesson_in_progress(s));
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
        dialog_expand(s, cur_flow(s), tr(s, &sc->invalid), &x, 0, &b);
    else
        dialog_put_msg(s, m, &x, &b);
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
        memcpy(out->lang, dialog_lang_names[s->lang], 3);
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
    const struct dialog_training *t = dialog_flow_training(s, cur_flow(s));
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

/* A lesson step (dialog_lesson.c): the input kept on this entry, the next step pushed. */
static enum step
input_lesson(struct dialog_session *s, struct dialog_out *out, const struct screen *sc,
             const char *in, size_t len, int replay)
{
    struct dialog_lesson_step ev;
    struct entry *e = &s->stack[s->depth - 1];
    int next = dialog_lesson_next(s, in, len, &ev);

    if (next < 0)
        return invalid(s, out, sc, MSG_INVALID_CHOICE, 0, 0, replay);
    if (s->depth == DIALOG_MAX_INPUTS) {
        if (replay)
            return STEP_STOP;
        finish(s, out, MSG_ENDED, -1, NULL, NULL);
        return STEP_OK;
    }
    e->has_value = 1;
    snprintf(e->value, sizeof(e->value), "%.*s", (int)len, in);
    push(s, e->flow, e->screen);
    s->stack[s->depth - 1].item = next;
    fresh_screen(s);
    if (ev.kind == DIALOG_LESSON_QUIZ) {
        ev.right = dialog_lesson_score(s);
        ev.tag = (unsigned)s->depth;
    }
    if (!replay)
        out->lesson = ev;
    show(s, out);
    return STEP_OK;
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
                if (sc->opts[i].value == v && dialog_option_ok(s, top(s)->flow, sc, i))
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
    case KIND_LESSON:
        return input_lesson(s, out, sc, in, len, replay);
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
    clean(c->track, sizeof(c->track));
    if (strcmp(c->track, "natural") != 0 && strcmp(c->track, "welfare") != 0)
        snprintf(c->track, sizeof(c->track), "none");
    c->follow_up = c->follow_up != 0;
    c->support_opt_in = c->support_opt_in != 0;
    c->exit_survey_done = c->exit_survey_done != 0;
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
    memcpy(out->lang, dialog_lang_names[s->lang], 3);
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
    memcpy(out->lang, dialog_lang_names[s->lang], 3);
}

/* A mark: this head, the reason's bytes, then per entry its head and its value's bytes. */
struct mark_head {
    int lang, state, strikes, code_fails, has_report, wants_details;
    size_t page, depth, reason_len;
    uint64_t report_id;
};

struct mark_entry {
    unsigned char flow, screen;
    int has_value, opt, item;
    size_t value_len;
};

void *
dialog_session_mark(const struct dialog_session *s, size_t *len)
{
    struct mark_head h = {s->lang,       (int)s->state, s->strikes,
                          s->code_fails, s->has_report, s->wants_details,
                          s->page,       s->depth,      strnlen(s->reason, sizeof s->reason - 1),
                          s->report_id};
    size_t i, n = sizeof h + h.reason_len;
    char *m, *p;

    for (i = 0; i < s->depth; i++)
        n += sizeof(struct mark_entry) + strnlen(s->stack[i].value, VALUE_MAX - 1);
    if ((m = malloc(n)) == NULL)
        return NULL;
    memcpy(m, &h, sizeof h);
    memcpy(m + sizeof h, s->reason, h.reason_len);
    p = m + sizeof h + h.reason_len;
    for (i = 0; i < s->depth; i++) {
        const struct entry *e = &s->stack[i];
        struct mark_entry me = {e->flow, e->screen, e->has_value,
                                e->opt,  e->item,   strnlen(e->value, VALUE_MAX - 1)};

        memcpy(p, &me, sizeof me);
        memcpy(p + sizeof me, e->value, me.value_len);
        p += sizeof me + me.value_len;
    }
    *len = n;
    return m;
}

struct dialog_session *
dialog_session_resume(struct dialog_set *set, const struct dialog_ctx *ctx, size_t screen_limit,
                      const void *mark, size_t len)
{
    const char *p = mark, *end = p + len;
    struct dialog_session *s;
    struct mark_head h;
    size_t i;

    if (len < sizeof h)
        return NULL;
    memcpy(&h, p, sizeof h);
    p += sizeof h;
    if (h.depth > DIALOG_MAX_INPUTS || h.reason_len >= sizeof s->reason ||
        h.reason_len > (size_t)(end - p) ||
        (s = dialog_session_new(set, ctx, screen_limit)) == NULL)
        return NULL;
    s->lang = h.lang;
    s->state = (enum state)h.state;
    s->strikes = h.strikes;
    s->code_fails = h.code_fails;
    s->has_report = h.has_report;
    s->wants_details = h.wants_details;
    s->page = h.page;
    s->report_id = h.report_id;
    memcpy(s->reason, p, h.reason_len);
    s->reason[h.reason_len] = '\0';
    p += h.reason_len;
    for (i = 0; i < h.depth; i++) {
        struct entry *e = &s->stack[i];
        struct mark_entry me;

        if ((size_t)(end - p) < sizeof me)
            break;
        memcpy(&me, p, sizeof me);
        p += sizeof me;
        if (me.value_len >= VALUE_MAX || me.value_len > (size_t)(end - p))
            break;
        e->flow = me.flow;
        e->screen = me.screen;
        e->has_value = me.has_value;
        e->opt = me.opt;
        e->item = me.item;
        memcpy(e->value, p, me.value_len);
        e->value[me.value_len] = '\0';
        p += me.value_len;
    }
    if (i < h.depth) {
        dialog_session_free(s);
        return NULL;
    }
    s->depth = h.depth;
    update_path(s);
    return s;
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
    e = dialog_find_answer(s, cur_flow(s), field, strlen(field));
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

int
dialog_session_wants_details(const struct dialog_session *s)
{
    return s->wants_details;
}
