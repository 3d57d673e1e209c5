/* Inbound SMS, whatever the aggregator: stored raw first (deduplicated on the aggregator's
 * message id), then read as a keyword, acted on, and answered through the outbox. */
#ifndef KABAR_SMS_H
#define KABAR_SMS_H

#include <stddef.h>

struct http_req;
struct sms_texts;

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

/* The reply texts, group `replies` of the keywords file ("FILE:LINE: ..." on error). */
struct sms_texts *sms_texts_load(const char *path, char *err, size_t errlen);
void sms_texts_free(struct sms_texts *);
/* Every text, with room for its placeholders, fits max_segments SMS parts. */
int sms_texts_check(const struct sms_texts *x, unsigned max_segments, char *err, size_t errlen);
/* Text `name` in Indonesian (en = 0) or English with {key} filled from kv (key, value, ...,
 * NULL). Returns -1 for an unknown name. */
int sms_texts_render(const struct sms_texts *x, const char *name, int en, const char *const *kv,
                     char *out, size_t outlen);

#endif
