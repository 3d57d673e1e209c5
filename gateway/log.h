/* One key=value line per event on stderr; safe to call from the database workers. */
#ifndef KABAR_LOG_H
#define KABAR_LOG_H

#include <stddef.h>

/* notice: start, stop, reload; shown whatever the configured level */
enum log_level { LOG_NOTICE, LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(int level);
int log_get_level(void);
int log_level_parse(const char *name, int *level);
/* When set (debug only), personal data is logged in clear instead of masked. */
void log_set_personal(int on);
int log_personal(void);

/* fmt holds the rest of the line as key=value pairs; ts, level and event come first. */
void log_event(int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct event_base;
/* From here on the loop thread's lines (this thread's) are gathered and written with one
 * write(2) when the loop's turn of callbacks ends; other threads' lines go at once. */
int log_buffer_start(struct event_base *base);
/* Writes what waits. */
void log_flush(void);
/* Writes what waits and goes back to a write per line; before the base is freed. */
void log_buffer_stop(void);

/* Quote client text for a log value: printable ASCII kept, the rest as \xHH, cut at outlen. */
const char *log_quote(const char *s, size_t len, char *out, size_t outlen);
/* A phone number as the logs show it: masked unless personal logging is on. */
const char *log_msisdn(const char *msisdn, char *out, size_t outlen);

#define log_notice(ev, ...) log_event(LOG_NOTICE, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)

#endif
