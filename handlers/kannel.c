/* Kannel: mobile-originated SMS from smsbox's sms-service (get-url, or post-url with the same
 * fields in a form body), and the delivery reports of what kabard sent through sendsms. Replies
 * go through the outbox, so the HTTP answer to smsbox is empty (omit-empty = true). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "config.h"
#include "http.h"
#include "kannel.h"
#include "kannel_wire.h"
#include "log.h"
#include "outbox.h"
#include "sms.h"

static void
kannel_bad_request(struct http_req *r, const char *err)
{
    char q[300];

    log_info("kannel_bad_request", "req=%llu route=%s error=%s", (unsigned long long)r->id,
             r->route, log_quote(err, strlen(err), q, sizeof q));
    http_reply_text(r, 400, err);
}

/* The fields come in the query (get-url) or in a form body (post-url). */
static const char *
kannel_input(struct http_req *r, size_t *len)
{
    const char *p = r->method == EVHTTP_REQ_POST ? r->body : http_query_raw(r);

    *len = r->method == EVHTTP_REQ_POST ? r->body_len : strlen(p);
    return p;
}

static void
kannel_sms_ack(struct http_req *r, int ok)
{
    if (ok)
        http_reply(r, 200, "text/plain; charset=utf-8", "", 0);
    else
        http_reply_text(r, 503, "temporarily unavailable, retry later");
}

static void
kannel_sms(struct http_req *r)
{
    struct kannel_mo *m;
    struct sms_in in;
    const char *p;
    char err[128];
    size_t len;

    p = kannel_input(r, &len);
    if ((m = calloc(1, sizeof *m)) == NULL) {
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    if (kannel_parse_mo(p, len, m, err, sizeof err) == -1) {
        free(m);
        kannel_bad_request(r, err);
        return;
    }
    in.provider_msg_id = m->id;
    in.from = m->from;
    in.to = m->to;
    in.text = m->text;
    in.text_len = m->text_len;
    sms_receive(r, &in, kannel_sms_ack);
    free(m);
}

static void
kannel_dlr_ack(struct http_req *r, int ok)
{
    if (ok)
        http_reply_text(r, 200, "OK");
    else
        http_reply_text(r, 503, "temporarily unavailable, retry later");
}

static void
kannel_dlr(struct http_req *r)
{
    struct outbox_report rep = {
        NULL, 0, OUTBOX_DLR_INTERIM, NULL, r->channel->name, r->channel->provider};
    struct kannel_dlr d;
    const char *p;
    char err[128];
    size_t len;

    p = kannel_input(r, &len);
    if (kannel_parse_dlr(p, len, &d, err, sizeof err) == -1) {
        kannel_bad_request(r, err);
        return;
    }
    /* 1 delivered; 2 undeliverable and 16 smsc reject are final failures; 4, 8 interim */
    if (d.type & 1)
        rep.what = OUTBOX_DLR_DELIVERED;
    else if (d.type & (2 | 16))
        rep.what = OUTBOX_DLR_FAILED;
    rep.id = d.id;
    rep.reason = rep.what == OUTBOX_DLR_FAILED ? "kannel: not delivered" : NULL;
    outbox_report(r, &rep, kannel_dlr_ack);
}

static const struct http_route kannel_routes[] = {
    {"kannel", "sms", EVHTTP_REQ_GET | EVHTTP_REQ_POST, HTTP_BODY_FORM, "kannel.sms", kannel_sms,
     NULL},
    {"kannel", "dlr", EVHTTP_REQ_GET | EVHTTP_REQ_POST, HTTP_BODY_FORM, "kannel.dlr", kannel_dlr,
     NULL},
    {NULL, NULL, 0, HTTP_BODY_ANY, NULL, NULL, NULL},
};

const struct http_handler handler_kannel = {"kannel", kannel_routes, 0};
