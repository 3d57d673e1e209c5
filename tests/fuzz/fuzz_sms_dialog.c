/*
 * sms_dialog_step() on any stored path and any answer, with the shipped dialogs:
 * $KABAR_SRCDIR/config/dialogs.conf, else ./config/dialogs.conf, else a small built-in business
 * dialog. The input is the stored path, a NUL, then the answer; without a NUL it is all the
 * answer to the first question ("1" stored). The new path must be the stored one with the answer
 * appended, never over SMS_DIALOG_PATH_MAX bytes, and FULL exactly when it would be over; the
 * reply must be a string, and the same input must give the same step.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialog.h"
#include "sms_dialog.h"
#include "fuzz.h"

static const char builtin[] =
    "version = 1; start = \"main\"; start_unknown = \"main\";\n"
    "last_status_labels = \"business.status\";\n"
    "messages = {\n"
    "  invalid_choice = { id = \"Pilihan tidak ada.\"; en = \"No such option.\"; };\n"
    "  invalid_number = { id = \"Angka {min} - {max}.\"; en = \"A number {min} - {max}.\"; };\n"
    "  invalid_text = { id = \"Teks.\"; en = \"Text.\"; };\n"
    "  wrong_code = { id = \"Kode salah.\"; en = \"Wrong code.\"; };\n"
    "  too_many = { id = \"Terlalu banyak.\"; en = \"Too many.\"; };\n"
    "  code_locked = { id = \"Terkunci.\"; en = \"Locked.\"; };\n"
    "  more = { id = \"99 Lanjut\"; en = \"99 More\"; };\n"
    "  save_failed = { id = \"Gagal.\"; en = \"Not saved.\"; };\n"
    "  ended = { id = \"Selesai.\"; en = \"Ended.\"; };\n"
    "  resume_prompt = { id = \"Belum selesai.\"; en = \"Unfinished.\"; };\n"
    "  resume_continue = { id = \"Lanjutkan\"; en = \"Continue\"; };\n"
    "  resume_restart = { id = \"Mulai baru\"; en = \"Start over\"; };\n"
    "};\n"
    "flows = (\n"
    "  { name = \"main\"; screens = ( { name = \"menu\"; kind = \"choice\";\n"
    "      prompt = { id = \"Menu\"; en = \"Menu\"; };\n"
    "      options = ( { value = 1; label = { id = \"Usaha\"; en = \"Business\"; };\n"
    "                    goto = \"business\"; } ); } ); },\n"
    "  { name = \"business\"; action = \"business\";\n"
    "    saved = { id = \"Tersimpan {report.id}\"; en = \"Saved {report.id}\"; };\n"
    "    screens = (\n"
    "      { name = \"status\"; kind = \"choice\"; field = \"status\";\n"
    "        prompt = { id = \"Usaha:\"; en = \"Business:\"; };\n"
    "        options = ( { value = 1; label = { id = \"Buka\"; en = \"Open\"; }; },\n"
    "                    { value = 2; label = { id = \"Tutup\"; en = \"Closed\"; }; } ); },\n"
    "      { name = \"revenue\"; kind = \"integer\"; field = \"revenue\"; min = 0; max = 1000;\n"
    "        when = { field = \"status\"; in = [1]; };\n"
    "        prompt = { id = \"Omzet:\"; en = \"Revenue:\"; }; },\n"
    "      { name = \"confirm\"; kind = \"confirm\";\n"
    "        prompt = { id = \"{label.status}\"; en = \"{label.status}\"; };\n"
    "        options = (\n"
    "          { value = 1; label = { id = \"Kirim\"; en = \"Send\"; }; do = \"submit\"; },\n"
    "          { value = 0; label = { id = \"Batal\"; en = \"Cancel\"; }; do = \"cancel\"; } ); }\n"
    "    ); }\n"
    ");\n";

/* Loaded once, kept for the life of the process. */
static struct dialog_set *
fuzz_set(void)
{
    static struct dialog_set *set;
    char path[4096], err[512];
    int tmp;

    if (set != NULL)
        return set;
    fuzz_config_path("dialogs.conf", NULL, builtin, path, sizeof(path), &tmp);
    set = dialog_set_load(path, err, sizeof(err));
    if (tmp)
        unlink(path);
    if (set == NULL) {
        fprintf(stderr, "fuzz_sms_dialog: %s\n", err);
        abort();
    }
    return set;
}

static int
kept(char c)
{
    return c != '*' && c != '\n' && c != '\r' && c != '\0';
}

/* What the new path must be, worked out apart from the module: -1 when it would not fit. */
static int
expected_path(const char *stored, size_t slen, const char *a, size_t alen, char *out)
{
    size_t n = 0, i;

    if (slen == 0) {
        strcpy(out, "1");
        return 0;
    }
    while (alen > 0 && (a[0] == ' ' || a[0] == '\t'))
        a++, alen--;
    while (alen > 0 && a[alen - 1] != '\0' && strchr(" \t.\n\r", a[alen - 1]) != NULL)
        alen--;
    if (slen > SMS_DIALOG_PATH_MAX)
        return -1;
    memcpy(out, stored, slen);
    n = slen;
    out[n++] = '*';
    for (i = 0; i < alen; i++) {
        if (!kept(a[i]))
            continue;
        if (n >= SMS_DIALOG_PATH_MAX)
            return -1;
        out[n++] = a[i];
    }
    if (n > SMS_DIALOG_PATH_MAX)
        return -1;
    out[n] = '\0';
    return 0;
}

static void
ctx_of(struct dialog_ctx *c, const uint8_t *data, size_t size)
{
    memset(c, 0, sizeof(*c));
    c->registered = 1;
    c->kpm_id = 7;
    /* the language from the input, so both are reached */
    strcpy(c->lang, size > 0 && (data[size - 1] & 1) ? "en" : "id");
    strcpy(c->kpm_name, "Siti Aminah");
    strcpy(c->assistant_name, "Bu Ratna");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char expect[SMS_DIALOG_PATH_MAX + 2];
    struct dialog_set *set = fuzz_set();
    const char *s = (const char *)data, *nul = memchr(s, '\0', size);
    const char *stored = "1", *answer = s;
    size_t slen = 1, alen = size;
    struct sms_dialog_step st, again;
    struct dialog_ctx ctx;
    char json[2048];
    int fits;

    if (nul != NULL) {
        stored = s;
        slen = (size_t)(nul - s);
        answer = nul + 1;
        alen = size - slen - 1;
    }
    ctx_of(&ctx, data, size);
    FUZZ_CHECK(sms_dialog_step(set, &ctx, stored, slen, answer, alen, &st) == 0);
    FUZZ_CHECK(st.next >= SMS_DIALOG_ASK && st.next <= SMS_DIALOG_FULL);
    fits = expected_path(stored, slen, answer, alen, expect) == 0;
    FUZZ_CHECK(fits == (st.next != SMS_DIALOG_FULL));
    if (!fits) {
        FUZZ_CHECK(st.ds == NULL);
        sms_dialog_step_free(&st);
        return 0;
    }
    FUZZ_CHECK(memchr(st.path, '\0', sizeof(st.path)) != NULL);
    FUZZ_CHECK(strlen(st.path) <= SMS_DIALOG_PATH_MAX);
    FUZZ_CHECK(strcmp(st.path, expect) == 0);
    FUZZ_CHECK(st.ds != NULL);
    fuzz_check_str(st.out.screen, sizeof(st.out.screen));
    switch (st.next) {
    case SMS_DIALOG_ASK:
        FUZZ_CHECK(st.out.action == DIALOG_ACT_NONE && !st.out.end);
        FUZZ_CHECK(st.out.screen[0] != '\0');
        break;
    case SMS_DIALOG_ENDED:
        FUZZ_CHECK(st.out.action == DIALOG_ACT_NONE && st.out.end);
        FUZZ_CHECK(st.out.screen[0] != '\0');
        break;
    case SMS_DIALOG_ACTION:
        FUZZ_CHECK(st.out.action != DIALOG_ACT_NONE && st.out.screen[0] == '\0');
        if (dialog_session_answers_json(st.ds, json, sizeof(json)) == 0)
            fuzz_check_str(json, sizeof(json));
        /* what sms.c does next: the saved text (or the failure) ends the dialog */
        dialog_session_committed(st.ds, size > 0 && (data[0] & 2), 42, &st.out);
        FUZZ_CHECK(st.out.end && st.out.screen[0] != '\0');
        fuzz_check_str(st.out.screen, sizeof(st.out.screen));
        break;
    case SMS_DIALOG_FULL:
        FUZZ_CHECK(0);
        break;
    }
    /* the same message again: the same step */
    FUZZ_CHECK(sms_dialog_step(set, &ctx, stored, slen, answer, alen, &again) == 0);
    FUZZ_CHECK(again.next == st.next && strcmp(again.path, st.path) == 0);
    if (st.next != SMS_DIALOG_ACTION)
        FUZZ_CHECK(strcmp(again.out.screen, st.out.screen) == 0);
    sms_dialog_step_free(&again);
    sms_dialog_step_free(&st);
    return 0;
}
