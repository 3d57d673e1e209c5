#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"

#define LOG_BUF (64 * 1024)

static atomic_int log_level = LOG_INFO;
static atomic_int log_personal_on = 0;
static const char *const log_names[] = {"notice", "error", "warn", "info", "debug"};

/* The loop thread's lines, written together when its turn of callbacks ends (log_buffer_start). */
static struct {
    struct event *ev;
    pthread_t loop;
    int on;
    size_t len;
    char buf[LOG_BUF];
} log_buf;

static void
log_write(const char *p, size_t n)
{
    ssize_t w;

    while (n > 0 && (w = write(STDERR_FILENO, p, n)) > 0) {
        p += w;
        n -= (size_t)w;
    }
}

void
log_flush(void)
{
    if (log_buf.len > 0)
        log_write(log_buf.buf, log_buf.len);
    log_buf.len = 0;
}

static void
log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    log_flush();
}

int
log_buffer_start(struct event_base *base)
{
    if ((log_buf.ev = event_new(base, -1, 0, log_flush_cb, NULL)) == NULL)
        return -1;
    log_buf.loop = pthread_self();
    log_buf.on = 1;
    atexit(log_flush); /* an exit() on the loop does not lose what waits */
    return 0;
}

void
log_buffer_stop(void)
{
    log_flush();
    log_buf.on = 0;
    if (log_buf.ev != NULL)
        event_free(log_buf.ev);
    log_buf.ev = NULL;
}

void
log_set_level(int level)
{
    atomic_store(&log_level, level);
}

int
log_get_level(void)
{
    return atomic_load(&log_level);
}

int
log_level_parse(const char *name, int *level)
{
    int i;

    for (i = LOG_ERROR; i < (int)(sizeof log_names / sizeof log_names[0]); i++) {
        if (strcasecmp(name, log_names[i]) == 0) {
            *level = i;
            return 0;
        }
    }
    return -1;
}

void
log_set_personal(int on)
{
    atomic_store(&log_personal_on, on);
}

int
log_personal(void)
{
    return atomic_load(&log_personal_on);
}

void
log_event(int level, const char *event, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n, m;

    if (level > atomic_load(&log_level))
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s event=%s ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ts.tv_nsec / 1000000, log_names[level], event);
    if (n < 0 || (size_t)n >= sizeof line)
        return;
    va_start(ap, fmt);
    m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += m;
    if ((size_t)n > sizeof line - 2)
        n = sizeof line - 2;
    line[n++] = '\n';
    /* The loop's lines wait for the end of its turn of callbacks, still one line per event: the
     * active event runs before the loop polls again, so before any reply of this turn reaches its
     * socket. Notices, errors and warnings go at once, with what waited before them. */
    if (log_buf.on && pthread_equal(pthread_self(), log_buf.loop)) {
        if (log_buf.len + (size_t)n > sizeof log_buf.buf)
            log_flush();
        if (log_buf.len == 0 && level > LOG_WARN)
            event_active(log_buf.ev, EV_TIMEOUT, 1);
        memcpy(log_buf.buf + log_buf.len, line, (size_t)n);
        log_buf.len += (size_t)n;
        if (level <= LOG_WARN)
            log_flush();
        return;
    }
    /* the workers: one write per line, so that lines never interleave */
    if (write(STDERR_FILENO, line, (size_t)n) < 0)
        return;
}

const char *
log_quote(const char *s, size_t len, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0;

    if (outlen < 3) {
        if (outlen > 0)
            out[0] = '\0';
        return out;
    }
    out[o++] = '"';
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (o + 5 >= outlen)
            break;
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

const char *
log_msisdn(const char *msisdn, char *out, size_t outlen)
{
    size_t len = strlen(msisdn), i;

    if (outlen == 0)
        return out;
    if (atomic_load(&log_personal_on) || len <= 6) {
        snprintf(out, outlen, "%s", log_personal() ? msisdn : "***");
        return out;
    }
    /* keep the country prefix and the last three digits: enough to follow a case in the logs */
    for (i = 0; i < len && i + 1 < outlen; i++)
        out[i] = (i < 3 || i >= len - 3) ? msisdn[i] : '*';
    out[i] = '\0';
    return out;
}
