/* One message's transfer: libcurl's multi socket interface on our loop (curl's
 * docs/examples/hiperfifo.c). The provider's table entry builds the request and reads the
 * answer; the outcome goes back to outbox.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "config.h"
#include "outbox_int.h"

static struct {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct outbox_send *flying;
} sx;

void
outbox_send_free(struct outbox_send *s)
{
    if (s->easy != NULL)
        curl_easy_cleanup(s->easy);
    curl_slist_free_all(s->headers);
    free(s->post);
    free(s->resp);
    free(s->body);
    free(s);
}

static void
outbox_send_check(void)
{
    struct outbox_send *s;
    CURLMsg *msg;
    long http = 0;
    int left;

    while ((msg = curl_multi_info_read(sx.multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &http);
        curl_multi_remove_handle(sx.multi, msg->easy_handle);
        if (s->fprev != NULL) {
            *s->fprev = s->fnext;
            if (s->fnext != NULL)
                s->fnext->fprev = s->fprev;
            s->fprev = NULL;
        }
        s->via->classify(s, http, msg->data.result);
        outbox_finish(s);
    }
    outbox_pump();
}

static void
outbox_send_socket_event(evutil_socket_t fd, short what, void *arg)
{
    int running, flags = 0;

    (void)arg;
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(sx.multi, fd, flags, &running);
    outbox_send_check();
}

static int
outbox_send_socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    struct event *ev = socketp;
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);

    (void)e;
    (void)userp;
    if (what == CURL_POLL_REMOVE) {
        if (ev != NULL)
            event_free(ev);
        curl_multi_assign(sx.multi, fd, NULL);
        return 0;
    }
    if (ev != NULL)
        event_free(ev);
    ev = event_new(sx.base, fd, kind, outbox_send_socket_event, NULL);
    curl_multi_assign(sx.multi, fd, ev);
    event_add(ev, NULL);
    return 0;
}

static void
outbox_send_timeout(evutil_socket_t fd, short what, void *arg)
{
    int running;

    (void)fd;
    (void)what;
    (void)arg;
    curl_multi_socket_action(sx.multi, CURL_SOCKET_TIMEOUT, 0, &running);
    outbox_send_check();
}

static int
outbox_send_timer_cb(CURLM *m, long ms, void *userp)
{
    struct timeval tv;

    (void)m;
    (void)userp;
    if (ms < 0) {
        evtimer_del(sx.timer);
        return 0;
    }
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    evtimer_add(sx.timer, &tv);
    return 0;
}

static size_t
outbox_send_write_cb(char *data, size_t size, size_t n, void *arg)
{
    struct outbox_send *s = arg;
    size_t len = size * n;
    char *np;

    if (s->resp_len + len > 65536)
        return 0; /* a reply this large is not one we want */
    if ((np = realloc(s->resp, s->resp_len + len + 1)) == NULL)
        return 0;
    s->resp = np;
    memcpy(s->resp + s->resp_len, data, len);
    s->resp_len += len;
    s->resp[s->resp_len] = '\0';
    return len;
}

int
outbox_send_start(struct outbox_send *s, const struct config_provider *p)
{
    if ((s->via = outbox_provider_of(p->type)) == NULL) {
        s->outcome = OUTCOME_FAILED;
        snprintf(s->error, sizeof s->error, "no sender for provider '%s'", p->name);
        return 1;
    }
    if (s->via->request == NULL) {
        s->via->classify(s, 0, CURLE_OK);
        return 1;
    }
    if ((s->easy = curl_easy_init()) == NULL)
        return -1;
    curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
    curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, outbox_send_write_cb);
    curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, (long)p->timeout);
    curl_easy_setopt(s->easy, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->easy, CURLOPT_PROTOCOLS_STR, "http,https");
    if (s->via->request(s, p) == -1 || curl_multi_add_handle(sx.multi, s->easy) != CURLM_OK)
        return -1;
    s->fnext = sx.flying;
    if (sx.flying != NULL)
        sx.flying->fprev = &s->fnext;
    s->fprev = &sx.flying;
    sx.flying = s;
    return 0;
}

int
outbox_send_init(struct event_base *base)
{
    sx.base = base;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || (sx.multi = curl_multi_init()) == NULL)
        return -1;
    curl_multi_setopt(sx.multi, CURLMOPT_SOCKETFUNCTION, outbox_send_socket_cb);
    curl_multi_setopt(sx.multi, CURLMOPT_TIMERFUNCTION, outbox_send_timer_cb);
    if ((sx.timer = evtimer_new(base, outbox_send_timeout, NULL)) == NULL)
        return -1;
    return 0;
}

int
outbox_send_idle(void)
{
    return sx.flying == NULL;
}

void
outbox_send_cleanup(void)
{
    struct outbox_send *s;

    if (sx.base == NULL)
        return;
    /* transfers still running are abandoned: their rows come back at claim_timeout */
    while ((s = sx.flying) != NULL) {
        sx.flying = s->fnext;
        curl_multi_remove_handle(sx.multi, s->easy);
        outbox_send_free(s);
    }
    if (sx.multi != NULL)
        curl_multi_cleanup(sx.multi);
    if (sx.timer != NULL)
        event_free(sx.timer);
    curl_global_cleanup();
    memset(&sx, 0, sizeof sx);
}
