/*
 * gsm7_measure() and gsm7_utf8_next() on any bytes (the handset's USSD input is decoded with
 * the latter): both refuse exactly what parse_utf8_valid() refuses; the decoder walks valid
 * text one code point at a time; UCS-2 units count the code points, two for those outside the
 * BMP; septets count one or two per character; and measuring is additive: the two halves of a
 * text, cut between characters, measure what the whole does. gsm7_sms_segments() holds the
 * units it is given, and needs every part it counts. parse_utf8_clean() leaves any bytes
 * well-formed, of the same length, valid text unchanged, and changes a byte only to '?'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "gsm7.h"
#include "parse.h"

static void
check_segments(size_t units, int gsm)
{
    size_t segs = gsm7_sms_segments(units, gsm), single = gsm ? 160 : 70, part = gsm ? 153 : 67;

    FUZZ_CHECK(segs >= 1);
    if (units <= single) {
        FUZZ_CHECK(segs == 1);
        return;
    }
    FUZZ_CHECK(segs * part >= units && (segs - 1) * part < units);
}

static void
check_clean(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    size_t n, i;

    if (t == NULL)
        return;
    memcpy(t, data, size);
    t[size] = '\0';
    n = strlen(t);
    parse_utf8_clean(t);
    FUZZ_CHECK(strlen(t) == n && parse_utf8_valid(t, n));
    for (i = 0; i < n; i++)
        FUZZ_CHECK(t[i] == (char)data[i] || t[i] == '?');
    if (parse_utf8_valid((const char *)data, n))
        FUZZ_CHECK(memcmp(t, data, n) == 0);
    free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t units = 0, pos = 0, before, ncp = 0, astral = 0, cut = 0, u1, u2;
    int gsm = -1, valid = parse_utf8_valid(s, size), g1, g2, rc;
    uint32_t cp;

    check_clean(data, size);
    rc = gsm7_measure(s, size, &units, &gsm);
    FUZZ_CHECK(rc == (valid ? 0 : -1));
    while (pos < size) {
        before = pos;
        if (gsm7_utf8_next(s, size, &pos, &cp) != 0) {
            FUZZ_CHECK(!valid && pos == before);
            return 0;
        }
        FUZZ_CHECK(pos > before && pos - before <= 4 && pos <= size);
        FUZZ_CHECK(cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF));
        FUZZ_CHECK(parse_utf8_valid(s + before, pos - before));
        ncp++;
        astral += cp > 0xFFFF;
        if (ncp == 1 + (size > 0 ? (size_t)data[0] % 8 : 0))
            cut = pos;
    }
    FUZZ_CHECK(valid && gsm7_utf8_next(s, size, &pos, &cp) == -1);
    FUZZ_CHECK(gsm == 0 || gsm == 1);
    if (gsm)
        FUZZ_CHECK(units >= ncp && units <= 2 * ncp);
    else
        FUZZ_CHECK(units == ncp + astral);
    check_segments(units, gsm);

    FUZZ_CHECK(gsm7_measure(s, cut, &u1, &g1) == 0 &&
               gsm7_measure(s + cut, size - cut, &u2, &g2) == 0);
    FUZZ_CHECK(gsm == (g1 && g2));
    if (gsm)
        FUZZ_CHECK(units == u1 + u2);
    return 0;
}
