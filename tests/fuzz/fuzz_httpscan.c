/*
 * httpscan_feed() on any bytes, as a connection would bring them: whole, a byte at a time and
 * in chunkings drawn from the input itself (with and without bodies skipped unseen). Every way must
 * give the same verdict at the same offset, the same count of requests and the same state; after a
 * fault nothing more is taken.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpscan.h"
#include "fuzz.h"

/* Feeds data in chunks whose sizes come from seed, with skip each chunk's body bytes skipped
 * unseen first (httpscan_skip_body(), as http.c does); returns the offset of the fault (or
 * size). */
static size_t
feed_chunked(struct httpscan *s, const uint8_t *data, size_t size, uint32_t seed, int skip)
{
    size_t off = 0, n, took;

    httpscan_init(s);
    while (off < size) {
        seed = seed * 1103515245u + 12345u;
        n = 1 + (seed >> 16) % (seed & 1 ? 7 : 300);
        if (n > size - off)
            n = size - off;
        if (skip) {
            took = httpscan_skip_body(s, n);
            FUZZ_CHECK(took <= n);
            off += took;
            if ((n -= took) == 0)
                continue;
        }
        took = httpscan_feed(s, data + off, n);
        FUZZ_CHECK(took <= n);
        if (took < n) {
            FUZZ_CHECK(s->fault != HTTPSCAN_OK);
            FUZZ_CHECK(httpscan_feed(s, data + off, n) == 0);
            return off + took;
        }
        FUZZ_CHECK(s->fault == HTTPSCAN_OK);
        off += n;
    }
    return size;
}

static void
check_same(const struct httpscan *a, const struct httpscan *b)
{
    FUZZ_CHECK(a->fault == b->fault);
    FUZZ_CHECK(a->fault_in_head == b->fault_in_head);
    FUZZ_CHECK(a->requests == b->requests);
    FUZZ_CHECK(httpscan_at_line_start(a) == httpscan_at_line_start(b));
    FUZZ_CHECK(httpscan_idle(a) == httpscan_idle(b));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct httpscan whole, other;
    size_t at, i;
    uint32_t seed = 2166136261u;

    httpscan_init(&whole);
    at = httpscan_feed(&whole, data, size);
    FUZZ_CHECK(at <= size);
    if (whole.fault == HTTPSCAN_OK) {
        FUZZ_CHECK(at == size);
    } else {
        FUZZ_CHECK(at < size);
        FUZZ_CHECK(whole.fault_in_head || whole.fault == HTTPSCAN_CHUNK_LINE);
        /* a NUL fault is at the NUL itself */
        FUZZ_CHECK(whole.fault != HTTPSCAN_NUL || data[at] == '\0');
        FUZZ_CHECK(whole.fault == HTTPSCAN_NUL || data[at] == '\n');
    }
    for (i = 0; i < size; i++)
        seed = (seed ^ data[i]) * 16777619u;
    for (i = 0; i < 4; i++) {
        FUZZ_CHECK(feed_chunked(&other, data, size, seed + (uint32_t)i, (int)(i & 1)) == at);
        check_same(&whole, &other);
    }
    /* a byte at a time */
    httpscan_init(&other);
    for (i = 0; i < size && httpscan_feed(&other, data + i, 1) == 1; i++)
        ;
    FUZZ_CHECK(i == at);
    check_same(&whole, &other);
    return 0;
}
