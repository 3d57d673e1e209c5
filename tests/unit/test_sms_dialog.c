#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog.h"
#include "sms_dialog.h"

static struct dialog_set *set;

static void
setup(void)
{
    const char *dir = getenv("KABAR_SRCDIR");
    char path[4096], err[512];

    snprintf(path, sizeof(path), "%s/config/dialogs.conf", dir && *dir ? dir : ".");
    set = dialog_set_load(path, err, sizeof(err));
    ck_assert_msg(set != NULL, "load %s: %s", path, err);
}

static void
teardown(void)
{
    dialog_set_unref(set);
    set = NULL;
}

static void
kpm_ctx(struct dialog_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->registered = 1;
    c->kpm_id = 1001;
    strcpy(c->lang, "id");
    strcpy(c->kpm_name, "Siti Aminah");
    strcpy(c->assistant_name, "Bu Ratna");
}

/* One SMS: the step from stored with answer; the caller frees st. */
static void
sms(const char *stored, const char *answer, struct sms_dialog_step *st)
{
    struct dialog_ctx c;

    kpm_ctx(&c);
    ck_assert_int_eq(sms_dialog_step(set, &c, stored, stored ? strlen(stored) : 0, answer,
                                     answer ? strlen(answer) : 0, st),
                     0);
}

START_TEST(test_bare_usaha_asks_the_status)
{
    struct sms_dialog_step st;

    sms(NULL, NULL, &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_ASK);
    ck_assert_str_eq(st.path, "1");
    ck_assert_msg(strstr(st.out.screen, "Usaha Anda") != NULL, "%s", st.out.screen);
    sms_dialog_step_free(&st);
    /* an empty stored path is a new dialog too, whatever the message says */
    sms("", "2", &st);
    ck_assert_str_eq(st.path, "1");
    sms_dialog_step_free(&st);
}
END_TEST

START_TEST(test_one_answer_a_message_to_the_report)
{
    static const struct {
        const char *answer, *screen;
    } steps[] = {{"1", "Jenis usaha"},   {"2", "Omzet"},   {"dua juta", "Masukkan angka"},
                 {"2500000", "pekerja"}, {"3", "Kendala"}, {"1", "Kirim"}};
    struct sms_dialog_step st;
    char path[SMS_DIALOG_PATH_MAX + 1] = "1", json[512];
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        sms(path, steps[i].answer, &st);
        ck_assert_int_eq(st.next, SMS_DIALOG_ASK);
        ck_assert_msg(strstr(st.out.screen, steps[i].screen) != NULL, "%s: %s", steps[i].answer,
                      st.out.screen);
        memcpy(path, st.path, sizeof(path));
        sms_dialog_step_free(&st);
    }
    ck_assert_str_eq(path, "1*1*2*dua juta*2500000*3*1");
    sms(path, "1", &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_ACTION);
    ck_assert_int_eq(st.out.action, DIALOG_ACT_BUSINESS);
    ck_assert_str_eq(st.out.screen, "");
    ck_assert_int_eq(dialog_session_answers_json(st.ds, json, sizeof(json)), 0);
    ck_assert_str_eq(json, "{\"status\":\"1\",\"kind\":\"2\",\"revenue\":\"2500000\","
                           "\"workers\":\"3\",\"difficulty\":\"1\"}");
    dialog_session_committed(st.ds, 1, 42, &st.out);
    ck_assert_msg(strstr(st.out.screen, "No. 42") != NULL, "%s", st.out.screen);
    sms_dialog_step_free(&st);
}
END_TEST

START_TEST(test_answer_trimmed_and_separators_dropped)
{
    struct sms_dialog_step st;

    sms("1", "  1.  ", &st);
    ck_assert_str_eq(st.path, "1*1");
    sms_dialog_step_free(&st);
    /* a '*' or a line break typed in an answer would make two answers of one */
    sms("1*1*2", "25*00\r\n000\n", &st);
    ck_assert_str_eq(st.path, "1*1*2*2500000");
    ck_assert_msg(strstr(st.out.screen, "pekerja") != NULL, "%s", st.out.screen);
    sms_dialog_step_free(&st);
}
END_TEST

START_TEST(test_too_many_wrong_answers_end_it)
{
    struct sms_dialog_step st;

    sms("1*x*y", "z", &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_ENDED);
    ck_assert_int_eq(st.out.end, 1);
    ck_assert_msg(strstr(st.out.screen, "terlalu banyak") != NULL, "%s", st.out.screen);
    sms_dialog_step_free(&st);
}
END_TEST

START_TEST(test_help_from_the_menu_is_an_action)
{
    struct sms_dialog_step st;

    sms("1*00*3*1", "1", &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_ACTION);
    ck_assert_int_eq(st.out.action, DIALOG_ACT_HELP);
    ck_assert_str_eq(dialog_session_answer(st.ds, "topic"), "1");
    sms_dialog_step_free(&st);
}
END_TEST

/* The issue: USAHA, then answers that bring the stored path to 1,024 bytes, then any further
 * SMS wrote one byte past the path. */
START_TEST(test_path_at_1024_bytes_then_one_more_sms)
{
    char answer[SMS_DIALOG_PATH_MAX], stored[SMS_DIALOG_PATH_MAX + 1];
    struct sms_dialog_step st;
    size_t n;

    /* "1", '*' and 1,022 bytes: a wrong answer, asked again, and the path exactly full */
    memset(answer, 'x', SMS_DIALOG_PATH_MAX - 2);
    answer[SMS_DIALOG_PATH_MAX - 2] = '\0';
    sms("1", answer, &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_ASK);
    ck_assert_uint_eq(strlen(st.path), SMS_DIALOG_PATH_MAX);
    ck_assert_msg(strstr(st.out.screen, "Usaha Anda") != NULL, "%s", st.out.screen);
    memcpy(stored, st.path, sizeof(stored));
    sms_dialog_step_free(&st);
    /* one more: no room for it, not even for an empty one */
    sms(stored, "1", &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_FULL);
    ck_assert_ptr_null(st.ds);
    ck_assert_str_eq(stored, st.path); /* untouched: st.path is a copy of what was stored */
    sms_dialog_step_free(&st);
    sms(stored, "", &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_FULL);
    sms_dialog_step_free(&st);
    /* one byte short: an empty answer still fits, and fills it */
    n = SMS_DIALOG_PATH_MAX - 1;
    stored[n] = '\0';
    sms(stored, " . ", &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_ASK);
    ck_assert_uint_eq(strlen(st.path), SMS_DIALOG_PATH_MAX);
    ck_assert_int_eq(st.path[n], '*');
    sms_dialog_step_free(&st);
    sms(stored, "1", &st);
    ck_assert_int_eq(st.next, SMS_DIALOG_FULL);
    sms_dialog_step_free(&st);
}
END_TEST

START_TEST(test_stored_path_over_the_limit_is_full)
{
    static char stored[SMS_DIALOG_PATH_MAX + 2];
    struct dialog_ctx c;
    struct sms_dialog_step st;

    kpm_ctx(&c);
    memset(stored, '1', sizeof(stored) - 1);
    ck_assert_int_eq(sms_dialog_step(set, &c, stored, SMS_DIALOG_PATH_MAX + 1, "1", 1, &st), 0);
    ck_assert_int_eq(st.next, SMS_DIALOG_FULL);
    sms_dialog_step_free(&st);
    /* read as a string: a NUL ends it */
    stored[1] = '\0';
    ck_assert_int_eq(sms_dialog_step(set, &c, stored, SMS_DIALOG_PATH_MAX + 1, "1", 1, &st), 0);
    ck_assert_int_eq(st.next, SMS_DIALOG_ASK);
    ck_assert_str_eq(st.path, "1*1");
    sms_dialog_step_free(&st);
}
END_TEST

static Suite *
sms_dialog_suite(void)
{
    Suite *s = suite_create("sms_dialog");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_bare_usaha_asks_the_status);
    tcase_add_test(tc, test_one_answer_a_message_to_the_report);
    tcase_add_test(tc, test_answer_trimmed_and_separators_dropped);
    tcase_add_test(tc, test_too_many_wrong_answers_end_it);
    tcase_add_test(tc, test_help_from_the_menu_is_an_action);
    tcase_add_test(tc, test_path_at_1024_bytes_then_one_more_sms);
    tcase_add_test(tc, test_stored_path_over_the_limit_is_full);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(sms_dialog_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
