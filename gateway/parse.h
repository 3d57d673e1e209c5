/* Pure parsers for untrusted bytes: no I/O, no globals, bounded output. */
#ifndef KABAR_PARSE_H
#define KABAR_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "+" and at most 15 digits, NUL-terminated */
#define PARSE_MSISDN_SIZE 17

/*
 * Strict decimal: digits only (no sign, no spaces, no trailing junk), no overflow,
 * min <= value <= max. Returns 0 and sets *out, or -1.
 */
int parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
int parse_utf8_valid(const char *s, size_t len);

/*
 * One entry of a parse_form() table. The caller sets name, buf, cap (bytes including the NUL)
 * and required; parse_form() sets len and seen and always leaves buf NUL-terminated.
 */
struct parse_field {
    const char *name;
    char *buf;
    size_t cap;
    size_t len;
    int seen;
    int required;
};

/*
 * application/x-www-form-urlencoded body or query string (without the '?').
 * Names are case-sensitive; unknown names are ignored but must still be well encoded.
 * '+' is a space, %XY is strict hex, a decoded NUL anywhere is an error, decoded values of
 * known fields must be valid UTF-8 and fit in cap-1 bytes. An empty value (or a bare "name")
 * sets seen=1, len=0. A known field given twice is an error.
 * Returns 0, or -1 with a message in err naming the field (never quoting client bytes).
 * Field contents are unspecified after an error.
 */
int parse_form(const char *body, size_t len, struct parse_field *fields, size_t nfields, char *err,
               size_t errlen);

/*
 * Phone number to E.164 ("+" and 8..15 digits). Spaces, '-', '.', '(' and ')' are ignored.
 * "+<cc>..." is kept (not "+0..."), "62..." gets a '+', a national "0<digit>..." becomes
 * "+62<digit>...". The Indonesian trunk zero written after the country code ("+62 0812...")
 * is dropped. Anything else (other leading digits without '+', "00...", letters) is ambiguous
 * or junk. Returns 0 and fills out, or -1 (out then holds "").
 */
int parse_msisdn(const char *in, size_t len, char out[PARSE_MSISDN_SIZE]);

/*
 * For logs: the first 3 and last 3 characters stay, everything between becomes '*'
 * ("+628123456001" -> "+62*******001"); strings of 6 characters or fewer are all '*'.
 * Visible characters other than digits and '+' show as '?'. out is always NUL-terminated
 * (truncated if short).
 */
void parse_mask_msisdn(const char *msisdn, char *out, size_t outlen);

/* printf into an error buffer that may be NULL or empty. */
void parse_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* An aggregator's id (session, message): 1+ of [A-Za-z0-9_.:-]; it keys state and shows in logs. */
int parse_id_valid(const char *s, size_t len);
/* ASCII case-insensitive equality: the locale must not decide whether "SUCCESS" matches. */
int parse_casematch(const char *a, const char *b);

/*
 * The value of cookie `name` in a Cookie header ("a=1; kabar_session=XYZ"). Only values of
 * [A-Za-z0-9_-] up to cap-1 bytes are accepted: ours are hex or base64url. Returns 0 and fills
 * out, -1 when absent or malformed (out then holds "").
 */
int parse_cookie(const char *header, size_t len, const char *name, char *out, size_t cap);

#endif
