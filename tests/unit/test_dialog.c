#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialog.h"
#include "gsm7.h"

static const char MENU_ID[] = "Kabar KPM - Halo Ibu Siti Aminah\n"
                              "1 Lapor usaha\n"
                              "2 Lapor pelatihan\n"
                              "3 Minta bantuan pendamping\n"
                              "4 Laporan saya\n"
                              "5 Bahasa/Language\n"
                              "6 Belajar";
static const char MENU_EN[] = "Kabar KPM - Hello Siti Aminah\n"
                              "1 Business report\n"
                              "2 Training attendance\n"
                              "3 Ask my assistant to call\n"
                              "4 My reports\n"
                              "5 Bahasa/Language\n"
                              "6 Learn";

static char conf_path[4096];

static struct dialog_set *
load_shipped(void)
{
    const char *dir = getenv("KABAR_SRCDIR");
    char err[512];
    struct dialog_set *set;

    snprintf(conf_path, sizeof(conf_path), "%s/config/dialogs.conf", dir && *dir ? dir : ".");
    set = dialog_set_load(conf_path, err, sizeof(err));
    ck_assert_msg(set != NULL, "load %s: %s", conf_path, err);
    return set;
}

static void
training(struct dialog_training *t, uint64_t id, const char *title, const char *date,
         const char *code, int attended)
{
    t->id = id;
    snprintf(t->title, sizeof(t->title), "%s", title);
    snprintf(t->date, sizeof(t->date), "%s", date);
    snprintf(t->place, sizeof(t->place), "%s", "Balai Desa");
    snprintf(t->code, sizeof(t->code), "%s", code);
    t->attended = attended;
}

/* The demo KPM: Siti Aminah, assisted by Bu Ratna, enrolled in three trainings. */
static void
demo_ctx(struct dialog_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->registered = 1;
    c->kpm_id = 1001;
    strcpy(c->lang, "id");
    strcpy(c->kpm_name, "Siti Aminah");
    strcpy(c->assistant_name, "Bu Ratna");
    training(&c->trainings[0], 11, "Pembukuan", "2024-11-12", "4821", 0);
    training(&c->trainings[1], 7, "Pemasaran online", "2024-11-02", "1234", 1);
    training(&c->trainings[2], 5, "Kewirausahaan", "2024-10-20", "7777", 1);
    c->ntrainings = 3;
    c->has_last = 1;
    c->last_status = 1;
    c->last_revenue = 2500000;
    c->last_workers = 3;
    strcpy(c->last_date, "2024-11-05");
}

static int
fits_limit(const char *screen, size_t limit)
{
    size_t units;
    int gsm;

    if (gsm7_measure(screen, strlen(screen), &units, &gsm) < 0)
        return 0;
    return units <= gsm7_screen_limit(gsm, limit);
}

static struct dialog_session *
start(struct dialog_set *set, const struct dialog_ctx *c, size_t limit, struct dialog_out *o)
{
    struct dialog_session *s = dialog_session_new(set, c, limit);

    ck_assert_ptr_nonnull(s);
    dialog_session_begin(s, o);
    ck_assert(fits_limit(o->screen, limit));
    return s;
}

static void
in(struct dialog_session *s, const char *input, struct dialog_out *o)
{
    dialog_session_input(s, input, strlen(input), o);
    ck_assert_msg(fits_limit(o->screen, 182), "screen too long: %s", o->screen);
}

/* Inputs joined by '*', as an aggregator sends them. */
static void
drive(struct dialog_session *s, const char *path, struct dialog_out *o)
{
    char buf[1024], *p = buf, *tok;

    snprintf(buf, sizeof(buf), "%s", path);
    while ((tok = strsep(&p, "*")) != NULL)
        in(s, tok, o);
}

static int
starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

START_TEST(test_load_and_check_shipped)
{
    struct dialog_set *set = load_shipped();

    ck_assert_uint_eq(dialog_set_version(set), 1);
    ck_assert_int_eq(dialog_set_check(set, 182, NULL, NULL), 0);
    dialog_set_unref(set);
}
END_TEST

static int warnings;

static void
count_report(void *arg, int is_error, const char *msg)
{
    (void)arg;
    (void)msg;
    if (!is_error)
        warnings++;
}

START_TEST(test_shipped_is_gsm7)
{
    struct dialog_set *set = load_shipped();

    warnings = 0;
    ck_assert_int_eq(dialog_set_check(set, 182, count_report, NULL), 0);
    ck_assert_int_eq(warnings, 0);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_main_menu_both_languages)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    ck_assert_int_eq(o.end, 0);
    ck_assert_int_eq(o.action, DIALOG_ACT_NONE);
    ck_assert_str_eq(dialog_session_flow(s), "main");
    dialog_session_free(s);
    strcpy(c.lang, "en");
    s = start(set, &c, 182, &o);
    ck_assert_str_eq(o.screen, MENU_EN);
    ck_assert_str_eq(o.lang, "en");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_business_running)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;
    char json[512];

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, "Usaha Anda:\n1 Berjalan\n2 Tutup sementara\n3 Tutup permanen\n"
                               "4 Belum mulai");
    ck_assert_int_eq(dialog_session_in_report(s), 0);
    in(s, "1", &o);
    ck_assert(starts_with(o.screen, "Jenis usaha:\n1 Makanan & minuman\n"));
    ck_assert_int_eq(dialog_session_in_report(s), 1);
    in(s, "1", &o);
    ck_assert(starts_with(o.screen, "Omzet bulan lalu"));
    in(s, "2500000", &o);
    ck_assert_str_eq(o.screen, "Jumlah pekerja, termasuk Anda:");
    in(s, "3", &o);
    ck_assert(starts_with(o.screen, "Kendala utama:\n1 Modal\n"));
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, "Usaha: Berjalan, Makanan & minuman, Omzet Rp2.500.000, "
                               "Pekerja 3, Kendala: Modal\n1 Kirim\n2 Ulangi\n0 Batal");
    ck_assert_str_eq(dialog_session_draft_path(s), "1*1*1*2500000*3*1");
    ck_assert_int_eq(dialog_session_in_report(s), 1);
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_BUSINESS);
    ck_assert_int_eq(o.end, 0);
    ck_assert_str_eq(o.screen, "");
    ck_assert_int_eq(dialog_session_in_report(s), 0);
    ck_assert_int_eq(dialog_session_ended(s), 0);
    ck_assert_str_eq(dialog_session_flow(s), "business");
    ck_assert_str_eq(dialog_session_answer(s, "status"), "1");
    ck_assert_str_eq(dialog_session_answer(s, "kind"), "1");
    ck_assert_str_eq(dialog_session_answer(s, "revenue"), "2500000");
    ck_assert_str_eq(dialog_session_answer(s, "workers"), "3");
    ck_assert_str_eq(dialog_session_answer(s, "difficulty"), "1");
    ck_assert_ptr_null(dialog_session_answer(s, "nope"));
    ck_assert_int_eq(dialog_session_answers_json(s, json, sizeof(json)), 0);
    ck_assert_str_eq(json, "{\"status\":\"1\",\"kind\":\"1\",\"revenue\":\"2500000\","
                           "\"workers\":\"3\",\"difficulty\":\"1\"}");
    ck_assert_int_eq(dialog_session_answers_json(s, json, 20), -1);
    dialog_session_committed(s, 1, 57, &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen, "Terima kasih. Laporan tersimpan. No. 57");
    ck_assert_int_eq(o.draft_discard, 1);
    ck_assert_int_eq(dialog_session_ended(s), 1);
    in(s, "1", &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen, "Sesi sudah berakhir.");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_business_other_statuses)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    /* paused: kind, no revenue or workers */
    s = start(set, &c, 182, &o);
    drive(s, "1*2*2", &o);
    ck_assert(starts_with(o.screen, "Kendala utama:"));
    in(s, "2", &o);
    ck_assert_str_eq(o.screen, "Usaha: Tutup sementara, Warung/dagang, Kendala: Pemasaran\n"
                               "1 Kirim\n2 Ulangi\n0 Batal");
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_BUSINESS);
    ck_assert_str_eq(dialog_session_answer(s, "status"), "2");
    ck_assert_str_eq(dialog_session_answer(s, "kind"), "2");
    ck_assert_ptr_null(dialog_session_answer(s, "revenue"));
    ck_assert_ptr_null(dialog_session_answer(s, "workers"));
    dialog_session_free(s);
    /* closed for good and not started: straight to the difficulty */
    s = start(set, &c, 182, &o);
    drive(s, "1*3", &o);
    ck_assert(starts_with(o.screen, "Kendala utama:"));
    in(s, "5", &o);
    ck_assert_str_eq(o.screen,
                     "Usaha: Tutup permanen, Kendala: Tidak ada\n1 Kirim\n2 Ulangi\n0 Batal");
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_BUSINESS);
    ck_assert_ptr_null(dialog_session_answer(s, "kind"));
    dialog_session_free(s);
    s = start(set, &c, 182, &o);
    drive(s, "1*4*6*1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_BUSINESS);
    ck_assert_str_eq(dialog_session_answer(s, "status"), "4");
    ck_assert_str_eq(dialog_session_answer(s, "difficulty"), "6");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_business_restart_and_cancel)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    drive(s, "1*3*1", &o);
    in(s, "2", &o); /* Ulangi */
    ck_assert(starts_with(o.screen, "Usaha Anda:"));
    ck_assert_ptr_null(dialog_session_answer(s, "status"));
    ck_assert_str_eq(dialog_session_draft_path(s), "1");
    drive(s, "3*1", &o);
    in(s, "0", &o); /* Batal */
    ck_assert_int_eq(o.draft_discard, 1);
    ck_assert_str_eq(o.screen, MENU_ID);
    ck_assert_str_eq(dialog_session_flow(s), "main");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_attendance_yes)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;
    char json[512];

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    in(s, "2", &o);
    ck_assert_str_eq(o.screen, "Pilih pelatihan:\n1 Pembukuan 12/11\n2 Pemasaran online 02/11\n"
                               "3 Kewirausahaan 20/10");
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, "Apakah Anda hadir di Pembukuan?\n1 Ya\n2 Tidak");
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, "Masukkan kode kehadiran dari pelatihan:");
    in(s, " 4821 ", &o);
    ck_assert_str_eq(o.screen,
                     "Pelatihan: Pembukuan 12/11, Hadir, kode 4821\n1 Kirim\n2 Ulangi\n0 Batal");
    ck_assert_str_eq(dialog_session_draft_path(s), "2*#11*1*4821");
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_ATTENDANCE);
    ck_assert_str_eq(dialog_session_flow(s), "attendance");
    ck_assert_str_eq(dialog_session_answer(s, "training_id"), "11");
    ck_assert_str_eq(dialog_session_answer(s, "attended"), "1");
    ck_assert_str_eq(dialog_session_answer(s, "code"), "4821");
    ck_assert_int_eq(dialog_session_answers_json(s, json, sizeof(json)), 0);
    ck_assert_str_eq(json, "{\"training_id\":\"11\",\"attended\":\"1\",\"code\":\"4821\"}");
    dialog_session_committed(s, 1, 90, &o);
    ck_assert_str_eq(o.screen, "Terima kasih. Laporan pelatihan tersimpan. No. 90");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_attendance_wrong_code_three_times)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    drive(s, "2*2*1", &o);
    in(s, "4821", &o); /* the code of another training */
    ck_assert_str_eq(o.screen, "Kode salah.\nMasukkan kode kehadiran dari pelatihan:");
    ck_assert_int_eq(o.end, 0);
    /* going back and forth does not give more tries */
    in(s, "0", &o);
    ck_assert(starts_with(o.screen, "Apakah Anda hadir di Pemasaran online?"));
    in(s, "1", &o);
    in(s, "1111", &o);
    ck_assert_int_eq(o.end, 0);
    in(s, "2222", &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen,
                     "Kode salah 3 kali. Tanyakan kode kepada pendamping Anda, lalu coba lagi.");
    ck_assert_int_eq(dialog_session_ended(s), 1);
    ck_assert_int_eq(o.action, DIALOG_ACT_NONE);
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_attendance_no)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    drive(s, "2*3*2", &o);
    ck_assert_str_eq(o.screen, "Alasan tidak hadir:\n1 Sakit\n2 Urusan keluarga\n"
                               "3 Jarak/transportasi\n4 Tidak tahu jadwal\n5 Lainnya");
    in(s, "4", &o);
    ck_assert_str_eq(o.screen, "Pelatihan: Kewirausahaan 20/10, Tidak hadir: Tidak tahu jadwal\n"
                               "1 Kirim\n2 Ulangi\n0 Batal");
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_ATTENDANCE);
    ck_assert_str_eq(dialog_session_answer(s, "training_id"), "5");
    ck_assert_str_eq(dialog_session_answer(s, "attended"), "0");
    ck_assert_str_eq(dialog_session_answer(s, "reason"), "4");
    ck_assert_ptr_null(dialog_session_answer(s, "code"));
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_attendance_no_trainings)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    c.ntrainings = 0;
    s = start(set, &c, 182, &o);
    in(s, "2", &o);
    ck_assert_str_eq(o.screen,
                     "Tidak ada pelatihan Anda dalam 30 hari terakhir.\n0 Kembali\n00 Menu");
    in(s, "1", &o);
    ck_assert(starts_with(o.screen, "Pilihan tidak ada.\nTidak ada pelatihan"));
    in(s, "0", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    drive(s, "2*00", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_help)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    in(s, "3", &o);
    ck_assert_str_eq(o.screen, "Perlu bantuan tentang:\n1 Modal usaha\n2 Pemasaran\n3 Bantuan PKH\n"
                               "4 Lainnya");
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, "Minta pendamping menelepon Anda. Topik: Modal usaha\n1 Kirim\n"
                               "2 Ulangi\n0 Batal");
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_HELP);
    ck_assert_str_eq(dialog_session_answer(s, "topic"), "1");
    dialog_session_committed(s, 1, 58, &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen, "Pendamping Anda, Bu Ratna, akan menghubungi Anda. No. 58");
    dialog_session_free(s);
    /* no assistant on file: the other part of the saved text */
    c.assistant_name[0] = '\0';
    strcpy(c.lang, "en");
    s = start(set, &c, 182, &o);
    drive(s, "3*4*1", &o);
    dialog_session_committed(s, 1, 59, &o);
    ck_assert_str_eq(o.screen, "Your assistant will call you. No. 59");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_my_reports)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    in(s, "4", &o);
    ck_assert_str_eq(o.screen,
                     "Usaha 05/11/2024: Berjalan\nOmzet Rp2.500.000, pekerja 3\n"
                     "Pelatihan hadir: Pemasaran online, Kewirausahaan\n0 Kembali\n00 Menu");
    in(s, "1", &o);
    ck_assert(starts_with(o.screen, "Pilihan tidak ada.\nUsaha 05/11/2024"));
    in(s, "0", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    dialog_session_free(s);
    c.has_last = 0;
    c.trainings[1].attended = c.trainings[2].attended = 0;
    s = start(set, &c, 182, &o);
    in(s, "4", &o);
    ck_assert_str_eq(o.screen,
                     "Usaha: belum ada laporan\nPelatihan hadir: belum ada\n0 Kembali\n00 Menu");
    in(s, "00", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    dialog_session_free(s);
    c.has_last = 1;
    c.last_status = 3;
    strcpy(c.lang, "en");
    s = start(set, &c, 182, &o);
    in(s, "4", &o);
    ck_assert_str_eq(o.screen, "Business 05/11/2024: Closed for good\n"
                               "Trainings attended: none yet\n0 Back\n00 Menu");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_language_switch)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    in(s, "5", &o);
    ck_assert_str_eq(o.screen, "Pilih bahasa / Choose language:\n1 Bahasa Indonesia\n2 English");
    ck_assert_int_eq(o.lang_changed, 0);
    in(s, "2", &o);
    ck_assert_int_eq(o.lang_changed, 1);
    ck_assert_str_eq(o.lang, "en");
    ck_assert_str_eq(o.screen, MENU_EN);
    in(s, "1", &o);
    ck_assert_int_eq(o.lang_changed, 0);
    ck_assert_str_eq(o.lang, "en");
    ck_assert_str_eq(o.screen, "Your business is:\n1 Running\n2 Closed for now\n3 Closed for good\n"
                               "4 Not started");
    drive(s, "1*1*2500000*3*1", &o);
    ck_assert_str_eq(o.screen, "Business: Running, Food & drink, Revenue Rp2.500.000, Workers 3, "
                               "Difficulty: Capital\n1 Send\n2 Start over\n0 Cancel");
    in(s, "x", &o);
    ck_assert(starts_with(o.screen, "No such option.\nBusiness: Running"));
    drive(s, "00*5*1", &o);
    ck_assert_int_eq(o.lang_changed, 1);
    ck_assert_str_eq(o.lang, "id");
    ck_assert_str_eq(o.screen, MENU_ID);
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_unknown_number)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c); /* personal data present in ctx must still never be shown */
    c.registered = 0;
    s = start(set, &c, 182, &o);
    ck_assert_str_eq(o.screen,
                     "Nomor Anda belum terdaftar.\n1 Minta nomor ini dihubungkan\n0 Keluar");
    in(s, "4", &o);
    ck_assert(starts_with(o.screen, "Pilihan tidak ada.\nNomor Anda belum terdaftar."));
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, "Masukkan nomor peserta PKH Anda (angka saja):");
    in(s, "123", &o);
    ck_assert_str_eq(o.screen,
                     "Masukkan 5 - 20 angka.\nMasukkan nomor peserta PKH Anda (angka saja):");
    in(s, "12a456", &o);
    ck_assert_int_eq(o.end, 0);
    in(s, "3201234567", &o);
    ck_assert_str_eq(o.screen,
                     "Hubungkan nomor ini ke peserta PKH 3201234567?\n1 Kirim\n2 Ulangi\n0 Batal");
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_LINK);
    ck_assert_str_eq(dialog_session_flow(s), "link");
    ck_assert_str_eq(dialog_session_answer(s, "pkh_number"), "3201234567");
    dialog_session_committed(s, 1, 12, &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen,
                     "Permintaan tercatat. No. 12. Pendamping atau petugas akan memeriksanya.");
    ck_assert_ptr_null(strstr(o.screen, "Siti"));
    dialog_session_free(s);
    /* 00 leads to the unknown-number menu; its 0 is "exit" */
    strcpy(c.lang, "en");
    s = start(set, &c, 182, &o);
    drive(s, "1*00", &o);
    ck_assert_str_eq(o.screen, "Your number is not registered.\n1 Ask to link this number\n0 Exit");
    in(s, "0", &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen, "Thank you. Goodbye.");
    dialog_session_free(s);
    /* nothing personal in any screen of the unknown flows */
    s = start(set, &c, 182, &o);
    in(s, "1", &o);
    ck_assert_ptr_null(strstr(o.screen, "Siti"));
    ck_assert_ptr_null(strstr(o.screen, "Ratna"));
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_back_and_menu)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    in(s, "0", &o); /* at the main menu: shown again */
    ck_assert_str_eq(o.screen, MENU_ID);
    drive(s, "1*1", &o);
    ck_assert(starts_with(o.screen, "Jenis usaha:"));
    in(s, "0", &o);
    ck_assert(starts_with(o.screen, "Usaha Anda:"));
    ck_assert_ptr_null(dialog_session_answer(s, "status")); /* that screen's answer is removed */
    in(s, "0", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    drive(s, "1*1*1", &o);
    /* 0 is a revenue (min 0), not "back" */
    in(s, "0", &o);
    ck_assert_str_eq(o.screen, "Jumlah pekerja, termasuk Anda:");
    ck_assert_str_eq(dialog_session_answer(s, "revenue"), "0");
    in(s, "0", &o); /* workers: 1..999, so 0 is back */
    ck_assert(starts_with(o.screen, "Omzet bulan lalu"));
    ck_assert_ptr_null(dialog_session_answer(s, "revenue"));
    ck_assert_str_eq(dialog_session_answer(s, "kind"), "1");
    in(s, "00", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    ck_assert_int_eq(o.draft_discard, 1);
    ck_assert_str_eq(dialog_session_flow(s), "main");
    ck_assert_ptr_null(dialog_session_answer(s, "status"));
    ck_assert_str_eq(dialog_session_draft_path(s), "");
    in(s, "00", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    ck_assert_int_eq(o.draft_discard, 0);
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_invalid_answers)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;
    char expect[512];

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    in(s, "x", &o);
    snprintf(expect, sizeof(expect), "Pilihan tidak ada.\n%s", MENU_ID);
    ck_assert_str_eq(o.screen, expect);
    in(s, "9", &o);
    ck_assert_str_eq(o.screen, expect);
    in(s, "1", &o); /* a valid answer resets the count */
    in(s, "", &o);
    ck_assert(starts_with(o.screen, "Pilihan tidak ada.\nUsaha Anda:"));
    drive(s, "1*1", &o);
    in(s, "1000000001", &o);
    ck_assert_str_eq(o.screen, "Masukkan angka 0 - 1000000000.\n"
                               "Omzet bulan lalu (Rp), angka saja. 0 jika tidak ada:");
    in(s, "2.500.000", &o);
    ck_assert_int_eq(o.end, 0);
    ck_assert(starts_with(o.screen, "Masukkan angka 0 - 1000000000.\n"));
    in(s, "", &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen, "Maaf, terlalu banyak jawaban salah. Silakan hubungi lagi nanti.");
    ck_assert_int_eq(dialog_session_ended(s), 1);
    ck_assert_int_eq(o.draft_discard, 0);
    dialog_session_free(s);
    /* workers out of range, then spaces around a valid answer */
    s = start(set, &c, 182, &o);
    drive(s, "1*1*1*  2500000  ", &o);
    in(s, "1000", &o);
    ck_assert(starts_with(o.screen, "Masukkan angka 1 - 999.\n"));
    in(s, " 3\t", &o);
    ck_assert(starts_with(o.screen, "Kendala utama:"));
    ck_assert_str_eq(dialog_session_answer(s, "workers"), "3");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_paging_60)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;
    int i;

    demo_ctx(&c);
    s = start(set, &c, 60, &o);
    ck_assert_str_eq(o.screen, "Kabar KPM - Halo Ibu Siti Aminah\n1 Lapor usaha\n99 Lanjut");
    in(s, "99", &o);
    ck_assert_str_eq(o.screen, "2 Lapor pelatihan\n3 Minta bantuan pendamping\n99 Lanjut");
    ck_assert(fits_limit(o.screen, 60));
    in(s, "99", &o);
    ck_assert_str_eq(o.screen, "4 Laporan saya\n5 Bahasa/Language\n6 Belajar\n99 Lanjut");
    in(s, "99", &o); /* after the last page: the first again */
    ck_assert(starts_with(o.screen, "Kabar KPM - Halo Ibu Siti Aminah\n"));
    /* an option on another page can be chosen from any page */
    in(s, "5", &o);
    ck_assert(fits_limit(o.screen, 60));
    in(s, "2", &o);
    ck_assert_str_eq(o.screen, "Kabar KPM - Hello Siti Aminah\n1 Business report\n99 More");
    in(s, "1", &o);
    /* the long summary is cut at spaces, never lost */
    drive(s, "1*1*2500000*3*1", &o);
    ck_assert_str_eq(o.screen, "Business: Running, Food & drink, Revenue\n99 More");
    in(s, "99", &o);
    ck_assert_str_eq(o.screen, "Rp2.500.000, Workers 3, Difficulty: Capital\n1 Send\n99 More");
    in(s, "99", &o);
    ck_assert_str_eq(o.screen, "2 Start over\n0 Cancel\n99 More");
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_BUSINESS);
    dialog_session_free(s);
    /* 16 trainings at both limits */
    for (i = 0; i < DIALOG_MAX_TRAININGS; i++) {
        char title[40];

        snprintf(title, sizeof(title), "Pelatihan nomor %d", i + 1);
        training(&c.trainings[i], (uint64_t)(100 + i), title, "2024-11-01", "1000", 0);
    }
    c.ntrainings = DIALOG_MAX_TRAININGS;
    for (i = 0; i < 2; i++) {
        size_t limit = i ? 182 : 60;
        int pages = 0;

        s = start(set, &c, limit, &o);
        in(s, "2", &o);
        while (strstr(o.screen, "16 Pelatihan nomor 16") == NULL) {
            ck_assert(fits_limit(o.screen, limit));
            ck_assert_ptr_nonnull(strstr(o.screen, "99 Lanjut"));
            in(s, "99", &o);
            ck_assert_int_lt(++pages, 20);
        }
        ck_assert_int_gt(pages, 0);
        in(s, "12", &o);
        ck_assert(starts_with(o.screen, "Apakah Anda hadir di Pelatihan nomor 12?"));
        in(s, "0", &o);
        ck_assert(starts_with(o.screen, "Pilih pelatihan:\n1 Pelatihan nomor 1 01/11\n"));
        dialog_session_free(s);
    }
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_resume_continue)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    c.has_draft = 1;
    strcpy(c.draft_flow, "business");
    strcpy(c.draft_path, "1*1*1");
    s = start(set, &c, 182, &o);
    ck_assert_str_eq(o.screen, "Anda punya laporan yang belum selesai.\n1 Lanjutkan laporan\n"
                               "2 Mulai baru");
    in(s, "7", &o);
    ck_assert(starts_with(o.screen, "Pilihan tidak ada.\nAnda punya laporan"));
    in(s, "1", &o);
    ck_assert(starts_with(o.screen, "Omzet bulan lalu"));
    ck_assert_int_eq(o.draft_discard, 0);
    ck_assert_str_eq(dialog_session_flow(s), "business");
    ck_assert_str_eq(dialog_session_answer(s, "status"), "1");
    ck_assert_str_eq(dialog_session_answer(s, "kind"), "1");
    ck_assert_str_eq(dialog_session_draft_path(s), "1*1*1");
    ck_assert_int_eq(dialog_session_in_report(s), 1);
    drive(s, "2500000*3*1", &o);
    ck_assert(starts_with(o.screen, "Usaha: Berjalan, Makanan & minuman, Omzet Rp2.500.000"));
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_BUSINESS);
    dialog_session_free(s);
    /* a training draft names the training by id: a changed list does not shift it */
    strcpy(c.lang, "en");
    strcpy(c.draft_flow, "attendance");
    strcpy(c.draft_path, "2*#7*1");
    {
        struct dialog_training t = c.trainings[0];

        c.trainings[0] = c.trainings[1]; /* training 7 moved up since the draft */
        c.trainings[1] = t;
    }
    s = start(set, &c, 182, &o);
    ck_assert_str_eq(o.screen,
                     "You have an unfinished report.\n1 Continue the report\n2 Start over");
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, "Enter the attendance code given at the training:");
    ck_assert_str_eq(dialog_session_answer(s, "training_id"), "7");
    in(s, "1234", &o);
    ck_assert(starts_with(o.screen, "Training: Pemasaran online 02/11, Attended, code 1234\n"));
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_resume_start_over_and_stale)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    c.has_draft = 1;
    strcpy(c.draft_flow, "business");
    strcpy(c.draft_path, "1*2*3");
    s = start(set, &c, 182, &o);
    in(s, "2", &o);
    ck_assert_int_eq(o.draft_discard, 1);
    ck_assert_str_eq(o.screen, MENU_ID);
    dialog_session_free(s);
    /* a draft that leads nowhere now: main menu, draft dropped */
    strcpy(c.draft_path, "9*9");
    s = start(set, &c, 182, &o);
    in(s, "1", &o);
    ck_assert_str_eq(o.screen, MENU_ID);
    ck_assert_int_eq(o.draft_discard, 1);
    dialog_session_free(s);
    /* replay stops before any side effect (here: the confirm's submit) */
    strcpy(c.draft_path, "1*3*1*1*1");
    s = start(set, &c, 182, &o);
    in(s, "1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_NONE);
    ck_assert(starts_with(o.screen, "Usaha: Tutup permanen, Kendala: Modal\n1 Kirim"));
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_committed_failure)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    drive(s, "3*2*1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_HELP);
    dialog_session_committed(s, 0, 0, &o);
    ck_assert_int_eq(o.end, 1);
    ck_assert_str_eq(o.screen, "Maaf, laporan belum bisa disimpan. Silakan coba lagi nanti.");
    ck_assert_int_eq(o.draft_discard, 0);
    ck_assert_int_eq(dialog_session_ended(s), 1);
    dialog_session_committed(s, 1, 5, &o); /* twice: no second "saved" */
    ck_assert_str_eq(o.screen, "Sesi sudah berakhir.");
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_replay_determinism)
{
    static const char *const inputs[] = {"x",       "1", "0",       "1",    "1", "99", "1",  "abc",
                                         "2500000", "0", "2500000", "3",    "1", "2",  "00", "2",
                                         "1",       "1", "9",       "4821", "0", "00", "4",  "0",
                                         "5",       "2", "3",       "2",    "1"};
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o1, o2;
    struct dialog_session *a, *b;
    size_t i, limit;

    demo_ctx(&c);
    for (limit = 60; limit <= 182; limit += 122) {
        a = start(set, &c, limit, &o1);
        b = start(set, &c, limit, &o2);
        ck_assert_mem_eq(&o1, &o2, sizeof(o1));
        for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
            in(a, inputs[i], &o1);
            in(b, inputs[i], &o2);
            ck_assert_str_eq(o1.screen, o2.screen);
            ck_assert_mem_eq(&o1, &o2, sizeof(o1));
            ck_assert_str_eq(dialog_session_draft_path(a), dialog_session_draft_path(b));
        }
        ck_assert_int_eq(o1.action, DIALOG_ACT_HELP);
        dialog_session_free(a);
        dialog_session_free(b);
    }
    dialog_set_unref(set);
}
END_TEST

START_TEST(test_refcount_outlives_caller)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    s = start(set, &c, 182, &o);
    dialog_set_unref(set); /* a reload dropped it; the session still holds a ref */
    drive(s, "1*4*1", &o);
    ck_assert(starts_with(o.screen, "Usaha: Belum mulai"));
    dialog_session_free(s);
}
END_TEST

START_TEST(test_hostile_ctx_and_json_escape)
{
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;

    demo_ctx(&c);
    memset(c.kpm_name, 'A', sizeof(c.kpm_name)); /* not terminated */
    memcpy(c.kpm_name, "\xff\xfe\nX\"{kpm.name}", 15);
    memset(c.trainings[0].title, 0xC3, sizeof(c.trainings[0].title));
    c.ntrainings = 1000;
    strcpy(c.lang, "xx");
    s = start(set, &c, 182, &o);
    ck_assert_msg(starts_with(o.screen, "Kabar KPM - Halo Ibu ?? X\"{kpm.name}AAAA"), "%s",
                  o.screen);
    ck_assert(fits_limit(o.screen, 182));
    in(s, "2", &o);
    ck_assert(fits_limit(o.screen, 182));
    dialog_session_free(s);
    /* a code typed for a training that has none is recorded as typed, JSON-escaped */
    demo_ctx(&c);
    c.trainings[0].code[0] = '\0';
    s = start(set, &c, 182, &o);
    drive(s, "2*1*1*a\"b\\c*1", &o);
    ck_assert_int_eq(o.action, DIALOG_ACT_ATTENDANCE);
    {
        char json[256];

        ck_assert_int_eq(dialog_session_answers_json(s, json, sizeof(json)), 0);
        ck_assert_str_eq(json,
                         "{\"training_id\":\"11\",\"attended\":\"1\",\"code\":\"a\\\"b\\\\c\"}");
    }
    dialog_session_free(s);
    dialog_set_unref(set);
}
END_TEST

/* Random inputs: never a crash, an overflow or a screen over the limit. */
START_TEST(test_random_inputs)
{
    static const char *const words[] = {
        "0", "00",       "99",       "1",        "2",    "3",    "4",       "5",          "6",
        "7", "",         "x",        "  1 ",     "4821", "1234", "2500000", "1000000001", "#11",
        "*", "\xff\xfe", "\xc3\xa9", "12345678", "-1",   "01",   "000"};
    struct dialog_set *set = load_shipped();
    struct dialog_ctx c;
    struct dialog_out o;
    struct dialog_session *s;
    uint32_t seed = 12345;
    char longin[600];
    int run, k;

    memset(longin, '9', sizeof(longin));
    for (run = 0; run < 300; run++) {
        size_t limits[] = {182, 60, 32, 0, 1000};
        size_t limit = limits[run % 5];

        demo_ctx(&c);
        c.registered = run % 7 != 0;
        c.has_draft = run % 3 == 0;
        strcpy(c.draft_path, run % 2 ? "1*1*1*5*2" : "2*#7*1*1234*0");
        if (run % 11 == 0)
            c.ntrainings = 0;
        s = start(set, &c, limit, &o);
        for (k = 0; k < 60 && !dialog_session_ended(s); k++) {
            seed = seed * 1103515245u + 12345u;
            if ((seed >> 16) % 23 == 0) {
                dialog_session_input(s, longin, (seed >> 8) % sizeof(longin), &o);
            } else {
                const char *w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];

                dialog_session_input(s, w, strlen(w), &o);
            }
            ck_assert(fits_limit(o.screen, limit ? limit : 182));
            ck_assert(o.screen[0] != '\0' || o.action != DIALOG_ACT_NONE);
            if (o.action != DIALOG_ACT_NONE)
                dialog_session_committed(s, (seed >> 20) & 1, run, &o);
            ck_assert_uint_le(strlen(dialog_session_draft_path(s)), 1024);
        }
        dialog_session_free(s);
    }
    dialog_set_unref(set);
}
END_TEST

/* Broken configs: each error names the file and the line of what is wrong. */

static const char BASE[] =
    "version = 1;\n"
    "start = \"main\";\n"
    "start_unknown = \"main\";\n"
    "messages = {\n"
    "  invalid_choice = { id = \"a\"; en = \"a\"; };\n"
    "  invalid_number = { id = \"n {min} {max}\"; en = \"n\"; };\n"
    "  invalid_text = { id = \"t\"; en = \"t\"; };\n"
    "  wrong_code = { id = \"w\"; en = \"w\"; };\n"
    "  too_many = { id = \"m\"; en = \"m\"; };\n"
    "  code_locked = { id = \"l\"; en = \"l\"; };\n"
    "  more = { id = \"99 Lanjut\"; en = \"99 More\"; };\n"
    "  save_failed = { id = \"f\"; en = \"f\"; };\n"
    "  ended = { id = \"e\"; en = \"e\"; };\n"
    "  resume_prompt = { id = \"r\"; en = \"r\"; };\n"
    "  resume_continue = { id = \"c\"; en = \"c\"; };\n"
    "  resume_restart = { id = \"s\"; en = \"s\"; };\n"
    "};\n"
    "flows = (\n"
    "  { name = \"main\"; screens = (\n"
    "    { name = \"menu\"; kind = \"choice\";\n"
    "      prompt = { id = \"Menu\"; en = \"Menu\"; };\n"
    "      options = (\n"
    "        { value = 1; label = { id = \"Go\"; en = \"Go\"; }; goto = \"f\"; }\n"
    "      ); }\n"
    "  ); },\n"
    "  { name = \"f\"; action = \"help\";\n"
    "    saved = { id = \"ok {report.id}\"; en = \"ok {report.id}\"; };\n"
    "    screens = (\n"
    "      { name = \"a\"; kind = \"integer\"; field = \"n\";\n"
    "        min = 1;\n"
    "        max = 9;\n"
    "        prompt = { id = \"N?\"; en = \"N?\"; }; },\n"
    "      { name = \"c\"; kind = \"confirm\";\n"
    "        prompt = { id = \"N {answer.n}\"; en = \"N {answer.n}\"; };\n"
    "        options = ( { value = 1; label = { id = \"Kirim\"; en = \"Send\"; }; do = \"submit\"; "
    "} ); }\n"
    "    ); }\n"
    ");\n";

static char tmp_path[64];

/* Writes BASE with `from` replaced by `to` and loads it. Returns the set or NULL with err. */
static struct dialog_set *
load_variant(const char *from, const char *to, char *err, size_t errlen, int *line_of_to)
{
    char text[8192];
    const char *at = from ? strstr(BASE, from) : NULL;
    const char *p;
    FILE *f;
    int fd;

    if (from)
        ck_assert_msg(at != NULL, "not in BASE: %s", from);
    if (at)
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
    else
        snprintf(text, sizeof(text), "%s", BASE);
    if (line_of_to) {
        *line_of_to = 1;
        for (p = text; p < text + (at ? at - BASE : 0); p++)
            *line_of_to += *p == '\n';
    }
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/kabar_dialog_XXXXXX");
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

static void
expect_error(const char *from, const char *to, int line_offset, const char *what)
{
    char err[512], prefix[128];
    int line;
    struct dialog_set *set = load_variant(from, to, err, sizeof(err), &line);

    ck_assert_msg(set == NULL, "loaded despite %s", to);
    snprintf(prefix, sizeof(prefix), "%s:%d: ", tmp_path, line + line_offset);
    ck_assert_msg(starts_with(err, prefix), "want %s... got %s", prefix, err);
    ck_assert_msg(strstr(err, what) != NULL, "want '%s' in %s", what, err);
}

START_TEST(test_load_errors)
{
    char err[512];
    struct dialog_set *set = load_variant(NULL, NULL, err, sizeof(err), NULL);

    ck_assert_msg(set != NULL, "%s", err);
    ck_assert_int_eq(dialog_set_check(set, 182, NULL, NULL), 0);
    dialog_set_unref(set);
    expect_error("        max = 9;", "        max = = 9;", 0, "syntax error");
    expect_error("goto = \"f\"", "goto = \"nowhere\"", 0, "unknown screen or flow 'nowhere'");
    expect_error("        prompt = { id = \"N {answer.n}\";",
                 "        when = { field = \"zzz\"; in = [1]; };\n"
                 "        prompt = { id = \"N {answer.n}\";",
                 0, "unknown field 'zzz' in 'when'");
    expect_error("{ id = \"N {answer.n}\"", "{ id = \"N {answer.q}\"", 0, "unknown field 'q'");
    expect_error("{ id = \"N {answer.n}\"", "{ id = \"N {nope}\"", 0, "unknown placeholder {nope}");
    expect_error("prompt = { id = \"N?\"; en = \"N?\"; };", "prompt = { id = \"N?\"; };", 0,
                 "missing 'en' text");
    expect_error("kind = \"integer\"", "kind = \"number\"", 0, "bad kind");
    expect_error("        min = 1;", "        min = 10;", 0, "min 10 > max 9");
    expect_error("do = \"submit\"", "do = \"send\"", 0, "'do' must be");
    expect_error("        max = 9;", "        max = 9;\n        colour = \"red\";", 1,
                 "unknown setting 'colour'");
    expect_error("{ name = \"a\"; kind = \"integer\"; field = \"n\";",
                 "{ name = \"a\"; kind = \"integer\";", 0, "needs a 'field'");
    expect_error("start = \"main\";", "start = \"mian\";", 0, "'start' names no flow");
    set = dialog_set_load("/nonexistent/dialogs.conf", err, sizeof(err));
    ck_assert_ptr_null(set);
    ck_assert(starts_with(err, "/nonexistent/dialogs.conf:0: "));
}
END_TEST

static int check_errors_seen, check_warnings_seen;
static char check_last[512];

static void
collect(void *arg, int is_error, const char *msg)
{
    (void)arg;
    if (is_error)
        check_errors_seen++;
    else
        check_warnings_seen++;
    snprintf(check_last, sizeof(check_last), "%s", msg);
}

static int
check_variant(const char *from, const char *to, size_t limit)
{
    char err[512];
    struct dialog_set *set = load_variant(from, to, err, sizeof(err), NULL);
    int n;

    ck_assert_msg(set != NULL, "%s", err);
    check_errors_seen = check_warnings_seen = 0;
    n = dialog_set_check(set, limit, collect, NULL);
    ck_assert_int_eq(n, check_errors_seen);
    dialog_set_unref(set);
    return n;
}

START_TEST(test_check_errors)
{
    char longlabel[300];

    ck_assert_int_eq(check_variant("  ); },\n  { name = \"f\"",
                                   "  ); },\n  { name = \"lonely\"; screens = ( { name = \"x\"; "
                                   "kind = \"end\"; prompt = { id = \"x\"; en = \"x\"; }; } ); },\n"
                                   "  { name = \"f\"",
                                   182),
                     1);
    ck_assert(strstr(check_last, "screen 'lonely.x' cannot be reached") != NULL);
    memset(longlabel, 'a', 200);
    longlabel[200] = '\0';
    {
        char to[400];

        snprintf(to, sizeof(to), "label = { id = \"%s\"; en = \"Go\"; }", longlabel);
        ck_assert_int_eq(check_variant("label = { id = \"Go\"; en = \"Go\"; }", to, 182), 1);
        ck_assert(strstr(check_last, "option 1 (id): a line does not fit") != NULL);
    }
    ck_assert_int_eq(check_variant("{ id = \"Menu\"; en = \"Menu\"; }",
                                   "{ id = \"Menu\"; en = \"\xd0\x9c\xd0\xb5\xd0\xbd\xd1\x8e\"; }",
                                   182),
                     0);
    ck_assert_int_eq(check_warnings_seen, 1);
    ck_assert(strstr(check_last, "outside GSM-7") != NULL);
    ck_assert_int_eq(
        check_variant("{ id = \"Menu\"; en = \"Menu\"; }", "{ id = \"Menu\"; en = \"\"; }", 182),
        1);
    ck_assert(strstr(check_last, "the 'en' translation is empty") != NULL);
    /* a flow that runs out of screens */
    ck_assert_int_eq(check_variant("do = \"submit\"", "goto = \"main\"", 182), 0);
    ck_assert_int_ge(check_variant("        options = ( { value = 1; label = { id = \"Kirim\"; en "
                                   "= \"Send\"; }; do = \"submit\"; } ); }",
                                   "        options = ( { value = 1; label = { id = \"Kirim\"; en "
                                   "= \"Send\"; }; } ); }",
                                   182),
                     1);
    ck_assert(strstr(check_last, "has no next screen") != NULL);
}
END_TEST

static Suite *
dialog_suite(void)
{
    Suite *s = suite_create("dialog");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_load_and_check_shipped);
    tcase_add_test(tc, test_shipped_is_gsm7);
    tcase_add_test(tc, test_main_menu_both_languages);
    tcase_add_test(tc, test_business_running);
    tcase_add_test(tc, test_business_other_statuses);
    tcase_add_test(tc, test_business_restart_and_cancel);
    tcase_add_test(tc, test_attendance_yes);
    tcase_add_test(tc, test_attendance_wrong_code_three_times);
    tcase_add_test(tc, test_attendance_no);
    tcase_add_test(tc, test_attendance_no_trainings);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_my_reports);
    tcase_add_test(tc, test_language_switch);
    tcase_add_test(tc, test_unknown_number);
    tcase_add_test(tc, test_back_and_menu);
    tcase_add_test(tc, test_invalid_answers);
    tcase_add_test(tc, test_paging_60);
    tcase_add_test(tc, test_resume_continue);
    tcase_add_test(tc, test_resume_start_over_and_stale);
    tcase_add_test(tc, test_committed_failure);
    tcase_add_test(tc, test_replay_determinism);
    tcase_add_test(tc, test_refcount_outlives_caller);
    tcase_add_test(tc, test_hostile_ctx_and_json_escape);
    tcase_add_test(tc, test_random_inputs);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_check_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(dialog_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
