/*
 * The multipart/form-data parser on any bytes: the first line of the input is the Content-Type,
 * the rest the body. Every part it hands back lies inside the body, in order and apart, with a
 * name; a field copied out is NUL-terminated.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "multipart.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *nl = memchr(in, '\n', size), *body, *prev;
    char ct[256], err[128], v[64];
    struct multipart_form f;
    size_t i, blen, clen;

    clen = nl != NULL ? (size_t)(nl - in) : size;
    if (clen >= sizeof ct || memchr(in, '\0', clen) != NULL)
        return 0;
    memcpy(ct, in, clen);
    ct[clen] = '\0';
    body = nl != NULL ? nl + 1 : in + size;
    blen = (size_t)(in + size - body);
    if (multipart_parse(ct, body, blen, &f, err, sizeof err) == -1) {
        FUZZ_CHECK(strlen(err) > 0);
        return 0;
    }
    FUZZ_CHECK(f.n >= 1 && f.n <= MULTIPART_PARTS_MAX);
    prev = body;
    for (i = 0; i < f.n; i++) {
        const struct multipart_part *p = &f.parts[i];

        FUZZ_CHECK(p->name != NULL && p->name_len > 0);
        FUZZ_CHECK(p->name >= body && p->name + p->name_len <= body + blen);
        FUZZ_CHECK(p->data >= prev && p->data + p->len <= body + blen);
        if (p->filename != NULL)
            FUZZ_CHECK(p->filename >= body && p->filename + p->filename_len <= body + blen);
        prev = p->data + p->len;
        if (p->name_len < 32) {
            char name[32];

            memcpy(name, p->name, p->name_len);
            name[p->name_len] = '\0';
            if (multipart_field(&f, name, v, sizeof v) == 0)
                FUZZ_CHECK(strlen(v) < sizeof v);
        }
    }
    return 0;
}
