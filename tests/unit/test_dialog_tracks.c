/* The dialog engine and the graduation tracks: conditions on the KPM's track, follow-up period,
 * support opt-in and exit survey (the short form "a == b && c" too), conditions on options, the
 * shipped per-track menus and their actions, and the assistant's menu texts. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialog.h"

static const char MENU_NONE[] = "Kabar KPM - Halo Ibu Siti Aminah\n"
                                "1 Lapor usaha\n"
                                "2 Lapor pelatihan\n"
                                "3 Minta bantuan pendamping\n"
                                "4 Laporan saya\n"
                                "5 Bahasa/Language\n"
                                "6 Belajar";

static struct dialog_set *
load_shipped(void)
{
    const char *dir = getenv("KABAR_SRCDIR");
    char path[4096], err[512];
    struct dialog_set *set;

    snprintf(path, sizeof(path), "%s/config/dialogs.conf", dir && *dir ? dir : ".");
    set = dialog_set_load(path, err, sizeof(err));
    ck_assert_msg(set != NULL, "load %s: %s", path, err);
    return set;
}

static void
ctx(struct dialog_ctx *c, const char *track, int follow_up, int opt_in, int survey_done)
{
    memset(c, 0, sizeof(*c));
    c->registered = 1;
    c->kpm_id = 7;
    strcpy(c->lang, "id");
    strcpy(c->kpm_name, "Siti Aminah");
    strcpy(c->assistant_name, "Bu Ratna");
    c->details = 1;
    snprintf(c->track, sizeof(c->track), "%s", track);
    c->follow_up = follow_up;
    c->support_opt_in = opt_in;
    c->exit_survey_done = survey_done;
}

static struct dialog_session *
begin(struct dialog_set *set, const struct dialog_ctx *c, struct dialog_out *o)
{
    struct dialog_session *s = dialog_session_new(set, c, 182);

    ck_assert_ptr_nonnull(s);
    dialog_session_begin(s, o);
    return s;
}

static void
drive(struct dialog_session *s, const char *path, struct dialog_out *o)
{
    char buf[256], *p = buf, *tok;

    snprintf(buf, sizeof(buf), "%s", path);
    while ((tok = strsep(&p, "*")) != NULL)
        dialog_session_input(s, tok, strlen(tok), o);
}

static const char *
first_screen(struct dialog_set *set, const char *track, int follow_up, int opt_in, int done,
             char *out, size_t n)
{
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    ctx(&c, track, follow_up, opt_in, done);
    s = begin(set, &c, &o);
    snprintf(out, n, "%s", o.screen);
    dialog_session_free(s);
    return out;
}

START_TEST(test_shipped_menu_per_track)
{
    struct dialog_set *set = load_shipped();
    char b[1024];

    ck_assert_str_eq(first_screen(set, "none", 0, 0, 0, b, sizeof(b)), MENU_NONE);
    /* a welfare graduate inside her follow-up period: the check-in first */
    first_screen(set, "welfare", 1, 0, 0, b, sizeof(b));
    ck_assert_msg(strstr(b, "\n1 Cek bulanan\n2 Lapor usaha\n") != NULL, "%s", b);
    /* after it: the menu of every KPM */
    ck_assert_str_eq(first_screen(set, "welfare", 0, 0, 0, b, sizeof(b)), MENU_NONE);
    /* a natural graduate: the support choice and the exit survey, until it is answered */
    first_screen(set, "natural", 0, 0, 0, b, sizeof(b));
    ck_assert_msg(strstr(b, "\n6 Dukungan usaha\n7 Survei akhir") != NULL, "%s", b);
    first_screen(set, "natural", 0, 1, 1, b, sizeof(b));
    ck_assert_msg(strstr(b, "6 Dukungan usaha") != NULL && strstr(b, "Survei") == NULL, "%s", b);
    /* anything but a known track is none */
    ck_assert_str_eq(first_screen(set, "bogus", 1, 0, 0, b, sizeof(b)), MENU_NONE);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_hidden_option_is_not_accepted)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    ctx(&c, "natural", 0, 0, 1);
    s = begin(set, &c, &o);
    drive(s, "7", &o);
    ck_assert_msg(strncmp(o.screen, "Pilihan tidak ada.", 18) == 0, "%s", o.screen);
    ck_assert_int_eq(o.action, DIALOG_ACT_NONE);
    dialog_session_free(s);
    ctx(&c, "natural", 0, 0, 0);
    s = begin(set, &c, &o);
    drive(s, "7*1*1*1*1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_EXIT_SURVEY);
    ck_assert_str_eq(dialog_session_answer(s, "plan"), "1");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_checkin_and_opt_in_actions)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    ctx(&c, "welfare", 1, 0, 0);
    s = begin(set, &c, &o);
    drive(s, "1*1*2500000*3*2*1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_CHECKIN);
    ck_assert_str_eq(dialog_session_answer(s, "status"), "1");
    ck_assert_str_eq(dialog_session_answer(s, "revenue"), "2500000");
    ck_assert_str_eq(dialog_session_answer(s, "need_help"), "0");
    ck_assert_ptr_null(dialog_session_answer(s, "topic"));
    dialog_session_committed(s, 1, 42, &o);
    ck_assert_msg(strstr(o.screen, "No. 42") && !strstr(o.screen, "menghubungi"), "%s", o.screen);
    dialog_session_free(s);

    /* closed for good: no revenue asked; help: its topic */
    s = begin(set, &c, &o);
    drive(s, "1*3*1*2*1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_CHECKIN);
    ck_assert_str_eq(dialog_session_answer(s, "topic"), "2");
    ck_assert_ptr_null(dialog_session_answer(s, "revenue"));
    dialog_session_committed(s, 1, 43, &o);
    ck_assert_msg(strstr(o.screen, "Pendamping Anda akan menghubungi"), "%s", o.screen);
    dialog_session_free(s);

    ctx(&c, "natural", 0, 1, 0);
    s = begin(set, &c, &o);
    drive(s, "6", &o);
    ck_assert_msg(strstr(o.screen, "masih menerima"), "%s", o.screen);
    drive(s, "2*1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_OPT_IN);
    ck_assert_str_eq(dialog_session_answer(s, "support"), "0");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

/* A small file whose one screen has conditions, loaded from text. */
static const char BASE[] =
    "version = 1;\nstart = \"main\";\nstart_unknown = \"main\";\n"
    "messages = {\n"
    "  invalid_choice = { id = \"x\"; en = \"x\"; }; invalid_number = { id = \"x\"; en = \"x\"; "
    "};\n"
    "  invalid_text = { id = \"x\"; en = \"x\"; }; wrong_code = { id = \"x\"; en = \"x\"; };\n"
    "  too_many = { id = \"x\"; en = \"x\"; }; code_locked = { id = \"x\"; en = \"x\"; };\n"
    "  more = { id = \"99\"; en = \"99\"; }; save_failed = { id = \"x\"; en = \"x\"; };\n"
    "  ended = { id = \"x\"; en = \"x\"; }; resume_prompt = { id = \"x\"; en = \"x\"; };\n"
    "  resume_continue = { id = \"x\"; en = \"x\"; }; resume_restart = { id = \"x\"; en = \"x\"; "
    "};\n"
    "};\n"
    "flows = ( { name = \"main\"; screens = (\n"
    "  { name = \"m\"; kind = \"choice\";\n"
    "    prompt = { id = \"M\"; en = \"M\"; };\n"
    "    options = (\n"
    "      { value = 1; label = { id = \"A\"; en = \"A\"; }; goto = \"m\"; when = \"kpm.track != "
    "welfare\"; },\n"
    "      { value = 2; label = { id = \"B\"; en = \"B\"; }; goto = \"m\"; when = \"kpm.track == "
    "welfare && kpm.follow_up == 0\"; },\n"
    "      { value = 3; label = { id = \"C\"; en = \"C\"; }; goto = \"m\"; when = { field = "
    "\"kpm.track\"; in = [\"natural\", \"welfare\"]; }; }\n"
    "    ); }\n"
    "); } );\n";

static char tmp_path[64];

static struct dialog_set *
load_variant(const char *from, const char *to, char *err, size_t errlen, int *line)
{
    char text[8192];
    const char *at = from ? strstr(BASE, from) : NULL, *p;
    FILE *f;
    int fd;

    if (from)
        ck_assert_msg(at != NULL, "not in BASE: %s", from);
    if (at)
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
    else
        snprintf(text, sizeof(text), "%s", BASE);
    if (line) {
        *line = 1;
        for (p = text; p < text + (at ? at - BASE : 0); p++)
            *line += *p == '\n';
    }
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/kabar_tracks_XXXXXX");
    fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    {
        struct dialog_set *set = dialog_set_load(tmp_path, err, errlen);

        unlink(tmp_path);
        return set;
    }
}

START_TEST(test_short_form_and_option_conditions)
{
    char err[512], b[1024];
    struct dialog_set *set = load_variant(NULL, NULL, err, sizeof(err), NULL);

    ck_assert_msg(set != NULL, "%s", err);
    ck_assert_str_eq(first_screen(set, "none", 0, 0, 0, b, sizeof(b)), "M\n1 A");
    ck_assert_str_eq(first_screen(set, "natural", 1, 0, 0, b, sizeof(b)), "M\n1 A\n3 C");
    ck_assert_str_eq(first_screen(set, "welfare", 0, 0, 0, b, sizeof(b)), "M\n2 B\n3 C");
    ck_assert_str_eq(first_screen(set, "welfare", 1, 0, 0, b, sizeof(b)), "M\n3 C");
    ck_assert_ptr_null(dialog_set_atext(set, DIALOG_A_MENU, "id")); /* no assistant texts */
    dialog_set_unref(set);
}
END_TEST

static void
expect_error(const char *from, const char *to, const char *what)
{
    char err[512], prefix[128];
    int line;
    struct dialog_set *set = load_variant(from, to, err, sizeof(err), &line);

    ck_assert_msg(set == NULL, "loaded despite %s", to);
    snprintf(prefix, sizeof(prefix), "%s:%d: ", tmp_path, line);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "want %s... got %s", prefix, err);
    ck_assert_msg(strstr(err, what) != NULL, "want '%s' in %s", what, err);
}

START_TEST(test_condition_errors_name_file_and_line)
{
    expect_error("\"kpm.track != welfare\"", "\"kpm.track != welfre\"", "is never 'welfre'");
    expect_error("\"kpm.track != welfare\"", "\"kpm.trak == welfare\"", "unknown field 'kpm.trak'");
    expect_error("\"kpm.track != welfare\"", "\"kpm.track ==\"", "the value after '=='");
    expect_error("kpm.follow_up == 0", "kpm.follow_up == 2", "is never '2'");
    expect_error("\"kpm.track != welfare\"", "\"kpm.track != welfare && \"", "an empty clause");
    expect_error("\"kpm.track != welfare\"", "\"!kpm.track == none\"", "takes no '=='");
    expect_error("\"kpm.track != welfare\"", "\"answer == 1\"", "unknown field 'answer'");
    expect_error("in = [\"natural\", \"welfare\"]", "in = [\"natural\", \"Welfare\"]",
                 "'in' names must be");
}
END_TEST

START_TEST(test_assistant_text_errors)
{
    expect_error("flows = (", "assistant = { menu = { id = \"{5}\"; en = \"x\"; }; };\nflows = (",
                 "the only placeholders are {1} to {4}");
    expect_error("flows = (", "assistant = { menu = { id = \"x\"; en = \"x\"; }; };\nflows = (",
                 "'assistant' misses 'alerts'");
}
END_TEST

START_TEST(test_assistant_texts)
{
    struct dialog_set *set = load_shipped();
    const char *menu = dialog_set_atext(set, DIALOG_A_MENU, "en");

    ck_assert_ptr_nonnull(menu);
    ck_assert_msg(strstr(menu, "{1}") && strstr(menu, "{2}"), "%s", menu);
    ck_assert_ptr_nonnull(strstr(dialog_set_atext(set, DIALOG_A_MENU, "id"), "Pendamping"));
    ck_assert_ptr_nonnull(strstr(dialog_set_atext(set, DIALOG_A_NOT_FOUND, "xx"), "PKH"));
    dialog_set_unref(set);
}
END_TEST

static Suite *
tracks_suite(void)
{
    Suite *s = suite_create("dialog_tracks");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_shipped_menu_per_track);
    tcase_add_test(tc, test_hidden_option_is_not_accepted);
    tcase_add_test(tc, test_checkin_and_opt_in_actions);
    tcase_add_test(tc, test_short_form_and_option_conditions);
    tcase_add_test(tc, test_condition_errors_name_file_and_line);
    tcase_add_test(tc, test_assistant_texts);
    tcase_add_test(tc, test_assistant_text_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(tracks_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
