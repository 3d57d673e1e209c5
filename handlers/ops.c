/* Operations endpoints: /healthz (a real round trip to MariaDB) and /metrics (Prometheus). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "db.h"
#include "handlers.h"
#include "http.h"
#include "metrics.h"

static const char ops_ok[] = "{\"status\":\"ok\",\"db\":\"ok\"}\n";
static const char ops_down[] = "{\"status\":\"unavailable\",\"db\":\"down\"}\n";
static const char ops_busy[] = "{\"status\":\"unavailable\",\"db\":\"busy\"}\n";

/*
 * The one health probe in flight and the requests sharing its answer: a load balancer polling
 * hard costs one queued job at a time, never one per poll (the probe is queued with DB_FORCE,
 * past the "database down" refusal, so nothing else would bound it).
 */
static struct {
    int running;
    struct http_req **waiting;
    size_t n, cap;
} ops_probe;

struct ops_wsrep {
    int on, synced, primary;
};

static int
ops_wsrep_row(void *arg, char **vals, unsigned long *lens, unsigned ncols)
{
    struct ops_wsrep *w = arg;

    (void)lens;
    if (ncols != 3)
        return 1;
    w->on = vals[0] != NULL && strcmp(vals[0], "ON") == 0;
    w->synced = vals[1] != NULL && strcmp(vals[1], "4") == 0;
    w->primary = vals[2] != NULL && strcmp(vals[2], "Primary") == 0;
    return 0;
}

/*
 * A round trip, and on a Galera node (wsrep_on) the node's own view: Synced (local state 4)
 * and in the primary component, else it is no node to write to. A node that is not ready
 * answers 1047, which moves the pool to the next of database.hosts: /healthz says 503 only
 * when none of them is ready. (The variables are read from information_schema so that a
 * server built without wsrep, where @@wsrep_on does not exist, answers too.)
 */
static int
ops_ping(struct db_conn *c, void *arg)
{
    struct ops_wsrep w = {0, 0, 0};
    int err;

    (void)arg;
    err = db_query(c,
                   "SELECT (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES"
                   " WHERE VARIABLE_NAME = 'WSREP_ON'),"
                   " (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                   " WHERE VARIABLE_NAME = 'WSREP_LOCAL_STATE'),"
                   " (SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS"
                   " WHERE VARIABLE_NAME = 'WSREP_CLUSTER_STATUS')",
                   NULL, 0, ops_wsrep_row, &w);
    if (err != 0)
        return err;
    return w.on && (!w.synced || !w.primary) ? DB_ENOT_READY : 0;
}

static void
ops_probe_done(int err, void *arg)
{
    struct http_req **waiting = ops_probe.waiting;
    size_t i, n = ops_probe.n;

    (void)arg;
    /* those who asked before the answer came; anyone asking after starts the next probe */
    memset(&ops_probe, 0, sizeof ops_probe);
    for (i = 0; i < n; i++)
        http_reply_json(waiting[i], err == 0 ? 200 : 503, err == 0 ? ops_ok : ops_down);
    free(waiting);
}

/* 0 when r waits for the probe in flight (starting one if none is), -1 when it cannot */
static int
ops_probe_join(struct http_req *r)
{
    if (ops_probe.n == ops_probe.cap) {
        size_t cap = ops_probe.cap ? ops_probe.cap * 2 : 16;
        struct http_req **w = realloc(ops_probe.waiting, cap * sizeof *w);

        if (w == NULL)
            return -1;
        ops_probe.waiting = w;
        ops_probe.cap = cap;
    }
    if (!ops_probe.running) {
        if (db_submit(ops_ping, ops_probe_done, NULL, DB_FORCE) == -1)
            return -1;
        ops_probe.running = 1;
        metrics_add(METRIC_HEALTH_PROBES, 1);
    }
    ops_probe.waiting[ops_probe.n++] = r;
    return 0;
}

static void
ops_healthz(struct http_req *r)
{
    http_add_header(r, "Cache-Control", "no-store");
    /* during an outage the probe running is the one that will see the database come back
     * (a connect may take database.connect_timeout): a poll meanwhile gets its 503 at once */
    if (ops_probe.running && !db_is_up()) {
        http_reply_json(r, 503, ops_down);
        return;
    }
    if (ops_probe_join(r) == -1)
        http_reply_json(r, 503, ops_busy);
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
