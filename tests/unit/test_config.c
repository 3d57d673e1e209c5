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

/* the sample with its placeholders filled, then `from` replaced by `to` */
static const char *
write_conf(const char *from, const char *to)
{
    static char path[512];
    char in[512], buf[16384], out[20000], dialogs[512], keywords[512];
    FILE *f;
    size_t n;
    char *p;

    snprintf(in, sizeof in, "%s/config/kabard.conf.in", srcdir());
    snprintf(dialogs, sizeof dialogs, "%s/config/dialogs.conf", srcdir());
    snprintf(keywords, sizeof keywords, "%s/config/keywords.conf", srcdir());
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
        else if (from != NULL && strncmp(p, from, strlen(from)) == 0)
            rep = to, skip = strlen(from);
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
    tcase_add_test(tc, net_match);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
