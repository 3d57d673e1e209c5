#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errmsg.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"

#ifdef KABAR_FAULTS
#include <sys/socket.h>

#include "fault.h"
#endif

#define DB_QUEUE_MAX 8192
#define DB_STMT_CACHE 64
#define DB_COLS_MAX 32
#define DB_COL_BUF 1024
#define DB_PARAMS_MAX 512
#define DB_ATTEMPTS 5

struct db_job {
    db_work_fn work;
    db_done_fn done;
    void *arg;
    int flags;
    int err;
    struct db_job *next;
};

struct db_conn {
    MYSQL *mysql;
    struct {
        const char *sql;
        char *text;
        MYSQL_STMT *stmt;
    } stmts[DB_STMT_CACHE];
    size_t nstmts;
    unsigned backoff_ms;
    struct timespec next_attempt;
    unsigned failed_gen; /* db.connects when this connection last failed to open */
    unsigned host;       /* the index in db.cfg.hosts of the server it is connected to */
    int ever_connected;
    int background; /* the worker of DB_BACKGROUND jobs */
#ifdef KABAR_FAULTS
    const char *txn_name; /* db_txn_name(), for the run of the work in progress */
    int cut_next;         /* db_fault() fired: the next statement's answer is lost */
    int slow_next;        /* slow:POINT fired: the next statement runs until it is stopped */
#endif
};

#ifdef KABAR_FAULTS
static void db_fault_before_execute(struct db_conn *c);
static int db_fault_slow(struct db_conn *c);
#else
#define db_fault_before_execute(c) ((void)(c))
#define db_fault_slow(c) 0
#endif

struct db_queue {
    struct db_job *head, *tail;
    size_t len;
};

struct db_batch_job {
    struct db_batcher *b;
    void **items;
    size_t n;
};

static struct {
    struct db_batcher *batchers;
    struct config_db cfg;
    pthread_t *threads;
    struct db_conn *conns; /* nthreads: the pool's workers, then the background worker */
    size_t nthreads;
    pthread_mutex_t lock;
    pthread_cond_t cond, bgcond;
    /* the callbacks' queue and the background duties' own: a tick that takes seconds holds
     * the background worker, never one the next USSD hop waits for */
    struct db_queue todo, bgtodo, done;
    size_t busy, bgbusy;
    int stopping;
    int pipe[2];
    struct event *ev;
    struct event *flush_ev; /* the batchers' items of one turn of the loop go together */
    atomic_int up;
    atomic_uint connects; /* successful opens: another worker's success ends our backoff */
    atomic_uint host;     /* db.cfg.hosts[host]: where the pool connects (a cluster's node) */
    atomic_int no_wsrep;  /* the server does not know wsrep_sync_wait: no causal reads */
} db;

static void
db_queue_push(struct db_queue *q, struct db_job *j)
{
    j->next = NULL;
    if (q->tail != NULL)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->len++;
}

static struct db_job *
db_queue_pop(struct db_queue *q)
{
    struct db_job *j = q->head;

    if (j != NULL) {
        q->head = j->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->len--;
    }
    return j;
}

int
db_is_retryable(int err)
{
    switch (err) {
    case ER_LOCK_DEADLOCK:     /* 1213 */
    case ER_LOCK_WAIT_TIMEOUT: /* 1205 */
    case CR_SERVER_GONE_ERROR: /* 2006 */
    case CR_SERVER_LOST:       /* 2013 */
    case CR_SERVER_LOST_EXTENDED:
    case ER_UNKNOWN_COM_ERROR: /* 1047: a Galera node not ready */
    case ER_CHECKREAD:         /* 1020: Galera certification conflict */
        return 1;
    }
    return 0;
}

int
db_is_timeout(int err)
{
    return err == ER_STATEMENT_TIMEOUT;
}

static int
db_is_link_error(int err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST || err == CR_SERVER_LOST_EXTENDED ||
           err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR || err == ER_UNKNOWN_COM_ERROR;
}

static void
db_conn_close(struct db_conn *c)
{
    size_t i;

    for (i = 0; i < c->nstmts; i++) {
        mysql_stmt_close(c->stmts[i].stmt);
        free(c->stmts[i].text);
    }
    c->nstmts = 0;
    if (c->mysql != NULL)
        mysql_close(c->mysql);
    c->mysql = NULL;
}

static int
db_time_reached(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* The server at index `failed` is gone or not ready: the pool moves to the next one (once, if
 * several workers see it at the same time). */
static void
db_host_failed(unsigned failed)
{
    unsigned next = (failed + 1) % (unsigned)db.cfg.nhosts;

    if (next != failed && atomic_compare_exchange_strong(&db.host, &failed, next))
        log_warn("db_host_moved", "from=%u to=%u", failed + 1, next + 1);
}

static MYSQL *
db_connect_host(const struct config_db_host *h, const char *init, unsigned ct, unsigned qt)
{
    const struct config_db *cfg = &db.cfg;
    my_bool off = 0;
    MYSQL *m;

    if ((m = mysql_init(NULL)) == NULL)
        return NULL;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &qt);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &qt);
    mysql_options(m, MYSQL_OPT_RECONNECT, &off);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m, MYSQL_INIT_COMMAND, init);
    mysql_real_connect(m, h->socket[0] != '\0' ? NULL : h->host, cfg->user,
                       cfg->password[0] != '\0' ? cfg->password : NULL, cfg->name, h->port,
                       h->socket[0] != '\0' ? h->socket : NULL, 0);
    return m;
}

static int
db_conn_open(struct db_conn *c)
{
    const struct config_db *cfg = &db.cfg;
    /* the server stops a statement at query_timeout (error 1969, not retried); the client's own
     * read timeout, a little later, is only for a server that stopped answering at all */
    unsigned ct = cfg->connect_timeout, qt = cfg->query_timeout + 5;
    char init[96];
    unsigned k, idx = 0;
    MYSQL *m = NULL;

    if (c->mysql != NULL)
        return 0;
    /* the server is back if another worker got in since we failed: no reason to wait */
    if (!db_time_reached(&c->next_attempt) && atomic_load(&db.connects) == c->failed_gen)
        return -1;
    /* UTC in the database; the assistants' time zones are applied when rendering */
    snprintf(init, sizeof init, "SET time_zone = '+00:00', max_statement_time = %u",
             cfg->query_timeout);
    /* the pool's server first, then the next ones of database.hosts: a node that is gone
     * costs one refused connect, and the pool moves to the one that answered */
    for (k = 0; k < cfg->nhosts; k++) {
        if (m != NULL) {
            log_warn("db_host_failed", "host=%u errno=%u error=\"%s\"", idx + 1, mysql_errno(m),
                     mysql_error(m));
            mysql_close(m);
            db_host_failed(idx);
        }
        idx = atomic_load(&db.host) % (unsigned)cfg->nhosts;
        if ((m = db_connect_host(&cfg->hosts[idx], init, ct, qt)) == NULL)
            return -1;
        if (mysql_errno(m) == 0)
            break;
    }
    if (mysql_errno(m) != 0) {
        struct timespec now;

        if (atomic_exchange(&db.up, 0) == 1 || c->backoff_ms == 0)
            log_warn("db_connect_failed", "errno=%u error=\"%s\" retry_ms=%u", mysql_errno(m),
                     mysql_error(m), c->backoff_ms ? c->backoff_ms * 2 : 250);
        mysql_close(m);
        c->backoff_ms = c->backoff_ms == 0 ? 250 : c->backoff_ms * 2;
        if (c->backoff_ms > 8000)
            c->backoff_ms = 8000;
        clock_gettime(CLOCK_MONOTONIC, &now);
        now.tv_sec += c->backoff_ms / 1000;
        now.tv_nsec += (long)(c->backoff_ms % 1000) * 1000000L;
        if (now.tv_nsec >= 1000000000L) {
            now.tv_sec++;
            now.tv_nsec -= 1000000000L;
        }
        c->next_attempt = now;
        c->failed_gen = atomic_load(&db.connects);
        return -1;
    }
    /* this connection was lost, or the pool could not reach the server: open again */
    if (c->ever_connected || !atomic_load(&db.up))
        metrics_add(METRIC_DB_RECONNECTS, 1);
    c->ever_connected = 1;
    c->backoff_ms = 0;
    c->host = idx;
    atomic_fetch_add(&db.connects, 1);
    c->mysql = m;
    return 0;
}

static MYSQL_STMT *
db_prepare(struct db_conn *c, const char *sql, int *err)
{
    MYSQL_STMT *st;
    size_t i;

    for (i = 0; i < c->nstmts; i++) {
        if (c->stmts[i].sql != sql)
            continue;
        /* keyed by the text's address: a caller reusing a buffer gets no stale statement */
        if (strcmp(c->stmts[i].text, sql) == 0)
            return c->stmts[i].stmt;
        mysql_stmt_close(c->stmts[i].stmt);
        free(c->stmts[i].text);
        memmove(&c->stmts[i], &c->stmts[i + 1], sizeof c->stmts[0] * (c->nstmts - i - 1));
        c->nstmts--;
        break;
    }
    if ((st = mysql_stmt_init(c->mysql)) == NULL) {
        *err = CR_OUT_OF_MEMORY;
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        *err = (int)mysql_stmt_errno(st);
        /* under Galera a transaction aborted by another node's write set (1213) or a node
         * leaving the primary component (1047) can surface at the next prepare: expected,
         * and retried like a deadlock, so not an error */
        if (db_is_retryable(*err))
            log_warn("db_prepare_failed", "errno=%d error=\"%s\" retry=1", *err,
                     mysql_stmt_error(st));
        else
            log_error("db_prepare_failed", "errno=%d error=\"%s\"", *err, mysql_stmt_error(st));
        mysql_stmt_close(st);
        return NULL;
    }
    /* the cache is keyed by the statement's static string; a full cache just closes the oldest */
    if (c->nstmts == DB_STMT_CACHE) {
        mysql_stmt_close(c->stmts[0].stmt);
        free(c->stmts[0].text);
        memmove(&c->stmts[0], &c->stmts[1], sizeof c->stmts[0] * (DB_STMT_CACHE - 1));
        c->nstmts--;
    }
    if ((c->stmts[c->nstmts].text = strdup(sql)) == NULL) {
        mysql_stmt_close(st);
        *err = CR_OUT_OF_MEMORY;
        return NULL;
    }
    c->stmts[c->nstmts].sql = sql;
    c->stmts[c->nstmts].stmt = st;
    c->nstmts++;
    return st;
}

static int
db_bind_exec(struct db_conn *c, const char *sql, const struct db_param *p, size_t np,
             MYSQL_STMT **out)
{
    MYSQL_BIND b[DB_PARAMS_MAX];
    unsigned long lens[DB_PARAMS_MAX];
    MYSQL_STMT *st;
    size_t i;
    int err = 0;

    if (c->mysql == NULL)
        return CR_SERVER_GONE_ERROR;
    if (np > DB_PARAMS_MAX || (st = db_prepare(c, sql, &err)) == NULL)
        return err != 0 ? err : CR_OUT_OF_MEMORY;
    if (mysql_stmt_param_count(st) != np) {
        log_error("db_bind_failed", "reason=\"parameter count\" want=%lu have=%zu sql=\"%.80s\"",
                  mysql_stmt_param_count(st), np, sql);
        return ER_WRONG_ARGUMENTS;
    }
    memset(b, 0, sizeof b);
    for (i = 0; i < np; i++) {
        switch (p[i].type) {
        case DBP_NULL:
            b[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        case DBP_STR:
            lens[i] = (unsigned long)p[i].len;
            b[i].buffer_type = MYSQL_TYPE_STRING;
            b[i].buffer = (void *)(uintptr_t)p[i].s;
            b[i].buffer_length = lens[i];
            b[i].length = &lens[i];
            break;
        case DBP_U64:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)(uintptr_t)&p[i].u;
            b[i].is_unsigned = 1;
            break;
        case DBP_I64:
            b[i].buffer_type = MYSQL_TYPE_LONGLONG;
            b[i].buffer = (void *)(uintptr_t)&p[i].i;
            break;
        }
    }
    db_fault_before_execute(c);
    if ((err = db_fault_slow(c)) != 0)
        return err;
    if ((np > 0 && mysql_stmt_bind_param(st, b) != 0) || mysql_stmt_execute(st) != 0) {
        err = (int)mysql_stmt_errno(st);
        metrics_add(METRIC_DB_ERRORS, 1);
        if (!db_is_retryable(err))
            log_error("db_statement_failed", "errno=%d error=\"%s\"", err, mysql_stmt_error(st));
        return err;
    }
    *out = st;
    return 0;
}

int
db_exec(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, uint64_t *affected,
        uint64_t *insert_id)
{
    MYSQL_STMT *st;
    int err;

    if ((err = db_bind_exec(c, sql, p, np, &st)) != 0)
        return err;
    if (affected != NULL)
        *affected = mysql_stmt_affected_rows(st);
    if (insert_id != NULL)
        *insert_id = mysql_stmt_insert_id(st);
    return 0;
}

int
db_query(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, db_row_fn fn,
         void *arg)
{
    MYSQL_BIND b[DB_COLS_MAX];
    char *vals[DB_COLS_MAX], *big[DB_COLS_MAX];
    unsigned long lens[DB_COLS_MAX];
    my_bool nulls[DB_COLS_MAX], errs[DB_COLS_MAX];
    static _Thread_local char bufs[DB_COLS_MAX][DB_COL_BUF];
    MYSQL_STMT *st;
    unsigned ncols, i;
    int err, rc, stop = 0;

    if ((err = db_bind_exec(c, sql, p, np, &st)) != 0)
        return err;
    ncols = mysql_stmt_field_count(st);
    if (ncols > DB_COLS_MAX) {
        mysql_stmt_free_result(st);
        return ER_WRONG_ARGUMENTS;
    }
    memset(b, 0, sizeof b);
    for (i = 0; i < ncols; i++) {
        b[i].buffer_type = MYSQL_TYPE_STRING;
        b[i].buffer = bufs[i];
        b[i].buffer_length = DB_COL_BUF - 1;
        b[i].length = &lens[i];
        b[i].is_null = &nulls[i];
        b[i].error = &errs[i];
        big[i] = NULL;
    }
    if (ncols > 0 && mysql_stmt_bind_result(st, b) != 0) {
        err = (int)mysql_stmt_errno(st);
        mysql_stmt_free_result(st);
        return err;
    }
    while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
        if (stop)
            continue;
        for (i = 0; i < ncols; i++) {
            vals[i] = NULL;
            if (nulls[i])
                continue;
            if (lens[i] >= DB_COL_BUF - 1 && rc == MYSQL_DATA_TRUNCATED) {
                MYSQL_BIND one;

                /* a long value (answers JSON, notes): fetch it whole into its own buffer */
                if ((big[i] = malloc(lens[i] + 1)) == NULL)
                    continue;
                memset(&one, 0, sizeof one);
                one.buffer_type = MYSQL_TYPE_STRING;
                one.buffer = big[i];
                one.buffer_length = lens[i];
                if (mysql_stmt_fetch_column(st, &one, i, 0) == 0) {
                    big[i][lens[i]] = '\0';
                    vals[i] = big[i];
                }
                continue;
            }
            bufs[i][lens[i]] = '\0';
            vals[i] = bufs[i];
        }
        if (fn != NULL && fn(arg, vals, lens, ncols) != 0)
            stop = 1;
        for (i = 0; i < ncols; i++) {
            free(big[i]);
            big[i] = NULL;
        }
    }
    /* A link lost in the middle of the rows makes mysql_stmt_fetch() return 1 without setting
     * the statement's error (Connector/C keeps it on the connection only): read as 0, a dead
     * server ended a CSV export like a complete file, short of its last rows. */
    err = 0;
    if (rc != MYSQL_NO_DATA && (err = (int)mysql_stmt_errno(st)) == 0 &&
        (err = (int)mysql_errno(c->mysql)) == 0)
        err = CR_SERVER_LOST;
    mysql_stmt_free_result(st);
    if (err != 0)
        metrics_add(METRIC_DB_ERRORS, 1);
    return err;
}

#ifdef KABAR_FAULTS
/* Armed by db_start before any worker exists; the workers only count passes, atomically. */
static struct {
    struct fault_spec spec[FAULT_MAX];
    atomic_ullong passes[FAULT_MAX];
    size_t n;
} db_faults;

static int
db_fault_arm(void)
{
    const char *s = getenv("KABAR_FAULTS");
    char err[128];
    size_t i;
    int n;

    db_faults.n = 0;
    if (s == NULL)
        return 0;
    if ((n = fault_parse(s, strlen(s), db_faults.spec, FAULT_MAX, err, sizeof err)) == -1) {
        log_error("faults_refused", "reason=\"KABAR_FAULTS: %s\"", err);
        return -1;
    }
    db_faults.n = (size_t)n;
    for (i = 0; i < db_faults.n; i++) {
        atomic_store(&db_faults.passes[i], 0);
        log_notice("fault_armed", "point=%s:%s times=%llu skip=%llu",
                   fault_kind_name(db_faults.spec[i].kind), db_faults.spec[i].name,
                   (unsigned long long)db_faults.spec[i].times,
                   (unsigned long long)db_faults.spec[i].skip);
    }
    return 0;
}

/* Counts one pass of KIND:NAME; 1 when this pass is one the fault fires on. */
static int
db_fault_fires(enum fault_kind kind, const char *name)
{
    size_t i;

    for (i = 0; i < db_faults.n; i++) {
        const struct fault_spec *f = &db_faults.spec[i];
        unsigned long long pass;

        if (f->kind != kind || strcmp(f->name, name) != 0)
            continue;
        pass = atomic_fetch_add(&db_faults.passes[i], 1);
        if (pass < f->skip || pass - f->skip >= f->times)
            return 0;
        log_warn("fault_fired", "point=%s:%s n=%llu", fault_kind_name(kind), name,
                 pass - f->skip + 1);
        return 1;
    }
    return 0;
}

/* As a broken link does: the next request still reaches the server, its answer never comes
 * back (2013), and the server drops the session (rolling back its transaction) once we close. */
static void
db_fault_cut(struct db_conn *c)
{
    shutdown(mysql_get_socket(c->mysql), SHUT_RD);
}

/* The cut waits for the next statement, after its PREPARE: that statement then runs on the
 * server and only its answer is lost, the case a re-run must survive. */
void
db_fault(struct db_conn *c, const char *point)
{
    if (c->mysql != NULL && db_fault_fires(FAULT_LINK, point))
        c->cut_next = 1;
    if (c->mysql != NULL && db_fault_fires(FAULT_SLOW, point))
        c->slow_next = 1;
}

/* slow:POINT: a statement that runs until the server stops it, in the next one's place; its
 * error (1969 at max_statement_time) is the statement's */
static int
db_fault_slow(struct db_conn *c)
{
    int err;

    if (!c->slow_next)
        return 0;
    c->slow_next = 0;
    /* the server's error may come with the query's answer or after its columns, in the rows */
    if (mysql_query(c->mysql, "SELECT SLEEP(3600)") == 0)
        mysql_free_result(mysql_store_result(c->mysql));
    if ((err = (int)mysql_errno(c->mysql)) == 0)
        return 0;
    metrics_add(METRIC_DB_ERRORS, 1);
    log_error("db_statement_failed", "errno=%d error=\"%s\"", err, mysql_error(c->mysql));
    return err;
}

static void
db_fault_before_execute(struct db_conn *c)
{
    if (c->cut_next) {
        c->cut_next = 0;
        db_fault_cut(c);
    }
}

void
db_txn_name(struct db_conn *c, const char *name)
{
    c->txn_name = name;
    if (name == NULL)
        c->cut_next = c->slow_next =
            0; /* a new run: a fault no statement took does not carry over */
}

/* After a COMMIT that succeeded: 0, or 2013 with the link cut when commit_lost:NAME fires. */
static int
db_fault_commit_lost(struct db_conn *c)
{
    if (c->txn_name == NULL || c->mysql == NULL || !db_fault_fires(FAULT_COMMIT_LOST, c->txn_name))
        return 0;
    db_fault_cut(c);
    return CR_SERVER_LOST;
}
#endif

static int
db_row_ignored(void *arg, char **vals, unsigned long *lens, unsigned ncols)
{
    (void)arg;
    (void)vals;
    (void)lens;
    (void)ncols;
    return 0;
}

/* wsrep_sync_wait = 1 for one read: under Galera it waits until this node has applied every
 * write set the cluster committed before it, so the job's reads that follow see them too (a
 * no-op without wsrep). Outside a transaction only: inside one, MariaDB does not wait. A server
 * built without wsrep does not know the variable (1193, logged once): none is asked again. */
static int
db_causal_read(struct db_conn *c)
{
    int err;

    if (atomic_load(&db.no_wsrep))
        return 0;
    err = db_query(c, "SET STATEMENT wsrep_sync_wait = 1 FOR SELECT 1", NULL, 0, db_row_ignored,
                   NULL);
    if (err == ER_UNKNOWN_SYSTEM_VARIABLE) {
        atomic_store(&db.no_wsrep, 1);
        return 0;
    }
    return err;
}

static int
db_run(struct db_conn *c, struct db_job *j)
{
    int attempt, err = 0;

    for (attempt = 0; attempt < DB_ATTEMPTS; attempt++) {
        /* another worker found our server gone: follow the pool to the one it moved to */
        if (c->mysql != NULL && c->host != atomic_load(&db.host))
            db_conn_close(c);
        if (db_conn_open(c) == -1) {
            atomic_store(&db.up, 0);
            return DB_EUNAVAILABLE;
        }
        db_txn_name(c, NULL); /* each run of the work names itself again */
        /* DB_CAUSAL, and any re-run (the first run's outcome unknown: a lost link, a lost
         * COMMIT): the work finds what the cluster committed before, its own first run included,
         * even on another Galera node. Before the transaction opens: inside one, MariaDB skips
         * the wait. A failure of it is handled below as the run's. */
        err = attempt > 0 || (j->flags & DB_CAUSAL) ? db_causal_read(c) : 0;
        if (err == 0 && (j->flags & DB_TXN)) {
            /* one round trip to open it; the work's statements and the commit follow */
            if ((j->flags & DB_READ_COMMITTED) &&
                mysql_real_query(c->mysql, "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", 46) !=
                    0)
                err = (int)mysql_errno(c->mysql);
            else if (mysql_real_query(c->mysql, "START TRANSACTION", 17) != 0)
                err = (int)mysql_errno(c->mysql);
            else if ((err = j->work(c, j->arg)) == 0 && mysql_commit(c->mysql) != 0)
                err = (int)mysql_errno(c->mysql);
#ifdef KABAR_FAULTS
            else if (err == 0)
                err = db_fault_commit_lost(c);
#endif
            if (err != 0 && c->mysql != NULL)
                mysql_rollback(c->mysql);
        } else if (err == 0) {
            err = j->work(c, j->arg);
        }
        if (err == 0) {
            if (atomic_exchange(&db.up, 1) == 0)
                log_info("db_up", "host=%u", c->host + 1);
            return 0;
        }
        if (!db_is_retryable(err))
            return err;
        /* the outcome of a lost commit is unknown: the work is idempotent, so run it again */
        metrics_add(METRIC_DB_RETRIES, 1);
        if (db_is_link_error(err) || (c->mysql != NULL && mysql_ping(c->mysql) != 0)) {
            /* a node that is gone or left the primary component (1047): the next one */
            db_host_failed(c->host);
            db_conn_close(c);
        } else {
            struct timespec ts = {0, (long)(5 + rand() % 20) * 1000000L << attempt};

            nanosleep(&ts, NULL);
        }
    }
    return err;
}

static void *
db_worker(void *arg)
{
    struct db_conn *c = arg;
    struct db_queue *q = c->background ? &db.bgtodo : &db.todo;
    pthread_cond_t *cond = c->background ? &db.bgcond : &db.cond;
    size_t *busy = c->background ? &db.bgbusy : &db.busy;
    struct db_job *j;
    char one = 1;
    int wake;

    mysql_thread_init();
    pthread_mutex_lock(&db.lock);
    for (;;) {
        while (q->head == NULL && !db.stopping)
            pthread_cond_wait(cond, &db.lock);
        if ((j = db_queue_pop(q)) == NULL)
            break;
        (*busy)++;
        pthread_mutex_unlock(&db.lock);
        j->err = db_run(c, j);
        pthread_mutex_lock(&db.lock);
        (*busy)--;
        wake = db.done.head == NULL;
        db_queue_push(&db.done, j);
        if (wake && write(db.pipe[1], &one, 1) < 0 && errno != EAGAIN)
            log_error("db_wakeup_failed", "errno=%d", errno);
    }
    pthread_mutex_unlock(&db.lock);
    db_conn_close(c);
    mysql_thread_end();
    return NULL;
}

#define DB_BATCH_PENDING_MAX 8192

static void db_batch_flush_all(int force);
static size_t db_pool_queued(void);

static int
db_batch_work(struct db_conn *c, void *arg)
{
    struct db_batch_job *bj = arg;

    return bj->b->work(c, bj->items, bj->n);
}

static int db_batch_submit_items(struct db_batcher *b, void **items, size_t n);

static void
db_batch_done(int err, void *arg)
{
    struct db_batch_job *bj = arg;
    size_t i;

    if (err != 0 && err != DB_EUNAVAILABLE && !db_is_retryable(err) && bj->n > 1) {
        /* one item may be at fault: give each its own job and its own answer */
        for (i = 0; i < bj->n; i++)
            if (db_batch_submit_items(bj->b, &bj->items[i], 1) == -1)
                bj->b->done(err, bj->items[i]);
    } else {
        for (i = 0; i < bj->n; i++)
            bj->b->done(err, bj->items[i]);
    }
    free(bj->items);
    free(bj);
}

static int
db_batch_submit_items(struct db_batcher *b, void **items, size_t n)
{
    struct db_batch_job *bj = calloc(1, sizeof *bj);

    if (bj == NULL || (bj->items = malloc(n * sizeof *items)) == NULL) {
        free(bj);
        return -1;
    }
    memcpy(bj->items, items, n * sizeof *items);
    bj->b = b;
    bj->n = n;
    metrics_add(METRIC_DB_BATCHES, 1);
    metrics_add(METRIC_DB_BATCH_ITEMS, n);
    if (db_submit(db_batch_work, db_batch_done, bj, b->flags | DB_FORCE) == -1) {
        free(bj->items);
        free(bj);
        return -1;
    }
    return 0;
}

/* Hands waiting items to free workers; with force, to the queue whatever the workers do. */
static void
db_batch_flush(struct db_batcher *b, int force)
{
    size_t n;

    while (b->npending > 0 && (force || db_pool_queued() < db.cfg.pool_size)) {
        n = b->npending < b->max ? b->npending : b->max;
        if (db_batch_submit_items(b, b->pending, n) == -1) {
            size_t i;

            for (i = 0; i < n; i++)
                b->done(DB_EUNAVAILABLE, b->pending[i]);
        }
        memmove(b->pending, b->pending + n, (b->npending - n) * sizeof *b->pending);
        b->npending -= n;
    }
}

static void
db_batch_flush_all(int force)
{
    struct db_batcher *b;

    for (b = db.batchers; b != NULL; b = b->next)
        db_batch_flush(b, force);
}

void
db_batcher_init(struct db_batcher *b, db_batch_fn work, db_done_fn done, size_t max, int flags)
{
    memset(b, 0, sizeof *b);
    b->work = work;
    b->done = done;
    b->max = max > 0 ? max : 1;
    b->flags = flags;
    b->next = db.batchers;
    db.batchers = b;
}

int
db_submit_batch(struct db_batcher *b, void *item)
{
    if (!atomic_load(&db.up) || db.stopping || b->npending >= DB_BATCH_PENDING_MAX) {
        metrics_add(METRIC_DB_REJECTED, 1);
        return -1;
    }
    if (b->npending == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 64;
        void **np = realloc(b->pending, ncap * sizeof *np);

        if (np == NULL)
            return -1;
        b->pending = np;
        b->cap = ncap;
    }
    b->pending[b->npending++] = item;
    /* Not at once: the hops of one turn of the loop (one epoll wakeup) would each take a free
     * worker alone, one statement and one commit each. The flush runs at the end of the turn,
     * before the loop polls again, so nothing waits longer than the turn it came in. */
    if (db.flush_ev != NULL)
        event_active(db.flush_ev, EV_TIMEOUT, 1);
    else
        db_batch_flush(b, 0);
    return 0;
}

size_t
db_batch_size(size_t n, size_t *rows)
{
    size_t k = 0;

    for (*rows = 1; *rows < n; *rows *= 2)
        k++;
    return k;
}

static void
db_dispatch(void)
{
    struct db_job *j, *list;

    pthread_mutex_lock(&db.lock);
    list = db.done.head;
    db.done.head = db.done.tail = NULL;
    db.done.len = 0;
    pthread_mutex_unlock(&db.lock);
    while ((j = list) != NULL) {
        list = j->next;
        if (j->done != NULL)
            j->done(j->err, j->arg);
        free(j);
    }
    db_batch_flush_all(0);
}

static void
db_flush_turn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    db_batch_flush_all(0);
}

static void
db_wakeup(evutil_socket_t fd, short what, void *arg)
{
    char buf[64];

    (void)what;
    (void)arg;
    while (read(fd, buf, sizeof buf) > 0)
        ;
    db_dispatch();
}

int
db_start(struct event_base *base, const struct config_db *cfg)
{
    size_t i;

    struct db_batcher *batchers = db.batchers;

    /* batchers may register before the pool starts */
    memset(&db, 0, sizeof db);
    db.batchers = batchers;
    db.cfg = *cfg;
    if (db.cfg.nhosts == 0) {
        /* a configuration not from config_load(): its one socket or host */
        memcpy(db.cfg.hosts[0].socket, cfg->socket, sizeof cfg->socket);
        memcpy(db.cfg.hosts[0].host, cfg->host, sizeof cfg->host);
        db.cfg.hosts[0].port = cfg->port;
        db.cfg.nhosts = 1;
    }
#ifdef KABAR_FAULTS
    if (db_fault_arm() == -1)
        return -1;
#endif
    pthread_mutex_init(&db.lock, NULL);
    pthread_cond_init(&db.cond, NULL);
    pthread_cond_init(&db.bgcond, NULL);
    if (pipe(db.pipe) == -1)
        return -1;
    fcntl(db.pipe[0], F_SETFL, O_NONBLOCK);
    fcntl(db.pipe[1], F_SETFL, O_NONBLOCK);
    fcntl(db.pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(db.pipe[1], F_SETFD, FD_CLOEXEC);
    if ((db.ev = event_new(base, db.pipe[0], EV_READ | EV_PERSIST, db_wakeup, NULL)) == NULL ||
        event_add(db.ev, NULL) == -1 ||
        (db.flush_ev = event_new(base, -1, 0, db_flush_turn, NULL)) == NULL)
        return -1;
    /* pool_size workers for the callbacks, one more with its own connection for the duties */
    db.nthreads = cfg->pool_size + 1;
    db.threads = calloc(db.nthreads, sizeof *db.threads);
    db.conns = calloc(db.nthreads, sizeof *db.conns);
    if (db.threads == NULL || db.conns == NULL)
        return -1;
    db.conns[db.nthreads - 1].background = 1;
    /* optimistic until the first job says otherwise, so start-up is not refused */
    atomic_store(&db.up, 1);
    for (i = 0; i < db.nthreads; i++)
        if (pthread_create(&db.threads[i], NULL, db_worker, &db.conns[i]) != 0)
            return -1;
    return 0;
}

int
db_submit(db_work_fn work, db_done_fn done, void *arg, int flags)
{
    struct db_job *j;
    struct db_queue *q = (flags & DB_BACKGROUND) ? &db.bgtodo : &db.todo;

    if (!(flags & DB_FORCE) && !atomic_load(&db.up)) {
        metrics_add(METRIC_DB_REJECTED, 1);
        return -1;
    }
    if ((j = calloc(1, sizeof *j)) == NULL)
        return -1;
    j->work = work;
    j->done = done;
    j->arg = arg;
    j->flags = flags;
    pthread_mutex_lock(&db.lock);
    if (db.stopping || q->len >= DB_QUEUE_MAX) {
        pthread_mutex_unlock(&db.lock);
        free(j);
        metrics_add(METRIC_DB_REJECTED, 1);
        return -1;
    }
    db_queue_push(q, j);
    pthread_cond_signal(q == &db.bgtodo ? &db.bgcond : &db.cond);
    pthread_mutex_unlock(&db.lock);
    return 0;
}

int
db_is_up(void)
{
    return atomic_load(&db.up);
}

size_t
db_queued(void)
{
    size_t n;

    pthread_mutex_lock(&db.lock);
    n = db.todo.len + db.busy + db.bgtodo.len + db.bgbusy;
    pthread_mutex_unlock(&db.lock);
    return n;
}

/* The jobs queued for or running on the callbacks' workers (the batchers' measure). */
static size_t
db_pool_queued(void)
{
    size_t n;

    pthread_mutex_lock(&db.lock);
    n = db.todo.len + db.busy;
    pthread_mutex_unlock(&db.lock);
    return n;
}

void
db_stop(void)
{
    size_t i;

    if (db.threads == NULL)
        return;
    /* what waits for a free worker still goes; then nothing new is taken */
    db_batch_flush_all(1);
    pthread_mutex_lock(&db.lock);
    db.stopping = 1;
    pthread_cond_broadcast(&db.cond);
    pthread_cond_broadcast(&db.bgcond);
    pthread_mutex_unlock(&db.lock);
    for (i = 0; i < db.nthreads; i++)
        pthread_join(db.threads[i], NULL);
    db_dispatch();
    event_free(db.ev);
    event_free(db.flush_ev);
    db.flush_ev = NULL;
    close(db.pipe[0]);
    close(db.pipe[1]);
    free(db.threads);
    free(db.conns);
    db.threads = NULL;
    for (struct db_batcher *b = db.batchers; b != NULL; b = b->next) {
        free(b->pending);
        b->pending = NULL;
        b->npending = b->cap = 0;
    }
    db.batchers = NULL;
    pthread_mutex_destroy(&db.lock);
    pthread_cond_destroy(&db.cond);
    pthread_cond_destroy(&db.bgcond);
}
