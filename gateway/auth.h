/*
 * Who may use the admin pages and the API. Passwords: argon2id through libsodium's
 * crypto_pwhash_str (memory-hard, salted, parameters stored in the hash string). Session cookies,
 * CSRF tokens and API tokens: 32 random bytes from the kernel, of which the database keeps only
 * a SHA-256 (a stolen table cannot be replayed). Checking a password costs tens of milliseconds
 * and 64 MiB, so it runs on a database worker, and only one at a time (see admin.c).
 */
#ifndef KABAR_AUTH_H
#define KABAR_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct config;
struct db_conn;

#define AUTH_TOKEN_HEX 65   /* 32 bytes as hex, and the NUL */
#define AUTH_HASH_BYTES 32  /* SHA-256 */
#define AUTH_PWHASH_MAX 128 /* crypto_pwhash_STRBYTES */
#define AUTH_PASSWORD_MIN 10

/* Once at start-up (the dummy hash for unknown names). 0, or -1 when out of memory. */
int auth_init(void);
/* 0, or -1 when out of memory. */
int auth_password_hash(const char *password, char out[AUTH_PWHASH_MAX]);
/* 1 when password matches hash. With hash NULL (no such user) the same work is done against a
 * dummy hash, so the answer time does not tell which usernames exist; the result is then 0. */
int auth_password_verify(const char *hash, const char *password);

/* 32 random bytes as 64 lowercase hex characters. */
void auth_token_new(char out[AUTH_TOKEN_HEX]);
/* A job's key: 16 random bytes as 32 lowercase hex characters. Drawn once per request, before the
 * job is queued, so that every run of the job has the same one (audit_log.request_key). */
#define AUTH_KEY_HEX 33
void auth_key_new(char out[AUTH_KEY_HEX]);
void auth_token_hash(const char *token, unsigned char out[AUTH_HASH_BYTES]);
/* Constant-time equality of two NUL-terminated tokens. */
int auth_token_equal(const char *a, const char *b);

/* The login limiter, on the loop thread: 1 while `peer` has made fewer than per_minute attempts
 * in the current minute (and counts this one), 0 otherwise. */
int auth_login_allowed(const char *peer, unsigned per_minute, time_t now);

struct auth_user {
    uint64_t id;
    char username[65];
    int admin;       /* else a supervisor */
    char region[14]; /* the supervisor's region code prefix; "" for an admin */
};

struct auth_session {
    struct auth_user user;
    char csrf[AUTH_TOKEN_HEX];
    int lang;     /* 0 id, 1 en */
    char *filter; /* the queue filter JSON (malloc), or NULL */
};

/* A user from a row (id, username, role, region_code): 0, or -1 when the row is not a user who
 * may log in (a supervisor without a valid region would otherwise see every region). */
int auth_user_from_row(struct auth_user *u, char **v);

/*
 * On a database worker. The session whose cookie value is sid: 1 when live (its last_seen is
 * then refreshed), 0 when unknown or expired (an expired one is deleted). On a database error
 * returns -1 with *err set.
 */
int auth_session_load(struct db_conn *c, const char *sid, unsigned idle, unsigned max,
                      struct auth_session *s, int *err);
/* A new session for user u whose cookie value is sid (auth_token_new()); fills s->csrf. 0 or a
 * MariaDB error. */
int auth_session_create(struct db_conn *c, const struct auth_user *u, int lang, const char *sid,
                        struct auth_session *s);
/* The user of a live API token: 1, 0 when unknown or revoked, -1 with *err. */
int auth_bearer_load(struct db_conn *c, const char *token, struct auth_user *u, int *err);
/* One audit_log row. Never give it a NIK, a password or a report's contents. */
int auth_audit(struct db_conn *c, const char *actor, const char *action, const char *target_type,
               uint64_t target_id, const char *detail);
/*
 * The same, carrying the job's key (auth_key_new(); NULL: none): the row is the job's receipt.
 * A second row with the key is not written (a re-run writes its row once).
 */
int auth_audit_keyed(struct db_conn *c, const char *key, const char *actor, const char *action,
                     const char *target_type, uint64_t target_id, const char *detail);
/*
 * Whether a run of the job with this key committed already: the action of its audit row into
 * action (AUTH_ACTION_SIZE), or "" when there is none. 0 or a MariaDB error. A job that re-runs
 * after a COMMIT whose answer was lost (db.h) asks this first, and then does nothing twice.
 */
#define AUTH_ACTION_SIZE 65
int auth_receipt(struct db_conn *c, const char *key, char *action);

/* On the loop: deletes expired admin sessions (a database job; nothing when the database is
 * down or the admin listener is off). */
/* how often kabard.c sweeps (every 300 one-second pings) */
#define AUTH_SWEEP_MS 300000
void auth_sweep(const struct config *cfg);

#endif
