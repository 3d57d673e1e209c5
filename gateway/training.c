#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "parse.h"
#include "training.h"

static const char *const training_who_names[] = {"assistant", "lecturer"};

/* the day of x in WIB, the ministry's day */
#define TRAINING_DAY(x) "DATE(" x " + INTERVAL 7 HOUR)"

static int
training_row(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct training_attend_out *o = arg;
    uint64_t u;

    (void)len;
    if (n < 5 || v[0] == NULL || parse_u64(v[0], strlen(v[0]), 1, UINT64_MAX, &u) != 0)
        return 1;
    o->training_id = u;
    snprintf(o->title, sizeof o->title, "%s", v[1] != NULL ? v[1] : "");
    o->result = v[2] != NULL && strcmp(v[2], "1") == 0 ? TRAINING_SAVED : TRAINING_CLOSED;
    snprintf(o->day, sizeof o->day, "%s", v[3] != NULL ? v[3] : "");
    if (v[4] != NULL && parse_u64(v[4], strlen(v[4]), 0, 10000, &u) == 0)
        o->total = (unsigned)u;
    return 1;
}

static int
training_row_count(void *arg, char **v, unsigned long *len, unsigned n)
{
    struct training_attend_out *o = arg;
    uint64_t u;

    (void)len;
    if (n >= 1 && v[0] != NULL && parse_u64(v[0], strlen(v[0]), 0, 10000, &u) == 0)
        o->days = (unsigned)u;
    return 1;
}

int
training_attend(struct db_conn *c, const struct training_attend_in *in,
                struct training_attend_out *o)
{
    const char *who = training_who_names[in->who == TRAINING_LECTURER];
    struct db_param p[] = {DB_STR(who), DB_U64(in->id), DB_STR(in->code)};
    struct db_param w[] = {
        DB_U64(0),          DB_STR(who),         DB_U64(in->id),        DB_STR(""),
        DB_STR(in->source), DB_STR(in->channel), DB_STR(in->session_id)};
    int err;

    memset(o, 0, sizeof *o);
    o->result = TRAINING_UNKNOWN;
    /* of her trainings with the code, one open today first, then the latest; locked, so that
     * a close racing this attendance is either before it or after it */
    if ((err = db_query(
             c,
             "SELECT t.id, t.title,"
             " t.closed_at IS NULL AND " TRAINING_DAY(
                 "UTC_TIMESTAMP()") " BETWEEN"
                                    "  " TRAINING_DAY("t.starts_at") " AND " TRAINING_DAY(
                                        "COALESCE(t.ends_at, t.starts_at)") ","
                                                                            " DATE_"
                                                                            "FORMAT"
                                                                            "(" TRAINING_DAY(
                                                                                "UTC_TIMESTAMP("
                                                                                ")") ", "
                                                                                     "'%Y-%m-%d'"
                                                                                     "),"
                                                                                     " DATEDIFF"
                                                                                     "(" TRAINING_DAY("COALESCE(t.ends_at, t.starts_at)") ", " TRAINING_DAY(
                                                                                         "t."
                                                                                         "starts"
                                                                                         "_at") ") "
                                                                                                "+ "
                                                                                                "1"
                                                                                                " F"
                                                                                                "RO"
                                                                                                "M "
                                                                                                "tr"
                                                                                                "ai"
                                                                                                "ni"
                                                                                                "ng"
                                                                                                "_p"
                                                                                                "ar"
                                                                                                "ti"
                                                                                                "ci"
                                                                                                "pa"
                                                                                                "nt"
                                                                                                "s "
                                                                                                "p "
                                                                                                "JO"
                                                                                                "IN"
                                                                                                " t"
                                                                                                "ra"
                                                                                                "in"
                                                                                                "in"
                                                                                                "gs"
                                                                                                " t"
                                                                                                " O"
                                                                                                "N "
                                                                                                "t."
                                                                                                "id"
                                                                                                " ="
                                                                                                " p"
                                                                                                ".t"
                                                                                                "ra"
                                                                                                "in"
                                                                                                "in"
                                                                                                "g_"
                                                                                                "id"
                                                                                                " W"
                                                                                                "HE"
                                                                                                "RE"
                                                                                                " p"
                                                                                                ".p"
                                                                                                "ar"
                                                                                                "ti"
                                                                                                "ci"
                                                                                                "pa"
                                                                                                "nt"
                                                                                                "_t"
                                                                                                "yp"
                                                                                                "e "
                                                                                                "= "
                                                                                                "? "
                                                                                                "AN"
                                                                                                "D "
                                                                                                "p."
                                                                                                "pa"
                                                                                                "rt"
                                                                                                "ic"
                                                                                                "ip"
                                                                                                "an"
                                                                                                "t_"
                                                                                                "id"
                                                                                                " ="
                                                                                                " ?"
                                                                                                " A"
                                                                                                "ND"
                                                                                                " t"
                                                                                                ".a"
                                                                                                "tt"
                                                                                                "en"
                                                                                                "da"
                                                                                                "nc"
                                                                                                "e_"
                                                                                                "co"
                                                                                                "de"
                                                                                                " ="
                                                                                                " ?"
                                                                                                " O"
                                                                                                "RD"
                                                                                                "ER"
                                                                                                " B"
                                                                                                "Y "
                                                                                                "3 "
                                                                                                "DE"
                                                                                                "SC"
                                                                                                ", "
                                                                                                "t."
                                                                                                "st"
                                                                                                "ar"
                                                                                                "ts"
                                                                                                "_a"
                                                                                                "t "
                                                                                                "DE"
                                                                                                "SC"
                                                                                                " L"
                                                                                                "IM"
                                                                                                "IT"
                                                                                                " 1"
                                                                                                " F"
                                                                                                "OR"
                                                                                                " U"
                                                                                                "PD"
                                                                                                "AT"
                                                                                                "E",
             p, 3, training_row, o)) != 0)
        return err;
    if (o->result != TRAINING_SAVED)
        return 0;
    w[0] = DB_U64(o->training_id);
    w[3] = DB_STR(o->day);
    /* the day's row once: a re-sent SMS, a retried hop or a second HADIR the same day is a
     * no-op */
    if ((err = db_exec(c,
                       "INSERT IGNORE INTO training_attendance (training_id, participant_type,"
                       " participant_id, day, source, channel, session_id)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)",
                       w, 7, NULL, NULL)) != 0)
        return err;
    return db_query(c,
                    "SELECT COUNT(*) FROM training_attendance WHERE training_id = ?"
                    " AND participant_type = ? AND participant_id = ?",
                    w, 3, training_row_count, o);
}

void
training_cert_params(const struct config *cfg, struct db_param *p)
{
    p[0] = DB_STR(cfg->training.cert_kind);
    p[1] = DB_U64(cfg->training.cert_passed != 0);
    p[2] = DB_U64(cfg->training.cert_all_sessions != 0);
}
