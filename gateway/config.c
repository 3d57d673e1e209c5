#include <arpa/inet.h>
#include <errno.h>
#include <libconfig.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/http.h>

#include "config.h"
#include "dialog.h"
#include "keyword.h"
#include "gsm7.h"
#include "lesson.h"
#include "texts.h"
#include "cfgfile.h"
#include "log.h"
#include "parse.h"

int
config_net_parse(const char *s, struct config_net *net)
{
    char buf[64], *slash;
    uint64_t bits;
    unsigned max;

    if (strlen(s) >= sizeof buf)
        return -1;
    memcpy(buf, s, strlen(s) + 1);
    memset(net, 0, sizeof *net);
    if ((slash = strchr(buf, '/')) != NULL)
        *slash++ = '\0';
    if (inet_pton(AF_INET, buf, net->addr) == 1) {
        net->family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
        net->family = AF_INET6;
        max = 128;
    } else
        return -1;
    if (slash == NULL)
        bits = max;
    else if (parse_u64(slash, strlen(slash), 0, max, &bits) == -1)
        return -1;
    net->bits = (unsigned)bits;
    return 0;
}

int
config_db_host_parse(const char *s, struct config_db_host *out)
{
    size_t n = strlen(s);
    const char *colon = NULL, *end = s + n;
    uint64_t port = 3306;

    memset(out, 0, sizeof *out);
    if (n == 0)
        return -1;
    if (s[0] == '/') {
        if (n >= sizeof out->socket)
            return -1;
        memcpy(out->socket, s, n + 1);
        return 0;
    }
    if (s[0] == '[') {
        /* an IPv6 address: its colons are not the port's */
        const char *close = strchr(s, ']');

        if (close == NULL || close == s + 1 || (close[1] != '\0' && close[1] != ':'))
            return -1;
        colon = close[1] == ':' ? close + 1 : NULL;
        s++;
        end = close;
    } else if ((colon = strchr(s, ':')) != NULL) {
        if (strchr(colon + 1, ':') != NULL)
            return -1;
        end = colon;
    }
    if (colon != NULL && parse_u64(colon + 1, strlen(colon + 1), 1, 65535, &port) == -1)
        return -1;
    if (end == s || (size_t)(end - s) >= sizeof out->host || memchr(s, ' ', (size_t)(end - s)))
        return -1;
    memcpy(out->host, s, (size_t)(end - s));
    out->host[end - s] = '\0';
    out->port = (unsigned)port;
    return 0;
}

/* database.hosts, a list of config_db_host_parse() entries, or the single socket / host */
static int
config_load_db_hosts(struct cfgfile *st, const config_setting_t *g, struct config *c)
{
    const config_setting_t *list = config_setting_get_member(g, "hosts");
    struct config_db_host *h = &c->db.hosts[0];
    size_t i, n;

    if (list == NULL) {
        memset(h, 0, sizeof *h);
        memcpy(h->socket, c->db.socket, sizeof h->socket);
        memcpy(h->host, c->db.host, sizeof h->host);
        h->port = c->db.port;
        c->db.nhosts = 1;
        return 0;
    }
    if (!config_setting_is_array(list) && !config_setting_is_list(list))
        return cfgfile_fail(st, list, "'hosts' must be a list of \"host:port\" or socket paths");
    n = (size_t)config_setting_length(list);
    if (n == 0 || n > CONFIG_DB_HOSTS_MAX)
        return cfgfile_fail(st, list, "'hosts' needs 1 to %d entries", CONFIG_DB_HOSTS_MAX);
    if (c->db.socket[0] != '\0')
        return cfgfile_fail(st, list, "give either 'socket' or 'hosts', not both");
    for (i = 0; i < n; i++) {
        const char *v = config_setting_get_string_elem(list, (int)i);

        if (v == NULL || config_db_host_parse(v, &c->db.hosts[i]) == -1)
            return cfgfile_fail(st, list, "'hosts' entry %zu is not \"host:port\" or /socket",
                                i + 1);
    }
    c->db.nhosts = n;
    return 0;
}

static int
config_net_match_one(const struct config_net *n, const uint8_t *addr, int family)
{
    unsigned full = n->bits / 8, rest = n->bits % 8;

    if (n->family != family)
        return 0;
    if (memcmp(n->addr, addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    return ((n->addr[full] ^ addr[full]) & (0xff << (8 - rest))) == 0;
}

int
config_net_match(const struct config_net *nets, size_t n, const struct sockaddr *sa)
{
    const uint8_t *addr;
    uint8_t v4[4];
    int family;
    size_t i;

    if (sa->sa_family == AF_INET) {
        addr = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
        family = AF_INET;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(v4, &a6->s6_addr[12], 4);
            addr = v4;
            family = AF_INET;
        } else {
            addr = a6->s6_addr;
            family = AF_INET6;
        }
    } else
        return 0;
    for (i = 0; i < n; i++)
        if (config_net_match_one(&nets[i], addr, family))
            return 1;
    return 0;
}

static int
config_get_nets(struct cfgfile *st, const config_setting_t *g, const char *name,
                struct config_net **out, size_t *nout)
{
    const config_setting_t *s = g != NULL ? config_setting_get_member(g, name) : NULL;
    int i, n;

    if (s == NULL)
        return 0;
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return cfgfile_fail(st, s, "'%s' must be a list of networks like \"10.0.0.0/8\"", name);
    n = config_setting_length(s);
    if (n == 0)
        return 0;
    if ((*out = calloc((size_t)n, sizeof **out)) == NULL)
        return cfgfile_fail(st, s, "out of memory");
    for (i = 0; i < n; i++) {
        const char *v = config_setting_get_string_elem(s, i);

        if (v == NULL || config_net_parse(v, &(*out)[i]) == -1)
            return cfgfile_fail(st, s, "'%s': element %d is not an address or network", name,
                                i + 1);
    }
    *nout = (size_t)n;
    return 0;
}

static int
config_read_secret(struct cfgfile *st, const config_setting_t *g, const char *key, const char *file,
                   char *out, size_t outlen)
{
    FILE *f;
    size_t n;

    if ((f = fopen(file, "r")) == NULL)
        return cfgfile_fail(st, config_setting_get_member(g, key), "cannot read %s %s: %s", key,
                            file, strerror(errno));
    n = fread(out, 1, outlen - 1, f);
    fclose(f);
    out[n] = '\0';
    out[strcspn(out, "\r\n")] = '\0'; /* the first line is the secret */
    return 0;
}

static const char *const config_top_keys[] = {
    "listen",          "database", "http",      "log",      "paths",  "ussd",
    "trusted_proxies", "channels", "providers", "outbox",   "alerts", "admin",
    "graduation",      "training", "import",    "instance", NULL};
static const char *const config_admin_keys[] = {"enabled",
                                                "address",
                                                "port",
                                                "session_idle",
                                                "session_max",
                                                "secure_cookie",
                                                "lockout_failures",
                                                "lockout_seconds",
                                                "login_per_minute",
                                                "page_size",
                                                "import_max_bytes",
                                                "import_spool",
                                                "chart_cache_seconds",
                                                NULL};
static const char *const config_listen_keys[] = {"address", "port", NULL};
static const char *const config_db_keys[] = {
    "socket",          "host",          "port",  "user", "password_file", "name", "pool_size",
    "connect_timeout", "query_timeout", "hosts", NULL};
static const char *const config_http_keys[] = {
    "max_body_size", "max_headers_size", "timeout", "max_connections",
    "methods",       "shutdown_timeout", NULL};
static const char *const config_log_keys[] = {"level", "personal_data", NULL};
static const char *const config_paths_keys[] = {"sql", "dialogs", "keywords", "lessons", NULL};
static const char *const config_ussd_keys[] = {"session_idle",
                                               "resume_window",
                                               "screen_limit",
                                               "max_sessions",
                                               "max_session_mb",
                                               "unknown_idle",
                                               NULL};
static const char *const config_provider_keys[] = {"name",        "type",    "url",     "username",
                                                   "secret_file", "sender",  "dlr_url", "rate",
                                                   "concurrency", "timeout", NULL};
static const char *const config_outbox_keys[] = {"max_segments",
                                                 "batch",
                                                 "poll_ms",
                                                 "max_age",
                                                 "backoff_min",
                                                 "backoff_max",
                                                 "per_recipient_per_minute",
                                                 "claim_timeout",
                                                 NULL};
static const char *const config_channel_keys[] = {"provider",     "name",  "token", "protocol",
                                                  "service_code", "allow", "demo",  NULL};

static const struct {
    const char *name;
    unsigned bit;
} config_methods[] = {
    {"GET", EVHTTP_REQ_GET},
    {"POST", EVHTTP_REQ_POST},
    {"HEAD", EVHTTP_REQ_HEAD},
    {"DELETE", EVHTTP_REQ_DELETE},
};

static int
config_load_http(struct cfgfile *st, struct config *c)
{
    const config_setting_t *g, *m;
    uint64_t v;
    int i, j;

    c->http.max_body_size = 16384;
    c->http.max_headers_size = 8192;
    c->http.timeout = 15;
    c->http.max_connections = 4096;
    /* DELETE: the API's revocation of a graduation (DELETE /api/v1/graduations) */
    c->http.methods = EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_DELETE;
    c->http.shutdown_timeout = 10;
    if (cfgfile_group(st, "http", config_http_keys, &g) == -1)
        return -1;
    v = c->http.max_body_size;
    if (cfgfile_u64(st, g, "max_body_size", 256, 16 << 20, 0, &v) == -1)
        return -1;
    c->http.max_body_size = (size_t)v;
    v = c->http.max_headers_size;
    if (cfgfile_u64(st, g, "max_headers_size", 512, 1 << 20, 0, &v) == -1)
        return -1;
    c->http.max_headers_size = (size_t)v;
    if (cfgfile_unsigned(st, g, "timeout", 1, 3600, &c->http.timeout) == -1 ||
        cfgfile_unsigned(st, g, "max_connections", 1, 1000000, &c->http.max_connections) == -1 ||
        cfgfile_unsigned(st, g, "shutdown_timeout", 0, 600, &c->http.shutdown_timeout) == -1)
        return -1;
    if (g != NULL && (m = config_setting_get_member(g, "methods")) != NULL) {
        if (!config_setting_is_array(m) && !config_setting_is_list(m))
            return cfgfile_fail(st, m, "'methods' must be a list like [\"GET\", \"POST\"]");
        c->http.methods = 0;
        for (i = 0; i < config_setting_length(m); i++) {
            const char *name = config_setting_get_string_elem(m, i);

            for (j = 0; name != NULL && j < (int)(sizeof config_methods / sizeof config_methods[0]);
                 j++)
                if (strcasecmp(name, config_methods[j].name) == 0)
                    break;
            if (name == NULL || j == (int)(sizeof config_methods / sizeof config_methods[0]))
                return cfgfile_fail(st, m, "'methods': %s is not one of GET, POST, HEAD",
                                    name != NULL ? name : "element");
            c->http.methods |= config_methods[j].bit;
        }
        if ((c->http.methods & EVHTTP_REQ_GET) == 0)
            return cfgfile_fail(st, m, "'methods' must include GET (health checks use it)");
    }
    return 0;
}

static int
config_load_db(struct cfgfile *st, struct config *c)
{
    const config_setting_t *g;
    char pwfile[1024] = "";

    snprintf(c->db.host, sizeof c->db.host, "127.0.0.1");
    c->db.port = 3306;
    snprintf(c->db.user, sizeof c->db.user, "kabar");
    snprintf(c->db.name, sizeof c->db.name, "kabar");
    c->db.pool_size = 2;
    c->db.connect_timeout = 2;
    c->db.query_timeout = 10;
    if (cfgfile_group(st, "database", config_db_keys, &g) == -1)
        return -1;
    if (g == NULL)
        return cfgfile_fail(st, cfgfile_root(st), "missing group 'database'");
    if (cfgfile_path(st, g, "socket", c->db.socket, sizeof c->db.socket) == -1 ||
        cfgfile_str(st, g, "host", 0, c->db.host, sizeof c->db.host) == -1 ||
        cfgfile_unsigned(st, g, "port", 1, 65535, &c->db.port) == -1 ||
        cfgfile_str(st, g, "user", 0, c->db.user, sizeof c->db.user) == -1 ||
        cfgfile_str(st, g, "name", 0, c->db.name, sizeof c->db.name) == -1 ||
        cfgfile_unsigned(st, g, "pool_size", 1, 64, &c->db.pool_size) == -1 ||
        cfgfile_unsigned(st, g, "connect_timeout", 1, 60, &c->db.connect_timeout) == -1 ||
        cfgfile_unsigned(st, g, "query_timeout", 1, 600, &c->db.query_timeout) == -1 ||
        cfgfile_path(st, g, "password_file", pwfile, sizeof pwfile) == -1 ||
        config_load_db_hosts(st, g, c) == -1)
        return -1;
    if (pwfile[0] != '\0' && config_read_secret(st, g, "password_file", pwfile, c->db.password,
                                                sizeof c->db.password) == -1)
        return -1;
    return 0;
}

static int
config_load_channels(struct cfgfile *st, struct config *c)
{
    const config_setting_t *list = config_lookup(&st->cf, "channels");
    char proto[16];
    size_t i, j, n;

    if (list == NULL)
        return 0;
    if (!config_setting_is_list(list))
        return cfgfile_fail(st, list, "'channels' must be a list ( { ... }, ... )");
    n = (size_t)config_setting_length(list);
    if (n == 0)
        return 0;
    if ((c->channels = calloc(n, sizeof *c->channels)) == NULL)
        return cfgfile_fail(st, list, "out of memory");
    c->nchannels = n;
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct config_channel *ch = &c->channels[i];
        size_t k;

        if (!config_setting_is_group(g))
            return cfgfile_fail(st, g, "each channel must be a group { ... }");
        if (cfgfile_members(st, g, config_channel_keys, NULL) == -1 ||
            cfgfile_str(st, g, "name", 1, ch->name, sizeof ch->name) == -1 ||
            cfgfile_str(st, g, "token", 1, ch->token, sizeof ch->token) == -1 ||
            cfgfile_str(st, g, "protocol", 1, proto, sizeof proto) == -1 ||
            cfgfile_str(st, g, "service_code", 0, ch->service_code, sizeof ch->service_code) ==
                -1 ||
            cfgfile_bool(st, g, "demo", &ch->demo) == -1 ||
            cfgfile_str(st, g, "provider", 0, ch->provider, sizeof ch->provider) == -1 ||
            config_get_nets(st, g, "allow", &ch->allow, &ch->nallow) == -1)
            return -1;
        if (strcmp(proto, "at") == 0)
            ch->protocol = PROTO_AT;
        else if (strcmp(proto, "hubtel") == 0)
            ch->protocol = PROTO_HUBTEL;
        else if (strcmp(proto, "kannel") == 0)
            ch->protocol = PROTO_KANNEL;
        else
            return cfgfile_fail(st, config_setting_get_member(g, "protocol"),
                                "protocol '%s' is not one of at, hubtel, kannel", proto);
        for (k = 0; ch->token[k] != '\0'; k++) {
            char t = ch->token[k];

            if (!((t >= 'a' && t <= 'z') || (t >= 'A' && t <= 'Z') || (t >= '0' && t <= '9') ||
                  t == '-' || t == '_'))
                return cfgfile_fail(st, config_setting_get_member(g, "token"),
                                    "token may hold only letters, digits, '-' and '_'");
        }
        /* the token is the only secret in an aggregator's callback URL */
        if (!ch->demo && k < 16)
            return cfgfile_fail(st, config_setting_get_member(g, "token"),
                                "token of channel '%s' is shorter than 16 characters "
                                "(allowed only with demo = true)",
                                ch->name);
        if (k == 0)
            return cfgfile_fail(st, config_setting_get_member(g, "token"), "token is empty");
        for (j = 0; j < i; j++) {
            if (strcmp(c->channels[j].token, ch->token) == 0)
                return cfgfile_fail(st, g, "two channels share the token of '%s'", ch->name);
            if (strcmp(c->channels[j].name, ch->name) == 0)
                return cfgfile_fail(st, g, "two channels are named '%s'", ch->name);
        }
    }
    return 0;
}

const char *const config_rule_names[RULE_COUNT] = {
    "business_closed", "help_requested", "training_missed", "silent",
    "revenue_drop",    "graduation",     "link_request",    "relapse",
};

const char *const config_track_names[TRACK_COUNT] = {"none", "natural", "welfare"};

int
config_track_parse(const char *s)
{
    int t;

    for (t = 0; t < TRACK_COUNT; t++)
        if (strcmp(s, config_track_names[t]) == 0)
            return t;
    return -1;
}

void
config_track_values(unsigned mask, const char *out[TRACK_COUNT])
{
    int t;

    for (t = 0; t < TRACK_COUNT; t++)
        out[t] = (mask & TRACK_BIT(t)) != 0 ? config_track_names[t] : "";
}

/* A list of track names as TRACK_BIT()s (what.name in messages). Absent leaves *mask as it is; an
 * empty list, a name that is no track or one named twice is an error (an empty list would silently
 * switch the rule off: `enabled = false` says that). */
static int
config_get_tracks(struct cfgfile *st, const config_setting_t *g, const char *what, const char *name,
                  unsigned *mask)
{
    const config_setting_t *s = g != NULL ? config_setting_get_member(g, name) : NULL;
    unsigned m = 0;
    int i, t;

    if (s == NULL)
        return 0;
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return cfgfile_fail(st, s, "'%s.%s' must be a list of tracks like [\"none\", \"welfare\"]",
                            what, name);
    if (config_setting_length(s) == 0)
        return cfgfile_fail(st, s, "'%s.%s' is empty: name at least one of none, natural, welfare",
                            what, name);
    for (i = 0; i < config_setting_length(s); i++) {
        const char *v = config_setting_get_string_elem(s, i);

        if (v == NULL)
            return cfgfile_fail(st, s, "'%s.%s': element %d is not a string", what, name, i + 1);
        if ((t = config_track_parse(v)) == -1)
            return cfgfile_fail(st, s, "'%s.%s': unknown track '%s' (none, natural, welfare)", what,
                                name, v);
        if ((m & TRACK_BIT(t)) != 0)
            return cfgfile_fail(st, s, "'%s.%s' names track '%s' twice", what, name, v);
        m |= TRACK_BIT(t);
    }
    *mask = m;
    return 0;
}

static const char *const config_alerts_keys[] = {
    "enabled",      "tick_seconds",  "quiet_start",         "quiet_end",
    "digest_hour",  "daily_cap",     "window_days",         "provider",
    "rules",        "remind_hours",  "nudge_day",           "fake_now",
    "nudge_tracks", "remind_tracks", "lessons_not_started", NULL};
static const char *const config_rule_keys[] = {"enabled", "urgency", "days",   "weeks", "percent",
                                               "months",  "revenue", "tracks", NULL};

/* alerts.lessons_not_started = { enabled; weeks; tracks; }: off, 2 weeks, KPM not graduated,
 * unless the file says otherwise */
static int
config_load_lessons_not_started(struct cfgfile *st, const config_setting_t *alerts,
                                struct config_lessons_not_started *l)
{
    static const char *const keys[] = {"enabled", "weeks", "tracks", NULL};
    const config_setting_t *g;

    l->enabled = 0;
    l->weeks = 2;
    l->tracks = TRACK_BIT(TRACK_NONE);
    if (alerts == NULL || (g = config_setting_get_member(alerts, "lessons_not_started")) == NULL)
        return 0;
    if (!config_setting_is_group(g))
        return cfgfile_fail(st, g, "'lessons_not_started' must be a group");
    if (cfgfile_members(st, g, keys, "lessons_not_started") == -1 ||
        cfgfile_bool(st, g, "enabled", &l->enabled) == -1 ||
        cfgfile_unsigned(st, g, "weeks", 1, 52, &l->weeks) == -1 ||
        config_get_tracks(st, g, "lessons_not_started", "tracks", &l->tracks) == -1)
        return -1;
    return 0;
}

/* The defaults: a rule applies to KPM who have not graduated; silent also to welfare
 * graduates (inside their follow-up period), relapse to them alone; a help or phone-link request
 * reaches the assistant whatever the KPM's track (a graduate asking for help, or who changed her
 * phone, still needs an answer). */
static void
config_alerts_default_tracks(struct config_alerts *a)
{
    int i;

    for (i = 0; i < RULE_COUNT; i++)
        a->rules[i].tracks = TRACK_BIT(TRACK_NONE);
    a->rules[RULE_SILENT].tracks |= TRACK_BIT(TRACK_WELFARE);
    a->rules[RULE_HELP_REQUESTED].tracks = TRACK_ALL;
    a->rules[RULE_LINK_REQUEST].tracks = TRACK_ALL;
    a->rules[RULE_RELAPSE].tracks = TRACK_BIT(TRACK_WELFARE);
}

static int
config_load_alerts(struct cfgfile *st, struct config *c)
{
    struct config_alerts *a = &c->alerts;
    const config_setting_t *g, *rules, *r;
    char urgency[16];
    size_t i;

    a->tick_seconds = 60;
    a->quiet_start = 21;
    a->quiet_end = 7;
    a->digest_hour = 17;
    a->daily_cap = 5;
    a->window_days = CONFIG_WINDOW_DAYS;
    a->remind_hours = 24;
    a->nudge_day = 25;
    for (i = 0; i < RULE_COUNT; i++) {
        a->rules[i].enabled = 1;
        a->rules[i].immediate =
            i == RULE_BUSINESS_CLOSED || i == RULE_HELP_REQUESTED || i == RULE_LINK_REQUEST;
    }
    a->rules[RULE_TRAINING_MISSED].days = 3;
    a->rules[RULE_SILENT].weeks = 4;
    a->rules[RULE_REVENUE_DROP].percent = 50;
    a->rules[RULE_GRADUATION].months = 3;
    a->rules[RULE_GRADUATION].revenue = 2500000;
    config_alerts_default_tracks(a);
    a->rules[RULE_RELAPSE].immediate = 1;
    a->rules[RULE_RELAPSE].percent = 30;
    a->rules[RULE_RELAPSE].months = 12;
    a->rules[RULE_RELAPSE].tracks = TRACK_BIT(TRACK_WELFARE);
    a->nudge_tracks = TRACK_BIT(TRACK_NONE) | TRACK_BIT(TRACK_WELFARE);
    a->remind_tracks = a->nudge_tracks;
    if (cfgfile_group(st, "alerts", config_alerts_keys, &g) == -1 ||
        config_load_lessons_not_started(st, g, &a->lessons_not_started) == -1)
        return -1;
    if (g == NULL)
        return 0;
    if (cfgfile_bool(st, g, "enabled", &a->enabled) == -1 ||
        cfgfile_unsigned(st, g, "tick_seconds", 1, 3600, &a->tick_seconds) == -1 ||
        cfgfile_unsigned(st, g, "quiet_start", 0, 23, &a->quiet_start) == -1 ||
        cfgfile_unsigned(st, g, "quiet_end", 0, 23, &a->quiet_end) == -1 ||
        cfgfile_unsigned(st, g, "digest_hour", 0, 23, &a->digest_hour) == -1 ||
        cfgfile_unsigned(st, g, "daily_cap", 0, 1000, &a->daily_cap) == -1 ||
        cfgfile_unsigned(st, g, "window_days", 1, 365, &a->window_days) == -1 ||
        cfgfile_str(st, g, "provider", 0, a->provider, sizeof a->provider) == -1 ||
        cfgfile_unsigned(st, g, "remind_hours", 0, 24 * 14, &a->remind_hours) == -1 ||
        cfgfile_unsigned(st, g, "nudge_day", 0, 28, &a->nudge_day) == -1 ||
        cfgfile_str(st, g, "fake_now", 0, a->fake_now, sizeof a->fake_now) == -1 ||
        config_get_tracks(st, g, "alerts", "nudge_tracks", &a->nudge_tracks) == -1)
        return -1;
    /* the reminders follow the nudge unless they are given their own list */
    a->remind_tracks = a->nudge_tracks;
    if (config_get_tracks(st, g, "alerts", "remind_tracks", &a->remind_tracks) == -1)
        return -1;
    if (a->fake_now[0] != '\0' && strlen(a->fake_now) != 19)
        return cfgfile_fail(st, config_setting_get_member(g, "fake_now"),
                            "fake_now must look like \"2026-12-01 08:00:00\" (UTC)");
    if ((rules = config_setting_get_member(g, "rules")) == NULL)
        return 0;
    if (!config_setting_is_group(rules) ||
        cfgfile_members(st, rules, config_rule_names, NULL) == -1)
        return cfgfile_fail(st, rules, "'rules' must be a group of known rules");
    for (i = 0; i < RULE_COUNT; i++) {
        struct config_alert_rule *ru = &a->rules[i];
        uint64_t v;

        if ((r = config_setting_get_member(rules, config_rule_names[i])) == NULL)
            continue;
        urgency[0] = '\0';
        if (!config_setting_is_group(r) || cfgfile_members(st, r, config_rule_keys, NULL) == -1 ||
            cfgfile_bool(st, r, "enabled", &ru->enabled) == -1 ||
            cfgfile_str(st, r, "urgency", 0, urgency, sizeof urgency) == -1 ||
            cfgfile_unsigned(st, r, "days", 1, 365, &ru->days) == -1 ||
            cfgfile_unsigned(st, r, "weeks", 1, 104, &ru->weeks) == -1 ||
            cfgfile_unsigned(st, r, "percent", 1, 100, &ru->percent) == -1 ||
            cfgfile_unsigned(st, r, "months", 1, 24, &ru->months) == -1 ||
            config_get_tracks(st, r, config_rule_names[i], "tracks", &ru->tracks) == -1)
            return -1;
        v = ru->revenue;
        if (cfgfile_u64(st, r, "revenue", 0, 1000000000ULL, 0, &v) == -1)
            return -1;
        ru->revenue = v;
        if (urgency[0] != '\0') {
            if (strcmp(urgency, "immediate") != 0 && strcmp(urgency, "digest") != 0)
                return cfgfile_fail(st, config_setting_get_member(r, "urgency"),
                                    "urgency must be immediate or digest");
            ru->immediate = strcmp(urgency, "immediate") == 0;
        }
    }
    return 0;
}

static int
config_load_providers(struct cfgfile *st, struct config *c)
{
    const config_setting_t *list = config_lookup(&st->cf, "providers"), *g;
    char type[16], secret_file[1024];
    size_t i, j, n;

    c->outbox.max_segments = 3;
    c->outbox.batch = 50;
    c->outbox.poll_ms = 200;
    c->outbox.max_age = 86400;
    c->outbox.backoff_min = 5;
    c->outbox.backoff_max = 3600;
    c->outbox.per_recipient_per_minute = 5;
    c->outbox.claim_timeout = 60;
    if (cfgfile_group(st, "outbox", config_outbox_keys, &g) == -1 ||
        cfgfile_unsigned(st, g, "max_segments", 1, 10, &c->outbox.max_segments) == -1 ||
        cfgfile_unsigned(st, g, "batch", 1, 1000, &c->outbox.batch) == -1 ||
        cfgfile_unsigned(st, g, "poll_ms", 10, 60000, &c->outbox.poll_ms) == -1 ||
        cfgfile_unsigned(st, g, "max_age", 60, 30 * 86400, &c->outbox.max_age) == -1 ||
        cfgfile_unsigned(st, g, "backoff_min", 1, 86400, &c->outbox.backoff_min) == -1 ||
        cfgfile_unsigned(st, g, "backoff_max", 1, 86400, &c->outbox.backoff_max) == -1 ||
        cfgfile_unsigned(st, g, "per_recipient_per_minute", 1, 1000,
                         &c->outbox.per_recipient_per_minute) == -1 ||
        cfgfile_unsigned(st, g, "claim_timeout", 5, 3600, &c->outbox.claim_timeout) == -1)
        return -1;
    if (c->outbox.backoff_min > c->outbox.backoff_max)
        return cfgfile_fail(st, g, "backoff_min is larger than backoff_max");
    if (list == NULL)
        return 0;
    if (!config_setting_is_list(list))
        return cfgfile_fail(st, list, "'providers' must be a list ( { ... }, ... )");
    n = (size_t)config_setting_length(list);
    if (n == 0)
        return 0;
    if ((c->providers = calloc(n, sizeof *c->providers)) == NULL)
        return cfgfile_fail(st, list, "out of memory");
    c->nproviders = n;
    for (i = 0; i < n; i++) {
        struct config_provider *p = &c->providers[i];

        g = config_setting_get_elem(list, (unsigned)i);
        p->rate = 50;
        p->concurrency = 8;
        p->timeout = 10;
        secret_file[0] = '\0';
        if (!config_setting_is_group(g))
            return cfgfile_fail(st, g, "each provider must be a group { ... }");
        if (cfgfile_members(st, g, config_provider_keys, NULL) == -1 ||
            cfgfile_str(st, g, "name", 1, p->name, sizeof p->name) == -1 ||
            cfgfile_str(st, g, "type", 1, type, sizeof type) == -1 ||
            cfgfile_str(st, g, "url", 0, p->url, sizeof p->url) == -1 ||
            cfgfile_str(st, g, "username", 0, p->username, sizeof p->username) == -1 ||
            cfgfile_path(st, g, "secret_file", secret_file, sizeof secret_file) == -1 ||
            cfgfile_str(st, g, "sender", 0, p->sender, sizeof p->sender) == -1 ||
            cfgfile_str(st, g, "dlr_url", 0, p->dlr_url, sizeof p->dlr_url) == -1 ||
            cfgfile_unsigned(st, g, "rate", 1, 10000, &p->rate) == -1 ||
            cfgfile_unsigned(st, g, "concurrency", 1, 1000, &p->concurrency) == -1 ||
            cfgfile_unsigned(st, g, "timeout", 1, 300, &p->timeout) == -1)
            return -1;
        if (strcmp(type, "log") == 0)
            p->type = PROVIDER_LOG;
        else if (strcmp(type, "at") == 0)
            p->type = PROVIDER_AT;
        else if (strcmp(type, "kannel") == 0)
            p->type = PROVIDER_KANNEL;
        else
            return cfgfile_fail(st, config_setting_get_member(g, "type"),
                                "provider type '%s' is not one of log, at, kannel", type);
        if (p->type != PROVIDER_LOG && strncmp(p->url, "http://", 7) != 0 &&
            strncmp(p->url, "https://", 8) != 0)
            return cfgfile_fail(st, g, "provider '%s' needs an http:// or https:// url", p->name);
        if (secret_file[0] != '\0' && config_read_secret(st, g, "secret_file", secret_file,
                                                         p->secret, sizeof p->secret) == -1)
            return -1;
        for (j = 0; j < i; j++)
            if (strcmp(c->providers[j].name, p->name) == 0)
                return cfgfile_fail(st, g, "two providers are named '%s'", p->name);
    }
    return 0;
}

/* -- graduation: follow-up periods, reasons, home-visit outcomes */

static const char *const config_graduation_keys[] = {
    "follow_up_months", "decline_months", "checkin_day", "reasons", "visit_outcomes", NULL};
static const char *const config_follow_up_keys[] = {"welfare", "natural", NULL};
static const char *const config_reason_keys[] = {"code", "track", "id", "en", NULL};
static const char *const config_outcome_keys[] = {"code", "id", "en", NULL};

/* what a file without graduation.reasons / visit_outcomes gets */
static const struct config_reason config_reasons_default[] = {
    {"business_sustains",
     TRACK_WELFARE,
     {"Usaha mencukupi kebutuhan keluarga", "The business sustains the family"}},
    {"candidate_confirmed",
     TRACK_WELFARE,
     {"Calon graduasi dikonfirmasi pendamping", "Graduation candidate confirmed"}},
    {"left_pkh", TRACK_NATURAL, {"Keluar dari PKH", "Left PKH"}},
    {"no_component",
     TRACK_NATURAL,
     {"Tidak ada lagi komponen bantuan", "No assistance component left"}},
};
static const struct config_visit_outcome config_outcomes_default[] = {
    {1, {"Bertemu KPM", "Met the KPM"}},
    {2, {"KPM tidak di rumah", "KPM not at home"}},
    {3, {"KPM pindah", "KPM has moved"}},
    {4, {"Dirujuk ke layanan lain", "Referred to another service"}},
    {5, {"Lainnya", "Other"}},
};

/* a label of a reason or an outcome: both languages, UTF-8, not empty */
static int
config_labels(struct cfgfile *st, const config_setting_t *g, char label[2][CONFIG_LABEL_MAX + 1])
{
    int l;

    for (l = 0; l < 2; l++) {
        const char *name = l == 0 ? "id" : "en";

        if (cfgfile_str(st, g, name, 1, label[l], CONFIG_LABEL_MAX + 1) == -1)
            return -1;
        if (label[l][0] == '\0' || !parse_utf8_valid(label[l], strlen(label[l])))
            return cfgfile_fail(st, config_setting_get_member(g, name),
                                "'%s' must be a non-empty UTF-8 label", name);
    }
    return 0;
}

/* a reason code: a letter, then letters, digits and _ (the API shows it as a string) */
static int
config_code_valid(const char *s)
{
    size_t i;

    if (!(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (i = 1; s[i] != '\0'; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return 0;
    return 1;
}

/* a non-empty list ( { ... }, ... ): *n zeroed elements of size bytes, or NULL after an error
 * (shape says what the list must look like) */
static void *
config_list_new(struct cfgfile *st, const config_setting_t *list, const char *shape, size_t size,
                size_t *n)
{
    void *v;

    *n = (size_t)config_setting_length(list);
    if (!config_setting_is_list(list) || *n == 0) {
        cfgfile_fail(st, list, "%s", shape);
        return NULL;
    }
    if ((v = calloc(*n, size)) == NULL)
        cfgfile_fail(st, list, "out of memory");
    return v;
}

static int
config_load_reasons(struct cfgfile *st, struct config_graduation *gr, const config_setting_t *list)
{
    char track[16];
    size_t i, j;
    unsigned seen = 0;

    if ((gr->reasons =
             config_list_new(st, list, "'reasons' must be a list ( { code = ...; }, ... )",
                             sizeof *gr->reasons, &gr->nreasons)) == NULL)
        return -1;
    for (i = 0; i < gr->nreasons; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct config_reason *r = &gr->reasons[i];
        int t;

        track[0] = '\0';
        if (!config_setting_is_group(g))
            return cfgfile_fail(st, g, "each reason must be a group { code = ...; }");
        if (cfgfile_members(st, g, config_reason_keys, "a reason") == -1 ||
            cfgfile_str(st, g, "code", 1, r->code, sizeof r->code) == -1 ||
            cfgfile_str(st, g, "track", 1, track, sizeof track) == -1 ||
            config_labels(st, g, r->label) == -1)
            return -1;
        if (!config_code_valid(r->code))
            return cfgfile_fail(st, config_setting_get_member(g, "code"),
                                "reason code '%s': a letter, then a-z, 0-9 and _", r->code);
        t = config_track_parse(track);
        if (t != TRACK_NATURAL && t != TRACK_WELFARE)
            return cfgfile_fail(st, config_setting_get_member(g, "track"),
                                "reason '%s': track '%s' is not natural or welfare", r->code,
                                track);
        r->track = (enum config_track)t;
        seen |= TRACK_BIT(t);
        for (j = 0; j < i; j++)
            if (strcmp(gr->reasons[j].code, r->code) == 0)
                return cfgfile_fail(st, g, "two reasons have the code '%s'", r->code);
        if (strcmp(r->code, "candidate_confirmed") == 0 && t != TRACK_WELFARE)
            return cfgfile_fail(st, g, "reason 'candidate_confirmed' records a welfare graduation");
    }
    for (i = TRACK_NATURAL; i < TRACK_COUNT; i++)
        if ((seen & TRACK_BIT(i)) == 0)
            return cfgfile_fail(st, list, "'reasons' has none for track '%s'",
                                config_track_names[i]);
    return 0;
}

static int
config_load_outcomes(struct cfgfile *st, struct config_graduation *gr, const config_setting_t *list)
{
    size_t i, j;

    if ((gr->visit_outcomes =
             config_list_new(st, list, "'visit_outcomes' must be a list ( { code = 1; }, ... )",
                             sizeof *gr->visit_outcomes, &gr->nvisit_outcomes)) == NULL)
        return -1;
    for (i = 0; i < gr->nvisit_outcomes; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        struct config_visit_outcome *o = &gr->visit_outcomes[i];
        uint64_t code = 0;

        if (!config_setting_is_group(g))
            return cfgfile_fail(st, g, "each visit outcome must be a group { code = 1; }");
        if (cfgfile_members(st, g, config_outcome_keys, "a visit outcome") == -1 ||
            cfgfile_u64(st, g, "code", 1, 99, 1, &code) == -1 ||
            config_labels(st, g, o->label) == -1)
            return -1;
        o->code = (unsigned)code;
        for (j = 0; j < i; j++)
            if (gr->visit_outcomes[j].code == o->code)
                return cfgfile_fail(st, g, "two visit outcomes have the code %u", o->code);
    }
    return 0;
}

static int
config_load_graduation(struct cfgfile *st, struct config *c)
{
    struct config_graduation *gr = &c->graduation;
    const config_setting_t *g, *f = NULL, *list;

    gr->follow_up_months[TRACK_WELFARE] = 12;
    gr->follow_up_months[TRACK_NATURAL] = 0;
    gr->decline_months = 6;
    gr->checkin_day = 5;
    if (cfgfile_group(st, "graduation", config_graduation_keys, &g) == -1)
        return -1;
    if (g != NULL && (f = config_setting_get_member(g, "follow_up_months")) != NULL &&
        (!config_setting_is_group(f) ||
         cfgfile_members(st, f, config_follow_up_keys, "follow_up_months") == -1))
        return cfgfile_fail(st, f, "'follow_up_months' must be { welfare = 12; natural = 0; }");
    if (cfgfile_unsigned(st, f, "welfare", 0, 120, &gr->follow_up_months[TRACK_WELFARE]) == -1 ||
        cfgfile_unsigned(st, f, "natural", 0, 120, &gr->follow_up_months[TRACK_NATURAL]) == -1 ||
        cfgfile_unsigned(st, g, "decline_months", 0, 60, &gr->decline_months) == -1 ||
        cfgfile_unsigned(st, g, "checkin_day", 0, 28, &gr->checkin_day) == -1)
        return -1;
    if (g != NULL && (list = config_setting_get_member(g, "reasons")) != NULL) {
        if (config_load_reasons(st, gr, list) == -1)
            return -1;
    } else {
        if ((gr->reasons = malloc(sizeof config_reasons_default)) == NULL)
            return cfgfile_fail_line(st, 0, "out of memory");
        memcpy(gr->reasons, config_reasons_default, sizeof config_reasons_default);
        gr->nreasons = sizeof config_reasons_default / sizeof config_reasons_default[0];
    }
    if (g != NULL && (list = config_setting_get_member(g, "visit_outcomes")) != NULL)
        return config_load_outcomes(st, gr, list);
    if ((gr->visit_outcomes = malloc(sizeof config_outcomes_default)) == NULL)
        return cfgfile_fail_line(st, 0, "out of memory");
    memcpy(gr->visit_outcomes, config_outcomes_default, sizeof config_outcomes_default);
    gr->nvisit_outcomes = sizeof config_outcomes_default / sizeof config_outcomes_default[0];
    return 0;
}

/* -- training: the certification rule of assistants */

static const char *const config_training_keys[] = {"certification", NULL};
static const char *const config_cert_keys[] = {"kind", "all_sessions", "passed", NULL};

static int
config_load_training(struct cfgfile *st, struct config *c)
{
    struct config_training *t = &c->training;
    const config_setting_t *g, *r = NULL;

    snprintf(t->cert_kind, sizeof t->cert_kind, "tot");
    t->cert_all_sessions = 1;
    t->cert_passed = 1;
    if (cfgfile_group(st, "training", config_training_keys, &g) == -1)
        return -1;
    if (g != NULL && (r = config_setting_get_member(g, "certification")) != NULL &&
        (!config_setting_is_group(r) ||
         cfgfile_members(st, r, config_cert_keys, "certification") == -1))
        return cfgfile_fail(st, r,
                            "'certification' must be { kind = \"tot\"; all_sessions = true;"
                            " passed = true; }");
    if (cfgfile_str(st, r, "kind", 0, t->cert_kind, sizeof t->cert_kind) == -1 ||
        cfgfile_bool(st, r, "all_sessions", &t->cert_all_sessions) == -1 ||
        cfgfile_bool(st, r, "passed", &t->cert_passed) == -1)
        return -1;
    if (strcmp(t->cert_kind, "tot") != 0 && strcmp(t->cert_kind, "in_person") != 0 &&
        strcmp(t->cert_kind, "online") != 0)
        return cfgfile_fail(st, config_setting_get_member(r, "kind"),
                            "'kind' must be \"tot\", \"in_person\" or \"online\"");
    return 0;
}

/* -- import: the NIK key and the batch size of kabard import */

static const char *const config_import_keys[] = {"nik_key_file", "batch_rows", NULL};

static int
config_load_import(struct cfgfile *st, struct config *c)
{
    const config_setting_t *g;
    char keyfile[1024] = "";

    c->import.batch_rows = 5000;
    if (cfgfile_group(st, "import", config_import_keys, &g) == -1)
        return -1;
    if (cfgfile_path(st, g, "nik_key_file", keyfile, sizeof keyfile) == -1 ||
        cfgfile_unsigned(st, g, "batch_rows", 1, 100000, &c->import.batch_rows) == -1)
        return -1;
    if (keyfile[0] == '\0')
        return 0;
    if (config_read_secret(st, g, "nik_key_file", keyfile, c->import.nik_key,
                           sizeof c->import.nik_key) == -1)
        return -1;
    if (strlen(c->import.nik_key) < 32)
        return cfgfile_fail(st, config_setting_get_member(g, "nik_key_file"),
                            "the NIK key in %s must be at least 32 characters", keyfile);
    return 0;
}

const struct config_reason *
config_reason_find(const struct config *c, const char *code)
{
    size_t i;

    for (i = 0; i < c->graduation.nreasons; i++)
        if (strcmp(c->graduation.reasons[i].code, code) == 0)
            return &c->graduation.reasons[i];
    return NULL;
}

const struct config_visit_outcome *
config_visit_outcome_find(const struct config *c, unsigned code)
{
    size_t i;

    for (i = 0; i < c->graduation.nvisit_outcomes; i++)
        if (c->graduation.visit_outcomes[i].code == code)
            return &c->graduation.visit_outcomes[i];
    return NULL;
}

static int
config_load_admin(struct cfgfile *st, struct config *c)
{
    struct config_admin *a = &c->admin;
    const config_setting_t *g;
    uint64_t v = 200u << 20;

    a->enabled = 1;
    snprintf(a->address, sizeof a->address, "127.0.0.1");
    a->port = 8081;
    a->session_idle = 1800;
    a->session_max = 12 * 3600;
    a->lockout_failures = 5;
    a->lockout_seconds = 900;
    a->login_per_minute = 10;
    a->page_size = 50;
    a->chart_cache_seconds = 600;
    if (cfgfile_group(st, "admin", config_admin_keys, &g) == -1 ||
        cfgfile_bool(st, g, "enabled", &a->enabled) == -1 ||
        cfgfile_str(st, g, "address", 0, a->address, sizeof a->address) == -1 ||
        cfgfile_unsigned(st, g, "port", 0, 65535, &a->port) == -1 ||
        cfgfile_unsigned(st, g, "session_idle", 1, 7 * 86400, &a->session_idle) == -1 ||
        cfgfile_unsigned(st, g, "session_max", 1, 30 * 86400, &a->session_max) == -1 ||
        cfgfile_bool(st, g, "secure_cookie", &a->secure_cookie) == -1 ||
        cfgfile_unsigned(st, g, "lockout_failures", 1, 100, &a->lockout_failures) == -1 ||
        cfgfile_unsigned(st, g, "lockout_seconds", 1, 86400, &a->lockout_seconds) == -1 ||
        cfgfile_unsigned(st, g, "login_per_minute", 1, 1000, &a->login_per_minute) == -1 ||
        cfgfile_unsigned(st, g, "page_size", 5, 500, &a->page_size) == -1 ||
        cfgfile_u64(st, g, "import_max_bytes", 1 << 20, 1ull << 32, 0, &v) == -1 ||
        cfgfile_path(st, g, "import_spool", a->import_spool, sizeof a->import_spool) == -1 ||
        cfgfile_unsigned(st, g, "chart_cache_seconds", 0, 86400, &a->chart_cache_seconds) == -1)
        return -1;
    a->import_max_bytes = (size_t)v;
    if (a->enabled && a->port != 0 && a->port == c->listen_port &&
        strcmp(a->address, c->listen_address) == 0)
        return cfgfile_fail(st, config_setting_get_member(g, "port"),
                            "the admin pages need their own port, not the aggregators' one");
    return 0;
}

static int
config_load_rest(struct cfgfile *st, struct config *c)
{
    const config_setting_t *g;
    char level[16] = "info";

    snprintf(c->listen_address, sizeof c->listen_address, "127.0.0.1");
    c->listen_port = 8080;
    if (cfgfile_members(st, cfgfile_root(st), config_top_keys, NULL) == -1 ||
        cfgfile_str(st, cfgfile_root(st), "instance", 0, c->instance, sizeof c->instance) == -1)
        return -1;
    if (cfgfile_group(st, "listen", config_listen_keys, &g) == -1 ||
        cfgfile_str(st, g, "address", 0, c->listen_address, sizeof c->listen_address) == -1 ||
        cfgfile_unsigned(st, g, "port", 0, 65535, &c->listen_port) == -1)
        return -1;
    if (cfgfile_group(st, "log", config_log_keys, &g) == -1 ||
        cfgfile_str(st, g, "level", 0, level, sizeof level) == -1 ||
        cfgfile_bool(st, g, "personal_data", &c->log_personal) == -1)
        return -1;
    if (log_level_parse(level, &c->log_level) == -1)
        return cfgfile_fail(st, config_setting_get_member(g, "level"),
                            "log level '%s' is not one of error, warn, info, debug", level);
    snprintf(c->sql_dir, sizeof c->sql_dir, "%s/../sql", st->dir);
    snprintf(c->dialogs_path, sizeof c->dialogs_path, "%s/dialogs.conf", st->dir);
    snprintf(c->keywords_path, sizeof c->keywords_path, "%s/keywords.conf", st->dir);
    snprintf(c->lessons_path, sizeof c->lessons_path, "%s/lessons.conf", st->dir);
    if (cfgfile_group(st, "paths", config_paths_keys, &g) == -1 ||
        cfgfile_path(st, g, "sql", c->sql_dir, sizeof c->sql_dir) == -1 ||
        cfgfile_path(st, g, "dialogs", c->dialogs_path, sizeof c->dialogs_path) == -1 ||
        cfgfile_path(st, g, "keywords", c->keywords_path, sizeof c->keywords_path) == -1 ||
        cfgfile_path(st, g, "lessons", c->lessons_path, sizeof c->lessons_path) == -1)
        return -1;
    c->lessons_optional = g == NULL || config_setting_get_member(g, "lessons") == NULL;
    c->ussd.session_idle = 180;
    c->ussd.resume_window = 86400;
    c->ussd.screen_limit = 182;
    c->ussd.max_sessions = 200000;
    c->ussd.max_session_mb = 100;
    c->ussd.unknown_idle = 30;
    if (cfgfile_group(st, "ussd", config_ussd_keys, &g) == -1 ||
        cfgfile_unsigned(st, g, "session_idle", 10, 3600, &c->ussd.session_idle) == -1 ||
        cfgfile_unsigned(st, g, "resume_window", 0, 30 * 86400, &c->ussd.resume_window) == -1 ||
        cfgfile_unsigned(st, g, "screen_limit", 60, 182, &c->ussd.screen_limit) == -1 ||
        cfgfile_unsigned(st, g, "max_sessions", 10, 10000000, &c->ussd.max_sessions) == -1 ||
        cfgfile_unsigned(st, g, "max_session_mb", 1, 65536, &c->ussd.max_session_mb) == -1 ||
        cfgfile_unsigned(st, g, "unknown_idle", 5, 3600, &c->ussd.unknown_idle) == -1)
        return -1;
    if (c->ussd.unknown_idle > c->ussd.session_idle) {
        const config_setting_t *at =
            g != NULL ? config_setting_get_member(g, "unknown_idle") : NULL;

        /* the default shortens with session_idle; a value set longer is a mistake */
        if (at == NULL)
            c->ussd.unknown_idle = c->ussd.session_idle;
        else
            return cfgfile_fail(st, at, "unknown_idle (%u) is longer than session_idle (%u)",
                                c->ussd.unknown_idle, c->ussd.session_idle);
    }
    if (config_get_nets(st, cfgfile_root(st), "trusted_proxies", &c->proxies, &c->nproxies) == -1)
        return -1;
    return 0;
}

/* keywords.conf is read once: the keyword words and the reply texts both live in it */
static int
config_load_keywords(struct config *c, char *err, size_t errlen)
{
    struct cfgfile f;
    char derr[512];
    int rc = -1;

    if (cfgfile_open(&f, c->keywords_path, err, errlen) == 0 &&
        (c->keywords = keyword_set_from(&f)) != NULL && (c->texts = texts_from(&f)) != NULL)
        rc = 0;
    cfgfile_close(&f);
    if (rc == 0 && texts_check(c->texts, c->outbox.max_segments, derr, sizeof derr) == -1) {
        snprintf(err, errlen, "%s:0: %s (outbox.max_segments is %u)", c->keywords_path, derr,
                 c->outbox.max_segments);
        rc = -1;
    }
    return rc;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
    struct cfgfile st;
    struct config *c;

    if ((c = calloc(1, sizeof *c)) == NULL) {
        snprintf(err, errlen, "%s:0: out of memory", path);
        return NULL;
    }
    c->refs = 1;
    snprintf(c->path, sizeof c->path, "%s", path);
    if (cfgfile_open(&st, path, err, errlen) == -1)
        goto fail;
    if (config_load_rest(&st, c) == -1 || config_load_http(&st, c) == -1 ||
        config_load_db(&st, c) == -1 || config_load_providers(&st, c) == -1 ||
        config_load_alerts(&st, c) == -1 || config_load_channels(&st, c) == -1 ||
        config_load_admin(&st, c) == -1 || config_load_graduation(&st, c) == -1 ||
        config_load_training(&st, c) == -1 || config_load_import(&st, c) == -1)
        goto fail;
    for (size_t i = 0; i < c->nchannels; i++) {
        const struct config_channel *ch = &c->channels[i];

        if (ch->provider[0] != '\0' && config_provider_find(c, ch->provider) == NULL) {
            cfgfile_fail(&st, config_lookup(&st.cf, "channels"),
                         "channel '%s' names provider '%s', which is not defined", ch->name,
                         ch->provider);
            goto fail;
        }
    }
    if (c->alerts.provider[0] != '\0' && config_provider_find(c, c->alerts.provider) == NULL) {
        cfgfile_fail_line(&st, 0, "alerts.provider '%s' is not defined", c->alerts.provider);
        goto fail;
    }
    if (config_load_keywords(c, err, errlen) == -1 ||
        (c->dialogs = dialog_set_load(c->dialogs_path, err, errlen)) == NULL)
        goto fail;
    /* the micro-lessons: without paths.lessons, an absent default file means no course. Its
     * screens are checked against a whole USSD screen: a smaller ussd.screen_limit pages them
     * with 99, as it does the menus, so the shipped course loads at any limit */
    if (!(c->lessons_optional && access(c->lessons_path, F_OK) != 0) &&
        (c->lessons = lesson_set_load(c->lessons_path, GSM7_USSD_SEPTETS, err, errlen)) == NULL)
        goto fail;
    /* the dialog set owns the lessons: a session keeps the course it began with */
    if (dialog_set_attach_lessons(c->dialogs, c->lessons, err, errlen) == -1)
        goto fail;
    cfgfile_close(&st);
    return c;
fail:
    cfgfile_close(&st);
    config_unref(c);
    return NULL;
}

struct config *
config_ref(struct config *c)
{
    c->refs++;
    return c;
}

void
config_unref(struct config *c)
{
    size_t i;

    if (c == NULL || --c->refs > 0)
        return;
    for (i = 0; i < c->nchannels; i++)
        free(c->channels[i].allow);
    free(c->channels);
    free(c->proxies);
    if (c->dialogs != NULL)
        dialog_set_unref(c->dialogs);
    if (c->keywords != NULL)
        keyword_set_free(c->keywords);
    texts_free(c->texts);
    for (i = 0; i < c->nproviders; i++)
        sodium_memzero(c->providers[i].secret, sizeof c->providers[i].secret);
    free(c->providers);
    free(c->graduation.reasons);
    free(c->graduation.visit_outcomes);
    sodium_memzero(c->db.password, sizeof c->db.password);
    free(c);
}

const char *
config_protocol_name(enum config_protocol p)
{
    switch (p) {
    case PROTO_AT:
        return "at";
    case PROTO_HUBTEL:
        return "hubtel";
    case PROTO_KANNEL:
        return "kannel";
    }
    return "?";
}

const struct config_provider *
config_provider_find(const struct config *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->nproviders; i++)
        if (strcmp(c->providers[i].name, name) == 0)
            return &c->providers[i];
    return NULL;
}

const struct config_channel *
config_channel_find(const struct config *c, const char *token, size_t len)
{
    const struct config_channel *found = NULL;
    size_t i;

    /* compare every token in full, so timing says nothing about which prefix matched */
    for (i = 0; i < c->nchannels; i++) {
        const struct config_channel *ch = &c->channels[i];
        size_t tl = strlen(ch->token);

        if (tl == len && sodium_memcmp(ch->token, token, len) == 0)
            found = ch;
    }
    return found;
}
