/*
 * Inside the USSD sessions (ussd.h is their public face). What the three parts share:
 *   ussd.c          a hop: the dialog fed, the caller's context loaded, a report committed,
 *                   the network's end of a session, a redial from the same number
 *   ussd_session.c  the live sessions: found by key and by number, what each holds (small:
 *                   the inputs and a compact context; the dialog is rebuilt from them at each
 *                   hop), the bounds on their count and bytes, idle sweeps, and the one place a
 *                   session is freed
 *   ussd_draft.c    resumable drafts, written behind in batches
 * Everything runs on the loop thread.
 */
#ifndef KABAR_USSD_INT_H
#define KABAR_USSD_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dialog.h"
#include "ussd.h"

struct config;
struct event_base;

/* channel NUL session id NUL */
#define USSD_KEY 100
/* bytes of a session's inputs, '*'-joined */
#define USSD_PATH_MAX 1024
/* hops of one session waiting for its context or commit; load generators send many at once */
#define USSD_MAX_WAITERS 64

enum ussd_state {
    USSD_LOADING, /* the caller's context is being read */
    USSD_READY,
    USSD_SAVING, /* a report is being committed */
    USSD_DONE,   /* END sent; kept to answer a retried final hop the same way */
    USSD_GONE    /* killed: answered, unlinked, freed by the reaper; nothing may use it */
};

struct ussd_key {
    char b[USSD_KEY];
    size_t len;
};

/* A hop waiting for its session's database work. */
struct ussd_waiter {
    struct ussd_waiter *next;
    struct http_req *r;
    ussd_reply_fn reply;
    enum ussd_input_kind kind;
    size_t len;
    char text[];
};

/* The caller's trainings and last report: only the sessions whose dialog shows them load them. */
struct ussd_details {
    int has_last;
    unsigned last_status, last_workers;
    uint64_t last_revenue;
    char last_date[11];
    size_t ntrainings;
    struct dialog_training trainings[];
};

/*
 * One live session. Small on purpose (anyone with a channel token can open many): strings are
 * allocated at their length, the dialog_session is not kept between hops but rebuilt from the
 * context and the path, which the engine replays deterministically.
 */
struct ussd_session {
    struct ussd_session *next_key, *next_msisdn; /* hash chains */
    /* in one list at most: unknown numbers in the least recently used order, registered callers
     * while they have a draft to write */
    struct ussd_session *link_prev, *link_next;
    struct ussd_session *next_dead;
    struct dialog_set *set; /* the dialogs this session started with (a reference) */
    /* kpm name NUL assistant name NUL offered draft's flow NUL its path NUL; NULL until loaded */
    char *text;
    struct ussd_details *details; /* NULL until a details load, and when there is nothing */
    struct ussd_asst *asst;       /* an assistant's session (ussd_assistant.c); NULL: a KPM's */
    char *path;                   /* the inputs processed so far, '*'-joined; NULL: none */
    char *screen;                 /* the last screen sent; NULL: none yet */
    char *draft_path;             /* the draft to write; NULL: none */
    /* the dialog where path (and lead_empty) left it, with this context (dialog_session_mark);
     * NULL: none held, the next hop replays the path. Any change of path or context drops it. */
    void *mark;
    const char *draft_flow; /* its flow's name, inside set */
    struct ussd_waiter *waiters;
    struct http_req *pending; /* the hop waiting for its commit */
    ussd_reply_fn pending_reply;
    long long touched; /* monotonic ms */
    long long started_ms;
    uint64_t kpm_id;
    uint32_t bytes; /* what this session holds, for the byte bound */
    uint16_t path_len;
    uint16_t mark_len;
    uint8_t lead_empty; /* empty inputs fed before the path had any: the path cannot show them */
    uint8_t nwaiters;
    uint8_t screen_limit;
    uint8_t state;        /* enum ussd_state */
    int8_t lesson_module; /* dialog_ctx.lesson_module: her next module, -1 all passed */
    unsigned registered : 1, details_loaded : 1, has_draft : 1, end : 1, over : 1;
    unsigned draft_written : 1, draft_dirty : 1, draft_delete : 1, draft_inflight : 1;
    unsigned indexed : 1, in_lru : 1, in_dirty : 1;
    /* a Hubtel session: where it is goes to ussd_states (ussd_draft.c); queued for that now; a
     * row of it may exist */
    unsigned keep_state : 1, state_queued : 1, state_written : 1;
    /* the KPM's track (enum config_track) and the rest of her graduation context */
    unsigned track : 2, follow_up : 1, support_opt_in : 1, exit_survey_done : 1;
    char lang0[3]; /* the language the session began in: replays start from it */
    char lang[3];  /* the language now */
    char msisdn[17];
    uint8_t key_len;
    char key[]; /* channel NUL session id NUL */
};

static inline const char *
ussd_channel(const struct ussd_session *s)
{
    return s->key;
}

static inline const char *
ussd_session_id(const struct ussd_session *s)
{
    return s->key + strlen(s->key) + 1;
}

/* ussd_session.c */
long long ussd_session_now_ms(void);
int ussd_session_key(struct ussd_key *k, const char *channel, const char *session_id);
void ussd_session_key_of(const struct ussd_session *s, struct ussd_key *k);
int ussd_session_start(struct event_base *base);
void ussd_session_limits(const struct config *cfg);
/* Room for one more session, made by dropping idle sessions of unknown numbers: 0, or -1. */
int ussd_session_admit(void);
/* A new session in USSD_LOADING, found by key and by its number (the newest of that number). */
struct ussd_session *ussd_session_new(const struct ussd_key *k, const char *msisdn,
                                      struct dialog_set *set, unsigned screen_limit);
struct ussd_session *ussd_session_find(const struct ussd_key *k);
struct ussd_session *ussd_session_by_msisdn(const char *msisdn);
void ussd_session_unindex(struct ussd_session *s); /* no longer the number's newest */
void ussd_session_touch(struct ussd_session *s);
void ussd_session_enter(struct ussd_session *s, enum ussd_state state);
/* Answers its waiters with text and ends it: state USSD_GONE, unlinked from everything, freed
 * later by the reaper, so a caller up the stack may still read it (and must stop there). */
void ussd_session_kill(struct ussd_session *s, const char *text);
/* Recounts what s holds after a change; drops idle unknown numbers while over the byte bound. */
void ussd_session_account(struct ussd_session *s);
void ussd_session_foreach(void (*fn)(struct ussd_session *, void *), void *arg);
/* Whether its draft is to be written (and so in the list the flush walks). */
void ussd_session_set_dirty(struct ussd_session *s, int dirty);
void ussd_session_foreach_dirty(void (*fn)(struct ussd_session *, void *), void *arg);
void ussd_session_sweep(void);
size_t ussd_session_count(void);
size_t ussd_session_bytes(void);
void ussd_session_free_all(const char *text);

/* the strings a session holds, each at its length: 0, or -1 (out of memory, s unchanged) */
int ussd_session_set_path(struct ussd_session *s, const char *p, size_t len);
int ussd_session_append(struct ussd_session *s, const char *in, size_t len);
int ussd_session_set_screen(struct ussd_session *s, const char *screen, int end);
int ussd_session_set_draft(struct ussd_session *s, const char *path, const char *flow);
/* The first load's context (no details; a draft offer as decided), kept compact: 0 or -1. */
int ussd_session_set_ctx(struct ussd_session *s, const struct dialog_ctx *c);
/* The caller's trainings and last report, from a details load: 0 or -1. */
int ussd_session_set_details(struct ussd_session *s, const struct dialog_ctx *c);
void ussd_session_ctx(const struct ussd_session *s, struct dialog_ctx *c);
/* The session's dialog rebuilt: begun, then its path replayed; out is the last screen. */
struct dialog_session *ussd_session_dialog(const struct ussd_session *s, struct dialog_out *out);
/* The dialog where the path left it: from the mark held, else replayed (out: its last screen);
 * with a mark, out is not set (the caller feeds an input next, which sets it). */
struct dialog_session *ussd_session_resume(const struct ussd_session *s, struct dialog_out *out);
/* Holds where ds is, for the next hop to go on from: ds must be where the path left it. */
void ussd_session_hold(struct ussd_session *s, const struct dialog_session *ds);

/* waiting hops, in order; front: the hop being undone, which a full queue must not refuse */
int ussd_session_wait(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                      enum ussd_input_kind kind, const char *text, size_t len, int front);
struct ussd_waiter *ussd_session_next_waiter(struct ussd_session *s);
void ussd_session_fail_waiters(struct ussd_session *s, const char *text);

/* ussd.c: the hops that waited for this session's database work, in order */
void ussd_serve_waiters(struct ussd_session *s);

/* ussd_assistant.c: the caller is an assistant (her number is in `assistants`, no KPM's) */
struct ussd_asst;
/* Makes s hers, in her language, with her open alerts counted: 0, or -1 (out of memory, or the
 * dialogs have no `assistant` texts: then she is answered as an unknown number). */
int ussd_assistant_begin(struct ussd_session *s, uint64_t id, const char *name, const char *lang,
                         unsigned nopen);
/* Her menu as the session's first screen. */
void ussd_assistant_first(struct ussd_session *s, const struct config *cfg);
/* One hop of her session (not a retry: ussd.c answers those from the last screen). */
void ussd_assistant_feed(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                         enum ussd_input_kind kind, const char *text, size_t len);
size_t ussd_assistant_size(void);

/* ussd_draft.c */
void ussd_draft_mark(struct ussd_session *s, const struct dialog_session *ds,
                     const struct dialog_out *out);
void ussd_draft_flush(const struct config *cfg, int stopping);
/* Writes s's draft now, whatever the quiet time (its session was ended by a redial). */
void ussd_draft_write_now(struct ussd_session *s, const struct config *cfg);
/* s's path changed: a session that keeps its state has it written at the next flush */
void ussd_state_note(struct ussd_session *s);

#endif
