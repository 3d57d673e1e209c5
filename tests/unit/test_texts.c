/* The reply texts: every id is in the shipped keywords.conf in both languages, placeholders are
 * filled, a missing text names file and line, and a text too long for its SMS parts is refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfgfile.h"
#include "texts.h"

static const char *
shipped(void)
{
    static char path[512];
    const char *s = getenv("KABAR_SRCDIR");

    snprintf(path, sizeof path, "%s/config/keywords.conf", s != NULL ? s : ".");
    return path;
}

static struct texts *
load(const char *path, char *err, size_t errlen)
{
    struct texts *x = NULL;
    struct cfgfile f;

    if (cfgfile_open(&f, path, err, errlen) == 0)
        x = texts_from(&f);
    cfgfile_close(&f);
    return x;
}

/* writes the shipped file with `from` replaced by `to` to a temporary file */
static const char *
variant(const char *from, const char *to)
{
    static char path[] = "/tmp/kabar-test-texts-XXXXXX";
    char buf[65536], *p;
    FILE *f;
    size_t n;
    int fd;

    ck_assert_ptr_nonnull(f = fopen(shipped(), "r"));
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(p = strstr(buf, from));
    memcpy(path, "/tmp/kabar-test-texts-XXXXXX", sizeof path);
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
    fwrite(buf, 1, (size_t)(p - buf), f);
    fputs(to, f);
    fputs(p + strlen(from), f);
    fclose(f);
    return path;
}

START_TEST(test_every_text_in_both_languages)
{
    char err[256], out[480];
    struct texts *x = load(shipped(), err, sizeof err);
    int id, en;

    ck_assert_msg(x != NULL, "%s", err);
    for (id = 0; id < TEXT_COUNT; id++)
        for (en = 0; en < 2; en++) {
            ck_assert_int_eq(texts_render(x, (enum text_id)id, en, NULL, out, sizeof out), 0);
            ck_assert_msg(out[0] != '\0', "%s is empty", texts_name((enum text_id)id));
        }
    ck_assert_int_eq(texts_check(x, 3, err, sizeof err), 0);
    ck_assert_int_eq(texts_render(x, TEXT_COUNT, 0, NULL, out, sizeof out), -1);
    ck_assert_str_eq(texts_name(TEXT_ALERT_FIRST + 1), "alert_help_requested");
    texts_free(x);
}
END_TEST

START_TEST(test_placeholders_filled_unknown_kept_truncated)
{
    char err[256], out[480], small[8];
    const char *path =
        variant("ack_ok = {\n        id = \"", "ack_ok = {\n        id = \"#{id} {nope} ");
    struct texts *x = load(path, err, sizeof err);
    const char *kv[] = {"id", "57", NULL};

    unlink(path);
    ck_assert_msg(x != NULL, "%s", err);
    texts_render(x, TEXT_ACK_OK, 0, kv, out, sizeof out);
    ck_assert_msg(strncmp(out, "#57 {nope} ", 11) == 0, "%s", out);
    texts_render(x, TEXT_ACK_OK, 0, kv, small, sizeof small);
    ck_assert_str_eq(small, "#57 {no");
    texts_free(x);
}
END_TEST

START_TEST(test_missing_text_names_file_and_line)
{
    char err[256];
    const char *path = variant("    ack_ok = {", "    ack_okay = {");
    struct texts *x = load(path, err, sizeof err);

    unlink(path);
    ck_assert_ptr_null(x);
    ck_assert_msg(strstr(err, "replies: missing 'ack_ok'") != NULL, "%s", err);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':', "%s", err);
    ck_assert_msg(strstr(err, ":0:") == NULL, "no line: %s", err);
}
END_TEST

START_TEST(test_too_long_for_one_part)
{
    char err[256];
    struct texts *x = load(shipped(), err, sizeof err);

    ck_assert_ptr_nonnull(x);
    ck_assert_int_eq(texts_check(x, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "does not fit 1 SMS part") != NULL, "%s", err);
    texts_free(x);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("texts");
    TCase *tc = tcase_create("texts");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_text_in_both_languages);
    tcase_add_test(tc, test_placeholders_filled_unknown_kept_truncated);
    tcase_add_test(tc, test_missing_text_names_file_and_line);
    tcase_add_test(tc, test_too_long_for_one_part);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
