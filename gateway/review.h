/*
 * Case review: which reports an administrator sees. One filter, turned into one prepared
 * statement for the review queue (a page of three report tables, newest first), its count, the
 * CSV exports and the API (keyset pages of one table). Every statement is limited to the
 * user's region: a supervisor never sees a row outside it, whatever the filter says.
 */
#ifndef KABAR_REVIEW_H
#define KABAR_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"

enum review_type { REVIEW_ANY, REVIEW_BUSINESS, REVIEW_ATTENDANCE, REVIEW_HELP };
enum review_state { REVIEW_UNREVIEWED, REVIEW_FOLLOW_UP, REVIEW_REVIEWED, REVIEW_ALL };
/* the KPM's graduation track (kpm.graduation), or any */
enum review_track {
    REVIEW_TRACK_ANY,
    REVIEW_TRACK_NONE,
    REVIEW_TRACK_NATURAL,
    REVIEW_TRACK_WELFARE
};

#define REVIEW_Q_MAX 100 /* bytes of a search */

struct review_filter {
    char region[14];    /* a region code prefix, "" for all */
    uint64_t assistant; /* 0: any */
    int type;           /* enum review_type */
    unsigned bstatus;   /* business status 1..4, 0: any (implies business reports) */
    char from[11];      /* YYYY-MM-DD in WIB, inclusive, or "" */
    char to[11];
    char q[REVIEW_Q_MAX + 1]; /* a KPM name (part) or phone number */
    int review;               /* enum review_state */
    int track;                /* enum review_track */
};

extern const char *const review_type_names[4];  /* "", business, attendance, help */
extern const char *const review_state_names[4]; /* unreviewed, follow_up, reviewed, all */
extern const char *const review_track_names[4]; /* "", none, natural, welfare */

/* 1 for a region code (digits only, at most 13) or "" */
int review_region_valid(const char *s);
/* Pure: a filter from form fields (the queue form, or an API query string). Unknown values are
 * an error with a message naming the field. */
int review_filter_parse(const char *body, size_t len, struct review_filter *f, char *err,
                        size_t errlen);
/* The filter as a JSON object (kept in the admin session), and back. */
char *review_filter_json(const struct review_filter *f);
int review_filter_from_json(const char *json, struct review_filter *f);

/* SQL pieces every admin statement shares: a KPM (alias k) within a region prefix (one
 * parameter; "" is every region), a UTC column shown in WIB, the ministry's clock, and the NIK of
 * KPM k as administrators see it, pages and API alike: twelve stars and the last four digits
 * (the only ones kept). */
#define REVIEW_SCOPE " k.region_code LIKE CONCAT(?, '%')"

/*
 * Who may touch which KPM (alias k), for the statements that act on one KPM for an
 * administrator, a supervisor or an assistant: a region code prefix ("" is every region) and
 * an assistant (0: any). An administrator is {"", 0}, a supervisor {her region, 0}, an
 * assistant {"", her assistants.id}: she reaches her own caseload only. SCOPE_SQL takes three
 * parameters, SCOPE_PARAMS(&scope) gives them.
 */
struct scope {
    const char *region;
    uint64_t assistant_id;
};
#define SCOPE_SQL " k.region_code LIKE CONCAT(?, '%') AND (? = 0 OR k.assistant_id = ?)"
#define SCOPE_PARAMS(s) DB_STR((s)->region), DB_U64((s)->assistant_id), DB_U64((s)->assistant_id)
#define REVIEW_WIB(col) "DATE_FORMAT(" col " + INTERVAL 7 HOUR, '%Y-%m-%d %H:%i')"
#define REVIEW_NIK_MASKED " CONCAT('************', COALESCE(k.nik_last4, '----'))"

/* A review action, from the KPM page's form or POST /api/v1/reviews. */
#define REVIEW_NOTE_MAX 1000 /* bytes */
enum { REVIEW_ACTION_OK = 0, REVIEW_ACTION_BAD = -1, REVIEW_ACTION_NO_NOTE = -2 };
/*
 * Pure: the checks of an action's values. type: business, attendance or help (*t is then its
 * enum review_type); status: reviewed, follow_up or note; note (NULL is none): at most
 * REVIEW_NOTE_MAX bytes, and needed when status is note. Returns REVIEW_ACTION_OK,
 * REVIEW_ACTION_BAD (a value not one of these, a note too long) or REVIEW_ACTION_NO_NOTE.
 */
int review_action_check(const char *type, const char *status, const char *note, int *t);

/* A statement under construction: text and its parameters. */
#define SQLB_MAXP 64
struct sqlb {
    char sql[8192];
    size_t len;
    struct db_param p[SQLB_MAXP];
    size_t np;
    int overflow;
    /* storage for the name pattern: '%', the search with every character escaped, '%' */
    char like[2 * REVIEW_Q_MAX + 3];
};

void sqlb_add(struct sqlb *b, const char *text);
void sqlb_param(struct sqlb *b, const char *text, struct db_param p);

/* A count past this is shown as "10,000+": counting every unreviewed report of a million KPM
 * is a scan of the year's reports per page view; no page deeper than this is shown anyway */
#define REVIEW_COUNT_CAP 10000

enum review_mode {
    REVIEW_PAGE,  /* union of the types, newest first: limit, offset */
    REVIEW_COUNT, /* one row: how many, at most REVIEW_COUNT_CAP + 1 of each type */
    REVIEW_KEYSET /* one type, id descending, id < before (0: from the top), limit */
};

/*
 * The statement for f within region `scope` ("" for all). Columns of REVIEW_PAGE: type, id,
 * kpm_id, created_at (UTC), created (WIB text), source, a, b, c, kpm name, msisdn, region code,
 * review, where a/b/c are business: status, revenue, kind; attendance: attended, reason, training
 * title; help: topic, NULL, text. REVIEW_KEYSET has the columns of review_export_columns(type).
 * Returns -1 when the statement does not fit (not for any filter the parser accepts).
 */
int review_build(struct sqlb *b, const struct review_filter *f, const char *scope,
                 enum review_mode mode, int type, uint64_t before, unsigned limit, unsigned offset);
/* The CSV header / JSON keys of REVIEW_KEYSET rows for one type, NULL-terminated. */
const char *const *review_export_columns(int type);

#endif
