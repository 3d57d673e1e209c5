/*
 * The JSON API under /api/v1, on the admin listener: reports, KPM, alerts, reviews,
 * graduations, trainings, assistants and lesson progress for the ministry's own tools. Bearer
 * tokens (`kabard user token`), the same region limits as the pages, cursor pagination: each
 * list answers {"data": [...], "next_cursor": "N" or null}, and the next page is ?cursor=N.
 * Personal data never goes in a URL: a search by name or phone number is not offered here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <jansson.h>

#include "admin.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "graduation.h"
#include "handlers.h"
#include "http.h"
#include "log.h"
#include "parse.h"
#include "review.h"
#include "training.h"

#define API_LIMIT_DEFAULT 100
#define API_LIMIT_MAX 1000

struct api_job;
typedef int (*api_fn)(struct db_conn *, struct api_job *);

struct api_job {
    struct http_req *r;
    const struct config *cfg;
    api_fn fn;
    const char *txn;        /* a job that writes: one transaction (DB_TXN) of this name */
    char key[AUTH_KEY_HEX]; /* a job that writes: the request's, the same for every run */
    char token[AUTH_TOKEN_HEX + 8];
    int has_idem;                      /* an Idempotency-Key header came ... */
    char idem[PARSE_IDEM_KEY_MAX + 2]; /* ... with this value (one byte too many: too long) */
    char query[512];
    struct auth_user user;
    int json_body; /* Content-Type: application/json (read on the loop, with the headers) */
    int status;
    json_t *reply;
    /* lists */
    const char *const *cols;
    json_t *data;
    uint64_t last;
};

static const char *const api_numeric[] = {"id",
                                          "report_id",
                                          "kpm_id",
                                          "assistant_id",
                                          "status",
                                          "kind",
                                          "revenue",
                                          "workers",
                                          "difficulty",
                                          "training_id",
                                          "attended",
                                          "reason",
                                          "topic",
                                          "reminders",
                                          "kube_id",
                                          "decided_by_id",
                                          "revoked_by_id",
                                          "outcome_code",
                                          "business_running",
                                          "caseload",
                                          "tot_attended",
                                          "enrolled",
                                          "days",
                                          "screens_seen",
                                          "attempts",
                                          "score",
                                          "questions",
                                          NULL};

static json_t *
api_value(const char *col, const char *v, unsigned long len)
{
    uint64_t n;
    size_t i;

    if (v == NULL)
        return json_null();
    for (i = 0; api_numeric[i] != NULL; i++)
        if (strcmp(col, api_numeric[i]) == 0 && parse_u64(v, len, 0, UINT64_MAX >> 1, &n) == 0)
            return json_integer((json_int_t)n);
    return json_stringn(v, len);
}

/* one row: an object keyed by j->cols; the first column is the cursor */
static int
api_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct api_job *j = arg;
    json_t *o = json_object();
    unsigned i;

    if (o == NULL)
        return 1;
    for (i = 0; i < n && j->cols[i] != NULL; i++) {
        json_t *x = api_value(j->cols[i], v[i], lens[i]);

        json_object_set_new(o, j->cols[i], x != NULL ? x : json_null());
    }
    json_array_append_new(j->data, o);
    if (v[0] != NULL)
        (void)parse_u64(v[0], lens[0], 0, UINT64_MAX, &j->last);
    return 0;
}

static void
api_error(struct api_job *j, int status, const char *msg)
{
    json_decref(j->reply);
    j->status = status;
    j->reply = json_pack("{s:s}", "error", msg);
}

/* cursor and limit of a list request */
static int
api_page(struct api_job *j, uint64_t *cursor, unsigned *limit)
{
    char c[24] = "", l[8] = "", err[96];
    struct parse_field f[] = {{"cursor", c, sizeof c, 0, 0, 0}, {"limit", l, sizeof l, 0, 0, 0}};
    uint64_t v = API_LIMIT_DEFAULT;

    *cursor = 0;
    if (parse_form(j->query, strlen(j->query), f, 2, err, sizeof err) == -1 ||
        (c[0] != '\0' && parse_u64(c, strlen(c), 1, UINT64_MAX, cursor) == -1) ||
        (l[0] != '\0' && parse_u64(l, strlen(l), 1, API_LIMIT_MAX, &v) == -1)) {
        api_error(j, 400, "cursor must be a cursor from a previous page, limit 1 to 1000");
        return -1;
    }
    *limit = (unsigned)v;
    return 0;
}

/* ?track=none|natural|welfare of a list: *track is the name, or NULL for any; -1 answered 400 */
static int
api_track(struct api_job *j, const char **track)
{
    char t[16] = "", err[96];
    struct parse_field f[] = {{"track", t, sizeof t, 0, 0, 0}};
    int i;

    *track = NULL;
    if (parse_form(j->query, strlen(j->query), f, 1, err, sizeof err) == -1 ||
        (t[0] != '\0' && (i = config_track_parse(t)) == -1)) {
        api_error(j, 400, "track must be none, natural or welfare");
        return -1;
    }
    if (t[0] != '\0')
        *track = config_track_names[i];
    return 0;
}

static int
api_list(struct db_conn *c, struct api_job *j, const char *sql, const struct db_param *p, size_t np,
         unsigned limit)
{
    char next[24];
    int err;

    j->data = json_array();
    j->last = 0;
    if ((err = db_query(c, sql, p, np, api_row, j)) != 0) {
        json_decref(j->data);
        j->data = NULL;
        return err;
    }
    snprintf(next, sizeof next, "%llu", (unsigned long long)j->last);
    j->reply = json_pack("{s:o, s:o}", "data", j->data, "next_cursor",
                         json_array_size(j->data) == limit && j->last > 1 ? json_string(next)
                                                                          : json_null());
    j->data = NULL;
    j->status = 200;
    return 0;
}

/* One row as the answer (status 200), or a 404 with notfound. */
static int
api_one(struct db_conn *c, struct api_job *j, const char *sql, const struct db_param *p, size_t np,
        const char *notfound)
{
    json_t *one;
    int rc;

    if ((rc = api_list(c, j, sql, p, np, 1)) != 0)
        return rc;
    if (json_array_size(json_object_get(j->reply, "data")) == 0) {
        api_error(j, 404, notfound);
        return 0;
    }
    one = json_incref(json_array_get(json_object_get(j->reply, "data"), 0));
    json_decref(j->reply);
    j->reply = one;
    return 0;
}

static int
api_reports(struct db_conn *c, struct api_job *j)
{
    struct review_filter f;
    struct sqlb *b;
    uint64_t cursor;
    unsigned limit;
    char err[128];
    int rc;

    if (review_filter_parse(j->query, strlen(j->query), &f, err, sizeof err) == -1) {
        api_error(j, 400, err);
        return 0;
    }
    if (f.q[0] != '\0') {
        api_error(j, 400, "q is not offered by the API: personal data must not travel in URLs");
        return 0;
    }
    if (f.type == REVIEW_ANY)
        f.type = REVIEW_BUSINESS;
    if (api_page(j, &cursor, &limit) == -1)
        return 0;
    if ((b = malloc(sizeof *b)) == NULL)
        return DB_EUNAVAILABLE;
    if (review_build(b, &f, j->user.region, REVIEW_KEYSET, f.type, cursor, limit, 0) == -1) {
        free(b);
        api_error(j, 400, "filter too complex");
        return 0;
    }
    j->cols = review_export_columns(f.type);
    rc = api_list(c, j, b->sql, b->p, b->np, limit);
    free(b);
    return rc;
}

static const char *const api_kpm_cols[] = {
    "id",           "pkh_number", "nik_masked", "name",         "msisdn",    "lang", "region_code",
    "assistant_id", "kube_id",    "graduation", "graduated_on", "reminders", NULL};

#define API_KPM_SELECT                                                                             \
    "SELECT k.id, k.pkh_number," REVIEW_NIK_MASKED ", k.name, k.msisdn, k.lang, k.region_code,"    \
    " k.assistant_id, k.kube_id, k.graduation, DATE_FORMAT(k.graduated_on, '%Y-%m-%d'),"           \
    " k.reminders FROM kpm k WHERE" REVIEW_SCOPE

static int
api_kpm(struct db_conn *c, struct api_job *j)
{
    char id[24] = "", region[14] = "", err[96];
    struct parse_field f[] = {{"id", id, sizeof id, 0, 0, 0},
                              {"region", region, sizeof region, 0, 0, 0}};
    struct db_param p[4];
    const char *track;
    uint64_t kid, cursor;
    unsigned limit;

    if (parse_form(j->query, strlen(j->query), f, 2, err, sizeof err) == -1) {
        api_error(j, 400, err);
        return 0;
    }
    if (!review_region_valid(region)) {
        api_error(j, 400, "region must be a region code");
        return 0;
    }
    j->cols = api_kpm_cols;
    p[0] = DB_STR(j->user.region);
    if (id[0] != '\0') {
        if (parse_u64(id, strlen(id), 1, UINT64_MAX, &kid) == -1) {
            api_error(j, 400, "id must be a KPM id");
            return 0;
        }
        p[1] = DB_U64(kid);
        return api_one(c, j, API_KPM_SELECT " AND k.id = ?", p, 2, "no such KPM in your region");
    }
    if (api_page(j, &cursor, &limit) == -1 || api_track(j, &track) == -1)
        return 0;
    p[1] = DB_STR(region);
    p[2] = DB_U64(cursor);
    p[3] = DB_U64(limit);
    if (track == NULL)
        return api_list(c, j,
                        API_KPM_SELECT " AND" REVIEW_SCOPE
                                       " AND (? = 0 OR k.id < ?) ORDER BY k.id DESC LIMIT ?",
                        (struct db_param[]){p[0], p[1], p[2], p[2], p[3]}, 5, limit);
    /* idx_kpm_graduation holds the id: the track's KPM come in id order from it */
    return api_list(c, j,
                    API_KPM_SELECT " AND" REVIEW_SCOPE " AND k.graduation = ?"
                                   " AND (? = 0 OR k.id < ?) ORDER BY k.id DESC LIMIT ?",
                    (struct db_param[]){p[0], p[1], DB_STR(track), p[2], p[2], p[3]}, 6, limit);
}

static const char *const api_alert_cols[] = {"id",
                                             "rule",
                                             "state",
                                             "urgency",
                                             "kpm_id",
                                             "assistant_id",
                                             "detail",
                                             "created_at",
                                             "acked_at",
                                             "outcome",
                                             "outcome_at",
                                             "outcome_by",
                                             "outcome_by_type",
                                             "outcome_by_name",
                                             "outcome_note",
                                             NULL};

#define API_ALERT_SELECT                                                                           \
    "SELECT a.id, a.rule, a.state, a.urgency, a.kpm_id, a.assistant_id, a.detail,"                 \
    " DATE_FORMAT(a.created_at, '%Y-%m-%dT%H:%i:%sZ'),"                                            \
    " DATE_FORMAT(a.acked_at, '%Y-%m-%dT%H:%i:%sZ'), a.outcome,"                                   \
    " DATE_FORMAT(a.outcome_at, '%Y-%m-%dT%H:%i:%sZ'), a.outcome_by,"                              \
    " " ADMIN_ACTOR_TAG_TYPE("a.outcome_by") ", " ADMIN_ACTOR_TAG_NAME(                            \
        "a.outcome_by") ","                                                                        \
                        " a.outcome_note FROM alerts a JOIN kpm k ON k.id = a.kpm_id "             \
                        "WHERE" REVIEW_SCOPE " AND a.state IN (?, ?, ?, ?)"

static int
api_alerts(struct db_conn *c, struct api_job *j)
{
    char state[16] = "", err[96];
    struct parse_field f[] = {{"state", state, sizeof state, 0, 0, 0}};
    /* the states asked for, as four parameters (a shorter set repeats itself) */
    static const char *const open[4] = {"new", "sent", "new", "sent"},
                             *const acked[4] = {"acknowledged", "acknowledged", "acknowledged",
                                                "acknowledged"},
                             *const all[4] = {"new", "sent", "acknowledged", "expired"};
    const char *const *in, *track;
    uint64_t cursor;
    unsigned limit;

    if (parse_form(j->query, strlen(j->query), f, 1, err, sizeof err) == -1) {
        api_error(j, 400, err);
        return 0;
    }
    if (state[0] == '\0' || strcmp(state, "open") == 0)
        in = open;
    else if (strcmp(state, "acknowledged") == 0)
        in = acked;
    else if (strcmp(state, "all") == 0)
        in = all;
    else {
        api_error(j, 400, "state must be open, acknowledged or all");
        return 0;
    }
    if (api_page(j, &cursor, &limit) == -1 || api_track(j, &track) == -1)
        return 0;
    j->cols = api_alert_cols;
    if (track == NULL)
        return api_list(
            c, j, API_ALERT_SELECT " AND (? = 0 OR a.id < ?) ORDER BY a.id DESC LIMIT ?",
            (struct db_param[]){DB_STR(j->user.region), DB_STR(in[0]), DB_STR(in[1]), DB_STR(in[2]),
                                DB_STR(in[3]), DB_U64(cursor), DB_U64(cursor), DB_U64(limit)},
            8, limit);
    return api_list(c, j,
                    API_ALERT_SELECT " AND k.graduation = ? AND (? = 0 OR a.id < ?)"
                                     " ORDER BY a.id DESC LIMIT ?",
                    (struct db_param[]){DB_STR(j->user.region), DB_STR(in[0]), DB_STR(in[1]),
                                        DB_STR(in[2]), DB_STR(in[3]), DB_STR(track), DB_U64(cursor),
                                        DB_U64(cursor), DB_U64(limit)},
                    9, limit);
}

static const char *const api_review_cols[] = {
    "id", "report_type", "report_id", "kpm_id", "status", "note", "reviewer", "created_at", NULL};

static int
api_reviews_get(struct db_conn *c, struct api_job *j)
{
    uint64_t cursor;
    unsigned limit;

    if (api_page(j, &cursor, &limit) == -1)
        return 0;
    j->cols = api_review_cols;
    return api_list(
        c, j,
        "SELECT v.id, v.report_type, v.report_id, k.id, v.status, v.note, u.username,"
        " DATE_FORMAT(v.created_at, '%Y-%m-%dT%H:%i:%sZ') FROM reviews v"
        " JOIN admin_users u ON u.id = v.reviewer_id"
        " LEFT JOIN business_reports b ON v.report_type = 'business'"
        "  AND b.id = v.report_id"
        " LEFT JOIN attendance_reports a ON v.report_type = 'attendance'"
        "  AND a.id = v.report_id"
        " LEFT JOIN help_requests h ON v.report_type = 'help' AND h.id = v.report_id"
        " JOIN kpm k ON k.id = COALESCE(b.kpm_id, a.kpm_id, h.kpm_id)"
        " WHERE" REVIEW_SCOPE " AND (? = 0 OR v.id < ?)"
        " ORDER BY v.id DESC LIMIT ?",
        (struct db_param[]){DB_STR(j->user.region), DB_U64(cursor), DB_U64(cursor), DB_U64(limit)},
        4, limit);
}

static int
api_reviews_post(struct db_conn *c, struct api_job *j)
{
    json_t *in;
    json_error_t jerr;
    const char *type = NULL, *status = NULL, *note = NULL;
    json_int_t id = 0;
    uint64_t kpm;
    int t, err;

    if (!parse_media_type_is(j->r->content_type, "application/json")) {
        api_error(j, 415, "send application/json");
        return 0;
    }
    if ((in = json_loadb(j->r->body, j->r->body_len, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
        json_unpack(in, "{s:s, s:I, s:s, s?s !}", "type", &type, "id", &id, "status", &status,
                    "note", &note) == -1) {
        json_decref(in);
        api_error(j, 400,
                  "expected {\"type\": \"business|attendance|help\", \"id\": N, "
                  "\"status\": \"reviewed|follow_up|note\", \"note\": \"...\"}");
        return 0;
    }
    if (review_action_check(type, status, note, &t) != REVIEW_ACTION_OK || id <= 0) {
        json_decref(in);
        api_error(j, 400, "type, id, status or note out of range (a note: 1 to 1000 bytes)");
        return 0;
    }
    if (j->has_idem && !parse_idem_key_valid(j->idem, strlen(j->idem))) {
        json_decref(in);
        api_error(j, 400, "Idempotency-Key: 1 to 64 printable ASCII characters");
        return 0;
    }
    /* without the header no key is derived from the request: a POST sent twice is two
     * reviews; the request's own key still makes a re-run of this job one */
    err = admin_review_record(c, &j->user, t, (uint64_t)id, status, note,
                              j->has_idem ? j->idem : j->key, &kpm);
    json_decref(in);
    if (err == ADMIN_ENOTFOUND) {
        api_error(j, 404, "no such report in your region");
        return 0;
    }
    if (err == ADMIN_ECONFLICT) {
        api_error(j, 422, "this Idempotency-Key was used for another review");
        return 0;
    }
    if (err != 0)
        return err;
    j->status = 201;
    j->reply = json_pack("{s:s, s:I}", "result", "recorded", "kpm_id", (json_int_t)kpm);
    return 0;
}

/* -- graduations: recorded, revoked, listed (the store is gateway/graduation.c) */

/* a graduation's fields; the list adds the last two, who decided and who revoked by name (an
 * administrator's username, an assistant's name): a row names as many fields as it has columns */
static const char *const api_graduation_cols[] = {"id",
                                                  "kpm_id",
                                                  "track",
                                                  "reason",
                                                  "effective_date",
                                                  "decided_by_type",
                                                  "decided_by_id",
                                                  "decided_via",
                                                  "note",
                                                  "created_at",
                                                  "revoked_at",
                                                  "revoked_by_type",
                                                  "revoked_by_id",
                                                  "revoke_reason",
                                                  "decided_by_name",
                                                  "revoked_by_name",
                                                  NULL};

#define API_GRADUATION_COLUMNS                                                                     \
    "SELECT g.id, g.kpm_id, g.track, g.reason, DATE_FORMAT(g.effective_date, '%Y-%m-%d'),"         \
    " g.decided_by_type, g.decided_by_id, g.decided_via, g.note,"                                  \
    " DATE_FORMAT(g.created_at, '%Y-%m-%dT%H:%i:%sZ'),"                                            \
    " DATE_FORMAT(g.revoked_at, '%Y-%m-%dT%H:%i:%sZ'), g.revoked_by_type, g.revoked_by_id,"        \
    " g.revoke_reason"
#define API_GRADUATION_FROM " FROM graduations g JOIN kpm k ON k.id = g.kpm_id WHERE" REVIEW_SCOPE
#define API_GRADUATION_SELECT API_GRADUATION_COLUMNS API_GRADUATION_FROM

#define API_GRADUATION_LIST                                                                        \
    API_GRADUATION_COLUMNS                                                                         \
    ", " ADMIN_ACTOR_NAME("g.decided_by_type", "g.decided_by_id") ", " ADMIN_ACTOR_NAME(           \
        "g.revoked_by_type", "g.revoked_by_id") API_GRADUATION_FROM

/* graduation gid as the answer, with this status */
static int
api_graduation_row(struct db_conn *c, struct api_job *j, uint64_t gid, int status)
{
    struct db_param p[] = {DB_STR(j->user.region), DB_U64(gid)};
    int rc;

    j->cols = api_graduation_cols;
    if ((rc = api_one(c, j, API_GRADUATION_SELECT " AND g.id = ?", p, 2, "no such graduation")) ==
            0 &&
        j->status == 200)
        j->status = status;
    return rc;
}

/* The JSON object of a write: NULL after answering 415 (not JSON) or 400 (not an object). */
static json_t *
api_json_object(struct api_job *j, const char *expected)
{
    json_error_t jerr;
    json_t *in;

    if (!parse_media_type_is(j->r->content_type, "application/json")) {
        api_error(j, 415, "send application/json");
        return NULL;
    }
    if ((in = json_loadb(j->r->body, j->r->body_len, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
        !json_is_object(in)) {
        json_decref(in);
        api_error(j, 400, expected);
        return NULL;
    }
    return in;
}

/* member `name` of o as a string of 1 to max bytes without a NUL inside, or NULL */
static const char *
api_json_text(json_t *o, const char *name, size_t max)
{
    json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);

    if (s == NULL || s[0] == '\0' || json_string_length(v) != strlen(s) || strlen(s) > max)
        return NULL;
    return s;
}

/* 1 when o has no member but those in names (NULL-terminated) */
static int
api_json_only(json_t *o, const char *const *names)
{
    const char *key;
    json_t *v;
    size_t i;

    json_object_foreach(o, key, v)
    {
        for (i = 0; names[i] != NULL && strcmp(key, names[i]) != 0; i++)
            ;
        if (names[i] == NULL)
            return 0;
    }
    return 1;
}

/* the checks of POST /api/v1/graduations, each answering 400 with the field's name */
static int
api_graduation_in(struct api_job *j, json_t *o, struct graduation_in *g)
{
    static const char *const fields[] = {"kpm_id",         "track", "reason",
                                         "effective_date", "note",  NULL};
    const struct config_reason *r;
    json_t *kpm = json_object_get(o, "kpm_id"), *note = json_object_get(o, "note");
    const char *track = api_json_text(o, "track", 16);
    int t = track != NULL ? config_track_parse(track) : -1;

    memset(g, 0, sizeof *g);
    if (!api_json_only(o, fields))
        api_error(j, 400, "unknown field: send kpm_id, track, reason, effective_date and note");
    else if (!json_is_integer(kpm) || json_integer_value(kpm) <= 0)
        api_error(j, 400, "kpm_id must be a KPM id (a positive integer)");
    else if (t != TRACK_NATURAL && t != TRACK_WELFARE)
        api_error(j, 400, "track must be natural or welfare");
    else if ((g->reason = api_json_text(o, "reason", CONFIG_REASON_CODE_MAX)) == NULL ||
             (r = config_reason_find(j->cfg, g->reason)) == NULL || (int)r->track != t)
        api_error(j, 400, "reason must be a reason code of the track (graduation.reasons)");
    else if ((g->effective_date = api_json_text(o, "effective_date", 10)) == NULL ||
             !graduation_date_ok(g->effective_date, strlen(g->effective_date), time(NULL)))
        api_error(j, 400, "effective_date must be a date YYYY-MM-DD, not in the future");
    else if (note != NULL && !json_is_null(note) &&
             !(json_is_string(note) && json_string_length(note) == 0) &&
             (g->note = api_json_text(o, "note", GRADUATION_NOTE_MAX)) == NULL)
        api_error(j, 400, "note must be text of at most 500 bytes");
    else {
        g->kpm_id = (uint64_t)json_integer_value(kpm);
        g->track = (enum config_track)t;
        return 0;
    }
    return -1;
}

static int
api_graduations_post(struct db_conn *c, struct api_job *j)
{
    struct scope scope = {j->user.region, 0};
    struct actor actor = {ACTOR_ADMIN, j->user.id, j->user.username, VIA_API};
    struct graduation_in g;
    char key[GRADUATION_KEY_MAX + 1];
    uint64_t gid = 0;
    json_t *in;
    int err;

    if ((in = api_json_object(j, "expected {\"kpm_id\": N, \"track\": \"natural|welfare\", "
                                 "\"reason\": \"CODE\", \"effective_date\": \"YYYY-MM-DD\", "
                                 "\"note\": \"...\"}")) == NULL)
        return 0;
    if (api_graduation_in(j, in, &g) == -1) {
        json_decref(in);
        return 0;
    }
    if (j->has_idem && !parse_idem_key_valid(j->idem, strlen(j->idem))) {
        json_decref(in);
        api_error(j, 400, "Idempotency-Key: 1 to 64 printable ASCII characters");
        return 0;
    }
    /* the key is the user's own (as a review's is); without the header the request's key
     * still makes a re-run of this job one graduation */
    snprintf(key, sizeof key, "api:%llu:%s", (unsigned long long)j->user.id,
             j->has_idem ? j->idem : j->key);
    g.key = key;
    err = graduation_record(c, j->cfg, &scope, &actor, &g, &gid);
    json_decref(in);
    switch (err) {
    case 0:
        return api_graduation_row(c, j, gid, 201);
    case KERR_NOT_FOUND:
        api_error(j, 404, "no such KPM");
        return 0;
    case KERR_CONFLICT:
        api_error(j, 422, "this Idempotency-Key was used for another graduation");
        return 0;
    case KERR_INVALID:
        api_error(j, 400, "track, reason, effective_date or note out of range");
        return 0;
    default:
        return err;
    }
}

static int
api_graduations_delete(struct db_conn *c, struct api_job *j)
{
    static const char *const fields[] = {"reason", NULL};
    struct scope scope = {j->user.region, 0};
    struct actor actor = {ACTOR_ADMIN, j->user.id, j->user.username, VIA_API};
    char id[24] = "", err_text[96];
    struct parse_field f[] = {{"id", id, sizeof id, 0, 0, 1}};
    const char *reason;
    uint64_t gid;
    json_t *in;
    int err;

    if (parse_form(j->query, strlen(j->query), f, 1, err_text, sizeof err_text) == -1 ||
        parse_u64(id, strlen(id), 1, UINT64_MAX, &gid) == -1) {
        api_error(j, 400, "id must be a graduation id: DELETE /api/v1/graduations?id=N");
        return 0;
    }
    if ((in = api_json_object(j, "expected {\"reason\": \"why the graduation is revoked\"}")) ==
        NULL)
        return 0;
    if (!api_json_only(in, fields) ||
        (reason = api_json_text(in, "reason", GRADUATION_REASON_MAX)) == NULL) {
        json_decref(in);
        api_error(j, 400, "reason must be text of 1 to 255 bytes: why the graduation is revoked");
        return 0;
    }
    err = graduation_revoke(c, &scope, &actor, gid, reason, NULL);
    json_decref(in);
    if (err == KERR_NOT_FOUND) {
        api_error(j, 404, "no such graduation");
        return 0;
    }
    if (err == KERR_INVALID) {
        api_error(j, 400, "reason must be text of 1 to 255 bytes: why the graduation is revoked");
        return 0;
    }
    return err != 0 ? err : api_graduation_row(c, j, gid, 200);
}

static int
api_graduations_get(struct db_conn *c, struct api_job *j)
{
    char kpm[24] = "", kpm2[24] = "", track[16] = "", err[96];
    struct parse_field f[] = {{"kpm_id", kpm, sizeof kpm, 0, 0, 0},
                              {"kpm", kpm2, sizeof kpm2, 0, 0, 0},
                              {"track", track, sizeof track, 0, 0, 0}};
    uint64_t kid = 0, cursor;
    unsigned limit;
    int t;

    if (parse_form(j->query, strlen(j->query), f, 3, err, sizeof err) == -1) {
        api_error(j, 400, err);
        return 0;
    }
    if (kpm[0] == '\0') /* ?kpm=N, as /api/v1/visits takes it */
        memcpy(kpm, kpm2, sizeof kpm);
    if (kpm[0] != '\0' && parse_u64(kpm, strlen(kpm), 1, UINT64_MAX, &kid) == -1) {
        api_error(j, 400, "kpm_id must be a KPM id");
        return 0;
    }
    t = track[0] != '\0' ? config_track_parse(track) : TRACK_NATURAL;
    if (t != TRACK_NATURAL && t != TRACK_WELFARE) {
        api_error(j, 400, "track must be natural or welfare");
        return 0;
    }
    if (api_page(j, &cursor, &limit) == -1)
        return 0;
    j->cols = api_graduation_cols;
    return api_list(c, j,
                    API_GRADUATION_LIST " AND (? = 0 OR g.kpm_id = ?) AND (? = '' OR g.track = ?)"
                                        " AND (? = 0 OR g.id < ?) ORDER BY g.id DESC LIMIT ?",
                    (struct db_param[]){DB_STR(j->user.region), DB_U64(kid), DB_U64(kid),
                                        DB_STR(track), DB_STR(track), DB_U64(cursor),
                                        DB_U64(cursor), DB_U64(limit)},
                    8, limit);
}

/* -- home visits (recorded by assistants by USSD or SMS, gateway/graduation.c) */

static const char *const api_visit_cols[] = {
    "id",      "kpm_id",           "assistant_id", "assistant_name", "visit_date", "outcome_code",
    "outcome", "business_running", "source",       "created_at",     NULL};

static int
api_visits(struct db_conn *c, struct api_job *j)
{
    char kpm[24] = "", kpm2[24] = "", err[96];
    struct parse_field f[] = {{"kpm", kpm, sizeof kpm, 0, 0, 0},
                              {"kpm_id", kpm2, sizeof kpm2, 0, 0, 0}};
    uint64_t kid = 0, cursor;
    unsigned limit;
    json_t *data;
    size_t i;
    int rc;

    if (parse_form(j->query, strlen(j->query), f, 2, err, sizeof err) == -1) {
        api_error(j, 400, err);
        return 0;
    }
    if (kpm[0] == '\0')
        memcpy(kpm, kpm2, sizeof kpm);
    if (kpm[0] != '\0' && parse_u64(kpm, strlen(kpm), 1, UINT64_MAX, &kid) == -1) {
        api_error(j, 400, "kpm must be a KPM id");
        return 0;
    }
    if (api_page(j, &cursor, &limit) == -1)
        return 0;
    j->cols = api_visit_cols;
    rc = api_list(c, j,
                  "SELECT v.id, v.kpm_id, v.assistant_id, s.name,"
                  " DATE_FORMAT(v.visit_date, '%Y-%m-%d'), v.outcome, NULL,"
                  " v.business_running, v.source,"
                  " DATE_FORMAT(v.created_at, '%Y-%m-%dT%H:%i:%sZ')"
                  " FROM home_visits v JOIN kpm k ON k.id = v.kpm_id"
                  " JOIN assistants s ON s.id = v.assistant_id WHERE" REVIEW_SCOPE
                  " AND (? = 0 OR v.kpm_id = ?) AND (? = 0 OR v.id < ?)"
                  " ORDER BY v.id DESC LIMIT ?",
                  (struct db_param[]){DB_STR(j->user.region), DB_U64(kid), DB_U64(kid),
                                      DB_U64(cursor), DB_U64(cursor), DB_U64(limit)},
                  6, limit);
    /* the outcome's configured label (English), by its code */
    data = rc == 0 && j->reply != NULL ? json_object_get(j->reply, "data") : NULL;
    for (i = 0; i < json_array_size(data); i++) {
        json_t *o = json_array_get(data, i);
        json_int_t code = json_integer_value(json_object_get(o, "outcome_code"));
        const struct config_visit_outcome *vo = config_visit_outcome_find(j->cfg, (unsigned)code);

        json_object_set_new(o, "outcome", vo != NULL ? json_string(vo->label[1]) : json_null());
    }
    return rc;
}

/* -- lesson progress: one row per KPM and module (admin_lessons.c builds the statement) */

static int
api_lessons(struct db_conn *c, struct api_job *j)
{
    struct admin_lesson_query q;
    struct sqlb *b;
    char err[128];
    uint64_t cursor;
    unsigned limit;
    int rc;

    if (admin_lesson_query_parse(j->query, j->user.region, &q, err, sizeof err) == -1) {
        api_error(j, 400, err);
        return 0;
    }
    if (api_page(j, &cursor, &limit) == -1)
        return 0;
    if ((b = malloc(sizeof *b)) == NULL)
        return DB_EUNAVAILABLE;
    if (admin_lessons_list(b, &q, cursor, limit) == -1) {
        free(b);
        api_error(j, 400, "filter too long");
        return 0;
    }
    j->cols = admin_lesson_columns;
    rc = api_list(c, j, b->sql, b->p, b->np, limit);
    free(b);
    return rc;
}

static int
api_work(struct db_conn *c, void *arg)
{
    struct api_job *j = arg;
    int err = 0, live;

    db_txn_name(c, j->txn);
    json_decref(j->reply);
    j->reply = NULL;
    live = auth_bearer_load(c, j->token, &j->user, &err);
    if (live == -1)
        return err;
    if (live == 0) {
        api_error(j, 401, "a valid bearer token is needed");
        return 0;
    }
    return j->fn(c, j);
}

static void
api_done(int err, void *arg)
{
    struct api_job *j = arg;
    struct http_req *r = j->r;
    char *body;

    http_add_header(r, "Cache-Control", "no-store");
    http_add_header(r, "X-Content-Type-Options", "nosniff");
    if (err != 0 && db_is_timeout(err)) {
        log_warn("api_query_timeout", "req=%llu err=%d timeout_s=%u", (unsigned long long)r->id,
                 err, j->cfg->db.query_timeout);
        http_add_header(r, "Retry-After", "5");
        http_reply_json(r, 503,
                        "{\"error\":\"the query took longer than db.query_timeout and was "
                        "stopped; narrow the filter or try again later\"}\n");
    } else if (err != 0) {
        log_warn("api_db_error", "req=%llu err=%d", (unsigned long long)r->id, err);
        http_add_header(r, "Retry-After", "5");
        http_reply_json(r, 503, "{\"error\":\"database unavailable, try again shortly\"}\n");
    } else if (j->reply == NULL || (body = json_dumps(j->reply, JSON_COMPACT)) == NULL) {
        http_reply_json(r, 500, "{\"error\":\"could not encode the answer\"}\n");
    } else {
        if (j->status == 401)
            http_add_header(r, "WWW-Authenticate", "Bearer realm=\"kabar\"");
        http_reply(r, j->status, "application/json", body, strlen(body));
        free(body);
    }
    json_decref(j->reply);
    free(j);
}

/* txn: NULL for a job that only reads, else the name of its transaction */
static void
api_submit(struct http_req *r, api_fn fn, const char *txn)
{
    struct api_job *j;
    const char *auth = http_header(r, "Authorization"), *idem = http_header(r, "Idempotency-Key");

    if (strlen(http_query_raw(r)) >= sizeof j->query) {
        http_reply_json(r, 414, "{\"error\":\"query too long\"}\n");
        return;
    }
    if ((j = calloc(1, sizeof *j)) == NULL) {
        http_reply_json(r, 503, "{\"error\":\"temporarily unavailable\"}\n");
        return;
    }
    j->r = r;
    j->cfg = r->cfg;
    j->fn = fn;
    j->txn = txn;
    if (txn != NULL)
        auth_key_new(j->key);
    if ((j->has_idem = idem != NULL))
        snprintf(j->idem, sizeof j->idem, "%s", idem);
    j->json_body = parse_media_type_is(r->content_type, "application/json");
    if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0)
        snprintf(j->token, sizeof j->token, "%s", auth + 7);
    snprintf(j->query, sizeof j->query, "%s", http_query_raw(r));
    /* causal: a client reads what it wrote a moment ago, maybe through another kabard and
     * another Galera node */
    if (db_submit(api_work, api_done, j, (txn != NULL ? DB_TXN : 0) | DB_CAUSAL) == -1) {
        http_add_header(r, "Retry-After", "5");
        http_reply_json(r, 503, "{\"error\":\"database unavailable, try again shortly\"}\n");
        free(j);
    }
}

/* -- trainings and assistants (admin_trainings.c, admin_assistants.c), in id order, newest
 * first, within the user's region */

static const char *const api_training_cols[] = {
    "id",       "code", "title", "place",     "region_code", "starts_at", "ends_at",
    "audience", "kind", "days",  "closed_at", "enrolled",    NULL};

static int
api_trainings(struct db_conn *c, struct api_job *j)
{
    uint64_t cursor;
    unsigned limit;

    if (api_page(j, &cursor, &limit) == -1)
        return 0;
    j->cols = api_training_cols;
    return api_list(
        c, j,
        "SELECT t.id, t.code, t.title, t.place, t.region_code,"
        " DATE_FORMAT(t.starts_at, '%Y-%m-%dT%H:%i:%sZ'),"
        " DATE_FORMAT(COALESCE(t.ends_at, t.starts_at), '%Y-%m-%dT%H:%i:%sZ'), t.audience, t.kind,"
        " DATEDIFF(DATE(COALESCE(t.ends_at, t.starts_at) + INTERVAL 7 HOUR),"
        "  DATE(t.starts_at + INTERVAL 7 HOUR)) + 1,"
        " DATE_FORMAT(t.closed_at, '%Y-%m-%dT%H:%i:%sZ'),"
        " (SELECT COUNT(*) FROM enrollments e WHERE e.training_id = t.id)"
        " + (SELECT COUNT(*) FROM training_participants q WHERE q.training_id = t.id)"
        " FROM trainings t WHERE t.region_code LIKE CONCAT(?, '%')"
        " AND (? = 0 OR t.id < ?) ORDER BY t.id DESC LIMIT ?",
        (struct db_param[]){DB_STR(j->user.region), DB_U64(cursor), DB_U64(cursor), DB_U64(limit)},
        4, limit);
}

static const char *const api_assistant_cols[] = {
    "id", "name", "region_code", "caseload", "tot_attended", "certified_at", NULL};

static int
api_assistants(struct db_conn *c, struct api_job *j)
{
    struct db_param p[TRAINING_CERT_NPARAMS + 4];
    uint64_t cursor;
    unsigned limit;

    if (api_page(j, &cursor, &limit) == -1)
        return 0;
    j->cols = api_assistant_cols;
    training_cert_params(j->cfg, p);
    p[TRAINING_CERT_NPARAMS] = DB_STR(j->user.region);
    p[TRAINING_CERT_NPARAMS + 1] = DB_U64(cursor);
    p[TRAINING_CERT_NPARAMS + 2] = DB_U64(cursor);
    p[TRAINING_CERT_NPARAMS + 3] = DB_U64(limit);
    return api_list(
        c, j,
        "SELECT a.id, a.name, a.region_code,"
        " (SELECT COUNT(*) FROM kpm k WHERE k.assistant_id = a.id),"
        " " TRAINING_TOT_ATTENDED(
            "a.id") ","
                    " DATE_FORMAT(" TRAINING_CERTIFIED_AT(
                        "a.id") ", '%Y-%m-%dT%H:%i:%sZ')"
                                " FROM assistants a WHERE a.region_code LIKE CONCAT(?, '%')"
                                " AND (? = 0 OR a.id < ?) ORDER BY a.id DESC LIMIT ?",
        p, TRAINING_CERT_NPARAMS + 4, limit);
}

static void
api_trainings_route(struct http_req *r)
{
    api_submit(r, api_trainings, NULL);
}

static void
api_assistants_route(struct http_req *r)
{
    api_submit(r, api_assistants, NULL);
}

static void
api_reports_route(struct http_req *r)
{
    api_submit(r, api_reports, NULL);
}

static void
api_kpm_route(struct http_req *r)
{
    api_submit(r, api_kpm, NULL);
}

static void
api_alerts_route(struct http_req *r)
{
    api_submit(r, api_alerts, NULL);
}

static void
api_visits_route(struct http_req *r)
{
    api_submit(r, api_visits, NULL);
}

static void
api_lessons_route(struct http_req *r)
{
    api_submit(r, api_lessons, NULL);
}

static void
api_reviews_route(struct http_req *r)
{
    if (r->method == EVHTTP_REQ_POST)
        api_submit(r, api_reviews_post, "api_review");
    else
        api_submit(r, api_reviews_get, NULL);
}

/* DELETE revokes: the route table matches fixed paths, so the graduation's id comes in the
 * query (DELETE /api/v1/graduations?id=N) and the reason in the JSON body */
static void
api_graduations_route(struct http_req *r)
{
    if (r->method == EVHTTP_REQ_POST)
        api_submit(r, api_graduations_post, "api_graduation");
    else if (r->method == EVHTTP_REQ_DELETE)
        api_submit(r, api_graduations_delete, "api_graduation_revoke");
    else
        api_submit(r, api_graduations_get, NULL);
}

static const struct http_route api_routes[] = {
    {NULL, "/api/v1/reports", EVHTTP_REQ_GET, HTTP_BODY_ANY, "api_reports", api_reports_route,
     NULL},
    {NULL, "/api/v1/kpm", EVHTTP_REQ_GET, HTTP_BODY_ANY, "api_kpm", api_kpm_route, NULL},
    {NULL, "/api/v1/alerts", EVHTTP_REQ_GET, HTTP_BODY_ANY, "api_alerts", api_alerts_route, NULL},
    {NULL, "/api/v1/reviews", EVHTTP_REQ_GET | EVHTTP_REQ_POST, HTTP_BODY_ANY, "api_reviews",
     api_reviews_route, NULL},
    {NULL, "/api/v1/lessons/progress", EVHTTP_REQ_GET, HTTP_BODY_ANY, "api_lessons",
     api_lessons_route, NULL},
    {NULL, "/api/v1/visits", EVHTTP_REQ_GET, HTTP_BODY_ANY, "api_visits", api_visits_route, NULL},
    {NULL, "/api/v1/graduations", EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE,
     HTTP_BODY_ANY, "api_graduations", api_graduations_route, NULL},
    {NULL, "/api/v1/trainings", EVHTTP_REQ_GET, HTTP_BODY_ANY, "api_trainings", api_trainings_route,
     NULL},
    {NULL, "/api/v1/assistants", EVHTTP_REQ_GET, HTTP_BODY_ANY, "api_assistants",
     api_assistants_route, NULL},
    {NULL, NULL, 0, HTTP_BODY_ANY, NULL, NULL, NULL},
};

const struct http_handler handler_api = {"api", api_routes, 1};
