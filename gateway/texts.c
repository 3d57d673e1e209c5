#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "gsm7.h"
#include "parse.h"
#include "texts.h"

static const char *const texts_names[TEXT_COUNT] = {
    "unknown_number",
    "usage",
    "usage_business",
    "usage_attend",
    "usage_absent",
    "usage_ack",
    "info",
    "business_saved",
    "attend_saved",
    "absent_saved",
    "unknown_code",
    "help_saved",
    "stopped",
    "started",
    "ack_ok",
    "ack_unknown",
    "alert_business_closed",
    "alert_help_requested",
    "alert_training_missed",
    "alert_silent",
    "alert_revenue_drop",
    "alert_graduation",
    "alert_link_request",
    "alert_relapse",
    "digest",
    "remind_training",
    "nudge",
    "checkin",
    "usage_assistant",
    "kpm_unknown",
    "check",
    "check_no_report",
    "visit_saved",
    "graduation_saved",
    "outcome_saved",
    "outcome_refused",
    "training_saved",
    "training_unknown",
    "training_closed",
    "usage_attend_tot",
    "usage_lecturer",
    "ussd_training_item",
    "ussd_training_code",
    "lesson_none",
    "lesson_done",
    "lesson_reply",
    "lesson_right",
    "lesson_wrong",
    "lesson_passed",
    "lesson_failed",
    "lesson_weekly",
    "lesson_weekly_stop",
    "usage_answer",
};

struct texts {
    char *t[TEXT_COUNT][2]; /* [text][0 id, 1 en] */
};

const char *
texts_name(enum text_id id)
{
    return (unsigned)id < TEXT_COUNT ? texts_names[id] : "?";
}

void
texts_free(struct texts *x)
{
    size_t i;

    if (x == NULL)
        return;
    for (i = 0; i < TEXT_COUNT; i++) {
        free(x->t[i][0]);
        free(x->t[i][1]);
    }
    free(x);
}

struct texts *
texts_from(struct cfgfile *f)
{
    struct texts *x = calloc(1, sizeof *x);
    const config_setting_t *g, *e;
    size_t i;
    int l;

    if (x == NULL) {
        cfgfile_fail_line(f, 0, "out of memory");
        return NULL;
    }
    if ((g = config_lookup(&f->cf, "replies")) == NULL || !config_setting_is_group(g)) {
        cfgfile_fail_line(f, 0, "missing group 'replies' (the SMS reply texts)");
        goto fail;
    }
    for (i = 0; i < TEXT_COUNT; i++) {
        if ((e = config_setting_get_member(g, texts_names[i])) == NULL) {
            cfgfile_fail(f, g, "replies: missing '%s'", texts_names[i]);
            goto fail;
        }
        for (l = 0; l < 2; l++) {
            const char *v = NULL;

            if (!config_setting_lookup_string(e, l == 0 ? "id" : "en", &v) ||
                !parse_utf8_valid(v, strlen(v))) {
                cfgfile_fail(f, e, "replies.%s: missing or bad '%s' text", texts_names[i],
                             l == 0 ? "id" : "en");
                goto fail;
            }
            if ((x->t[i][l] = strdup(v)) == NULL) {
                cfgfile_fail(f, e, "out of memory");
                goto fail;
            }
        }
    }
    return x;
fail:
    texts_free(x);
    return NULL;
}

int
texts_check(const struct texts *x, unsigned max_segments, char *err, size_t errlen)
{
    size_t i, l, units;
    int gsm7;

    for (i = 0; i < TEXT_COUNT; i++) {
        for (l = 0; l < 2; l++) {
            const char *t = x->t[i][l];

            /* room for the placeholders' values: a name, a number, a training's title */
            if (gsm7_measure(t, strlen(t), &units, &gsm7) == -1 ||
                gsm7_sms_segments(units + 60, gsm7) > max_segments) {
                snprintf(err, errlen, "replies.%s (%s) does not fit %u SMS part(s)", texts_names[i],
                         l == 0 ? "id" : "en", max_segments);
                return -1;
            }
        }
    }
    return 0;
}

int
texts_render(const struct texts *x, enum text_id id, int en, const char *const *kv, char *out,
             size_t outlen)
{
    const char *p;
    size_t o = 0;

    if ((unsigned)id >= TEXT_COUNT || outlen == 0)
        return -1;
    p = x->t[id][en ? 1 : 0];
    /* {key} is replaced by its value; an unknown one is left as it is */
    while (*p != '\0' && o + 1 < outlen) {
        const char *v = NULL;
        size_t skip = 0, k;

        for (k = 0; *p == '{' && kv != NULL && kv[k] != NULL; k += 2) {
            size_t n = strlen(kv[k]);

            if (strncmp(p + 1, kv[k], n) == 0 && p[1 + n] == '}') {
                v = kv[k + 1];
                skip = n + 2;
                break;
            }
        }
        if (skip > 0) {
            o += (size_t)snprintf(out + o, outlen - o, "%s", v != NULL ? v : "");
            if (o >= outlen)
                o = outlen - 1;
            p += skip;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return 0;
}
