/*
 * kabar-phone: plays the aggregator and the handset against a Kabar USSD route.
 * Interactive (shows each screen, reads the answer) or scripted with --keys '1*1*...'.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

struct phone {
    const char *url, *msisdn, *service, *network;
    int hubtel;
    char session[64];
    char path[2048];
    unsigned seq;
    CURL *curl;
};

struct buf {
    char *p;
    size_t len;
};

static size_t
phone_write(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    char *np;

    if ((np = realloc(b->p, b->len + size * n + 1)) == NULL)
        return 0;
    b->p = np;
    memcpy(b->p + b->len, data, size * n);
    b->len += size * n;
    b->p[b->len] = '\0';
    return size * n;
}

/* One hop; returns 1 when the session goes on, 0 when it ended, -1 on error. *screen is malloc'd. */
static int
phone_hop(struct phone *ph, const char *input, int first, char **screen)
{
    struct curl_slist *h = NULL;
    struct buf b = {NULL, 0};
    char *body = NULL;
    long status = 0;
    int rc = -1;

    if (!first) {
        size_t n = strlen(ph->path);

        snprintf(ph->path + n, sizeof ph->path - n, "%s%s", n > 0 ? "*" : "", input);
    }
    if (ph->hubtel) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "SessionId", ph->session,
                              "Mobile", ph->msisdn, "ServiceCode", ph->service, "Type",
                              first ? "Initiation" : "Response", "Message",
                              first ? ph->service : input, "Operator", ph->network, "Sequence",
                              (int)++ph->seq);
        body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        h = curl_slist_append(h, "Content-Type: application/json");
    } else {
        char *sid = curl_easy_escape(ph->curl, ph->session, 0);
        char *svc = curl_easy_escape(ph->curl, ph->service, 0);
        char *tel = curl_easy_escape(ph->curl, ph->msisdn, 0);
        char *txt = curl_easy_escape(ph->curl, ph->path, 0);
        size_t n = strlen(sid) + strlen(svc) + strlen(tel) + strlen(txt) + 128;

        if ((body = malloc(n)) != NULL)
            snprintf(body, n, "sessionId=%s&serviceCode=%s&phoneNumber=%s&networkCode=%s&text=%s",
                     sid, svc, tel, ph->network, txt);
        curl_free(sid);
        curl_free(svc);
        curl_free(tel);
        curl_free(txt);
        h = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded");
    }
    if (body == NULL)
        goto out;
    curl_easy_setopt(ph->curl, CURLOPT_URL, ph->url);
    curl_easy_setopt(ph->curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(ph->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(ph->curl, CURLOPT_WRITEFUNCTION, phone_write);
    curl_easy_setopt(ph->curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(ph->curl, CURLOPT_TIMEOUT, 15L);
    if (curl_easy_perform(ph->curl) != CURLE_OK) {
        fprintf(stderr, "kabar-phone: cannot reach %s\n", ph->url);
        goto out;
    }
    curl_easy_getinfo(ph->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200 || b.p == NULL) {
        fprintf(stderr, "kabar-phone: HTTP %ld: %s", status, b.p ? b.p : "\n");
        goto out;
    }
    if (ph->hubtel) {
        json_t *o = json_loads(b.p, 0, NULL);
        const char *type = json_string_value(json_object_get(o, "Type"));
        const char *msg = json_string_value(json_object_get(o, "Message"));

        if (type == NULL || msg == NULL) {
            fprintf(stderr, "kabar-phone: unexpected reply: %s\n", b.p);
            json_decref(o);
            goto out;
        }
        *screen = strdup(msg);
        rc = strcasecmp(type, "release") != 0;
        json_decref(o);
    } else if (strncmp(b.p, "CON ", 4) == 0 || strncmp(b.p, "END ", 4) == 0) {
        *screen = strdup(b.p + 4);
        rc = b.p[0] == 'C';
    } else {
        fprintf(stderr, "kabar-phone: reply without CON/END: %s\n", b.p);
    }
out:
    curl_slist_free_all(h);
    free(body);
    free(b.p);
    return rc;
}

static void
phone_show(const char *screen, int more)
{
    printf("+------------------------------\n");
    printf("%s\n", screen);
    printf("+------------------------------ %s\n", more ? "(answer)" : "(session ended)");
    fflush(stdout);
}

static void
usage(void)
{
    fprintf(stderr, "usage: kabar-phone --url URL --phone +62... [--hubtel] [--keys '1*1*...']\n"
                    "                   [--session ID] [--service '*123*45#'] [--network 51010]\n");
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},     {"phone", required_argument, NULL, 'p'},
        {"keys", required_argument, NULL, 'k'},    {"session", required_argument, NULL, 's'},
        {"service", required_argument, NULL, 'c'}, {"network", required_argument, NULL, 'n'},
        {"hubtel", no_argument, NULL, 'H'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct phone ph;
    const char *keys = NULL;
    char *screen = NULL, line[256], *k = NULL, *tok, *save = NULL;
    int ch, more, first = 1;

    memset(&ph, 0, sizeof ph);
    ph.service = "*123*45#";
    ph.network = "51010";
    snprintf(ph.session, sizeof ph.session, "phone-%ld-%d", (long)time(NULL), (int)getpid());
    while ((ch = getopt_long(argc, argv, "u:p:k:s:c:n:Hh", opts, NULL)) != -1) {
        switch (ch) {
        case 'u': ph.url = optarg; break;
        case 'p': ph.msisdn = optarg; break;
        case 'k': keys = optarg; break;
        case 's': snprintf(ph.session, sizeof ph.session, "%s", optarg); break;
        case 'c': ph.service = optarg; break;
        case 'n': ph.network = optarg; break;
        case 'H': ph.hubtel = 1; break;
        default: usage(); return ch == 'h' ? 0 : 2;
        }
    }
    if (ph.url == NULL || ph.msisdn == NULL) {
        usage();
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ph.curl = curl_easy_init();
    if (keys != NULL && (k = strdup(keys)) == NULL)
        return 1;
    tok = k != NULL ? strtok_r(k, "*", &save) : NULL;
    for (;;) {
        const char *input = "";

        if (!first) {
            if (keys != NULL) {
                if (tok == NULL)
                    break;
                input = tok;
                printf("> %s\n", input);
                tok = strtok_r(NULL, "*", &save);
            } else {
                if (fgets(line, sizeof line, stdin) == NULL)
                    break;
                line[strcspn(line, "\r\n")] = '\0';
                input = line;
            }
        }
        free(screen);
        screen = NULL;
        if ((more = phone_hop(&ph, input, first, &screen)) == -1) {
            free(k);
            return 1;
        }
        first = 0;
        phone_show(screen, more);
        if (!more)
            break;
    }
    free(screen);
    free(k);
    curl_easy_cleanup(ph.curl);
    curl_global_cleanup();
    return 0;
}
