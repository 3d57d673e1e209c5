/*
 * kabard -c FILE user add NAME --role admin|supervisor [--region CODE]
 *     creates the user, or sets the password, role and region of an existing one (and unlocks
 *     it); the password is the first line of standard input, never an argument (argv is
 *     visible to every user of the machine).
 * kabard -c FILE user token NAME [--label TEXT]
 *     prints a new API token for NAME once; only its SHA-256 is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "users.h"

struct users_job {
    const char *name, *role, *region, *label;
    char hash[AUTH_PWHASH_MAX];
    char token[AUTH_TOKEN_HEX]; /* drawn once: a re-run stores the one that is printed */
    char key[AUTH_KEY_HEX];     /* the job's, on its audit row */
    int add;
    int created;
    int found;
    int err;
    int finished;
    struct event_base *base;
};

static int
users_found(void *arg, char **v, unsigned long *lens, unsigned n)
{
    struct users_job *u = arg;

    (void)v;
    (void)lens;
    (void)n;
    u->found = 1;
    return 1;
}

/* One transaction; a re-run whose first run committed (db.h) finds its audit row by the job's
 * key and keeps what that run found, so it says "created" and stores one token. */
static int
users_work(struct db_conn *c, void *arg)
{
    struct users_job *u = arg;
    unsigned char h[AUTH_HASH_BYTES];
    char done[AUTH_ACTION_SIZE];
    struct db_param p[4];
    uint64_t affected = 0;
    int err;

    db_txn_name(c, "users");
    if ((err = auth_receipt(c, u->key, done)) != 0 || done[0] != '\0')
        return err;
    u->found = 0;
    p[0] = DB_STR(u->name);
    if ((err = db_query(c, "SELECT id FROM admin_users WHERE username = ?", p, 1, users_found,
                        u)) != 0)
        return err;
    if (u->add) {
        u->created = !u->found;
        p[1] = DB_STR(u->hash);
        p[2] = DB_STR(u->role);
        p[3] = u->region != NULL ? DB_STR(u->region) : DB_NULL();
        if ((err = db_exec(c,
                           "INSERT INTO admin_users (username, password_hash, role, region_code)"
                           " VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
                           " password_hash = VALUES(password_hash), role = VALUES(role),"
                           " region_code = VALUES(region_code), failed_logins = 0,"
                           " locked_until = NULL",
                           p, 4, &affected, NULL)) != 0)
            return err;
        /* a changed password ends the user's open sessions */
        if (!u->created && (err = db_exec(c,
                                          "DELETE s FROM admin_sessions s JOIN admin_users u"
                                          " ON u.id = s.user_id WHERE u.username = ?",
                                          p, 1, NULL, NULL)) != 0)
            return err;
        return auth_audit_keyed(c, u->key, "cli", u->created ? "user.add" : "user.update", "user",
                                0, u->name);
    }
    if (!u->found)
        return 0;
    auth_token_hash(u->token, h);
    p[1] = DB_STRN((const char *)h, sizeof h);
    p[2] = DB_STR(u->label != NULL ? u->label : "cli");
    if ((err = db_exec(c,
                       "INSERT INTO api_tokens (user_id, token_hash, name)"
                       " SELECT id, ?, ? FROM admin_users WHERE username = ?",
                       (struct db_param[]){p[1], p[2], p[0]}, 3, NULL, NULL)) != 0)
        return err;
    return auth_audit_keyed(c, u->key, "cli", "token.add", "user", 0, u->name);
}

static void
users_done(int err, void *arg)
{
    struct users_job *u = arg;

    u->err = err;
    u->finished = 1;
    event_base_loopbreak(u->base);
}

static int
users_usage(void)
{
    fprintf(stderr, "usage: kabard -c FILE user add NAME --role admin|supervisor [--region CODE]"
                    "  (password on standard input)\n"
                    "       kabard -c FILE user token NAME [--label TEXT]\n");
    return 2;
}

static int
users_name_valid(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "0123456789._-") == n;
}

static int
users_read_password(char *pw, size_t cap)
{
    size_t n;

    if (fgets(pw, (int)cap, stdin) == NULL)
        return -1;
    n = strcspn(pw, "\r\n");
    if (pw[n] == '\0' && n == cap - 1)
        return -1; /* longer than we take */
    pw[n] = '\0';
    return 0;
}

int
users_cli(const struct config *cfg, int argc, char **argv)
{
    struct users_job u;
    char pw[258];
    int i, rc = 1;

    memset(&u, 0, sizeof u);
    if (argc < 2 || (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "token") != 0))
        return users_usage();
    u.add = strcmp(argv[0], "add") == 0;
    u.name = argv[1];
    for (i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            return users_usage();
        if (u.add && strcmp(argv[i], "--role") == 0)
            u.role = argv[++i];
        else if (u.add && strcmp(argv[i], "--region") == 0)
            u.region = argv[++i];
        else if (!u.add && strcmp(argv[i], "--label") == 0)
            u.label = argv[++i];
        else
            return users_usage();
    }
    if (!users_name_valid(u.name)) {
        fprintf(stderr, "kabard: a user name is 1 to 64 of A-Z a-z 0-9 . _ -\n");
        return 2;
    }
    if (u.label != NULL && strlen(u.label) > 64) {
        fprintf(stderr, "kabard: a token label is at most 64 bytes\n");
        return 2;
    }
    if (u.add) {
        if (u.role == NULL || (strcmp(u.role, "admin") != 0 && strcmp(u.role, "supervisor") != 0))
            return users_usage();
        if (strcmp(u.role, "supervisor") == 0 && u.region == NULL) {
            fprintf(stderr, "kabard: a supervisor needs --region CODE (a province, kabupaten, "
                            "kecamatan or desa code)\n");
            return 2;
        }
        if (strcmp(u.role, "admin") == 0)
            u.region = NULL; /* an admin sees every region */
        if (users_read_password(pw, sizeof pw) == -1 || strlen(pw) < AUTH_PASSWORD_MIN) {
            fprintf(stderr, "kabard: give a password of %d to 256 characters on standard input\n",
                    AUTH_PASSWORD_MIN);
            return 2;
        }
        i = auth_password_hash(pw, u.hash);
        sodium_memzero(pw, sizeof pw);
        if (i != 0) {
            fprintf(stderr, "kabard: out of memory hashing the password\n");
            return 1;
        }
    }
    if ((u.base = event_base_new()) == NULL || db_start(u.base, &cfg->db) == -1) {
        fprintf(stderr, "kabard: cannot start the database client\n");
        return 1;
    }
    auth_key_new(u.key);
    if (!u.add)
        auth_token_new(u.token);
    if (db_submit(users_work, users_done, &u, DB_TXN | DB_FORCE) == 0) {
        while (!u.finished)
            event_base_dispatch(u.base);
        if (u.err == 1452)
            fprintf(stderr, "kabard: no region %s\n", u.region);
        else if (u.err != 0)
            fprintf(stderr, "kabard: the database said %d (is it running, and migrated?)\n", u.err);
        else if (!u.add && !u.found)
            fprintf(stderr, "kabard: no user %s\n", u.name);
        else if (u.add)
            printf("%s %s\n", u.created ? "created" : "updated", u.name), rc = 0;
        else
            printf("%s\n", u.token), rc = 0;
    } else {
        fprintf(stderr, "kabard: cannot reach the database\n");
    }
    db_stop();
    event_base_free(u.base);
    sodium_memzero(u.token, sizeof u.token);
    return rc;
}
