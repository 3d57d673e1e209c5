/* kabard's configuration: loaded whole, validated, then swapped in atomically on SIGHUP. */
#ifndef KABAR_CONFIG_H
#define KABAR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum config_protocol { PROTO_AT, PROTO_HUBTEL, PROTO_KANNEL };

struct dialog_set;
struct keyword_set;
struct texts;
struct lesson_set;

struct config_net {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
};

enum config_provider_type { PROVIDER_LOG, PROVIDER_AT, PROVIDER_KANNEL };

/* Where outgoing SMS go: an aggregator account's send API. */
struct config_provider {
    char name[33];
    enum config_provider_type type;
    char url[512]; /* AT: base URL (…/version1/messaging is added); Kannel: the sendsms URL */
    char username[65];
    char secret[257];     /* AT apiKey, or Kannel password, read from secret_file */
    char sender[17];      /* sender id / from, optional */
    char dlr_url[512];    /* Kannel: kabard's DLR route, %d and the outbox id are added */
    unsigned rate;        /* messages per second */
    unsigned concurrency; /* requests in flight */
    unsigned timeout;     /* seconds per request */
};

struct config_outbox {
    unsigned max_segments; /* longer bodies are refused when queued */
    unsigned batch;        /* rows claimed at once */
    unsigned poll_ms;
    unsigned max_age;                  /* seconds a message keeps being retried */
    unsigned backoff_min, backoff_max; /* seconds */
    unsigned per_recipient_per_minute;
    unsigned claim_timeout; /* seconds before a 'sending' row left by a crash is retried */
};

enum config_rule {
    RULE_BUSINESS_CLOSED,
    RULE_HELP_REQUESTED,
    RULE_TRAINING_MISSED,
    RULE_SILENT,
    RULE_REVENUE_DROP,
    RULE_GRADUATION,
    RULE_LINK_REQUEST,
    RULE_RELAPSE, /* a welfare graduate's business closing or falling inside `months` */
    RULE_COUNT
};

/* A KPM's graduation track: kpm.graduation's values, in this order (config_track_names). */
enum config_track { TRACK_NONE, TRACK_NATURAL, TRACK_WELFARE, TRACK_COUNT };
#define TRACK_BIT(t) (1u << (t))
#define TRACK_ALL (TRACK_BIT(TRACK_NONE) | TRACK_BIT(TRACK_NATURAL) | TRACK_BIT(TRACK_WELFARE))

struct config_alert_rule {
    int enabled;
    int immediate;    /* else it waits for the assistant's daily digest */
    unsigned days;    /* training_missed: days after the training */
    unsigned weeks;   /* silent: weeks without a business report */
    unsigned percent; /* revenue_drop, relapse: at least this much below the previous report */
    unsigned months;  /* graduation: this many last monthly reports ...; relapse: months
                         after the effective date */
    unsigned long long revenue; /* ... running, with at least this revenue */
    unsigned tracks;            /* TRACK_BIT()s of the KPM the rule applies to */
};

#define CONFIG_WINDOW_DAYS 7 /* alerts.window_days when the file does not say */

/* A line of the assistant's digest: her KPM enrolled in a course `weeks` ago (that day, in her
 * zone) who have no lesson progress yet (alerts.lessons_not_started). */
struct config_lessons_not_started {
    int enabled; /* off unless the file says so */
    unsigned weeks;
    unsigned tracks; /* TRACK_BIT()s of the KPM counted */
};

struct config_alerts {
    int enabled;
    unsigned tick_seconds;
    unsigned quiet_start, quiet_end; /* hours in the assistant's (or KPM's) zone */
    unsigned digest_hour;
    unsigned daily_cap;   /* alert SMS a day to one assistant; the rest fold into the digest */
    unsigned window_days; /* the same rule for the same KPM is not raised again within it */
    char provider[33];
    struct config_alert_rule rules[RULE_COUNT];
    unsigned remind_hours;  /* a training reminder this long before it starts (0: off) */
    unsigned nudge_day;     /* the monthly nudge from this day of the month (0: off) */
    unsigned nudge_tracks;  /* TRACK_BIT()s the nudge goes to (natural: else only with opt-in) */
    unsigned remind_tracks; /* and the training reminders (default: nudge_tracks) */
    char fake_now[20];      /* tests: the scheduler's clock, "YYYY-MM-DD HH:MM:SS" UTC */
    struct config_lessons_not_started lessons_not_started;
};

/* A reason a graduation may be recorded for: its code (graduations.reason), its track, and
 * its label in Bahasa Indonesia and English. */
#define CONFIG_REASON_CODE_MAX 32
#define CONFIG_LABEL_MAX 80 /* bytes of a label (a USSD screen shows several) */
struct config_reason {
    char code[CONFIG_REASON_CODE_MAX + 1];
    enum config_track track;             /* natural or welfare */
    char label[2][CONFIG_LABEL_MAX + 1]; /* [0] id, [1] en */
};

/* A home visit's outcome code (home_visits.outcome) with its labels. */
struct config_visit_outcome {
    unsigned code; /* 1..99 */
    char label[2][CONFIG_LABEL_MAX + 1];
};

struct config_graduation {
    unsigned follow_up_months[TRACK_COUNT]; /* [TRACK_NONE] is always 0 */
    unsigned decline_months; /* a declined candidate gets no new candidate alert this long */
    unsigned checkin_day;    /* day of month of the welfare check-in nudge (0: off) */
    struct config_reason *reasons;
    size_t nreasons;
    struct config_visit_outcome *visit_outcomes;
    size_t nvisit_outcomes;
};

struct config_channel {
    char name[33];
    char token[65];
    enum config_protocol protocol;
    char service_code[33];
    int demo;
    char provider[33];        /* replies to this channel's SMS go out through it */
    struct config_net *allow; /* empty: any source */
    size_t nallow;
};

#define CONFIG_DB_HOSTS_MAX 8

/* One database server: a Unix socket, or a host and port. */
struct config_db_host {
    char socket[256];
    char host[256];
    unsigned port;
};

struct config_db {
    char socket[256];
    char host[256];
    unsigned port;
    /* database.hosts in order (the nodes of a cluster), else the one of socket or host/port */
    struct config_db_host hosts[CONFIG_DB_HOSTS_MAX];
    size_t nhosts;
    char user[65];
    char password[257];
    char name[65];
    unsigned pool_size;
    unsigned connect_timeout;
    unsigned query_timeout;
};

struct config_http {
    size_t max_body_size;
    size_t max_headers_size;
    unsigned timeout;
    unsigned max_connections;
    unsigned methods; /* EVHTTP_REQ_* bits */
    unsigned shutdown_timeout;
};

/* The admin pages and API: their own listener, never the aggregators' port. */
struct config_admin {
    int enabled;
    char address[64];
    unsigned port;
    unsigned session_idle;     /* seconds without a request before a login ends */
    unsigned session_max;      /* seconds a login lasts at most */
    int secure_cookie;         /* Secure flag always (also set behind a proxy saying https) */
    unsigned lockout_failures; /* wrong passwords in a row that lock an account ... */
    unsigned lockout_seconds;  /* ... for this long */
    unsigned login_per_minute; /* login attempts from one address */
    unsigned page_size;
    size_t import_max_bytes;      /* the body of POST /import at most: the admin listener's limit */
    char import_spool[1024];      /* where an upload waits for its import; "" is $TMPDIR or /tmp */
    unsigned chart_cache_seconds; /* the dashboard's slow charts kept per scope; 0: never */
};

struct config_ussd {
    unsigned session_idle;
    unsigned resume_window;
    unsigned screen_limit;
    unsigned max_sessions;   /* live sessions at most */
    unsigned max_session_mb; /* what they may hold in all */
    unsigned unknown_idle;   /* seconds before an idle session of an unknown number is dropped */
};

/* training.certification: what makes an assistant certified (a TOT attended and passed) */
struct config_training {
    char cert_kind[12];    /* trainings.kind that counts: in_person, tot, online */
    int cert_all_sessions; /* attended every day of it, else at least one */
    int cert_passed;       /* its course marked passed on the roster */
};

/* kabard import: the key of nik_hmac (HMAC-SHA256 of the NIK), read from import.nik_key_file;
 * "" when unset, and then a file with NIKs is refused. */
struct config_import {
    char nik_key[257];
    unsigned batch_rows; /* rows per transaction */
};

struct config {
    int refs;
    char path[1024];
    char instance[65]; /* this kabard among several (lease.h); empty: HOST:PORT */
    char listen_address[64];
    unsigned listen_port;
    struct config_db db;
    struct config_http http;
    int log_level;
    int log_personal;
    char sql_dir[1024];
    char dialogs_path[1024];
    struct config_ussd ussd;
    struct config_net *proxies;
    size_t nproxies;
    struct config_channel *channels;
    size_t nchannels;
    struct config_provider *providers;
    size_t nproviders;
    struct config_outbox outbox;
    struct config_alerts alerts;
    struct config_admin admin;
    struct config_graduation graduation;
    struct config_training training;
    struct config_import import;
    char keywords_path[1024];
    struct dialog_set *dialogs;
    struct keyword_set *keywords;
    struct texts *texts;
    char lessons_path[1024];
    int lessons_optional;       /* paths.lessons not set: the default file may be absent */
    struct lesson_set *lessons; /* config/lessons.conf, owned by dialogs; NULL: no course */
};

/* Returns a config with one reference, or NULL and "FILE:LINE: what is wrong" in err. */
struct config *config_load(const char *path, char *err, size_t errlen);
struct config *config_ref(struct config *);
void config_unref(struct config *);
const char *config_protocol_name(enum config_protocol);
extern const char *const config_rule_names[RULE_COUNT];
extern const char *const config_track_names[TRACK_COUNT]; /* none, natural, welfare */
/* The track named s, or -1. */
int config_track_parse(const char *s);
/* The values of the tracks in mask (TRACK_BIT()s), in the order of config_track_names, and ""
 * (a value kpm.graduation never has) for each track not in it: bound to `x IN (?, ?, ?)` they
 * select exactly the mask, and to `x NOT IN (?, ?, ?)` exactly the rest (no NULL involved). */
void config_track_values(unsigned mask, const char *out[TRACK_COUNT]);
/* The configured graduation reason `code`, or NULL. */
const struct config_reason *config_reason_find(const struct config *, const char *code);
/* The configured home-visit outcome `code`, or NULL. */
const struct config_visit_outcome *config_visit_outcome_find(const struct config *, unsigned code);
const struct config_provider *config_provider_find(const struct config *, const char *name);
const struct config_channel *config_channel_find(const struct config *, const char *token,
                                                 size_t len);
int config_net_match(const struct config_net *nets, size_t n, const struct sockaddr *sa);
int config_net_parse(const char *s, struct config_net *net);
/* One entry of database.hosts: "/path/to.sock", "host", "host:port" or "[v6addr]:port" (the
 * port defaults to 3306). 0, or -1 for an empty, too long or malformed entry. */
int config_db_host_parse(const char *s, struct config_db_host *out);

#endif
