/* USSD sessions, whatever the aggregator's wire format: the state of every running dialog keyed
 * by (channel, session id), the caller's context loaded from MariaDB, reports committed before
 * the final screen, and resumable drafts written behind. */
#ifndef KABAR_USSD_H
#define KABAR_USSD_H

#include <stddef.h>

struct event_base;
struct config;
struct http_req;

/* How a protocol handler answers: CON/END text, or Hubtel's JSON. */
typedef void (*ussd_reply_fn)(struct http_req *r, int end, const char *screen);

enum ussd_input_kind {
    USSD_PATH,  /* every input so far, '*'-joined (Africa's Talking): authoritative */
    USSD_INPUT, /* only the latest input (Hubtel) */
    USSD_BEGIN  /* a new session, no input yet (Hubtel initiation) */
};

struct ussd_hop {
    const char *session_id;
    const char *msisdn; /* E.164 */
    enum ussd_input_kind kind;
    const char *text;
    size_t text_len;
};

struct ussd_end {
    const char *session_id;
    const char *msisdn;
    const char *status; /* Success, Incomplete, Failed ... */
    const char *network_code;
    unsigned long long duration_ms, hops;
    const char *input;
    const char *last_response;
    const char *error_message;
};

int ussd_start(struct event_base *base, struct config *cfg);
void ussd_reconfigure(struct config *cfg);
/* Runs one hop; the reply (exactly one) goes out through `reply`, possibly after a commit. */
void ussd_hop(struct http_req *r, const struct ussd_hop *hop, ussd_reply_fn reply);
/* The same for a protocol that sends only the latest input (Hubtel): the session's place is
 * kept in the database (ussd_states), and a session this kabard does not hold (its kabard died)
 * continues from there. sequence: the aggregator's hop number (initiation 1), 0 if unknown. */
void ussd_hop_kept(struct http_req *r, const struct ussd_hop *hop, unsigned long long sequence,
                   ussd_reply_fn reply);
/* Answers a session-end notice: ok is 0 when it could not be recorded (ask for a retry). */
typedef void (*ussd_ack_fn)(struct http_req *r, int ok);
/* The network ended a session (AT notification, Hubtel release): recorded; a report in
 * progress stays as a draft the next dial offers to continue. */
void ussd_end(struct http_req *r, const struct ussd_end *end, ussd_ack_fn ack);
void ussd_stop(void);  /* no new timers; called when shutdown begins */
void ussd_flush(void); /* queue the last draft writes before the pool drains */
void ussd_free(void);

#endif
