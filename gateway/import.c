/*
 * kabard -c FILE import kpm|assistants|kube|trainings|enrolments FILE.csv [--dry-run]
 *     reads a district registry's CSV export (csv.c) and writes its rows, keyed on the
 *     registry's own ids (a KPM's PKH number, an assistant's registry id), so that a second
 *     import of the same file changes nothing. A row that cannot be taken is printed as
 *     `line=N reason=...` and the rest goes on; rows go to the database in batches of
 *     import.batch_rows, one transaction each, as one JSON parameter read by JSON_TABLE (the
 *     statement API takes at most 512 parameters). --dry-run checks every row against the
 *     database and writes nothing. A real run ends with one audit_log row with its counts.
 *
 * Like `user add`, this is a synchronous command: the file is read on the main thread and
 * each batch runs as one job on db.c's workers while the main thread waits for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>
#include <sodium.h>

#include "auth.h"
#include "config.h"
#include "csv.h"
#include "db.h"
#include "import.h"
#include "parse.h"

/* A set of short strings (phone numbers, PKH numbers, registry ids): a second one in a file. */
#define IMPORT_KEY_MAX 40

struct import_set {
    char (*slot)[IMPORT_KEY_MAX];
    size_t cap, n;
};

/* What one batch job reads and what it found; a re-run of the job starts it over. */
struct import_batch {
    json_t *rows;   /* the rows to check: [line, ...the kind's fields] */
    json_t *accept; /* the rows to write, with what the check resolved appended */
    json_t *moved;  /* PKH numbers of KPM whose assistant changes */
    char *rejects;  /* "line=N reason=...\n" lines */
    size_t nrejects_len, rejects_cap;
    size_t inserted, updated, unchanged, rejected;
};

struct import {
    const struct config *cfg;
    const struct import_kind *kind;
    const char *path;
    const char *by; /* the audit row's actor: the admin who uploaded it, else "cli" */
    int dry_run;
    int idx[8];
    int has_tz;
    int failed; /* exit status once the file is refused or the database fails */
    struct import_set seen_a, seen_b;
    struct import_batch b;
    size_t lines, inserted, updated, unchanged, rejected;
    struct timespec t0;
    struct event_base *base;
    int err, finished;
    char key[AUTH_KEY_HEX];
};

struct import_kind {
    const char *name;
    const struct csv_column *cols;
    size_t ncols;
    /* the row's fields checked and appended to im->b.rows, or a reject reason */
    const char *(*row)(struct import *im, const struct csv_record *r);
    db_work_fn work;
};

/* -- small helpers */

/* 1 when k (case aside: registry ids and codes are ascii_general_ci) was added before, 0 when it
 * is new, -1 out of memory */
static int
import_set_add(struct import_set *s, const char *key)
{
    uint64_t h = 1469598103934665603ull;
    char k[IMPORT_KEY_MAX];
    size_t i;

    for (i = 0; key[i] != '\0' && i < sizeof k - 1; i++)
        k[i] = key[i] >= 'a' && key[i] <= 'z' ? (char)(key[i] - 'a' + 'A') : key[i];
    k[i] = '\0';

    if (s->n * 2 >= s->cap) {
        struct import_set g = {calloc(s->cap ? s->cap * 2 : 4096, IMPORT_KEY_MAX),
                               s->cap ? s->cap * 2 : 4096, 0};

        if (g.slot == NULL)
            return -1;
        for (i = 0; i < s->cap; i++)
            if (s->slot[i][0] != '\0')
                import_set_add(&g, s->slot[i]);
        free(s->slot);
        *s = g;
    }
    for (i = 0; k[i] != '\0'; i++)
        h = (h ^ (unsigned char)k[i]) * 1099511628211ull;
    for (i = h % s->cap;; i = (i + 1) % s->cap) {
        if (s->slot[i][0] == '\0') {
            snprintf(s->slot[i], IMPORT_KEY_MAX, "%s", k);
            s->n++;
            return 0;
        }
        if (strcmp(s->slot[i], k) == 0)
            return 1;
    }
}

static void
import_reject(struct import_batch *b, size_t line, const char *reason)
{
    size_t need = 64 + strlen(reason);

    if (b->nrejects_len + need > b->rejects_cap) {
        size_t cap = (b->rejects_cap + need) * 2;
        char *p = realloc(b->rejects, cap);

        if (p == NULL)
            return;
        b->rejects = p;
        b->rejects_cap = cap;
    }
    b->nrejects_len +=
        (size_t)snprintf(b->rejects + b->nrejects_len, b->rejects_cap - b->nrejects_len,
                         "line=%zu reason=%s\n", line, reason);
    b->rejected++;
}

/* Field i of the kind's columns, trimmed of spaces, into out (cap bytes); its length, or -1
 * when longer. A column the file lacks is "". */
static long
import_field(const struct import *im, const struct csv_record *r, int col, char *out, size_t cap)
{
    const char *s;
    size_t n;

    out[0] = '\0';
    if (im->idx[col] < 0)
        return 0;
    s = r->fields[im->idx[col]];
    n = r->lens[im->idx[col]];
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n >= cap)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    return (long)n;
}

static int
import_digits(const char *s, size_t min, size_t max)
{
    size_t n = strlen(s);

    return n >= min && n <= max && strspn(s, "0123456789") == n;
}

/* A name: 1 to 100 characters (VARCHAR(100) counts characters, not bytes). */
static const char *
import_name(const char *s, long n)
{
    long i, chars = 0;

    if (n == 0)
        return "missing name";
    if (n < 0)
        return "name too long";
    for (i = 0; i < n; i++)
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    return chars > 100 ? "name too long" : NULL;
}

/* A value of a db_row_fn row as a number (0 for NULL) */
static uint64_t
import_u64(char **v, unsigned long *lens, unsigned i)
{
    uint64_t x = 0;

    if (v[i] != NULL && parse_u64(v[i], lens[i], 0, UINT64_MAX, &x) == -1)
        x = 0;
    return x;
}

/* Columns 1, 2 and 3 of both kinds: the name (char[404]), the phone and the region code. */
#define IMPORT_NAME 1
#define IMPORT_PHONE 2
#define IMPORT_REGION 3

static const char *
import_person(const struct import *im, const struct csv_record *r, char *name,
              char msisdn[PARSE_MSISDN_SIZE], char region[16])
{
    char raw[40];
    long nname = import_field(im, r, IMPORT_NAME, name, 404);

    if (import_name(name, nname) != NULL)
        return import_name(name, nname);
    if (import_field(im, r, IMPORT_PHONE, raw, sizeof raw) <= 0)
        return raw[0] == '\0' ? "missing phone" : "bad phone";
    if (parse_msisdn_id(raw, strlen(raw), msisdn) == -1)
        return "bad phone";
    if (import_field(im, r, IMPORT_REGION, region, 16) == 0)
        return "missing region";
    if (!import_digits(region, 2, 13))
        return "unknown region";
    return NULL;
}

/* A code: 2 to 16 letters, digits or dashes (as the trainings page takes it) */
static int
import_code_ok(const char *s)
{
    size_t n = strlen(s);

    return n >= 2 && n <= 16 &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* -- KPM: keyed on the PKH number */

enum {
    KPM_PKH,
    KPM_NAME = IMPORT_NAME,
    KPM_PHONE = IMPORT_PHONE,
    KPM_REGION = IMPORT_REGION,
    KPM_ASSISTANT,
    KPM_NIK,
    KPM_KUBE
};

/* the names a registry export gives the columns that every kind shares */
#define IMPORT_ALIASES_PHONE "hp|msisdn|phone|no_hp|nomor_hp|telepon"
#define IMPORT_ALIASES_REGION "kode_wilayah|region_code|kode_desa|region"

static const struct csv_column import_kpm_cols[] = {
    [KPM_PKH] = {"no_pkh|pkh_number|nomor_pkh|pkh", 1},
    [KPM_NAME] = {"nama|name|nama_kpm|nama_pengurus", 1},
    [KPM_PHONE] = {IMPORT_ALIASES_PHONE, 1},
    [KPM_REGION] = {IMPORT_ALIASES_REGION, 1},
    [KPM_ASSISTANT] = {"id_pendamping|assistant_registry_id|assistant_id|pendamping", 1},
    [KPM_NIK] = {"nik", 0},
    [KPM_KUBE] = {"kode_kube|kube_code", 0},
};

static const char *
import_kpm_row(struct import *im, const struct csv_record *r)
{
    char pkh[24], name[404], msisdn[PARSE_MSISDN_SIZE], region[16], asst[36], nik[20], kube[36];
    char hex[65] = "", last4[5] = "";
    const char *why;
    json_t *row;

    long npkh = import_field(im, r, KPM_PKH, pkh, sizeof pkh);

    if (npkh == 0)
        return "missing pkh_number";
    if (npkh < 0 || !import_digits(pkh, 1, 20))
        return "bad pkh_number";
    if ((why = import_person(im, r, name, msisdn, region)) != NULL)
        return why;
    if (import_field(im, r, KPM_ASSISTANT, asst, sizeof asst) == 0)
        return "missing assistant";
    if (asst[0] == '\0' || !parse_id_valid(asst, strlen(asst)))
        return "unknown assistant";
    if (import_field(im, r, KPM_NIK, nik, sizeof nik) != 0) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;

        if (!import_digits(nik, 16, 16))
            return "NIK not 16 digits";
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)im->cfg->import.nik_key,
                                    strlen(im->cfg->import.nik_key));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)nik, 16);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
        memcpy(last4, nik + 12, 4);
        sodium_memzero(nik, sizeof nik);
    }
    if (import_set_add(&im->seen_a, pkh) == 1)
        return "duplicate pkh_number in the file";
    if (import_set_add(&im->seen_b, msisdn) == 1)
        return "duplicate phone in the file";
    if (import_field(im, r, KPM_KUBE, kube, sizeof kube) < 0 ||
        (kube[0] != '\0' && !import_code_ok(kube)))
        return "unknown KUBE";
    row = json_pack("[I s s s s s s? s? s?]", (json_int_t)r->line, pkh, name, msisdn, region, asst,
                    hex[0] ? hex : NULL, last4[0] ? last4 : NULL, kube[0] ? kube : NULL);
    if (row == NULL || json_array_append_new(im->b.rows, row) == -1)
        return "out of memory";
    return NULL;
}

#define IMPORT_KPM_TABLE(extra)                                                                    \
    "JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, line BIGINT UNSIGNED PATH '$[0]',"            \
    " pkh VARCHAR(20) PATH '$[1]', name VARCHAR(100) PATH '$[2]', msisdn VARCHAR(16) PATH '$[3]'," \
    " region VARCHAR(13) PATH '$[4]', asst VARCHAR(32) CHARACTER SET ascii PATH '$[5]',"           \
    " nik CHAR(64) PATH '$[6]', last4 CHAR(4) PATH '$[7]',"                                        \
    " kube VARCHAR(32) CHARACTER SET ascii PATH '$[8]'" extra ")) j"

/* n, a.id, region known, k.id, k.assistant_id, nothing changes, phone taken, KUBE unknown, g.id,
 * phone an assistant's (an SMS or USSD from it would reach the assistant's menus, never hers) */
#define IMPORT_KPM_CHECK                                                                           \
    "SELECT j.n, a.id, r.code IS NOT NULL, k.id, k.assistant_id,"                                  \
    " k.id IS NOT NULL AND BINARY k.name = BINARY j.name AND k.msisdn = j.msisdn"                  \
    " AND k.region_code = j.region AND k.assistant_id = a.id AND (j.nik IS NULL"                   \
    " OR (k.nik_hmac = UNHEX(j.nik) AND k.nik_last4 = j.last4))"                                   \
    " AND (j.kube IS NULL OR k.kube_id <=> g.id),"                                                 \
    " EXISTS (SELECT 1 FROM kpm o WHERE o.msisdn = j.msisdn AND o.pkh_number <> j.pkh),"           \
    " j.kube IS NOT NULL AND g.id IS NULL, g.id,"                                                  \
    " EXISTS (SELECT 1 FROM assistants s WHERE s.msisdn = j.msisdn)"                               \
    " FROM " IMPORT_KPM_TABLE(                                                                     \
        "") " LEFT JOIN assistants a ON a.registry_id = j.asst"                                    \
            " LEFT JOIN regions r ON r.code = j.region LEFT JOIN kpm k ON k.pkh_number = j.pkh"    \
            " LEFT JOIN kube_groups g ON g.code = j.kube ORDER BY j.n"

/* An empty NIK or KUBE leaves the stored one. */
#define IMPORT_KPM_UPSERT                                                                          \
    "INSERT INTO kpm (pkh_number, name, msisdn, region_code, assistant_id, nik_hmac, nik_last4,"   \
    " kube_id) SELECT j.pkh, j.name, j.msisdn, j.region, j.aid, UNHEX(j.nik), j.last4, j.gid"      \
    " FROM " IMPORT_KPM_TABLE(                                                                     \
        ", aid INT UNSIGNED PATH '$[9]', gid INT UNSIGNED PATH '$[10]'") " ON DUPLICATE KEY "      \
                                                                         "UPDATE name = "          \
                                                                         "VALUES(name), msisdn = " \
                                                                         "VALUES(msisdn),"         \
                                                                         " region_code = "         \
                                                                         "VALUES(region_code), "   \
                                                                         "assistant_id = "         \
                                                                         "VALUES(assistant_id),"   \
                                                                         " nik_hmac = "            \
                                                                         "COALESCE(VALUES(nik_"    \
                                                                         "hmac), nik_hmac),"       \
                                                                         " nik_last4 = "           \
                                                                         "COALESCE(VALUES(nik_"    \
                                                                         "last4), nik_last4),"     \
                                                                         " kube_id = "             \
                                                                         "COALESCE(VALUES(kube_"   \
                                                                         "id), kube_id)"

/* One row of IMPORT_KPM_CHECK. */
static int
import_kpm_checked(void *arg, char **v, unsigned long *lens, unsigned ncols)
{
    struct import_batch *b = arg;
    uint64_t n = import_u64(v, lens, 0), aid = import_u64(v, lens, 1);
    uint64_t kid = import_u64(v, lens, 3), kaid = import_u64(v, lens, 4);
    json_t *row = json_array_get(b->rows, (size_t)n - 1);
    size_t line = (size_t)json_integer_value(json_array_get(row, 0));

    if (ncols != 10 || row == NULL)
        return 1;
    if (aid == 0)
        import_reject(b, line, "unknown assistant");
    else if (v[7][0] == '1')
        import_reject(b, line, "unknown KUBE");
    else if (v[2][0] != '1')
        import_reject(b, line, "unknown region");
    else if (v[6][0] == '1')
        import_reject(b, line, "phone held by another KPM");
    else if (v[9][0] == '1')
        import_reject(b, line, "phone held by an assistant");
    else if (kid != 0 && v[5] != NULL && v[5][0] == '1')
        b->unchanged++;
    else {
        json_t *w = json_copy(row);

        json_array_append_new(w, json_integer((json_int_t)aid));
        json_array_append_new(w, v[8] != NULL ? json_integer((json_int_t)import_u64(v, lens, 8))
                                              : json_null());
        json_array_append_new(b->accept, w);
        if (kid == 0)
            b->inserted++;
        else
            b->updated++;
        if (kid != 0 && kaid != aid)
            json_array_append(b->moved, json_array_get(row, 1));
    }
    return 0;
}

static void
import_batch_reset(struct import_batch *b)
{
    json_array_clear(b->accept);
    json_array_clear(b->moved);
    b->nrejects_len = 0;
    b->inserted = b->updated = b->unchanged = b->rejected = 0;
}

/* Runs the JSON array a through sql (whose only parameter it is); nothing when a is empty. */
static int
import_exec_json(struct db_conn *c, const char *sql, json_t *a)
{
    char *s;
    struct db_param p;
    int err;

    if (json_array_size(a) == 0)
        return 0;
    if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
        return KERR_UNAVAILABLE;
    p = DB_STR(s);
    err = db_exec(c, sql, &p, 1, NULL, NULL);
    free(s);
    return err;
}

static int
import_query_json(struct db_conn *c, const char *sql, json_t *a, db_row_fn fn, void *arg)
{
    char *s;
    struct db_param p;
    int err;

    if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
        return KERR_UNAVAILABLE;
    p = DB_STR(s);
    err = db_query(c, sql, &p, 1, fn, arg);
    free(s);
    return err;
}

static int import_dry;    /* the run writes nothing: the checks only */
static int import_has_tz; /* the assistants' file has a tz column */

/* The batch, checked against the database, then written in one transaction: the new and
 * changed KPM, and the open alerts of a KPM given to another assistant moved with her. */
static int
import_kpm_work(struct db_conn *c, void *arg)
{
    struct import_batch *b = arg;
    int err;

    db_txn_name(c, "import_kpm");
    import_batch_reset(b);
    err = import_query_json(c, IMPORT_KPM_CHECK, b->rows, import_kpm_checked, b);
    if (err != 0 || import_dry)
        return err;
    if ((err = import_exec_json(c, IMPORT_KPM_UPSERT, b->accept)) != 0)
        return err;
    return import_exec_json(c,
                            "UPDATE alerts al JOIN kpm k ON k.id = al.kpm_id"
                            " JOIN JSON_TABLE(?, '$[*]' COLUMNS (pkh VARCHAR(20) PATH '$')) j"
                            " ON k.pkh_number = j.pkh SET al.assistant_id = k.assistant_id"
                            " WHERE al.state IN ('new', 'sent')"
                            " AND NOT (al.assistant_id <=> k.assistant_id)",
                            b->moved);
}

/* -- assistants: keyed on the registry id */

enum { AS_ID, AS_NAME = IMPORT_NAME, AS_PHONE = IMPORT_PHONE, AS_REGION = IMPORT_REGION, AS_TZ };

static const struct csv_column import_assistant_cols[] = {
    [AS_ID] = {"id_pendamping|registry_id|assistant_registry_id|assistant_id|nip", 1},
    [AS_NAME] = {"nama|name|nama_pendamping", 1},
    [AS_PHONE] = {IMPORT_ALIASES_PHONE, 1},
    [AS_REGION] = {IMPORT_ALIASES_REGION, 1},
    [AS_TZ] = {"zona_waktu|tz|timezone|zona", 0},
};

static const char *
import_assistant_row(struct import *im, const struct csv_record *r)
{
    char id[36], name[404], msisdn[PARSE_MSISDN_SIZE], region[16], tz[8];
    const char *why;
    json_t *row;

    if (import_field(im, r, AS_ID, id, sizeof id) == 0)
        return "missing registry_id";
    if (id[0] == '\0' || !parse_id_valid(id, strlen(id)))
        return "bad registry_id";
    if ((why = import_person(im, r, name, msisdn, region)) != NULL)
        return why;
    if (import_field(im, r, AS_TZ, tz, sizeof tz) < 0)
        return "bad tz";
    if (im->has_tz && tz[0] == '\0')
        snprintf(tz, sizeof tz, "WIB");
    for (char *p = tz; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    if (im->has_tz && strcmp(tz, "WIB") != 0 && strcmp(tz, "WITA") != 0 && strcmp(tz, "WIT") != 0)
        return "bad tz";
    if (import_set_add(&im->seen_a, id) == 1)
        return "duplicate registry_id in the file";
    if (import_set_add(&im->seen_b, msisdn) == 1)
        return "duplicate phone in the file";
    row = json_pack("[I s s s s s?]", (json_int_t)r->line, id, name, msisdn, region,
                    im->has_tz ? tz : NULL);
    if (row == NULL || json_array_append_new(im->b.rows, row) == -1)
        return "out of memory";
    return NULL;
}

#define IMPORT_AS_TABLE                                                                            \
    "JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, line BIGINT UNSIGNED PATH '$[0]',"            \
    " reg VARCHAR(32) CHARACTER SET ascii PATH '$[1]', name VARCHAR(100) PATH '$[2]', msisdn "     \
    "VARCHAR(16) PATH '$[3]',"                                                                     \
    " region VARCHAR(13) PATH '$[4]', tz VARCHAR(4) PATH '$[5]')) j"

/* One row of the check: n, a.id, region known, holder of the phone, holder has no registry id,
 * same, phone a KPM's. A phone held by an assistant without a registry id (made by hand, or before
 * 013) is hers: the import gives her the registry id. */
static int
import_assistant_checked(void *arg, char **v, unsigned long *lens, unsigned ncols)
{
    struct import_batch *b = arg;
    uint64_t n = import_u64(v, lens, 0), aid = import_u64(v, lens, 1), hid = import_u64(v, lens, 3);
    json_t *row = json_array_get(b->rows, (size_t)n - 1);
    size_t line = (size_t)json_integer_value(json_array_get(row, 0));

    if (ncols != 7 || row == NULL)
        return 1;
    if (v[2][0] != '1')
        import_reject(b, line, "unknown region");
    else if (hid != 0 && (aid != 0 ? hid != aid : v[4][0] != '1'))
        import_reject(b, line, "phone held by another assistant");
    else if (v[6][0] == '1')
        import_reject(b, line, "phone held by a KPM");
    else if (aid != 0 && v[5] != NULL && v[5][0] == '1')
        b->unchanged++;
    else {
        json_array_append(b->accept, row);
        if (aid == 0 && hid == 0)
            b->inserted++;
        else
            b->updated++;
    }
    return 0;
}

#define IMPORT_AS_UPSERT                                                                           \
    "INSERT INTO assistants (registry_id, name, msisdn, region_code, tz)"                          \
    " SELECT j.reg, j.name, j.msisdn, j.region, COALESCE(j.tz, 'WIB') FROM " IMPORT_AS_TABLE       \
    " ON DUPLICATE KEY UPDATE registry_id = VALUES(registry_id), name = VALUES(name),"             \
    " msisdn = VALUES(msisdn), region_code = VALUES(region_code),"

static int
import_assistant_work(struct db_conn *c, void *arg)
{
    struct import_batch *b = arg;
    int err;

    db_txn_name(c, "import_assistants");
    import_batch_reset(b);
    err = import_query_json(
        c,
        "SELECT j.n, a.id, r.code IS NOT NULL, h.id, h.registry_id IS NULL,"
        " BINARY a.name = BINARY j.name AND a.msisdn = j.msisdn AND a.region_code = j.region"
        " AND (j.tz IS NULL OR a.tz = j.tz),"
        " EXISTS (SELECT 1 FROM kpm k WHERE k.msisdn = j.msisdn)"
        " FROM " IMPORT_AS_TABLE " LEFT JOIN assistants a ON a.registry_id = j.reg"
        " LEFT JOIN regions r ON r.code = j.region LEFT JOIN assistants h ON h.msisdn = j.msisdn"
        " ORDER BY j.n",
        b->rows, import_assistant_checked, b);
    if (err != 0 || import_dry)
        return err;
    /* a file without a tz column leaves it as it is (WIB for a new assistant) */
    return import_exec_json(c,
                            import_has_tz ? IMPORT_AS_UPSERT " tz = VALUES(tz)"
                                          : IMPORT_AS_UPSERT " tz = assistants.tz",
                            b->accept);
}

/* -- KUBE groups and trainings: keyed on their code; the check's row is n, the id of the row
 * with the code, whether the region is known, and whether nothing would change */

static int
import_coded_checked(void *arg, char **v, unsigned long *lens, unsigned ncols)
{
    struct import_batch *b = arg;
    uint64_t n = import_u64(v, lens, 0), id = import_u64(v, lens, 1);
    json_t *row = json_array_get(b->rows, (size_t)n - 1);
    size_t line = (size_t)json_integer_value(json_array_get(row, 0));

    if (ncols != 4 || row == NULL)
        return 1;
    if (v[2][0] != '1')
        import_reject(b, line, "unknown region");
    else if (id != 0 && v[3] != NULL && v[3][0] == '1')
        b->unchanged++;
    else {
        json_array_append(b->accept, row);
        if (id == 0)
            b->inserted++;
        else
            b->updated++;
    }
    return 0;
}

/* The check, then (unless a dry run) the upsert, each reading the batch through JSON_TABLE. */
static int
import_coded_run(struct db_conn *c, struct import_batch *b, const char *check, const char *upsert)
{
    int err;

    import_batch_reset(b);
    err = import_query_json(c, check, b->rows, import_coded_checked, b);
    if (err != 0 || import_dry)
        return err;
    return import_exec_json(c, upsert, b->accept);
}

enum { KUBE_CODE, KUBE_NAME, KUBE_REGION };

static const struct csv_column import_kube_cols[] = {
    [KUBE_CODE] = {"kode_kube|kube_code|code", 1},
    [KUBE_NAME] = {"nama|name|nama_kube", 1},
    [KUBE_REGION] = {IMPORT_ALIASES_REGION, 1},
};

static const char *
import_kube_row(struct import *im, const struct csv_record *r)
{
    char code[36], name[404], region[16];
    long n;
    json_t *row;

    if (import_field(im, r, KUBE_CODE, code, sizeof code) == 0)
        return "missing code";
    if (!import_code_ok(code))
        return "bad code";
    n = import_field(im, r, KUBE_NAME, name, sizeof name);
    if (import_name(name, n) != NULL)
        return import_name(name, n);
    if (import_field(im, r, KUBE_REGION, region, sizeof region) == 0)
        return "missing region";
    if (!import_digits(region, 2, 13))
        return "unknown region";
    if (import_set_add(&im->seen_a, code) == 1)
        return "duplicate code in the file";
    row = json_pack("[I s s s]", (json_int_t)r->line, code, name, region);
    if (row == NULL || json_array_append_new(im->b.rows, row) == -1)
        return "out of memory";
    return NULL;
}

#define IMPORT_KUBE_TABLE                                                                          \
    "JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, code VARCHAR(32) CHARACTER SET ascii PATH "   \
    "'$[1]',"                                                                                      \
    " name VARCHAR(100) PATH '$[2]', region VARCHAR(13) PATH '$[3]')) j"

static int
import_kube_work(struct db_conn *c, void *arg)
{
    db_txn_name(c, "import_kube");
    return import_coded_run(
        c, arg,
        "SELECT j.n, g.id, r.code IS NOT NULL, BINARY g.name = BINARY j.name"
        " AND g.region_code = j.region FROM " IMPORT_KUBE_TABLE
        " LEFT JOIN kube_groups g ON g.code = j.code LEFT JOIN regions r ON r.code = j.region"
        " ORDER BY j.n",
        "INSERT INTO kube_groups (code, name, region_code) SELECT j.code, j.name, j.region"
        " FROM " IMPORT_KUBE_TABLE " ON DUPLICATE KEY UPDATE name = VALUES(name),"
        " region_code = VALUES(region_code)");
}

enum { TR_CODE, TR_TITLE, TR_DATE, TR_TIME, TR_PLACE, TR_REGION, TR_ATTEND, TR_END };

static const struct csv_column import_training_cols[] = {
    [TR_CODE] = {"kode_pelatihan|training_code|code", 1},
    [TR_TITLE] = {"judul|title|nama_pelatihan", 1},
    [TR_DATE] = {"tanggal|date|start_date|tanggal_mulai", 1},
    [TR_TIME] = {"jam|time|start_time|jam_mulai", 0},
    [TR_PLACE] = {"tempat|place|lokasi", 1},
    [TR_REGION] = {IMPORT_ALIASES_REGION, 1},
    [TR_ATTEND] = {"kode_hadir|attendance_code", 1},
    [TR_END] = {"tanggal_selesai|end_date", 0},
};

/* A training's dates and time are WIB, the ministry's clock, as on the trainings page. */
static const char *
import_training_row(struct import *im, const struct csv_record *r)
{
    char code[36], title[404], date[16], tm[8], place[404], region[16], att[12], end[16];
    char starts[24], ends[24];
    uint32_t d, e;
    uint64_t h, m;
    long n;
    json_t *row;

    if (import_field(im, r, TR_CODE, code, sizeof code) == 0)
        return "missing code";
    if (!import_code_ok(code))
        return "bad code";
    n = import_field(im, r, TR_TITLE, title, sizeof title);
    if (n == 0 || import_name(title, n) != NULL)
        return n == 0 ? "missing title" : "title too long";
    if (import_field(im, r, TR_DATE, date, sizeof date) < 0 ||
        parse_date(date, strlen(date), &d) == -1)
        return "bad date";
    if (import_field(im, r, TR_TIME, tm, sizeof tm) < 0)
        return "bad time";
    if (tm[0] == '\0')
        snprintf(tm, sizeof tm, "09:00");
    if (strlen(tm) != 5 || tm[2] != ':' || parse_u64(tm, 2, 0, 23, &h) == -1 ||
        parse_u64(tm + 3, 2, 0, 59, &m) == -1)
        return "bad time";
    n = import_field(im, r, TR_PLACE, place, sizeof place);
    if (n == 0 || import_name(place, n) != NULL)
        return n == 0 ? "missing place" : "place too long";
    if (import_field(im, r, TR_REGION, region, sizeof region) == 0)
        return "missing region";
    if (!import_digits(region, 2, 13))
        return "unknown region";
    if (import_field(im, r, TR_ATTEND, att, sizeof att) < 0 || !import_digits(att, 4, 8))
        return "bad attendance_code";
    if (import_field(im, r, TR_END, end, sizeof end) < 0 ||
        (end[0] != '\0' && (parse_date(end, strlen(end), &e) == -1 || e < d)))
        return "bad end_date";
    if (import_set_add(&im->seen_a, code) == 1)
        return "duplicate code in the file";
    snprintf(starts, sizeof starts, "%s %s", date, tm);
    snprintf(ends, sizeof ends, "%s %s", end, tm);
    row = json_pack("[I s s s s s s s?]", (json_int_t)r->line, code, title, starts, place, region,
                    att, end[0] != '\0' ? ends : NULL);
    if (row == NULL || json_array_append_new(im->b.rows, row) == -1)
        return "out of memory";
    return NULL;
}

#define IMPORT_TR_TABLE                                                                            \
    "JSON_TABLE(?, '$[*]' COLUMNS (n FOR ORDINALITY, code VARCHAR(16) CHARACTER SET ascii PATH "   \
    "'$[1]',"                                                                                      \
    " title VARCHAR(100) PATH '$[2]', starts VARCHAR(16) PATH '$[3]',"                             \
    " place VARCHAR(100) PATH '$[4]', region VARCHAR(13) PATH '$[5]', att VARCHAR(8) PATH '$[6]'," \
    " ends VARCHAR(16) PATH '$[7]')) j"
#define IMPORT_TR_UTC(x) "CAST(" x " AS DATETIME) - INTERVAL 7 HOUR"

static int
import_training_work(struct db_conn *c, void *arg)
{
    db_txn_name(c, "import_trainings");
    return import_coded_run(
        c, arg,
        "SELECT j.n, t.id, r.code IS NOT NULL, BINARY t.title = BINARY j.title"
        " AND t.starts_at = " IMPORT_TR_UTC(
            "j.starts") " AND BINARY t.place = BINARY j.place"
                        " AND t.region_code = j.region AND t.attendance_code = j.att"
                        " AND t.ends_at <=> " IMPORT_TR_UTC(
                            "j.ends") " FROM " IMPORT_TR_TABLE
                                      " LEFT JOIN trainings t ON t.code = j.code LEFT JOIN regions "
                                      "r ON r.code = j.region"
                                      " ORDER BY j.n",
        "INSERT INTO trainings (code, title, starts_at, place, region_code, attendance_code,"
        " ends_at, created_by) SELECT j.code, j.title, " IMPORT_TR_UTC(
            "j.starts") ", j.place,"
                        " j.region, j.att, " IMPORT_TR_UTC(
                            "j.ends") ", 'import' FROM " IMPORT_TR_TABLE
                                      " ON DUPLICATE KEY UPDATE title = VALUES(title), starts_at = "
                                      "VALUES(starts_at),"
                                      " place = VALUES(place), region_code = VALUES(region_code),"
                                      " attendance_code = VALUES(attendance_code), ends_at = "
                                      "VALUES(ends_at)");
}

/* -- enrolments of KPM in trainings: a pair is there or not (nothing to update) */

enum { EN_TRAINING, EN_PKH };

static const struct csv_column import_enrolment_cols[] = {
    [EN_TRAINING] = {"kode_pelatihan|training_code|code", 1},
    [EN_PKH] = {"no_pkh|pkh_number|nomor_pkh|pkh", 1},
};

static const char *
import_enrolment_row(struct import *im, const struct csv_record *r)
{
    char code[36], pkh[24], pair[IMPORT_KEY_MAX];
    json_t *row;

    if (import_field(im, r, EN_TRAINING, code, sizeof code) == 0)
        return "missing code";
    if (!import_code_ok(code))
        return "unknown training";
    if (import_field(im, r, EN_PKH, pkh, sizeof pkh) == 0)
        return "missing pkh_number";
    if (!import_digits(pkh, 1, 20))
        return "bad pkh_number";
    snprintf(pair, sizeof pair, "%.16s|%.20s", code, pkh);
    if (import_set_add(&im->seen_a, pair) == 1)
        return "duplicate enrolment in the file";
    row = json_pack("[I s s]", (json_int_t)r->line, code, pkh);
    if (row == NULL || json_array_append_new(im->b.rows, row) == -1)
        return "out of memory";
    return NULL;
}

/* One row of the check: n, t.id, k.id, already enrolled. */
static int
import_enrolment_checked(void *arg, char **v, unsigned long *lens, unsigned ncols)
{
    struct import_batch *b = arg;
    uint64_t n = import_u64(v, lens, 0), tid = import_u64(v, lens, 1), kid = import_u64(v, lens, 2);
    json_t *row = json_array_get(b->rows, (size_t)n - 1);
    size_t line = (size_t)json_integer_value(json_array_get(row, 0));

    if (ncols != 4 || row == NULL)
        return 1;
    if (tid == 0)
        import_reject(b, line, "unknown training");
    else if (kid == 0)
        import_reject(b, line, "unknown KPM");
    else if (v[3][0] == '1')
        b->unchanged++;
    else {
        json_array_append_new(b->accept, json_pack("[I I]", (json_int_t)tid, (json_int_t)kid));
        b->inserted++;
    }
    return 0;
}

static int
import_enrolment_work(struct db_conn *c, void *arg)
{
    struct import_batch *b = arg;
    int err;

    db_txn_name(c, "import_enrolments");
    import_batch_reset(b);
    err = import_query_json(
        c,
        "SELECT j.n, t.id, k.id, e.kpm_id IS NOT NULL FROM JSON_TABLE(?, '$[*]' COLUMNS"
        " (n FOR ORDINALITY, code VARCHAR(16) CHARACTER SET ascii PATH '$[1]', pkh VARCHAR(20) "
        "PATH '$[2]')) j"
        " LEFT JOIN trainings t ON t.code = j.code LEFT JOIN kpm k ON k.pkh_number = j.pkh"
        " LEFT JOIN enrollments e ON e.training_id = t.id AND e.kpm_id = k.id ORDER BY j.n",
        b->rows, import_enrolment_checked, b);
    if (err != 0 || import_dry)
        return err;
    return import_exec_json(c,
                            "INSERT IGNORE INTO enrollments (training_id, kpm_id)"
                            " SELECT j.t, j.k FROM JSON_TABLE(?, '$[*]' COLUMNS"
                            " (t INT UNSIGNED PATH '$[0]', k BIGINT UNSIGNED PATH '$[1]')) j",
                            b->accept);
}

static const struct import_kind import_kinds[] = {
    {"kpm", import_kpm_cols, sizeof import_kpm_cols / sizeof *import_kpm_cols, import_kpm_row,
     import_kpm_work},
    {"assistants", import_assistant_cols,
     sizeof import_assistant_cols / sizeof *import_assistant_cols, import_assistant_row,
     import_assistant_work},
    {"kube", import_kube_cols, sizeof import_kube_cols / sizeof *import_kube_cols, import_kube_row,
     import_kube_work},
    {"trainings", import_training_cols, sizeof import_training_cols / sizeof *import_training_cols,
     import_training_row, import_training_work},
    {"enrolments", import_enrolment_cols,
     sizeof import_enrolment_cols / sizeof *import_enrolment_cols, import_enrolment_row,
     import_enrolment_work},
};

/* -- the command */

static void
import_done(int err, void *arg)
{
    struct import *im = arg;

    im->err = err;
    im->finished = 1;
    event_base_loopbreak(im->base);
}

static int
import_run_job(struct import *im, db_work_fn work, void *arg)
{
    im->finished = 0;
    im->err = 0;
    if (db_submit(work, import_done, arg == NULL ? im : arg, import_dry ? 0 : DB_TXN) == -1)
        return DB_EUNAVAILABLE;
    while (!im->finished)
        event_base_dispatch(im->base);
    return im->err;
}

/* The job's done callback is import_done on im; work gets the batch. */
static struct import *import_current;

static int
import_batch_work(struct db_conn *c, void *arg)
{
    (void)arg;
    return import_current->kind->work(c, &import_current->b);
}

static double
import_elapsed(const struct import *im)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - im->t0.tv_sec) + (double)(t.tv_nsec - im->t0.tv_nsec) / 1e9;
}

static int
import_flush(struct import *im)
{
    int err;

    if (json_array_size(im->b.rows) == 0)
        return 0;
    if ((err = import_run_job(im, import_batch_work, NULL)) != 0) {
        fprintf(stderr,
                "kabard: import: the database said %d at the batch ending on line %zu"
                " (nothing of that batch was written)\n",
                err, im->lines);
        im->failed = 1;
        return -1;
    }
    if (im->b.nrejects_len > 0)
        fwrite(im->b.rejects, 1, im->b.nrejects_len, stdout);
    im->inserted += im->b.inserted;
    im->updated += im->b.updated;
    im->unchanged += im->b.unchanged;
    im->rejected += im->b.rejected;
    json_array_clear(im->b.rows);
    fprintf(stderr,
            "import kind=%s line=%zu inserted=%zu updated=%zu unchanged=%zu rejected=%zu"
            " elapsed_s=%.1f\n",
            im->kind->name, im->lines, im->inserted, im->updated, im->unchanged, im->rejected,
            import_elapsed(im));
    return 0;
}

static int
import_record(void *arg, const struct csv_record *r)
{
    struct import *im = arg;
    const char *why;
    char err[128];

    im->lines = r->line;
    if (r->header) {
        if (csv_header_map(r, im->kind->cols, im->kind->ncols, im->idx, err, sizeof err) == -1) {
            fprintf(stderr, "kabard: %s: %s\n", im->path, err);
            im->failed = 2;
            return 1;
        }
        if (strcmp(im->kind->name, "kpm") == 0 && im->idx[KPM_NIK] >= 0 &&
            im->cfg->import.nik_key[0] == '\0') {
            fprintf(stderr,
                    "kabard: %s has a NIK column: set import.nik_key_file in the"
                    " configuration\n",
                    im->path);
            im->failed = 2;
            return 1;
        }
        im->has_tz = strcmp(im->kind->name, "assistants") == 0 && im->idx[AS_TZ] >= 0;
        import_has_tz = im->has_tz;
        return 0;
    }
    why = r->reject != NULL ? r->reject : im->kind->row(im, r);
    if (why != NULL) {
        printf("line=%zu reason=%s\n", r->line, why);
        im->rejected++;
        return 0;
    }
    if (json_array_size(im->b.rows) >= im->cfg->import.batch_rows && import_flush(im) == -1)
        return 1;
    return 0;
}

static int
import_audit_work(struct db_conn *c, void *arg)
{
    struct import *im = arg;
    char detail[512], action[32];
    const char *base = strrchr(im->path, '/');

    db_txn_name(c, "import_audit");
    snprintf(
        detail, sizeof detail, "file=%.200s inserted=%zu updated=%zu unchanged=%zu rejected=%zu",
        base != NULL ? base + 1 : im->path, im->inserted, im->updated, im->unchanged, im->rejected);
    snprintf(action, sizeof action, "import.%s", im->kind->name);
    return auth_audit_keyed(c, im->key, im->by, action, "import", 0, detail);
}

static int
import_usage(void)
{
    fprintf(stderr, "usage: kabard -c FILE import kpm|assistants|kube|trainings|enrolments "
                    "FILE.csv [--dry-run] [--by NAME]\n");
    return 2;
}

static int
import_read(struct import *im, FILE *f)
{
    static char buf[1 << 18];
    struct csv_reader *r = csv_new(import_record, im);
    size_t n;
    int rc = 0;

    if (r == NULL)
        return -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
        rc = csv_feed(r, buf, n);
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "kabard: cannot read %s\n", im->path);
        im->failed = 1;
    }
    if (rc == 0 && !im->failed)
        rc = csv_finish(r);
    if (rc == 0 && !im->failed && im->idx[0] == -1 && im->lines == 0) {
        fprintf(stderr, "kabard: %s: no header row\n", im->path);
        im->failed = 2;
    }
    csv_free(r);
    if (rc == 0 && !im->failed)
        import_flush(im);
    return im->failed ? -1 : 0;
}

int
import_cli(const struct config *cfg, int argc, char **argv)
{
    static struct import im;
    FILE *f;
    size_t k;
    int i, rc = 1;

    memset(&im, 0, sizeof im);
    im.cfg = cfg;
    im.idx[0] = -1;
    if (argc < 2)
        return import_usage();
    for (k = 0; k < sizeof import_kinds / sizeof *import_kinds; k++)
        if (strcmp(argv[0], import_kinds[k].name) == 0)
            im.kind = &import_kinds[k];
    if (im.kind == NULL)
        return import_usage();
    im.path = argv[1];
    im.by = "cli";
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            im.dry_run = 1;
        else if (strcmp(argv[i], "--by") == 0 && i + 1 < argc && argv[i + 1][0] != '\0' &&
                 strlen(argv[i + 1]) <= 64)
            im.by = argv[++i];
        else
            return import_usage();
    }
    import_dry = im.dry_run;
    setvbuf(stdout, NULL, _IOLBF, 0); /* the rejected lines between the progress lines */
    if ((f = fopen(im.path, "rb")) == NULL) {
        fprintf(stderr, "kabard: cannot open %s\n", im.path);
        return 2;
    }
    im.b.rows = json_array();
    im.b.accept = json_array();
    im.b.moved = json_array();
    if ((im.base = event_base_new()) == NULL || db_start(im.base, &cfg->db) == -1) {
        fprintf(stderr, "kabard: cannot start the database client\n");
        fclose(f);
        return 1;
    }
    import_current = &im;
    auth_key_new(im.key);
    clock_gettime(CLOCK_MONOTONIC, &im.t0);
    if (import_read(&im, f) == 0) {
        if (!im.dry_run && (i = import_run_job(&im, import_audit_work, &im)) != 0)
            fprintf(stderr, "kabard: import: the database said %d writing the audit row\n", i);
        else
            rc = 0;
        printf("import=%s inserted=%zu updated=%zu unchanged=%zu rejected=%zu dry_run=%d"
               " elapsed_s=%.1f\n",
               im.kind->name, im.inserted, im.updated, im.unchanged, im.rejected, im.dry_run,
               import_elapsed(&im));
    } else {
        rc = im.failed;
    }
    fclose(f);
    db_stop();
    event_base_free(im.base);
    json_decref(im.b.rows);
    json_decref(im.b.accept);
    json_decref(im.b.moved);
    free(im.b.rejects);
    free(im.seen_a.slot);
    free(im.seen_b.slot);
    return rc;
}
