/* kabard: the Kabar SMS/USSD gateway daemon. */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mysql.h>
#include <sodium.h>
#include <unistd.h>

#include "alerts.h"
#include "summary.h"
#include "config.h"
#include "db.h"
#include "dialog.h"
#include "http.h"
#include "lease.h"
#include "log.h"
#include "metrics.h"
#include "../handlers/admin.h"
#include "../handlers/handlers.h"
#include "auth.h"
#include "migrate.h"
#include "users.h"
#include "import.h"
#include "outbox.h"
#include "ussd.h"

/* What each listener serves: the aggregators' callbacks and the operations endpoints on the
 * listen address, the staff's pages and API on the admin listener. */
static const struct http_handler *const kabard_peer_handlers[] = {
    &handler_ops, &handler_africastalking, &handler_hubtel, &handler_kannel, NULL,
};
static const struct http_handler *const kabard_admin_handlers[] = {
    &handler_admin, /* the pages */
    &handler_api,   /* the JSON API, /api/v1 */
    NULL,
};

static struct {
    struct event_base *base;
    struct config *cfg;
    const char *path;
    struct event *ping;
    struct event *stop_timer;
    struct event *drain;
    int stopping;
} kabard;

static void
kabard_usage(void)
{
    fprintf(stderr, "usage: kabard [-t | -m] -c FILE\n"
                    "       kabard -c FILE user add NAME --role admin|supervisor [--region CODE]\n"
                    "       kabard -c FILE user token NAME [--label TEXT]\n"
                    "       kabard -c FILE import kpm|assistants|kube|trainings|enrolments "
                    "FILE.csv [--dry-run] [--by NAME]\n"
                    "  -c, --config FILE  configuration file\n"
                    "  -t, --check        check the configuration and dialogs, then exit\n"
                    "  -m, --migrate      apply the database migrations, then exit\n"
                    "  -V, --version      print the version\n");
}

static void
kabard_check_report(void *arg, int is_error, const char *msg)
{
    int *errors = arg;

    if (is_error) {
        fprintf(stderr, "%s\n", msg);
        (*errors)++;
    } else {
        fprintf(stderr, "warning: %s\n", msg);
    }
}

static int
kabard_check(const char *path)
{
    char err[1024];
    struct config *cfg;
    int errors = 0;

    if ((cfg = config_load(path, err, sizeof err)) == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    dialog_set_check(cfg->dialogs, cfg->ussd.screen_limit, kabard_check_report, &errors);
    config_unref(cfg);
    if (errors > 0)
        return 2;
    fprintf(stderr, "%s: configuration ok\n", path);
    return 0;
}

static void
kabard_apply(struct config *cfg)
{
    log_set_level(cfg->log_level);
    log_set_personal(cfg->log_personal);
}

static void
kabard_reload(void)
{
    struct config *cfg, *old = kabard.cfg;
    char err[1024];

    if ((cfg = config_load(kabard.path, err, sizeof err)) == NULL) {
        char q[1100];

        log_error("config_reload_refused", "file=%s error=%s", kabard.path,
                  log_quote(err, strlen(err), q, sizeof q));
        return;
    }
    if (memcmp(&old->db, &cfg->db, sizeof cfg->db) != 0)
        log_warn("config_restart_needed",
                 "setting=database reason=\"database settings take effect on restart\"");
    kabard_apply(cfg);
    http_reconfigure(cfg);
    ussd_reconfigure(cfg);
    outbox_reconfigure(cfg);
    alerts_reconfigure(cfg);
    kabard.cfg = cfg;
    config_unref(old);
    log_notice("config_reloaded", "file=%s channels=%zu dialogs_version=%u", kabard.path,
               cfg->nchannels, dialog_set_version(cfg->dialogs));
}

static void
kabard_stop_now(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    log_warn("shutdown_timeout", "inflight=%zu outbox_idle=%d", http_inflight(), outbox_idle());
    event_base_loopexit(kabard.base, NULL);
}

/* During a stop: exit once every reply is written and no SMS is in flight. */
static void
kabard_drain(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (http_busy() == 0 && outbox_idle())
        event_base_loopexit(kabard.base, NULL);
}

static void
kabard_signal(evutil_socket_t sig, short what, void *arg)
{
    struct timeval tv, tick = {0, 20000};

    (void)what;
    (void)arg;
    if (sig == SIGHUP) {
        kabard_reload();
        return;
    }
    if (kabard.stopping)
        return;
    kabard.stopping = 1;
    log_notice("shutdown", "signal=%d inflight=%zu", (int)sig, http_inflight());
    ussd_stop();
    outbox_stop();
    alerts_stop();
    summary_stop();
    http_stop_accepting();
    tv.tv_sec = kabard.cfg->http.shutdown_timeout;
    tv.tv_usec = 0;
    kabard.stop_timer = evtimer_new(kabard.base, kabard_stop_now, NULL);
    evtimer_add(kabard.stop_timer, &tv);
    kabard.drain = event_new(kabard.base, -1, EV_PERSIST, kabard_drain, NULL);
    event_add(kabard.drain, &tick);
    kabard_drain(-1, 0, NULL);
}

static int
kabard_ping(struct db_conn *c, void *arg)
{
    (void)arg;
    return db_query(c, "SELECT 1", NULL, 0, NULL, NULL);
}

/* keeps the up/down flag honest and re-opens the pool after an outage without any traffic */
static void
kabard_ping_tick(evutil_socket_t fd, short what, void *arg)
{
    static unsigned ticks;

    (void)fd;
    (void)what;
    (void)arg;
    if (db_queued() == 0)
        db_submit(kabard_ping, NULL, NULL, DB_FORCE);
    /* every five minutes: admin logins nobody came back to (they hold a queue filter) */
    if (++ticks % (AUTH_SWEEP_MS / 1000) == 0)
        auth_sweep(kabard.cfg);
}

static double
kabard_gauge_db_up(void)
{
    return db_is_up();
}

static double
kabard_gauge_db_queued(void)
{
    return (double)db_queued();
}

static double
kabard_gauge_inflight(void)
{
    return (double)http_inflight();
}

/* epoll with a changelist: evhttp turns a connection's read and write interest off and on
 * around every request; the changelist folds those into one epoll_ctl per fd per loop turn
 * (measured: four epoll_ctl calls per USSD hop without it). kabard never dup()s a socket,
 * the one case the changelist gets wrong. */
static struct event_base *
kabard_base_new(void)
{
    struct event_config *ec = event_config_new();
    struct event_base *base;

    if (ec == NULL)
        return NULL;
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

static int
kabard_run(const char *path)
{
    struct event *sigs[3];
    const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    struct timeval one = {1, 0};
    char err[1024];
    int i;

    kabard.path = path;
    if ((kabard.cfg = config_load(path, err, sizeof err)) == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    kabard_apply(kabard.cfg);
    signal(SIGPIPE, SIG_IGN);
    if (auth_init() == -1) {
        log_error("startup_failed", "reason=\"auth_init\"");
        return 1;
    }
    if ((kabard.base = kabard_base_new()) == NULL) {
        log_error("startup_failed", "reason=\"event_base_new\"");
        return 1;
    }
    if (log_buffer_start(kabard.base) == -1) {
        log_error("startup_failed", "reason=\"log buffer\"");
        return 1;
    }
    for (i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(kabard.base, signums[i], kabard_signal, NULL);
        evsignal_add(sigs[i], NULL);
    }
    if (http_start(kabard.base, kabard.cfg, kabard_peer_handlers, kabard_admin_handlers) == -1) {
        fprintf(stderr, "kabard: cannot listen on %s:%u: %s\n", kabard.cfg->listen_address,
                kabard.cfg->listen_port, strerror(errno));
        return 1;
    }
    lease_init(kabard.cfg->instance, (int)kabard.cfg->listen_port);
    if (db_start(kabard.base, &kabard.cfg->db) == -1) {
        log_error("startup_failed", "reason=\"database pool\"");
        return 1;
    }
    if (ussd_start(kabard.base, kabard.cfg) == -1) {
        log_error("startup_failed", "reason=\"ussd sessions\"");
        return 1;
    }
    if (outbox_start(kabard.base, kabard.cfg) == -1) {
        log_error("startup_failed", "reason=\"outbox\"");
        return 1;
    }
    if (alerts_start(kabard.base, kabard.cfg) == -1) {
        log_error("startup_failed", "reason=\"alerts\"");
        return 1;
    }
    if (summary_start(kabard.base) == -1) {
        log_error("startup_failed", "reason=\"summary\"");
        return 1;
    }
    metrics_gauge_fn("kabar_db_up", "1 when the last database round trip succeeded.",
                     kabard_gauge_db_up);
    metrics_gauge_fn("kabar_db_queued_jobs", "Database jobs queued or running.",
                     kabard_gauge_db_queued);
    metrics_gauge_fn("kabar_http_inflight", "Requests being handled.", kabard_gauge_inflight);
    kabard.ping = event_new(kabard.base, -1, EV_PERSIST, kabard_ping_tick, NULL);
    event_add(kabard.ping, &one);
    db_submit(kabard_ping, NULL, NULL, DB_FORCE);
    log_notice("started",
               "version=%s address=%s port=%d admin_port=%d pid=%ld channels=%zu "
               "dialogs_version=%u",
               PACKAGE_VERSION, kabard.cfg->listen_address, http_bound_port(), http_admin_port(),
               (long)getpid(), kabard.cfg->nchannels, dialog_set_version(kabard.cfg->dialogs));
    event_base_dispatch(kabard.base);

    event_free(kabard.ping);
    if (kabard.stop_timer != NULL)
        event_free(kabard.stop_timer);
    if (kabard.drain != NULL)
        event_free(kabard.drain);
    ussd_flush();
    lease_release();
    db_stop();
    ussd_free();
    outbox_free();
    alerts_free();
    summary_free();
    http_free();
    for (i = 0; i < 3; i++)
        event_free(sigs[i]);
    config_unref(kabard.cfg);
    log_buffer_stop();
    event_base_free(kabard.base);
    log_notice("stopped", "pid=%ld", (long)getpid());
    return 0;
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"check", no_argument, NULL, 't'},
        {"migrate", no_argument, NULL, 'm'},      {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    int ch, check = 0, migrate = 0, user = 0, rc;

    /* "+": stop at the first word, so that `user add NAME --role ...` keeps its own options */
    while ((ch = getopt_long(argc, argv, "+c:tmVh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            path = optarg;
            break;
        case 't':
            check = 1;
            break;
        case 'm':
            migrate = 1;
            break;
        case 'V':
            printf("kabard %s\n", PACKAGE_VERSION);
            return 0;
        default:
            kabard_usage();
            return ch == 'h' ? 0 : 2;
        }
    }
    if (path != NULL && optind < argc && !check && !migrate &&
        (strcmp(argv[optind], "user") == 0 || strcmp(argv[optind], "import") == 0))
        user = strcmp(argv[optind], "user") == 0 ? 1 : 2;
    if (path == NULL || (optind != argc && !user) || (check && migrate)) {
        kabard_usage();
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "kabard: libsodium failed to initialise\n");
        return 1;
    }
    if (check)
        return kabard_check(path);
    if (mysql_library_init(0, NULL, NULL) != 0) {
        fprintf(stderr, "kabard: MariaDB client library failed to initialise\n");
        return 1;
    }
    if (migrate || user) {
        char err[1024];
        struct config *cfg = config_load(path, err, sizeof err);

        if (cfg == NULL) {
            fprintf(stderr, "%s\n", err);
            return 2;
        }
        if (migrate)
            rc = migrate_run(cfg) == 0 ? 0 : 1;
        else
            rc = user == 1 ? users_cli(cfg, argc - optind - 1, argv + optind + 1)
                           : import_cli(cfg, argc - optind - 1, argv + optind + 1);
        config_unref(cfg);
    } else {
        rc = kabard_run(path);
    }
    mysql_library_end();
    return rc;
}
