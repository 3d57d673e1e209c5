/*
 * parse_msisdn() and parse_mask_msisdn() on any bytes, plus parse_u64() against strtoull() on
 * the same input (short numbers are what both see).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "fuzz.h"

static void
check_e164(const char *s)
{
    size_t n = strlen(s), i;

    FUZZ_CHECK(n >= 9 && n <= 16);
    FUZZ_CHECK(s[0] == '+' && s[1] != '0');
    for (i = 1; i < n; i++)
        FUZZ_CHECK(s[i] >= '0' && s[i] <= '9');
}

/* What was written, and what came out: the same digits, the country code added to a national
 * number ("0812..." is "+62812..."), or the trunk zero dropped after it ("+62 0812..."). */
static void
check_digits(const uint8_t *data, size_t size, const char *out)
{
    char d[64];
    size_t i, n = 0, plus = 0;

    for (i = 0; i < size; i++) {
        if (data[i] >= '0' && data[i] <= '9') {
            FUZZ_CHECK(n < sizeof d - 1);
            d[n++] = (char)data[i];
        } else if (data[i] == '+') {
            FUZZ_CHECK(n == 0 && plus++ == 0);
        } else {
            FUZZ_CHECK(memchr(" -.()", data[i], 5) != NULL);
        }
    }
    d[n] = '\0';
    out++;
    if (strcmp(out, d) == 0)
        return;
    FUZZ_CHECK(strncmp(out, "62", 2) == 0);
    FUZZ_CHECK((!plus && d[0] == '0' && strcmp(out + 2, d + 1) == 0) ||
               (strncmp(d, "620", 3) == 0 && strcmp(out + 2, d + 3) == 0));
}

static void
check_mask(const char *in, size_t outlen)
{
    char out[32];
    size_t n, i, visible = 0;

    parse_mask_msisdn(in, out, outlen);
    n = strlen(out);
    FUZZ_CHECK(n < outlen);
    FUZZ_CHECK(n == (strlen(in) < outlen - 1 ? strlen(in) : outlen - 1));
    for (i = 0; i < n; i++) {
        if (out[i] != '*') {
            visible++;
            FUZZ_CHECK(out[i] == '+' || out[i] == '?' || (out[i] >= '0' && out[i] <= '9'));
        }
    }
    FUZZ_CHECK(visible <= 6);
}

static void
check_u64(const uint8_t *data, size_t size)
{
    char s[32];
    uint64_t v = 0, min = 0, max = UINT64_MAX;
    unsigned long long ref;
    char *end;
    int digits = size > 0 && size <= 20, rc, want;
    size_t i;

    for (i = 0; i < size && digits; i++)
        digits = data[i] >= '0' && data[i] <= '9';
    /* the first byte, if any, picks a range so min/max get exercised too */
    if (size > 0 && (data[0] & 1)) {
        min = 10;
        max = 150000;
    }
    rc = parse_u64((const char *)data, size, min, max, &v);
    if (!digits) {
        FUZZ_CHECK(rc == -1);
        return;
    }
    memcpy(s, data, size);
    s[size] = '\0';
    errno = 0;
    ref = strtoull(s, &end, 10);
    want = errno == 0 && *end == '\0' && ref >= min && ref <= max;
    FUZZ_CHECK(rc == (want ? 0 : -1));
    if (want)
        FUZZ_CHECK(v == ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[PARSE_MSISDN_SIZE], again[PARSE_MSISDN_SIZE];
    char *copy;

    check_u64(data, size);

    if (parse_msisdn((const char *)data, size, out) == 0) {
        check_e164(out);
        check_digits(data, size, out);
        /* normalising is idempotent */
        FUZZ_CHECK(parse_msisdn(out, strlen(out), again) == 0);
        FUZZ_CHECK(strcmp(out, again) == 0);
        check_mask(out, sizeof(out));
    } else {
        FUZZ_CHECK(out[0] == '\0');
    }

    /* the mask is for logs and may be handed raw junk */
    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    check_mask(copy, 32);
    check_mask(copy, 1 + size % 8);
    free(copy);
    return 0;
}
