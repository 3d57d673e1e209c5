/*
 * The one place that writes reports, whatever the channel: business and attendance reports,
 * help requests and link requests with the alert each raises for the assistant. A report is keyed
 * by (channel, session_id), the USSD session id or "sms:" and the aggregator's message id: a
 * retried final hop or SMS callback hits the unique key and gets the first report's number,
 * nothing is written twice. These functions run on a database worker (db.h), inside the
 * caller's transaction when it has one; the callers on the loop keep their own state machines.
 */
#ifndef KABAR_REPORT_H
#define KABAR_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "dialog.h"

struct db_conn;

enum report_kind {
    REPORT_BUSINESS,
    REPORT_ATTENDANCE,
    REPORT_HELP,
    REPORT_LINK,
    REPORT_CHECKIN,    /* a business report, flow checkin, and a help request if she needs help */
    REPORT_OPT_IN,     /* kpm.support_opt_in (support), with an audit row when it changes */
    REPORT_EXIT_SURVEY /* a business report, flow exit_survey, once: kpm.exit_survey_at */
};
enum report_source { REPORT_USSD, REPORT_SMS };

/* A number that was answered, or not (NULL in the row). */
struct report_num {
    int have;
    uint64_t v;
};

struct report {
    enum report_kind kind;
    enum report_source source;
    uint64_t kpm_id; /* unused by a link request: its caller is not a known KPM */
    char msisdn[17];
    char channel[33];
    char session_id[80];
    long long started_ms; /* when the USSD session began (ms since the epoch); 0: not known */
    char answers[2048];   /* JSON of every answer */
    char input_path[1025];
    struct report_num status, biz_kind, revenue, workers, difficulty; /* business */
    struct report_num training, attended, reason;                     /* attendance */
    struct report_num topic;   /* help; a check-in's when she needs help */
    struct report_num support; /* opt-in: 1 keep business support, 0 no more */
    const char *text;          /* help: the free text of an SMS, or NULL; must outlive the save */
    char pkh[21];              /* link: the PKH participant number as entered */
    /* help, link: no second alert for the KPM inside this many days (alerts.window_days; 0, a
     * caller that does not say, is its default) */
    unsigned window_days;
    /* after a save: the report's number (the first one's on a retry); an exit survey already
     * answered in another session writes nothing and leaves 0; an opt-in: the KPM's id */
    uint64_t id;
};

/* The kind, answers and fields of a report a dialog ended with (its action); the caller sets
 * who, where and the key. -1 for DIALOG_ACT_NONE. */
int report_from_dialog(struct report *r, enum dialog_action action,
                       const struct dialog_session *ds);
/* One report, and the alert of a help or link request unless the KPM has one inside the window
 * already. 0 or a MariaDB error. */
int report_save(struct db_conn *c, struct report *r);
/* Business reports under load (1 <= n <= DB_BATCH_MAX): one multi-row INSERT, atomic by
 * itself, then their numbers. 0 or a MariaDB error. */
int report_save_business(struct db_conn *c, struct report *const *r, size_t n);

#endif
