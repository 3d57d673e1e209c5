#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#include "config.h"
#include "gsm7.h"
#include "log.h"
#include "metrics.h"
#include "outbox_int.h"

/* ---- the log provider: nothing goes over the wire (demos and tests) */

static void
outbox_log_classify(struct outbox_send *s, long http, CURLcode cc)
{
    char m[24];

    (void)http;
    (void)cc;
    s->outcome = OUTCOME_SENT;
    snprintf(s->msg_id, sizeof s->msg_id, "log-%llu", (unsigned long long)s->id);
    log_info("outbox_log_provider", "id=%llu to=%s bytes=%zu", (unsigned long long)s->id,
             log_msisdn(s->recipient, m, sizeof m), strlen(s->body));
}

/* name=value, escaped, appended to a form */
static int
outbox_append(char **buf, size_t *len, const char *name, const char *value, CURL *e)
{
    char *esc = curl_easy_escape(e, value, 0), *np;
    size_t need;

    if (esc == NULL)
        return -1;
    need = *len + strlen(name) + strlen(esc) + 3;
    if ((np = realloc(*buf, need)) == NULL) {
        curl_free(esc);
        return -1;
    }
    *buf = np;
    *len += (size_t)snprintf(*buf + *len, need - *len, "%s%s=%s", *len > 0 ? "&" : "", name, esc);
    curl_free(esc);
    return 0;
}

/* ---- Africa's Talking: a form POST to version1/messaging, a JSON answer */

static int
outbox_at_request(struct outbox_send *s, const struct config_provider *p)
{
    char url[600], key[300];
    size_t len = 0;

    snprintf(url, sizeof url, "%s%sversion1/messaging", p->url,
             p->url[strlen(p->url) - 1] == '/' ? "" : "/");
    if (outbox_append(&s->post, &len, "username", p->username, s->easy) == -1 ||
        outbox_append(&s->post, &len, "to", s->recipient, s->easy) == -1 ||
        outbox_append(&s->post, &len, "message", s->body, s->easy) == -1 ||
        (p->sender[0] != '\0' && outbox_append(&s->post, &len, "from", p->sender, s->easy) == -1))
        return -1;
    snprintf(key, sizeof key, "apiKey: %s", p->secret);
    s->headers = curl_slist_append(s->headers, key);
    s->headers = curl_slist_append(s->headers, "Accept: application/json");
    s->headers = curl_slist_append(s->headers, "Content-Type: application/x-www-form-urlencoded");
    sodium_memzero(key, sizeof key);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->post);
    curl_easy_setopt(s->easy, CURLOPT_URL, url);
    return 0;
}

static void
outbox_at_classify(struct outbox_send *s, long http, CURLcode cc)
{
    json_t *root, *r0;
    json_int_t code;
    const char *status, *msgid;
    char detail[64];

    if (cc != CURLE_OK) {
        outbox_retry(s, curl_easy_strerror(cc));
        return;
    }
    snprintf(detail, sizeof detail, "HTTP %ld", http);
    if (http >= 500) {
        outbox_retry(s, detail);
        return;
    }
    if (http != 200 && http != 201) {
        s->outcome = OUTCOME_FAILED;
        snprintf(s->error, sizeof s->error, "%s", detail);
        return;
    }
    root = json_loadb(s->resp != NULL ? s->resp : "", s->resp_len, 0, NULL);
    r0 = json_array_get(json_object_get(json_object_get(root, "SMSMessageData"), "Recipients"), 0);
    code = json_integer_value(json_object_get(r0, "statusCode"));
    status = json_string_value(json_object_get(r0, "status"));
    msgid = json_string_value(json_object_get(r0, "messageId"));
    snprintf(detail, sizeof detail, "%lld %s", (long long)code, status != NULL ? status : "");
    if (code >= 100 && code <= 102 && msgid != NULL) {
        s->outcome = OUTCOME_SENT;
        snprintf(s->msg_id, sizeof s->msg_id, "%s", msgid);
    } else if (code >= 500 && code <= 502) {
        outbox_retry(s, detail);
    } else {
        s->outcome = OUTCOME_FAILED;
        snprintf(s->error, sizeof s->error, "%s", r0 != NULL ? detail : "unreadable reply");
        if (code == 405) {
            /* the account, not the message: someone must top it up */
            metrics_add(METRIC_OUTBOX_ALARMS, 1);
            log_error("outbox_alarm", "provider=%s reason=\"insufficient balance (405)\"",
                      s->provider);
        }
    }
    json_decref(root);
}

/* ---- Kannel: a sendsms GET, a one-line text answer */

static int
outbox_kannel_request(struct outbox_send *s, const struct config_provider *p)
{
    char dlr[800];
    size_t len = 0, units, need;
    int gsm7 = 1;
    char *full;

    gsm7_measure(s->body, strlen(s->body), &units, &gsm7);
    /* the DLR names our row: Kannel fills in %d, the report type */
    snprintf(dlr, sizeof dlr, "%s%sid=%llu&type=%%d", p->dlr_url,
             strchr(p->dlr_url, '?') != NULL ? "&" : "?", (unsigned long long)s->id);
    if (outbox_append(&s->post, &len, "username", p->username, s->easy) == -1 ||
        outbox_append(&s->post, &len, "password", p->secret, s->easy) == -1 ||
        outbox_append(&s->post, &len, "to", s->recipient, s->easy) == -1 ||
        outbox_append(&s->post, &len, "text", s->body, s->easy) == -1 ||
        outbox_append(&s->post, &len, "from", p->sender[0] ? p->sender : "KABAR", s->easy) == -1 ||
        outbox_append(&s->post, &len, "charset", "UTF-8", s->easy) == -1 ||
        (!gsm7 && outbox_append(&s->post, &len, "coding", "2", s->easy) == -1) ||
        (p->dlr_url[0] != '\0' && (outbox_append(&s->post, &len, "dlr-mask", "31", s->easy) == -1 ||
                                   outbox_append(&s->post, &len, "dlr-url", dlr, s->easy) == -1)))
        return -1;
    /* the escaped text of three UCS-2 parts is long: the URL takes what it needs */
    need = strlen(p->url) + strlen(s->post) + 2;
    if ((full = malloc(need)) == NULL)
        return -1;
    snprintf(full, need, "%s%s%s", p->url, strchr(p->url, '?') ? "&" : "?", s->post);
    curl_easy_setopt(s->easy, CURLOPT_URL, full); /* libcurl keeps its own copy */
    free(full);
    return 0;
}

static void
outbox_kannel_classify(struct outbox_send *s, long http, CURLcode cc)
{
    char detail[128];
    size_t n;

    if (cc != CURLE_OK) {
        outbox_retry(s, curl_easy_strerror(cc));
        return;
    }
    n = s->resp_len < sizeof detail - 1 ? s->resp_len : sizeof detail - 1;
    memcpy(detail, s->resp != NULL ? s->resp : "", n);
    detail[n] = '\0';
    detail[strcspn(detail, "\r\n")] = '\0';
    /* Kannel answers 202 to refusals too: only the body tells */
    if (http >= 200 && http < 300 &&
        (strncmp(detail, "0:", 2) == 0 || strncmp(detail, "3:", 2) == 0)) {
        s->outcome = OUTCOME_SENT;
        snprintf(s->msg_id, sizeof s->msg_id, "k%llu", (unsigned long long)s->id);
    } else if (http >= 500 || http == 0) {
        outbox_retry(s, detail[0] ? detail : "no answer");
    } else {
        s->outcome = OUTCOME_FAILED;
        snprintf(s->error, sizeof s->error, "HTTP %ld: %s", http, detail);
    }
}

/* One entry per enum config_provider_type. */
static const struct outbox_provider outbox_providers[] = {
    [PROVIDER_LOG] = {PROVIDER_LOG, NULL, outbox_log_classify},
    [PROVIDER_AT] = {PROVIDER_AT, outbox_at_request, outbox_at_classify},
    [PROVIDER_KANNEL] = {PROVIDER_KANNEL, outbox_kannel_request, outbox_kannel_classify},
};

const struct outbox_provider *
outbox_provider_of(enum config_provider_type type)
{
    if ((size_t)type >= sizeof outbox_providers / sizeof outbox_providers[0] ||
        outbox_providers[type].classify == NULL)
        return NULL;
    return &outbox_providers[type];
}
