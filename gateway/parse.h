/* Pure parsers for untrusted bytes: no I/O, no globals, bounded output. */
#ifndef KABAR_PARSE_H
#define KABAR_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "+" and at most 15 digits, NUL-terminated */
#define PARSE_MSISDN_SIZE 17

/*
 * Strict decimal: digits only (no sign, no spaces, no trailing junk), no overflow,
 * min <= value <= max. Returns 0 and sets *out, or -1.
 */
int parse_u64(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/* 1 if s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF). */
int parse_utf8_valid(const char *s, size_t len);

/* The NUL-terminated s made well-formed UTF-8 in place: each byte that starts no well-formed
 * sequence (a Latin-1 letter, a character cut by a fixed-size copy) becomes '?'. */
void parse_utf8_clean(char *s);

/*
 * 1 if the Content-Type value ct names the media type want ("application/json"): the same
 * type/subtype, case-insensitive, then nothing, or parameters after optional spaces and ';'.
 * "application/jsonp" or "application/json-seq" is not "application/json". ct NULL: 0.
 */
int parse_media_type_is(const char *ct, const char *want);

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
 * A wire parser's table: one entry per field, saying what it must be and where it goes, so
 * that the checks live in the table and not in code after the parse. Kinds and their out:
 *   PF_TEXT    UTF-8 text, into char out[size]
 *   PF_ID      an aggregator's id (parse_id_valid()), into char out[size]
 *   PF_MSISDN  a phone number, made E.164 by parse_msisdn(), into char out[PARSE_MSISDN_SIZE]
 *   PF_ADDR    a short code or number: digits after at most one leading '+', the separators
 *              parse_msisdn() ignores dropped, into char out[size]
 *   PF_DIGITS  digits after at most one leading '+', as written, into char out[size]
 *   PF_U64     strict decimal (parse_u64()) in [min, max], into uint64_t out
 * An optional field that is absent or empty leaves "" (0 for PF_U64); a required one must be
 * present, and is checked even when empty. A value its kind refuses is "bad <name>". What the
 * peer wrote may be at most size-1 bytes, or 32 for PF_MSISDN, 40 for PF_ADDR, 23 for PF_U64
 * (room for separators and leading zeros); longer is "field '<name>' too long".
 */
enum parse_kind { PF_TEXT, PF_ID, PF_MSISDN, PF_ADDR, PF_DIGITS, PF_U64 };

struct parse_spec {
    const char *name;
    enum parse_kind kind;
    int required;
    void *out;
    size_t size;       /* sizeof what out points to: checked against the kind */
    uint64_t min, max; /* PF_U64 only */
};

/* One entry; a PF_U64 gets the whole range. o is the output object itself (not a pointer). */
#define PARSE_FIELD(n, k, req, o)                                                                  \
    {                                                                                              \
        .name = (n), .kind = (k), .required = (req), .out = &(o), .size = sizeof(o), .min = 0,     \
        .max = UINT64_MAX                                                                          \
    }
/* A PF_U64 entry limited to [lo, hi]. */
#define PARSE_U64(n, req, o, lo, hi)                                                               \
    {                                                                                              \
        .name = (n), .kind = PF_U64, .required = (req), .out = &(o), .size = sizeof(o),            \
        .min = (lo), .max = (hi)                                                                   \
    }

/* Largest fields table parse_fields() takes. */
#define PARSE_FIELDS_MAX 16

/*
 * parse_form() over the table, then each field checked and converted by its kind, in table
 * order. Returns 0, or -1 with a message in err naming the field (never quoting client bytes);
 * the outputs are unspecified after an error.
 */
int parse_fields(const char *body, size_t len, const struct parse_spec *spec, size_t n, char *err,
                 size_t errlen);

/*
 * One field's raw value (len bytes, not necessarily NUL-terminated, no NUL inside, valid UTF-8)
 * checked and converted into f->out: for parsers of other encodings (JSON) that share the kinds.
 * raw may be f->out itself. Returns 0, or -1 with "field '<name>' too long", "bad <name>" or
 * "bad field table" (an out whose size does not fit the kind).
 */
int parse_value(const struct parse_spec *f, const char *raw, size_t len, char *err, size_t errlen);

/*
 * Phone number to E.164 ("+" and 8..15 digits). Spaces, '-', '.', '(' and ')' are ignored.
 * "+<cc>..." is kept (not "+0..."), "62..." gets a '+', a national "0<digit>..." becomes
 * "+62<digit>...". The Indonesian trunk zero written after the country code ("+62 0812...")
 * is dropped. Anything else (other leading digits without '+', "00...", letters) is ambiguous
 * or junk. Returns 0 and fills out, or -1 (out then holds "").
 */
int parse_msisdn(const char *in, size_t len, char out[PARSE_MSISDN_SIZE]);

/*
 * An Indonesian mobile number as a registry writes it ("0812...", "62812...", "+62 812-...",
 * dots, spaces): parse_msisdn(), then "+628" and 9 to 12 digits after the 62. 0 or -1 (out "").
 */
int parse_msisdn_id(const char *in, size_t len, char out[PARSE_MSISDN_SIZE]);

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
/* A client's idempotency key (the Idempotency-Key header, a review form's nonce): 1 to
 * PARSE_IDEM_KEY_MAX printable ASCII characters, spaces only inside (a proxy may trim the ends). */
#define PARSE_IDEM_KEY_MAX 64
int parse_idem_key_valid(const char *s, size_t len);
/*
 * A calendar date "YYYY-MM-DD": exactly that shape, a year 2000 to 2099, a month's real days
 * (29 February only in leap years). Returns 0 and *ymd = YYYYMMDD, so that dates compare as
 * numbers, or -1.
 */
int parse_date(const char *s, size_t len, uint32_t *ymd);
/* The date (YYYYMMDD) that UTC time t is in a zone east_seconds ahead of UTC. */
uint32_t parse_date_at(time_t t, long east_seconds);
/* ASCII case-insensitive equality: the locale must not decide whether "SUCCESS" matches. */
int parse_casematch(const char *a, const char *b);

/*
 * The value of cookie `name` in a Cookie header ("a=1; kabar_session=XYZ"). Only values of
 * [A-Za-z0-9_-] up to cap-1 bytes are accepted: ours are hex or base64url. Returns 0 and fills
 * out, -1 when absent or malformed (out then holds "").
 */
int parse_cookie(const char *header, size_t len, const char *name, char *out, size_t cap);

#endif
