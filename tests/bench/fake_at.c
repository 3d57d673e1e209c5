/*
 * A fast fake of Africa's Talking's SMS send API, for the outbox benchmark (scripts/bench-outbox).
 * Loopback only. One libevent loop, no threads.
 *
 *   fake_at -k KEYFILE [-p PORT] [-l LATENCY_MS]
 *
 * KEYFILE's first line is the apiKey expected (a file, so the key is not in ps). PORT 0 (the
 * default) picks a free one; either way "port=N" is printed on stdout once listening.
 * POST /version1/messaging with the right apiKey header and the form fields username, to (one
 * number) and message gets, after LATENCY_MS, HTTP 201 and
 *   {"SMSMessageData":{"Message":"Sent to 1/1 Total Cost: IDR 350.0000","Recipients":[
 *    {"statusCode":101,"number":"+62...","status":"Success","cost":"IDR 350.0000",
 *     "messageId":"ATXid_<unique>"}]}}
 * A wrong or missing apiKey is 401, a missing field 400, a `to` that is not one number 201 with
 * statusCode 403 (InvalidPhoneNumber). GET /count answers the counters as JSON; SIGTERM or
 * SIGINT prints them on stdout and exits 0. "duplicates" counts accepted requests whose `to`
 * had been accepted before: the benchmark sends to distinct numbers, so any is a double send.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#define FAKE_KEY_MAX 256
#define FAKE_NUMBER_MAX 16 /* E.164: '+' and at most 15 digits */

struct fake_counts {
    unsigned long long requests, accepted, unauthorized, bad, invalid, duplicates;
};

/* The numbers accepted so far: open addressing, grown at half full. */
struct fake_seen {
    char (*slot)[FAKE_NUMBER_MAX + 1];
    size_t cap, n;
};

struct fake_reply {
    struct evhttp_request *req;
    struct evbuffer *body;
    int code;
    const char *reason;
    const char *ctype; /* of body */
};

static struct {
    struct event_base *base;
    char key[FAKE_KEY_MAX];
    struct timeval latency;
    int delayed;
    unsigned long long next_id;
    unsigned run; /* in every messageId, so ids differ between runs too */
    struct fake_counts c;
    struct fake_seen seen;
} fake;

static int
fake_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int
fake_read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    size_t n;

    if (f == NULL) {
        fprintf(stderr, "fake_at: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    n = fread(fake.key, 1, sizeof fake.key - 1, f);
    fclose(f);
    fake.key[n] = '\0';
    fake.key[strcspn(fake.key, "\r\n")] = '\0';
    if (fake.key[0] == '\0') {
        fprintf(stderr, "fake_at: %s holds no key\n", path);
        return -1;
    }
    return 0;
}

static uint64_t
fake_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    while (*s != '\0')
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static size_t
fake_seen_find(const struct fake_seen *t, const char *number)
{
    size_t i = (size_t)fake_hash(number) & (t->cap - 1);

    while (t->slot[i][0] != '\0' && strcmp(t->slot[i], number) != 0)
        i = (i + 1) & (t->cap - 1);
    return i;
}

/* Records number; returns 1 if it was seen before, 0 if not, -1 when out of memory. */
static int
fake_seen_add(const char *number)
{
    struct fake_seen *t = &fake.seen;
    size_t i;

    if (t->n * 2 >= t->cap) {
        struct fake_seen nt = {NULL, t->cap ? t->cap * 2 : 16384, 0};

        if ((nt.slot = calloc(nt.cap, sizeof *nt.slot)) == NULL)
            return -1;
        for (i = 0; i < t->cap; i++)
            if (t->slot[i][0] != '\0') {
                memcpy(nt.slot[fake_seen_find(&nt, t->slot[i])], t->slot[i], sizeof *t->slot);
                nt.n++;
            }
        free(t->slot);
        *t = nt;
    }
    i = fake_seen_find(t, number);
    if (t->slot[i][0] != '\0')
        return 1;
    snprintf(t->slot[i], sizeof t->slot[i], "%s", number);
    t->n++;
    return 0;
}

/* One number, '+' then 6 to 15 digits: all that is echoed back, so no JSON escaping needed. */
static int
fake_number_ok(const char *s)
{
    size_t n = 0;

    if (*s++ != '+')
        return 0;
    for (; *s != '\0'; s++, n++)
        if (*s < '0' || *s > '9')
            return 0;
    return n >= 6 && n <= 15;
}

static void
fake_send(struct fake_reply *r)
{
    if (r->body != NULL) {
        evhttp_add_header(evhttp_request_get_output_headers(r->req), "Content-Type", r->ctype);
        evhttp_send_reply(r->req, r->code, r->reason, r->body);
        evbuffer_free(r->body);
    } else {
        evhttp_send_error(r->req, r->code, r->reason);
    }
    free(r);
}

static void
fake_send_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    /* evhttp keeps a request whose client left until it is answered, then frees it */
    fake_send(arg);
}

static void
fake_counts_json(struct evbuffer *b)
{
    evbuffer_add_printf(b,
                        "{\"requests\":%llu,\"accepted\":%llu,\"unauthorized\":%llu,"
                        "\"bad\":%llu,\"invalid\":%llu,\"duplicates\":%llu}\n",
                        fake.c.requests, fake.c.accepted, fake.c.unauthorized, fake.c.bad,
                        fake.c.invalid, fake.c.duplicates);
}

/* Fills r with the answer to one send request. */
static void
fake_messaging(struct evhttp_request *req, struct fake_reply *r)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    const char *key = evhttp_find_header(evhttp_request_get_input_headers(req), "apiKey");
    struct evkeyvalq form;
    const char *to, *user, *msg;
    size_t len = evbuffer_get_length(in);
    char *body;
    int seen;

    TAILQ_INIT(&form);
    if (key == NULL || strcmp(key, fake.key) != 0) {
        fake.c.unauthorized++;
        r->code = 401;
        r->reason = "Unauthorized";
        return;
    }
    if ((body = malloc(len + 1)) == NULL) {
        r->code = 500;
        r->reason = "Internal Server Error";
        return;
    }
    evbuffer_copyout(in, body, len);
    body[len] = '\0';
    if (evhttp_parse_query_str(body, &form) != 0 ||
        (to = evhttp_find_header(&form, "to")) == NULL ||
        (user = evhttp_find_header(&form, "username")) == NULL ||
        (msg = evhttp_find_header(&form, "message")) == NULL || to[0] == '\0' || user[0] == '\0' ||
        msg[0] == '\0') {
        fake.c.bad++;
        r->code = 400;
        r->reason = "Bad Request";
        goto out;
    }
    if ((r->body = evbuffer_new()) == NULL) {
        r->code = 500;
        r->reason = "Internal Server Error";
        goto out;
    }
    r->code = 201;
    r->reason = "Created";
    r->ctype = "application/json";
    if (!fake_number_ok(to)) {
        fake.c.invalid++;
        evbuffer_add_printf(r->body,
                            "{\"SMSMessageData\":{\"Message\":\"Sent to 0/1 Total Cost: 0\","
                            "\"Recipients\":[{\"statusCode\":403,\"number\":\"\","
                            "\"status\":\"InvalidPhoneNumber\",\"cost\":\"0\","
                            "\"messageId\":\"None\"}]}}");
        goto out;
    }
    fake.c.accepted++;
    if ((seen = fake_seen_add(to)) == 1)
        fake.c.duplicates++;
    else if (seen == -1)
        fprintf(stderr, "fake_at: out of memory, duplicates are no longer counted\n");
    evbuffer_add_printf(r->body,
                        "{\"SMSMessageData\":{\"Message\":\"Sent to 1/1 Total Cost: IDR 350.0000\","
                        "\"Recipients\":[{\"statusCode\":101,\"number\":\"%s\","
                        "\"status\":\"Success\",\"cost\":\"IDR 350.0000\","
                        "\"messageId\":\"ATXid_%08x%010llu\"}]}}",
                        to, fake.run, ++fake.next_id);
out:
    evhttp_clear_headers(&form);
    free(body);
}

static void
fake_request(struct evhttp_request *req, void *arg)
{
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    struct fake_reply *r = calloc(1, sizeof *r);

    (void)arg;
    if (r == NULL) {
        evhttp_send_error(req, 500, "Internal Server Error");
        return;
    }
    r->req = req;
    fake.c.requests++;
    if (path == NULL)
        path = "";
    if (strcmp(path, "/count") == 0 && cmd == EVHTTP_REQ_GET) {
        fake.c.requests--; /* only send requests count */
        if ((r->body = evbuffer_new()) != NULL) {
            fake_counts_json(r->body);
            r->code = 200;
            r->ctype = "application/json";
        } else {
            r->code = 500;
        }
        fake_send(r); /* never delayed */
        return;
    }
    if (strcmp(path, "/version1/messaging") != 0 && strcmp(path, "/version1/messaging/") != 0) {
        fake.c.bad++;
        r->code = 404;
        r->reason = "Not Found";
    } else if (cmd != EVHTTP_REQ_POST) {
        fake.c.bad++;
        r->code = 405;
        r->reason = "Method Not Allowed";
    } else {
        fake_messaging(req, r);
    }
    if (fake.delayed &&
        event_base_once(fake.base, -1, EV_TIMEOUT, fake_send_later, r, &fake.latency) == 0)
        return;
    fake_send(r);
}

static void
fake_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    (void)arg;
    event_base_loopexit(fake.base, NULL);
}

int
main(int argc, char **argv)
{
    struct evhttp *http = NULL;
    struct evhttp_bound_socket *sock;
    struct event *term = NULL, *intr = NULL;
    struct evbuffer *out;
    struct timeval idle = {60, 0};
    unsigned long port = 0, latency = 0;
    const char *keyfile = NULL;
    int opt, rc = 1;

    while ((opt = getopt(argc, argv, "k:p:l:")) != -1) {
        switch (opt) {
        case 'k':
            keyfile = optarg;
            break;
        case 'p':
            if (fake_parse_ulong(optarg, 65535, &port) == -1) {
                fprintf(stderr, "fake_at: -p wants a port number, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'l':
            if (fake_parse_ulong(optarg, 60000, &latency) == -1) {
                fprintf(stderr, "fake_at: -l wants milliseconds (0-60000), not '%s'\n", optarg);
                return 2;
            }
            break;
        default:
            fprintf(stderr, "usage: fake_at -k KEYFILE [-p PORT] [-l LATENCY_MS]\n");
            return 2;
        }
    }
    if (keyfile == NULL || optind != argc) {
        fprintf(stderr, "usage: fake_at -k KEYFILE [-p PORT] [-l LATENCY_MS]\n");
        return 2;
    }
    if (fake_read_key(keyfile) == -1)
        return 2;
    fake.latency.tv_sec = (time_t)(latency / 1000);
    fake.latency.tv_usec = (suseconds_t)(latency % 1000) * 1000;
    fake.delayed = latency > 0;
    fake.run = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
    signal(SIGPIPE, SIG_IGN);
    if ((fake.base = event_base_new()) == NULL || (http = evhttp_new(fake.base)) == NULL)
        goto done;
    evhttp_set_max_body_size(http, 16384);
    evhttp_set_max_headers_size(http, 8192);
    evhttp_set_timeout_tv(http, &idle);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
    evhttp_set_gencb(http, fake_request, NULL);
    if ((sock = evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port)) == NULL) {
        fprintf(stderr, "fake_at: cannot listen on 127.0.0.1:%lu: %s\n", port, strerror(errno));
        goto done;
    }
    {
        struct sockaddr_storage ss;
        ev_socklen_t sl = sizeof ss;
        evutil_socket_t fd = evhttp_bound_socket_get_fd(sock);

        if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 || ss.ss_family != AF_INET) {
            fprintf(stderr, "fake_at: getsockname: %s\n", strerror(errno));
            goto done;
        }
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    }
    if ((term = evsignal_new(fake.base, SIGTERM, fake_signal, NULL)) == NULL ||
        (intr = evsignal_new(fake.base, SIGINT, fake_signal, NULL)) == NULL ||
        evsignal_add(term, NULL) == -1 || evsignal_add(intr, NULL) == -1)
        goto done;
    printf("port=%lu\n", port);
    fflush(stdout);
    event_base_dispatch(fake.base);
    if ((out = evbuffer_new()) != NULL) {
        fake_counts_json(out);
        evbuffer_write(out, STDOUT_FILENO);
        evbuffer_free(out);
    }
    rc = 0;
done:
    if (term != NULL)
        event_free(term);
    if (intr != NULL)
        event_free(intr);
    if (http != NULL)
        evhttp_free(http);
    if (fake.base != NULL)
        event_base_free(fake.base);
    free(fake.seen.slot);
    return rc;
}
