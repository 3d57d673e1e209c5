#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "africastalking.h"
#include "parse.h"

#define AT_FIELD(n, b, req)                                                                        \
    {                                                                                              \
        .name = (n), .buf = (b), .cap = sizeof(b), .required = (req)                               \
    }

/* An absent or empty number is 0; anything else must be strict decimal. */
static int
at_number(const struct parse_field *f, uint64_t *out)
{
    *out = 0;
    if (f->len == 0)
        return 0;
    return parse_u64(f->buf, f->len, 0, UINT64_MAX, out);
}

int
at_parse_ussd(const char *body, size_t len, struct at_ussd_hop *hop, char *err, size_t errlen)
{
    char phone[33];
    struct parse_field f[] = {
        AT_FIELD("sessionId", hop->session_id, 1),
        AT_FIELD("serviceCode", hop->service_code, 0),
        AT_FIELD("phoneNumber", phone, 1),
        AT_FIELD("networkCode", hop->network_code, 0),
        AT_FIELD("text", hop->text, 1),
    };

    memset(hop, 0, sizeof(*hop));
    if (parse_form(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    if (!parse_id_valid(f[0].buf, f[0].len)) {
        parse_seterr(err, errlen, "%s", "bad sessionId");
        return -1;
    }
    if (parse_msisdn(phone, f[2].len, hop->msisdn) != 0) {
        parse_seterr(err, errlen, "%s", "bad phoneNumber");
        return -1;
    }
    hop->text_len = f[4].len;
    return 0;
}

int
at_parse_ussd_end(const char *body, size_t len, struct at_ussd_end *end, char *err, size_t errlen)
{
    char phone[33], duration[24], hops[24];
    struct parse_field f[] = {
        AT_FIELD("sessionId", end->session_id, 1),
        AT_FIELD("phoneNumber", phone, 1),
        AT_FIELD("serviceCode", end->service_code, 0),
        AT_FIELD("networkCode", end->network_code, 0),
        AT_FIELD("status", end->status_text, 0),
        AT_FIELD("durationInMillis", duration, 0),
        AT_FIELD("hopsCount", hops, 0),
        AT_FIELD("input", end->input, 0),
        AT_FIELD("lastAppResponse", end->last_response, 0),
        AT_FIELD("errorMessage", end->error_message, 0),
        AT_FIELD("date", end->date, 0),
        AT_FIELD("cost", end->cost, 0),
    };

    memset(end, 0, sizeof(*end));
    end->status = AT_END_OTHER;
    if (parse_form(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    if (!parse_id_valid(f[0].buf, f[0].len)) {
        parse_seterr(err, errlen, "%s", "bad sessionId");
        return -1;
    }
    if (parse_msisdn(phone, f[1].len, end->msisdn) != 0) {
        parse_seterr(err, errlen, "%s", "bad phoneNumber");
        return -1;
    }
    if (at_number(&f[5], &end->duration_ms) != 0) {
        parse_seterr(err, errlen, "%s", "bad durationInMillis");
        return -1;
    }
    if (at_number(&f[6], &end->hops) != 0) {
        parse_seterr(err, errlen, "%s", "bad hopsCount");
        return -1;
    }
    if (parse_casematch(end->status_text, "Success"))
        end->status = AT_END_SUCCESS;
    else if (parse_casematch(end->status_text, "Incomplete"))
        end->status = AT_END_INCOMPLETE;
    else if (parse_casematch(end->status_text, "Failed"))
        end->status = AT_END_FAILED;
    return 0;
}

int
at_split_path(const char *text, size_t len, struct at_input *inputs, size_t max)
{
    size_t n = 0, start = 0, i;

    if (len == 0)
        return 0;
    if (text == NULL || inputs == NULL)
        return -1;
    if (max > INT_MAX)
        max = INT_MAX;
    for (i = 0; i <= len; i++) {
        if (i < len && text[i] != '*')
            continue;
        if (i == start || n == max)
            return -1;
        inputs[n].p = text + start;
        inputs[n].len = i - start;
        n++;
        start = i + 1;
    }
    return (int)n;
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

/* The short code or number the SMS was sent to: separators dropped, digits and one leading '+'. */
static int
at_sms_to(const char *in, size_t len, char *out, size_t cap)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        char c = in[i];

        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')')
            continue;
        if (!((c >= '0' && c <= '9') || (c == '+' && n == 0)))
            return -1;
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    if (n == 1 && out[0] == '+')
        return -1;
    return 0;
}

int
at_parse_sms(const char *body, size_t len, struct at_sms_in *m, char *err, size_t errlen)
{
    char from[33], to[41];
    struct parse_field f[] = {
        AT_FIELD("id", m->id, 1),
        AT_FIELD("from", from, 1),
        AT_FIELD("to", to, 0),
        AT_FIELD("text", m->text, 1),
        AT_FIELD("date", m->date, 0),
        AT_FIELD("linkId", m->link_id, 0),
        AT_FIELD("networkCode", m->network_code, 0),
    };

    memset(m, 0, sizeof(*m));
    if (parse_form(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    if (!parse_id_valid(f[0].buf, f[0].len)) {
        parse_seterr(err, errlen, "%s", "bad id");
        return -1;
    }
    if (parse_msisdn(from, f[1].len, m->from) != 0) {
        parse_seterr(err, errlen, "%s", "bad from");
        return -1;
    }
    if (at_sms_to(to, f[2].len, m->to, sizeof(m->to)) != 0) {
        parse_seterr(err, errlen, "%s", "bad to");
        return -1;
    }
    m->text_len = f[3].len;
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
    char status[17], phone[33], retry[24];
    struct parse_field f[] = {
        AT_FIELD("id", d->id, 1),
        AT_FIELD("status", status, 1),
        AT_FIELD("phoneNumber", phone, 0),
        AT_FIELD("networkCode", d->network_code, 0),
        AT_FIELD("failureReason", d->failure_reason, 0),
        AT_FIELD("retryCount", retry, 0),
    };

    memset(d, 0, sizeof(*d));
    d->status = AT_DLR_UNKNOWN;
    if (parse_form(body, len, f, sizeof(f) / sizeof(f[0]), err, errlen) != 0)
        return -1;
    if (!parse_id_valid(f[0].buf, f[0].len)) {
        parse_seterr(err, errlen, "%s", "bad id");
        return -1;
    }
    if (f[2].len > 0 && parse_msisdn(phone, f[2].len, d->phone) != 0) {
        parse_seterr(err, errlen, "%s", "bad phoneNumber");
        return -1;
    }
    if (at_number(&f[5], &d->retry_count) != 0) {
        parse_seterr(err, errlen, "%s", "bad retryCount");
        return -1;
    }
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
