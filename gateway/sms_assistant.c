#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "graduation.h"
#include "gsm7.h"
#include "keyword.h"
#include "kerr.h"
#include "parse.h"
#include "review.h"
#include "sms_assistant.h"
#include "texts.h"
#include "training.h"

_Static_assert(KWO_CALLED - 1 == (int)OUTCOME_CALLED &&
                   KWO_NO_ACTION - 1 == (int)OUTCOME_NO_ACTION &&
                   KWO_CONFIRMED - 1 == (int)OUTCOME_CONFIRMED &&
                   KWO_DECLINED - 1 == (int)OUTCOME_DECLINED &&
                   KWO_LATER - 1 == (int)OUTCOME_LATER && KWO_COUNT - 1 == (int)OUTCOME_COUNT,
               "OK n <outcome> words name the alert outcomes in their order");
_Static_assert(TRACK_NATURAL == 1 && TRACK_WELFARE == 2, "LULUS track words name the tracks");

#define SMS_ASSISTANT_WIB (7 * 3600)
/* bytes of a name always kept when a reply is cut to one SMS part */
#define SMS_ASSISTANT_NAME_MIN 8

/* One assistant's message being acted on, and the values of its reply. */
struct sms_assistant_run {
    struct db_conn *c;
    const struct sms_assistant_msg *m;
    const struct keyword_msg *k;
    struct scope scope;
    struct actor actor;
    enum text_id t;
    uint64_t kpm_id; /* the KPM of her caseload named by the PKH number, 0: none */
    char id[24];
    char kpm[101];
    char date[11];
    char status[40];
    char revenue[32];
    char count[24];
    const char *track;
    const char *outcome;
    char title[101]; /* HADIR: the training's title, ... */
    char total[12];  /* ... and its days */
};

static int
sms_assistant_row_kpm(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_assistant_run *x = arg;

    (void)len;
    if (n >= 3 && v[0] != NULL && parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &x->kpm_id) == 0) {
        snprintf(x->kpm, sizeof x->kpm, "%s", v[1] != NULL ? v[1] : "");
        snprintf(x->count, sizeof x->count, "%s", v[2] != NULL ? v[2] : "0");
    }
    return 1;
}

/* "2500000" as " Rp2.500.000" */
static void
sms_assistant_money(const char *digits, char *out, size_t outlen)
{
    size_t n = strlen(digits), i, o = 0;

    if (outlen < 4)
        return;
    o = (size_t)snprintf(out, outlen, " Rp");
    for (i = 0; i < n && o + 2 < outlen; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[o++] = '.';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static int
sms_assistant_row_report(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct sms_assistant_run *x = arg;
    uint64_t status = 0;

    (void)len;
    if (n < 3 || v[0] == NULL || v[1] == NULL ||
        parse_u64(v[1], strlen(v[1]), 1, KEYWORD_STATUS_MAX, &status) != 0)
        return 1;
    snprintf(x->date, sizeof x->date, "%s", v[0]);
    snprintf(x->status, sizeof x->status, "%s",
             keyword_word(x->m->cfg->keywords, KWW_STATE, (unsigned)status, x->m->en));
    if (v[2] != NULL && v[2][0] != '\0' && strspn(v[2], "0123456789") == strlen(v[2]))
        sms_assistant_money(v[2], x->revenue, sizeof x->revenue);
    return 1;
}

/* The KPM of her caseload with the PKH number, her name and open alerts; kpm_unknown for any
 * other number, hers or nobody's alike. 0 or a MariaDB error. */
static int
sms_assistant_find_kpm(struct sms_assistant_run *x)
{
    struct db_param p[] = {DB_STR(x->k->pkh), SCOPE_PARAMS(&x->scope)};

    x->t = TEXT_KPM_UNKNOWN;
    return db_query(
        x->c,
        "SELECT k.id, k.name, (SELECT COUNT(*) FROM alerts a WHERE a.kpm_id = k.id"
        " AND a.state IN ('new', 'sent')) FROM kpm k WHERE k.pkh_number = ? AND" SCOPE_SQL,
        p, 4, sms_assistant_row_kpm, x);
}

/* today in WIB, the ministry's day, as YYYY-MM-DD */
static void
sms_assistant_today(struct sms_assistant_run *x)
{
    uint32_t ymd = parse_date_at(time(NULL), SMS_ASSISTANT_WIB);

    snprintf(x->date, sizeof x->date, "%04u-%02u-%02u", (unsigned)(ymd / 10000 % 10000),
             (unsigned)(ymd / 100 % 100), (unsigned)(ymd % 100));
}

/* This message's key, prefix + channel and aggregator id, or its inbound row when too long. */
static void
sms_assistant_key(const struct sms_assistant_run *x, const char *prefix, int with_channel,
                  char *out, size_t max)
{
    const struct sms_assistant_msg *m = x->m;
    char buf[256];

    if (with_channel)
        snprintf(buf, sizeof buf, "%s%s:%s", prefix, m->channel, m->msg_id);
    else
        snprintf(buf, sizeof buf, "%s%s", prefix, m->msg_id);
    if (strlen(buf) <= max)
        snprintf(out, max + 1, "%s", buf);
    else
        snprintf(out, max + 1, "sms-in:%llu", (unsigned long long)m->inbound_id);
}

/* A KERR_* of graduation.c as the reply; a MariaDB error is returned for the job to handle. */
static int
sms_assistant_kerr(struct sms_assistant_run *x, int err, enum text_id ok)
{
    if (err > 0)
        return err;
    switch (err) {
    case 0:
        x->t = ok;
        break;
    case KERR_NOT_FOUND:
        x->t = TEXT_KPM_UNKNOWN;
        break;
    default:
        /* an outcome code kabard.conf does not list, a track without reasons */
        x->t = TEXT_USAGE_ASSISTANT;
        break;
    }
    return 0;
}

/* CEK <pkh> */
static int
sms_assistant_check(struct sms_assistant_run *x)
{
    struct db_param p[1];
    int err;

    if ((err = sms_assistant_find_kpm(x)) != 0 || x->kpm_id == 0)
        return err;
    p[0] = DB_U64(x->kpm_id);
    x->t = TEXT_CHECK_NO_REPORT;
    if ((err = db_query(x->c,
                        "SELECT DATE_FORMAT(b.created_at + INTERVAL 7 HOUR, '%Y-%m-%d'), b.status,"
                        " b.revenue FROM business_reports b WHERE b.kpm_id = ?"
                        " ORDER BY b.created_at DESC, b.id DESC LIMIT 1",
                        p, 1, sms_assistant_row_report, x)) != 0)
        return err;
    if (x->date[0] != '\0')
        x->t = TEXT_CHECK;
    return 0;
}

/* KUNJUNG <pkh> <outcome> [YA|TIDAK]: a visit today, keyed by the message */
static int
sms_assistant_visit(struct sms_assistant_run *x)
{
    const struct keyword_msg *k = x->k;
    char session[65];
    struct visit_in in;
    uint64_t id = 0;
    int err;

    if ((err = sms_assistant_find_kpm(x)) != 0 || x->kpm_id == 0)
        return err;
    sms_assistant_today(x);
    sms_assistant_key(x, "sms:", 0, session, 64);
    memset(&in, 0, sizeof in);
    in.kpm_id = x->kpm_id;
    in.visit_date = x->date;
    in.outcome = k->visit_outcome;
    in.business_running = k->running == 1 ? 1 : k->running == 2 ? 0 : -1;
    in.channel = x->m->channel;
    in.session_id = session;
    err = visit_record(x->c, x->m->cfg, &x->scope, &x->actor, &in, &id);
    snprintf(x->id, sizeof x->id, "%llu", (unsigned long long)id);
    return sms_assistant_kerr(x, err, TEXT_VISIT_SAVED);
}

/* LULUS <pkh> <track>: effective today (WIB), for the track's first configured reason */
static int
sms_assistant_graduate(struct sms_assistant_run *x)
{
    const struct config_graduation *g = &x->m->cfg->graduation;
    enum config_track track = (enum config_track)x->k->track;
    char key[GRADUATION_KEY_MAX + 1];
    struct graduation_in in;
    uint64_t id = 0;
    size_t i;
    int err;

    if ((err = sms_assistant_find_kpm(x)) != 0 || x->kpm_id == 0)
        return err;
    memset(&in, 0, sizeof in);
    for (i = 0; i < g->nreasons && in.reason == NULL; i++)
        if (g->reasons[i].track == track)
            in.reason = g->reasons[i].code;
    sms_assistant_today(x);
    sms_assistant_key(x, "sms:", 1, key, GRADUATION_KEY_MAX);
    in.kpm_id = x->kpm_id;
    in.track = track;
    in.effective_date = x->date;
    in.key = key;
    err = graduation_record(x->c, x->m->cfg, &x->scope, &x->actor, &in, &id);
    snprintf(x->id, sizeof x->id, "%llu", (unsigned long long)id);
    x->track = keyword_word(x->m->cfg->keywords, KWW_TRACK, x->k->track, x->m->en);
    return sms_assistant_kerr(x, err, TEXT_GRADUATION_SAVED);
}

/* A bare OK n, as it always was: the alert raised for her acknowledged, nothing else. */
static int
sms_assistant_ack(struct sms_assistant_run *x)
{
    struct db_param p[] = {DB_U64(x->k->alert_id), DB_U64(x->m->assistant_id)};
    uint64_t affected = 0;
    int err;

    if ((err = db_exec(x->c,
                       "UPDATE alerts SET state = 'acknowledged', acked_at = NOW(3)"
                       " WHERE id = ? AND assistant_id = ? AND state IN ('new', 'sent')",
                       p, 2, &affected, NULL)) != 0)
        return err;
    x->t = affected == 1 ? TEXT_ACK_OK : TEXT_ACK_UNKNOWN;
    return 0;
}

/* OK n <outcome>: graduation.c's alert_outcome(), or the candidate's outcome */
static int
sms_assistant_outcome(struct sms_assistant_run *x)
{
    const struct keyword_msg *k = x->k;
    enum alert_outcome o = (enum alert_outcome)(k->outcome - 1);
    char reason[GRADUATION_REASON_MAX + 1];
    size_t n = strlen(k->text);
    int err;

    if (o <= OUTCOME_NO_ACTION) {
        err = alert_outcome(x->c, &x->scope, &x->actor, k->alert_id, o, NULL);
    } else {
        /* a reason longer than the column keeps its first characters, never half of one */
        if (n > GRADUATION_REASON_MAX) {
            n = GRADUATION_REASON_MAX;
            while (n > 0 && ((unsigned char)k->text[n] & 0xC0) == 0x80)
                n--;
        }
        snprintf(reason, sizeof reason, "%.*s", (int)n, k->text);
        err = graduation_candidate_outcome(x->c, x->m->cfg, &x->scope, &x->actor, k->alert_id, o,
                                           o == OUTCOME_DECLINED ? reason : NULL);
    }
    if (err > 0)
        return err;
    /* another's alert is one that does not exist */
    x->t = err == 0                ? TEXT_OUTCOME_SAVED
           : err == KERR_NOT_FOUND ? TEXT_ACK_UNKNOWN
                                   : TEXT_OUTCOME_REFUSED;
    x->outcome = keyword_word(x->m->cfg->keywords, KWW_OUTCOME, k->outcome, x->m->en);
    return 0;
}

/* HADIR <code>: her own attendance today at a training she is enrolled in (training.c) */
static int
sms_assistant_attend(struct sms_assistant_run *x)
{
    char session[65];
    struct training_attend_in in;
    struct training_attend_out o;
    int err;

    sms_assistant_key(x, "sms:", 0, session, 64);
    in = (struct training_attend_in){x->m->lecturer ? TRAINING_LECTURER : TRAINING_ASSISTANT,
                                     x->m->assistant_id,
                                     x->k->code,
                                     "sms",
                                     x->m->channel,
                                     session};
    if ((err = training_attend(x->c, &in, &o)) != 0)
        return err;
    x->t = o.result == TRAINING_SAVED    ? TEXT_TRAINING_SAVED
           : o.result == TRAINING_CLOSED ? TEXT_TRAINING_CLOSED
                                         : TEXT_TRAINING_UNKNOWN;
    snprintf(x->title, sizeof x->title, "%s", o.title);
    snprintf(x->date, sizeof x->date, "%s", o.day);
    snprintf(x->count, sizeof x->count, "%u", o.days);
    snprintf(x->total, sizeof x->total, "%u", o.total);
    return 0;
}

/* The reply, with the KPM's name cut (never mid-character) until it fits one SMS part, or to
 * SMS_ASSISTANT_NAME_MIN bytes: then it takes more parts, up to the outbox's limit. */
static void
sms_assistant_render(const struct sms_assistant_run *x, char *out, size_t outlen)
{
    size_t keep = strlen(x->kpm), units = 0;
    char name[sizeof x->kpm + 1];
    int gsm7 = 1;

    for (;;) {
        const char *kv[] = {"id",      x->id,
                            "pkh",     x->k->pkh,
                            "kpm",     name,
                            "date",    x->date,
                            "status",  x->status,
                            "revenue", x->revenue,
                            "count",   x->count,
                            "track",   x->track ? x->track : "",
                            "outcome", x->outcome ? x->outcome : "",
                            "title",   x->title,
                            "code",    x->k->code,
                            "total",   x->total,
                            NULL};
        size_t cut = keep;

        while (cut > 0 && x->kpm[cut - 1] == ' ')
            cut--;
        snprintf(name, sizeof name, "%.*s%s", (int)cut, x->kpm, keep < strlen(x->kpm) ? "." : "");
        texts_render(x->m->cfg->texts, x->t, x->m->en, kv, out, outlen);
        if (x->kpm[0] == '\0' || keep <= SMS_ASSISTANT_NAME_MIN ||
            gsm7_measure(out, strlen(out), &units, &gsm7) != 0 ||
            gsm7_sms_segments(units, gsm7) <= 1)
            return;
        keep--;
        while (keep > 0 && ((unsigned char)x->kpm[keep] & 0xC0) == 0x80)
            keep--;
    }
}

int
sms_assistant_act(struct db_conn *c, const struct sms_assistant_msg *m, char *reply,
                  size_t replylen)
{
    const struct keyword_msg *k = m->k;
    struct sms_assistant_run x;
    int err = 0;

    memset(&x, 0, sizeof x);
    x.c = c;
    x.m = m;
    x.k = k;
    x.scope.region = "";
    x.scope.assistant_id = m->assistant_id;
    x.actor.type = ACTOR_ASSISTANT;
    x.actor.id = m->assistant_id;
    x.actor.via = VIA_SMS;
    snprintf(x.count, sizeof x.count, "0");
    x.t = m->lecturer ? TEXT_USAGE_LECTURER : TEXT_USAGE_ASSISTANT;
    if (k->cmd == KW_ATTEND && k->error == KWE_OK) {
        err = sms_assistant_attend(&x);
    } else if (k->cmd == KW_ATTEND || m->lecturer) {
        /* HADIR malformed, or a lecturer's other words: the usage that names HADIR */
        x.t = m->lecturer ? TEXT_USAGE_LECTURER : TEXT_USAGE_ATTEND_TOT;
    } else if (k->error != KWE_OK) {
        /* OK malformed: its own usage, which lists the outcomes */
        x.t = k->cmd == KW_ACK ? TEXT_USAGE_ACK : TEXT_USAGE_ASSISTANT;
    } else if (k->cmd == KW_ACK) {
        snprintf(x.id, sizeof x.id, "%llu", (unsigned long long)k->alert_id);
        err = k->outcome == KWO_NONE ? sms_assistant_ack(&x) : sms_assistant_outcome(&x);
    } else if (k->cmd == KW_CHECK) {
        err = sms_assistant_check(&x);
    } else if (k->cmd == KW_VISIT) {
        err = sms_assistant_visit(&x);
    } else if (k->cmd == KW_GRADUATE) {
        err = sms_assistant_graduate(&x);
    }
    if (err != 0)
        return err;
    sms_assistant_render(&x, reply, replylen);
    return 0;
}
