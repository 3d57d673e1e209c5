/*
 * Duty leases (lease.h). A row's holder is an instance name and a process number drawn at
 * start, so a restarted kabard with the same name takes its duties back at once instead of
 * waiting for its old lease to expire, and epoch moves at each change of process.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "lease.h"
#include "log.h"
#include "parse.h"

static struct {
    char instance[65];
    uint64_t process; /* written once before the workers read it */
} ls;

void
lease_init(const char *instance, int port)
{
    char host[48] = "localhost";
    unsigned char rnd[8];

    if (instance != NULL && instance[0] != '\0') {
        snprintf(ls.instance, sizeof ls.instance, "%s", instance);
    } else {
        if (gethostname(host, sizeof host) == -1)
            snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = '\0';
        snprintf(ls.instance, sizeof ls.instance, "%s:%d", host, port);
    }
    randombytes_buf(rnd, sizeof rnd);
    memcpy(&ls.process, rnd, sizeof ls.process);
    ls.process &= INT64_MAX; /* a BIGINT UNSIGNED either way; kept readable as signed too */
    if (ls.process == 0)
        ls.process = 1;
}

const char *
lease_instance(void)
{
    return ls.instance;
}

unsigned long long
lease_ttl_ms(unsigned long long period_ms)
{
    return period_ms * 3 < 3000 ? 3000 : period_ms * 3;
}

struct lease_row {
    int found;
    char holder[65];
    uint64_t process, epoch;
    int live;
};

static int
lease_row_cb(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct lease_row *r = arg;

    if (n < 4 || v[0] == NULL || v[1] == NULL || v[2] == NULL || v[3] == NULL)
        return 0;
    r->found = 1;
    snprintf(r->holder, sizeof r->holder, "%.*s", (int)len[0], v[0]);
    if (parse_u64(v[1], len[1], 0, UINT64_MAX, &r->process) == -1 ||
        parse_u64(v[2], len[2], 0, UINT64_MAX, &r->epoch) == -1)
        r->found = 0;
    r->live = len[3] == 1 && v[3][0] == '1';
    return 0;
}

static int
lease_mine(const struct lease_row *r)
{
    return strcmp(r->holder, ls.instance) == 0 && r->process == ls.process;
}

/* The duty's row into *r; locked (FOR UPDATE SKIP LOCKED), a row another transaction on this
 * node holds reads as none. */
static int
lease_read(struct db_conn *c, const char *duty, int lock, struct lease_row *r)
{
    struct db_param key[] = {DB_STR(duty)};

    memset(r, 0, sizeof *r);
    return db_query(c,
                    lock ? "SELECT holder, process, epoch, expires_at > NOW(3) FROM duty_leases"
                           " WHERE duty = ? FOR UPDATE SKIP LOCKED"
                         : "SELECT holder, process, epoch, expires_at > NOW(3) FROM duty_leases"
                           " WHERE duty = ?",
                    key, 1, lease_row_cb, r);
}

static void
lease_log_taken(const char *duty, const struct lease_row *r)
{
    char qi[140], qh[140];

    log_info("lease_taken", "duty=%s instance=%s epoch=%llu from=%s expired=%d", duty,
             log_quote(ls.instance, strlen(ls.instance), qi, sizeof qi),
             (unsigned long long)r->epoch + 1,
             log_quote(r->holder, strlen(r->holder), qh, sizeof qh), !r->live);
}

/* 1 held, 0 not, or a MariaDB error number */
static int
lease_try(struct db_conn *c, const char *duty, unsigned long long ttl_ms)
{
    struct db_param take[] = {DB_STR(ls.instance), DB_U64(ls.process), DB_U64(ttl_ms * 1000),
                              DB_STR(duty)};
    struct lease_row r;
    uint64_t n = 0;
    int err;

    /* a look without a lock first: while another instance holds it, nothing here locks its row */
    if ((err = lease_read(c, duty, 0, &r)) != 0)
        return err;
    if (r.found && r.live && strcmp(r.holder, ls.instance) != 0)
        return 0;
    if (!r.found) {
        /* a duty no migration made */
        if ((err = db_exec(c,
                           "INSERT IGNORE INTO duty_leases (holder, process, expires_at, duty,"
                           " epoch, taken_at, renewed_at) VALUES (?, ?,"
                           " NOW(3) + INTERVAL ? MICROSECOND, ?, 1, NOW(3), NOW(3))",
                           take, 4, &n, NULL)) != 0)
            return err;
        if (n == 1)
            lease_log_taken(duty, &r);
        return n == 1;
    }
    /* none now: its holder is running the duty (on this node) */
    if ((err = lease_read(c, duty, 1, &r)) != 0 || !r.found)
        return err;
    if (lease_mine(&r)) {
        err = db_exec(c,
                      "UPDATE duty_leases SET expires_at = NOW(3) + INTERVAL ? MICROSECOND,"
                      " renewed_at = NOW(3) WHERE duty = ?",
                      take + 2, 2, NULL, NULL);
        return err != 0 ? err : 1;
    }
    /* expired, or held by an earlier process of this instance (a restart): take it */
    if (r.live && strcmp(r.holder, ls.instance) != 0)
        return 0;
    if ((err = db_exec(c,
                       "UPDATE duty_leases SET holder = ?, process = ?, epoch = epoch + 1,"
                       " expires_at = NOW(3) + INTERVAL ? MICROSECOND, taken_at = NOW(3),"
                       " renewed_at = NOW(3) WHERE duty = ?",
                       take, 4, NULL, NULL)) != 0)
        return err;
    lease_log_taken(duty, &r);
    return 1;
}

int
lease_take(struct db_conn *c, const char *duty, unsigned long long ttl_ms, int *held)
{
    int r = lease_try(c, duty, ttl_ms);

    *held = r == 1;
    return r == 0 || r == 1 ? 0 : r;
}

static int
lease_release_work(struct db_conn *c, void *arg)
{
    struct db_param p[] = {DB_STR(ls.instance), DB_U64(ls.process)};

    return db_exec(c, "UPDATE duty_leases SET expires_at = NOW(3) WHERE holder = ? AND process = ?",
                   p, 2, (uint64_t *)arg, NULL);
}

static void
lease_release_done(int err, void *arg)
{
    uint64_t *n = arg;

    if (err != 0)
        log_warn("lease_release_failed", "err=%d", err);
    else if (*n > 0)
        log_info("lease_released", "leases=%llu", (unsigned long long)*n);
    free(n);
}

void
lease_release(void)
{
    uint64_t *n;

    if (ls.process == 0 || (n = calloc(1, sizeof *n)) == NULL)
        return;
    if (db_submit(lease_release_work, lease_release_done, n, 0) == -1)
        free(n);
}

int
lease_hold(struct db_conn *c, const char *duty, unsigned long long ttl_ms)
{
    struct db_param p[] = {DB_U64(ttl_ms * 1000), DB_STR(duty), DB_STR(ls.instance),
                           DB_U64(ls.process)};

    return db_exec(c,
                   "UPDATE duty_leases SET expires_at = NOW(3) + INTERVAL ? MICROSECOND,"
                   " renewed_at = NOW(3) WHERE duty = ? AND holder = ? AND process = ?",
                   p, 4, NULL, NULL);
}
