/*
 * parse_form() with a fixed table whose capacities sit near the edges (1, 2, 5 bytes), plus a
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
    int rc;

    FUZZ_CHECK(parse_utf8_valid((const char *)data, size) == utf8_reference(data, size));

    rc = parse_form((const char *)data, size, f, nf, err, sizeof(err));
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
    }
    return 0;
}
