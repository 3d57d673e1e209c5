#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "graduation.h"
#include "parse.h"
#include "review.h"

const char *const graduation_via_names[4] = {"page", "api", "ussd", "sms"};
const char *const alert_outcome_names[OUTCOME_COUNT] = {
    "called", "visited", "unreachable", "referred", "no_action", "confirmed", "declined", "later"};

#define GRADUATION_WIT (9 * 3600)
/* the ministry's day (WIB), for what the store dates itself: a confirmed candidate */
#define GRADUATION_TODAY_WIB "DATE(UTC_TIMESTAMP() + INTERVAL 7 HOUR)"

int
graduation_date_ok(const char *s, size_t len, time_t now)
{
    uint32_t ymd;

    return parse_date(s, len, &ymd) == 0 && ymd <= parse_date_at(now, GRADUATION_WIT);
}

/* -- small helpers */

/* up to 6 columns of the first row, as text; a NULL column is "" with null[i] set */
struct graduation_row {
    int found;
    char v[6][256];
    int null[6];
};

static int
graduation_row_cb(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct graduation_row *r = arg;
    unsigned i;

    for (i = 0; i < n && i < 6; i++) {
        r->null[i] = v[i] == NULL;
        snprintf(r->v[i], sizeof r->v[i], "%.*s", v[i] != NULL ? (int)lens[i] : 0,
                 v[i] != NULL ? v[i] : "");
    }
    r->found = 1;
    return 1;
}

static int
graduation_one(struct db_conn *c, const char *sql, const struct db_param *p, size_t np,
               struct graduation_row *r)
{
    memset(r, 0, sizeof *r);
    return db_query(c, sql, p, np, graduation_row_cb, r);
}

static uint64_t
graduation_u64(const char *s)
{
    uint64_t v = 0;

    (void)parse_u64(s, strlen(s), 0, UINT64_MAX, &v);
    return v;
}

/* the audit log's and alerts.outcome_by's name of the actor: admin:NAME, assistant:ID */
static void
graduation_actor(const struct actor *a, char out[65])
{
    if (a->type == ACTOR_ASSISTANT)
        snprintf(out, 65, "assistant:%llu", (unsigned long long)a->id);
    else
        snprintf(out, 65, "admin:%s", a->name != NULL ? a->name : "");
}

static int
graduation_audit(struct db_conn *c, const struct actor *a, const char *action,
                 const char *target_type, uint64_t target_id, const char *detail)
{
    char who[65];

    graduation_actor(a, who);
    return auth_audit(c, who, action, target_type, target_id, detail);
}

/*
 * Locks KPM `kpm_id` if it is within the scope: every change to a KPM's graduation starts here,
 * so two of them for one KPM run one after the other and graduation_sync() sees both. *assistant
 * (may be NULL) is her assistant. 0, KERR_NOT_FOUND, or a MariaDB error.
 */
static int
graduation_lock_kpm(struct db_conn *c, const struct scope *scope, uint64_t kpm_id,
                    uint64_t *assistant)
{
    struct db_param p[] = {DB_U64(kpm_id), SCOPE_PARAMS(scope)};
    struct graduation_row r;
    int err;

    if ((err = graduation_one(
             c, "SELECT k.assistant_id FROM kpm k WHERE k.id = ? AND" SCOPE_SQL " FOR UPDATE", p, 4,
             &r)) != 0)
        return err;
    if (!r.found)
        return KERR_NOT_FOUND;
    if (assistant != NULL)
        *assistant = graduation_u64(r.v[0]);
    return 0;
}

static int
graduation_text_ok(const char *s, size_t max)
{
    return s != NULL && s[0] != '\0' && strlen(s) <= max && parse_utf8_valid(s, strlen(s));
}

/* -- graduations */

int
graduation_sync(struct db_conn *c, uint64_t kpm_id)
{
    struct db_param p[] = {DB_U64(kpm_id), DB_U64(kpm_id), DB_U64(kpm_id)};

    /* the latest decision stands: a record supersedes the earlier ones whatever its date */
    return db_exec(c,
                   "UPDATE kpm k SET"
                   " k.graduation = COALESCE((SELECT g.track FROM graduations g"
                   "  WHERE g.kpm_id = ? AND g.revoked_at IS NULL ORDER BY g.id DESC LIMIT 1),"
                   "  'none'),"
                   " k.graduated_on = (SELECT g.effective_date FROM graduations g"
                   "  WHERE g.kpm_id = ? AND g.revoked_at IS NULL ORDER BY g.id DESC LIMIT 1)"
                   " WHERE k.id = ?",
                   p, 3, NULL, NULL);
}

/* whether graduation gid, which carries the request's key, is the one asked for */
static int
graduation_same(struct db_conn *c, uint64_t gid, const struct graduation_in *in)
{
    struct db_param p = DB_U64(gid);
    struct graduation_row r;
    char kpm[24];
    int err;

    /* a locking read: the twin that committed a moment ago may be newer than our snapshot */
    if ((err = graduation_one(c,
                              "SELECT kpm_id, track, reason, DATE_FORMAT(effective_date,"
                              " '%Y-%m-%d'), COALESCE(note, '') FROM graduations WHERE id = ?"
                              " FOR UPDATE",
                              &p, 1, &r)) != 0)
        return err;
    snprintf(kpm, sizeof kpm, "%llu", (unsigned long long)in->kpm_id);
    if (r.found && strcmp(r.v[0], kpm) == 0 && strcmp(r.v[1], config_track_names[in->track]) == 0 &&
        strcmp(r.v[2], in->reason) == 0 && strcmp(r.v[3], in->effective_date) == 0 &&
        strcmp(r.v[4], in->note != NULL ? in->note : "") == 0)
        return 0;
    return KERR_CONFLICT;
}

int
graduation_record(struct db_conn *c, const struct config *cfg, const struct scope *scope,
                  const struct actor *actor, const struct graduation_in *in, uint64_t *id)
{
    const struct config_reason *reason =
        in->reason != NULL ? config_reason_find(cfg, in->reason) : NULL;
    const char *note = in->note != NULL && in->note[0] != '\0' ? in->note : NULL;
    struct db_param p[9];
    uint64_t affected = 0, gid = 0;
    char detail[160];
    int err;

    if ((in->track != TRACK_NATURAL && in->track != TRACK_WELFARE) || reason == NULL ||
        reason->track != in->track || in->effective_date == NULL ||
        !graduation_date_ok(in->effective_date, strlen(in->effective_date), time(NULL)) ||
        (note != NULL && !graduation_text_ok(note, GRADUATION_NOTE_MAX)) ||
        !graduation_text_ok(in->key, GRADUATION_KEY_MAX) || (unsigned)actor->via > VIA_SMS)
        return KERR_INVALID;
    if ((err = graduation_lock_kpm(c, scope, in->kpm_id, NULL)) != 0)
        return err;
    p[0] = DB_U64(in->kpm_id);
    p[1] = DB_STR(config_track_names[in->track]);
    p[2] = DB_STR(reason->code);
    p[3] = DB_STR(in->effective_date);
    p[4] = DB_STR(actor->type == ACTOR_ASSISTANT ? "assistant" : "admin");
    p[5] = DB_U64(actor->id);
    p[6] = DB_STR(graduation_via_names[actor->via]);
    p[7] = note != NULL ? DB_STR(note) : DB_NULL();
    p[8] = DB_STR(in->key);
    /* a twin request in flight waits here for the first to commit, then finds its row */
    if ((err = db_exec(c,
                       "INSERT INTO graduations (kpm_id, track, reason, effective_date,"
                       " decided_by_type, decided_by_id, decided_via, note, idem_key)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                       " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                       p, 9, &affected, &gid)) != 0)
        return err;
    *id = gid;
    /* the key's graduation was there: its sync and audit row are too */
    if (affected != 1)
        return graduation_same(c, gid, in);
    if ((err = graduation_sync(c, in->kpm_id)) != 0)
        return err;
    /* the note stays in graduations: the audit log says who did what, not what was written */
    snprintf(detail, sizeof detail, "graduation=%llu track=%s reason=%s via=%s",
             (unsigned long long)gid, config_track_names[in->track], reason->code,
             graduation_via_names[actor->via]);
    return graduation_audit(c, actor, "graduation.record", "kpm", in->kpm_id, detail);
}

int
graduation_revoke(struct db_conn *c, const struct scope *scope, const struct actor *actor,
                  uint64_t id, const char *reason, uint64_t *kpm_id)
{
    struct db_param p[5];
    struct graduation_row r;
    uint64_t kpm;
    char detail[64];
    int err;

    if (!graduation_text_ok(reason, GRADUATION_REASON_MAX))
        return KERR_INVALID;
    /* the KPM first, then the row: the order graduation_record() locks them in */
    p[0] = DB_U64(id);
    if ((err = graduation_one(c, "SELECT kpm_id FROM graduations WHERE id = ?", p, 1, &r)) != 0)
        return err;
    if (!r.found)
        return KERR_NOT_FOUND;
    kpm = graduation_u64(r.v[0]);
    if ((err = graduation_lock_kpm(c, scope, kpm, NULL)) != 0)
        return err;
    if (kpm_id != NULL)
        *kpm_id = kpm;
    if ((err = graduation_one(c,
                              "SELECT revoked_at IS NOT NULL FROM graduations WHERE id = ?"
                              " FOR UPDATE",
                              p, 1, &r)) != 0)
        return err;
    /* revoked already (by this job's first run, or another request): it stays as it is */
    if (!r.found || strcmp(r.v[0], "1") == 0)
        return 0;
    p[0] = DB_STR(actor->type == ACTOR_ASSISTANT ? "assistant" : "admin");
    p[1] = DB_U64(actor->id);
    p[2] = DB_STR(reason);
    p[3] = DB_U64(id);
    if ((err = db_exec(c,
                       "UPDATE graduations SET revoked_at = NOW(3), revoked_by_type = ?,"
                       " revoked_by_id = ?, revoke_reason = ? WHERE id = ? AND revoked_at IS NULL",
                       p, 4, NULL, NULL)) != 0 ||
        (err = graduation_sync(c, kpm)) != 0)
        return err;
    snprintf(detail, sizeof detail, "graduation=%llu", (unsigned long long)id);
    return graduation_audit(c, actor, "graduation.revoke", "kpm", kpm, detail);
}

/* -- alert outcomes */

/*
 * Locks alert `alert_id` of a KPM in scope. *kpm_id, *rule (33 bytes) and *current (its
 * outcome, "" for none) describe it. 0, KERR_NOT_FOUND, or a MariaDB error.
 */
static int
graduation_lock_alert(struct db_conn *c, const struct scope *scope, uint64_t alert_id,
                      uint64_t *kpm_id, char *rule, char *current)
{
    struct db_param p = DB_U64(alert_id);
    struct graduation_row r;
    int err;

    if ((err = graduation_one(c, "SELECT kpm_id FROM alerts WHERE id = ?", &p, 1, &r)) != 0)
        return err;
    if (!r.found || r.null[0])
        return KERR_NOT_FOUND;
    *kpm_id = graduation_u64(r.v[0]);
    if ((err = graduation_lock_kpm(c, scope, *kpm_id, NULL)) != 0)
        return err;
    if ((err = graduation_one(c,
                              "SELECT rule, COALESCE(outcome, '') FROM alerts WHERE id = ?"
                              " FOR UPDATE",
                              &p, 1, &r)) != 0)
        return err;
    if (!r.found)
        return KERR_NOT_FOUND;
    snprintf(rule, 33, "%.32s", r.v[0]);
    snprintf(current, 16, "%.15s", r.v[1]);
    return 0;
}

/* a decision on a candidate is final: confirmed and declined are not replaced */
static int
graduation_outcome_final(const char *current)
{
    return strcmp(current, "confirmed") == 0 || strcmp(current, "declined") == 0;
}

/* the alert's outcome columns, acknowledging it unless the outcome is later; its audit row */
static int
graduation_set_outcome(struct db_conn *c, const struct actor *actor, uint64_t alert_id,
                       enum alert_outcome outcome, const char *note)
{
    struct db_param p[5];
    char who[65], detail[48];
    int err;

    graduation_actor(actor, who);
    p[0] = DB_STR(alert_outcome_names[outcome]);
    p[1] = DB_STR(who);
    p[2] = note != NULL && note[0] != '\0' ? DB_STR(note) : DB_NULL();
    p[3] = DB_U64(outcome == OUTCOME_LATER ? 0 : 1);
    p[4] = DB_U64(alert_id);
    if ((err = db_exec(c,
                       "UPDATE alerts SET outcome = ?, outcome_at = NOW(3), outcome_by = ?,"
                       " outcome_note = ?,"
                       " acked_at = IF(? = 1, COALESCE(acked_at, NOW(3)), acked_at),"
                       " state = IF(? = 1, 'acknowledged', state) WHERE id = ?",
                       (struct db_param[]){p[0], p[1], p[2], p[3], p[3], p[4]}, 6, NULL, NULL)) !=
        0)
        return err;
    snprintf(detail, sizeof detail, "outcome=%s", alert_outcome_names[outcome]);
    return graduation_audit(c, actor, "alert.outcome", "alert", alert_id, detail);
}

int
alert_outcome(struct db_conn *c, const struct scope *scope, const struct actor *actor,
              uint64_t alert_id, enum alert_outcome outcome, const char *note)
{
    char rule[33], current[16];
    uint64_t kpm;
    int err;

    if ((unsigned)outcome > OUTCOME_NO_ACTION ||
        (note != NULL && note[0] != '\0' && !graduation_text_ok(note, GRADUATION_REASON_MAX)))
        return KERR_INVALID;
    if ((err = graduation_lock_alert(c, scope, alert_id, &kpm, rule, current)) != 0)
        return err;
    /* the same outcome again (a re-run, a repeated SMS) changes nothing */
    if (strcmp(current, alert_outcome_names[outcome]) == 0)
        return 0;
    if (graduation_outcome_final(current))
        return KERR_CONFLICT;
    return graduation_set_outcome(c, actor, alert_id, outcome, note);
}

/* the reason a confirmed candidate is recorded for */
static const struct config_reason *
graduation_confirm_reason(const struct config *cfg)
{
    const struct config_reason *r = config_reason_find(cfg, "candidate_confirmed");
    size_t i;

    if (r != NULL && r->track == TRACK_WELFARE)
        return r;
    for (i = 0; i < cfg->graduation.nreasons; i++)
        if (cfg->graduation.reasons[i].track == TRACK_WELFARE)
            return &cfg->graduation.reasons[i];
    return NULL;
}

/* confirmed: a welfare graduation effective today, one per alert (its key) */
static int
graduation_confirm(struct db_conn *c, const struct config *cfg, const struct scope *scope,
                   const struct actor *actor, uint64_t alert_id, uint64_t kpm, const char *note)
{
    const struct config_reason *reason = graduation_confirm_reason(cfg);
    struct graduation_row today;
    struct graduation_in in;
    char key[40];
    uint64_t gid;
    int err;

    if (reason == NULL)
        return KERR_INVALID;
    if ((err = graduation_one(c, "SELECT DATE_FORMAT(" GRADUATION_TODAY_WIB ", '%Y-%m-%d')", NULL,
                              0, &today)) != 0)
        return err;
    snprintf(key, sizeof key, "alert:%llu", (unsigned long long)alert_id);
    memset(&in, 0, sizeof in);
    in.kpm_id = kpm;
    in.track = TRACK_WELFARE;
    in.reason = reason->code;
    in.effective_date = today.v[0];
    in.note = note;
    in.key = key;
    return graduation_record(c, cfg, scope, actor, &in, &gid);
}

int
graduation_candidate_outcome(struct db_conn *c, const struct config *cfg, const struct scope *scope,
                             const struct actor *actor, uint64_t alert_id,
                             enum alert_outcome outcome, const char *reason)
{
    char rule[33], current[16];
    uint64_t kpm;
    int err;

    if (outcome != OUTCOME_CONFIRMED && outcome != OUTCOME_DECLINED && outcome != OUTCOME_LATER)
        return KERR_INVALID;
    if (outcome == OUTCOME_DECLINED ? !graduation_text_ok(reason, GRADUATION_REASON_MAX)
                                    : reason != NULL && reason[0] != '\0' &&
                                          !graduation_text_ok(reason, GRADUATION_REASON_MAX))
        return KERR_INVALID;
    if ((err = graduation_lock_alert(c, scope, alert_id, &kpm, rule, current)) != 0)
        return err;
    if (strcmp(rule, config_rule_names[RULE_GRADUATION]) != 0)
        return KERR_INVALID;
    if (strcmp(current, alert_outcome_names[outcome]) == 0)
        return 0;
    if (graduation_outcome_final(current))
        return KERR_CONFLICT;
    if (outcome == OUTCOME_CONFIRMED)
        err = graduation_confirm(c, cfg, scope, actor, alert_id, kpm, reason);
    else if (outcome == OUTCOME_DECLINED)
        err = db_exec(c,
                      "UPDATE kpm SET candidate_snooze_until = " GRADUATION_TODAY_WIB
                      " + INTERVAL ? MONTH WHERE id = ?",
                      (struct db_param[]){DB_U64(cfg->graduation.decline_months), DB_U64(kpm)}, 2,
                      NULL, NULL);
    if (err != 0)
        return err;
    return graduation_set_outcome(c, actor, alert_id, outcome, reason);
}

/* -- home visits */

int
visit_record(struct db_conn *c, const struct config *cfg, const struct scope *scope,
             const struct actor *actor, const struct visit_in *in, uint64_t *id)
{
    struct db_param p[9];
    struct graduation_row r;
    uint64_t affected = 0, vid = 0, assistant = 0;
    char detail[64], kpm[24];
    int err;

    if (config_visit_outcome_find(cfg, in->outcome) == NULL || in->visit_date == NULL ||
        !graduation_date_ok(in->visit_date, strlen(in->visit_date), time(NULL)) ||
        !graduation_text_ok(in->channel, 32) || !graduation_text_ok(in->session_id, 64) ||
        in->business_running < -1 || in->business_running > 1 || (unsigned)actor->via > VIA_SMS)
        return KERR_INVALID;
    if ((err = graduation_lock_kpm(c, scope, in->kpm_id, &assistant)) != 0)
        return err;
    p[0] = DB_U64(in->kpm_id);
    p[1] = DB_U64(actor->type == ACTOR_ASSISTANT ? actor->id : assistant);
    p[2] = DB_STR(in->visit_date);
    p[3] = DB_U64(in->outcome);
    p[4] = in->business_running >= 0 ? DB_U64(in->business_running) : DB_NULL();
    p[5] = DB_STR(graduation_via_names[actor->via]);
    p[6] = DB_STR(in->channel);
    p[7] = DB_STR(in->session_id);
    if ((err = db_exec(c,
                       "INSERT INTO home_visits (kpm_id, assistant_id, visit_date, outcome,"
                       " business_running, source, channel, session_id)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                       " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                       p, 8, &affected, &vid)) != 0)
        return err;
    *id = vid;
    if (affected != 1) {
        /* the key's visit: the answer, unless it is another KPM's */
        p[0] = DB_U64(vid);
        if ((err = graduation_one(c, "SELECT kpm_id FROM home_visits WHERE id = ? FOR UPDATE", p, 1,
                                  &r)) != 0)
            return err;
        snprintf(kpm, sizeof kpm, "%llu", (unsigned long long)in->kpm_id);
        return r.found && strcmp(r.v[0], kpm) == 0 ? 0 : KERR_CONFLICT;
    }
    snprintf(detail, sizeof detail, "visit=%llu outcome=%u via=%s", (unsigned long long)vid,
             in->outcome, graduation_via_names[actor->via]);
    return graduation_audit(c, actor, "visit.record", "kpm", in->kpm_id, detail);
}

/* -- phone-link requests */

int
link_decide(struct db_conn *c, const struct scope *scope, const struct actor *actor,
            uint64_t link_id, int approve)
{
    const char *want = approve ? "approved" : "rejected";
    struct db_param p[3];
    struct graduation_row r;
    char who[65], msisdn[20];
    uint64_t kpm;
    int err;

    p[0] = DB_U64(link_id);
    if ((err = graduation_one(c, "SELECT kpm_id FROM link_requests WHERE id = ?", p, 1, &r)) != 0)
        return err;
    /* a request naming no KPM is no assistant's to decide */
    if (!r.found || r.null[0])
        return KERR_NOT_FOUND;
    kpm = graduation_u64(r.v[0]);
    if ((err = graduation_lock_kpm(c, scope, kpm, NULL)) != 0)
        return err;
    if ((err = graduation_one(c,
                              "SELECT status, msisdn FROM link_requests WHERE id = ? AND"
                              " kpm_id = ? FOR UPDATE",
                              (struct db_param[]){DB_U64(link_id), DB_U64(kpm)}, 2, &r)) != 0)
        return err;
    if (!r.found)
        return KERR_NOT_FOUND;
    if (strcmp(r.v[0], want) == 0)
        return 0;
    if (strcmp(r.v[0], "pending") != 0)
        return KERR_CONFLICT;
    snprintf(msisdn, sizeof msisdn, "%.19s", r.v[1]);
    if (approve) {
        /* one number per KPM: a number that is another KPM's is not taken from her */
        p[0] = DB_STR(msisdn);
        p[1] = DB_U64(kpm);
        if ((err = graduation_one(c, "SELECT id FROM kpm WHERE msisdn = ? AND id <> ? FOR UPDATE",
                                  p, 2, &r)) != 0)
            return err;
        if (r.found)
            return KERR_CONFLICT;
        if ((err = db_exec(c, "UPDATE kpm SET msisdn = ? WHERE id = ?", p, 2, NULL, NULL)) != 0)
            return err;
    }
    graduation_actor(actor, who);
    p[0] = DB_STR(want);
    p[1] = DB_STR(who);
    p[2] = DB_U64(link_id);
    if ((err = db_exec(c,
                       "UPDATE link_requests SET status = ?, decided_at = NOW(3), decided_by = ?"
                       " WHERE id = ?",
                       p, 3, NULL, NULL)) != 0)
        return err;
    /* the alert that asked for the decision has had its answer */
    p[0] = DB_U64(link_id);
    if ((err =
             db_exec(c,
                     "UPDATE alerts SET state = 'acknowledged', acked_at = COALESCE(acked_at,"
                     " NOW(3)) WHERE dedupe_key = CONCAT('link:', ?) AND state IN ('new', 'sent')",
                     p, 1, NULL, NULL)) != 0)
        return err;
    return graduation_audit(c, actor, approve ? "link.approve" : "link.reject", "link", link_id,
                            NULL);
}
