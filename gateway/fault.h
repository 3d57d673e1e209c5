/*
 * The fault-injection spec, pure: KABAR_FAULTS as db.c reads it at start-up in a build
 * configured with --enable-faults (this file is compiled in no other build). The format and
 * what each kind does are in db.h, next to db_fault() and db_txn_name().
 */
#ifndef KABAR_FAULT_H
#define KABAR_FAULT_H

#include <stddef.h>
#include <stdint.h>

#define FAULT_NAME_SIZE 48 /* a point's or transaction's name, with its NUL */
#define FAULT_MAX 16       /* entries in one spec */
#define FAULT_TIMES_MAX 1000000

enum fault_kind {
    FAULT_LINK,        /* link:POINT, a db_fault() in a work function */
    FAULT_COMMIT_LOST, /* commit_lost:TXN, a DB_TXN job named by db_txn_name() */
    FAULT_SLOW,        /* slow:POINT, a db_fault() in a work function */
};

struct fault_spec {
    enum fault_kind kind;
    char name[FAULT_NAME_SIZE];
    uint64_t times; /* fires this many times ... */
    uint64_t skip;  /* ... after letting this many passes go by */
};

/*
 * "KIND:NAME=TIMES[@SKIP]" entries separated by ',' (no spaces): KIND is link, commit_lost or slow,
 * NAME 1-47 of [a-z0-9_], TIMES 1-1000000, SKIP 0-1000000. The same KIND:NAME twice, an empty
 * entry or more than max entries is an error; an empty string arms nothing. Returns the number
 * of entries written to out, or -1 with the reason in err.
 */
int fault_parse(const char *s, size_t len, struct fault_spec *out, size_t max, char *err,
                size_t errlen);

/* "link", "commit_lost" or "slow" */
const char *fault_kind_name(enum fault_kind kind);

#endif
