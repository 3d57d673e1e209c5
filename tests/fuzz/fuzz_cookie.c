/* parse_cookie() on any bytes: the value it returns is bounded, token-only, and really in the
 * header as a whole "name=value" pair: after the start, ';' or blanks, and before the end, ';' or
 * blanks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

static int
cookie_pair_at(const uint8_t *data, size_t size, const char *pair, size_t n)
{
    const uint8_t *p = data, *end = data + size;

    while ((p = memmem(p, (size_t)(end - p), pair, n)) != NULL) {
        if ((p == data || (p[-1] != '\0' && strchr("; \t", p[-1]) != NULL)) &&
            (p + n == end || (p[n] != '\0' && strchr("; \t", p[n]) != NULL)))
            return 1;
        p++;
    }
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[72], want[sizeof "kabar_session=" + sizeof out];
    size_t cap = size > 0 ? 1 + data[0] % sizeof out : sizeof out, n, i;

    if (parse_cookie((const char *)data, size, "kabar_session", out, cap) == 0) {
        n = strlen(out);
        FUZZ_CHECK(n > 0 && n < cap);
        for (i = 0; i < n; i++)
            FUZZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                              out[i]) != NULL);
        /* memmem, not strstr: the header may hold a NUL before the cookie */
        n = (size_t)snprintf(want, sizeof want, "kabar_session=%s", out);
        FUZZ_CHECK(cookie_pair_at(data, size, want, n));
    } else {
        FUZZ_CHECK(cap == 0 || out[0] == '\0');
    }
    return 0;
}
