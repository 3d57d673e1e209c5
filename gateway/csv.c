/* The chunk-fed CSV reader (csv.h): a byte-at-a-time state machine over one record buffer. */
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "parse.h"

enum csv_state { CSV_FIELD, CSV_BARE, CSV_QUOTED, CSV_QUOTE };

struct csv_reader {
    csv_record_fn fn;
    void *arg;
    char sep;
    int header_seen;
    size_t header_fields;
    /* before the separator is known: the first line, kept whole */
    char *pre;
    size_t npre;
    int pre_quoted;
    /* the record being read */
    enum csv_state state;
    int open;     /* a record has begun */
    int skipping; /* after a reject, to the end of the physical line */
    int cr;       /* a CR outside quotes, waiting for its LF */
    size_t line, rec_line;
    size_t len;     /* bytes in buf, NULs between fields included */
    size_t content; /* bytes of the fields themselves */
    size_t nfields; /* fields ended so far */
    size_t start[CSV_FIELDS_MAX];
    size_t lens[CSV_FIELDS_MAX];
    const char *fields[CSV_FIELDS_MAX];
    char buf[CSV_RECORD_MAX + CSV_FIELDS_MAX + 1];
    int stopped;
};

struct csv_reader *
csv_new(csv_record_fn fn, void *arg)
{
    struct csv_reader *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->fn = fn;
    r->arg = arg;
    r->line = 1;
    r->pre = malloc(CSV_RECORD_MAX + 3);
    if (r->pre == NULL) {
        free(r);
        return NULL;
    }
    return r;
}

void
csv_free(struct csv_reader *r)
{
    if (r == NULL)
        return;
    free(r->pre);
    free(r);
}

char
csv_separator(const struct csv_reader *r)
{
    return r->sep;
}

static void
csv_reset(struct csv_reader *r)
{
    r->state = CSV_FIELD;
    r->open = 0;
    r->len = r->content = r->nfields = 0;
}

static int
csv_emit(struct csv_reader *r, const char *reject)
{
    struct csv_record rec;
    int rc;

    memset(&rec, 0, sizeof rec);
    rec.line = r->rec_line;
    rec.reject = reject;
    if (reject == NULL) {
        rec.nfields = r->nfields;
        rec.fields = r->fields;
        rec.lens = r->lens;
        rec.header = !r->header_seen;
    }
    rc = r->fn(r->arg, &rec);
    if (rc != 0)
        r->stopped = rc;
    return rc;
}

/* A malformed record: reported, and the rest of its physical line skipped (unless at_eol). */
static int
csv_reject(struct csv_reader *r, const char *why, int at_eol)
{
    int rc = csv_emit(r, why);

    csv_reset(r);
    r->cr = 0;
    r->skipping = !at_eol;
    return rc;
}

static int
csv_end_field(struct csv_reader *r)
{
    if (r->nfields >= CSV_FIELDS_MAX)
        return -1;
    r->buf[r->len] = '\0';
    r->lens[r->nfields] = r->len - r->start[r->nfields];
    r->fields[r->nfields] = r->buf + r->start[r->nfields];
    r->nfields++;
    r->len++;
    if (r->nfields < CSV_FIELDS_MAX)
        r->start[r->nfields] = r->len;
    return 0;
}

static int
csv_end_record(struct csv_reader *r)
{
    size_t i;
    int rc;

    if (csv_end_field(r) == -1)
        return csv_reject(r, "more than 64 fields", 1);
    /* a blank line is no record */
    if (r->nfields == 1 && r->lens[0] == 0) {
        csv_reset(r);
        return 0;
    }
    for (i = 0; i < r->nfields; i++) {
        if (!parse_utf8_valid(r->fields[i], r->lens[i]))
            return csv_reject(r, "not UTF-8", 1);
    }
    if (r->header_seen && r->nfields != r->header_fields)
        return csv_reject(r, "field count differs from the header", 1);
    rc = csv_emit(r, NULL);
    if (!r->header_seen) {
        r->header_seen = 1;
        r->header_fields = r->nfields;
    }
    csv_reset(r);
    return rc;
}

static int
csv_append(struct csv_reader *r, char c)
{
    if (r->content >= CSV_RECORD_MAX || r->nfields >= CSV_FIELDS_MAX)
        return -1;
    r->buf[r->len++] = c;
    r->content++;
    return 0;
}

/* One byte through the state machine. 0, or what the callback stopped with. */
static int
csv_byte(struct csv_reader *r, char c)
{
    int eol = c == '\n';
    int rc = 0;

    if (r->skipping) {
        if (eol) {
            r->skipping = 0;
            r->line++;
        }
        return 0;
    }
    if (!r->open) {
        r->open = 1;
        r->rec_line = r->line;
        r->start[0] = 0;
    }
    if (r->cr) {
        r->cr = 0;
        if (!eol)
            return csv_reject(r, "stray carriage return", 0);
    }
    if (c == '\0') {
        rc = csv_reject(r, "NUL byte", 0);
        return rc;
    }
    switch (r->state) {
    case CSV_QUOTED:
        if (c == '"')
            r->state = CSV_QUOTE;
        else if (csv_append(r, c) == -1)
            return csv_reject(r, "record too long", 0);
        if (eol)
            r->line++;
        return 0;
    case CSV_QUOTE:
        if (c == '"') {
            r->state = CSV_QUOTED;
            if (csv_append(r, c) == -1)
                return csv_reject(r, "record too long", 0);
            return 0;
        }
        if (c != r->sep && !eol && c != '\r')
            return csv_reject(r, "text after a closing quote", 0);
        break;
    case CSV_FIELD:
        if (c == '"') {
            r->state = CSV_QUOTED;
            return 0;
        }
        break;
    case CSV_BARE:
        if (c == '"')
            return csv_reject(r, "quote inside an unquoted field", 0);
        break;
    }
    if (c == '\r') {
        r->cr = 1;
        return 0;
    }
    if (eol) {
        rc = csv_end_record(r);
        r->line++;
        return rc;
    }
    if (c == r->sep) {
        r->state = CSV_FIELD;
        if (csv_end_field(r) == -1)
            return csv_reject(r, "more than 64 fields", 0);
        return 0;
    }
    r->state = CSV_BARE;
    if (csv_append(r, c) == -1)
        return csv_reject(r, "record too long", 0);
    return 0;
}

/* The separator is the one the header row (outside quotes) holds more of; ',' on a tie. */
static int
csv_decide(struct csv_reader *r)
{
    size_t i, semi = 0, comma = 0, from = 0;
    int quoted = 0, rc = 0;

    if (r->npre >= 3 && memcmp(r->pre, "\xef\xbb\xbf", 3) == 0)
        from = 3;
    for (i = from; i < r->npre; i++) {
        if (r->pre[i] == '"')
            quoted = !quoted;
        else if (!quoted && r->pre[i] == ';')
            semi++;
        else if (!quoted && r->pre[i] == ',')
            comma++;
    }
    r->sep = semi > comma ? ';' : ',';
    for (i = from; i < r->npre && rc == 0; i++)
        rc = csv_byte(r, r->pre[i]);
    r->npre = 0;
    return rc;
}

int
csv_feed(struct csv_reader *r, const char *buf, size_t len)
{
    size_t i = 0;
    int rc;

    if (r->stopped)
        return r->stopped;
    /* the first line is kept until its end says which separator the file uses */
    while (r->sep == 0 && i < len) {
        char c = buf[i++];

        r->pre[r->npre++] = c;
        if (c == '"')
            r->pre_quoted = !r->pre_quoted;
        if ((c == '\n' && !r->pre_quoted) || r->npre >= CSV_RECORD_MAX + 3) {
            if ((rc = csv_decide(r)) != 0)
                return rc;
        }
    }
    for (; i < len; i++) {
        if ((rc = csv_byte(r, buf[i])) != 0)
            return rc;
    }
    return 0;
}

int
csv_finish(struct csv_reader *r)
{
    int rc;

    if (r->stopped)
        return r->stopped;
    if (r->sep == 0 && (rc = csv_decide(r)) != 0)
        return rc;
    if (r->skipping || !r->open)
        return 0;
    if (r->state == CSV_QUOTED)
        return csv_reject(r, "unterminated quote", 1);
    r->cr = 0;
    return csv_end_record(r);
}

/* name, trimmed of spaces, equals one of the '|'-separated names, without case */
static int
csv_name_is(const char *name, size_t len, const char *names)
{
    const char *p = names;

    while (len > 0 && (name[0] == ' ' || name[0] == '\t'))
        name++, len--;
    while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    for (;;) {
        size_t n = strcspn(p, "|"), i;

        if (n == len) {
            for (i = 0; i < n; i++) {
                char a = name[i], b = p[i];

                if (a >= 'A' && a <= 'Z')
                    a = (char)(a - 'A' + 'a');
                if (b >= 'A' && b <= 'Z')
                    b = (char)(b - 'A' + 'a');
                if (a != b)
                    break;
            }
            if (i == n)
                return 1;
        }
        if (p[n] == '\0')
            return 0;
        p += n + 1;
    }
}

int
csv_header_map(const struct csv_record *hdr, const struct csv_column *cols, size_t ncols, int *idx,
               char *err, size_t errlen)
{
    size_t c, f;

    for (c = 0; c < ncols; c++) {
        int n = (int)strcspn(cols[c].names, "|");

        idx[c] = -1;
        for (f = 0; f < hdr->nfields; f++) {
            if (!csv_name_is(hdr->fields[f], hdr->lens[f], cols[c].names))
                continue;
            if (idx[c] != -1) {
                parse_seterr(err, errlen, "column %.*s twice", n, cols[c].names);
                return -1;
            }
            idx[c] = (int)f;
        }
        if (idx[c] == -1 && cols[c].required) {
            parse_seterr(err, errlen, "missing column %.*s", n, cols[c].names);
            return -1;
        }
    }
    return 0;
}
