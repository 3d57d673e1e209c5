/* The micro-lessons: the shipped course loads and every SMS form fits; each thing the loader
 * refuses is refused with its file and line. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialog.h"
#include "gsm7.h"
#include "lesson.h"

static struct lesson_set *
load_shipped(size_t limit)
{
    const char *dir = getenv("KABAR_SRCDIR");
    char path[4096], err[512];
    struct lesson_set *set;

    snprintf(path, sizeof(path), "%s/config/lessons.conf", dir && *dir ? dir : ".");
    set = lesson_set_load(path, limit, err, sizeof(err));
    ck_assert_msg(set != NULL, "load %s: %s", path, err);
    return set;
}

/* A module as a test writes it: screens, then quiz, then pass; lines counted from 1. */
#define SCREEN_A "{ id = \"Layar satu.\"; en = \"Screen one.\"; }"
#define SCREEN_B "{ id = \"Layar dua.\"; en = \"Screen two.\"; }"
#define OPT(r) "{ id = \"pilihan\"; en = \"option\";" r " }"
#define QUESTION(opts)                                                                             \
    "{ q = { id = \"Soal?\"; en = \"Question?\"; };\n"                                             \
    "  options = ( " opts " );\n"                                                                  \
    "  why = { id = \"Karena.\"; en = \"Because.\"; }; }"

static const char *
write_file(const char *text)
{
    static char path[64];
    FILE *f;
    int fd;

    snprintf(path, sizeof(path), "/tmp/kabar-lesson-XXXXXX");
    ck_assert_int_ge(fd = mkstemp(path), 0);
    ck_assert_ptr_nonnull(f = fdopen(fd, "w"));
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text; returns the error (empty when it loaded). */
static const char *
load_text(const char *text)
{
    static char err[512];
    const char *path = write_file(text);
    struct lesson_set *s;

    err[0] = '\0';
    s = lesson_set_load(path, 182, err, sizeof(err));
    if (s != NULL)
        err[0] = '\0';
    lesson_set_free(s);
    unlink(path);
    return err;
}

static void
refused_at(const char *text, int line, const char *what)
{
    const char *err = load_text(text);
    char want[32];

    snprintf(want, sizeof(want), ":%d: ", line);
    ck_assert_msg(err[0] != '\0', "loaded, expected %s", what);
    ck_assert_msg(strstr(err, want) != NULL, "%s: want line %d in '%s'", what, line, err);
    ck_assert_msg(strstr(err, what) != NULL, "want '%s' in '%s'", what, err);
    ck_assert_msg(strncmp(err, "/tmp/kabar-lesson-", 18) == 0, "file named: %s", err);
}

/* One course, one module; the pieces the tests break. */
static void
course(char *out, size_t n, const char *screens, const char *quiz, const char *pass,
       const char *second_id)
{
    snprintf(out, n,
             "version = 1;\n"                                                   /* 1 */
             "courses = ( { id = \"c\"; title = { id = \"C\"; en = \"C\"; };\n" /* 2 */
             "modules = (\n"                                                    /* 3 */
             "{ id = \"m1\"; title = { id = \"M\"; en = \"M\"; };\n"            /* 4 */
             "screens = ( %s );\n"                                              /* 5 */
             "quiz = (\n%s\n);\n"                                               /* 6.. */
             "pass = %s; }%s%s%s ); } );\n",
             screens, quiz, pass, second_id ? ",\n{ id = \"" : "", second_id ? second_id : "",
             second_id ? "\"; title = { id = \"M\"; en = \"M\"; }; screens = ( " SCREEN_A
                         ", " SCREEN_B
                         " ); quiz = ( " QUESTION(OPT(" right = true;") ", " OPT("")) ", " QUESTION(
                             OPT(" right = true;") ", " OPT("")) " ); pass = 1; }"
                       : "");
}

#define GOOD_Q QUESTION(OPT(" right = true;") ", " OPT(""))

START_TEST(test_shipped_course_loads)
{
    struct lesson_set *s = load_shipped(182);
    const struct lesson_course *c = lesson_course(s, "usaha");
    char buf[LESSON_SMS_MAX];
    unsigned i, q;
    int l;

    ck_assert_ptr_nonnull(c);
    ck_assert_uint_ge(c->nmodules, 5);
    ck_assert_ptr_nonnull(lesson_module(c, "pisah"));
    ck_assert_int_eq(lesson_module_index(c, lesson_module(c, "harga")), 1);
    ck_assert_ptr_null(lesson_module(c, "nope"));
    ck_assert_ptr_null(lesson_course(s, "nope"));
    for (i = 0; i < c->nmodules; i++)
        for (l = 0; l < 2; l++) {
            const char *lang = l ? "en" : "id";
            size_t units;
            int n, gsm;

            n = lesson_sms_module(c, &c->modules[i], lang, buf, sizeof(buf));
            ck_assert_int_gt(n, 0);
            ck_assert_int_eq(gsm7_measure(buf, (size_t)n, &units, &gsm), 0);
            ck_assert_msg(gsm, "module %s (%s) is GSM-7", c->modules[i].id, lang);
            ck_assert_uint_le(gsm7_sms_segments(units, gsm), LESSON_SMS_PARTS);
            for (q = 0; q < c->modules[i].nquestions; q++)
                ck_assert_int_gt(
                    lesson_sms_question(&c->modules[i], q, lang, "B 1", buf, sizeof(buf)), 0);
        }
    lesson_set_free(s);
}
END_TEST

START_TEST(test_sms_forms)
{
    struct lesson_set *s = load_shipped(182);
    const struct lesson_module *m = lesson_module(lesson_course(s, "usaha"), "pisah");
    char buf[LESSON_SMS_MAX];

    ck_assert_int_gt(lesson_sms_module(lesson_course(s, "usaha"), m, "en", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf,
                     "Keep business money apart: Keep business money in its own place, like a "
                     "special tin or purse. Do not mix it with household money. For the home, "
                     "take a fixed wage from the business each week. Then you know if it makes "
                     "a profit.");
    ck_assert_int_gt(lesson_sms_question(m, 0, "id", "Balas B 1-2", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "1/2 Di mana uang usaha disimpan?\n1 Bersama uang belanja\n"
                          "2 Di tempat sendiri\nBalas B 1-2");
    ck_assert_int_gt(
        lesson_sms_feedback(m, 0, 0, "en", "Right.", "Wrong, the answer is", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "Wrong, the answer is 2 In its own place. Separate money shows profit or "
                          "loss.");
    ck_assert_int_gt(lesson_sms_feedback(m, 0, 1, "en", "Right.", "Wrong", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "Right.");
    ck_assert_int_eq(lesson_sms_question(m, 2, "id", NULL, buf, sizeof(buf)), -1);
    ck_assert_int_eq(lesson_sms_module(lesson_course(s, "usaha"), m, "id", buf, 20), -1);
    lesson_set_free(s);
}
END_TEST

START_TEST(test_good_minimal_file_loads)
{
    char t[4096];

    course(t, sizeof(t), SCREEN_A ", " SCREEN_B, GOOD_Q ",\n" GOOD_Q, "2", NULL);
    ck_assert_str_eq(load_text(t), "");
}
END_TEST

START_TEST(test_refuses_screen_too_long)
{
    char t[8192], screen[1024], longer[600];

    memset(longer, 'a', 300);
    longer[300] = '\0';
    snprintf(screen, sizeof(screen), "{ id = \"%s\"; en = \"short\"; }, " SCREEN_B, longer);
    course(t, sizeof(t), screen, GOOD_Q ",\n" GOOD_Q, "2", NULL);
    refused_at(t, 5, "too long for one USSD screen");
    /* paged, it is read with 99: within the pages it loads (its SMS form is then too long) */
    snprintf(screen, sizeof(screen), "{ id = \"%s\"; en = \"short\"; paged = true; }, " SCREEN_B,
             longer);
    course(t, sizeof(t), screen, GOOD_Q ",\n" GOOD_Q, "2", NULL);
    refused_at(t, 4, "do not fit 2 SMS parts");
    memset(longer, 'a', 590);
    longer[590] = '\0';
    snprintf(screen, sizeof(screen), "{ id = \"%s\"; en = \"short\"; paged = true; }, " SCREEN_B,
             longer);
    course(t, sizeof(t), screen, GOOD_Q ",\n" GOOD_Q, "2", NULL);
    refused_at(t, 5, "pages of 99 paging");
}
END_TEST

START_TEST(test_refuses_option_counts)
{
    char t[4096];

    course(t, sizeof(t), SCREEN_A ", " SCREEN_B, GOOD_Q ",\n" QUESTION(OPT(" right = true;")), "1",
           NULL);
    refused_at(t, 11, "1 options, must be 2-4");
    course(t, sizeof(t), SCREEN_A ", " SCREEN_B,
           GOOD_Q ",\n" QUESTION(
               OPT(" right = true;") ", " OPT("") ", " OPT("") ", " OPT("") ", " OPT("")),
           "1", NULL);
    refused_at(t, 11, "5 options, must be 2-4");
}
END_TEST

START_TEST(test_refuses_right_answers)
{
    char t[4096];

    course(t, sizeof(t), SCREEN_A ", " SCREEN_B, GOOD_Q ",\n" QUESTION(OPT("") ", " OPT("")), "1",
           NULL);
    refused_at(t, 11, "0 right answers, must be exactly one");
    course(t, sizeof(t), SCREEN_A ", " SCREEN_B,
           GOOD_Q ",\n" QUESTION(OPT(" right = true;") ", " OPT(" right = true;")), "1", NULL);
    refused_at(t, 11, "2 right answers, must be exactly one");
}
END_TEST

START_TEST(test_refuses_duplicate_ids)
{
    char t[8192];

    course(t, sizeof(t), SCREEN_A ", " SCREEN_B, GOOD_Q ",\n" GOOD_Q, "2", "m1");
    refused_at(t, 15, "module id 'm1' is used twice");
    course(t, sizeof(t), SCREEN_A ", " SCREEN_B, GOOD_Q ",\n" GOOD_Q, "2", "m2");
    ck_assert_str_eq(load_text(t), "");
}
END_TEST

START_TEST(test_refuses_missing_language)
{
    char t[4096];

    course(t, sizeof(t), SCREEN_A ", { id = \"Hanya bahasa.\"; }", GOOD_Q ",\n" GOOD_Q, "2", NULL);
    refused_at(t, 5, "missing the 'en' text");
    course(t, sizeof(t), SCREEN_A ", " SCREEN_B,
           GOOD_Q ",\n{ q = { id = \"Soal?\"; en = \"Q?\"; };\n options = ( " OPT(
               " right = true;") ", " OPT("") " );\n why = { en = \"Because.\"; }; }",
           "2", NULL);
    refused_at(t, 12, "missing the 'id' text");
}
END_TEST

START_TEST(test_refuses_pass_above_questions)
{
    char t[4096];

    course(t, sizeof(t), SCREEN_A ", " SCREEN_B, GOOD_Q ",\n" GOOD_Q, "3", NULL);
    refused_at(t, 14, "pass mark 3 is above its 2 questions");
}
END_TEST

START_TEST(test_refuses_screen_and_question_counts)
{
    char t[4096];

    course(t, sizeof(t), SCREEN_A, GOOD_Q ",\n" GOOD_Q, "2", NULL);
    refused_at(t, 5, "1 screens, must be 2-5");
    course(t, sizeof(t), SCREEN_A ", " SCREEN_B, GOOD_Q, "1", NULL);
    refused_at(t, 6, "1 quiz, must be 2-4");
}
END_TEST

/* The lesson screen of the shipped dialogs, with the shipped course attached. */
static struct dialog_set *
dialogs_with_lessons(void)
{
    const char *dir = getenv("KABAR_SRCDIR");
    char path[4096], err[512];
    struct dialog_set *set;

    snprintf(path, sizeof(path), "%s/config/dialogs.conf", dir && *dir ? dir : ".");
    set = dialog_set_load(path, err, sizeof(err));
    ck_assert_msg(set != NULL, "%s", err);
    ck_assert_int_eq(dialog_set_attach_lessons(set, load_shipped(182), err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(dialog_set_lesson_course(set));
    return set;
}

static struct dialog_session *
lesson_session(struct dialog_set *set, int module, const char *draft, struct dialog_out *o)
{
    struct dialog_ctx c;
    struct dialog_session *s;

    memset(&c, 0, sizeof(c));
    c.registered = 1;
    c.kpm_id = 7;
    strcpy(c.lang, "id");
    strcpy(c.kpm_name, "Siti");
    strcpy(c.track, "none");
    c.details = 1;
    c.lesson_module = module;
    if (draft != NULL) {
        c.has_draft = 1;
        strcpy(c.draft_flow, "learn");
        snprintf(c.draft_path, sizeof(c.draft_path), "%s", draft);
    }
    ck_assert_ptr_nonnull(s = dialog_session_new(set, &c, 182));
    dialog_session_begin(s, o);
    return s;
}

static void
key(struct dialog_session *s, const char *k, struct dialog_out *o)
{
    dialog_session_input(s, k, strlen(k), o);
}

START_TEST(test_ussd_lesson_steps_and_events)
{
    struct dialog_set *set = dialogs_with_lessons();
    struct dialog_out o;
    struct dialog_session *s = lesson_session(set, 0, NULL, &o);

    key(s, "6", &o);
    ck_assert(strncmp(o.screen, "Pisahkan uang usaha (1/3)\nSimpan", 32) == 0);
    ck_assert_int_eq(o.lesson.kind, DIALOG_LESSON_SCREEN);
    ck_assert_str_eq(o.lesson.module, "pisah");
    ck_assert_uint_eq(o.lesson.screen, 0);
    ck_assert_int_eq(dialog_session_in_report(s), 0); /* nothing read yet: no draft */
    key(s, "2", &o);                                  /* not an answer here */
    ck_assert(strncmp(o.screen, "Pilihan tidak ada.\nPisahkan", 27) == 0);
    ck_assert_int_eq(o.lesson.kind, DIALOG_LESSON_NONE);
    key(s, "1", &o);
    ck_assert_uint_eq(o.lesson.screen, 1);
    ck_assert_int_eq(dialog_session_in_report(s), 1);
    ck_assert_str_eq(dialog_session_draft_path(s), "6*1");
    key(s, "1", &o);
    key(s, "1", &o);
    ck_assert_str_eq(o.screen, "Soal 1/2: Di mana uang usaha disimpan?\n1 Bersama uang belanja\n"
                               "2 Di tempat sendiri");
    key(s, "5", &o); /* no such option */
    ck_assert(strncmp(o.screen, "Pilihan tidak ada.\nSoal 1/2", 27) == 0);
    key(s, "2", &o);
    ck_assert_str_eq(o.screen, "Benar!\n1 Lanjut");
    key(s, "1", &o);
    key(s, "3", &o);
    ck_assert(strncmp(o.screen, "Salah. Jawaban benar: 1 Ambil gaji tetap.\nGaji tetap", 50) == 0);
    key(s, "1", &o);
    ck_assert_str_eq(o.screen, "Belum lulus: 1/2 benar, perlu 2.\n1 Ulangi kuis\n00 Menu");
    ck_assert_int_eq(o.lesson.kind, DIALOG_LESSON_QUIZ);
    ck_assert_uint_eq(o.lesson.right, 1);
    ck_assert_uint_eq(o.lesson.questions, 2);
    ck_assert_int_eq(dialog_session_in_report(s), 0); /* finished: the draft goes */
    key(s, "1", &o);                                  /* again */
    ck_assert(strncmp(o.screen, "Soal 1/2:", 9) == 0);
    key(s, "2", &o);
    key(s, "1", &o);
    key(s, "1", &o);
    key(s, "1", &o);
    ck_assert_str_eq(o.screen, "Lulus! 2/2 benar. Pelajaran Pisahkan uang usaha selesai.\n00 Menu");
    ck_assert_int_eq(o.lesson.kind, DIALOG_LESSON_QUIZ);
    ck_assert_uint_eq(o.lesson.right, 2);
    key(s, "1", &o); /* passed: nothing to take again */
    ck_assert(strncmp(o.screen, "Pilihan tidak ada.\nLulus!", 25) == 0);
    key(s, "00", &o);
    ck_assert(strncmp(o.screen, "Kabar KPM", 9) == 0);
    dialog_session_free(s);
    /* every module passed */
    s = lesson_session(set, -1, NULL, &o);
    key(s, "6", &o);
    ck_assert_str_eq(o.screen, "Selamat! Semua pelajaran sudah lulus.\n00 Menu");
    ck_assert_int_eq(o.lesson.kind, DIALOG_LESSON_NONE);
    dialog_session_free(s);
    /* the draft of a lesson left in the middle: offered, and replayed to the same screen */
    s = lesson_session(set, 0, "6*1", &o);
    ck_assert_str_eq(o.screen,
                     "Anda punya pelajaran yang belum selesai.\n1 Lanjutkan laporan\n2 Mulai baru");
    key(s, "1", &o);
    ck_assert(strncmp(o.screen, "Pisahkan uang usaha (2/3)", 25) == 0);
    ck_assert_int_eq(o.lesson.kind, DIALOG_LESSON_NONE); /* read before, not counted again */
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_lesson_screen_course_must_exist)
{
    const char *dir = getenv("KABAR_SRCDIR");
    char path[4096], err[512], text[1 << 16];
    const char *tmp;
    struct dialog_set *set;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/config/dialogs.conf", dir && *dir ? dir : ".");
    ck_assert_ptr_nonnull(f = fopen(path, "r"));
    n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    {
        char *p = strstr(text, "course = \"usaha\"");

        ck_assert_ptr_nonnull(p);
        memcpy(p, "course = \"nope0\"", 16);
    }
    tmp = write_file(text);
    set = dialog_set_load(tmp, err, sizeof(err));
    ck_assert_msg(set != NULL, "%s", err);
    ck_assert_int_eq(dialog_set_attach_lessons(set, load_shipped(182), err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "course 'nope0' is not in the lessons file") != NULL, "%s", err);
    ck_assert_msg(strncmp(err, tmp, strlen(tmp)) == 0, "%s", err);
    dialog_set_unref(set);
    unlink(tmp);
}
END_TEST

static Suite *
lesson_suite(void)
{
    Suite *s = suite_create("lesson");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_shipped_course_loads);
    tcase_add_test(tc, test_sms_forms);
    tcase_add_test(tc, test_good_minimal_file_loads);
    tcase_add_test(tc, test_refuses_screen_too_long);
    tcase_add_test(tc, test_refuses_option_counts);
    tcase_add_test(tc, test_refuses_right_answers);
    tcase_add_test(tc, test_refuses_duplicate_ids);
    tcase_add_test(tc, test_refuses_missing_language);
    tcase_add_test(tc, test_refuses_pass_above_questions);
    tcase_add_test(tc, test_refuses_screen_and_question_counts);
    tcase_add_test(tc, test_ussd_lesson_steps_and_events);
    tcase_add_test(tc, test_lesson_screen_course_must_exist);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(lesson_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
