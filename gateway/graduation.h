/*
 * Graduation, and what an assistant does about her KPM (alert outcomes, home visits, phone-link
 * decisions): one store for the KPM page, the API, USSD and SMS. Every function runs on a
 * database worker inside the caller's transaction (a DB_TXN job), finds its KPM within the
 * caller's scope (review.h: SCOPE_SQL) in the statement that locks her, writes one audit_log
 * row per change ("admin:NAME" or "assistant:ID"), and, run again after a COMMIT whose answer
 * was lost, writes nothing twice and gives the first run's answer (README: "Every DB_TXN job
 * is safe to re-run"). A KPM outside the scope is KERR_NOT_FOUND, exactly as one that does not
 * exist: an assistant learns nothing of another's KPM, not even that she exists.
 */
#ifndef KABAR_GRADUATION_H
#define KABAR_GRADUATION_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "kerr.h"
#include "review.h"

struct db_conn;

enum actor_type { ACTOR_ADMIN, ACTOR_ASSISTANT };
/* where an action was taken: graduations.decided_via, home_visits.source */
enum actor_via { VIA_PAGE, VIA_API, VIA_USSD, VIA_SMS };

/* Who acts, and through what. */
struct actor {
    enum actor_type type;
    uint64_t id;      /* admin_users.id or assistants.id */
    const char *name; /* an administrator's username; unused for an assistant */
    enum actor_via via;
};

#define GRADUATION_NOTE_MAX 500   /* bytes of a graduation's note */
#define GRADUATION_REASON_MAX 255 /* bytes of a revocation's or an outcome's reason */
#define GRADUATION_KEY_MAX 80     /* bytes of graduations.idem_key */

/* The names the schema and the API use: decided_via / source, outcomes. */
extern const char *const graduation_via_names[4]; /* page, api, ussd, sms */

/*
 * 1 when s[0..len) is a date a graduation or a visit may take effect: a calendar date
 * (parse_date()) not after today in the easternmost zone, WIT (UTC+9), at `now`; so a date is
 * refused only when it is in the future all over Indonesia.
 */
int graduation_date_ok(const char *s, size_t len, time_t now);

struct graduation_in {
    uint64_t kpm_id;
    enum config_track track;    /* TRACK_NATURAL or TRACK_WELFARE */
    const char *reason;         /* a code of graduation.reasons of that track */
    const char *effective_date; /* YYYY-MM-DD, graduation_date_ok() */
    const char *note;           /* NULL or "": none; at most GRADUATION_NOTE_MAX bytes */
    const char *key; /* the request's idempotency key (1 to GRADUATION_KEY_MAX bytes): a second
                        request, or a re-run, with it writes nothing and answers the first row */
};

/*
 * Records a graduation of a KPM in scope, makes kpm.graduation and graduated_on follow it
 * (graduation_sync()), and writes the audit row 'graduation.record'. *id is the graduation's.
 * Returns 0, KERR_NOT_FOUND (no such KPM in scope), KERR_INVALID (a track, reason, date or note
 * the configuration or schema does not allow), KERR_CONFLICT (the key names another
 * graduation), or a MariaDB error.
 */
int graduation_record(struct db_conn *c, const struct config *cfg, const struct scope *scope,
                      const struct actor *actor, const struct graduation_in *in, uint64_t *id);

/*
 * Revokes graduation `id` (of a KPM in scope) for `reason` (1 to GRADUATION_REASON_MAX bytes),
 * re-syncs the KPM, writes 'graduation.revoke'. One already revoked is left as it is: 0 and
 * nothing written (so a re-run, or a DELETE sent twice, changes nothing). *kpm_id (may be
 * NULL) is its KPM. Returns 0, KERR_NOT_FOUND, KERR_INVALID (the reason), or a MariaDB error.
 */
int graduation_revoke(struct db_conn *c, const struct scope *scope, const struct actor *actor,
                      uint64_t id, const char *reason, uint64_t *kpm_id);

/* kpm.graduation and kpm.graduated_on from the KPM's latest (by id) unrevoked graduation, or
 * none and NULL. 0 or a MariaDB error. */
int graduation_sync(struct db_conn *c, uint64_t kpm_id);

/* What came of an alert (alerts.outcome). The first five are the assistant's; the last three
 * answer a graduation-candidate alert. */
enum alert_outcome {
    OUTCOME_CALLED,
    OUTCOME_VISITED,
    OUTCOME_UNREACHABLE,
    OUTCOME_REFERRED,
    OUTCOME_NO_ACTION,
    OUTCOME_CONFIRMED,
    OUTCOME_DECLINED,
    OUTCOME_LATER,
    OUTCOME_COUNT
};
extern const char *const alert_outcome_names[OUTCOME_COUNT]; /* the ENUM's values */

/*
 * An outcome of the assistant's (called ... no_action) for alert `alert_id` of a KPM in scope,
 * with an optional note (at most GRADUATION_REASON_MAX bytes): the alert's outcome columns, the
 * alert acknowledged, the audit row 'alert.outcome'. The same outcome again writes nothing; a
 * later contact outcome replaces an earlier one; an alert whose candidate outcome was decided
 * (confirmed, declined) is KERR_CONFLICT. Returns 0, KERR_NOT_FOUND, KERR_INVALID (an outcome
 * that is not the assistant's), KERR_CONFLICT, or a MariaDB error.
 */
int alert_outcome(struct db_conn *c, const struct scope *scope, const struct actor *actor,
                  uint64_t alert_id, enum alert_outcome outcome, const char *note);

/*
 * The outcome of a graduation-candidate alert (rule graduation) of a KPM in scope:
 *   confirmed  records a welfare graduation effective today (WIB) for reason
 *              candidate_confirmed, or the first welfare reason without it, keyed by the alert
 *              (one graduation per alert), with `reason` as its note;
 *   declined   `reason` is needed (1 to GRADUATION_REASON_MAX bytes): the KPM gets no new
 *              candidate alert for graduation.decline_months (kpm.candidate_snooze_until);
 *   later      leaves the alert open.
 * Each: the alert's outcome columns (confirmed and declined acknowledge it) and the audit row
 * 'alert.outcome' (with 'graduation.record' for confirmed). The same outcome again writes
 * nothing; another one after confirmed or declined is KERR_CONFLICT. Returns 0,
 * KERR_NOT_FOUND, KERR_INVALID (not a candidate alert, not a candidate outcome, no reason for
 * declined), KERR_CONFLICT, or a MariaDB error.
 */
int graduation_candidate_outcome(struct db_conn *c, const struct config *cfg,
                                 const struct scope *scope, const struct actor *actor,
                                 uint64_t alert_id, enum alert_outcome outcome, const char *reason);

struct visit_in {
    uint64_t kpm_id;
    const char *visit_date; /* YYYY-MM-DD, graduation_date_ok() */
    unsigned outcome;       /* a code of graduation.visit_outcomes */
    int business_running;   /* 1, 0, or -1: not asked */
    const char *channel;    /* with session_id, the visit's key (home_visits): 1 to 32 bytes */
    const char *session_id; /* 1 to 64 bytes: a USSD session, an SMS id, a request's key */
};

/*
 * A home visit to a KPM in scope, by the actor (an assistant) or, recorded by an administrator,
 * by the KPM's assistant; the audit row 'visit.record'. A visit with the same (channel,
 * session_id) already there is the answer, and nothing is written. *id is the visit's.
 * Returns 0, KERR_NOT_FOUND, KERR_INVALID (outcome code, date, key), KERR_CONFLICT (the key is
 * another KPM's visit), or a MariaDB error.
 */
int visit_record(struct db_conn *c, const struct config *cfg, const struct scope *scope,
                 const struct actor *actor, const struct visit_in *in, uint64_t *id);

/*
 * Approves (the requesting phone becomes the KPM's number) or rejects phone-link request
 * `link_id` naming a KPM in scope, acknowledges its alert, writes 'link.approve' or
 * 'link.reject'. The same decision again writes nothing; the other one is KERR_CONFLICT, as is
 * an approval whose number is another KPM's already. Returns 0, KERR_NOT_FOUND (also a request
 * naming no KPM), KERR_CONFLICT, or a MariaDB error.
 */
int link_decide(struct db_conn *c, const struct scope *scope, const struct actor *actor,
                uint64_t link_id, int approve);

#endif
