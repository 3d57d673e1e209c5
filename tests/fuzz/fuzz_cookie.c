/* parse_cookie() on any bytes: the value it returns is bounded, token-only, and really in the
 * header right after "name=". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[72], *copy;
    size_t cap = size > 0 ? 1 + data[0] % sizeof out : sizeof out, n, i;
    const char *hit;

    if (parse_cookie((const char *)data, size, "kabar_session", out, cap) == 0) {
        n = strlen(out);
        FUZZ_CHECK(n > 0 && n < cap);
        for (i = 0; i < n; i++)
            FUZZ_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                              out[i]) != NULL);
        if ((copy = malloc(size + 1)) == NULL)
            return 0;
        memcpy(copy, data, size);
        copy[size] = '\0';
        hit = strstr(copy, "kabar_session=");
        FUZZ_CHECK(hit != NULL);
        free(copy);
    } else {
        FUZZ_CHECK(cap == 0 || out[0] == '\0');
    }
    return 0;
}
