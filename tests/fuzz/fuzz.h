/* What every fuzz target shares: a check that aborts (so libFuzzer counts it) and the property
 * every parsed string must have. */
#ifndef KABAR_FUZZ_H
#define KABAR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/*
 * The shipped configuration file a target loads: $KABAR_SRCDIR/config/NAME, else other (a path,
 * or NULL), else ./config/NAME, else a temporary file written with builtin, which the caller
 * unlinks once loaded (*tmp is 1).
 */
static inline void
fuzz_config_path(const char *name, const char *other, const char *builtin, char *path, size_t cap,
                 int *tmp)
{
    const char *dir = getenv("KABAR_SRCDIR");
    FILE *f;
    int fd;

    *tmp = 0;
    if (dir != NULL && *dir != '\0') {
        snprintf(path, cap, "%s/config/%s", dir, name);
        return;
    }
    if (other != NULL && access(other, R_OK) == 0) {
        snprintf(path, cap, "%s", other);
        return;
    }
    snprintf(path, cap, "config/%s", name);
    if (access(path, R_OK) == 0)
        return;
    snprintf(path, cap, "/tmp/fuzz_config_XXXXXX");
    fd = mkstemp(path);
    FUZZ_CHECK(fd >= 0);
    f = fdopen(fd, "w");
    FUZZ_CHECK(f != NULL);
    fputs(builtin, f);
    fclose(f);
    *tmp = 1;
}

#endif
