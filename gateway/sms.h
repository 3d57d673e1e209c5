/* Inbound SMS, whatever the aggregator: stored raw first (deduplicated on the aggregator's
 * message id), then read as a keyword, acted on, and answered through the outbox. */
#ifndef KABAR_SMS_H
#define KABAR_SMS_H

#include <stddef.h>

struct http_req;

struct sms_in {
    const char *provider_msg_id; /* the dedupe key: aggregators retry callbacks */
    const char *from;            /* E.164 */
    const char *to;
    const char *text;
    size_t text_len;
};

/* ok: 1 when the message is stored and answered (or was already), 0 when the aggregator
 * should retry (the database is away). */
typedef void (*sms_ack_fn)(struct http_req *r, int ok);

void sms_receive(struct http_req *r, const struct sms_in *in, sms_ack_fn ack);

#endif
