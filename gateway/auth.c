#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "lease.h"
#include "log.h"
#include "parse.h"

int
auth_password_hash(const char *password, char out[AUTH_PWHASH_MAX])
{
    return crypto_pwhash_str_alg(out, password, strlen(password),
                                 crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

static char auth_dummy[AUTH_PWHASH_MAX];

int
auth_init(void)
{
    /* built once before any login, so the first unknown name costs what every check costs */
    return auth_password_hash("not a password at all", auth_dummy);
}

int
auth_password_verify(const char *hash, const char *password)
{
    if (hash == NULL || strncmp(hash, "$argon2id$", 10) != 0) {
        if (auth_dummy[0] != '\0' &&
            crypto_pwhash_str_verify(auth_dummy, password, strlen(password)) == 0)
            return 0; /* the dummy's own password: still not a user */
        return 0;
    }
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void
auth_token_new(char out[AUTH_TOKEN_HEX])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, AUTH_TOKEN_HEX, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

void
auth_key_new(char out[AUTH_KEY_HEX])
{
    unsigned char raw[(AUTH_KEY_HEX - 1) / 2];

    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, AUTH_KEY_HEX, raw, sizeof raw);
}

void
auth_token_hash(const char *token, unsigned char out[AUTH_HASH_BYTES])
{
    crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

int
auth_token_equal(const char *a, const char *b)
{
    size_t n = strlen(a);

    return n > 0 && n == strlen(b) && sodium_memcmp(a, b, n) == 0;
}

/* A small table of recent login sources; a collision shares a counter, which only errs strict. */
#define AUTH_SLOTS 1024

static struct {
    time_t minute;
    unsigned count;
} auth_slots[AUTH_SLOTS];

int
auth_login_allowed(const char *peer, unsigned per_minute, time_t now)
{
    unsigned char h[crypto_shorthash_BYTES];
    static unsigned char key[crypto_shorthash_KEYBYTES];
    static int keyed;
    size_t i;

    if (!keyed) {
        randombytes_buf(key, sizeof key);
        keyed = 1;
    }
    crypto_shorthash(h, (const unsigned char *)peer, strlen(peer), key);
    i = ((size_t)h[0] | (size_t)h[1] << 8) % AUTH_SLOTS;
    if (auth_slots[i].minute != now / 60) {
        auth_slots[i].minute = now / 60;
        auth_slots[i].count = 0;
    }
    if (auth_slots[i].count >= per_minute)
        return 0;
    auth_slots[i].count++;
    return 1;
}

struct auth_row {
    int found, live;
    struct auth_session *s;
    struct auth_user *u;
};

/* id, username, role, region_code. 0, or -1 for a user who must not get in: a supervisor
 * without a region would see every region ("" is everything to the region filters). */
int
auth_user_from_row(struct auth_user *u, char **v)
{
    uint64_t id = 0;

    memset(u, 0, sizeof *u);
    if (v[0] == NULL || v[1] == NULL || v[2] == NULL ||
        parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &id) == -1)
        return -1;
    u->id = id;
    snprintf(u->username, sizeof u->username, "%s", v[1]);
    u->admin = strcmp(v[2], "admin") == 0;
    if (u->admin)
        return 0;
    if (strcmp(v[2], "supervisor") != 0 || v[3] == NULL || v[3][0] == '\0' ||
        strlen(v[3]) >= sizeof u->region || strspn(v[3], "0123456789") != strlen(v[3]))
        return -1;
    snprintf(u->region, sizeof u->region, "%s", v[3]);
    return 0;
}

static int
auth_session_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct auth_row *a = arg;

    (void)lens;
    if (n != 8 || v[4] == NULL || auth_user_from_row(&a->s->user, v) == -1)
        return 1;
    a->found = 1;
    snprintf(a->s->csrf, sizeof a->s->csrf, "%s", v[4]);
    a->s->lang = v[5] != NULL && strcmp(v[5], "en") == 0;
    a->s->filter = v[6] != NULL ? strdup(v[6]) : NULL;
    a->live = v[7] != NULL && strcmp(v[7], "1") == 0;
    return 1;
}

int
auth_session_load(struct db_conn *c, const char *sid, unsigned idle, unsigned max,
                  struct auth_session *s, int *err)
{
    unsigned char h[AUTH_HASH_BYTES];
    struct auth_row a = {0, 0, s, NULL};
    struct db_param p[3];

    memset(s, 0, sizeof *s);
    if (strlen(sid) != AUTH_TOKEN_HEX - 1)
        return 0;
    auth_token_hash(sid, h);
    p[0] = DB_U64(idle);
    p[1] = DB_U64(max);
    p[2] = DB_STRN((const char *)h, sizeof h);
    *err = db_query(c,
                    "SELECT u.id, u.username, u.role, u.region_code, s.csrf, s.lang, s.filter,"
                    " s.last_seen > NOW(3) - INTERVAL ? SECOND"
                    "  AND s.created_at > NOW(3) - INTERVAL ? SECOND"
                    " FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id"
                    " WHERE s.id_hash = ?",
                    p, 3, auth_session_row, &a);
    if (*err != 0)
        return -1;
    if (!a.found)
        return 0;
    if (!a.live) {
        free(s->filter);
        s->filter = NULL;
        *err = db_exec(c, "DELETE FROM admin_sessions WHERE id_hash = ?", p + 2, 1, NULL, NULL);
        return *err != 0 ? -1 : 0;
    }
    *err = db_exec(c, "UPDATE admin_sessions SET last_seen = NOW(3) WHERE id_hash = ?", p + 2, 1,
                   NULL, NULL);
    return *err != 0 ? -1 : 1;
}

int
auth_session_create(struct db_conn *c, const struct auth_user *u, int lang, const char *sid,
                    struct auth_session *s)
{
    unsigned char h[AUTH_HASH_BYTES];
    struct db_param p[4];

    memset(s, 0, sizeof *s);
    s->user = *u;
    s->lang = lang;
    auth_token_new(s->csrf);
    auth_token_hash(sid, h);
    p[0] = DB_STRN((const char *)h, sizeof h);
    p[1] = DB_U64(u->id);
    p[2] = DB_STR(s->csrf);
    p[3] = DB_STR(lang ? "en" : "id");
    return db_exec(c,
                   "INSERT INTO admin_sessions (id_hash, user_id, csrf, lang) VALUES (?, ?, ?, ?)",
                   p, 4, NULL, NULL);
}

static int
auth_bearer_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct auth_row *a = arg;

    (void)lens;
    if (n != 4 || auth_user_from_row(a->u, v) == -1)
        return 1;
    a->found = 1;
    return 1;
}

int
auth_bearer_load(struct db_conn *c, const char *token, struct auth_user *u, int *err)
{
    unsigned char h[AUTH_HASH_BYTES];
    struct auth_row a = {0, 0, NULL, u};
    struct db_param p;

    memset(u, 0, sizeof *u);
    if (strlen(token) != AUTH_TOKEN_HEX - 1)
        return 0;
    auth_token_hash(token, h);
    p = DB_STRN((const char *)h, sizeof h);
    *err = db_query(c,
                    "SELECT u.id, u.username, u.role, u.region_code FROM api_tokens t"
                    " JOIN admin_users u ON u.id = t.user_id"
                    " WHERE t.token_hash = ? AND t.revoked_at IS NULL",
                    &p, 1, auth_bearer_row, &a);
    if (*err != 0)
        return -1;
    if (!a.found)
        return 0;
    *err = db_exec(c, "UPDATE api_tokens SET last_used_at = NOW(3) WHERE token_hash = ?", &p, 1,
                   NULL, NULL);
    return *err != 0 ? -1 : 1;
}

int
auth_audit_keyed(struct db_conn *c, const char *key, const char *actor, const char *action,
                 const char *target_type, uint64_t target_id, const char *detail)
{
    struct db_param p[6];

    p[0] = DB_STR(actor);
    p[1] = DB_STR(action);
    p[2] = target_type != NULL ? DB_STR(target_type) : DB_NULL();
    p[3] = target_id != 0 ? DB_U64(target_id) : DB_NULL();
    p[4] = detail != NULL ? DB_STR(detail) : DB_NULL();
    p[5] = key != NULL ? DB_STR(key) : DB_NULL();
    /* the key's row is there: this is a re-run, and the first run's row stands */
    return db_exec(c,
                   "INSERT INTO audit_log (actor, action, target_type, target_id, detail,"
                   " request_key) VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = id",
                   p, 6, NULL, NULL);
}

int
auth_audit(struct db_conn *c, const char *actor, const char *action, const char *target_type,
           uint64_t target_id, const char *detail)
{
    return auth_audit_keyed(c, NULL, actor, action, target_type, target_id, detail);
}

static int
auth_receipt_row(void *arg, char **v, unsigned long *lens, unsigned n)
{
    char *action = arg;

    (void)lens;
    if (n == 1 && v[0] != NULL)
        snprintf(action, AUTH_ACTION_SIZE, "%s", v[0]);
    return 1;
}

int
auth_receipt(struct db_conn *c, const char *key, char *action)
{
    struct db_param p = DB_STR(key);

    action[0] = '\0';
    return db_query(c, "SELECT action FROM audit_log WHERE request_key = ?", &p, 1,
                    auth_receipt_row, action);
}

/* -- expired sessions: swept, so a queue filter (a name, a phone number) does not linger */

struct auth_sweep_job {
    unsigned idle, max;
    uint64_t deleted;
};

static int
auth_sweep_work(struct db_conn *c, void *arg)
{
    struct auth_sweep_job *s = arg;
    struct db_param p[2] = {DB_U64(s->idle), DB_U64(s->max)};
    int err, held;

    /* one kabard of several sweeps (its lease lives three sweeps, lease.h) */
    s->deleted = 0;
    if ((err = lease_take(c, LEASE_ADMIN_SESSIONS, lease_ttl_ms(AUTH_SWEEP_MS), &held)) != 0 ||
        !held)
        return err;
    return db_exec(c,
                   "DELETE FROM admin_sessions WHERE last_seen < NOW(3) - INTERVAL ? SECOND"
                   " OR created_at < NOW(3) - INTERVAL ? SECOND",
                   p, 2, &s->deleted, NULL);
}

static void
auth_sweep_done(int err, void *arg)
{
    struct auth_sweep_job *s = arg;

    if (err == 0 && s->deleted > 0)
        log_info("admin_sessions_expired", "deleted=%llu", (unsigned long long)s->deleted);
    free(s);
}

void
auth_sweep(const struct config *cfg)
{
    struct auth_sweep_job *s;

    if (!cfg->admin.enabled || !db_is_up() || (s = calloc(1, sizeof *s)) == NULL)
        return;
    s->idle = cfg->admin.session_idle;
    s->max = cfg->admin.session_max;
    if (db_submit(auth_sweep_work, auth_sweep_done, s, DB_TXN | DB_BACKGROUND) == -1)
        free(s);
}
