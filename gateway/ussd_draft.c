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
#include "log.h"
#include "ussd_int.h"

/* a draft is written once its session has been quiet this long: a person takes seconds per
 * answer, and a session that finishes sooner never needs one */
#define USSD_DRAFT_QUIET_MS 1000

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
