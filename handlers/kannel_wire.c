#include <stdio.h>
#include <string.h>

#include "kannel_wire.h"
#include "parse.h"

int
kannel_parse_mo(const char *query, size_t len, struct kannel_mo *m, char *err, size_t errlen)
{
    const struct parse_spec f[] = {
        PARSE_FIELD("id", PF_ID, 1, m->id),       PARSE_FIELD("from", PF_MSISDN, 1, m->from),
        PARSE_FIELD("to", PF_DIGITS, 0, m->to),   PARSE_FIELD("text", PF_TEXT, 1, m->text),
        PARSE_FIELD("smsc", PF_TEXT, 0, m->smsc), PARSE_FIELD("time", PF_TEXT, 0, m->time),
    };

    memset(m, 0, sizeof *m);
    if (parse_fields(query, len, f, sizeof f / sizeof f[0], err, errlen) == -1)
        return -1;
    m->text_len = strlen(m->text);
    return 0;
}

int
kannel_parse_dlr(const char *query, size_t len, struct kannel_dlr *d, char *err, size_t errlen)
{
    uint64_t type;
    const struct parse_spec f[] = {
        PARSE_U64("id", 1, d->id, 1, UINT64_MAX),
        PARSE_U64("type", 1, type, 1, 255),
    };

    memset(d, 0, sizeof *d);
    if (parse_fields(query, len, f, sizeof f / sizeof f[0], err, errlen) == -1)
        return -1;
    d->type = (unsigned)type;
    return 0;
}
