/* What every fuzz target shares: a check that aborts (so libFuzzer counts it) and the property
 * every parsed string must have. */
#ifndef KABAR_FUZZ_H
#define KABAR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define FUZZ_CHECK(x)                                                                              \
    do {                                                                                           \
        if (!(x)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parsed field is NUL-terminated inside its buffer and valid UTF-8. */
static inline void
fuzz_check_str(const char *s, size_t cap)
{
    FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
    FUZZ_CHECK(parse_utf8_valid(s, strlen(s)));
}

#endif
