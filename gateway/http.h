/* The front door: evhttp with limits, the route tables kabard.c hands it, and a request context
 * that survives the peer hanging up while a database job is still running. */
#ifndef KABAR_HTTP_H
#define KABAR_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct event;
struct event_base;
struct evhttp_request;
struct evkeyvalq;
struct evbuffer;
struct config;
struct config_channel;

/*
 * One per request, from dispatch to its one end (http_reply, http_stream_end or
 * http_stream_abort), which frees it; it survives the peer hanging up, so a database job may
 * still hold it.
 */
struct http_req {
    uint64_t id;
    struct evhttp_request *req; /* NULL once the peer has gone away */
    struct config *cfg;         /* a reference: stays valid across a reload */
    const struct config_channel *channel;
    const char *route; /* metrics label */
    const void *route_data;
    int method;
    char peer[64];
    char *body; /* the request body, NUL-terminated */
    size_t body_len;
    const char *content_type;
    struct timespec start;
    struct http_conn *conn;
    int replied;
    int admin; /* came in on the admin listener */
    /* a streamed reply (exports): see http_stream_start() */
    int streaming;
    void (*drained)(struct http_req *, void *);
    void *drained_arg;
    struct event *wake; /* runs drained on the loop */
    /* http.c's own: the evhttp_request libevent left to us when the peer went away before the
     * reply ended (it detaches it instead of freeing it); freed with r */
    struct evhttp_request *detached;
};

/*
 * What a route's POST body must be: a POST that does not say this Content-Type (compared
 * case-insensitively, parameters such as charset ignored) is refused with 415 "expected <type>"
 * before the route's callback runs. Without one, any body goes. Only a multipart route may have
 * a body over http.max_body_size (up to admin.import_max_bytes, on the admin listener).
 */
enum http_body { HTTP_BODY_ANY, HTTP_BODY_FORM, HTTP_BODY_JSON, HTTP_BODY_MULTIPART };

struct http_route {
    const char *proto; /* NULL: `path` is a fixed path; else the channel protocol */
    const char *path;  /* fixed path, or what follows /c/{proto}/{token}/ */
    unsigned methods;  /* EVHTTP_REQ_* */
    enum http_body body;
    const char *name; /* metrics label */
    void (*cb)(struct http_req *);
    const void *data; /* the handler's own, given to cb as r->route_data */
};

struct http_handler {
    const char *name;
    const struct http_route *routes; /* ends with a NULL path */
    int admin; /* 1: belongs on the admin listener; http_start() refuses it anywhere else */
};

/*
 * Listens, and serves each listener the handlers of its NULL-terminated list: `peers` on the
 * aggregators' listen address, `admin` on the admin listener (when the configuration enables
 * it). Returns -1 when a listener cannot be bound or a handler is on the wrong list.
 */
int http_start(struct event_base *base, struct config *cfg, const struct http_handler *const *peers,
               const struct http_handler *const *admin);
void http_reconfigure(struct config *cfg);
/* Stop accepting; returns how many requests are still in flight. */
size_t http_stop_accepting(void);
size_t http_inflight(void);
/* Requests in flight plus replies not yet written. */
size_t http_busy(void);
void http_free(void);
/* The port actually bound (listen port 0 picks a free one). */
int http_bound_port(void);
int http_admin_port(void);

/* Exactly one of these ends every request. */
void http_reply(struct http_req *r, int status, const char *ctype, const char *body, size_t len);
void http_reply_text(struct http_req *r, int status, const char *text);
void http_reply_json(struct http_req *r, int status, const char *json);
/*
 * The answer to an aggregator's callback once what it reported is stored (ok) or could not be:
 * 200 "OK", or a 503 that makes the aggregator retry (its own id keeps the retry from counting
 * twice).
 */
void http_ack(struct http_req *r, int ok);
void http_add_header(struct http_req *r, const char *name, const char *value);
/*
 * Streamed replies, for exports that must not be built in memory: start, then chunks, then end.
 * After each chunk, drained(r, arg) runs on the loop once the connection has written it (or at
 * once, with r->req NULL, when the peer has gone): produce the next chunk from there, so no more
 * than one chunk is ever buffered. http_stream_end() finishes and frees r like http_reply().
 */
int http_stream_start(struct http_req *r, int status, const char *ctype);
void http_stream_chunk(struct http_req *r, struct evbuffer *data,
                       void (*drained)(struct http_req *, void *), void *arg);
void http_stream_end(struct http_req *r);
/* Ends a stream that cannot be completed (the database went away): the connection is closed
 * without the last chunk, so the client sees an incomplete download, never a short file. */
void http_stream_abort(struct http_req *r);
/* The raw query string (for a pure parser), or "" when there is none. */
const char *http_query_raw(struct http_req *r);
/* A request header, or NULL (only while the peer is still there). */
const char *http_header(struct http_req *r, const char *name);

#endif
