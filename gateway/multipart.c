/*
 * multipart/form-data, pure: bytes in, pointers into those bytes out. Strict where browsers and
 * HTTP clients agree (CRLF line ends, a quoted or token boundary, a name on every part) and
 * silent about what a form field does not need (other part headers, preamble, epilogue).
 */
#include <string.h>
#include <strings.h>

#include "multipart.h"

#define MULTIPART_HEADERS_MAX 8192 /* one part's header block */

static int
multipart_fail(char *err, size_t errlen, const char *msg)
{
    if (errlen > 0) {
        size_t n = strlen(msg);

        if (n >= errlen)
            n = errlen - 1;
        memcpy(err, msg, n);
        err[n] = '\0';
    }
    return -1;
}

static const char *
multipart_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* A parameter of a header value, from p (just after the value's first word) to end: the first
 * named want, or NULL; *bad set when the list is malformed. */
static const char *
multipart_param(const char *p, const char *end, const char *want, size_t *vlen, int *bad)
{
    size_t wl = strlen(want);

    *bad = 0;
    for (;;) {
        const char *k, *v;
        size_t kl;

        p = multipart_ows(p, end);
        if (p == end)
            return NULL;
        if (*p != ';') {
            *bad = 1;
            return NULL;
        }
        p = multipart_ows(p + 1, end);
        for (k = p; p < end && *p != '=' && *p != ';' && *p != ' ' && *p != '\t'; p++)
            ;
        kl = (size_t)(p - k);
        p = multipart_ows(p, end);
        if (kl == 0 || p == end || *p != '=') {
            *bad = 1;
            return NULL;
        }
        p = multipart_ows(p + 1, end);
        if (p < end && *p == '"') {
            v = ++p;
            while (p < end && *p != '"')
                p++;
            if (p == end) {
                *bad = 1;
                return NULL;
            }
            *vlen = (size_t)(p - v);
            p++;
        } else {
            for (v = p; p < end && *p != ';' && *p != ' ' && *p != '\t' && *p != '"'; p++)
                ;
            *vlen = (size_t)(p - v);
            if (*vlen == 0) {
                *bad = 1;
                return NULL;
            }
        }
        if (kl == wl && strncasecmp(k, want, wl) == 0)
            return v;
    }
}

/* the boundary of a multipart/form-data Content-Type, or NULL */
static const char *
multipart_boundary(const char *ctype, size_t *blen)
{
    static const char mt[] = "multipart/form-data";
    const char *end, *b, *q;
    int bad;

    if (ctype == NULL)
        return NULL;
    end = ctype + strlen(ctype);
    ctype = multipart_ows(ctype, end);
    if ((size_t)(end - ctype) < sizeof mt - 1 || strncasecmp(ctype, mt, sizeof mt - 1) != 0)
        return NULL;
    b = multipart_param(ctype + sizeof mt - 1, end, "boundary", blen, &bad);
    if (b == NULL || bad || *blen == 0 || *blen > MULTIPART_BOUNDARY_MAX)
        return NULL;
    for (q = b; q < b + *blen; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f)
            return NULL;
    return b;
}

/* One part's header block [p, end) (each line ending in CRLF): its name and filename. */
static int
multipart_headers(const char *p, const char *end, struct multipart_part *part, char *err,
                  size_t errlen)
{
    static const char cd[] = "content-disposition";
    int seen = 0;

    while (p < end) {
        const char *eol = memchr(p, '\r', (size_t)(end - p)), *colon, *v;
        size_t vl;
        int bad;

        if (eol == NULL || eol + 1 >= end || eol[1] != '\n')
            return multipart_fail(err, errlen, "a part header does not end in CRLF");
        colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p)
            return multipart_fail(err, errlen, "a part header without a name");
        if ((size_t)(colon - p) == sizeof cd - 1 && strncasecmp(p, cd, sizeof cd - 1) == 0) {
            if (seen++)
                return multipart_fail(err, errlen, "a part with two Content-Disposition headers");
            v = multipart_ows(colon + 1, eol);
            if ((size_t)(eol - v) < 9 || strncasecmp(v, "form-data", 9) != 0)
                return multipart_fail(err, errlen, "a part that is not form-data");
            part->name = multipart_param(v + 9, eol, "name", &vl, &bad);
            if (bad)
                return multipart_fail(err, errlen, "a malformed Content-Disposition");
            part->name_len = part->name != NULL ? vl : 0;
            part->filename = multipart_param(v + 9, eol, "filename", &vl, &bad);
            part->filename_len = part->filename != NULL ? vl : 0;
        }
        p = eol + 2;
    }
    if (part->name == NULL || part->name_len == 0)
        return multipart_fail(err, errlen, "a part without a name");
    return 0;
}

/* After a delimiter at p: 1 at the closing one ("--"), 0 before another part (p moved past its
 * CRLF), -1 when neither. */
static int
multipart_after(const char **p, const char *end)
{
    const char *q = *p;

    if (end - q >= 2 && q[0] == '-' && q[1] == '-')
        return 1;
    q = multipart_ows(q, end);
    if (end - q < 2 || q[0] != '\r' || q[1] != '\n')
        return -1;
    *p = q + 2;
    return 0;
}

int
multipart_parse(const char *ctype, const char *body, size_t len, struct multipart_form *f,
                char *err, size_t errlen)
{
    char delim[MULTIPART_BOUNDARY_MAX + 4];
    const char *b, *p, *end = body + len, *q;
    size_t blen, dlen;
    int r;

    memset(f, 0, sizeof *f);
    if ((b = multipart_boundary(ctype, &blen)) == NULL)
        return multipart_fail(err, errlen,
                              "expected multipart/form-data with a boundary of 1-70 characters");
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = delim[3] = '-';
    memcpy(delim + 4, b, blen);
    dlen = blen + 4;
    /* the first delimiter may open the body, without the CRLF before it */
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
        p = body + dlen - 2;
    else if ((q = memmem(body, len, delim, dlen)) != NULL)
        p = q + dlen;
    else
        return multipart_fail(err, errlen, "the body has no boundary line");
    if ((r = multipart_after(&p, end)) != 0)
        return multipart_fail(err, errlen,
                              r == 1 ? "the form has no parts" : "a malformed boundary line");
    for (;;) {
        struct multipart_part *part;
        const char *hend, *data;

        if (f->n == MULTIPART_PARTS_MAX)
            return multipart_fail(err, errlen, "too many parts");
        part = &f->parts[f->n];
        if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {
            hend = p;
            data = p + 2;
        } else {
            size_t room = (size_t)(end - p);

            if (room > MULTIPART_HEADERS_MAX)
                room = MULTIPART_HEADERS_MAX;
            if ((q = memmem(p, room, "\r\n\r\n", 4)) == NULL)
                return multipart_fail(err, errlen, "a part's headers do not end");
            hend = q + 2;
            data = q + 4;
        }
        if (multipart_headers(p, hend, part, err, errlen) == -1)
            return -1;
        if ((q = memmem(data, (size_t)(end - data), delim, dlen)) == NULL)
            return multipart_fail(err, errlen, "the form does not end with its closing boundary");
        part->data = data;
        part->len = (size_t)(q - data);
        f->n++;
        p = q + dlen;
        if ((r = multipart_after(&p, end)) == 1)
            return 0;
        if (r == -1)
            return multipart_fail(err, errlen, "a malformed boundary line");
    }
}

const struct multipart_part *
multipart_find(const struct multipart_form *f, const char *name)
{
    size_t i, n = strlen(name);

    for (i = 0; i < f->n; i++)
        if (f->parts[i].name_len == n && memcmp(f->parts[i].name, name, n) == 0)
            return &f->parts[i];
    return NULL;
}

int
multipart_field(const struct multipart_form *f, const char *name, char *out, size_t cap)
{
    const struct multipart_part *p = multipart_find(f, name);

    if (cap == 0)
        return -1;
    out[0] = '\0';
    if (p == NULL || p->filename != NULL || p->len >= cap || memchr(p->data, '\0', p->len) != NULL)
        return -1;
    memcpy(out, p->data, p->len);
    out[p->len] = '\0';
    return 0;
}
