/* Hubtel-style JSON USSD: only the latest input is sent, so the dialog state is ours, kept by
 * session id (gateway/ussd.c) and written behind to the database, so that another kabard can
 * continue the session (gateway/ussd_draft.c). The wire parser is in hubtel_wire.c. */
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "config.h"
#include "http.h"
#include "hubtel.h"
#include "hubtel_wire.h"
#include "log.h"
#include "ussd.h"

static void
hubtel_reply(struct http_req *r, int end, const char *screen)
{
    char *json = hubtel_render(end, screen, "");

    if (json == NULL) {
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    http_reply_json(r, 200, json);
    free(json);
}

static void
hubtel_end_ack(struct http_req *r, int ok)
{
    if (ok)
        hubtel_reply(r, 1, "");
    else
        http_reply_text(r, 503, "temporarily unavailable, retry later");
}

static void
hubtel_ussd(struct http_req *r)
{
    struct hubtel_req *q;
    struct ussd_hop h;
    struct ussd_end e;
    char err[128], qe[300];

    if ((q = calloc(1, sizeof *q)) == NULL) {
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    if (hubtel_parse(r->body, r->body_len, q, err, sizeof err) == -1) {
        log_info("hubtel_bad_request", "req=%llu error=%s", (unsigned long long)r->id,
                 log_quote(err, strlen(err), qe, sizeof qe));
        http_reply_text(r, 400, err);
        free(q);
        return;
    }
    if (q->type == HUBTEL_RELEASE || q->type == HUBTEL_TIMEOUT) {
        memset(&e, 0, sizeof e);
        e.session_id = q->session_id;
        e.msisdn = q->mobile;
        e.status = q->type == HUBTEL_RELEASE ? "Release" : "Timeout";
        e.network_code = q->operator_name;
        ussd_end(r, &e, hubtel_end_ack);
    } else {
        h.session_id = q->session_id;
        h.msisdn = q->mobile;
        h.kind = q->type == HUBTEL_INITIATION ? USSD_BEGIN : USSD_INPUT;
        h.text = q->message;
        h.text_len = strlen(q->message);
        ussd_hop_kept(r, &h, q->sequence, hubtel_reply);
    }
    free(q);
}

static const struct http_route hubtel_routes[] = {
    {"hubtel", "ussd", EVHTTP_REQ_POST, HTTP_BODY_JSON, "hubtel.ussd", hubtel_ussd, NULL},
    {NULL, NULL, 0, HTTP_BODY_ANY, NULL, NULL, NULL},
};

const struct http_handler handler_hubtel = {"hubtel", hubtel_routes, 0};
