#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "config.h"
#include "http.h"
#include "httpscan.h"
#include "parse.h"
#include "log.h"
#include "metrics.h"

/*
 * One per accepted TCP connection, from http_conn_new() (evhttp's bufferevent callback, at
 * accept) to http_conn_free() (its close callback); found by its evhttp_connection. It scans
 * the bytes of each request as they arrive, before evhttp parses them (gateway/httpscan.h),
 * and holds the deadline of the request being read.
 */
struct http_conn {
    struct evhttp_connection *evcon; /* NULL until http_conn_attach() */
    struct bufferevent *bev;         /* the connection's; we hold a reference until the free */
    struct evbuffer_cb_entry *input; /* http_conn_input() on bev's input buffer */
    struct event *attach;            /* runs http_conn_attach() once evhttp has the connection */
    struct event *deadline;          /* http.timeout from a request's first byte to dispatch */
    struct httpscan scan;
    size_t scanned; /* bytes at the front of the input buffer the scanner has seen */
    int awaiting;   /* a request is being read: it has no http_req yet */
    int refused;    /* logged as refused: what comes after is dropped unread */
    int closing;    /* refused where no 400 can be made: the deadline closes it now */
    int editing;    /* the input buffer is changing by our own hand */
    char peer[64];
    struct http_req *pending;
    int writing; /* a reply is being written: counted in http.writing */
    int admin;   /* on the admin listener: counted apart, so staff never crowd out peers */
};

static struct {
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct evhttp *admin; /* the admin pages' own listener */
    struct evhttp_bound_socket *admin_bound;
    struct config *cfg;
    const struct http_handler *const *handlers[2]; /* per listener: aggregators, admin */
    void *conns;                                   /* tsearch tree of struct http_conn */
    size_t nconns[2];                              /* per listener: aggregators, admin */
    size_t inflight;
    size_t writing; /* replies handed to evhttp, not yet on the wire */
    uint64_t next_id;
    int listener_paused[2];
    int accepting;
} http;

/* A stopping server exits only when every reply is written, not merely queued: kabard asks
 * this (and the outbox) until both are done. */
size_t
http_busy(void)
{
    return http.inflight + http.writing;
}

static int
http_conn_cmp(const void *a, const void *b)
{
    const struct http_conn *x = a, *y = b;

    return x->evcon < y->evcon ? -1 : x->evcon > y->evcon;
}

/* Each listener has its own connection cap (http.max_connections): a full admin listener
 * never stops the aggregators' callbacks, nor the other way round. */
static void
http_listener_set(int admin, int enable)
{
    struct evhttp_bound_socket *b = admin ? http.admin_bound : http.bound;
    struct evconnlistener *l;

    if (b == NULL || !http.accepting)
        return;
    l = evhttp_bound_socket_get_listener(b);
    if (enable && http.listener_paused[admin]) {
        evconnlistener_enable(l);
        http.listener_paused[admin] = 0;
        log_info("http_accepting", "listener=%s connections=%zu", admin ? "admin" : "peers",
                 http.nconns[admin]);
    } else if (!enable && !http.listener_paused[admin]) {
        evconnlistener_disable(l);
        http.listener_paused[admin] = 1;
        log_warn("http_connection_cap", "listener=%s connections=%zu max=%u",
                 admin ? "admin" : "peers", http.nconns[admin], http.cfg->http.max_connections);
    }
}

static void
http_stream_woken(evutil_socket_t fd, short what, void *arg)
{
    struct http_req *r = arg;
    void (*cb)(struct http_req *, void *) = r->drained;

    (void)fd;
    (void)what;
    r->drained = NULL;
    if (cb != NULL)
        cb(r, r->drained_arg);
}

/* Never runs the producer from inside evhttp's own callbacks, where it may end (and free) the
 * request: r->wake is freed with r, so a wake still due when r ends is cancelled with it. */
static void
http_stream_wake(struct http_req *r)
{
    event_active(r->wake, EV_TIMEOUT, 1);
}

/* One owner, one free: the close callback, or http_conn_attach() when evhttp gave up first. */
static void
http_conn_free(struct http_conn *c)
{
    if (c->input != NULL)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->input);
    if (c->attach != NULL)
        event_free(c->attach);
    if (c->deadline != NULL)
        event_free(c->deadline);
    if (c->evcon != NULL)
        tdelete(c, &http.conns, http_conn_cmp);
    bufferevent_decref(c->bev);
    http.nconns[c->admin]--;
    if (http.nconns[c->admin] < http.cfg->http.max_connections)
        http_listener_set(c->admin, 1);
    free(c);
}

/*
 * The connection is going. A request whose reply has not ended (a stream, or one still waiting
 * for its database job) stays ours: the handler still ends it, and then it is freed. libevent
 * frees the evhttp_request of a request still on the connection; one it detached first (EOF or
 * timeout before the reply ended: evhttp_connection_incoming_fail) it leaves to its owner.
 */
static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
    struct http_conn *c = arg;
    struct http_req *r = c->pending;

    (void)evcon;
    if (c->writing) {
        /* the peer left before the reply was written: it will never complete */
        c->writing = 0;
        http.writing--;
    }
    if (r != NULL) {
        if (r->req != NULL && evhttp_request_get_connection(r->req) == NULL)
            r->detached = r->req;
        r->req = NULL;
        r->conn = NULL;
        if (r->drained != NULL)
            http_stream_wake(r);
    }
    http_conn_free(c);
}

static struct http_conn *
http_conn_find(struct evhttp_connection *evcon)
{
    struct http_conn key, **found;

    key.evcon = evcon;
    found = tfind(&key, &http.conns, http_conn_cmp);
    return found != NULL ? *found : NULL;
}

static void
http_conn_arm(struct http_conn *c)
{
    struct timeval tv = {(time_t)http.cfg->http.timeout, 0};

    if (!evtimer_pending(c->deadline, NULL))
        evtimer_add(c->deadline, &tv);
}

static void
http_conn_refuse(struct http_conn *c, enum metrics_counter counter, const char *reason)
{
    c->refused = 1;
    metrics_add(counter, 1);
    log_warn("http_refused", "reason=%s peer=%s listener=%s", reason, c->peer,
             c->admin ? "admin" : "peers");
}

/*
 * The request took longer than http.timeout to arrive (or was refused where no 400 can be
 * made): closed as libevent's own timeout closes it, without an answer.
 */
static void
http_conn_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;

    (void)fd;
    (void)what;
    if (!c->refused)
        http_conn_refuse(c, METRIC_HTTP_REFUSED_DEADLINE, "deadline");
    bufferevent_trigger_event(c->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
    /* c is freed by now: evhttp closed the connection */
}

/* Leaves the first keep bytes of the input, then add: what came after never reaches evhttp. */
static void
http_input_keep(struct http_conn *c, struct evbuffer *in, size_t keep, const char *add)
{
    struct evbuffer *head = NULL;

    c->editing = 1;
    if (evbuffer_get_length(in) > keep) {
        if (keep > 0 && (head = evbuffer_new()) != NULL)
            evbuffer_remove_buffer(in, head, keep);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (head != NULL) {
            evbuffer_add_buffer(in, head);
            evbuffer_free(head);
        }
    }
    if (add != NULL)
        evbuffer_add(in, add, strlen(add));
    c->scanned = evbuffer_get_length(in);
    c->editing = 0;
}

/*
 * The scanner found a fault at c->scanned. In a head, evhttp is made to answer it with its own
 * 400 and close: it gets the bytes before the fault, then a header line without a ':' (which
 * must not start with "\n" at the start of a line: that would end the header section).
 */
static void
http_conn_refuse_scan(struct http_conn *c, struct evbuffer *in)
{
    static const struct timeval now = {0, 0};

    switch (c->scan.fault) {
    case HTTPSCAN_NUL:
        http_conn_refuse(c, METRIC_HTTP_REFUSED_NUL, "nul_in_header");
        break;
    case HTTPSCAN_CONTENT_LENGTH:
        http_conn_refuse(c, METRIC_HTTP_REFUSED_CONTENT_LENGTH, "content_length");
        break;
    default:
        http_conn_refuse(c, METRIC_HTTP_REFUSED_CHUNK_SIZE, "chunk_size");
        break;
    }
    if (c->scan.fault_in_head) {
        http_input_keep(c, in, c->scanned, httpscan_at_line_start(&c->scan) ? "BAD\n" : "\nBAD\n");
        return;
    }
    /* in a chunked body: evhttp would take "BAD" for a chunk size, so close now */
    http_input_keep(c, in, c->scanned, NULL);
    c->closing = 1;
    evtimer_del(c->deadline);
    evtimer_add(c->deadline, &now);
}

/*
 * Bytes were added to (or taken from) the connection's input buffer. The buffer runs its
 * callbacks as the socket's bytes are added, before evhttp's read callback parses them, so
 * what is refused here evhttp never sees. evhttp only takes from the front.
 */
static void
http_conn_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    struct http_conn *c = arg;
    size_t len = evbuffer_get_length(in), took;
    struct evbuffer_iovec v[8];
    struct evbuffer_ptr pos;
    int n, i;

    if (c->editing)
        return;
    c->scanned = info->n_deleted < c->scanned ? c->scanned - info->n_deleted : 0;
    if (info->n_added == 0)
        return;
    if (c->refused) {
        http_input_keep(c, in, c->scanned, NULL);
        return;
    }
    if (c->awaiting)
        http_conn_arm(c);
    while (c->scanned < len) {
        /* a body's bytes are only counted: no walk from the front of a buffer that an upload
         * makes long (the walk made reading 76 MB take 8 s) */
        if ((c->scanned += httpscan_skip_body(&c->scan, len - c->scanned)) == len)
            break;
        if (evbuffer_ptr_set(in, &pos, c->scanned, EVBUFFER_PTR_SET) == -1 ||
            (n = evbuffer_peek(in, (ev_ssize_t)(len - c->scanned), &pos, v, 8)) <= 0)
            return;
        for (i = 0; i < n && i < 8; i++) {
            took = httpscan_feed(&c->scan, v[i].iov_base, v[i].iov_len);
            c->scanned += took;
            if (took < v[i].iov_len) {
                http_conn_refuse_scan(c, in);
                return;
            }
        }
    }
}

/*
 * evhttp has made the connection its own: found by its evhttp_connection from now on, and told
 * when it closes. libevent 2.1 gives no hook between accept and the first request, but evhttp
 * passes the connection as the argument of the bufferevent's callbacks (and clears them when
 * it frees the connection: then it gave up on it before we got here).
 */
static void
http_conn_attach(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *c = arg;
    bufferevent_event_cb eventcb = NULL;
    void *cbarg = NULL;
    char *addr = NULL;
    ev_uint16_t port;

    (void)fd;
    (void)what;
    bufferevent_getcb(c->bev, NULL, NULL, &eventcb, &cbarg);
    if (eventcb == NULL || cbarg == NULL || evhttp_connection_get_bufferevent(cbarg) != c->bev) {
        http_conn_free(c);
        return;
    }
    c->evcon = cbarg;
    if (tsearch(c, &http.conns, http_conn_cmp) == NULL)
        log_error("http_conn_failed", "what=tsearch"); /* its requests get a 503 */
    evhttp_connection_set_closecb(c->evcon, http_conn_closed, c);
    evhttp_connection_get_peer(c->evcon, &addr, &port);
    snprintf(c->peer, sizeof c->peer, "%s", addr != NULL ? addr : "-");
    c->awaiting = 1;
    http_conn_arm(c);
}

/*
 * evhttp's bufferevent callback, once per accepted connection: a socket bufferevent with the
 * scanner on its input buffer. (Not a filter bufferevent: libevent 2.1 calls a filter's write
 * callback once the bytes are in the socket bufferevent below, and then frees both and shuts
 * the socket down, so a reply with "Connection: close" never left.) Counted against
 * http.max_connections from here, so a request that never completes holds a place too.
 */
static struct bufferevent *
http_conn_new(struct event_base *base, void *arg)
{
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct http_conn *c;

    if (bev == NULL)
        return NULL;
    if ((c = calloc(1, sizeof *c)) == NULL ||
        (c->attach = event_new(base, -1, 0, http_conn_attach, c)) == NULL ||
        (c->deadline = evtimer_new(base, http_conn_deadline, c)) == NULL ||
        (c->input = evbuffer_add_cb(bufferevent_get_input(bev), http_conn_input, c)) == NULL) {
        if (c != NULL && c->attach != NULL)
            event_free(c->attach);
        if (c != NULL && c->deadline != NULL)
            event_free(c->deadline);
        free(c);
        log_error("http_conn_failed", "what=alloc"); /* served unguarded: its requests get 503 */
        return bev;
    }
    c->bev = bev;
    c->admin = arg != NULL;
    snprintf(c->peer, sizeof c->peer, "-");
    httpscan_init(&c->scan);
    bufferevent_incref(bev);
    http.nconns[c->admin]++;
    if (http.nconns[c->admin] >= http.cfg->http.max_connections)
        http_listener_set(c->admin, 0);
    event_active(c->attach, EV_TIMEOUT, 1);
    return bev;
}

static void
http_peer(struct http_req *r, struct evhttp_request *req, struct sockaddr_storage *ss)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    const struct sockaddr *sa = evhttp_connection_get_addr(evcon);
    const char *xff, *last;
    char addr[64];
    size_t n;

    memset(ss, 0, sizeof *ss);
    if (sa != NULL)
        memcpy(ss, sa,
               sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
    /* X-Forwarded-For counts only when the direct peer is one of our own proxies */
    if (sa != NULL && r->cfg->nproxies > 0 &&
        config_net_match(r->cfg->proxies, r->cfg->nproxies, sa) &&
        (xff = evhttp_find_header(evhttp_request_get_input_headers(req), "X-Forwarded-For")) !=
            NULL) {
        last = strrchr(xff, ',');
        last = last != NULL ? last + 1 : xff;
        while (*last == ' ')
            last++;
        n = strcspn(last, " ");
        if (n < sizeof addr) {
            memcpy(addr, last, n);
            addr[n] = '\0';
            memset(ss, 0, sizeof *ss);
            if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr) == 1)
                ss->ss_family = AF_INET;
            else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1)
                ss->ss_family = AF_INET6;
        }
    }
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)ss)->sin_addr, r->peer, sizeof r->peer);
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)ss)->sin6_addr, r->peer, sizeof r->peer);
    else
        snprintf(r->peer, sizeof r->peer, "-");
}

static const char *
http_method_name(int m)
{
    switch (m) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    default:
        return "OTHER";
    }
}

static void
http_allow_header(struct http_req *r, unsigned methods)
{
    char allow[40] = "";

    if (methods & EVHTTP_REQ_GET)
        strcat(allow, "GET, ");
    if (methods & EVHTTP_REQ_POST)
        strcat(allow, "POST, ");
    if (methods & EVHTTP_REQ_HEAD)
        strcat(allow, "HEAD, ");
    if (methods & EVHTTP_REQ_DELETE)
        strcat(allow, "DELETE, ");
    if (allow[0] != '\0')
        allow[strlen(allow) - 2] = '\0';
    http_add_header(r, "Allow", allow);
}

/* The route of a path for this method; with none, NULL, *allowed the methods the path has
 * (0: no such path) and *other one of its routes (for the metrics label). A path may have one
 * route per method. */
static const struct http_route *
http_find_route(int admin, const char *proto, const char *path, size_t pathlen, int method,
                unsigned *allowed, const struct http_route **other)
{
    const struct http_handler *const *h;
    const struct http_route *rt;

    *allowed = 0;
    *other = NULL;
    for (h = http.handlers[admin]; h != NULL && *h != NULL; h++) {
        for (rt = (*h)->routes; rt->path != NULL; rt++) {
            if ((proto == NULL) != (rt->proto == NULL))
                continue;
            if (proto != NULL && strcmp(proto, rt->proto) != 0)
                continue;
            if (strlen(rt->path) != pathlen || memcmp(rt->path, path, pathlen) != 0)
                continue;
            if ((rt->methods & (unsigned)method) != 0)
                return rt;
            *allowed |= rt->methods;
            *other = rt;
        }
    }
    return NULL;
}

/* A POST to a route that names its body type must say that type. */
static int
http_body_accepted(struct http_req *r, enum http_body body)
{
    static const char *const types[] = {NULL, "application/x-www-form-urlencoded",
                                        "application/json", "multipart/form-data"};
    const char *ct = r->content_type, *want = types[body];
    char msg[64];

    if (r->method != EVHTTP_REQ_POST || want == NULL)
        return 1;
    if (!parse_media_type_is(ct, want)) {
        snprintf(msg, sizeof msg, "expected %s", want);
        http_reply_text(r, 415, msg);
        return 0;
    }
    return 1;
}

static void
http_route(struct http_req *r, const char *path, const struct sockaddr_storage *ss)
{
    const struct http_route *rt, *other = NULL;
    const char *p, *tok, *rest;
    unsigned allowed = 0;
    char proto[16];
    size_t n;

    if (r->admin || strncmp(path, "/c/", 3) != 0) {
        rt = http_find_route(r->admin, NULL, path, strlen(path), r->method, &allowed, &other);
        if (rt == NULL && allowed == 0) {
            http_reply_text(r, 404, "not found");
            return;
        }
    } else {
        p = path + 3;
        n = strcspn(p, "/");
        if (n == 0 || n >= sizeof proto || p[n] != '/') {
            http_reply_text(r, 404, "not found");
            return;
        }
        memcpy(proto, p, n);
        proto[n] = '\0';
        tok = p + n + 1;
        n = strcspn(tok, "/");
        rest = tok[n] == '/' ? tok + n + 1 : tok + n;
        /* an unknown channel learns nothing: same answer whatever was wrong */
        r->channel = config_channel_find(r->cfg, tok, n);
        rt = r->channel == NULL
                 ? NULL
                 : http_find_route(0, proto, rest, strlen(rest), r->method, &allowed, &other);
        if (r->channel == NULL || strcmp(config_protocol_name(r->channel->protocol), proto) != 0 ||
            (rt == NULL && allowed == 0)) {
            r->channel = NULL;
            http_reply_text(r, 404, "not found");
            return;
        }
        if (r->channel->nallow > 0 &&
            !config_net_match(r->channel->allow, r->channel->nallow, (const struct sockaddr *)ss)) {
            log_warn("http_source_refused", "req=%llu channel=%s peer=%s",
                     (unsigned long long)r->id, r->channel->name, r->peer);
            http_reply_text(r, 403, "forbidden");
            return;
        }
    }
    if (rt == NULL) {
        r->route = other->name;
        http_allow_header(r, allowed);
        http_reply_text(r, 405, "method not allowed");
        return;
    }
    r->route = rt->name;
    r->route_data = rt->data;
    /* the admin listener lets an upload's body through (admin.import_max_bytes); every other
     * route keeps the one limit */
    if (rt->body != HTTP_BODY_MULTIPART && r->body_len > r->cfg->http.max_body_size) {
        http_add_header(r, "Connection", "close");
        http_reply_text(r, 413, "request body too large");
        return;
    }
    if (!http_body_accepted(r, rt->body))
        return;
    rt->cb(r);
}

static void
http_dispatch(struct evhttp_request *req, void *arg)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct sockaddr_storage ss;
    struct http_req *r;
    const char *path;
    size_t off;

    if ((r = calloc(1, sizeof *r)) == NULL) {
        evhttp_send_error(req, 503, "out of memory");
        return;
    }
    r->admin = arg != NULL;
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->id = ++http.next_id;
    r->req = req;
    r->cfg = config_ref(http.cfg);
    r->route = "unmatched";
    r->method = (int)evhttp_request_get_command(req);
    http.inflight++;
    http_peer(r, req, &ss);
    /* without its connection's close callback, r would never learn that the peer went */
    if ((r->conn = http_conn_find(evhttp_request_get_connection(req))) == NULL) {
        http_add_header(r, "Connection", "close");
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    r->conn->awaiting = 0;
    if (!r->conn->closing)
        evtimer_del(r->conn->deadline);
    r->conn->pending = r;
    r->body_len = evbuffer_get_length(in);
    if ((r->body = malloc(r->body_len + 1)) == NULL) {
        http_reply_text(r, 503, "temporarily unavailable");
        return;
    }
    /* moved a megabyte at a time, each piece freed as it goes, so that the memory of an upload
     * of up to 200 MB (the admin listener's) is the heap's again while the copy is made */
    for (off = 0; off < r->body_len;) {
        int n = evbuffer_remove(in, r->body + off,
                                r->body_len - off < (1u << 20) ? r->body_len - off : 1u << 20);

        if (n <= 0)
            break;
        off += (size_t)n;
    }
    r->body_len = off;
    r->body[r->body_len] = '\0';
    r->content_type = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    if (http.nconns[r->admin] > http.cfg->http.max_connections) {
        http_add_header(r, "Connection", "close");
        http_reply_text(r, 503, "too many connections");
        return;
    }
    if (!http.accepting) {
        /* stopping: a keep-alive connection must not hold the shutdown open */
        http_add_header(r, "Connection", "close");
        http_reply_text(r, 503, "shutting down, retry later");
        return;
    }
    path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    if (path == NULL || path[0] != '/') {
        http_reply_text(r, 400, "bad request");
        return;
    }
    http_route(r, path, &ss);
}

void
http_add_header(struct http_req *r, const char *name, const char *value)
{
    if (r->req != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(r->req), name, value);
}

const char *
http_query_raw(struct http_req *r)
{
    const struct evhttp_uri *uri;
    const char *q;

    if (r->req == NULL || (uri = evhttp_request_get_evhttp_uri(r->req)) == NULL ||
        (q = evhttp_uri_get_query(uri)) == NULL)
        return "";
    return q;
}

const char *
http_header(struct http_req *r, const char *name)
{
    if (r->req == NULL)
        return NULL;
    return evhttp_find_header(evhttp_request_get_input_headers(r->req), name);
}

static void
http_req_done(struct http_req *r, int status)
{
    struct timespec now;
    double secs;

    clock_gettime(CLOCK_MONOTONIC, &now);
    secs = (double)(now.tv_sec - r->start.tv_sec) + (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
    metrics_request(r->route, status, secs);
    log_event(status >= 500 ? LOG_WARN : LOG_INFO, "http",
              "req=%llu route=%s method=%s status=%d ms=%.3f peer=%s%s", (unsigned long long)r->id,
              r->route, http_method_name(r->method), status, secs * 1000, r->peer,
              r->req == NULL ? " peer_gone=1" : "");
    if (r->detached != NULL)
        evhttp_request_free(r->detached);
    if (r->wake != NULL)
        event_free(r->wake);
    config_unref(r->cfg);
    free(r->body);
    free(r);
    http.inflight--;
}

static void
http_written(struct evhttp_request *req, void *arg)
{
    struct http_conn *c = arg;

    (void)req;
    if (c != NULL && !c->writing)
        return;
    if (c != NULL) {
        c->writing = 0;
        /* the next request on this connection: its deadline starts with its first byte */
        c->awaiting = 1;
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
            http_conn_arm(c);
    }
    http.writing--;
}

void
http_reply(struct http_req *r, int status, const char *ctype, const char *body, size_t len)
{
    struct evbuffer *out;
    char rid[24];

    if (r->replied) {
        log_error("http_double_reply", "req=%llu route=%s", (unsigned long long)r->id, r->route);
        return;
    }
    r->replied = 1;
    if (r->req != NULL) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

        snprintf(rid, sizeof rid, "%llu", (unsigned long long)r->id);
        evhttp_add_header(h, "Content-Type", ctype);
        evhttp_add_header(h, "X-Request-Id", rid);
        if (r->conn != NULL)
            r->conn->pending = NULL;
        http.writing++;
        if (r->conn != NULL)
            r->conn->writing = 1;
        evhttp_request_set_on_complete_cb(r->req, http_written, r->conn);
        if ((out = evbuffer_new()) != NULL) {
            evbuffer_add(out, body, len);
            evhttp_send_reply(r->req, status, NULL, out);
            evbuffer_free(out);
        } else {
            evhttp_send_error(r->req, 503, NULL);
        }
    }
    http_req_done(r, status);
}

int
http_stream_start(struct http_req *r, int status, const char *ctype)
{
    char rid[24];

    if (r->replied || r->req == NULL)
        return -1;
    if (r->wake == NULL && (r->wake = event_new(http.base, -1, 0, http_stream_woken, r)) == NULL)
        return -1;
    r->streaming = status;
    snprintf(rid, sizeof rid, "%llu", (unsigned long long)r->id);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type", ctype);
    evhttp_add_header(evhttp_request_get_output_headers(r->req), "X-Request-Id", rid);
    evhttp_send_reply_start(r->req, status, NULL);
    return 0;
}

static void
http_stream_written(struct evhttp_connection *evcon, void *arg)
{
    struct http_req *r = arg;

    (void)evcon;
    if (r->drained != NULL)
        http_stream_wake(r);
}

void
http_stream_chunk(struct http_req *r, struct evbuffer *data,
                  void (*drained)(struct http_req *, void *), void *arg)
{
    r->drained = drained;
    r->drained_arg = arg;
    /* libevent sends nothing for an empty chunk (nor any body to HEAD), and then never calls
     * back either */
    if (r->req == NULL || r->method == EVHTTP_REQ_HEAD || evbuffer_get_length(data) == 0) {
        evbuffer_drain(data, evbuffer_get_length(data));
        http_stream_wake(r);
        return;
    }
    evhttp_send_reply_chunk_with_cb(r->req, data, http_stream_written, r);
}

void
http_stream_end(struct http_req *r)
{
    r->replied = 1;
    r->drained = NULL;
    if (r->req != NULL) {
        /* like http_reply(): a stopping server waits until the last chunk is on the wire */
        if (r->conn != NULL) {
            r->conn->pending = NULL;
            r->conn->writing = 1;
        }
        http.writing++;
        evhttp_request_set_on_complete_cb(r->req, http_written, r->conn);
        evhttp_send_reply_end(r->req);
    }
    http_req_done(r, r->streaming);
}

void
http_reply_text(struct http_req *r, int status, const char *text)
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s\n", text);

    if (n < 0 || (size_t)n >= sizeof buf)
        n = (int)sizeof buf - 1;
    http_reply(r, status, "text/plain; charset=utf-8", buf, (size_t)n);
}

void
http_reply_json(struct http_req *r, int status, const char *json)
{
    http_reply(r, status, "application/json", json, strlen(json));
}

void
http_ack(struct http_req *r, int ok)
{
    if (ok)
        http_reply_text(r, 200, "OK");
    else
        http_reply_text(r, 503, "temporarily unavailable, retry later");
}

void
http_stream_abort(struct http_req *r)
{
    r->replied = 1;
    r->drained = NULL;
    if (r->req != NULL) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(r->req);

        if (r->conn != NULL)
            r->conn->pending = NULL;
        r->req = NULL;
        evhttp_connection_free(evcon);
    }
    http_req_done(r, r->streaming);
}

static void
http_apply_limits(const struct config *cfg)
{
    struct evhttp *all[2] = {http.http, http.admin};
    size_t i;

    for (i = 0; i < 2 && all[i] != NULL; i++) {
        /* the admin listener takes uploads; http_route() holds its other routes to the limit */
        evhttp_set_max_body_size(
            all[i], (ev_ssize_t)(i == 1 && cfg->admin.import_max_bytes > cfg->http.max_body_size
                                     ? cfg->admin.import_max_bytes
                                     : cfg->http.max_body_size));
        evhttp_set_max_headers_size(all[i], (ev_ssize_t)cfg->http.max_headers_size);
        /* libevent's is an idle timeout, which each byte starts again: it bounds the wait
         * between requests and the writing of a reply; reading a request has its own deadline
         * (http_conn_arm) */
        evhttp_set_timeout(all[i], (int)cfg->http.timeout);
        evhttp_set_allowed_methods(all[i], (ev_uint16_t)cfg->http.methods);
    }
}

/* Each handler on the list of the listener it was written for: an admin page never answers on
 * the aggregators' address, nor a callback on the admin one. */
static int
http_handlers_set(int admin, const struct http_handler *const *list)
{
    const struct http_handler *const *h;

    for (h = list; h != NULL && *h != NULL; h++) {
        if ((*h)->admin != admin) {
            log_error("http_handler_misplaced", "handler=%s listener=%s", (*h)->name,
                      admin ? "admin" : "peers");
            errno = EINVAL;
            return -1;
        }
    }
    http.handlers[admin] = list;
    return 0;
}

int
http_start(struct event_base *base, struct config *cfg, const struct http_handler *const *peers,
           const struct http_handler *const *admin)
{
    if (http_handlers_set(0, peers) == -1 || http_handlers_set(1, admin) == -1)
        return -1;
    http.base = base;
    http.cfg = config_ref(cfg);
    if ((http.http = evhttp_new(base)) == NULL)
        return -1;
    http_apply_limits(cfg);
    evhttp_set_bevcb(http.http, http_conn_new, NULL);
    evhttp_set_gencb(http.http, http_dispatch, NULL);
    http.bound = evhttp_bind_socket_with_handle(http.http, cfg->listen_address,
                                                (ev_uint16_t)cfg->listen_port);
    if (http.bound == NULL)
        return -1;
    if (cfg->admin.enabled) {
        if ((http.admin = evhttp_new(base)) == NULL)
            return -1;
        evhttp_set_bevcb(http.admin, http_conn_new, &http);
        evhttp_set_gencb(http.admin, http_dispatch, &http);
        http.admin_bound = evhttp_bind_socket_with_handle(http.admin, cfg->admin.address,
                                                          (ev_uint16_t)cfg->admin.port);
        if (http.admin_bound == NULL)
            return -1;
    }
    http_apply_limits(cfg);
    http.accepting = 1;
    return 0;
}

static int
http_port_of(struct evhttp_bound_socket *b)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;

    if (b == NULL || getsockname(evhttp_bound_socket_get_fd(b), (struct sockaddr *)&ss, &len) == -1)
        return -1;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int
http_bound_port(void)
{
    return http_port_of(http.bound);
}

int
http_admin_port(void)
{
    return http_port_of(http.admin_bound);
}

void
http_reconfigure(struct config *cfg)
{
    struct config *old = http.cfg;

    http.cfg = config_ref(cfg);
    http_apply_limits(cfg);
    if (strcmp(old->listen_address, cfg->listen_address) != 0 ||
        old->listen_port != cfg->listen_port)
        log_warn("config_restart_needed", "setting=listen reason=\"a new listen address takes "
                                          "effect on restart\"");
    if (strcmp(old->admin.address, cfg->admin.address) != 0 || old->admin.port != cfg->admin.port ||
        old->admin.enabled != cfg->admin.enabled)
        log_warn("config_restart_needed", "setting=admin reason=\"a new admin listener takes "
                                          "effect on restart\"");
    config_unref(old);
}

size_t
http_stop_accepting(void)
{
    if (http.bound != NULL) {
        evhttp_del_accept_socket(http.http, http.bound);
        http.bound = NULL;
    }
    if (http.admin_bound != NULL) {
        evhttp_del_accept_socket(http.admin, http.admin_bound);
        http.admin_bound = NULL;
    }
    http.accepting = 0;
    return http.inflight + http.writing;
}

size_t
http_inflight(void)
{
    return http.inflight;
}

void
http_free(void)
{
    if (http.http != NULL)
        evhttp_free(http.http);
    http.http = NULL;
    if (http.admin != NULL)
        evhttp_free(http.admin);
    http.admin = NULL;
    if (http.cfg != NULL)
        config_unref(http.cfg);
    http.cfg = NULL;
}
