/*
 * Inside the outbox, shared by its three files: outbox.c (queue, claims, heartbeats, rate
 * limits, outcomes), outbox_send.c (one message's transfer: libcurl's multi socket interface on
 * the loop) and outbox_provider.c (each provider's request and reply, one table entry each).
 */
#ifndef KABAR_OUTBOX_INT_H
#define KABAR_OUTBOX_INT_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "config.h"

struct event_base;

enum outbox_outcome { OUTCOME_SENT, OUTCOME_RETRY, OUTCOME_FAILED, OUTCOME_DEFER };

struct outbox_provider;

/* One claimed message, from the claim to its outcome. */
struct outbox_send {
    uint64_t id;
    char token[25]; /* the claim's: the outcome is recorded only while the row is still ours */
    char recipient[17];
    char provider[33];
    char *body;
    unsigned attempts;
    unsigned long long age_s;
    const struct outbox_provider *via; /* how it was sent, so a reload cannot change its reading */
    CURL *easy;
    struct curl_slist *headers;
    char *post;
    char *resp;
    size_t resp_len;
    struct outbox_send *next;
    struct outbox_send *fnext, **fprev; /* in flight */
    /* the outcome */
    enum outbox_outcome outcome;
    char msg_id[65];
    char error[256];
    unsigned long long delay_ms;
};

/* A provider type: adding one is an entry in outbox_provider.c's table. */
struct outbox_provider {
    enum config_provider_type type;
    /* Fills in s->easy's request (the common options are set); -1 when it cannot be built.
     * NULL: nothing goes over the wire, and classify is called at once. */
    int (*request)(struct outbox_send *s, const struct config_provider *p);
    /* The answer (HTTP status, s->resp) or the transfer's failure (cc) to s's outcome. */
    void (*classify)(struct outbox_send *s, long http, CURLcode cc);
};

/* NULL for a type without an entry. */
const struct outbox_provider *outbox_provider_of(enum config_provider_type type);

/* outbox_send.c */
int outbox_send_init(struct event_base *base);
/* 0: in flight, and outbox_finish() has it when it ends; 1: its outcome is known already;
 * -1: the request could not be built. */
int outbox_send_start(struct outbox_send *s, const struct config_provider *p);
int outbox_send_idle(void);
void outbox_send_free(struct outbox_send *s);
/* Transfers still running are abandoned; libcurl is cleaned up, so call it last. */
void outbox_send_cleanup(void);

/* outbox.c */
/* Retry with backoff, or fail once the message is too old to matter. */
void outbox_retry(struct outbox_send *s, const char *detail);
/* Counts, logs and records s's outcome; s belongs to the outbox from here on. */
void outbox_finish(struct outbox_send *s);
/* Starts what the limits allow of the claimed messages. */
void outbox_pump(void);

#endif
