#include <string.h>

#include "dialog.h"
#include "sms_dialog.h"

/* one question a message: one SMS part */
#define SMS_DIALOG_SCREEN 160

/* The answer without the spaces around it, nor a final '.' or line break (a phone adds them). */
static void
sms_dialog_trim(const char **a, size_t *alen)
{
    while (*alen > 0 && (**a == ' ' || **a == '\t'))
        (*a)++, (*alen)--;
    while (*alen > 0 &&
           ((*a)[*alen - 1] == ' ' || (*a)[*alen - 1] == '\t' || (*a)[*alen - 1] == '.' ||
            (*a)[*alen - 1] == '\n' || (*a)[*alen - 1] == '\r'))
        (*alen)--;
}

static int
sms_dialog_kept(char c)
{
    return c != '*' && c != '\n' && c != '\r' && c != '\0';
}

/* The path with one more answer, or -1 (path untouched) when it would not fit. */
static int
sms_dialog_append(char *path, size_t plen, const char *a, size_t alen)
{
    size_t i, n = 0;

    for (i = 0; i < alen; i++)
        n += sms_dialog_kept(a[i]);
    /* '*', the answer and the NUL: compared without an addition that could wrap */
    if (plen >= SMS_DIALOG_PATH_MAX || n > SMS_DIALOG_PATH_MAX - plen - 1)
        return -1;
    path[plen++] = '*';
    for (i = 0; i < alen; i++)
        if (sms_dialog_kept(a[i]))
            path[plen++] = a[i];
    path[plen] = '\0';
    return 0;
}

/* Every answer of the path from the first screen, until the dialog ends or acts. */
static void
sms_dialog_replay(struct sms_dialog_step *st)
{
    const char *p = st->path;
    size_t i, start;

    dialog_session_begin(st->ds, &st->out);
    for (i = 0, start = 0;; i++) {
        if (p[i] == '*' || p[i] == '\0') {
            dialog_session_input(st->ds, p + start, i - start, &st->out);
            start = i + 1;
            if (st->out.action != DIALOG_ACT_NONE || st->out.end || p[i] == '\0')
                break;
        }
    }
}

int
sms_dialog_step(struct dialog_set *set, const struct dialog_ctx *ctx, const char *stored,
                size_t slen, const char *answer, size_t alen, struct sms_dialog_step *st)
{
    memset(st, 0, sizeof *st);
    if (stored != NULL)
        slen = strnlen(stored, slen); /* a string: what a NUL cut off was never a path */
    if (stored == NULL || slen == 0) {
        memcpy(st->path, "1", 2); /* the main menu's "Lapor usaha" */
    } else {
        if (slen > SMS_DIALOG_PATH_MAX) {
            st->next = SMS_DIALOG_FULL;
            return 0;
        }
        memcpy(st->path, stored, slen);
        st->path[slen] = '\0';
        if (answer == NULL)
            alen = 0;
        sms_dialog_trim(&answer, &alen);
        if (sms_dialog_append(st->path, slen, answer, alen) == -1) {
            st->next = SMS_DIALOG_FULL;
            return 0;
        }
    }
    if ((st->ds = dialog_session_new(set, ctx, SMS_DIALOG_SCREEN)) == NULL)
        return -1;
    sms_dialog_replay(st);
    if (st->out.action != DIALOG_ACT_NONE)
        st->next = SMS_DIALOG_ACTION;
    else if (st->out.end)
        st->next = SMS_DIALOG_ENDED;
    else
        st->next = SMS_DIALOG_ASK;
    return 0;
}

void
sms_dialog_step_free(struct sms_dialog_step *st)
{
    dialog_session_free(st->ds);
    st->ds = NULL;
}
