#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "parse.h"
#include "review.h"

const char *const review_type_names[4] = {"", "business", "attendance", "help"};
const char *const review_state_names[4] = {"unreviewed", "follow_up", "reviewed", "all"};
const char *const review_track_names[4] = {"", "none", "natural", "welfare"};

static const char *const review_tables[4] = {NULL, "business_reports", "attendance_reports",
                                             "help_requests"};

static int
review_pick(const char *v, const char *const *names, size_t n, int *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return -1;
}

int
review_action_check(const char *type, const char *status, const char *note, int *t)
{
    static const char *const statuses[] = {"reviewed", "follow_up", "note"};
    int st; /* an index into statuses */

    if (review_pick(type, review_type_names, 4, t) == -1 || *t == REVIEW_ANY ||
        review_pick(status, statuses, 3, &st) == -1 ||
        (note != NULL && strlen(note) > REVIEW_NOTE_MAX))
        return REVIEW_ACTION_BAD;
    if (strcmp(statuses[st], "note") == 0 && (note == NULL || note[0] == '\0'))
        return REVIEW_ACTION_NO_NOTE;
    return REVIEW_ACTION_OK;
}

/* YYYY-MM-DD with a plausible month and day (the database refuses the rest as NULL) */
static int
review_date_valid(const char *s)
{
    uint64_t y, m, d;

    return strlen(s) == 10 && s[4] == '-' && s[7] == '-' && parse_u64(s, 4, 2000, 2100, &y) == 0 &&
           parse_u64(s + 5, 2, 1, 12, &m) == 0 && parse_u64(s + 8, 2, 1, 31, &d) == 0;
}

int
review_region_valid(const char *s)
{
    size_t i, n = strlen(s);

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n <= 13;
}

static int
review_filter_check(struct review_filter *f, const char *assistant, const char *type,
                    const char *bstatus, const char *review, const char *track, char *err,
                    size_t errlen)
{
    uint64_t v;

    if (!review_region_valid(f->region)) {
        parse_seterr(err, errlen, "region must be a region code");
        return -1;
    }
    f->assistant = 0;
    if (assistant[0] != '\0' &&
        parse_u64(assistant, strlen(assistant), 1, UINT32_MAX, &f->assistant) == -1) {
        parse_seterr(err, errlen, "assistant must be an assistant id");
        return -1;
    }
    if (review_pick(type, review_type_names, 4, &f->type) == -1) {
        parse_seterr(err, errlen, "type must be business, attendance or help");
        return -1;
    }
    f->bstatus = 0;
    if (bstatus[0] != '\0') {
        if (parse_u64(bstatus, strlen(bstatus), 1, 4, &v) == -1) {
            parse_seterr(err, errlen, "status must be 1 to 4");
            return -1;
        }
        f->bstatus = (unsigned)v;
    }
    if (f->bstatus != 0 && f->type != REVIEW_ANY && f->type != REVIEW_BUSINESS) {
        parse_seterr(err, errlen, "a business status applies to business reports only");
        return -1;
    }
    if (review[0] == '\0')
        f->review = REVIEW_UNREVIEWED;
    else if (review_pick(review, review_state_names, 4, &f->review) == -1) {
        parse_seterr(err, errlen, "review must be unreviewed, follow_up, reviewed or all");
        return -1;
    }
    if ((f->from[0] != '\0' && !review_date_valid(f->from)) ||
        (f->to[0] != '\0' && !review_date_valid(f->to))) {
        parse_seterr(err, errlen, "dates must look like 2026-11-30");
        return -1;
    }
    if (review_pick(track, review_track_names, 4, &f->track) == -1) {
        parse_seterr(err, errlen, "track must be none, natural or welfare");
        return -1;
    }
    return 0;
}

int
review_filter_parse(const char *body, size_t len, struct review_filter *f, char *err, size_t errlen)
{
    char assistant[16], type[16], bstatus[8], review[16], track[16];
    struct parse_field fields[] = {
        {"region", f->region, sizeof f->region, 0, 0, 0},
        {"assistant", assistant, sizeof assistant, 0, 0, 0},
        {"type", type, sizeof type, 0, 0, 0},
        {"bstatus", bstatus, sizeof bstatus, 0, 0, 0},
        {"from", f->from, sizeof f->from, 0, 0, 0},
        {"to", f->to, sizeof f->to, 0, 0, 0},
        {"q", f->q, sizeof f->q, 0, 0, 0},
        {"review", review, sizeof review, 0, 0, 0},
        {"track", track, sizeof track, 0, 0, 0},
    };
    size_t i;

    memset(f, 0, sizeof *f);
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
        fields[i].buf[0] = '\0';
    if (parse_form(body, len, fields, sizeof fields / sizeof fields[0], err, errlen) == -1)
        return -1;
    return review_filter_check(f, assistant, type, bstatus, review, track, err, errlen);
}

char *
review_filter_json(const struct review_filter *f)
{
    json_t *o =
        json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:s, s:s, s:s}", "region", f->region, "assistant",
                  (json_int_t)f->assistant, "type", review_type_names[f->type], "bstatus",
                  (json_int_t)f->bstatus, "from", f->from, "to", f->to, "q", f->q, "review",
                  review_state_names[f->review], "track", review_track_names[f->track]);
    char *s;

    if (o == NULL)
        return NULL;
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int
review_filter_from_json(const char *json, struct review_filter *f)
{
    json_t *o = json_loads(json, 0, NULL);
    const char *region = "", *type = "", *from = "", *to = "", *q = "", *review = "", *track = "";
    json_int_t assistant = 0, bstatus = 0;
    char a[24], bs[24];
    int rc = -1;

    memset(f, 0, sizeof *f);
    if (o == NULL)
        return -1;
    /* a filter kept before there were tracks has none: any */
    if (json_unpack(o, "{s?s, s?I, s?s, s?I, s?s, s?s, s?s, s?s, s?s}", "region", &region,
                    "assistant", &assistant, "type", &type, "bstatus", &bstatus, "from", &from,
                    "to", &to, "q", &q, "review", &review, "track", &track) == 0 &&
        strlen(region) < sizeof f->region && strlen(from) < sizeof f->from &&
        strlen(to) < sizeof f->to && strlen(q) < sizeof f->q && assistant >= 0 && bstatus >= 0) {
        snprintf(f->region, sizeof f->region, "%s", region);
        snprintf(f->from, sizeof f->from, "%s", from);
        snprintf(f->to, sizeof f->to, "%s", to);
        snprintf(f->q, sizeof f->q, "%s", q);
        snprintf(a, sizeof a, "%s", "");
        if (assistant > 0)
            snprintf(a, sizeof a, "%lld", (long long)assistant);
        snprintf(bs, sizeof bs, "%s", "");
        if (bstatus > 0)
            snprintf(bs, sizeof bs, "%lld", (long long)bstatus);
        rc = review_filter_check(f, a, type, bs, review, track, NULL, 0);
    }
    json_decref(o);
    if (rc == -1)
        memset(f, 0, sizeof *f);
    return rc;
}

void
sqlb_add(struct sqlb *b, const char *text)
{
    size_t n = strlen(text);

    if (b->len + n >= sizeof b->sql) {
        b->overflow = 1;
        return;
    }
    memcpy(b->sql + b->len, text, n + 1);
    b->len += n;
}

void
sqlb_param(struct sqlb *b, const char *text, struct db_param p)
{
    if (b->np >= SQLB_MAXP) {
        b->overflow = 1;
        return;
    }
    b->p[b->np++] = p;
    sqlb_add(b, text);
}

/* the current review status of report x of one type: its latest reviewed or follow_up */
static void
review_status_expr(struct sqlb *b, int type)
{
    sqlb_add(b, "(SELECT v.status FROM reviews v WHERE v.report_type = '");
    sqlb_add(b, review_type_names[type]);
    sqlb_add(b, "' AND v.report_id = x.id AND v.status <> 'note' ORDER BY v.id DESC LIMIT 1)");
}

/* Where a type's statement starts from. Without a region (or with a name search) the reports'
 * own order, newest first or by status, each one's KPM looked up. With one, the region's
 * reports are one range of a report table's region index (migration 019): region_code is copied
 * from the KPM by triggers, and its first 6, 4 and 2 digits (kecamatan, kabupaten, province)
 * head an index each in the queue's order (created_at, id). A page reads the first rows of the
 * range, a count the range up to the cap: bounded by the page or the cap, not by the region's
 * size or by how lately it reported (the walk in the reports' order read 100,000 reports for a
 * page of a kabupaten with few paused lately). A desa is its kecamatan's range, region_code
 * checked in the index. The longer of the scope and the filter picks the level; both are
 * checked on region_code. */
struct review_level {
    size_t len;         /* digits of the code the level keeps */
    const char *col;    /* its generated column */
    const char *suffix; /* of the index name: idx_<table><suffix> */
};

static const struct review_level review_levels[] = {
    {6, "x.region_kec", "_kec"},
    {4, "x.region_kab", "_kab"},
    {2, "x.region_prov", "_prov"},
};

static const struct review_level *
review_level(const struct review_filter *f, const char *scope, const char **code)
{
    const char *c = strlen(f->region) > strlen(scope) ? f->region : scope;
    size_t i;

    if (f->q[0] != '\0')
        return NULL; /* one KPM by name or number: the optimiser starts from her */
    for (i = 0; i < sizeof review_levels / sizeof review_levels[0]; i++) {
        if (strlen(c) >= review_levels[i].len) {
            *code = c;
            return &review_levels[i];
        }
    }
    return NULL;
}

/* a count with nothing to check on the KPM reads the report table's index alone */
static int
review_needs_kpm(const struct review_filter *f, enum review_mode mode)
{
    return mode != REVIEW_COUNT || f->assistant != 0 || f->track != REVIEW_TRACK_ANY ||
           f->q[0] != '\0';
}

/* Unreviewed, in a count: an anti-join (LEFT JOIN, then no match), each report's reviews one
 * range of idx_reviews_report_created that stops at the first match. The dependent NOT EXISTS
 * that a page uses costs a subquery's set-up per report: 109 ms for a count of 10,001 where the
 * join takes 40. The outer join keeps the order (reports, then their reviews): MariaDB cannot
 * start from reviews and materialise them all (see REVIEW_PLAN). */
static int
review_anti_join(const struct review_filter *f, enum review_mode mode)
{
    return mode == REVIEW_COUNT && f->review == REVIEW_UNREVIEWED;
}

static void
review_from(struct sqlb *b, const struct review_filter *f, int type, enum review_mode mode,
            const struct review_level *lv, int kpm)
{
    sqlb_add(b, " FROM ");
    sqlb_add(b, review_tables[type]);
    sqlb_add(b, " x");
    if (lv != NULL) {
        sqlb_add(b, " FORCE INDEX (idx_");
        sqlb_add(b, review_tables[type]);
        sqlb_add(b, lv->suffix);
        sqlb_add(b, ")");
    }
    /* newest first over many reports: walk the reports' own order and look each KPM up, or
     * MariaDB may start from kpm and sort every report for each page; a search for one KPM is
     * the other way round */
    if (kpm)
        sqlb_add(b, f->q[0] == '\0' ? " STRAIGHT_JOIN kpm k ON k.id = x.kpm_id"
                                    : " JOIN kpm k ON k.id = x.kpm_id");
    if (type == REVIEW_ATTENDANCE)
        sqlb_add(b, " JOIN trainings tr ON tr.id = x.training_id");
    if (review_anti_join(f, mode)) {
        sqlb_add(b, " LEFT JOIN reviews v ON v.report_type = '");
        sqlb_add(b, review_type_names[type]);
        sqlb_add(b, "' AND v.report_id = x.id AND v.status <> 'note'");
    }
}

/* whether "region_code starts with c" follows from lv's column = LEFT(code, lv->len): c is no
 * longer than the level, and code starts with it (c empty: nothing to check) */
static int
review_implied(const char *c, const struct review_level *lv, const char *code)
{
    size_t n = strlen(c);

    return n <= lv->len && strncmp(code, c, n) == 0;
}

/* the region and the scope: the level's range and region_code, or the KPM's region */
static void
review_where_region(struct sqlb *b, const struct review_filter *f, const char *scope,
                    const struct review_level *lv, const char *code)
{
    char num[48];

    if (lv == NULL) {
        if (scope[0] != '\0')
            sqlb_param(b, " AND" REVIEW_SCOPE, DB_STR(scope));
        if (f->region[0] != '\0')
            sqlb_param(b, " AND" REVIEW_SCOPE, DB_STR(f->region));
        return;
    }
    sqlb_add(b, " AND ");
    sqlb_add(b, lv->col);
    snprintf(num, sizeof num, " = LEFT(?, %zu)", lv->len);
    sqlb_param(b, num, DB_STR(code));
    /* a code the level's equality implies is not checked again: region_code is in the
     * kecamatan's index only, and the check would read each report's row */
    if (!review_implied(scope, lv, code))
        sqlb_param(b, " AND x.region_code LIKE CONCAT(?, '%')", DB_STR(scope));
    if (!review_implied(f->region, lv, code))
        sqlb_param(b, " AND x.region_code LIKE CONCAT(?, '%')", DB_STR(f->region));
}

/* A keyset (the API, the CSV exports) goes by id, which no region index is ordered by: the
 * region's range is read whole and sorted, bounded while the region is small. A larger region
 * walks the reports by id and looks each KPM up, as without a region. The statement carries
 * both, each behind the region's KPM count (capped, one range of idx_kpm_region, evaluated
 * once): MariaDB skips the branch whose condition is false before reading a row. */
enum review_keyset_drive {
    REVIEW_KEYSET_ONE,   /* not a keyset, or no region: one SELECT */
    REVIEW_KEYSET_SMALL, /* a region of at most REVIEW_KEYSET_KPM KPM: its range, sorted */
    REVIEW_KEYSET_BIG,   /* a larger one: the walk by id */
};

/* 12 reports a KPM: at most 48,000 reports sorted for a page */
#define REVIEW_KEYSET_KPM 4000

static void
review_where_size(struct sqlb *b, const struct review_filter *f, const char *scope,
                  enum review_keyset_drive d)
{
    char num[96];

    if (d == REVIEW_KEYSET_ONE)
        return;
    sqlb_add(b, " AND (SELECT COUNT(*) FROM (SELECT 1 FROM kpm r WHERE 1 = 1");
    if (scope[0] != '\0')
        sqlb_param(b, " AND r.region_code LIKE CONCAT(?, '%')", DB_STR(scope));
    if (f->region[0] != '\0')
        sqlb_param(b, " AND r.region_code LIKE CONCAT(?, '%')", DB_STR(f->region));
    snprintf(num, sizeof num, " LIMIT %u) s) %s %u", REVIEW_KEYSET_KPM + 1,
             d == REVIEW_KEYSET_SMALL ? "<=" : ">", REVIEW_KEYSET_KPM);
    sqlb_add(b, num);
}

static void
review_where(struct sqlb *b, const struct review_filter *f, const char *scope, int type,
             enum review_mode mode, const struct review_level *lv, const char *code, int kpm)
{
    char msisdn[PARSE_MSISDN_SIZE];
    size_t i, o;

    sqlb_add(b, " WHERE 1 = 1");
    review_where_region(b, f, scope, lv, code);
    if (f->assistant != 0)
        sqlb_param(b, " AND k.assistant_id = ?", DB_U64(f->assistant));
    /* checked on the KPM row each report looks up (by its primary key): the walk in the
     * reports' own order stays, and reads about page / (the track's share of reports) rows */
    if (f->track != REVIEW_TRACK_ANY)
        sqlb_param(b, " AND k.graduation = ?", DB_STR(review_track_names[f->track]));
    if (f->bstatus != 0 && type == REVIEW_BUSINESS)
        sqlb_param(b, " AND x.status = ?", DB_U64(f->bstatus));
    else if (f->bstatus != 0)
        sqlb_add(b, " AND 1 = 0"); /* a business status: business reports only */
    if (f->from[0] != '\0')
        sqlb_param(b, " AND x.created_at >= CAST(? AS DATETIME) - INTERVAL 7 HOUR",
                   DB_STR(f->from));
    if (f->to[0] != '\0')
        sqlb_param(b, " AND x.created_at < CAST(? AS DATETIME) + INTERVAL 17 HOUR", DB_STR(f->to));
    if (f->q[0] != '\0') {
        if (parse_msisdn(f->q, strlen(f->q), msisdn) == 0) {
            /* the parameter must outlive this frame: keep it in the builder */
            snprintf(b->like, sizeof b->like, "%s", msisdn);
            sqlb_param(b, " AND k.msisdn = ?", DB_STR(b->like));
        } else {
            /* a name part, with LIKE's own characters taken literally; like has room for a
             * search of nothing but them, and cutting one would search for a part of it (or
             * for half a character) */
            o = 0;
            b->like[o++] = '%';
            for (i = 0; f->q[i] != '\0' && o + 4 <= sizeof b->like; i++) {
                if (f->q[i] == '%' || f->q[i] == '_' || f->q[i] == '\\')
                    b->like[o++] = '\\';
                b->like[o++] = f->q[i];
            }
            if (f->q[i] != '\0')
                b->overflow = 1;
            b->like[o++] = '%';
            b->like[o] = '\0';
            sqlb_param(b, " AND k.name LIKE ?", DB_STR(b->like));
        }
    }
    if (review_anti_join(f, mode)) {
        sqlb_add(b, " AND v.id IS NULL");
    } else if (f->review == REVIEW_UNREVIEWED) {
        /* k.id = x.kpm_id, true of every row, ties the dive to the KPM: MariaDB checks it after
         * the KPM's region, not for each report the walk reads (46,669 dives instead of 13,336
         * for a count of 10,001 in a third of the KPM) */
        sqlb_add(b, " AND NOT EXISTS (SELECT 1 FROM reviews v WHERE v.report_type = '");
        sqlb_add(b, review_type_names[type]);
        sqlb_add(b, kpm ? "' AND v.report_id = x.id AND v.status <> 'note' AND k.id = x.kpm_id)"
                        : "' AND v.report_id = x.id AND v.status <> 'note')");
    } else if (f->review == REVIEW_FOLLOW_UP || f->review == REVIEW_REVIEWED) {
        sqlb_add(b, " AND ");
        review_status_expr(b, type);
        sqlb_add(b, f->review == REVIEW_FOLLOW_UP ? " = 'follow_up'" : " = 'reviewed'");
    }
}

static const char *const review_page_cols[4] = {
    NULL,
    "x.status, x.revenue, x.kind",
    "x.attended, x.reason, tr.title",
    "x.topic, NULL, x.text",
};

static const char *const review_cols_business[] = {
    "report_id",   "created_wib",  "kpm_id", "pkh_number", "kpm_name", "msisdn",
    "region_code", "assistant_id", "source", "status",     "kind",     "revenue",
    "workers",     "difficulty",   "review", NULL};
static const char *const review_cols_attendance[] = {
    "report_id",   "created_wib",  "kpm_id", "pkh_number",  "kpm_name",       "msisdn",
    "region_code", "assistant_id", "source", "training_id", "training_title", "training_date",
    "attended",    "reason",       "review", NULL};
static const char *const review_cols_help[] = {
    "report_id",    "created_wib", "kpm_id", "pkh_number", "kpm_name", "msisdn", "region_code",
    "assistant_id", "source",      "topic",  "text",       "review",   NULL};

static const char *const review_keyset_cols[4] = {
    NULL,
    "x.status, x.kind, x.revenue, x.workers, x.difficulty",
    "x.training_id, tr.title, DATE_FORMAT(tr.starts_at + INTERVAL 7 HOUR, '%Y-%m-%d %H:%i'),"
    " x.attended, x.reason",
    "x.topic, x.text",
};

const char *const *
review_export_columns(int type)
{
    switch (type) {
    case REVIEW_BUSINESS:
        return review_cols_business;
    case REVIEW_ATTENDANCE:
        return review_cols_attendance;
    case REVIEW_HELP:
        return review_cols_help;
    default:
        return NULL;
    }
}

/* Unreviewed is a NOT EXISTS per report, one index dive each (idx_reviews_report_created).
 * MariaDB may turn it into an anti-join against the whole reviews table, materialised first:
 * 10 s and more once a million KPM's reports have millions of reviews, for a page of 50. */
#define REVIEW_PLAN "SET STATEMENT optimizer_switch = 'exists_to_in=off' FOR "

/* one type's SELECT of mode (the keyset and page ones ordered and limited), from one end */
static void
review_select(struct sqlb *b, const struct review_filter *f, const char *scope,
              enum review_mode mode, int t, uint64_t before, unsigned limit,
              enum review_keyset_drive d)
{
    const char *code = "";
    const struct review_level *lv = d == REVIEW_KEYSET_BIG ? NULL : review_level(f, scope, &code);
    int kpm = review_needs_kpm(f, mode);
    char num[64];

    if (mode == REVIEW_KEYSET) {
        sqlb_add(b, "(SELECT x.id, " REVIEW_WIB("x.created_at") ", x.kpm_id, k.pkh_number, k.name,"
                                                                " k.msisdn, k.region_code, "
                                                                "k.assistant_id, x.source, ");
        sqlb_add(b, review_keyset_cols[t]);
        sqlb_add(b, ", COALESCE(");
        review_status_expr(b, t);
        sqlb_add(b, ", 'unreviewed')");
    } else if (mode == REVIEW_COUNT) {
        sqlb_add(b, "(SELECT COUNT(*) AS n FROM (SELECT 1");
    } else {
        sqlb_add(b, "(SELECT '");
        sqlb_add(b, review_type_names[t]);
        sqlb_add(b, "' AS t, x.id, x.kpm_id, x.created_at, " REVIEW_WIB(
                        "x.created_at") " AS created, x.source, ");
        sqlb_add(b, review_page_cols[t]);
        sqlb_add(b, ", k.name, k.msisdn, k.region_code, COALESCE(");
        review_status_expr(b, t);
        sqlb_add(b, ", 'unreviewed') AS rv");
    }
    review_from(b, f, t, mode, lv, kpm);
    review_where(b, f, scope, t, mode, lv, code, kpm);
    review_where_size(b, f, scope, d);
    if (mode == REVIEW_KEYSET) {
        if (before != 0)
            sqlb_param(b, " AND x.id < ?", DB_U64(before));
        snprintf(num, sizeof num, " ORDER BY x.id DESC LIMIT %u)", limit);
    } else if (mode == REVIEW_PAGE) {
        snprintf(num, sizeof num, " ORDER BY x.created_at DESC, x.id DESC LIMIT %u)", limit);
    } else {
        snprintf(num, sizeof num, " LIMIT %u) l)", REVIEW_COUNT_CAP + 1);
    }
    sqlb_add(b, num);
}

int
review_build(struct sqlb *b, const struct review_filter *f, const char *scope,
             enum review_mode mode, int type, uint64_t before, unsigned limit, unsigned offset)
{
    const char *code;
    char num[64];
    int t, first = 1;

    memset(b, 0, sizeof *b);
    if (mode == REVIEW_KEYSET) {
        if (type < REVIEW_BUSINESS || type > REVIEW_HELP)
            return -1;
        sqlb_add(b, REVIEW_PLAN "SELECT * FROM (");
        if (review_level(f, scope, &code) == NULL) {
            review_select(b, f, scope, mode, type, before, limit, REVIEW_KEYSET_ONE);
        } else {
            review_select(b, f, scope, mode, type, before, limit, REVIEW_KEYSET_SMALL);
            sqlb_add(b, " UNION ALL ");
            review_select(b, f, scope, mode, type, before, limit, REVIEW_KEYSET_BIG);
        }
        /* the first column of the union is x.id: its name is id */
        snprintf(num, sizeof num, ") q ORDER BY id DESC LIMIT %u", limit);
        sqlb_add(b, num);
        return b->overflow ? -1 : 0;
    }
    sqlb_add(b, mode == REVIEW_COUNT ? REVIEW_PLAN "SELECT SUM(n) FROM ("
                                     : REVIEW_PLAN "SELECT * FROM (");
    for (t = REVIEW_BUSINESS; t <= REVIEW_HELP; t++) {
        if (f->type != REVIEW_ANY && f->type != t)
            continue;
        if (f->bstatus != 0 && t != REVIEW_BUSINESS)
            continue;
        if (!first)
            sqlb_add(b, " UNION ALL ");
        first = 0;
        review_select(b, f, scope, mode, t, 0, offset + limit, REVIEW_KEYSET_ONE);
    }
    if (first)
        return -1;
    if (mode == REVIEW_COUNT) {
        sqlb_add(b, ") c");
    } else {
        snprintf(num, sizeof num, ") q ORDER BY created_at DESC, t, id DESC LIMIT %u OFFSET %u",
                 limit, offset);
        sqlb_add(b, num);
    }
    return b->overflow ? -1 : 0;
}
