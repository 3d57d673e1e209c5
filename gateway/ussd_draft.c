/*
 * Resumable drafts: the inputs of a report in progress, written behind in batches so a hop never
 * waits for them. A draft is written once its session has been quiet a moment (a session that
 * finishes sooner never needs one), at once when the network or a redial ended the session, and
 * deleted when the report is saved or abandoned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "dialog.h"
#include "http.h"
#include "lease.h"
#include "log.h"
#include "parse.h"
#include "ussd_int.h"

/* a draft is written once its session has been quiet this long: a person takes seconds per
 * answer, and a session that finishes sooner never needs one */
#define USSD_DRAFT_QUIET_MS 1000

static void ussd_state_flush(int stopping);

struct ussd_draft_rec {
    struct ussd_key key;
    char msisdn[17];
    char channel[33];
    char session_id[65];
    char flow[33];
    char path[USSD_PATH_MAX + 1];
    uint64_t kpm_id;
    unsigned version;
    int del;
};

struct ussd_draft_job {
    struct ussd_draft_rec *recs;
    size_t n, cap;
    unsigned window;
    long long now;
    int stopping;
};

void
ussd_draft_mark(struct ussd_session *s, const struct dialog_session *ds,
                const struct dialog_out *out)
{
    if (ds == NULL || !s->registered)
        return;
    if (dialog_session_in_report(ds)) {
        const char *p = dialog_session_draft_path(ds);

        if (s->draft_path == NULL || strcmp(p, s->draft_path) != 0 || s->draft_delete) {
            if (ussd_session_set_draft(s, p, dialog_session_flow(ds)) == -1)
                return;
            ussd_session_set_dirty(s, 1);
            s->draft_delete = 0;
        }
    } else if (out->draft_discard || (s->has_draft && s->draft_path != NULL)) {
        (void)ussd_session_set_draft(s, NULL, NULL);
        ussd_session_set_dirty(s, 1);
        s->draft_delete = 1;
    }
}

static int
ussd_draft_work(struct db_conn *c, void *arg)
{
    struct ussd_draft_job *j = arg;
    size_t i;
    int err;

    db_txn_name(c, "ussd_drafts");
    for (i = 0; i < j->n; i++) {
        const struct ussd_draft_rec *d = &j->recs[i];

        if (d->del) {
            struct db_param p[] = {DB_STR(d->msisdn)};

            err = db_exec(c, "DELETE FROM ussd_drafts WHERE msisdn = ?", p, 1, NULL, NULL);
        } else {
            struct db_param p[] = {DB_STR(d->msisdn),     DB_U64(d->kpm_id), DB_STR(d->channel),
                                   DB_STR(d->session_id), DB_STR(d->flow),   DB_STR(d->path),
                                   DB_U64(d->version),    DB_U64(j->window)};

            err = db_exec(c,
                          "INSERT INTO ussd_drafts (msisdn, kpm_id, channel, session_id, flow,"
                          " input_path, dialog_version, updated_at, expires_at)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, NOW(3), NOW(3) + INTERVAL ? SECOND)"
                          " ON DUPLICATE KEY UPDATE kpm_id = VALUES(kpm_id),"
                          " channel = VALUES(channel), session_id = VALUES(session_id),"
                          " flow = VALUES(flow), input_path = VALUES(input_path),"
                          " dialog_version = VALUES(dialog_version), updated_at = NOW(3),"
                          " expires_at = VALUES(expires_at)",
                          p, 8, NULL, NULL);
        }
        if (err != 0)
            return err;
    }
    return 0;
}

static void
ussd_draft_done(int err, void *arg)
{
    struct ussd_draft_job *j = arg;
    struct ussd_session *s;
    size_t i;

    for (i = 0; i < j->n; i++) {
        if ((s = ussd_session_find(&j->recs[i].key)) == NULL)
            continue;
        s->draft_inflight = 0;
        if (err != 0)
            ussd_session_set_dirty(s, 1); /* try again at the next flush */
    }
    if (err != 0)
        log_warn("ussd_draft_write_failed", "err=%d drafts=%zu", err, j->n);
    free(j->recs);
    free(j);
}

/* Puts s's draft into the job, now in flight; 0, or -1 when the job cannot grow. */
static int
ussd_draft_add(struct ussd_draft_job *j, struct ussd_session *s)
{
    struct ussd_draft_rec *d;

    if (j->n == j->cap) {
        size_t ncap = j->cap ? j->cap * 2 : 16;
        struct ussd_draft_rec *nr = realloc(j->recs, ncap * sizeof *nr);

        if (nr == NULL)
            return -1;
        j->recs = nr;
        j->cap = ncap;
    }
    d = &j->recs[j->n++];
    memset(d, 0, sizeof *d);
    ussd_session_key_of(s, &d->key);
    snprintf(d->msisdn, sizeof d->msisdn, "%s", s->msisdn);
    snprintf(d->channel, sizeof d->channel, "%s", ussd_channel(s));
    snprintf(d->session_id, sizeof d->session_id, "%s", ussd_session_id(s));
    snprintf(d->flow, sizeof d->flow, "%s", s->draft_flow != NULL ? s->draft_flow : "");
    snprintf(d->path, sizeof d->path, "%s", s->draft_path != NULL ? s->draft_path : "");
    d->kpm_id = s->kpm_id;
    d->version = dialog_set_version(s->set);
    d->del = s->draft_delete;
    s->draft_written = !d->del;
    ussd_session_set_dirty(s, 0);
    s->draft_inflight = 1;
    return 0;
}

static void
ussd_draft_take(struct ussd_session *s, void *arg)
{
    struct ussd_draft_job *j = arg;

    if (!s->draft_dirty || s->draft_inflight ||
        (!s->over && !j->stopping && j->now - s->touched < USSD_DRAFT_QUIET_MS))
        return;
    /* nothing to delete if this session never wrote one and none was offered */
    if (s->draft_delete && !s->draft_written && !s->has_draft) {
        ussd_session_set_dirty(s, 0);
        return;
    }
    (void)ussd_draft_add(j, s);
}

static void
ussd_draft_submit(struct ussd_draft_job *j)
{
    if (j->n == 0 || db_submit(ussd_draft_work, ussd_draft_done, j, DB_TXN) == -1)
        ussd_draft_done(j->n == 0 ? 0 : DB_EUNAVAILABLE, j);
}

void
ussd_draft_flush(const struct config *cfg, int stopping)
{
    struct ussd_draft_job *j;

    if (cfg == NULL || !db_is_up() || (j = calloc(1, sizeof *j)) == NULL)
        return;
    j->window = cfg->ussd.resume_window;
    j->now = ussd_session_now_ms();
    j->stopping = stopping;
    ussd_session_foreach_dirty(ussd_draft_take, j);
    ussd_draft_submit(j);
    ussd_state_flush(stopping);
}

void
ussd_draft_write_now(struct ussd_session *s, const struct config *cfg)
{
    struct ussd_draft_job *j;

    s->over = 1; /* and if a write is in flight, the next flush takes this one */
    if (cfg == NULL || !s->draft_dirty || s->draft_inflight || !db_is_up() ||
        (j = calloc(1, sizeof *j)) == NULL)
        return;
    j->window = cfg->ussd.resume_window;
    j->now = ussd_session_now_ms();
    ussd_draft_take(s, j);
    ussd_draft_submit(j);
}

/*
 * Hubtel sessions across kabard: Hubtel sends only the latest input, so where a session is (its
 * path) goes to ussd_states, written behind at each flush (USSD_FLUSH_MS) for the sessions whose
 * path changed, one transaction for all of them and one in flight at a time (so two writes of a
 * session never cross). A hop that arrives at a kabard that does not hold its session (the one
 * that held it died; HAProxy sent it here) reads the row and replays the path as an Africa's
 * Talking hop would carry it. A kill loses at most what changed since the last write: the
 * screen the caller is looking at, which the next hop then shows again (the aggregator's
 * Sequence tells).
 */
#define USSD_STATE_PURGE_MS 60000
#define USSD_STATE_MAX_AGE "1 HOUR"

struct ussd_state_rec {
    char channel[33];
    char session_id[65];
    char msisdn[17];
    char path[USSD_PATH_MAX + 1];
    unsigned inputs;
    int del;
};

struct ussd_state_job {
    struct ussd_state_rec *recs;
    size_t n;
};

static struct {
    struct ussd_key *keys; /* sessions whose path changed since the last write */
    size_t n, cap;
    int inflight;
    long long purged_ms;
} st;

void
ussd_state_note(struct ussd_session *s)
{
    if (!s->keep_state || s->state_queued)
        return;
    if (st.n == st.cap) {
        size_t ncap = st.cap ? st.cap * 2 : 64;
        struct ussd_key *nk = realloc(st.keys, ncap * sizeof *nk);

        if (nk == NULL)
            return; /* not written: a kill would lose more than the screen */
        st.keys = nk;
        st.cap = ncap;
    }
    ussd_session_key_of(s, &st.keys[st.n++]);
    s->state_queued = 1;
}

static unsigned
ussd_state_inputs(const char *path, size_t len)
{
    unsigned n = len > 0;
    size_t i;

    for (i = 0; i < len; i++)
        n += path[i] == '*';
    return n;
}

/* multi-row, in the sizes of db.h (a batch padded by repeating its last row, which both take
 * as a no-op) */
static const char *const ussd_state_put_sql[DB_BATCH_SIZES] = DB_BATCH_SQL(
    "INSERT INTO ussd_states (channel, session_id, msisdn, input_path, inputs,"
    " updated_at) VALUES ",
    "(?, ?, ?, ?, ?, NOW(3))",
    " ON DUPLICATE KEY UPDATE msisdn = VALUES(msisdn), input_path = VALUES(input_path),"
    " inputs = VALUES(inputs), updated_at = NOW(3)");
static const char *const ussd_state_del_sql[DB_BATCH_SIZES] =
    DB_BATCH_SQL("DELETE FROM ussd_states WHERE (channel, session_id) IN (", "(?, ?)", ")");

/* the rows of one kind (del) from *next on, DB_BATCH_MAX at most, in one statement */
static int
ussd_state_statement(struct db_conn *c, const struct ussd_state_job *j, int del, size_t *next)
{
    struct db_param p[DB_BATCH_MAX * 5];
    const struct ussd_state_rec *d = NULL;
    size_t i, n = 0, rows, k, np = 0, w = del ? 2 : 5;

    for (i = *next; i < j->n && n < DB_BATCH_MAX; i++) {
        if (j->recs[i].del != del)
            continue;
        d = &j->recs[i];
        n++;
        p[np++] = DB_STR(d->channel);
        p[np++] = DB_STR(d->session_id);
        if (!del) {
            p[np++] = DB_STR(d->msisdn);
            p[np++] = DB_STR(d->path);
            p[np++] = DB_U64(d->inputs);
        }
    }
    *next = i;
    if (n == 0)
        return 0;
    k = db_batch_size(n, &rows);
    for (; n < rows; n++, np += w)
        memcpy(&p[np], &p[np - w], w * sizeof p[0]);
    return db_exec(c, del ? ussd_state_del_sql[k] : ussd_state_put_sql[k], p, np, NULL, NULL);
}

static int
ussd_state_work(struct db_conn *c, void *arg)
{
    struct ussd_state_job *j = arg;
    size_t next;
    int del, err = 0;

    db_txn_name(c, "ussd_states");
    for (del = 0; del <= 1; del++)
        for (next = 0; next < j->n && err == 0;)
            err = ussd_state_statement(c, j, del, &next);
    return err;
}

static void
ussd_state_done(int err, void *arg)
{
    struct ussd_state_job *j = arg;

    st.inflight = 0;
    if (err != 0)
        log_warn("ussd_state_write_failed", "err=%d sessions=%zu", err, j->n);
    free(j->recs);
    free(j);
}

/* The abandoned rows (a session killed idle, a caller who hung up), by one kabard of several. */
static int
ussd_state_purge_work(struct db_conn *c, void *arg)
{
    int err, held;

    (void)arg;
    db_txn_name(c, "ussd_states_purge");
    if ((err = lease_take(c, LEASE_USSD_STATES, lease_ttl_ms(USSD_STATE_PURGE_MS), &held)) != 0 ||
        !held)
        return err;
    return db_exec(
        c,
        "DELETE FROM ussd_states WHERE updated_at < NOW(3) - INTERVAL " USSD_STATE_MAX_AGE
        " LIMIT 10000",
        NULL, 0, NULL, NULL);
}

static void
ussd_state_purge_done(int err, void *arg)
{
    (void)arg;
    if (err != 0)
        log_warn("ussd_state_purge_failed", "err=%d", err);
}

/* One write of every queued session's place: its path, or a delete once it is over. A session
 * still loading or saving stays queued for the next flush. */
static void
ussd_state_flush(int stopping)
{
    struct ussd_state_job *j;
    size_t i, keep = 0;
    long long now = ussd_session_now_ms();

    if (now - st.purged_ms >= USSD_STATE_PURGE_MS && !stopping) {
        st.purged_ms = now;
        (void)db_submit(ussd_state_purge_work, ussd_state_purge_done, NULL, DB_TXN | DB_BACKGROUND);
    }
    if (st.n == 0 || st.inflight || (j = calloc(1, sizeof *j)) == NULL)
        return;
    if ((j->recs = calloc(st.n, sizeof *j->recs)) == NULL) {
        free(j);
        return;
    }
    for (i = 0; i < st.n; i++) {
        struct ussd_session *s = ussd_session_find(&st.keys[i]);
        struct ussd_state_rec *d = &j->recs[j->n];
        const char *sid = st.keys[i].b + strlen(st.keys[i].b) + 1;

        if (s != NULL && !stopping &&
            (s->state == USSD_LOADING || s->state == USSD_SAVING || s->waiters != NULL)) {
            st.keys[keep++] = st.keys[i];
            continue;
        }
        if (s != NULL)
            s->state_queued = 0;
        /* over (its report saved, or ended) before its place was ever written: no row */
        if (s != NULL && s->state != USSD_READY && !s->state_written)
            continue;
        snprintf(d->channel, sizeof d->channel, "%.32s", st.keys[i].b);
        snprintf(d->session_id, sizeof d->session_id, "%.64s", sid);
        j->n++;
        if (s == NULL || s->state != USSD_READY) {
            d->del = 1; /* over, or gone */
            continue;
        }
        s->state_written = 1;
        snprintf(d->msisdn, sizeof d->msisdn, "%s", s->msisdn);
        snprintf(d->path, sizeof d->path, "%.*s", (int)s->path_len, s->path ? s->path : "");
        d->inputs = ussd_state_inputs(d->path, s->path_len);
    }
    st.n = keep;
    if (j->n == 0) {
        ussd_state_done(0, j);
        return;
    }
    st.inflight = 1;
    if (db_submit(ussd_state_work, ussd_state_done, j, DB_TXN) == -1)
        ussd_state_done(DB_EUNAVAILABLE, j);
}

/* ---- a hop of a session another kabard held */

struct ussd_resume {
    struct http_req *r;
    ussd_reply_fn reply;
    char session_id[65], msisdn[17], channel[33];
    char input[1025];
    unsigned long long sequence;
    int found;
    unsigned inputs;
    char path[USSD_PATH_MAX + 1];
};

static int
ussd_resume_row(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct ussd_resume *u = arg;
    uint64_t x;

    if (n < 3 || v[0] == NULL || v[1] == NULL || v[2] == NULL ||
        strcmp(v[0], u->msisdn) != 0 || /* a session id is no password */
        len[1] > USSD_PATH_MAX || parse_u64(v[2], len[2], 0, 65535, &x) == -1)
        return 0;
    u->found = 1;
    memcpy(u->path, v[1], len[1]);
    u->path[len[1]] = '\0';
    u->inputs = (unsigned)x;
    return 0;
}

static int
ussd_resume_work(struct db_conn *c, void *arg)
{
    struct ussd_resume *u = arg;
    struct db_param p[] = {DB_STR(u->channel), DB_STR(u->session_id)};

    u->found = 0;
    return db_query(c,
                    "SELECT msisdn, input_path, inputs FROM ussd_states WHERE channel = ?"
                    " AND session_id = ?",
                    p, 2, ussd_resume_row, u);
}

/* row: a row of the session exists (it was continued from it) */
static void
ussd_keep_state(const struct ussd_key *k, int row)
{
    struct ussd_session *s = ussd_session_find(k);

    if (s == NULL)
        return;
    s->keep_state = 1;
    if (row) {
        s->state_written = 1;
        ussd_state_note(s); /* deleted once over, even if it never moves again */
    }
}

static void
ussd_resume_done(int err, void *arg)
{
    struct ussd_resume *u = arg;
    struct ussd_hop h = {u->session_id, u->msisdn, USSD_INPUT, u->input, strlen(u->input)};
    char text[USSD_PATH_MAX + 1 + sizeof u->input], m[24];
    struct ussd_key k;
    int apply = 0;

    if (err == 0 && u->found) {
        /* initiation is hop 1 and carries no input: this hop is the next one when it is numbered
         * inputs + 2; any other (a screen lost with the kabard, a retry of a hop the path has)
         * shows the screen the path leads to again */
        apply = u->sequence == 0 || u->sequence == (unsigned long long)u->inputs + 2;
        if (apply && u->path[0] != '\0')
            snprintf(text, sizeof text, "%s*%s", u->path, u->input);
        else
            snprintf(text, sizeof text, "%s", apply ? u->input : u->path);
        h.kind = USSD_PATH;
        h.text = text;
        h.text_len = strlen(text);
        log_info("ussd_resumed",
                 "channel=%s session=%s msisdn=%s inputs=%u sequence=%llu applied=%d", u->channel,
                 u->session_id, log_msisdn(u->msisdn, m, sizeof m), u->inputs, u->sequence, apply);
    } else if (err != 0) {
        log_warn("ussd_resume_failed", "channel=%s session=%s err=%d", u->channel, u->session_id,
                 err);
    }
    /* the reply may end the request: the key first */
    if (ussd_session_key(&k, u->channel, u->session_id) == -1)
        k.len = 0;
    ussd_hop(u->r, &h, u->reply);
    if (k.len > 0)
        ussd_keep_state(&k, err == 0 && u->found);
    free(u);
}

void
ussd_hop_kept(struct http_req *r, const struct ussd_hop *hop, unsigned long long sequence,
              ussd_reply_fn reply)
{
    struct ussd_resume *u = NULL;
    struct ussd_key k;

    /* r is not to be read once the hop is answered, which may be at once: the key first */
    if (ussd_session_key(&k, r->channel->name, hop->session_id) == -1) {
        ussd_hop(r, hop, reply);
        return;
    }
    if (hop->kind == USSD_INPUT && ussd_session_find(&k) == NULL &&
        hop->text_len < sizeof u->input && (u = calloc(1, sizeof *u)) != NULL) {
        u->r = r;
        u->reply = reply;
        u->sequence = sequence;
        snprintf(u->channel, sizeof u->channel, "%s", r->channel->name);
        snprintf(u->session_id, sizeof u->session_id, "%s", hop->session_id);
        snprintf(u->msisdn, sizeof u->msisdn, "%s", hop->msisdn);
        memcpy(u->input, hop->text, hop->text_len);
        u->input[hop->text_len] = '\0';
        /* causal: the row was written a moment ago, maybe through another Galera node */
        if (db_submit(ussd_resume_work, ussd_resume_done, u, DB_CAUSAL) == 0)
            return;
        free(u);
    }
    ussd_hop(r, hop, reply);
    ussd_keep_state(&k, 0);
}
