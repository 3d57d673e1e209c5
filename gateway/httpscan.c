#include <stdlib.h>
#include <string.h>

#include "httpscan.h"

enum {
    S_REQLINE,    /* the request line */
    S_HEADER,     /* header lines, up to the empty line */
    S_BODY,       /* a body framed by Content-Length */
    S_CHUNK_SIZE, /* a chunk-size line (or an empty line between chunks) */
    S_CHUNK_DATA,
    S_TRAILER,  /* header-like lines after the last chunk, up to an empty line */
    S_UNFRAMED, /* a chunk size evhttp refuses: it closes the connection, nothing to follow */
    S_FAULT,
};

enum { H_OTHER, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_BAD_NAME };

/* where in a header value: before it, in it, in spaces after it, past what is allowed */
enum { V_LEAD, V_IN, V_TRAIL, V_BAD };

#define CL_MAX UINT64_C(1000000000000000000) /* larger reads as this: evhttp answers 413 */

void
httpscan_init(struct httpscan *s)
{
    memset(s, 0, sizeof *s);
    s->state = S_REQLINE;
}

static void
httpscan_new_line(struct httpscan *s)
{
    s->linelen = 0;
    s->first = 0;
    s->after_colon = 0;
    s->nul_in_line = 0;
    s->namelen = 0;
}

static void
httpscan_request_done(struct httpscan *s)
{
    uint64_t n = s->requests + 1;

    httpscan_init(s);
    s->requests = n;
}

static int
httpscan_is_head(int state)
{
    return state == S_REQLINE || state == S_HEADER || state == S_TRAILER;
}

/* Keeps up to max bytes of a name (lower case when lower), and counts one past max. */
static void
httpscan_collect(struct httpscan *s, unsigned char b, size_t max, int lower)
{
    if (s->namelen < max)
        s->buf[s->namelen] = (char)(lower && b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
    if (s->namelen <= max)
        s->namelen++;
}

static int
httpscan_name_is(const struct httpscan *s, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s->buf, want, len) == 0;
}

/* The header this name is (the name as collected, lower case, before its ':'). */
static int
httpscan_classify(const struct httpscan *s)
{
    size_t n = s->namelen;

    if (n > HTTPSCAN_NAME_MAX)
        return H_OTHER;
    if (httpscan_name_is(s, n, "content-length"))
        return H_CONTENT_LENGTH;
    if (httpscan_name_is(s, n, "transfer-encoding"))
        return H_TRANSFER_ENCODING;
    /* evhttp keeps the name up to the colon as it is: "Content-Length :" would be another
     * header to it, and the length to a proxy that trims */
    while (n > 0 && (s->buf[n - 1] == ' ' || s->buf[n - 1] == '\t'))
        n--;
    if (n != s->namelen &&
        (httpscan_name_is(s, n, "content-length") || httpscan_name_is(s, n, "transfer-encoding")))
        return H_BAD_NAME;
    return H_OTHER;
}

/* Content-Length: digits between optional spaces and tabs, nothing else. */
static void
httpscan_cl_byte(struct httpscan *s, unsigned char b)
{
    int ws = b == ' ' || b == '\t';

    if (s->value_st == V_LEAD && ws)
        return;
    if ((s->value_st == V_LEAD || s->value_st == V_IN) && b >= '0' && b <= '9') {
        s->value_st = V_IN;
        s->value = s->value > CL_MAX / 10 ? CL_MAX : s->value * 10 + (uint64_t)(b - '0');
        if (s->value > CL_MAX)
            s->value = CL_MAX;
        return;
    }
    if ((s->value_st == V_IN || s->value_st == V_TRAIL) && ws) {
        s->value_st = V_TRAIL;
        return;
    }
    s->value_st = V_BAD;
}

/* Transfer-Encoding as evhttp compares it: leading spaces and trailing spaces and tabs off,
 * then "chunked" in any case, whole. */
static void
httpscan_te_byte(struct httpscan *s, unsigned char b)
{
    static const char chunked[] = "chunked";
    unsigned char lower = (unsigned char)(b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);

    if (s->value_st == V_LEAD && b == ' ')
        return;
    if ((s->value_st == V_LEAD || s->value_st == V_IN) && s->te_match < sizeof chunked - 1 &&
        lower == (unsigned char)chunked[s->te_match]) {
        s->value_st = V_IN;
        s->te_match++;
        return;
    }
    if (s->te_match == sizeof chunked - 1 && (s->value_st == V_IN || s->value_st == V_TRAIL) &&
        (b == ' ' || b == '\t')) {
        s->value_st = V_TRAIL;
        return;
    }
    s->value_st = V_BAD;
}

/* One byte of a line that is not its end. Returns -1 on a fault at this byte. */
static int
httpscan_line_byte(struct httpscan *s, unsigned char b)
{
    if (b == '\0' && s->state != S_CHUNK_SIZE) {
        s->fault = HTTPSCAN_NUL; /* the line stays as it was before the NUL */
        return -1;
    }
    if (s->linelen == 0)
        s->first = b;
    s->linelen++;
    if (s->state == S_CHUNK_SIZE) {
        /* evhttp reads the line as a C string: a NUL ends it */
        if (b == '\0')
            s->nul_in_line = 1;
        else if (!s->nul_in_line)
            httpscan_collect(s, b, HTTPSCAN_CHUNK_LINE_MAX, 0);
        return 0;
    }
    if (s->state == S_REQLINE) {
        if (!s->after_colon && b == ' ')
            s->after_colon = 1;
        else if (!s->after_colon)
            httpscan_collect(s, b, 8, 0); /* evhttp's methods are case-sensitive */
        return 0;
    }
    if (s->state != S_HEADER || s->first == ' ' || s->first == '\t')
        return 0;
    if (!s->after_colon) {
        if (b == ':') {
            s->after_colon = 1;
            s->header = httpscan_classify(s);
            s->value_st = V_LEAD;
            s->value = 0;
            s->te_match = 0;
        } else {
            httpscan_collect(s, b, HTTPSCAN_NAME_MAX, 1);
        }
    } else if (s->header == H_CONTENT_LENGTH) {
        httpscan_cl_byte(s, b);
    } else if (s->header == H_TRANSFER_ENCODING) {
        httpscan_te_byte(s, b);
    }
    return 0;
}

/* A header line has ended. Returns -1 on a framing fault. */
static int
httpscan_header_end(struct httpscan *s)
{
    if (s->first == ' ' || s->first == '\t') {
        /* folded onto the line before: evhttp appends it to that header's value */
        return s->header == H_CONTENT_LENGTH || s->header == H_TRANSFER_ENCODING ? -1 : 0;
    }
    if (!s->after_colon) {
        s->header = H_OTHER; /* no colon: evhttp answers 400 itself */
        return 0;
    }
    switch (s->header) {
    case H_BAD_NAME:
        return -1;
    case H_CONTENT_LENGTH:
        if (s->seen_cl || s->seen_te || (s->value_st != V_IN && s->value_st != V_TRAIL))
            return -1;
        s->seen_cl = 1;
        s->content_length = s->value;
        return 0;
    case H_TRANSFER_ENCODING:
        if (s->seen_cl)
            return -1;
        if (!s->seen_te)
            s->chunked = s->value_st == V_IN || s->value_st == V_TRAIL;
        s->seen_te = 1;
        return 0;
    default:
        return 0;
    }
}

/* The header section has ended: how the body is framed, as evhttp_get_body() sees it. */
static void
httpscan_head_end(struct httpscan *s)
{
    if (s->body_method && s->seen_te && s->chunked) {
        s->state = S_CHUNK_SIZE;
    } else if (s->body_method && s->content_length > 0) {
        s->state = S_BODY;
        s->remaining = s->content_length;
    } else {
        httpscan_request_done(s);
    }
}

/* A chunk-size line has ended; evhttp reads it with strtoll(line, &end, 16), on purpose here
 * too (not a strict parse: the point is to agree with it on where the chunk ends). */
static int
httpscan_chunk_size_end(struct httpscan *s)
{
    long long n;
    char *end;

    if (s->namelen == 0)
        return 0; /* evhttp skips empty lines between chunks */
    if (s->namelen > HTTPSCAN_CHUNK_LINE_MAX) {
        s->fault = HTTPSCAN_CHUNK_LINE;
        return -1;
    }
    s->buf[s->namelen] = '\0';
    n = strtoll(s->buf, &end, 16);
    if ((*end != '\0' && *end != ' ') || n < 0)
        s->state = S_UNFRAMED;
    else if (n == 0)
        s->state = S_TRAILER;
    else {
        s->state = S_CHUNK_DATA;
        s->remaining = (uint64_t)n;
    }
    return 0;
}

/* The line has ended (at "\n"). Returns -1 on a fault, with the line left as it was. */
static int
httpscan_line_end(struct httpscan *s)
{
    int empty = s->linelen == 0;

    switch (s->state) {
    case S_REQLINE:
        /* the methods evhttp reads a body for (evhttp_method_may_have_body) */
        s->body_method = httpscan_name_is(s, s->namelen, "POST") ||
                         httpscan_name_is(s, s->namelen, "PUT") ||
                         httpscan_name_is(s, s->namelen, "PATCH");
        s->state = S_HEADER;
        break;
    case S_HEADER:
        if (empty) {
            httpscan_head_end(s);
            break;
        }
        if (httpscan_header_end(s) == -1) {
            s->fault = HTTPSCAN_CONTENT_LENGTH;
            return -1;
        }
        break;
    case S_TRAILER:
        if (empty)
            httpscan_request_done(s);
        break;
    case S_CHUNK_SIZE:
        if (httpscan_chunk_size_end(s) == -1)
            return -1;
        break;
    default:
        break;
    }
    httpscan_new_line(s);
    return 0;
}

/* Body bytes: how many of the n at hand belong to the body or chunk. */
static size_t
httpscan_skip(struct httpscan *s, size_t n)
{
    size_t take = s->remaining < n ? (size_t)s->remaining : n;

    s->remaining -= take;
    if (s->remaining == 0) {
        if (s->state == S_BODY)
            httpscan_request_done(s);
        else
            s->state = S_CHUNK_SIZE;
    }
    return take;
}

size_t
httpscan_skip_body(struct httpscan *s, size_t n)
{
    if (s->state != S_BODY && s->state != S_CHUNK_DATA)
        return 0;
    return httpscan_skip(s, n);
}

size_t
httpscan_feed(struct httpscan *s, const void *p, size_t len)
{
    const unsigned char *b = p;
    size_t i = 0;

    while (i < len) {
        if (s->state == S_FAULT)
            return i;
        if (s->state == S_UNFRAMED)
            return len;
        if (s->state == S_BODY || s->state == S_CHUNK_DATA) {
            i += httpscan_skip(s, len - i);
            continue;
        }
        if (s->cr) {
            s->cr = 0;
            if (b[i] != '\n')
                httpscan_line_byte(s, '\r'); /* part of the line: cannot be a fault */
        }
        if (b[i] == '\r') {
            s->cr = 1;
        } else if ((b[i] == '\n' ? httpscan_line_end(s) : httpscan_line_byte(s, b[i])) == -1) {
            s->fault_in_head = httpscan_is_head(s->state);
            s->state = S_FAULT;
            return i;
        }
        i++;
    }
    return len;
}

int
httpscan_at_line_start(const struct httpscan *s)
{
    /* "\r" then "\n" would be an empty line too */
    return s->linelen == 0 || (s->linelen == 1 && s->first == '\r');
}

int
httpscan_idle(const struct httpscan *s)
{
    return s->state == S_REQLINE && s->linelen == 0 && !s->cr;
}
