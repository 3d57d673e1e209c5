/*
 * Africa's Talking wire formats (see docs/PROTOCOLS.md). The parsers in at_wire.c are pure:
 * bytes in, struct out, no I/O, no allocation; on error they return -1 with a message in err
 * that names the field but never quotes client bytes, and the struct contents are unspecified.
 */
#ifndef KABAR_AT_WIRE_H
#define KABAR_AT_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* One USSD hop. text is every input so far joined by '*' ("" on the first hop). */
struct at_ussd_hop {
    char session_id[65];
    char service_code[33];
    char msisdn[17]; /* E.164 */
    char network_code[17];
    char text[1025];
    size_t text_len;
};

int at_parse_ussd(const char *body, size_t len, struct at_ussd_hop *hop, char *err, size_t errlen);

enum at_end_status { AT_END_SUCCESS, AT_END_INCOMPLETE, AT_END_FAILED, AT_END_OTHER };

/* Session-end notification; numbers absent or empty are 0, status absent is AT_END_OTHER. */
struct at_ussd_end {
    char session_id[65];
    char service_code[33];
    char msisdn[17];
    char network_code[17];
    char status_text[17];
    enum at_end_status status;
    uint64_t duration_ms;
    uint64_t hops;
    char input[1025];
    char last_response[1025];
    char error_message[256];
    char date[41];
    char cost[33];
};

int at_parse_ussd_end(const char *body, size_t len, struct at_ussd_end *end, char *err,
                      size_t errlen);

/*
 * Reply body "CON <screen>" (end == 0) or "END <screen>", NUL-terminated. Returns the bytes
 * written without the NUL, or -1 if it does not fit in outlen.
 */
int at_render_ussd(int end, const char *screen, char *out, size_t outlen);

/* Inbound SMS. to may be a shortcode: digits with an optional leading '+', at most 20. */
struct at_sms_in {
    char id[65];
    char from[17]; /* E.164 */
    char to[21];
    char text[1601];
    size_t text_len;
    char date[41];
    char link_id[65];
    char network_code[17];
};

int at_parse_sms(const char *body, size_t len, struct at_sms_in *m, char *err, size_t errlen);

enum at_dlr_status {
    AT_DLR_SENT,
    AT_DLR_SUBMITTED,
    AT_DLR_BUFFERED,
    AT_DLR_SUCCESS,
    AT_DLR_REJECTED,
    AT_DLR_FAILED,
    AT_DLR_EXPIRED,
    AT_DLR_UNKNOWN
};

/* Delivery report. phone is "" when the report did not carry one. */
struct at_dlr {
    char id[65];
    enum at_dlr_status status;
    char phone[17]; /* E.164 */
    char network_code[17];
    char failure_reason[65];
    uint64_t retry_count;
};

int at_parse_dlr(const char *body, size_t len, struct at_dlr *d, char *err, size_t errlen);

/* 1 for Success, Rejected, Failed, Expired: no further report will follow. */
int at_dlr_is_final(enum at_dlr_status s);

#endif
