/*
 * The framing of HTTP/1.1 requests on one connection, scanned as the bytes arrive and before
 * evhttp parses them: libevent keeps header values as C strings (a NUL cuts them short without
 * a word) and frames a body by the first Content-Length it finds. Pure: bytes in, a verdict
 * out; the state is a fixed-size struct, so a connection costs no allocation. Same bytes in any
 * chunking give the same verdict at the same offset.
 *
 * What it follows is what libevent 2.1's evhttp does with the same bytes, so that both agree
 * on where each request ends: lines end at "\n" or "\r\n"; an empty line ends the header
 * section; a body is read only for POST, PUT and PATCH, by "Transfer-Encoding: chunked" (its
 * first Transfer-Encoding header, the value compared whole) or else by Content-Length; chunk
 * sizes are read as evhttp reads them (strtoll in base 16, empty lines skipped) and the trailer
 * section after the last chunk is scanned like a header section.
 */
#ifndef KABAR_HTTPSCAN_H
#define KABAR_HTTPSCAN_H

#include <stddef.h>
#include <stdint.h>

enum httpscan_fault {
    HTTPSCAN_OK,
    /* a NUL in a request line, a header line or a trailer line (RFC 9110 5.5) */
    HTTPSCAN_NUL,
    /* a second Content-Length (even with the same value: all duplicates are refused), one
     * that is not digits, one next to Transfer-Encoding, either folded onto a next line, or
     * either name with a space before its colon (RFC 9112 6.3, 5.1) */
    HTTPSCAN_CONTENT_LENGTH,
    /* a chunk-size line longer than HTTPSCAN_CHUNK_LINE_MAX: one that evhttp would still read
     * (zeros in front), but the scanner would lose the framing after it */
    HTTPSCAN_CHUNK_LINE,
};

#define HTTPSCAN_CHUNK_LINE_MAX 64
#define HTTPSCAN_NAME_MAX 24 /* longer names are none that the scanner cares about */

struct httpscan {
    enum httpscan_fault fault;
    int fault_in_head; /* the fault is in a request line, header line or trailer line */
    int state;
    uint64_t requests;  /* requests whose framing has ended */
    uint64_t remaining; /* body or chunk bytes still to come */
    /* the current line */
    size_t linelen;      /* bytes so far, not counting a '\r' held back */
    unsigned char first; /* its first byte */
    int cr;              /* a '\r' held back: a line end if '\n' follows */
    int after_colon;     /* a header line past its first ':' */
    int nul_in_line;     /* chunk-size line: a NUL seen (evhttp reads up to it) */
    size_t namelen;      /* method, header name or chunk-size line collected in buf */
    char buf[HTTPSCAN_CHUNK_LINE_MAX + 1];
    /* the current header's value, as far as the scanner reads it */
    int header;   /* HTTPSCAN_H_*: which header this line (and its folds) is */
    int value_st; /* where in the value */
    uint64_t value;
    size_t te_match;
    /* the current request */
    int body_method;
    int seen_cl;
    int seen_te;
    int chunked;
    uint64_t content_length;
};

void httpscan_init(struct httpscan *s);

/*
 * Scans the next len bytes of the connection. Returns how many of them came before a fault:
 * len when there is none, else the offset of the faulty byte in p, and s->fault says which
 * fault (with s->fault_in_head). After a fault nothing more is scanned (0 is returned).
 */
size_t httpscan_feed(struct httpscan *s, const void *p, size_t len);

/*
 * Inside a body or a chunk's data: how many of the next n bytes are its, taken without being
 * looked at (httpscan_feed() does not look at them either), so that the caller need not fetch
 * them; 0 anywhere else.
 */
size_t httpscan_skip_body(struct httpscan *s, size_t n);

/*
 * After a fault in a head: 1 when the bytes before it end at the start of a line (or after a
 * lone '\r' there), so that a line of the caller's own must not begin with "\n" (which would
 * end the header section) but can be "BAD\n"; 0 in the middle of a line.
 */
int httpscan_at_line_start(const struct httpscan *s);

/* 1 between requests: every byte so far belonged to a request whose framing ended. */
int httpscan_idle(const struct httpscan *s);

#endif
