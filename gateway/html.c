#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "html.h"

int
html_escape(struct evbuffer *out, const char *s, size_t len)
{
    size_t i, start = 0;
    const char *ent;

    for (i = 0; i < len; i++) {
        switch (s[i]) {
        case '&':
            ent = "&amp;";
            break;
        case '<':
            ent = "&lt;";
            break;
        case '>':
            ent = "&gt;";
            break;
        case '"':
            ent = "&quot;";
            break;
        case '\'':
            ent = "&#39;";
            break;
        default:
            continue;
        }
        if (evbuffer_add(out, s + start, i - start) == -1 ||
            evbuffer_add(out, ent, strlen(ent)) == -1)
            return -1;
        start = i + 1;
    }
    return evbuffer_add(out, s + start, len - start);
}

int
html_escape_str(struct evbuffer *out, const char *s)
{
    return s == NULL ? 0 : html_escape(out, s, strlen(s));
}

int
html_escapef(struct evbuffer *out, const char *fmt, ...)
{
    va_list ap;
    char buf[512], *big = NULL;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof buf)
        return html_escape(out, buf, (size_t)n);
    if ((big = malloc((size_t)n + 1)) == NULL)
        return -1;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = html_escape(out, big, (size_t)n);
    free(big);
    return rc;
}

int
csv_field(struct evbuffer *out, const char *s, size_t len)
{
    size_t i, start = 0;
    int formula, quote;

    if (s == NULL || len == 0)
        return 0;
    /* a leading = + - @ starts a formula, unless the field is only a number or phone number
     * ("+628123456789", "-5"), which cannot carry one */
    formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
    for (i = 0; formula && i < len && strchr("+-0123456789.", s[i]) != NULL && s[i] != '\0'; i++)
        ;
    if (i == len)
        formula = 0;
    i = 0;
    quote = formula || memchr(s, ',', len) != NULL || memchr(s, '"', len) != NULL ||
            memchr(s, '\n', len) != NULL || memchr(s, '\r', len) != NULL;
    if (!quote)
        return evbuffer_add(out, s, len);
    if (evbuffer_add(out, formula ? "\"'" : "\"", formula ? 2 : 1) == -1)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] != '"')
            continue;
        if (evbuffer_add(out, s + start, i + 1 - start) == -1 || evbuffer_add(out, "\"", 1) == -1)
            return -1;
        start = i + 1;
    }
    if (evbuffer_add(out, s + start, len - start) == -1)
        return -1;
    return evbuffer_add(out, "\"", 1);
}

void
html_rupiah(unsigned long long v, char *out, size_t outlen)
{
    char digits[32];
    size_t n, i, o = 0;

    n = (size_t)snprintf(digits, sizeof digits, "%llu", v);
    for (i = 0; i < n && o + 1 < outlen; i++) {
        if (i > 0 && (n - i) % 3 == 0) {
            out[o++] = '.';
            if (o + 1 >= outlen)
                break;
        }
        out[o++] = digits[i];
    }
    if (outlen > 0)
        out[o < outlen ? o : outlen - 1] = '\0';
}
