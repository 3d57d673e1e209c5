/*
 * The live USSD sessions: two hash tables (by channel and session id, and by number: a phone
 * holds one dialogue at a time), a list of the sessions of unknown numbers in the order they were
 * last used, what each session holds in bytes, and the bounds on the count and the bytes. A
 * session is freed in one place, the reaper: ussd_session_kill() answers its waiters, unlinks it
 * and queues it, so a call chain that still holds it reads a dead session, never freed memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"
#include "dialog.h"
#include "log.h"
#include "metrics.h"
#include "ussd_int.h"

#define USSD_MIN_BUCKETS 1024
/* a finished session is kept this long to answer a retried final hop */
#define USSD_DONE_KEEP_MS 30000
/* what a new session is counted at before it has loaded anything */
#define USSD_NEW_ROOM 512
/* sessions looked at for one eviction: the least recently used are idle but for a rare one */
#define USSD_EVICT_SCAN 64

struct ussd_table {
    struct ussd_session **b;
    size_t nb, n;
};

struct ussd_list {
    struct ussd_session *head, *tail;
};

static struct {
    struct ussd_table by_key, by_msisdn;
    size_t bytes;           /* held by the live sessions */
    struct ussd_list lru;   /* unknown numbers, least recently used first */
    struct ussd_list dirty; /* sessions with a draft to write */
    struct ussd_session *dead;
    struct event *reap_ev;
    size_t max_sessions, max_bytes;
    long long idle_ms, unknown_idle_ms;
} sess = {.max_sessions = 200000,
          .max_bytes = (size_t)100 << 20,
          .idle_ms = 180000,
          .unknown_idle_ms = 30000};

long long
ussd_session_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint32_t
ussd_hash(const char *p, size_t len)
{
    uint32_t h = 2166136261u;

    while (len-- > 0)
        h = (h ^ (unsigned char)*p++) * 16777619u;
    return h;
}

int
ussd_session_key(struct ussd_key *k, const char *channel, const char *session_id)
{
    size_t c = strlen(channel), i = strlen(session_id);

    if (c + i + 2 > sizeof k->b)
        return -1;
    memcpy(k->b, channel, c + 1);
    memcpy(k->b + c + 1, session_id, i + 1);
    k->len = c + i + 2;
    return 0;
}

void
ussd_session_key_of(const struct ussd_session *s, struct ussd_key *k)
{
    memcpy(k->b, s->key, s->key_len);
    k->len = s->key_len;
}

/* ---- the two tables: chains through next_key or next_msisdn */

static struct ussd_session **
ussd_link(struct ussd_session *s, int by_msisdn)
{
    return by_msisdn ? &s->next_msisdn : &s->next_key;
}

static uint32_t
ussd_hash_of(const struct ussd_session *s, int by_msisdn)
{
    return by_msisdn ? ussd_hash(s->msisdn, strlen(s->msisdn)) : ussd_hash(s->key, s->key_len);
}

/* Rehashes into nb buckets; out of memory, the table stays as it was (slower, still right). */
static void
ussd_table_resize(struct ussd_table *t, int by_msisdn, size_t nb)
{
    struct ussd_session **b = calloc(nb, sizeof *b), *s, *next;
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < t->nb; i++)
        for (s = t->b[i]; s != NULL; s = next) {
            struct ussd_session **head = &b[ussd_hash_of(s, by_msisdn) % nb];

            next = *ussd_link(s, by_msisdn);
            *ussd_link(s, by_msisdn) = *head;
            *head = s;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
}

static void
ussd_table_add(struct ussd_table *t, int by_msisdn, struct ussd_session *s)
{
    struct ussd_session **head;

    if (t->n + 1 > t->nb)
        ussd_table_resize(t, by_msisdn, t->nb ? t->nb * 2 : USSD_MIN_BUCKETS);
    head = &t->b[ussd_hash_of(s, by_msisdn) % t->nb];
    *ussd_link(s, by_msisdn) = *head;
    *head = s;
    t->n++;
}

static void
ussd_table_remove(struct ussd_table *t, int by_msisdn, struct ussd_session *s)
{
    struct ussd_session **pp = &t->b[ussd_hash_of(s, by_msisdn) % t->nb];

    while (*pp != NULL && *pp != s)
        pp = ussd_link(*pp, by_msisdn);
    if (*pp == s) {
        *pp = *ussd_link(s, by_msisdn);
        t->n--;
    }
}

/* sized to the load: halved when a quarter full, never under the minimum */
static void
ussd_table_shrink(struct ussd_table *t, int by_msisdn)
{
    if (t->nb > USSD_MIN_BUCKETS && t->n < t->nb / 4)
        ussd_table_resize(t, by_msisdn, t->nb / 2);
}

struct ussd_session *
ussd_session_find(const struct ussd_key *k)
{
    struct ussd_session *s;

    if (sess.by_key.nb == 0)
        return NULL;
    for (s = sess.by_key.b[ussd_hash(k->b, k->len) % sess.by_key.nb]; s != NULL; s = s->next_key)
        if (s->key_len == k->len && memcmp(s->key, k->b, k->len) == 0)
            return s;
    return NULL;
}

struct ussd_session *
ussd_session_by_msisdn(const char *msisdn)
{
    struct ussd_session *s;

    if (sess.by_msisdn.nb == 0)
        return NULL;
    for (s = sess.by_msisdn.b[ussd_hash(msisdn, strlen(msisdn)) % sess.by_msisdn.nb]; s != NULL;
         s = s->next_msisdn)
        if (strcmp(s->msisdn, msisdn) == 0)
            return s;
    return NULL;
}

void
ussd_session_unindex(struct ussd_session *s)
{
    if (s->indexed)
        ussd_table_remove(&sess.by_msisdn, 1, s);
    s->indexed = 0;
}

/* ---- the two lists: a session is in one at most (unknown numbers never have a draft) */

static void
ussd_list_remove(struct ussd_list *l, struct ussd_session *s)
{
    if (s->link_prev != NULL)
        s->link_prev->link_next = s->link_next;
    else
        l->head = s->link_next;
    if (s->link_next != NULL)
        s->link_next->link_prev = s->link_prev;
    else
        l->tail = s->link_prev;
    s->link_prev = s->link_next = NULL;
}

static void
ussd_list_append(struct ussd_list *l, struct ussd_session *s)
{
    s->link_prev = l->tail;
    s->link_next = NULL;
    if (l->tail != NULL)
        l->tail->link_next = s;
    else
        l->head = s;
    l->tail = s;
}

static void
ussd_lru_remove(struct ussd_session *s)
{
    if (s->in_lru)
        ussd_list_remove(&sess.lru, s);
    s->in_lru = 0;
}

static void
ussd_lru_append(struct ussd_session *s)
{
    if (s->in_dirty)
        return;
    ussd_list_append(&sess.lru, s);
    s->in_lru = 1;
}

void
ussd_session_set_dirty(struct ussd_session *s, int dirty)
{
    s->draft_dirty = dirty != 0;
    if (s->draft_dirty && !s->in_dirty && !s->in_lru && s->state != USSD_GONE) {
        ussd_list_append(&sess.dirty, s);
        s->in_dirty = 1;
    } else if (!s->draft_dirty && s->in_dirty) {
        ussd_list_remove(&sess.dirty, s);
        s->in_dirty = 0;
    }
}

void
ussd_session_foreach_dirty(void (*fn)(struct ussd_session *, void *), void *arg)
{
    struct ussd_session *s, *next;

    for (s = sess.dirty.head; s != NULL; s = next) {
        next = s->link_next;
        fn(s, arg);
    }
}

void
ussd_session_touch(struct ussd_session *s)
{
    s->touched = ussd_session_now_ms();
    if (s->in_lru) {
        ussd_lru_remove(s);
        ussd_lru_append(s);
    }
}

/* Every change of a session's state goes through here, so the debug log can follow it. */
void
ussd_session_enter(struct ussd_session *s, enum ussd_state state)
{
    static const char *const names[] = {"loading", "ready", "saving", "done", "gone"};
    char m[24];

    if (state != s->state && log_get_level() >= LOG_DEBUG)
        log_debug("ussd_state", "channel=%s session=%s msisdn=%s from=%s to=%s", ussd_channel(s),
                  ussd_session_id(s), log_msisdn(s->msisdn, m, sizeof m), names[s->state],
                  names[state]);
    s->state = (uint8_t)state;
}

/* ---- waiting hops */

int
ussd_session_wait(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                  enum ussd_input_kind kind, const char *text, size_t len, int front)
{
    struct ussd_waiter *w, **pp;

    if ((!front && s->nwaiters >= USSD_MAX_WAITERS) || s->nwaiters == UINT8_MAX ||
        (w = malloc(sizeof *w + len + 1)) == NULL)
        return -1;
    w->r = r;
    w->reply = reply;
    w->kind = kind;
    memcpy(w->text, text, len);
    w->text[len] = '\0';
    w->len = len;
    pp = &s->waiters;
    if (!front)
        while (*pp != NULL)
            pp = &(*pp)->next;
    w->next = *pp;
    *pp = w;
    s->nwaiters++;
    ussd_session_account(s);
    return 0;
}

struct ussd_waiter *
ussd_session_next_waiter(struct ussd_session *s)
{
    struct ussd_waiter *w = s->waiters;

    if (w != NULL) {
        s->waiters = w->next;
        s->nwaiters--;
        ussd_session_account(s);
    }
    return w;
}

void
ussd_session_fail_waiters(struct ussd_session *s, const char *text)
{
    struct ussd_waiter *w;

    while ((w = s->waiters) != NULL) {
        s->waiters = w->next;
        w->reply(w->r, 1, text);
        free(w);
    }
    s->nwaiters = 0;
    if (s->state != USSD_GONE)
        ussd_session_account(s);
}

/* ---- what a session holds */

static size_t
ussd_chunk(size_t n)
{
    /* about what malloc takes for n bytes: a header, 16-byte steps */
    return n == 0 ? 0 : (n + 8 + 15) & ~(size_t)15;
}

static size_t
ussd_text_len(const char *t)
{
    const char *p = t;
    int i;

    for (i = 0; i < 4; i++)
        p += strlen(p) + 1;
    return (size_t)(p - t);
}

static int ussd_evict_one(const struct ussd_session *except);

void
ussd_session_account(struct ussd_session *s)
{
    size_t b = ussd_chunk(sizeof *s + s->key_len);
    const struct ussd_waiter *w;

    if (s->state == USSD_GONE)
        return;
    if (s->text != NULL)
        b += ussd_chunk(ussd_text_len(s->text));
    if (s->asst != NULL)
        b += ussd_chunk(ussd_assistant_size());
    if (s->details != NULL)
        b += ussd_chunk(sizeof *s->details +
                        s->details->ntrainings * sizeof(struct dialog_training));
    if (s->path != NULL)
        b += ussd_chunk((size_t)s->path_len + 1);
    if (s->screen != NULL)
        b += ussd_chunk(strlen(s->screen) + 1);
    if (s->draft_path != NULL)
        b += ussd_chunk(strlen(s->draft_path) + 1);
    if (s->mark != NULL)
        b += ussd_chunk(s->mark_len);
    for (w = s->waiters; w != NULL; w = w->next)
        b += ussd_chunk(sizeof *w + w->len + 1);
    sess.bytes = sess.bytes - s->bytes + b;
    s->bytes = (uint32_t)b;
    while (sess.bytes > sess.max_bytes && ussd_evict_one(s) == 0)
        ;
}

/* Sets a string the session holds to len bytes of v (NULL: none); the caller accounts. */
static int
ussd_set_str(char **field, const char *v, size_t len)
{
    char *p = NULL;

    if (v != NULL) {
        if ((p = realloc(*field, len + 1)) == NULL)
            return -1;
        memcpy(p, v, len);
        p[len] = '\0';
    } else {
        free(*field);
    }
    *field = p;
    return 0;
}

/* The path or the context changes: the dialog held is no longer where they lead. */
static void
ussd_session_drop_mark(struct ussd_session *s)
{
    free(s->mark);
    s->mark = NULL;
    s->mark_len = 0;
}

int
ussd_session_set_path(struct ussd_session *s, const char *p, size_t len)
{
    ussd_session_drop_mark(s);
    if (len > USSD_PATH_MAX || ussd_set_str(&s->path, len > 0 ? p : NULL, len) == -1)
        return -1;
    s->path_len = (uint16_t)len;
    s->lead_empty = 0;
    ussd_session_account(s);
    ussd_state_note(s);
    return 0;
}

int
ussd_session_append(struct ussd_session *s, const char *in, size_t len)
{
    size_t need = len + (s->path_len > 0 ? 1 : 0);
    char *p;

    ussd_session_drop_mark(s);
    if (s->path_len + need > USSD_PATH_MAX)
        return -1;
    if (need == 0) {
        /* an empty first input leaves no mark in the path: count it for the replay */
        if (s->lead_empty == UINT8_MAX)
            return -1;
        s->lead_empty++;
        return 0;
    }
    if ((p = realloc(s->path, (size_t)s->path_len + need + 1)) == NULL)
        return -1;
    if (s->path_len > 0)
        p[s->path_len++] = '*';
    memcpy(p + s->path_len, in, len);
    s->path_len = (uint16_t)(s->path_len + len);
    p[s->path_len] = '\0';
    s->path = p;
    ussd_session_account(s);
    ussd_state_note(s);
    return 0;
}

int
ussd_session_set_screen(struct ussd_session *s, const char *screen, int end)
{
    if (ussd_set_str(&s->screen, screen, screen != NULL ? strlen(screen) : 0) == -1)
        return -1;
    s->end = end != 0;
    ussd_session_account(s);
    return 0;
}

int
ussd_session_set_draft(struct ussd_session *s, const char *path, const char *flow)
{
    if (ussd_set_str(&s->draft_path, path, path != NULL ? strlen(path) : 0) == -1)
        return -1;
    s->draft_flow = path != NULL ? flow : NULL;
    ussd_session_account(s);
    return 0;
}

static struct ussd_details *
ussd_details_new(const struct dialog_ctx *c)
{
    size_t n = c->ntrainings < DIALOG_MAX_TRAININGS ? c->ntrainings : DIALOG_MAX_TRAININGS;
    struct ussd_details *d;

    if (!c->has_last && n == 0)
        return NULL;
    if ((d = malloc(sizeof *d + n * sizeof d->trainings[0])) == NULL)
        return NULL;
    d->has_last = c->has_last;
    d->last_status = c->last_status;
    d->last_workers = c->last_workers;
    d->last_revenue = c->last_revenue;
    memcpy(d->last_date, c->last_date, sizeof d->last_date);
    d->ntrainings = n;
    memcpy(d->trainings, c->trainings, n * sizeof d->trainings[0]);
    return d;
}

int
ussd_session_set_ctx(struct ussd_session *s, const struct dialog_ctx *c)
{
    const char *flow = c->has_draft ? c->draft_flow : "", *path = c->has_draft ? c->draft_path : "";
    size_t l[4] = {strnlen(c->kpm_name, sizeof c->kpm_name - 1),
                   strnlen(c->assistant_name, sizeof c->assistant_name - 1),
                   strnlen(flow, sizeof c->draft_flow - 1),
                   strnlen(path, sizeof c->draft_path - 1)};
    const char *v[4] = {c->kpm_name, c->assistant_name, flow, path};
    char *t, *p;
    int i;

    if ((t = malloc(l[0] + l[1] + l[2] + l[3] + 4)) == NULL)
        return -1;
    ussd_session_drop_mark(s);
    for (p = t, i = 0; i < 4; i++) {
        memcpy(p, v[i], l[i]);
        p[l[i]] = '\0';
        p += l[i] + 1;
    }
    free(s->text);
    s->text = t;
    s->registered = c->registered != 0;
    s->kpm_id = c->kpm_id;
    s->has_draft = c->has_draft != 0;
    s->track = config_track_parse(c->track) > 0 ? (unsigned)config_track_parse(c->track) : 0;
    s->follow_up = c->follow_up != 0;
    s->support_opt_in = c->support_opt_in != 0;
    s->exit_survey_done = c->exit_survey_done != 0;
    s->lesson_module =
        (int8_t)(c->lesson_module < 0 || c->lesson_module > 127 ? -1 : c->lesson_module);
    snprintf(s->lang0, sizeof s->lang0, "%s", c->lang);
    memcpy(s->lang, s->lang0, sizeof s->lang);
    if (!s->registered && !s->in_lru)
        ussd_lru_append(s);
    else if (s->registered)
        ussd_lru_remove(s);
    ussd_session_account(s);
    return 0;
}

int
ussd_session_set_details(struct ussd_session *s, const struct dialog_ctx *c)
{
    struct ussd_details *d = ussd_details_new(c);

    if (d == NULL && (c->has_last || c->ntrainings > 0))
        return -1;
    ussd_session_drop_mark(s);
    free(s->details);
    s->details = d;
    s->details_loaded = 1;
    ussd_session_account(s);
    return 0;
}

void
ussd_session_ctx(const struct ussd_session *s, struct dialog_ctx *c)
{
    const char *p = s->text;

    memset(c, 0, sizeof *c);
    c->registered = s->registered;
    c->kpm_id = s->kpm_id;
    memcpy(c->lang, s->lang0[0] != '\0' ? s->lang0 : "id", sizeof c->lang);
    if (p != NULL) {
        snprintf(c->kpm_name, sizeof c->kpm_name, "%s", p);
        p += strlen(p) + 1;
        snprintf(c->assistant_name, sizeof c->assistant_name, "%s", p);
        p += strlen(p) + 1;
        snprintf(c->draft_flow, sizeof c->draft_flow, "%s", p);
        p += strlen(p) + 1;
        snprintf(c->draft_path, sizeof c->draft_path, "%s", p);
    }
    c->has_draft = s->has_draft;
    c->details = s->details_loaded;
    snprintf(c->track, sizeof c->track, "%s", config_track_names[s->track % TRACK_COUNT]);
    c->follow_up = s->follow_up;
    c->support_opt_in = s->support_opt_in;
    c->exit_survey_done = s->exit_survey_done;
    c->lesson_module = s->lesson_module;
    if (s->details != NULL) {
        const struct ussd_details *d = s->details;

        c->has_last = d->has_last;
        c->last_status = d->last_status;
        c->last_workers = d->last_workers;
        c->last_revenue = d->last_revenue;
        memcpy(c->last_date, d->last_date, sizeof c->last_date);
        c->ntrainings = d->ntrainings;
        memcpy(c->trainings, d->trainings, d->ntrainings * sizeof c->trainings[0]);
    }
}

struct dialog_session *
ussd_session_dialog(const struct ussd_session *s, struct dialog_out *out)
{
    struct dialog_ctx c;
    struct dialog_session *ds;
    const char *p = s->path, *end = s->path + s->path_len, *star;
    unsigned i;

    ussd_session_ctx(s, &c);
    if ((ds = dialog_session_new(s->set, &c, s->screen_limit)) == NULL)
        return NULL;
    dialog_session_begin(ds, out);
    for (i = 0; i < s->lead_empty; i++)
        dialog_session_input(ds, "", 0, out);
    while (p != NULL && p <= end && s->path_len > 0) {
        if ((star = memchr(p, '*', (size_t)(end - p))) == NULL)
            star = end;
        dialog_session_input(ds, p, (size_t)(star - p), out);
        p = star + 1;
    }
    return ds;
}

struct dialog_session *
ussd_session_resume(const struct ussd_session *s, struct dialog_out *out)
{
    struct dialog_ctx c;
    struct dialog_session *ds;

    if (s->mark == NULL)
        return ussd_session_dialog(s, out);
    ussd_session_ctx(s, &c);
    ds = dialog_session_resume(s->set, &c, s->screen_limit, s->mark, s->mark_len);
    return ds != NULL ? ds : ussd_session_dialog(s, out);
}

void
ussd_session_hold(struct ussd_session *s, const struct dialog_session *ds)
{
    size_t len = 0;
    void *m = dialog_session_mark(ds, &len);

    free(s->mark);
    s->mark = len <= UINT16_MAX ? m : NULL;
    s->mark_len = s->mark != NULL ? (uint16_t)len : 0;
    if (s->mark == NULL)
        free(m);
    ussd_session_account(s);
}

/* ---- the end of a session */

static void
ussd_session_free(struct ussd_session *s)
{
    free(s->text);
    free(s->details);
    free(s->asst);
    free(s->path);
    free(s->screen);
    free(s->draft_path);
    free(s->mark);
    if (s->set != NULL)
        dialog_set_unref(s->set);
    free(s);
}

/* The one place a session is freed: sessions killed since the last time. */
static void
ussd_reap(void)
{
    struct ussd_session *s;

    while ((s = sess.dead) != NULL) {
        sess.dead = s->next_dead;
        ussd_session_free(s);
    }
}

static void
ussd_reap_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    ussd_reap();
}

void
ussd_session_kill(struct ussd_session *s, const char *text)
{
    if (s->state == USSD_GONE)
        return;
    ussd_table_remove(&sess.by_key, 0, s);
    ussd_session_unindex(s);
    ussd_lru_remove(s);
    ussd_session_set_dirty(s, 0);
    sess.bytes -= s->bytes;
    s->bytes = 0;
    /* gone first: answering its waiters must not count it again (nor evict for it) */
    ussd_session_enter(s, USSD_GONE);
    ussd_session_fail_waiters(s, text);
    if (s->pending != NULL)
        s->pending_reply(s->pending, 1, text);
    s->pending = NULL;
    s->next_dead = sess.dead;
    sess.dead = s;
    if (sess.reap_ev != NULL)
        event_active(sess.reap_ev, 0, 0);
}

/* Kills the least recently used idle session of an unknown number (not `except`): 0, or -1 when
 * there is none. */
static int
ussd_evict_one(const struct ussd_session *except)
{
    struct ussd_session *s;
    int n = 0;

    for (s = sess.lru.head; s != NULL && n < USSD_EVICT_SCAN; s = s->link_next, n++) {
        if (s == except || (s->state != USSD_READY && s->state != USSD_DONE) ||
            s->waiters != NULL || s->pending != NULL)
            continue;
        ussd_session_kill(s, "");
        metrics_add(METRIC_USSD_EVICTED, 1);
        return 0;
    }
    return -1;
}

int
ussd_session_admit(void)
{
    while (sess.by_key.n >= sess.max_sessions || sess.bytes + USSD_NEW_ROOM > sess.max_bytes)
        if (ussd_evict_one(NULL) == -1) {
            metrics_add(METRIC_USSD_REFUSED, 1);
            return -1;
        }
    return 0;
}

struct ussd_session *
ussd_session_new(const struct ussd_key *k, const char *msisdn, struct dialog_set *set,
                 unsigned screen_limit)
{
    struct ussd_session *s = calloc(1, sizeof *s + k->len), *old;

    if (s == NULL)
        return NULL;
    memcpy(s->key, k->b, k->len);
    s->key_len = (uint8_t)k->len;
    snprintf(s->msisdn, sizeof s->msisdn, "%s", msisdn);
    s->set = set;
    dialog_set_ref(set);
    s->screen_limit = (uint8_t)(screen_limit > UINT8_MAX ? UINT8_MAX : screen_limit);
    s->touched = ussd_session_now_ms();
    {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        s->started_ms = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    }
    s->state = USSD_LOADING;
    ussd_table_add(&sess.by_key, 0, s);
    if ((old = ussd_session_by_msisdn(msisdn)) != NULL)
        ussd_session_unindex(old);
    ussd_table_add(&sess.by_msisdn, 1, s);
    s->indexed = 1;
    ussd_session_account(s);
    metrics_add(METRIC_USSD_SESSIONS, 1);
    return s;
}

void
ussd_session_foreach(void (*fn)(struct ussd_session *, void *), void *arg)
{
    struct ussd_session *s, *next;
    size_t i;

    for (i = 0; i < sess.by_key.nb; i++)
        for (s = sess.by_key.b[i]; s != NULL; s = next) {
            next = s->next_key;
            fn(s, arg);
        }
}

static void
ussd_sweep_one(struct ussd_session *s, void *arg)
{
    long long now = *(const long long *)arg, limit;

    if (s->state == USSD_LOADING || s->state == USSD_SAVING || s->waiters != NULL ||
        s->pending != NULL || s->draft_dirty || s->draft_inflight)
        return;
    limit = s->state == USSD_DONE ? USSD_DONE_KEEP_MS : sess.idle_ms;
    /* unknown numbers are what a flood is made of: they go sooner */
    if (!s->registered && limit > sess.unknown_idle_ms)
        limit = sess.unknown_idle_ms;
    if (now - s->touched >= limit)
        ussd_session_kill(s, "");
}

void
ussd_session_sweep(void)
{
    long long now = ussd_session_now_ms();

    ussd_session_foreach(ussd_sweep_one, &now);
    ussd_table_shrink(&sess.by_key, 0);
    ussd_table_shrink(&sess.by_msisdn, 1);
    ussd_reap();
}

void
ussd_session_limits(const struct config *cfg)
{
    sess.max_sessions = cfg->ussd.max_sessions;
    sess.max_bytes = (size_t)cfg->ussd.max_session_mb << 20;
    sess.idle_ms = 1000LL * cfg->ussd.session_idle;
    sess.unknown_idle_ms = 1000LL * cfg->ussd.unknown_idle;
}

int
ussd_session_start(struct event_base *base)
{
    if ((sess.reap_ev = event_new(base, -1, 0, ussd_reap_cb, NULL)) == NULL)
        return -1;
    return 0;
}

size_t
ussd_session_count(void)
{
    return sess.by_key.n;
}

size_t
ussd_session_bytes(void)
{
    return sess.bytes;
}

void
ussd_session_free_all(const char *text)
{
    size_t i;

    for (i = 0; i < sess.by_key.nb; i++)
        while (sess.by_key.b[i] != NULL)
            ussd_session_kill(sess.by_key.b[i], text);
    ussd_reap();
    if (sess.reap_ev != NULL)
        event_free(sess.reap_ev);
    sess.reap_ev = NULL;
    free(sess.by_key.b);
    free(sess.by_msisdn.b);
    memset(&sess.by_key, 0, sizeof sess.by_key);
    memset(&sess.by_msisdn, 0, sizeof sess.by_msisdn);
}
