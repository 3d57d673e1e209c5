#include <stdio.h>
#include <string.h>

#include "kannel.h"
#include "parse.h"

#define KANNEL_FIELD(n, b, req)                                                                    \
    {                                                                                              \
        .name = (n), .buf = (b), .cap = sizeof(b), .required = (req)                               \
    }

int
kannel_parse_mo(const char *query, size_t len, struct kannel_mo *m, char *err, size_t errlen)
{
    char from[64];
    size_t i;
    struct parse_field f[] = {
        KANNEL_FIELD("id", m->id, 1),     KANNEL_FIELD("from", from, 1),
        KANNEL_FIELD("to", m->to, 0),     KANNEL_FIELD("text", m->text, 1),
        KANNEL_FIELD("smsc", m->smsc, 0), KANNEL_FIELD("time", m->time, 0),
    };

    memset(m, 0, sizeof *m);
    if (parse_form(query, len, f, sizeof f / sizeof f[0], err, errlen) == -1)
        return -1;
    if (!parse_id_valid(m->id, f[0].len)) {
        parse_seterr(err, errlen, "%s", "bad id");
        return -1;
    }
    if (parse_msisdn(from, f[1].len, m->from) == -1) {
        parse_seterr(err, errlen, "%s", "bad from");
        return -1;
    }
    for (i = 0; i < f[2].len; i++)
        if (!((m->to[i] >= '0' && m->to[i] <= '9') || (i == 0 && m->to[i] == '+'))) {
            parse_seterr(err, errlen, "%s", "bad to");
            return -1;
        }
    m->text_len = f[3].len;
    return 0;
}

int
kannel_parse_dlr(const char *query, size_t len, struct kannel_dlr *d, char *err, size_t errlen)
{
    char id[24], type[8];
    uint64_t t;
    struct parse_field f[] = {KANNEL_FIELD("id", id, 1), KANNEL_FIELD("type", type, 1)};

    memset(d, 0, sizeof *d);
    if (parse_form(query, len, f, 2, err, errlen) == -1)
        return -1;
    if (parse_u64(id, f[0].len, 1, UINT64_MAX, &d->id) == -1) {
        parse_seterr(err, errlen, "%s", "bad id");
        return -1;
    }
    if (parse_u64(type, f[1].len, 1, 255, &t) == -1) {
        parse_seterr(err, errlen, "%s", "bad type");
        return -1;
    }
    d->type = (unsigned)t;
    return 0;
}
