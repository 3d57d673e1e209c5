#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "at_wire.h"
#include "parse.h"

int
at_parse_ussd(const char *body, size_t len, struct at_ussd_hop *hop, char *err, size_t errlen)
{
    const struct parse_spec f[] = {
        PARSE_FIELD("sessionId", PF_ID, 1, hop->session_id),
        PARSE_FIELD("serviceCode", PF_TEXT, 0, hop->service_code),
        PARSE_FIELD("phoneNumber", PF_MSISDN, 1, hop->msisdn),
        PARSE_FIELD("networkCode", PF_TEXT, 0, hop->network_code),
        PARSE_FIELD("text", PF_TEXT, 1, hop->text),
    };

    memset(hop, 0, sizeof(*hop));
    if (parse_fields(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    hop->text_len = strlen(hop->text);
    return 0;
}

int
at_parse_ussd_end(const char *body, size_t len, struct at_ussd_end *end, char *err, size_t errlen)
{
    const struct parse_spec f[] = {
        PARSE_FIELD("sessionId", PF_ID, 1, end->session_id),
        PARSE_FIELD("phoneNumber", PF_MSISDN, 1, end->msisdn),
        PARSE_FIELD("serviceCode", PF_TEXT, 0, end->service_code),
        PARSE_FIELD("networkCode", PF_TEXT, 0, end->network_code),
        PARSE_FIELD("status", PF_TEXT, 0, end->status_text),
        PARSE_FIELD("durationInMillis", PF_U64, 0, end->duration_ms),
        PARSE_FIELD("hopsCount", PF_U64, 0, end->hops),
        PARSE_FIELD("input", PF_TEXT, 0, end->input),
        PARSE_FIELD("lastAppResponse", PF_TEXT, 0, end->last_response),
        PARSE_FIELD("errorMessage", PF_TEXT, 0, end->error_message),
        PARSE_FIELD("date", PF_TEXT, 0, end->date),
        PARSE_FIELD("cost", PF_TEXT, 0, end->cost),
    };

    memset(end, 0, sizeof(*end));
    end->status = AT_END_OTHER;
    if (parse_fields(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    if (parse_casematch(end->status_text, "Success"))
        end->status = AT_END_SUCCESS;
    else if (parse_casematch(end->status_text, "Incomplete"))
        end->status = AT_END_INCOMPLETE;
    else if (parse_casematch(end->status_text, "Failed"))
        end->status = AT_END_FAILED;
    return 0;
}

int
at_render_ussd(int end, const char *screen, char *out, size_t outlen)
{
    size_t slen = screen != NULL ? strlen(screen) : 0;

    if (out == NULL || outlen == 0)
        return -1;
    if (slen > INT_MAX - 5 || slen + 5 > outlen) {
        out[0] = '\0';
        return -1;
    }
    memcpy(out, end ? "END " : "CON ", 4);
    if (slen > 0)
        memcpy(out + 4, screen, slen);
    out[4 + slen] = '\0';
    return (int)(4 + slen);
}

int
at_parse_sms(const char *body, size_t len, struct at_sms_in *m, char *err, size_t errlen)
{
    const struct parse_spec f[] = {
        PARSE_FIELD("id", PF_ID, 1, m->id),
        PARSE_FIELD("from", PF_MSISDN, 1, m->from),
        PARSE_FIELD("to", PF_ADDR, 0, m->to),
        PARSE_FIELD("text", PF_TEXT, 1, m->text),
        PARSE_FIELD("date", PF_TEXT, 0, m->date),
        PARSE_FIELD("linkId", PF_TEXT, 0, m->link_id),
        PARSE_FIELD("networkCode", PF_TEXT, 0, m->network_code),
    };

    memset(m, 0, sizeof(*m));
    if (parse_fields(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    m->text_len = strlen(m->text);
    return 0;
}

static enum at_dlr_status
at_dlr_status(const char *s)
{
    static const struct {
        const char *name;
        enum at_dlr_status status;
    } map[] = {
        {"Sent", AT_DLR_SENT},       {"Submitted", AT_DLR_SUBMITTED}, {"Buffered", AT_DLR_BUFFERED},
        {"Success", AT_DLR_SUCCESS}, {"Rejected", AT_DLR_REJECTED},   {"Failed", AT_DLR_FAILED},
        {"Expired", AT_DLR_EXPIRED},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (parse_casematch(s, map[i].name))
            return map[i].status;
    }
    return AT_DLR_UNKNOWN;
}

int
at_parse_dlr(const char *body, size_t len, struct at_dlr *d, char *err, size_t errlen)
{
    char status[17];
    const struct parse_spec f[] = {
        PARSE_FIELD("id", PF_ID, 1, d->id),
        PARSE_FIELD("status", PF_TEXT, 1, status),
        PARSE_FIELD("phoneNumber", PF_MSISDN, 0, d->phone),
        PARSE_FIELD("networkCode", PF_TEXT, 0, d->network_code),
        PARSE_FIELD("failureReason", PF_TEXT, 0, d->failure_reason),
        PARSE_FIELD("retryCount", PF_U64, 0, d->retry_count),
    };

    memset(d, 0, sizeof(*d));
    d->status = AT_DLR_UNKNOWN;
    if (parse_fields(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    d->status = at_dlr_status(status);
    return 0;
}

int
at_dlr_is_final(enum at_dlr_status s)
{
    switch (s) {
    case AT_DLR_SUCCESS:
    case AT_DLR_REJECTED:
    case AT_DLR_FAILED:
    case AT_DLR_EXPIRED:
        return 1;
    default:
        return 0;
    }
}
