/*
 * parse_form() with a fixed table whose capacities sit near the edges (1, 2, 5 bytes), against
 * the rules of parse.h written another way (form_reference(): same verdict, same values), plus a
 * differential check of parse_utf8_valid() against a decoder written another way.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "fuzz.h"

static int
utf8_reference(const uint8_t *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint32_t c = p[i], cp, min;
        size_t n, k;

        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            min = 0x10000;
        } else {
            return 0;
        }
        if (n > len - i - 1)
            return 0;
        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

#define FORM_NFIELDS 5
#define FORM_VALUE_MAX 1100

/* %XY and '+' decoded into out (NULL: only checked); -1 on a bad escape or a decoded NUL */
static long
form_unescape(const uint8_t *p, size_t len, char *out, size_t room)
{
    static const char hex[] = "0123456789abcdef0123456789ABCDEF";
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        int c = p[i];

        if (c == '%') {
            const char *h, *l;

            if (i + 2 >= len)
                return -1;
            h = p[i + 1] != '\0' ? strchr(hex, p[i + 1]) : NULL;
            l = p[i + 2] != '\0' ? strchr(hex, p[i + 2]) : NULL;
            if (h == NULL || l == NULL)
                return -1;
            c = (int)((h - hex) % 16 * 16 + (l - hex) % 16);
            i += 2;
        } else if (c == '+') {
            c = ' ';
        }
        if (c == 0)
            return -1;
        if (out != NULL && n < room)
            out[n] = (char)c;
        n++;
    }
    return (long)n;
}

/* 0 and the value of each field (seen[i]: given), or -1 where parse_form() must fail */
static int
form_reference(const uint8_t *d, size_t size, const struct parse_field *f,
               char val[FORM_NFIELDS][FORM_VALUE_MAX], int seen[FORM_NFIELDS])
{
    size_t start = 0, end, eq, i;
    char name[80];
    long nl, vl;

    memset(seen, 0, FORM_NFIELDS * sizeof seen[0]);
    while (start < size) {
        for (end = start; end < size && d[end] != '&'; end++)
            ;
        for (eq = start; eq < end && d[eq] != '='; eq++)
            ;
        if (end > start) {
            nl = form_unescape(d + start, eq - start, name, sizeof name);
            if (nl < 0)
                return -1;
            for (i = 0; i < FORM_NFIELDS; i++)
                if ((size_t)nl == strlen(f[i].name) && memcmp(name, f[i].name, (size_t)nl) == 0)
                    break;
            vl = form_unescape(d + eq + (eq < end), end - eq - (eq < end),
                               i < FORM_NFIELDS ? val[i] : NULL, FORM_VALUE_MAX);
            if (vl < 0)
                return -1;
            if (i < FORM_NFIELDS) {
                if (seen[i] || (size_t)vl >= f[i].cap || !parse_utf8_valid(val[i], (size_t)vl))
                    return -1;
                val[i][vl] = '\0';
                seen[i] = 1;
            }
        }
        start = end + 1;
    }
    for (i = 0; i < FORM_NFIELDS; i++)
        if (f[i].required && !seen[i])
            return -1;
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char a[1], b[2], text[6], session[65], note[1025];
    char err[64];
    struct parse_field f[] = {
        {.name = "a", .buf = a, .cap = sizeof(a), .required = 0},
        {.name = "b", .buf = b, .cap = sizeof(b), .required = 0},
        {.name = "text", .buf = text, .cap = sizeof(text), .required = 1},
        {.name = "sessionId", .buf = session, .cap = sizeof(session), .required = 0},
        {.name = "note", .buf = note, .cap = sizeof(note), .required = 0},
    };
    size_t nf = sizeof(f) / sizeof(f[0]), i;
    static char want[FORM_NFIELDS][FORM_VALUE_MAX];
    int rc, seen[FORM_NFIELDS];

    FUZZ_CHECK(parse_utf8_valid((const char *)data, size) == utf8_reference(data, size));

    rc = parse_form((const char *)data, size, f, nf, err, sizeof(err));
    FUZZ_CHECK(nf == FORM_NFIELDS);
    FUZZ_CHECK(rc == form_reference(data, size, f, want, seen));
    FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
    for (i = 0; i < nf; i++)
        FUZZ_CHECK(memchr(f[i].buf, '\0', f[i].cap) != NULL);
    if (rc != 0) {
        FUZZ_CHECK(rc == -1 && err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(err[0] == '\0');
    for (i = 0; i < nf; i++) {
        FUZZ_CHECK(f[i].seen || !f[i].required);
        FUZZ_CHECK(f[i].seen || f[i].len == 0);
        FUZZ_CHECK(f[i].len < f[i].cap);
        FUZZ_CHECK(strlen(f[i].buf) == f[i].len);
        FUZZ_CHECK(parse_utf8_valid(f[i].buf, f[i].len));
        FUZZ_CHECK(f[i].seen == seen[i]);
        FUZZ_CHECK(!seen[i] || strcmp(f[i].buf, want[i]) == 0);
    }
    return 0;
}
