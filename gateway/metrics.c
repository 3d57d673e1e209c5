#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "metrics.h"

#define METRICS_ROUTES 48
#define METRICS_STATUSES 12
#define METRICS_GAUGES 16

static const double metrics_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define METRICS_BUCKETS (sizeof metrics_bounds / sizeof metrics_bounds[0])

struct metrics_route {
    const char *name;
    struct {
        int status;
        unsigned long long count;
    } statuses[METRICS_STATUSES];
    unsigned long long buckets[METRICS_BUCKETS];
    unsigned long long count;
    double sum;
};

static struct metrics_route metrics_routes[METRICS_ROUTES];
static atomic_ullong metrics_counters[METRIC_COUNTERS];
static struct {
    const char *name, *help;
    double (*fn)(void);
} metrics_gauges[METRICS_GAUGES];

#define HTTP_REFUSED_HELP "Requests refused before evhttp read them (gateway/http.c), by reason."

static const struct {
    const char *name, *help;
} metrics_counter_info[METRIC_COUNTERS] = {
    {"kabar_db_errors_total", "Database statements that failed."},
    {"kabar_db_reconnects_total", "Database connections opened again after a loss."},
    {"kabar_db_retries_total", "Transactions re-run after a deadlock, lock wait or lost link."},
    {"kabar_db_rejected_total", "Jobs refused because the database was down or the queue full."},
    {"kabar_reports_saved_total", "Reports committed to the database."},
    {"kabar_ussd_sessions_total", "USSD sessions started."},
    {"kabar_db_batches_total", "Batched jobs run (contexts loaded, reports saved together)."},
    {"kabar_db_batch_items_total", "Items carried by batched jobs."},
    {"kabar_outbox_sent_total", "SMS accepted by a provider."},
    {"kabar_outbox_retries_total", "SMS put back for a later try after a transient failure."},
    {"kabar_outbox_failed_total", "SMS failed for good (permanent error or too old)."},
    {"kabar_outbox_deferred_total", "SMS held back by the per-recipient limit."},
    {"kabar_outbox_alarms_total", "Provider account problems (Africa's Talking 405: balance)."},
    {"kabar_sms_in_total", "Inbound SMS stored (retried callbacks not counted)."},
    {"kabar_ussd_detail_loads_total",
     "USSD sessions that needed the caller's trainings or last report (a second load)."},
    {"kabar_health_probes_total",
     "Database round trips /healthz started (one at a time; requests meanwhile share it)."},
    {"kabar_ussd_sessions_evicted_total",
     "Idle USSD sessions of unknown numbers dropped to make room under the session bounds."},
    {"kabar_ussd_sessions_refused_total",
     "New USSD sessions refused with the busy screen at the session bounds."},
    {"kabar_http_refused_total", HTTP_REFUSED_HELP},
    {"kabar_http_refused_total", HTTP_REFUSED_HELP},
    {"kabar_http_refused_total", HTTP_REFUSED_HELP},
    {"kabar_http_refused_total", HTTP_REFUSED_HELP},
};

/* A counter's labels, if it has any: counters of one name are next to each other in the
 * table above, and share one HELP. */
static const char *const metrics_counter_labels[METRIC_COUNTERS] = {
    [METRIC_HTTP_REFUSED_NUL] = "reason=\"nul_in_header\"",
    [METRIC_HTTP_REFUSED_CONTENT_LENGTH] = "reason=\"content_length\"",
    [METRIC_HTTP_REFUSED_CHUNK_SIZE] = "reason=\"chunk_size\"",
    [METRIC_HTTP_REFUSED_DEADLINE] = "reason=\"deadline\"",
};

void
metrics_request(const char *route, int status, double seconds)
{
    struct metrics_route *r = NULL;
    size_t i;

    for (i = 0; i < METRICS_ROUTES; i++) {
        if (metrics_routes[i].name == NULL) {
            metrics_routes[i].name = route;
            r = &metrics_routes[i];
            break;
        }
        /* route names are static strings: pointer identity first, text as a fallback */
        if (metrics_routes[i].name == route || strcmp(metrics_routes[i].name, route) == 0) {
            r = &metrics_routes[i];
            break;
        }
    }
    if (r == NULL)
        r = &metrics_routes[METRICS_ROUTES - 1];
    for (i = 0; i < METRICS_STATUSES; i++) {
        if (r->statuses[i].status == status || r->statuses[i].status == 0) {
            r->statuses[i].status = status;
            r->statuses[i].count++;
            break;
        }
    }
    for (i = 0; i < METRICS_BUCKETS; i++)
        if (seconds <= metrics_bounds[i])
            r->buckets[i]++;
    r->count++;
    r->sum += seconds;
}

void
metrics_add(enum metrics_counter c, unsigned long long n)
{
    atomic_fetch_add(&metrics_counters[c], n);
}

void
metrics_gauge_fn(const char *name, const char *help, double (*fn)(void))
{
    size_t i;

    for (i = 0; i < METRICS_GAUGES; i++) {
        if (metrics_gauges[i].name == NULL || strcmp(metrics_gauges[i].name, name) == 0) {
            metrics_gauges[i].name = name;
            metrics_gauges[i].help = help;
            metrics_gauges[i].fn = fn;
            return;
        }
    }
}

void
metrics_render(struct evbuffer *out)
{
    size_t i, j;

    evbuffer_add_printf(out, "# HELP kabar_http_requests_total HTTP requests by route and "
                             "status.\n# TYPE kabar_http_requests_total counter\n");
    for (i = 0; i < METRICS_ROUTES && metrics_routes[i].name != NULL; i++)
        for (j = 0; j < METRICS_STATUSES && metrics_routes[i].statuses[j].status != 0; j++)
            evbuffer_add_printf(out, "kabar_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                                metrics_routes[i].name, metrics_routes[i].statuses[j].status,
                                metrics_routes[i].statuses[j].count);
    evbuffer_add_printf(out, "# HELP kabar_http_request_duration_seconds Time from request to "
                             "reply.\n# TYPE kabar_http_request_duration_seconds histogram\n");
    for (i = 0; i < METRICS_ROUTES && metrics_routes[i].name != NULL; i++) {
        const struct metrics_route *r = &metrics_routes[i];

        for (j = 0; j < METRICS_BUCKETS; j++)
            evbuffer_add_printf(out,
                                "kabar_http_request_duration_seconds_bucket{route=\"%s\","
                                "le=\"%g\"} %llu\n",
                                r->name, metrics_bounds[j], r->buckets[j]);
        evbuffer_add_printf(out,
                            "kabar_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                            "%llu\nkabar_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                            "kabar_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
                            r->name, r->count, r->name, r->sum, r->name, r->count);
    }
    for (i = 0; i < METRIC_COUNTERS; i++) {
        const char *name = metrics_counter_info[i].name, *labels = metrics_counter_labels[i];

        if (i == 0 || strcmp(name, metrics_counter_info[i - 1].name) != 0)
            evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name,
                                metrics_counter_info[i].help, name);
        evbuffer_add_printf(out, "%s%s%s%s %llu\n", name, labels != NULL ? "{" : "",
                            labels != NULL ? labels : "", labels != NULL ? "}" : "",
                            (unsigned long long)atomic_load(&metrics_counters[i]));
    }
    for (i = 0; i < METRICS_GAUGES && metrics_gauges[i].name != NULL; i++)
        evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %g\n", metrics_gauges[i].name,
                            metrics_gauges[i].help, metrics_gauges[i].name, metrics_gauges[i].name,
                            metrics_gauges[i].fn());
}
