/*
 * The durable outbox: every SMS Kabar sends is a row before anything is sent. A sender on the
 * event loop claims due rows, sends them with libcurl's multi socket interface (no blocking,
 * bounded concurrency, per-provider and per-recipient rate limits) and records the outcome;
 * transient failures come back with exponential backoff and jitter, permanent ones fail with
 * the reason. A crash leaves rows in 'sending': they are sent again after claim_timeout
 * (at least once; see the README for how duplicates are bounded).
 */
#ifndef KABAR_OUTBOX_H
#define KABAR_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "kerr.h"

struct event_base;
struct config;
struct db_conn;

struct outbox_msg {
    const char *key;       /* idempotency key: the same key queues nothing twice */
    const char *recipient; /* E.164 */
    const char *body;      /* UTF-8 */
    const char *purpose;   /* reply, alert, reminder ... */
    int priority;          /* 1 (first) .. 9 */
    const char *provider;  /* a configured provider's name */
    unsigned max_segments;
};

/* The body is longer than max_segments SMS parts: refused, nothing queued (gateway/kerr.h). */
#define OUTBOX_TOO_LONG KERR_TOO_LONG

/* Inside a database work function, in the caller's transaction. Returns 0 (and the row's id,
 * new or existing), OUTBOX_TOO_LONG, or a MariaDB error number. */
int outbox_queue(struct db_conn *c, const struct outbox_msg *m, uint64_t *id);

int outbox_start(struct event_base *base, struct config *cfg);
void outbox_reconfigure(struct config *cfg);
/* Something was queued: look for due rows now rather than at the next poll. */
void outbox_kick(void);
/* Stop claiming; rows claimed but not sent go back to the queue. */
void outbox_stop(void);
/* No transfer in flight (a stopping kabard waits for this, within its shutdown bound). */
int outbox_idle(void);
void outbox_free(void);

/* Delivery reports, whatever the aggregator. An interim report changes nothing, and a late
 * or repeated one never moves a final state backwards. */
enum outbox_dlr { OUTBOX_DLR_INTERIM, OUTBOX_DLR_DELIVERED, OUTBOX_DLR_FAILED };

struct outbox_report {
    const char *msg_id; /* the provider's message id (Africa's Talking) ... */
    uint64_t id;        /* ... or our row id, when msg_id is NULL (Kannel's dlr-url) */
    enum outbox_dlr what;
    const char *reason;   /* a failure's reason, or NULL */
    const char *channel;  /* the channel it came in on, for the log */
    const char *provider; /* the channel's provider: only its rows move */
};

/* ok: 1 when the report is recorded (an unknown id too, logged), 0 when the aggregator should
 * retry (the database is away). The outbox hands r back untouched. */
struct http_req;
typedef void (*outbox_ack_fn)(struct http_req *r, int ok);

void outbox_report(struct http_req *r, const struct outbox_report *rep, outbox_ack_fn ack);

#endif
