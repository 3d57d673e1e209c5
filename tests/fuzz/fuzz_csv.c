/*
 * The CSV reader on any bytes, fed whole and then cut where the first byte says: both must hand
 * back the same records (a digest of them), every field NUL-terminated, as long as it says,
 * valid UTF-8, and line numbers that never go back. The header map runs on the first record.
 */
#include <stdint.h>
#include <string.h>

#include "csv.h"
#include "fuzz.h"

struct seen {
    uint64_t digest;
    size_t last_line;
    size_t records;
};

static void
mix(struct seen *s, const void *p, size_t n)
{
    const unsigned char *b = p;
    size_t i;

    for (i = 0; i < n; i++)
        s->digest = (s->digest ^ b[i]) * 1099511628211ull;
}

static int
check_record(void *arg, const struct csv_record *r)
{
    static const struct csv_column cols[] = {{"no_pkh|pkh_number|nomor_pkh", 1}, {"nama|name", 0}};
    struct seen *s = arg;
    size_t i;
    int idx[2];
    char err[64];

    FUZZ_CHECK(r->line >= 1 && r->line >= s->last_line);
    s->last_line = r->line;
    s->records++;
    mix(s, &r->line, sizeof r->line);
    if (r->reject != NULL) {
        FUZZ_CHECK(r->nfields == 0 && !r->header);
        mix(s, r->reject, strlen(r->reject));
        return 0;
    }
    FUZZ_CHECK(r->nfields >= 1 && r->nfields <= CSV_FIELDS_MAX);
    for (i = 0; i < r->nfields; i++) {
        FUZZ_CHECK(strlen(r->fields[i]) == r->lens[i]);
        FUZZ_CHECK(parse_utf8_valid(r->fields[i], r->lens[i]));
        mix(s, r->fields[i], r->lens[i] + 1);
    }
    if (r->header) {
        if (csv_header_map(r, cols, 2, idx, err, sizeof err) == 0)
            FUZZ_CHECK(idx[0] >= 0 && (size_t)idx[0] < r->nfields);
        else
            FUZZ_CHECK(strncmp(err, "missing column ", 15) == 0 || strstr(err, " twice") != NULL);
    }
    return 0;
}

static void
run(const uint8_t *data, size_t size, size_t cut, struct seen *s)
{
    struct csv_reader *r = csv_new(check_record, s);

    if (r == NULL)
        return;
    memset(s, 0, sizeof *s);
    FUZZ_CHECK(csv_feed(r, (const char *)data, cut) == 0);
    FUZZ_CHECK(csv_feed(r, (const char *)data + cut, size - cut) == 0);
    FUZZ_CHECK(csv_finish(r) == 0);
    FUZZ_CHECK(csv_separator(r) == ';' || csv_separator(r) == ',');
    csv_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen whole, split;

    run(data, size, size, &whole);
    run(data, size, size > 0 ? data[0] % (size + 1) : 0, &split);
    FUZZ_CHECK(whole.digest == split.digest && whole.records == split.records);
    return 0;
}
