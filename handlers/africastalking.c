/* Africa's Talking: USSD hops as form posts answered "CON ..." / "END ...", and the session-end
 * notification. The wire parsers are in at_wire.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "africastalking.h"
#include "at_wire.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "outbox.h"
#include "sms.h"
#include "ussd.h"

static void
at_bad_request(struct http_req *r, const char *err)
{
    char q[300];

    log_info("at_bad_request", "req=%llu route=%s error=%s", (unsigned long long)r->id, r->route,
             log_quote(err, strlen(err), q, sizeof q));
    http_reply_text(r, 400, err);
}

static void
at_reply(struct http_req *r, int end, const char *screen)
{
    char body[1024];
    int n = at_render_ussd(end, screen, body, sizeof body);

    if (n < 0)
        n = at_render_ussd(1, "Maaf, terjadi kesalahan.", body, sizeof body);
    http_reply(r, 200, "text/plain; charset=utf-8", body, (size_t)n);
}

static void
at_ussd(struct http_req *r)
{
    struct at_ussd_hop hop;
    struct ussd_hop h;
    char err[128];

    if (at_parse_ussd(r->body, r->body_len, &hop, err, sizeof err) == -1) {
        at_bad_request(r, err);
        return;
    }
    h.session_id = hop.session_id;
    h.msisdn = hop.msisdn;
    h.kind = USSD_PATH;
    h.text = hop.text;
    h.text_len = hop.text_len;
    ussd_hop(r, &h, at_reply);
}

static void
at_ussd_end(struct http_req *r)
{
    struct at_ussd_end *e;
    struct ussd_end u;
    char err[128];

    if ((e = calloc(1, sizeof *e)) == NULL) {
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    if (at_parse_ussd_end(r->body, r->body_len, e, err, sizeof err) == -1) {
        free(e);
        at_bad_request(r, err);
        return;
    }
    memset(&u, 0, sizeof u);
    u.session_id = e->session_id;
    u.msisdn = e->msisdn;
    u.status = e->status_text;
    u.network_code = e->network_code;
    u.duration_ms = e->duration_ms;
    u.hops = e->hops;
    u.input = e->input;
    u.last_response = e->last_response;
    u.error_message = e->error_message;
    ussd_end(r, &u, http_ack);
    free(e);
}

static void
at_sms(struct http_req *r)
{
    struct at_sms_in *m;
    struct sms_in in;
    char err[128];

    if ((m = calloc(1, sizeof *m)) == NULL) {
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    if (at_parse_sms(r->body, r->body_len, m, err, sizeof err) == -1) {
        free(m);
        at_bad_request(r, err);
        return;
    }
    in.provider_msg_id = m->id;
    in.from = m->from;
    in.to = m->to;
    in.text = m->text;
    in.text_len = m->text_len;
    /* a 5xx makes Africa's Talking retry the callback: the message id dedupes it */
    sms_receive(r, &in, http_ack);
    free(m);
}

static void
at_dlr(struct http_req *r)
{
    struct outbox_report rep = {
        NULL, 0, OUTBOX_DLR_INTERIM, NULL, r->channel->name, r->channel->provider};
    struct at_dlr d;
    char err[128];

    if (at_parse_dlr(r->body, r->body_len, &d, err, sizeof err) == -1) {
        at_bad_request(r, err);
        return;
    }
    if (d.status == AT_DLR_SUCCESS)
        rep.what = OUTBOX_DLR_DELIVERED;
    else if (at_dlr_is_final(d.status))
        rep.what = OUTBOX_DLR_FAILED;
    rep.msg_id = d.id;
    rep.reason = d.failure_reason[0] != '\0' ? d.failure_reason : NULL;
    outbox_report(r, &rep, http_ack);
}

static const struct http_route at_routes[] = {
    {"at", "sms", EVHTTP_REQ_POST, HTTP_BODY_FORM, "at.sms", at_sms, NULL},
    {"at", "dlr", EVHTTP_REQ_POST, HTTP_BODY_FORM, "at.dlr", at_dlr, NULL},
    {"at", "ussd", EVHTTP_REQ_POST, HTTP_BODY_FORM, "at.ussd", at_ussd, NULL},
    {"at", "ussd/end", EVHTTP_REQ_POST, HTTP_BODY_FORM, "at.ussd_end", at_ussd_end, NULL},
    {NULL, NULL, 0, HTTP_BODY_ANY, NULL, NULL, NULL},
};

const struct http_handler handler_africastalking = {"africastalking", at_routes, 0};
