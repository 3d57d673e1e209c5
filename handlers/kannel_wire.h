/* Kannel's smsbox: mobile-originated SMS through an sms-service get-url/post-url, and delivery
 * reports on the dlr-url kabard gives with each sendsms. Pure parsers (kannel_wire.c); the routes
 * are in kannel.c. */
#ifndef KABAR_KANNEL_WIRE_H
#define KABAR_KANNEL_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* get-url ...?from=%p&to=%P&text=%a&id=%I&smsc=%i&time=%T */
struct kannel_mo {
    char id[65];   /* %I: Kannel's message id, the same when smsbox retries */
    char from[17]; /* E.164 */
    char to[21];
    char text[1601];
    size_t text_len;
    char smsc[33];
    char time[41];
};

int kannel_parse_mo(const char *query, size_t len, struct kannel_mo *m, char *err, size_t errlen);

/* dlr-url ...?id=<outbox id>&type=%d */
struct kannel_dlr {
    uint64_t id;
    unsigned type; /* 1 delivered, 2 undeliverable, 4 buffered, 8 smsc submit, 16 smsc reject */
};

int kannel_parse_dlr(const char *query, size_t len, struct kannel_dlr *d, char *err, size_t errlen);

#endif
