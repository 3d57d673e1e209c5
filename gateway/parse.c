#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

int
parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (s == NULL || len == 0 || len > 20)
        return -1;
    for (i = 0; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Unicode 15, table 3-7: the second byte's range depends on the lead byte. The length of the
 * well-formed sequence at p (left bytes remain), or 0 when none starts there. */
static size_t
parse_utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xbf;
    size_t need, k;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, F5..FF */
    }
    if (left - 1 < need || p[1] < lo || p[1] > hi)
        return 0;
    for (k = 2; k <= need; k++)
        if (p[k] < 0x80 || p[k] > 0xbf)
            return 0;
    return need + 1;
}

int
parse_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;

    if (s == NULL)
        return len == 0;
    for (; i < len; i += n)
        if ((n = parse_utf8_seq(p + i, len - i)) == 0)
            return 0;
    return 1;
}

void
parse_utf8_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t len = strlen(s), i = 0, n;

    while (i < len) {
        if ((n = parse_utf8_seq(p + i, len - i)) == 0) {
            p[i] = '?';
            n = 1;
        }
        i += n;
    }
}

void
parse_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int
parse_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum { FORM_OK = 0, FORM_BAD_PCT = -1, FORM_NUL = -2, FORM_LONG = -3 };

/*
 * Decodes one name or value into out (at most max bytes, no NUL added); out may be NULL to
 * only validate. Scanning goes on past max so a bad escape wins over "too long".
 */
static int
parse_form_decode(const char *s, size_t len, char *out, size_t max, size_t *outlen)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return FORM_BAD_PCT;
            hi = parse_hex(s[i + 1]);
            lo = parse_hex(s[i + 2]);
            if (hi < 0 || lo < 0)
                return FORM_BAD_PCT;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return FORM_NUL;
        if (out != NULL && n < max)
            out[n] = (char)c;
        n++;
    }
    *outlen = n;
    return n > max ? FORM_LONG : FORM_OK;
}

static struct parse_field *
parse_form_find(struct parse_field *fields, size_t nfields, const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < nfields; i++) {
        if (strlen(fields[i].name) == len && memcmp(fields[i].name, name, len) == 0)
            return &fields[i];
    }
    return NULL;
}

/* one "name=value" pair, already split from its neighbours */
static int
parse_form_pair(const char *p, size_t plen, struct parse_field *fields, size_t nfields, char *err,
                size_t errlen)
{
    char name[64];
    const char *eq = memchr(p, '=', plen);
    size_t namelen = eq != NULL ? (size_t)(eq - p) : plen;
    const char *val = eq != NULL ? eq + 1 : p + plen;
    size_t vallen = plen - namelen - (eq != NULL ? 1 : 0);
    struct parse_field *f = NULL;
    size_t n = 0;
    int rc;

    rc = parse_form_decode(p, namelen, name, sizeof(name), &n);
    if (rc == FORM_BAD_PCT || rc == FORM_NUL) {
        parse_seterr(err, errlen, "%s",
                     rc == FORM_NUL ? "NUL byte in a field name" : "bad percent-encoding");
        return -1;
    }
    if (rc == FORM_OK)
        f = parse_form_find(fields, nfields, name, n);

    if (f == NULL) {
        rc = parse_form_decode(val, vallen, NULL, SIZE_MAX, &n);
        if (rc == FORM_BAD_PCT || rc == FORM_NUL) {
            parse_seterr(err, errlen, "%s",
                         rc == FORM_NUL ? "NUL byte in an unknown field" : "bad percent-encoding");
            return -1;
        }
        return 0;
    }

    if (f->seen) {
        parse_seterr(err, errlen, "duplicate field '%s'", f->name);
        return -1;
    }
    rc = parse_form_decode(val, vallen, f->buf, f->cap - 1, &n);
    f->len = rc == FORM_OK ? n : 0;
    f->buf[f->len] = '\0';
    switch (rc) {
    case FORM_BAD_PCT:
        parse_seterr(err, errlen, "bad percent-encoding in '%s'", f->name);
        return -1;
    case FORM_NUL:
        parse_seterr(err, errlen, "NUL byte in '%s'", f->name);
        return -1;
    case FORM_LONG:
        parse_seterr(err, errlen, "field '%s' too long", f->name);
        return -1;
    }
    if (!parse_utf8_valid(f->buf, f->len)) {
        f->len = 0;
        f->buf[0] = '\0';
        parse_seterr(err, errlen, "invalid UTF-8 in '%s'", f->name);
        return -1;
    }
    f->seen = 1;
    return 0;
}

int
parse_form(const char *body, size_t len, struct parse_field *fields, size_t nfields, char *err,
           size_t errlen)
{
    const char *p = body, *end;
    size_t i;

    parse_seterr(err, errlen, "%s", "");
    for (i = 0; i < nfields; i++) {
        if (fields[i].name == NULL || fields[i].buf == NULL || fields[i].cap == 0) {
            parse_seterr(err, errlen, "%s", "bad field table");
            return -1;
        }
        fields[i].len = 0;
        fields[i].seen = 0;
        fields[i].buf[0] = '\0';
    }
    if (body == NULL && len > 0) {
        parse_seterr(err, errlen, "%s", "no body");
        return -1;
    }
    end = len > 0 ? body + len : body;
    while (len > 0 && p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t plen = amp != NULL ? (size_t)(amp - p) : (size_t)(end - p);

        /* empty pairs ("a=1&&b=2", a trailing '&') carry nothing */
        if (plen > 0 && parse_form_pair(p, plen, fields, nfields, err, errlen) != 0)
            return -1;
        p = amp != NULL ? amp + 1 : end;
    }
    for (i = 0; i < nfields; i++) {
        if (fields[i].required && !fields[i].seen) {
            parse_seterr(err, errlen, "missing field '%s'", fields[i].name);
            return -1;
        }
    }
    return 0;
}

static int
parse_msisdn_skip(char c)
{
    return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* Text, ids and digits are decoded straight into out; the other kinds convert what was written. */
static int
parse_in_place(enum parse_kind kind)
{
    return kind == PF_TEXT || kind == PF_ID || kind == PF_DIGITS;
}

/*
 * The longest raw value of a field. A phone number, an address or a number is decoded into a
 * scratch buffer first, with room for what a peer may write around the digits (separators,
 * leading zeros) but no more.
 */
static size_t
parse_value_max(const struct parse_spec *f)
{
    switch (f->kind) {
    case PF_MSISDN:
        return 32;
    case PF_ADDR:
        return 40;
    case PF_U64:
        return 23;
    default:
        return f->size - 1;
    }
}

/* the largest parse_value_max() of a kind not decoded in place */
#define PARSE_RAW_MAX 40

/* out's size fits the kind */
static int
parse_spec_valid(const struct parse_spec *f)
{
    if (f->name == NULL || f->out == NULL || f->size == 0)
        return 0;
    switch (f->kind) {
    case PF_TEXT:
    case PF_ID:
    case PF_ADDR:
    case PF_DIGITS:
        return 1;
    case PF_MSISDN:
        return f->size >= PARSE_MSISDN_SIZE;
    case PF_U64:
        return f->size == sizeof(uint64_t) && f->min <= f->max;
    }
    return 0;
}

/* A short code or number: separators dropped, digits and one leading '+', not "+" alone. */
static int
parse_addr(const char *in, size_t len, char *out, size_t cap)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        char c = in[i];

        if (parse_msisdn_skip(c))
            continue;
        if (!((c >= '0' && c <= '9') || (c == '+' && n == 0)))
            return -1;
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    if (n == 1 && out[0] == '+')
        return -1;
    return 0;
}

/* Digits after at most one leading '+' ("" and "+" included), as a peer wrote them. */
static int
parse_digits_valid(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (i == 0 && s[i] == '+')))
            return 0;
    }
    return 1;
}

int
parse_value(const struct parse_spec *f, const char *raw, size_t len, char *err, size_t errlen)
{
    char *out = f->out;
    int rc = 0;

    if (!parse_spec_valid(f)) {
        parse_seterr(err, errlen, "%s", "bad field table");
        return -1;
    }
    if (len > parse_value_max(f)) {
        parse_seterr(err, errlen, "field '%s' too long", f->name);
        return -1;
    }
    if (len == 0 && !f->required) {
        if (f->kind == PF_U64)
            *(uint64_t *)f->out = 0;
        else
            out[0] = '\0';
        return 0;
    }
    switch (f->kind) {
    case PF_TEXT:
        break;
    case PF_ID:
        rc = parse_id_valid(raw, len) ? 0 : -1;
        break;
    case PF_DIGITS:
        rc = parse_digits_valid(raw, len) ? 0 : -1;
        break;
    case PF_MSISDN:
        rc = parse_msisdn(raw, len, out);
        break;
    case PF_ADDR:
        rc = parse_addr(raw, len, out, f->size);
        break;
    case PF_U64:
        rc = parse_u64(raw, len, f->min, f->max, f->out);
        break;
    }
    if (rc == 0 && parse_in_place(f->kind)) {
        memmove(out, raw, len); /* raw may be out itself */
        out[len] = '\0';
    }
    if (rc != 0)
        parse_seterr(err, errlen, "bad %s", f->name);
    return rc;
}

int
parse_fields(const char *body, size_t len, const struct parse_spec *spec, size_t n, char *err,
             size_t errlen)
{
    struct parse_field raw[PARSE_FIELDS_MAX];
    char scratch[PARSE_FIELDS_MAX][PARSE_RAW_MAX + 1];
    size_t i;

    if (n > PARSE_FIELDS_MAX) {
        parse_seterr(err, errlen, "%s", "bad field table");
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (!parse_spec_valid(&spec[i])) {
            parse_seterr(err, errlen, "%s", "bad field table");
            return -1;
        }
        raw[i].name = spec[i].name;
        raw[i].required = spec[i].required;
        if (parse_in_place(spec[i].kind)) {
            raw[i].buf = spec[i].out;
            raw[i].cap = spec[i].size;
        } else {
            raw[i].buf = scratch[i];
            raw[i].cap = parse_value_max(&spec[i]) + 1;
        }
    }
    if (parse_form(body, len, raw, n, err, errlen) != 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (parse_value(&spec[i], raw[i].buf, raw[i].len, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int
parse_msisdn(const char *in, size_t len, char out[PARSE_MSISDN_SIZE])
{
    char d[16]; /* digits as written, before the prefix is rewritten */
    size_t n = 0, i, skip = 0, cclen;
    int plus = 0;
    const char *cc = "";

    out[0] = '\0';
    if (in == NULL)
        return -1;
    for (i = 0; i < len; i++) {
        char c = in[i];

        if (parse_msisdn_skip(c))
            continue;
        if (c == '+' && n == 0 && !plus) {
            plus = 1;
            continue;
        }
        if (c < '0' || c > '9' || n == sizeof(d))
            return -1;
        d[n++] = c;
    }
    if (n == 0)
        return -1;
    if (plus) {
        if (d[0] == '0')
            return -1;
    } else if (d[0] == '0') {
        if (n < 2 || d[1] == '0')
            return -1; /* "00..." is an international prefix, not a national number */
        cc = "62";
        skip = 1;
    } else if (n < 2 || d[0] != '6' || d[1] != '2') {
        return -1;
    }
    /* "+62 0812..." / "620812...": the national trunk zero does not belong after the code */
    if (skip == 0 && n > 2 && d[0] == '6' && d[1] == '2' && d[2] == '0') {
        if (n > 3 && d[3] == '0')
            return -1; /* a second zero is no number, and keeps the result stable */
        cc = "62";
        skip = 3;
    }

    cclen = strlen(cc);
    if (cclen + n - skip < 8 || cclen + n - skip > 15)
        return -1;
    out[0] = '+';
    memcpy(out + 1, cc, cclen);
    memcpy(out + 1 + cclen, d + skip, n - skip);
    out[1 + cclen + n - skip] = '\0';
    return 0;
}

int
parse_msisdn_id(const char *in, size_t len, char out[PARSE_MSISDN_SIZE])
{
    size_t n;

    if (parse_msisdn(in, len, out) == -1)
        return -1;
    n = strlen(out);
    if (strncmp(out, "+628", 4) != 0 || n < 12 || n > 15) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

void
parse_mask_msisdn(const char *msisdn, char *out, size_t outlen)
{
    size_t len, i;

    if (out == NULL || outlen == 0)
        return;
    if (msisdn == NULL) {
        out[0] = '\0';
        return;
    }
    len = strlen(msisdn);
    for (i = 0; i < len && i + 1 < outlen; i++) {
        char c = msisdn[i];

        if (len <= 6 || (i >= 3 && i + 3 < len))
            out[i] = '*';
        else
            out[i] = (c == '+' || (c >= '0' && c <= '9')) ? c : '?';
    }
    out[i] = '\0';
}

int
parse_id_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

int
parse_idem_key_valid(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > PARSE_IDEM_KEY_MAX || s[0] == ' ' || s[len - 1] == ' ')
        return 0;
    for (i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return 0;
    return 1;
}

int
parse_date(const char *s, size_t len, uint32_t *ymd)
{
    static const unsigned days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    uint64_t y, m, d;

    if (len != 10 || s[4] != '-' || s[7] != '-' || parse_u64(s, 4, 2000, 2099, &y) == -1 ||
        parse_u64(s + 5, 2, 1, 12, &m) == -1 || parse_u64(s + 8, 2, 1, days[m - 1], &d) == -1)
        return -1;
    /* 2000 to 2099: every fourth year is a leap year, 2000 too */
    if (m == 2 && d == 29 && y % 4 != 0)
        return -1;
    *ymd = (uint32_t)(y * 10000 + m * 100 + d);
    return 0;
}

uint32_t
parse_date_at(time_t t, long east_seconds)
{
    struct tm tm;
    time_t local = t + east_seconds;

    if (gmtime_r(&local, &tm) == NULL)
        return 0;
    return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

int
parse_casematch(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a, y = *b;

        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return *a == *b;
}

int
parse_cookie(const char *header, size_t len, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), i = 0, start, vlen, k;

    if (cap > 0)
        out[0] = '\0';
    while (i < len) {
        while (i < len && (header[i] == ' ' || header[i] == '\t' || header[i] == ';'))
            i++;
        start = i;
        while (i < len && header[i] != ';')
            i++;
        /* header[start..i) is one "name=value" */
        if (i - start <= nlen || memcmp(header + start, name, nlen) != 0 ||
            header[start + nlen] != '=')
            continue;
        vlen = i - start - nlen - 1;
        while (vlen > 0 &&
               (header[start + nlen + vlen] == ' ' || header[start + nlen + vlen] == '\t'))
            vlen--;
        if (vlen == 0 || vlen >= cap)
            return -1;
        for (k = 0; k < vlen; k++) {
            char c = header[start + nlen + 1 + k];

            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-'))
                return -1;
        }
        memcpy(out, header + start + nlen + 1, vlen);
        out[vlen] = '\0';
        return 0;
    }
    return -1;
}

int
parse_media_type_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, want, n) != 0)
        return 0;
    for (ct += n; *ct == ' ' || *ct == '\t'; ct++)
        ;
    return *ct == '\0' || *ct == ';';
}
