/* Operations endpoints: /healthz (a real round trip to MariaDB) and /metrics (Prometheus). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "metrics.h"

static int
ops_ping(struct db_conn *c, void *arg)
{
    (void)arg;
    return db_query(c, "SELECT 1", NULL, 0, NULL, NULL);
}

static void
ops_health_done(int err, void *arg)
{
    struct http_req *r = arg;

    if (err == 0)
        http_reply_json(r, 200, "{\"status\":\"ok\",\"db\":\"ok\"}\n");
    else
        http_reply_json(r, 503, "{\"status\":\"unavailable\",\"db\":\"down\"}\n");
}

static void
ops_healthz(struct http_req *r)
{
    http_add_header(r, "Cache-Control", "no-store");
    if (db_submit(ops_ping, ops_health_done, r, DB_FORCE) == -1)
        http_reply_json(r, 503, "{\"status\":\"unavailable\",\"db\":\"busy\"}\n");
}

static void
ops_metrics(struct http_req *r)
{
    struct evbuffer *out = evbuffer_new();
    size_t len;
    char *text;

    if (out == NULL) {
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    metrics_render(out);
    len = evbuffer_get_length(out);
    text = (char *)evbuffer_pullup(out, -1);
    http_reply(r, 200, "text/plain; version=0.0.4", text != NULL ? text : "", text ? len : 0);
    evbuffer_free(out);
}

static const struct http_route ops_routes[] = {
    {NULL, "/healthz", EVHTTP_REQ_GET | EVHTTP_REQ_HEAD, HTTP_BODY_ANY, "healthz", ops_healthz,
     NULL},
    {NULL, "/metrics", EVHTTP_REQ_GET, HTTP_BODY_ANY, "metrics", ops_metrics, NULL},
    {NULL, NULL, 0, HTTP_BODY_ANY, NULL, NULL, NULL},
};

const struct http_handler handler_ops = {"ops", ops_routes, 0};
