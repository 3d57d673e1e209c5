#include <string.h>

#include "fault.h"
#include "parse.h"

static const char *const fault_kinds[] = {
    [FAULT_LINK] = "link",
    [FAULT_COMMIT_LOST] = "commit_lost",
    [FAULT_SLOW] = "slow",
};

const char *
fault_kind_name(enum fault_kind kind)
{
    return fault_kinds[kind];
}

static int
fault_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* One "KIND:NAME=TIMES[@SKIP]" entry of e[0..len). */
static int
fault_parse_one(const char *e, size_t len, struct fault_spec *f, char *err, size_t errlen)
{
    const char *colon = memchr(e, ':', len), *eq = memchr(e, '=', len), *at;
    size_t k, n;

    if (colon == NULL || eq == NULL || eq < colon) {
        parse_seterr(err, errlen, "not KIND:NAME=TIMES");
        return -1;
    }
    for (k = 0; k < sizeof fault_kinds / sizeof fault_kinds[0]; k++)
        if ((size_t)(colon - e) == strlen(fault_kinds[k]) &&
            memcmp(e, fault_kinds[k], (size_t)(colon - e)) == 0)
            break;
    if (k == sizeof fault_kinds / sizeof fault_kinds[0]) {
        parse_seterr(err, errlen, "kind is not link, commit_lost or slow");
        return -1;
    }
    f->kind = (enum fault_kind)k;
    n = (size_t)(eq - colon - 1);
    if (n == 0 || n >= sizeof f->name) {
        parse_seterr(err, errlen, "name of 1-%zu characters expected", sizeof f->name - 1);
        return -1;
    }
    for (k = 0; k < n; k++) {
        if (!fault_name_char(colon[1 + k])) {
            parse_seterr(err, errlen, "name of [a-z0-9_] expected");
            return -1;
        }
    }
    memcpy(f->name, colon + 1, n);
    f->name[n] = '\0';
    eq++;
    n = len - (size_t)(eq - e);
    at = memchr(eq, '@', n);
    f->skip = 0;
    if (parse_u64(eq, at != NULL ? (size_t)(at - eq) : n, 1, FAULT_TIMES_MAX, &f->times) == -1 ||
        (at != NULL &&
         parse_u64(at + 1, n - (size_t)(at - eq) - 1, 0, FAULT_TIMES_MAX, &f->skip) == -1)) {
        parse_seterr(err, errlen, "TIMES 1-%d, and SKIP 0-%d after '@', expected", FAULT_TIMES_MAX,
                     FAULT_TIMES_MAX);
        return -1;
    }
    return 0;
}

int
fault_parse(const char *s, size_t len, struct fault_spec *out, size_t max, char *err, size_t errlen)
{
    size_t n = 0, i, elen;
    const char *e = s, *end = s + len, *comma;
    char why[96];

    if (len == 0)
        return 0;
    for (;;) {
        comma = memchr(e, ',', (size_t)(end - e));
        elen = comma != NULL ? (size_t)(comma - e) : (size_t)(end - e);
        if (n == max) {
            parse_seterr(err, errlen, "more than %zu entries", max);
            return -1;
        }
        if (elen == 0 || fault_parse_one(e, elen, &out[n], why, sizeof why) == -1) {
            parse_seterr(err, errlen, "entry %zu: %s", n + 1, elen == 0 ? "empty" : why);
            return -1;
        }
        for (i = 0; i < n; i++) {
            if (out[i].kind == out[n].kind && strcmp(out[i].name, out[n].name) == 0) {
                parse_seterr(err, errlen, "entry %zu: %s:%s given twice", n + 1,
                             fault_kind_name(out[n].kind), out[n].name);
                return -1;
            }
        }
        n++;
        if (comma == NULL)
            return (int)n;
        e = comma + 1;
    }
}
