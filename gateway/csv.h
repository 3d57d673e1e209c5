/*
 * A pure, chunk-fed CSV reader for the registry exports an import reads (import.c): UTF-8 with
 * or without a BOM, ';' or ',' as the header row says, RFC 4180 quotes ("" inside a quoted
 * field), CRLF or LF. Each record reaches a callback with the number of the physical line it
 * starts on; a malformed record arrives with a reject reason instead of its fields, and the
 * reader goes on at the next line. No I/O, no globals.
 */
#ifndef KABAR_CSV_H
#define KABAR_CSV_H

#include <stddef.h>

/* Longest record (bytes between separators and quotes included) and most fields per record. */
#define CSV_RECORD_MAX 65536
#define CSV_FIELDS_MAX 64

struct csv_record {
    size_t line;         /* 1-based physical line where the record starts */
    size_t nfields;      /* 0 when rejected */
    const char **fields; /* NUL-terminated, valid UTF-8, no NUL inside */
    const size_t *lens;
    const char *reject; /* NULL, or why the record was refused (a static string) */
    int header;         /* 1 for the first record, whose fields name the columns */
};

/* Returns 0 to go on, anything else to stop: csv_feed()/csv_finish() then return it. */
typedef int (*csv_record_fn)(void *arg, const struct csv_record *r);

struct csv_reader;

/* NULL when out of memory. */
struct csv_reader *csv_new(csv_record_fn fn, void *arg);
/* The next len bytes of the file, cut anywhere. 0, or what the callback stopped with. */
int csv_feed(struct csv_reader *r, const char *buf, size_t len);
/* The end of the file: the last record, even without a newline. 0, or the callback's value. */
int csv_finish(struct csv_reader *r);
/* ';' or ',', once the header row decided it; 0 before. */
char csv_separator(const struct csv_reader *r);
void csv_free(struct csv_reader *r);

/*
 * One column an importer reads: its names separated by '|' ("no_pkh|pkh_number|nomor_pkh"),
 * compared without case and surrounding spaces, and whether a file must have it.
 */
struct csv_column {
    const char *names;
    int required;
};

/*
 * The header row's map: idx[i] is the field index of cols[i], or -1 when the file has no such
 * column. Returns 0, or -1 with "missing column NAME" (the first name) or "column NAME twice"
 * in err. Columns a table does not know are ignored.
 */
int csv_header_map(const struct csv_record *hdr, const struct csv_column *cols, size_t ncols,
                   int *idx, char *err, size_t errlen);

#endif
