/* config_load: the sample file loads; mistakes name file and line. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "config.h"

static char dir[256];

static const char *
srcdir(void)
{
    const char *s = getenv("KABAR_SRCDIR");

    return s != NULL ? s : ".";
}

/* the sample with its placeholders filled, then each pairs[2i] replaced by pairs[2i + 1]
 * (NULL-terminated; NULL pairs: none) */
static const char *
write_conf_n(const char *const *pairs)
{
    static char path[512];
    char in[512], buf[16384], out[20000], dialogs[512], keywords[512], lessons[512];
    FILE *f;
    size_t n;
    char *p;

    snprintf(in, sizeof in, "%s/config/kabard.conf.in", srcdir());
    snprintf(dialogs, sizeof dialogs, "%s/config/dialogs.conf", srcdir());
    snprintf(keywords, sizeof keywords, "%s/config/keywords.conf", srcdir());
    snprintf(lessons, sizeof lessons, "%s/config/lessons.conf", srcdir());
    ck_assert_ptr_nonnull(f = fopen(in, "r"));
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    size_t o = 0;

    out[0] = '\0';
    for (p = buf; *p != '\0' && o < sizeof out - 1024;) {
        const char *rep = NULL;
        size_t skip = 0;

        if (strncmp(p, "@PORT@", 6) == 0)
            rep = "0", skip = 6;
        else if (strncmp(p, "@ADMINPORT@", 11) == 0)
            rep = "0", skip = 11;
        else if (strncmp(p, "@DBSOCKET@", 10) == 0)
            rep = "/nonexistent.sock", skip = 10;
        else if (strncmp(p, "@DBPASSFILE@", 12) == 0)
            rep = "", skip = 12;
        else if (strncmp(p, "@SQLDIR@", 8) == 0)
            rep = "sql", skip = 8;
        else if (strncmp(p, "@DIALOGS@", 9) == 0)
            rep = dialogs, skip = 9;
        else if (strncmp(p, "@KEYWORDS@", 10) == 0)
            rep = keywords, skip = 10;
        else if (strncmp(p, "@LESSONS@", 9) == 0)
            rep = lessons, skip = 9;
        for (size_t i = 0; rep == NULL && pairs != NULL && pairs[i] != NULL; i += 2)
            if (strncmp(p, pairs[i], strlen(pairs[i])) == 0)
                rep = pairs[i + 1], skip = strlen(pairs[i]);
        if (rep != NULL) {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", rep);
            p += skip;
        } else {
            out[o++] = *p++;
        }
        out[o] = '\0';
    }
    snprintf(path, sizeof path, "%s/kabard.conf", dir);
    ck_assert_ptr_nonnull(f = fopen(path, "w"));
    fputs(out, f);
    fclose(f);
    return path;
}

/* the sample with `from` replaced by `to` */
static const char *
write_conf(const char *from, const char *to)
{
    const char *pairs[] = {from, to, NULL};

    return write_conf_n(from != NULL ? pairs : NULL);
}

/* config_load refuses the file, and err is "PATH:LINE: ..." with LINE > 0 and holding want */
static void
refused_at_line(const char *path, const char *want)
{
    char err[512] = "", prefix[600];

    ck_assert_msg(config_load(path, err, sizeof err) == NULL, "accepted; wanted '%s'", want);
    snprintf(prefix, sizeof prefix, "%s:", path);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "%s", err);
    ck_assert_msg(atoi(err + strlen(prefix)) > 0, "no line: %s", err);
    ck_assert_msg(strstr(err, want) != NULL, "'%s' not in: %s", want, err);
}

START_TEST(sample_loads)
{
    char err[512] = "";
    struct config *c = config_load(write_conf(NULL, NULL), err, sizeof err);

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->nchannels, 3);
    ck_assert_uint_eq(c->nproviders, 1);
    ck_assert_ptr_nonnull(config_provider_find(c, "log"));
    ck_assert_str_eq(c->channels[0].name, "demo");
    ck_assert_int_eq(c->channels[0].protocol, PROTO_AT);
    ck_assert_uint_eq(c->ussd.session_idle, 180);
    ck_assert_ptr_nonnull(config_channel_find(c, "demo", 4));
    ck_assert_ptr_null(config_channel_find(c, "dem", 3));
    config_unref(c);
}
END_TEST

START_TEST(unknown_key_names_line)
{
    char err[512] = "", want[600];
    const char *path = write_conf("  max_connections", "  max_conections");

    ck_assert_ptr_null(config_load(path, err, sizeof err));
    snprintf(want, sizeof want, "%s:", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    ck_assert_msg(strstr(err, "unknown setting 'max_conections'") != NULL, "%s", err);
    ck_assert_int_gt(atoi(err + strlen(want)), 0);
}
END_TEST

START_TEST(bad_values_refused)
{
    static const char *cases[][2] = {
        {"port = 3306;", "port = 99999;"},
        {"level = \"info\"", "level = \"noisy\""},
        {"protocol = \"at\"", "protocol = \"smoke\""},
        {"\"127.0.0.0/8\", \"::1\"]", "\"127.0.0.0/99\"]"},
        {"pool_size = 2;", "pool_size = \"2\";"},
        {"listen = {", "listen = {{"},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[512] = "";

        ck_assert_msg(config_load(write_conf(cases[i][0], cases[i][1]), err, sizeof err) == NULL,
                      "case %zu accepted", i);
        ck_assert_msg(strstr(err, "kabard.conf:") != NULL, "case %zu: %s", i, err);
    }
}
END_TEST

/* import.nik_key_file: the sample has none (a file with NIKs is then refused by the import);
 * a key is its file's first line, at least 32 characters; batch_rows is bounded */
START_TEST(import_key_and_batch_rows)
{
    char key[512], conf[700], err[512] = "";
    struct config *c = config_load(write_conf(NULL, NULL), err, sizeof err);
    FILE *f;

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->import.nik_key, "");
    ck_assert_uint_eq(c->import.batch_rows, 5000);
    config_unref(c);
    snprintf(key, sizeof key, "%s/nik.key", dir);
    ck_assert_ptr_nonnull(f = fopen(key, "w"));
    fputs("0123456789abcdef0123456789abcdef\nnot this line\n", f);
    fclose(f);
    snprintf(conf, sizeof conf, "import = { nik_key_file = \"%s\"; batch_rows = 200; };", key);
    c = config_load(
        write_conf("# import = { nik_key_file = \"/etc/kabar/nik.key\"; batch_rows = 5000; };",
                   conf),
        err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->import.nik_key, "0123456789abcdef0123456789abcdef");
    ck_assert_uint_eq(c->import.batch_rows, 200);
    config_unref(c);
    snprintf(conf, sizeof conf, "import = { nik_key_file = \"%s\"; batch_rows = 0; };", key);
    refused_at_line(
        write_conf("# import = { nik_key_file = \"/etc/kabar/nik.key\"; batch_rows = 5000; };",
                   conf),
        "batch_rows");
    ck_assert_ptr_nonnull(f = fopen(key, "w"));
    fputs("short\n", f);
    fclose(f);
    snprintf(conf, sizeof conf, "import = { nik_key_file = \"%s\"; };", key);
    refused_at_line(
        write_conf("# import = { nik_key_file = \"/etc/kabar/nik.key\"; batch_rows = 5000; };",
                   conf),
        "at least 32 characters");
}
END_TEST

START_TEST(admin_import_upload_keys)
{
    char err[512] = "";
    struct config *c = config_load(write_conf(NULL, NULL), err, sizeof err);

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->admin.import_max_bytes, 209715200);
    ck_assert_str_eq(c->admin.import_spool, ""); /* $TMPDIR or /tmp */
    config_unref(c);
    /* a relative spool is the configuration file's directory's */
    c = config_load(
        write_conf("  # import_spool = \"/var/spool/kabar\";", "import_spool = \"up\";"), err,
        sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(strncmp(c->admin.import_spool, dir, strlen(dir)), 0);
    ck_assert_str_eq(c->admin.import_spool + strlen(dir), "/up");
    config_unref(c);
    refused_at_line(write_conf("import_max_bytes = 209715200;", "import_max_bytes = 1000;"),
                    "import_max_bytes");
}
END_TEST

START_TEST(graduation_and_tracks_of_the_sample)
{
    char err[512] = "";
    struct config *c = config_load(write_conf(NULL, NULL), err, sizeof err);
    const struct config_reason *r;
    const unsigned none = TRACK_BIT(TRACK_NONE), welfare = TRACK_BIT(TRACK_WELFARE);
    int i;

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->graduation.follow_up_months[TRACK_WELFARE], 12);
    ck_assert_uint_eq(c->graduation.follow_up_months[TRACK_NATURAL], 0);
    ck_assert_uint_eq(c->graduation.decline_months, 6);
    ck_assert_uint_eq(c->graduation.checkin_day, 5);
    ck_assert_uint_eq(c->graduation.nreasons, 4);
    ck_assert_ptr_nonnull(r = config_reason_find(c, "left_pkh"));
    ck_assert_int_eq(r->track, TRACK_NATURAL);
    ck_assert_str_eq(r->label[1], "Left PKH");
    ck_assert_ptr_nonnull(r = config_reason_find(c, "candidate_confirmed"));
    ck_assert_int_eq(r->track, TRACK_WELFARE);
    ck_assert_ptr_null(config_reason_find(c, "left"));
    ck_assert_uint_eq(c->graduation.nvisit_outcomes, 5);
    ck_assert_ptr_nonnull(config_visit_outcome_find(c, 5));
    ck_assert_ptr_null(config_visit_outcome_find(c, 6));
    for (i = 0; i < RULE_COUNT; i++)
        if (i != RULE_SILENT && i != RULE_RELAPSE && i != RULE_HELP_REQUESTED &&
            i != RULE_LINK_REQUEST)
            ck_assert_uint_eq(c->alerts.rules[i].tracks, none);
    ck_assert_uint_eq(c->alerts.rules[RULE_HELP_REQUESTED].tracks, TRACK_ALL);
    ck_assert_uint_eq(c->alerts.rules[RULE_LINK_REQUEST].tracks, TRACK_ALL);
    ck_assert_uint_eq(c->alerts.rules[RULE_SILENT].tracks, none | welfare);
    ck_assert_uint_eq(c->alerts.rules[RULE_RELAPSE].tracks, welfare);
    ck_assert_str_eq(config_rule_names[RULE_RELAPSE], "relapse");
    ck_assert_int_eq(c->alerts.rules[RULE_RELAPSE].immediate, 1);
    ck_assert_uint_eq(c->alerts.rules[RULE_RELAPSE].percent, 30);
    ck_assert_uint_eq(c->alerts.rules[RULE_RELAPSE].months, 12);
    ck_assert_uint_eq(c->alerts.nudge_tracks, none | welfare);
    ck_assert_uint_eq(c->alerts.remind_tracks, none | welfare);
    ck_assert_int_eq(config_track_parse("natural"), TRACK_NATURAL);
    ck_assert_int_eq(config_track_parse("Natural"), -1);
    config_unref(c);
}
END_TEST

/* without the graduation group, the rules' tracks and nudge_tracks: the same values */
START_TEST(graduation_and_tracks_defaults)
{
    static const char *const pairs[] = {"  nudge_tracks = [\"none\", \"welfare\"];",
                                        "",
                                        "  rules = {",
                                        "  /* rules = {",
                                        "  };\n};\n\n# Graduation",
                                        "  }; */\n};\n\n/* Graduation",
                                        "\n# Proxies (nginx)",
                                        "*/\n# Proxies (nginx)",
                                        NULL};
    char err[512] = "";
    struct config *c = config_load(write_conf_n(pairs), err, sizeof err);
    int i;

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->graduation.follow_up_months[TRACK_WELFARE], 12);
    ck_assert_uint_eq(c->graduation.decline_months, 6);
    ck_assert_uint_eq(c->graduation.checkin_day, 5);
    ck_assert_uint_eq(c->graduation.nreasons, 4);
    ck_assert_ptr_nonnull(config_reason_find(c, "business_sustains"));
    ck_assert_uint_eq(c->graduation.nvisit_outcomes, 5);
    for (i = 0; i < RULE_COUNT; i++)
        ck_assert_uint_eq(c->alerts.rules[i].tracks,
                          i == RULE_SILENT    ? TRACK_BIT(TRACK_NONE) | TRACK_BIT(TRACK_WELFARE)
                          : i == RULE_RELAPSE ? TRACK_BIT(TRACK_WELFARE)
                          : i == RULE_HELP_REQUESTED || i == RULE_LINK_REQUEST
                              ? TRACK_ALL
                              : TRACK_BIT(TRACK_NONE));
    ck_assert_int_eq(c->alerts.rules[RULE_RELAPSE].enabled, 1);
    ck_assert_int_eq(c->alerts.rules[RULE_RELAPSE].immediate, 1);
    ck_assert_uint_eq(c->alerts.rules[RULE_RELAPSE].percent, 30);
    ck_assert_uint_eq(c->alerts.rules[RULE_RELAPSE].months, 12);
    ck_assert_uint_eq(c->alerts.nudge_tracks, TRACK_BIT(TRACK_NONE) | TRACK_BIT(TRACK_WELFARE));
    ck_assert_uint_eq(c->alerts.remind_tracks, c->alerts.nudge_tracks);
    config_unref(c);
}
END_TEST

/* bound to `k.graduation IN (?, ?, ?)`: the names of the mask, "" (no track) for the rest */
START_TEST(track_values_bind_exactly_the_mask)
{
    const char *v[TRACK_COUNT];
    unsigned mask;
    int t;

    for (mask = 0; mask <= TRACK_ALL; mask++) {
        config_track_values(mask, v);
        for (t = 0; t < TRACK_COUNT; t++)
            ck_assert_str_eq(v[t], (mask & TRACK_BIT(t)) != 0 ? config_track_names[t] : "");
    }
    config_track_values(TRACK_BIT(TRACK_WELFARE), v);
    ck_assert_str_eq(v[0], "");
    ck_assert_str_eq(v[1], "");
    ck_assert_str_eq(v[2], "welfare");
    /* bits above the three tracks name nothing */
    config_track_values(~0u, v);
    ck_assert_str_eq(v[0], "none");
    ck_assert_str_eq(v[2], "welfare");
}
END_TEST

START_TEST(remind_tracks_follow_nudge_tracks_unless_given)
{
    char err[512] = "";
    struct config *c = config_load(
        write_conf("nudge_tracks = [\"none\", \"welfare\"];", "nudge_tracks = [\"natural\"];"), err,
        sizeof err);

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->alerts.nudge_tracks, TRACK_BIT(TRACK_NATURAL));
    ck_assert_uint_eq(c->alerts.remind_tracks, TRACK_BIT(TRACK_NATURAL));
    config_unref(c);
    c = config_load(write_conf("# remind_tracks = [\"none\", \"welfare\"];",
                               "remind_tracks = [\"welfare\", \"natural\", \"none\"];"),
                    err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->alerts.nudge_tracks, TRACK_BIT(TRACK_NONE) | TRACK_BIT(TRACK_WELFARE));
    ck_assert_uint_eq(c->alerts.remind_tracks, TRACK_ALL);
    config_unref(c);
}
END_TEST

/* alerts.lessons_not_started: off in the sample, weeks and tracks as written, checked */
START_TEST(lessons_not_started_off_by_default_and_checked)
{
    static const char from[] =
        "lessons_not_started = { enabled = false; weeks = 2; tracks = [\"none\"]; };";
    char err[512] = "";
    struct config *c = config_load(write_conf(NULL, NULL), err, sizeof err);

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->alerts.lessons_not_started.enabled, 0);
    ck_assert_uint_eq(c->alerts.lessons_not_started.weeks, 2);
    ck_assert_uint_eq(c->alerts.lessons_not_started.tracks, TRACK_BIT(TRACK_NONE));
    config_unref(c);
    c = config_load(write_conf(from, "lessons_not_started = { enabled = true; weeks = 3;"
                                     " tracks = [\"none\", \"welfare\"]; };"),
                    err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_int_eq(c->alerts.lessons_not_started.enabled, 1);
    ck_assert_uint_eq(c->alerts.lessons_not_started.weeks, 3);
    ck_assert_uint_eq(c->alerts.lessons_not_started.tracks,
                      TRACK_BIT(TRACK_NONE) | TRACK_BIT(TRACK_WELFARE));
    config_unref(c);
    refused_at_line(write_conf(from, "lessons_not_started = { enabled = true; weeks = 0; };"),
                    "weeks");
    refused_at_line(
        write_conf(from, "lessons_not_started = { enabled = true; tracks = [\"x\"]; };"),
        "'lessons_not_started.tracks': unknown track 'x'");
    refused_at_line(write_conf(from, "lessons_not_started = { enabled = true; days = 3; };"),
                    "days");
}
END_TEST

START_TEST(graduation_and_tracks_errors_name_the_line)
{
    static const char *const cases[][3] = {
        /* an unknown track: in a rule, in the nudge, in a reason */
        {"tracks = [\"welfare\"]; };", "tracks = [\"wellfare\"]; };",
         "'relapse.tracks': unknown track 'wellfare'"},
        {"nudge_tracks = [\"none\", \"welfare\"];", "nudge_tracks = [\"none\", \"graduated\"];",
         "'alerts.nudge_tracks': unknown track 'graduated'"},
        {"# remind_tracks = [\"none\", \"welfare\"];", "remind_tracks = [1];",
         "'alerts.remind_tracks': element 1 is not a string"},
        {"track = \"natural\"; id = \"Keluar", "track = \"nature\"; id = \"Keluar",
         "reason 'left_pkh': track 'nature' is not natural or welfare"},
        {"track = \"natural\"; id = \"Keluar", "track = \"none\"; id = \"Keluar",
         "reason 'left_pkh': track 'none' is not natural or welfare"},
        /* duplicate codes */
        {"code = \"left_pkh\"", "code = \"business_sustains\"",
         "two reasons have the code 'business_sustains'"},
        {"{ code = 2;", "{ code = 1;", "two visit outcomes have the code 1"},
        /* an empty tracks list, a track twice */
        {"business_closed = { enabled = true; urgency = \"immediate\"; tracks = [\"none\"]; };",
         "business_closed = { enabled = true; urgency = \"immediate\"; tracks = []; };",
         "'business_closed.tracks' is empty"},
        {"nudge_tracks = [\"none\", \"welfare\"];", "nudge_tracks = [];",
         "'alerts.nudge_tracks' is empty"},
        {"tracks = [\"none\", \"welfare\"]; };", "tracks = [\"welfare\", \"welfare\"]; };",
         "'silent.tracks' names track 'welfare' twice"},
        /* the rest of the group */
        {"code = \"left_pkh\"", "code = \"Left-PKH\"", "reason code 'Left-PKH'"},
        {"code = \"candidate_confirmed\"; track = \"welfare\"",
         "code = \"candidate_confirmed\"; track = \"natural\"",
         "'candidate_confirmed' records a welfare graduation"},
        {"en = \"Left PKH\";", "en = \"\";", "'en' must be a non-empty UTF-8 label"},
        {"{ code = 5;", "{ code = 100;", "code"},
        {"welfare = 12; natural = 0;", "welfare = 12; natural = 0; none = 3;",
         "unknown setting 'none'"},
        {"decline_months = 6;", "decline_months = 61;", "decline_months"},
        {"checkin_day = 5;", "checkin_day = 31;", "checkin_day"},
    };
    static const char *const no_welfare[] = {"track = \"welfare\";\n      id = \"Usaha",
                                             "track = \"natural\";\n      id = \"Usaha",
                                             "code = \"candidate_confirmed\"; track = \"welfare\"",
                                             "code = \"other\"; track = \"natural\"", NULL};
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        refused_at_line(write_conf(cases[i][0], cases[i][1]), cases[i][2]);
    refused_at_line(write_conf_n(no_welfare), "'reasons' has none for track 'welfare'");
}
END_TEST

/* database.hosts: the entries a cluster's kabard lists, each parsed strictly */
START_TEST(db_host_parse)
{
    static const struct {
        const char *in, *host;
        unsigned port;
        const char *socket;
    } good[] = {
        {"127.0.0.1:3307", "127.0.0.1", 3307, ""},
        {"db2.example", "db2.example", 3306, ""},
        {"[::1]:3310", "::1", 3310, ""},
        {"[fe80::1]", "fe80::1", 3306, ""},
        {"/run/mysqld/galera-2.sock", "", 0, "/run/mysqld/galera-2.sock"},
    };
    static const char *bad[] = {"",       "db:",    "::1:3306", "[::1",     "[]:3306",
                                "[::1]x", "db:0",   ":3306",    "db:65536", "db:33x",
                                "db:-1",  "a b:33", "db:3306 ", "db: 3306"};
    struct config_db_host h;
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(config_db_host_parse(good[i].in, &h) == 0, "'%s' refused", good[i].in);
        ck_assert_str_eq(h.host, good[i].host);
        ck_assert_uint_eq(h.port, good[i].port);
        ck_assert_str_eq(h.socket, good[i].socket);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(config_db_host_parse(bad[i], &h) == -1, "'%s' accepted", bad[i]);
}
END_TEST

/* without database.hosts the socket (or host and port) is the one host; with it, the list in
 * order, and socket is refused beside it */
START_TEST(db_hosts_list)
{
    char err[512] = "";
    struct config *c = config_load(write_conf(NULL, NULL), err, sizeof err);

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->db.nhosts, 1);
    ck_assert_str_eq(c->db.hosts[0].socket, "/nonexistent.sock");
    config_unref(c);
    c = config_load(write_conf("  socket = \"@DBSOCKET@\";",
                               "  socket = \"\"; hosts = [\"127.0.0.1:3307\", \"[::1]:3308\", "
                               "\"/tmp/g3.sock\"];"),
                    err, sizeof err);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->db.nhosts, 3);
    ck_assert_str_eq(c->db.hosts[0].host, "127.0.0.1");
    ck_assert_uint_eq(c->db.hosts[0].port, 3307);
    ck_assert_str_eq(c->db.hosts[1].host, "::1");
    ck_assert_str_eq(c->db.hosts[2].socket, "/tmp/g3.sock");
    config_unref(c);
    refused_at_line(write_conf("  host = \"127.0.0.1\";", "  hosts = [\"127.0.0.1:3307\"];"),
                    "either 'socket' or 'hosts'");
    refused_at_line(
        write_conf("  socket = \"@DBSOCKET@\";", "  socket = \"\"; hosts = [\"127.0.0.1:99999\"];"),
        "'hosts' entry 1");
    refused_at_line(write_conf("  socket = \"@DBSOCKET@\";", "  socket = \"\"; hosts = [];"),
                    "1 to 8 entries");
}
END_TEST

START_TEST(net_match)
{
    struct config_net n[2];
    struct sockaddr_in a;

    ck_assert_int_eq(config_net_parse("10.1.0.0/16", &n[0]), 0);
    ck_assert_int_eq(config_net_parse("::1", &n[1]), 0);
    ck_assert_int_eq(config_net_parse("10.1.0.0/33", &n[0]), -1);
    ck_assert_int_eq(config_net_parse("nope", &n[0]), -1);
    config_net_parse("10.1.0.0/16", &n[0]);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, "10.1.200.3", &a.sin_addr);
    ck_assert_int_eq(config_net_match(n, 2, (struct sockaddr *)&a), 1);
    inet_pton(AF_INET, "10.2.0.1", &a.sin_addr);
    ck_assert_int_eq(config_net_match(n, 2, (struct sockaddr *)&a), 0);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    SRunner *sr;
    int failed;

    snprintf(dir, sizeof dir, "/tmp/kabar-config-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return 1;
    tcase_add_test(tc, sample_loads);
    tcase_add_test(tc, unknown_key_names_line);
    tcase_add_test(tc, bad_values_refused);
    tcase_add_test(tc, import_key_and_batch_rows);
    tcase_add_test(tc, admin_import_upload_keys);
    tcase_add_test(tc, net_match);
    tcase_add_test(tc, db_host_parse);
    tcase_add_test(tc, db_hosts_list);
    tcase_add_test(tc, graduation_and_tracks_of_the_sample);
    tcase_add_test(tc, graduation_and_tracks_defaults);
    tcase_add_test(tc, remind_tracks_follow_nudge_tracks_unless_given);
    tcase_add_test(tc, track_values_bind_exactly_the_mask);
    tcase_add_test(tc, graduation_and_tracks_errors_name_the_line);
    tcase_add_test(tc, lessons_not_started_off_by_default_and_checked);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
