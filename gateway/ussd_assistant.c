/*
 * An assistant's own USSD menu: a caller whose number is in `assistants` (and is no KPM's) gets
 * her open alerts with an outcome for each, a look-up of one of HER KPM by PKH number, a home
 * visit, the graduation-candidate and phone-link decisions, and her language. Its screens are
 * code, not dialog data: each one shows what a database look-up just found (her alerts, one
 * KPM), which the engine's replayed, pure dialogs cannot hold; their texts are dialog data
 * (`assistant` in dialogs.conf, dialog_set_atext()). Her own TOT attendance (5 on the menu, a
 * training's code, gateway/training.c) takes its texts from keywords.conf's replies, as its SMS
 * HADIR does.
 *
 * Every action is a DB_TXN job of gateway/graduation.c within her scope {"", her id}, audited
 * as "assistant:ID", committed before the reply. A retried hop is answered from the session's
 * last screen (ussd.c), and a job re-run after a lost COMMIT writes nothing twice: the same
 * outcome or decision again is a no-op, a visit is keyed by (channel, session:hop).
 * Runs on the loop thread, but for the *_work functions, which run on a database worker.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "dialog.h"
#include "graduation.h"
#include "gsm7.h"
#include "http.h"
#include "kerr.h"
#include "log.h"
#include "parse.h"
#include "review.h"
#include "texts.h"
#include "training.h"
#include "ussd_int.h"

#define ASST_ALERTS 30 /* the newest open alerts her list holds */
/* bytes of a KPM's name in her alerts: an alert with its five outcomes fits one screen */
#define ASST_NAME_SHOWN 24

enum asst_screen {
    A_MENU,
    A_ALERTS,
    A_ALERT,
    A_DECLINE,
    A_PKH,   /* look up a KPM */
    A_KPM,   /* what the look-up found */
    A_VPKH,  /* a visit: whose */
    A_VDATE, /* when */
    A_VOUTCOME,
    A_VRUNNING,
    A_VCONFIRM,
    A_LANG,
    A_RESULT, /* saved, conflict or not found; 0 goes to `back` */
    A_TCODE,  /* her TOT attendance: the training's code */
    A_TRESULT /* what training.c answered; 0 goes to the menu */
};

enum asst_job_kind {
    J_ALERTS,
    J_LOOKUP,
    J_OUTCOME,
    J_CANDIDATE,
    J_LINK,
    J_VISIT,
    J_LANG,
    J_TRAINING
};

struct asst_alert {
    uint64_t id, link_id;
    char rule[33];
    char name[41];
    char pkh[21];
    char date[6]; /* DD/MM, WIB */
};

struct ussd_asst {
    uint64_t id;
    char name[41];
    unsigned nopen; /* open alerts, as last counted */
    enum asst_screen screen, back;
    enum dialog_atext result;
    size_t page, cur, nalerts;
    struct asst_alert alerts[ASST_ALERTS];
    /* the KPM found by a look-up */
    uint64_t kpm_id;
    char kpm_name[41], kpm_pkh[21], last[96];
    unsigned kpm_open;
    /* a visit in progress */
    char vdate[11];
    unsigned voutcome;
    int vrunning; /* 1, 0, -1 not seen */
    int strikes;
    char tresult[200]; /* her TOT attendance's answer, rendered */
};

/* Her reasons to decline a candidate (the labels are DIALOG_A_DECLINE's, in this order). */
static const char *const asst_decline_codes[] = {"business_not_stable", "needs_pkh_support",
                                                 "wrong_data", "other"};

static const char *
asst_text(const struct ussd_session *s, enum dialog_atext t)
{
    const char *v = dialog_set_atext(s->set, t, s->lang);

    return v != NULL ? v : "";
}

/* t with {1}..{4} replaced by a[0..3] (NULL: ""), appended to b. */
static void
asst_fill(char *b, size_t cap, const char *t, const char *const a[4])
{
    size_t len = strlen(b);

    for (; *t && len + 1 < cap; t++) {
        if (t[0] == '{' && t[1] >= '1' && t[1] <= '4' && t[2] == '}') {
            const char *v = a[t[1] - '1'] ? a[t[1] - '1'] : "";
            size_t n = strlen(v);

            if (n > cap - len - 1)
                n = cap - len - 1;
            memcpy(b + len, v, n);
            len += n;
            t += 2;
            continue;
        }
        b[len++] = *t;
    }
    b[len] = '\0';
}

static void
asst_put(char *b, size_t cap, const char *t)
{
    const char *none[4] = {NULL, NULL, NULL, NULL};

    if (b[0] != '\0')
        asst_fill(b, cap, "\n", none);
    asst_fill(b, cap, t, none);
}

static int
asst_fits(const struct ussd_session *s, const char *t)
{
    size_t units;
    int gsm;

    if (gsm7_measure(t, strlen(t), &units, &gsm) < 0)
        return 0;
    return units <= gsm7_screen_limit(gsm, s->screen_limit ? s->screen_limit : DIALOG_SCREEN_MAX);
}

static const char *
asst_rule(const struct ussd_session *s, const char *rule)
{
    static const struct {
        const char *rule;
        enum dialog_atext t;
    } names[] = {
        {"help_requested", DIALOG_A_RULE_HELP},    {"link_request", DIALOG_A_RULE_LINK},
        {"graduation", DIALOG_A_RULE_GRAD},        {"business_closed", DIALOG_A_RULE_CLOSED},
        {"revenue_drop", DIALOG_A_RULE_DROP},      {"silent", DIALOG_A_RULE_SILENT},
        {"training_missed", DIALOG_A_RULE_MISSED}, {"relapse", DIALOG_A_RULE_RELAPSE},
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(rule, names[i].rule) == 0)
            return asst_text(s, names[i].t);
    return rule;
}

/* The alert list's page: as many alerts as fit with the "more" and "back" lines. */
static size_t
asst_alert_page(const struct ussd_session *s, size_t page, char *b, size_t cap)
{
    const struct ussd_asst *a = s->asst;
    size_t i = 0, p = 0, start;
    char line[160], try[DIALOG_SCREEN_MAX * 4 + 1];

    for (;;) {
        start = i;
        snprintf(b, cap, "%s", asst_text(s, DIALOG_A_ALERTS));
        for (; i < a->nalerts; i++) {
            snprintf(line, sizeof line, "%zu %s: %s %s", i + 1, asst_rule(s, a->alerts[i].rule),
                     a->alerts[i].name, a->alerts[i].date);
            snprintf(try, sizeof try, "%s\n%s\n%s\n%s", b, line, asst_text(s, DIALOG_A_MORE),
                     asst_text(s, DIALOG_A_BACK));
            if (!asst_fits(s, try) && i > start)
                break;
            asst_put(b, cap, line);
        }
        if (i < a->nalerts)
            asst_put(b, cap, asst_text(s, DIALOG_A_MORE));
        asst_put(b, cap, asst_text(s, DIALOG_A_BACK));
        if (p == page || i >= a->nalerts)
            return i >= a->nalerts ? p + 1 : p + 2;
        p++;
    }
}

static const struct config_visit_outcome *
asst_visit_outcome(const struct config *cfg, unsigned code)
{
    size_t i;

    for (i = 0; i < cfg->graduation.nvisit_outcomes; i++)
        if (cfg->graduation.visit_outcomes[i].code == code)
            return &cfg->graduation.visit_outcomes[i];
    return NULL;
}

/* The current screen into b. */
static void
asst_render(const struct ussd_session *s, const struct config *cfg, const char *reason, char *b,
            size_t cap)
{
    const struct ussd_asst *a = s->asst;
    const struct asst_alert *al = a->nalerts > a->cur ? &a->alerts[a->cur] : NULL;
    int en = strcmp(s->lang, "en") == 0;
    char n1[24], n2[24], line[160];
    const char *v[4] = {NULL, NULL, NULL, NULL}, *const none[] = {NULL};
    size_t i;

    b[0] = '\0';
    if (reason != NULL)
        snprintf(b, cap, "%s", reason);
    switch (a->screen) {
    case A_MENU:
        snprintf(n1, sizeof n1, "%u", a->nopen);
        v[0] = a->name;
        v[1] = n1;
        if (b[0])
            asst_put(b, cap, "");
        asst_fill(b, cap, asst_text(s, DIALOG_A_MENU), v);
        texts_render(cfg->texts, TEXT_USSD_TRAINING_ITEM, en, none, line, sizeof line);
        asst_put(b, cap, line);
        return;
    case A_ALERTS:
        if (a->nalerts == 0) {
            asst_put(b, cap, asst_text(s, DIALOG_A_ALERTS_NONE));
            asst_put(b, cap, asst_text(s, DIALOG_A_BACK));
            return;
        }
        {
            char page[DIALOG_SCREEN_MAX * 4 + 1];

            (void)asst_alert_page(s, a->page, page, sizeof page);
            asst_put(b, cap, page);
        }
        return;
    case A_ALERT:
        if (al == NULL)
            return;
        v[0] = asst_rule(s, al->rule);
        v[1] = al->name;
        v[2] = al->pkh;
        v[3] = al->date;
        if (b[0])
            asst_put(b, cap, "");
        asst_fill(b, cap, asst_text(s, DIALOG_A_ALERT), v);
        asst_put(b, cap,
                 asst_text(s, strcmp(al->rule, "graduation") == 0     ? DIALOG_A_CANDIDATE
                              : strcmp(al->rule, "link_request") == 0 ? DIALOG_A_LINK
                                                                      : DIALOG_A_OUTCOMES));
        asst_put(b, cap, asst_text(s, DIALOG_A_BACK));
        return;
    case A_DECLINE:
        asst_put(b, cap, asst_text(s, DIALOG_A_DECLINE));
        return;
    case A_PKH:
    case A_VPKH:
        asst_put(b, cap, asst_text(s, DIALOG_A_PKH));
        return;
    case A_KPM:
        snprintf(n1, sizeof n1, "%u", a->kpm_open);
        v[0] = a->kpm_name;
        v[1] = a->kpm_pkh;
        v[2] = a->last;
        v[3] = n1;
        if (b[0])
            asst_put(b, cap, "");
        asst_fill(b, cap, asst_text(s, DIALOG_A_KPM), v);
        asst_put(b, cap, asst_text(s, DIALOG_A_BACK));
        return;
    case A_VDATE:
        asst_put(b, cap, asst_text(s, DIALOG_A_VISIT_DATE));
        return;
    case A_VOUTCOME:
        asst_put(b, cap, asst_text(s, DIALOG_A_VISIT_OUTCOME));
        for (i = 0; i < cfg->graduation.nvisit_outcomes; i++) {
            snprintf(line, sizeof line, "%u %s", cfg->graduation.visit_outcomes[i].code,
                     cfg->graduation.visit_outcomes[i].label[en]);
            asst_put(b, cap, line);
        }
        return;
    case A_VRUNNING:
        asst_put(b, cap, asst_text(s, DIALOG_A_VISIT_RUNNING));
        return;
    case A_VCONFIRM: {
        const struct config_visit_outcome *o = asst_visit_outcome(cfg, a->voutcome);
        static const char *const yn[2][3] = {{"ya", "tidak", "tidak terlihat"},
                                             {"yes", "no", "not seen"}};

        snprintf(n2, sizeof n2, "%.2s/%.2s/%.4s", a->vdate + 8, a->vdate + 5, a->vdate);
        v[0] = a->kpm_name;
        v[1] = n2;
        v[2] = o != NULL ? o->label[en] : "";
        v[3] = yn[en][a->vrunning == 1 ? 0 : a->vrunning == 0 ? 1 : 2];
        if (b[0])
            asst_put(b, cap, "");
        asst_fill(b, cap, asst_text(s, DIALOG_A_VISIT_CONFIRM), v);
        return;
    }
    case A_LANG:
        asst_put(b, cap, asst_text(s, DIALOG_A_LANGUAGE));
        return;
    case A_RESULT:
        asst_put(b, cap, asst_text(s, a->result));
        asst_put(b, cap, asst_text(s, DIALOG_A_BACK));
        return;
    case A_TCODE:
        texts_render(cfg->texts, TEXT_USSD_TRAINING_CODE, en, none, line, sizeof line);
        asst_put(b, cap, line);
        asst_put(b, cap, asst_text(s, DIALOG_A_BACK));
        return;
    case A_TRESULT:
        asst_put(b, cap, a->tresult);
        asst_put(b, cap, asst_text(s, DIALOG_A_BACK));
        return;
    }
}

/* Sends the current screen (CON) and keeps it for a retried hop. */
static void
asst_show(struct ussd_session *s, const struct config *cfg, struct http_req *r, ussd_reply_fn reply,
          const char *reason)
{
    char b[DIALOG_SCREEN_MAX * 4 + 1];

    asst_render(s, cfg, reason, b, sizeof b);
    (void)ussd_session_set_screen(s, b, 0);
    reply(r, 0, b);
}

/* ---- the database jobs */

struct asst_job {
    struct ussd_key key;
    enum asst_job_kind kind;
    struct config *cfg; /* a reference */
    uint64_t assistant_id;
    uint64_t alert_id, link_id, kpm_id;
    enum alert_outcome outcome;
    int approve;
    char reason[40];
    char pkh[21];
    char lang[3];
    char vdate[11];
    unsigned voutcome;
    int vrunning;
    char channel[33], vsession[65];
    char tcode[12];
    struct training_attend_out tout;
    char old_path[USSD_PATH_MAX + 1]; /* the path before this hop, to undo it on a failure */
    size_t old_len;
    /* results */
    int err;
    size_t nalerts;
    struct asst_alert alerts[ASST_ALERTS];
    int found;
    char kpm_name[41], kpm_pkh[21];
    int has_last;
    unsigned last_status, kpm_open;
    uint64_t last_revenue;
    char last_date[11];
};

/* At most n bytes of UTF-8 s into out (n + 1 bytes), cut at a character's start. */
static void
asst_cut(char *out, const char *s, size_t n)
{
    size_t len = strlen(s);

    if (len > n) {
        len = n;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(out, s, len);
    out[len] = '\0';
}

static int
asst_row_alert(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct asst_job *j = arg;
    struct asst_alert *a;
    const char *colon;

    (void)len;
    if (n < 6 || v[0] == NULL || j->nalerts >= ASST_ALERTS)
        return 0;
    a = &j->alerts[j->nalerts];
    memset(a, 0, sizeof *a);
    if (parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &a->id) == -1)
        return 0;
    snprintf(a->rule, sizeof a->rule, "%s", v[1] ? v[1] : "");
    /* a phone-link request's alert is keyed "link:ID" by report.c */
    if (v[2] != NULL && strncmp(v[2], "link:", 5) == 0 && (colon = v[2] + 5) != NULL)
        (void)parse_u64(colon, strlen(colon), 1, UINT64_MAX, &a->link_id);
    asst_cut(a->name, v[3] ? v[3] : "", ASST_NAME_SHOWN);
    snprintf(a->pkh, sizeof a->pkh, "%s", v[4] ? v[4] : "");
    snprintf(a->date, sizeof a->date, "%s", v[5] ? v[5] : "");
    j->nalerts++;
    return 0;
}

static int
asst_row_kpm(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct asst_job *j = arg;
    uint64_t x;

    (void)len;
    if (n < 7 || v[0] == NULL || parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &j->kpm_id) == -1)
        return 0;
    j->found = 1;
    snprintf(j->kpm_name, sizeof j->kpm_name, "%s", v[1] ? v[1] : "");
    snprintf(j->kpm_pkh, sizeof j->kpm_pkh, "%s", v[2] ? v[2] : "");
    if (v[3] != NULL && parse_u64(v[3], strlen(v[3]), 1, 4, &x) == 0) {
        j->has_last = 1;
        j->last_status = (unsigned)x;
        if (v[4] != NULL)
            (void)parse_u64(v[4], strlen(v[4]), 0, UINT64_MAX, &j->last_revenue);
        snprintf(j->last_date, sizeof j->last_date, "%s", v[5] ? v[5] : "");
    }
    if (v[6] != NULL && parse_u64(v[6], strlen(v[6]), 0, 1000000, &x) == 0)
        j->kpm_open = (unsigned)x;
    return 0;
}

/* Her open alerts, newest first (idx_alerts_assistant_state_created), of her KPM only. */
#define ASST_ALERTS_SQL                                                                            \
    "SELECT a.id, a.rule, a.dedupe_key, k.name, k.pkh_number,"                                     \
    " DATE_FORMAT(a.created_at + INTERVAL 7 HOUR, '%d/%m')"                                        \
    " FROM alerts a JOIN kpm k ON k.id = a.kpm_id"                                                 \
    " WHERE a.assistant_id = ? AND a.state IN ('new', 'sent') AND" SCOPE_SQL                       \
    " ORDER BY a.created_at DESC, a.id DESC LIMIT 30"

/* One of her KPM by PKH number: another's, or none, is the same empty answer. */
#define ASST_LOOKUP_SQL                                                                            \
    "SELECT k.id, k.name, k.pkh_number, b.status, b.revenue,"                                      \
    " DATE_FORMAT(b.created_at + INTERVAL 7 HOUR, '%d/%m/%Y'),"                                    \
    " (SELECT COUNT(*) FROM alerts x WHERE x.kpm_id = k.id AND x.state IN ('new', 'sent'))"        \
    " FROM kpm k LEFT JOIN business_reports b ON b.id = (SELECT r.id FROM business_reports r"      \
    "  WHERE r.kpm_id = k.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1)"                       \
    " WHERE k.pkh_number = ? AND" SCOPE_SQL

static int
asst_work(struct db_conn *c, void *arg)
{
    struct asst_job *j = arg;
    struct scope scope = {"", j->assistant_id};
    struct actor actor = {ACTOR_ASSISTANT, j->assistant_id, NULL, VIA_USSD};
    struct visit_in vin;
    uint64_t id = 0;

    switch (j->kind) {
    case J_ALERTS: {
        struct db_param p[] = {DB_U64(j->assistant_id), SCOPE_PARAMS(&scope)};

        j->nalerts = 0;
        return db_query(c, ASST_ALERTS_SQL, p, 4, asst_row_alert, j);
    }
    case J_LOOKUP: {
        struct db_param p[] = {DB_STR(j->pkh), SCOPE_PARAMS(&scope)};

        j->found = 0;
        return db_query(c, ASST_LOOKUP_SQL, p, 4, asst_row_kpm, j);
    }
    case J_OUTCOME:
        db_txn_name(c, "ussd_assistant_outcome");
        return alert_outcome(c, &scope, &actor, j->alert_id, j->outcome, NULL);
    case J_CANDIDATE:
        db_txn_name(c, "ussd_assistant_candidate");
        return graduation_candidate_outcome(c, j->cfg, &scope, &actor, j->alert_id, j->outcome,
                                            j->reason[0] ? j->reason : NULL);
    case J_LINK:
        db_txn_name(c, "ussd_assistant_link");
        return link_decide(c, &scope, &actor, j->link_id, j->approve);
    case J_VISIT:
        db_txn_name(c, "ussd_assistant_visit");
        vin.kpm_id = j->kpm_id;
        vin.visit_date = j->vdate;
        vin.outcome = j->voutcome;
        vin.business_running = j->vrunning;
        vin.channel = j->channel;
        vin.session_id = j->vsession;
        return visit_record(c, j->cfg, &scope, &actor, &vin, &id);
    case J_LANG: {
        struct db_param p[] = {DB_STR(j->lang), DB_U64(j->assistant_id)};

        return db_exec(c, "UPDATE assistants SET language = ? WHERE id = ?", p, 2, NULL, NULL);
    }
    case J_TRAINING: {
        struct training_attend_in in = {TRAINING_ASSISTANT, j->assistant_id, j->tcode, "ussd",
                                        j->channel,         j->vsession};

        db_txn_name(c, "ussd_assistant_training");
        return training_attend(c, &in, &j->tout);
    }
    }
    return KERR_INVALID;
}

static void
asst_last(const struct ussd_session *s, const struct asst_job *j, char *out, size_t cap)
{
    const char *st = asst_text(s, DIALOG_A_STATUSES), *e;
    char status[48] = "", rev[24];
    const char *v[4];
    unsigned k;

    out[0] = '\0';
    if (!j->has_last) {
        snprintf(out, cap, "%s", asst_text(s, DIALOG_A_NO_REPORT));
        return;
    }
    for (k = 1; k < j->last_status && st != NULL; k++)
        st = (e = strchr(st, '|')) != NULL ? e + 1 : NULL;
    if (st != NULL)
        snprintf(status, sizeof status, "%.*s",
                 (int)((e = strchr(st, '|')) != NULL ? (size_t)(e - st) : strlen(st)), st);
    snprintf(rev, sizeof rev, "%" PRIu64, j->last_revenue);
    v[0] = j->last_date;
    v[1] = status;
    v[2] = rev;
    v[3] = NULL;
    asst_fill(out, cap, asst_text(s, DIALOG_A_LAST), v);
}

static void
asst_done(int err, void *arg)
{
    struct asst_job *j = arg;
    struct ussd_session *s = ussd_session_find(&j->key);
    struct ussd_asst *a;
    struct http_req *r;
    ussd_reply_fn reply;
    char m[24];

    if (s == NULL || s->asst == NULL || s->state != USSD_SAVING || s->pending == NULL) {
        config_unref(j->cfg);
        free(j);
        return;
    }
    a = s->asst;
    r = s->pending;
    reply = s->pending_reply;
    s->pending = NULL;
    ussd_session_enter(s, USSD_READY);
    if (err != 0 && err != KERR_NOT_FOUND && err != KERR_CONFLICT && err != KERR_INVALID) {
        /* not saved: a retried hop runs it again */
        log_warn("ussd_assistant_failed", "job=%d err=%d msisdn=%s", (int)j->kind, err,
                 log_msisdn(s->msisdn, m, sizeof m));
        (void)ussd_session_set_path(s, j->old_path, j->old_len);
        (void)ussd_session_set_screen(s, NULL, 0);
        reply(r, 1, asst_text(s, DIALOG_A_FAILED));
        config_unref(j->cfg);
        free(j);
        ussd_serve_waiters(s);
        return;
    }
    log_info("ussd_assistant_done", "job=%d err=%d assistant=%" PRIu64, (int)j->kind, err, a->id);
    switch (j->kind) {
    case J_ALERTS:
        a->nalerts = j->nalerts;
        memcpy(a->alerts, j->alerts, j->nalerts * sizeof a->alerts[0]);
        /* the list holds the newest ASST_ALERTS: a full one counts no fewer than the load did */
        if (j->nalerts < ASST_ALERTS || a->nopen < j->nalerts)
            a->nopen = (unsigned)j->nalerts;
        a->page = 0;
        a->screen = A_ALERTS;
        break;
    case J_LOOKUP:
        if (!j->found) {
            a->back = a->screen == A_VPKH ? A_VPKH : A_PKH;
            a->screen = A_RESULT;
            a->result = DIALOG_A_NOT_FOUND;
            break;
        }
        a->kpm_id = j->kpm_id;
        snprintf(a->kpm_name, sizeof a->kpm_name, "%s", j->kpm_name);
        snprintf(a->kpm_pkh, sizeof a->kpm_pkh, "%s", j->kpm_pkh);
        a->kpm_open = j->kpm_open;
        asst_last(s, j, a->last, sizeof a->last);
        a->screen = a->screen == A_VPKH ? A_VDATE : A_KPM;
        break;
    case J_LANG:
        snprintf(s->lang, sizeof s->lang, "%s", j->lang);
        memcpy(s->lang0, s->lang, sizeof s->lang0);
        a->screen = A_MENU;
        break;
    case J_TRAINING: {
        char d[12], t[12], title[ASST_NAME_SHOWN + 1];
        const char *kv[] = {"title", title, "date", j->tout.day, "count", d,
                            "total", t,     "code", j->tcode,    NULL};

        /* a long title is cut, so that the answer fits one screen */
        asst_cut(title, j->tout.title, ASST_NAME_SHOWN);
        snprintf(d, sizeof d, "%u", j->tout.days);
        snprintf(t, sizeof t, "%u", j->tout.total);
        texts_render(j->cfg->texts,
                     j->tout.result == TRAINING_SAVED    ? TEXT_TRAINING_SAVED
                     : j->tout.result == TRAINING_CLOSED ? TEXT_TRAINING_CLOSED
                                                         : TEXT_TRAINING_UNKNOWN,
                     strcmp(s->lang, "en") == 0, kv, a->tresult, sizeof a->tresult);
        a->screen = A_TRESULT;
        break;
    }
    default:
        a->screen = A_RESULT;
        a->result = err == 0                ? DIALOG_A_SAVED
                    : err == KERR_NOT_FOUND ? DIALOG_A_NOT_FOUND
                                            : DIALOG_A_CONFLICT;
        a->back = j->kind == J_VISIT ? A_MENU : A_ALERTS;
        break;
    }
    asst_show(s, j->cfg, r, reply, NULL);
    config_unref(j->cfg);
    free(j);
    ussd_serve_waiters(s);
}

/* Queues job j for this hop; the hop is answered when it is done. */
static void
asst_submit(struct ussd_session *s, struct asst_job *j, struct http_req *r, ussd_reply_fn reply,
            int txn)
{
    ussd_session_key_of(s, &j->key);
    j->assistant_id = s->asst->id;
    j->cfg = config_ref(r->cfg);
    s->pending = r;
    s->pending_reply = reply;
    ussd_session_enter(s, USSD_SAVING);
    if (db_submit(asst_work, asst_done, j, txn ? DB_TXN : 0) == 0)
        return;
    s->pending = NULL;
    ussd_session_enter(s, USSD_READY);
    (void)ussd_session_set_path(s, j->old_path, j->old_len);
    (void)ussd_session_set_screen(s, NULL, 0);
    config_unref(j->cfg);
    free(j);
    reply(r, 1, asst_text(s, DIALOG_A_FAILED));
}

/* ---- one input */

static int
is(const char *in, size_t len, const char *w)
{
    return strlen(w) == len && memcmp(in, w, len) == 0;
}

/* A visit date: "1" today, or DDMM of this year (WIB), not in the future. */
static int
asst_date(const char *in, size_t len, char out[11])
{
    time_t now = time(NULL), wib = now + 7 * 3600;
    struct tm tm;
    uint64_t dd, mm;
    char d[32];

    gmtime_r(&wib, &tm);
    if (is(in, len, "1")) {
        strftime(out, 11, "%Y-%m-%d", &tm);
        return 0;
    }
    if (len != 4 || parse_u64(in, 2, 1, 31, &dd) == -1 || parse_u64(in + 2, 2, 1, 12, &mm) == -1)
        return -1;
    snprintf(d, sizeof d, "%04d-%02u-%02u", (tm.tm_year + 1900) % 10000, (unsigned)mm % 100,
             (unsigned)dd % 100);
    if (!graduation_date_ok(d, 10, now))
        return -1;
    memcpy(out, d, 11);
    return 0;
}

static struct asst_job *
asst_job(struct ussd_session *s, enum asst_job_kind kind, const char *old, size_t old_len)
{
    struct asst_job *j = calloc(1, sizeof *j);

    if (j == NULL)
        return NULL;
    j->kind = kind;
    memcpy(j->old_path, old, old_len);
    j->old_len = old_len;
    snprintf(j->channel, sizeof j->channel, "%s", ussd_channel(s));
    /* the visit's key: this session and this hop, so a retry of the hop is the same visit */
    snprintf(j->vsession, sizeof j->vsession, "%.56s:%u", ussd_session_id(s),
             (unsigned)s->path_len);
    return j;
}

/* Whether `in` is an option number 1..max; *v gets it. */
static int
asst_pick(const char *in, size_t len, uint64_t max, uint64_t *v)
{
    return parse_u64(in, len, 1, max, v) == 0;
}

static void
asst_input(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply, const char *in,
           size_t len, const char *old, size_t old_len)
{
    struct ussd_asst *a = s->asst;
    const struct config *cfg = r->cfg;
    const struct asst_alert *al = a->nalerts > a->cur ? &a->alerts[a->cur] : NULL;
    struct asst_job *j = NULL;
    enum asst_job_kind kind = J_ALERTS;
    uint64_t v = 0;
    int go = 0; /* a job to run */

    if (is(in, len, "00")) {
        a->screen = A_MENU;
        asst_show(s, cfg, r, reply, NULL);
        return;
    }
    switch (a->screen) {
    case A_MENU:
        if (is(in, len, "1")) {
            kind = J_ALERTS;
            go = 1;
        } else if (is(in, len, "2") || is(in, len, "3")) {
            a->screen = is(in, len, "2") ? A_PKH : A_VPKH;
        } else if (is(in, len, "4")) {
            a->screen = A_LANG;
        } else if (is(in, len, "5")) {
            a->screen = A_TCODE;
        } else {
            goto invalid;
        }
        break;
    case A_TCODE:
        if (is(in, len, "0")) {
            a->screen = A_MENU;
            break;
        }
        /* an attendance code: 4-8 digits, as HADIR <code> takes */
        if (len < 4 || len > 8 || strspn(in, "0123456789") < len)
            goto invalid;
        kind = J_TRAINING;
        go = 1;
        break;
    case A_TRESULT:
        if (is(in, len, "0")) {
            a->screen = A_MENU;
        } else {
            goto invalid;
        }
        break;
    case A_ALERTS:
        if (is(in, len, "0")) {
            a->screen = A_MENU;
        } else if (is(in, len, "99")) {
            char page[DIALOG_SCREEN_MAX * 4 + 1];
            size_t pages = asst_alert_page(s, a->page, page, sizeof page);

            a->page = a->page + 1 < pages ? a->page + 1 : 0;
        } else if (a->nalerts > 0 && asst_pick(in, len, a->nalerts, &v)) {
            a->cur = (size_t)v - 1;
            a->screen = A_ALERT;
        } else {
            goto invalid;
        }
        break;
    case A_ALERT:
        if (is(in, len, "0")) {
            a->screen = A_ALERTS;
            break;
        }
        if (al == NULL)
            goto invalid;
        if (strcmp(al->rule, "graduation") == 0) {
            if (!asst_pick(in, len, 3, &v))
                goto invalid;
            if (v == 2) {
                a->screen = A_DECLINE;
                break;
            }
            kind = J_CANDIDATE;
        } else if (strcmp(al->rule, "link_request") == 0) {
            if (!asst_pick(in, len, 2, &v) || al->link_id == 0)
                goto invalid;
            kind = J_LINK;
        } else {
            if (!asst_pick(in, len, 5, &v))
                goto invalid;
            kind = J_OUTCOME;
        }
        go = 1;
        break;
    case A_DECLINE:
        if (is(in, len, "0")) {
            a->screen = A_ALERT;
            break;
        }
        if (!asst_pick(in, len, 4, &v))
            goto invalid;
        kind = J_CANDIDATE;
        go = 1;
        break;
    case A_PKH:
    case A_VPKH:
        if (is(in, len, "0")) {
            a->screen = A_MENU;
            break;
        }
        if (len < 5 || len > 20 || strspn(in, "0123456789") < len)
            goto invalid;
        kind = J_LOOKUP;
        go = 1;
        break;
    case A_KPM:
        if (is(in, len, "0")) {
            a->screen = A_PKH;
        } else if (is(in, len, "1")) {
            a->screen = A_VDATE;
        } else {
            goto invalid;
        }
        break;
    case A_VDATE:
        if (is(in, len, "0")) {
            a->screen = A_MENU;
        } else if (asst_date(in, len, a->vdate) == 0) {
            a->screen = A_VOUTCOME;
        } else {
            goto invalid;
        }
        break;
    case A_VOUTCOME:
        if (is(in, len, "0")) {
            a->screen = A_VDATE;
        } else if (parse_u64(in, len, 1, 99, &v) == 0 && asst_visit_outcome(cfg, (unsigned)v)) {
            a->voutcome = (unsigned)v;
            a->screen = A_VRUNNING;
        } else {
            goto invalid;
        }
        break;
    case A_VRUNNING:
        if (is(in, len, "0")) {
            a->screen = A_VOUTCOME;
        } else if (asst_pick(in, len, 3, &v)) {
            a->vrunning = v == 1 ? 1 : v == 2 ? 0 : -1;
            a->screen = A_VCONFIRM;
        } else {
            goto invalid;
        }
        break;
    case A_VCONFIRM:
        if (is(in, len, "0")) {
            a->screen = A_MENU;
        } else if (is(in, len, "1")) {
            kind = J_VISIT;
            go = 1;
        } else {
            goto invalid;
        }
        break;
    case A_LANG:
        if (is(in, len, "0")) {
            a->screen = A_MENU;
        } else if (asst_pick(in, len, 2, &v)) {
            kind = J_LANG;
            go = 1;
        } else {
            goto invalid;
        }
        break;
    case A_RESULT:
        if (is(in, len, "0") && a->back == A_ALERTS) {
            kind = J_ALERTS; /* the list again, without what was just decided */
            go = 1;
        } else if (is(in, len, "0")) {
            a->screen = a->back;
        } else {
            goto invalid;
        }
        break;
    }
    if (!go) {
        a->strikes = 0;
        asst_show(s, cfg, r, reply, NULL);
        return;
    }
    if ((j = asst_job(s, kind, old, old_len)) == NULL) {
        (void)ussd_session_set_path(s, old, old_len);
        reply(r, 1, asst_text(s, DIALOG_A_FAILED));
        return;
    }
    switch (kind) {
    case J_LOOKUP:
        snprintf(j->pkh, sizeof j->pkh, "%.*s", (int)len, in);
        break;
    case J_OUTCOME:
        j->alert_id = al->id;
        j->outcome = (enum alert_outcome)(OUTCOME_CALLED + (v - 1));
        break;
    case J_CANDIDATE:
        j->alert_id = al->id;
        if (a->screen == A_DECLINE) {
            j->outcome = OUTCOME_DECLINED;
            snprintf(j->reason, sizeof j->reason, "%s", asst_decline_codes[v - 1]);
        } else {
            j->outcome = v == 1 ? OUTCOME_CONFIRMED : OUTCOME_LATER;
        }
        break;
    case J_LINK:
        j->link_id = al->link_id;
        j->approve = v == 1;
        break;
    case J_VISIT:
        j->kpm_id = a->kpm_id;
        snprintf(j->vdate, sizeof j->vdate, "%s", a->vdate);
        j->voutcome = a->voutcome;
        j->vrunning = a->vrunning;
        break;
    case J_LANG:
        snprintf(j->lang, sizeof j->lang, "%s", v == 2 ? "en" : "id");
        break;
    case J_TRAINING:
        snprintf(j->tcode, sizeof j->tcode, "%.*s", (int)len, in);
        break;
    case J_ALERTS:
        break;
    }
    asst_submit(s, j, r, reply, kind != J_ALERTS && kind != J_LOOKUP);
    return;
invalid:
    if (++a->strikes >= 3) {
        /* three invalid answers end the session politely, as the KPM dialogs do */
        ussd_session_enter(s, USSD_DONE);
        (void)ussd_session_set_screen(s, asst_text(s, DIALOG_A_INVALID), 1);
        reply(r, 1, asst_text(s, DIALOG_A_INVALID));
        return;
    }
    asst_show(s, cfg, r, reply, asst_text(s, DIALOG_A_INVALID));
}

void
ussd_assistant_feed(struct ussd_session *s, struct http_req *r, ussd_reply_fn reply,
                    enum ussd_input_kind kind, const char *text, size_t len)
{
    char old[USSD_PATH_MAX + 1];
    size_t old_len = s->path_len;
    const char *in = text;
    size_t n = len;

    memcpy(old, s->path != NULL ? s->path : "", old_len);
    old[old_len] = '\0';
    if (kind == USSD_BEGIN) {
        asst_show(s, r->cfg, r, reply, NULL);
        return;
    }
    if (kind == USSD_PATH) {
        if (old_len > 0 && len > old_len && text[old_len] == '*' &&
            memcmp(text, old, old_len) == 0) {
            in = text + old_len + 1;
            n = len - old_len - 1;
        } else if (old_len > 0 || memchr(text, '*', len) != NULL) {
            /* not a path this session walked (another kabard served it, or several inputs at
             * once): her menu again, nothing done */
            (void)ussd_session_set_path(s, text, len);
            s->asst->screen = A_MENU;
            asst_show(s, r->cfg, r, reply, NULL);
            return;
        }
    }
    if (memchr(in, '*', n) != NULL) {
        /* one answer cannot hold the path's separator (a Hubtel input): not on the screen */
        asst_show(s, r->cfg, r, reply, asst_text(s, DIALOG_A_INVALID));
        return;
    }
    if (ussd_session_append(s, in, n) == -1) {
        reply(r, 1, asst_text(s, DIALOG_A_FAILED));
        return;
    }
    asst_input(s, r, reply, in, n, old, old_len);
}

int
ussd_assistant_begin(struct ussd_session *s, uint64_t id, const char *name, const char *lang,
                     unsigned nopen)
{
    struct dialog_ctx c;

    if (dialog_set_atext(s->set, DIALOG_A_MENU, "id") == NULL ||
        (s->asst = calloc(1, sizeof *s->asst)) == NULL)
        return -1;
    s->asst->id = id;
    snprintf(s->asst->name, sizeof s->asst->name, "%s", name);
    s->asst->nopen = nopen;
    s->asst->screen = A_MENU;
    memset(&c, 0, sizeof c);
    c.registered = 1; /* out of the unknown numbers' eviction order; no KPM: kpm_id stays 0 */
    snprintf(c.lang, sizeof c.lang, "%s", strcmp(lang, "en") == 0 ? "en" : "id");
    if (ussd_session_set_ctx(s, &c) == -1) {
        free(s->asst);
        s->asst = NULL;
        return -1;
    }
    return 0;
}

/* Her menu, the session's first screen. */
void
ussd_assistant_first(struct ussd_session *s, const struct config *cfg)
{
    char b[DIALOG_SCREEN_MAX * 4 + 1];

    asst_render(s, cfg, NULL, b, sizeof b);
    (void)ussd_session_set_screen(s, b, 0);
}

size_t
ussd_assistant_size(void)
{
    return sizeof(struct ussd_asst);
}
