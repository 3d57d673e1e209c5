/*
 * The business report one question per SMS (a bare USAHA), driven by the USSD dialogs: the pure
 * step of it. The answers so far are a path, '*' between answers, that sms.c keeps in
 * sms_dialogs; each SMS adds one answer, and the whole path is replayed through the dialog engine
 * for the next question or the finished report. Pure: no log, no database; sms.c reads and
 * writes the path and commits the report.
 */
#ifndef KABAR_SMS_DIALOG_H
#define KABAR_SMS_DIALOG_H

#include <stddef.h>

#include "dialog.h"

/* bytes of a path: sms_dialogs.input_path and a report's input_path hold no more */
#define SMS_DIALOG_PATH_MAX 1024

enum sms_dialog_next {
    SMS_DIALOG_ASK,    /* out.screen is the next question: keep path for the answer to it */
    SMS_DIALOG_ACTION, /* out.action: commit the report (its answers are ds's), forget path */
    SMS_DIALOG_ENDED,  /* out.screen ends the dialog (cancelled, too many wrong answers) */
    SMS_DIALOG_FULL    /* the answer would not fit in the path: the dialog is over, ds is NULL */
};

struct sms_dialog_step {
    enum sms_dialog_next next;
    /* the session after the replay: for the report (report_from_dialog) and its saved text
     * (dialog_session_committed); NULL when FULL. sms_dialog_step_free() frees it. */
    struct dialog_session *ds;
    struct dialog_out out;
    char path[SMS_DIALOG_PATH_MAX + 1]; /* the answers so far, this one included */
};

/*
 * One step of the dialog of ctx's KPM. stored (up to slen bytes or a NUL) is the path read back,
 * empty for a new dialog, which starts at the main menu's "Lapor usaha" and takes no answer;
 * answer (alen bytes, any bytes) is the SMS text: surrounding spaces and a final '.' are
 * trimmed, and '*', line breaks and NULs in it are dropped (they would split or cut the path).
 * A stored path over SMS_DIALOG_PATH_MAX bytes, or one the answer would take past it, gives
 * FULL. Returns 0, or -1 when out of memory.
 */
int sms_dialog_step(struct dialog_set *set, const struct dialog_ctx *ctx, const char *stored,
                    size_t slen, const char *answer, size_t alen, struct sms_dialog_step *st);
void sms_dialog_step_free(struct sms_dialog_step *st);

#endif
