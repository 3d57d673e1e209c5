/*
 * MariaDB without blocking the event loop: a small pool of worker threads (database.pool_size,
 * plus one for DB_BACKGROUND jobs), each owning one connection, runs jobs and hands the results
 * back to the loop through a pipe. Work functions
 * run on a worker and may only use the db_* statement helpers below; done callbacks run on the
 * loop. Only prepared statements reach the server.
 */
#ifndef KABAR_DB_H
#define KABAR_DB_H

#include <stddef.h>
#include <stdint.h>

#include "kerr.h"

struct event_base;
struct config_db;
struct db_conn;

enum db_param_type { DBP_NULL, DBP_STR, DBP_U64, DBP_I64 };

struct db_param {
    enum db_param_type type;
    const char *s;
    size_t len;
    uint64_t u;
    int64_t i;
};

#define DB_NULL() ((struct db_param){DBP_NULL, NULL, 0, 0, 0})
#define DB_STR(x) ((struct db_param){DBP_STR, (x), strlen(x), 0, 0})
#define DB_STRN(x, n) ((struct db_param){DBP_STR, (x), (n), 0, 0})
#define DB_U64(x) ((struct db_param){DBP_U64, NULL, 0, (uint64_t)(x), 0})
#define DB_I64(x) ((struct db_param){DBP_I64, NULL, 0, 0, (int64_t)(x)})

/* The job could not reach the database (down, or the queue is full): gateway/kerr.h. */
#define DB_EUNAVAILABLE KERR_UNAVAILABLE
/* MariaDB's 1047 (ER_UNKNOWN_COM_ERROR), what a Galera node outside the primary component or
 * not yet synced answers: retried on the next of database.hosts, as a lost link is. */
#define DB_ENOT_READY 1047

enum db_flags {
    DB_TXN = 1,   /* run the work inside one transaction, re-run on deadlock or lost link */
    DB_FORCE = 2, /* submit even while the database is marked down (health checks) */
    DB_READ_COMMITTED = 4, /* with DB_TXN: no gap locks from INSERT ... SELECT scans */
    /* a duty that may take seconds (alerts tick, summary step, sweeps, export pages): it runs
     * on the one background worker, with its own connection and queue, in submit order, so
     * the workers that answer callbacks never wait behind it */
    DB_BACKGROUND = 8,
    /* a job that must see what another Galera node just committed (a review made through
     * another kabard, a Hubtel session's place): each run first waits until its node has
     * applied what the cluster committed (wsrep_sync_wait). db_run does it before it opens a
     * DB_TXN's transaction, because inside one MariaDB skips the wait; re-runs always wait. */
    DB_CAUSAL = 16,
};

/* Returns 0 to go on with the next row, anything else to skip the rest. vals[i] is NULL for SQL
 * NULL. */
typedef int (*db_row_fn)(void *arg, char **vals, unsigned long *lens, unsigned ncols);
/* Returns 0, or a MariaDB error number (as db_exec/db_query return them). */
typedef int (*db_work_fn)(struct db_conn *, void *arg);
/* err: 0, DB_EUNAVAILABLE, or the MariaDB error number the work ended with. */
typedef void (*db_done_fn)(int err, void *arg);

int db_start(struct event_base *base, const struct config_db *cfg);
/* Queues work; returns -1 (and done is never called) when the job is refused. */
int db_submit(db_work_fn work, db_done_fn done, void *arg, int flags);
int db_is_up(void);
size_t db_queued(void);
/* Waits for queued work to finish, runs the remaining done callbacks, closes the pool. */
void db_stop(void);

/*
 * Batching, for the hot paths: while every worker is busy, items of one kind wait on the loop;
 * the next free worker takes all of them (up to max) as one job, so N reports cost one
 * statement, one transaction and one fsync. With a worker free, an item goes at once, alone.
 * A batch that fails for a reason other than the database being away is split and its items
 * re-run one by one, so one bad item cannot sink the others.
 */
typedef int (*db_batch_fn)(struct db_conn *, void **items, size_t n);

struct db_batcher {
    db_batch_fn work;
    db_done_fn done; /* once per item, on the loop */
    size_t max;
    int flags;
    void **pending; /* loop thread only */
    size_t npending, cap;
    struct db_batcher *next;
};

void db_batcher_init(struct db_batcher *b, db_batch_fn work, db_done_fn done, size_t max,
                     int flags);
/* Returns -1 (and done is never called) when the database is down or too much is waiting. */
int db_submit_batch(struct db_batcher *b, void *item);

/*
 * A batch's statement comes in DB_BATCH_SIZES sizes, 1, 2, 4 ... DB_BATCH_MAX rows, so a few
 * prepared statements serve every batch: a batch is padded to its size by repeating its last
 * item, which IN lists and ON DUPLICATE KEY take as a no-op. DB_BATCH_SQL(head, item, tail) is
 * the initializer of the DB_BATCH_SIZES statements, head + the items joined by ", " + tail;
 * db_batch_size() is the index of the statement for n items, with its number of rows.
 */
#define DB_BATCH_MAX 32
#define DB_BATCH_SIZES 6
#define DB_BATCH_2(x) x ", " x
#define DB_BATCH_SQL(head, item, tail)                                                             \
    {                                                                                              \
        head item tail, head DB_BATCH_2(item) tail, head DB_BATCH_2(DB_BATCH_2(item)) tail,        \
            head DB_BATCH_2(DB_BATCH_2(DB_BATCH_2(item))) tail,                                    \
            head DB_BATCH_2(DB_BATCH_2(DB_BATCH_2(DB_BATCH_2(item)))) tail,                        \
            head DB_BATCH_2(DB_BATCH_2(DB_BATCH_2(DB_BATCH_2(DB_BATCH_2(item))))) tail             \
    }
size_t db_batch_size(size_t n, size_t *rows);

int db_exec(struct db_conn *c, const char *sql, const struct db_param *p, size_t np,
            uint64_t *affected, uint64_t *insert_id);
int db_query(struct db_conn *c, const char *sql, const struct db_param *p, size_t np, db_row_fn fn,
             void *arg);
int db_is_retryable(int err);
/* 1 when err says the server stopped a statement at db.query_timeout (max_statement_time) */
int db_is_timeout(int err);

/*
 * Fault injection, for the tests: compiled only by ./configure --enable-faults (which defines
 * KABAR_FAULTS); in any other build both calls are empty macros and no fault code exists.
 * KABAR_FAULTS in kabard's environment arms faults when the pool starts (a malformed value stops
 * the start), as comma-separated KIND:NAME=TIMES[@SKIP] entries: the fault fires on TIMES
 * passes, after letting SKIP passes (default 0) go by. For example
 *     KABAR_FAULTS="link:outbox_claim_readback=1,commit_lost:outbox_claim=2@1"
 *   link:POINT       db_fault(c, "POINT") cuts the worker's connection for real (shutdown() of
 *                    its socket): the next statement reaches the server, its answer is lost
 *                    (a genuine 2013), and db_run handles it as any lost link: it closes the
 *                    connection, opens another and runs the work again (a DB_TXN job after
 *                    its rollback, which the server also does when the session goes).
 *   commit_lost:TXN  a DB_TXN job that named itself TXN with db_txn_name() commits for real,
 *                    then its link is cut and db_run sees 2013, as if the COMMIT's answer had
 *                    been lost: the work is re-run after a commit that happened, which every
 *                    DB_TXN job must survive.
 *   slow:POINT       db_fault(c, "POINT") makes the next statement one that never ends on the
 *                    server (SELECT SLEEP(3600) runs in its place), so that db.query_timeout
 *                    (the session's max_statement_time) stops it with error 1969.
 * Each firing logs "fault_fired point=KIND:NAME n=N" (N counts that entry's firings).
 */
#ifdef KABAR_FAULTS
void db_fault(struct db_conn *c, const char *point);
/* The kind of the DB_TXN job running on c (a static string), for commit_lost; the work calls it
 * first. It holds for one run of the work. */
void db_txn_name(struct db_conn *c, const char *name);
#else
#define db_fault(c, point) ((void)(c))
#define db_txn_name(c, name) ((void)(c))
#endif

#endif
