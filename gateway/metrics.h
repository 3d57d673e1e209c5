/* Counters for /metrics in Prometheus text format. Request metrics are recorded on the loop
 * thread; the database counters may be bumped from the workers. */
#ifndef KABAR_METRICS_H
#define KABAR_METRICS_H

struct evbuffer;

enum metrics_counter {
    METRIC_DB_ERRORS,
    METRIC_DB_RECONNECTS,
    METRIC_DB_RETRIES,
    METRIC_DB_REJECTED,
    METRIC_REPORTS_SAVED,
    METRIC_USSD_SESSIONS,
    METRIC_DB_BATCHES,
    METRIC_DB_BATCH_ITEMS,
    METRIC_OUTBOX_SENT,
    METRIC_OUTBOX_RETRIES,
    METRIC_OUTBOX_FAILED,
    METRIC_OUTBOX_DEFERRED,
    METRIC_OUTBOX_ALARMS,
    METRIC_SMS_IN,
    METRIC_USSD_DETAIL_LOADS,
    METRIC_HEALTH_PROBES,
    METRIC_USSD_EVICTED,
    METRIC_USSD_REFUSED,
    /* kabar_http_refused_total, one per reason */
    METRIC_HTTP_REFUSED_NUL,
    METRIC_HTTP_REFUSED_CONTENT_LENGTH,
    METRIC_HTTP_REFUSED_CHUNK_SIZE,
    METRIC_HTTP_REFUSED_DEADLINE,
    METRIC_COUNTERS
};

void metrics_request(const char *route, int status, double seconds);
void metrics_add(enum metrics_counter, unsigned long long n);
void metrics_gauge_fn(const char *name, const char *help, double (*fn)(void));
void metrics_render(struct evbuffer *out);

#endif
