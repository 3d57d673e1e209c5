#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int log_level = LOG_INFO;
static atomic_int log_personal_on = 0;
static const char *const log_names[] = {"notice", "error", "warn", "info", "debug"};

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
    /* one write per line so that lines from the workers never interleave */
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
