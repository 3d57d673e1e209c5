/* kabard's configuration: loaded whole, validated, then swapped in atomically on SIGHUP. */
#ifndef KABAR_CONFIG_H
#define KABAR_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum config_protocol { PROTO_AT, PROTO_HUBTEL, PROTO_KANNEL };

struct config_net {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned bits;
};

struct config_channel {
    char name[33];
    char token[65];
    enum config_protocol protocol;
    char service_code[33];
    int demo;
    struct config_net *allow; /* empty: any source */
    size_t nallow;
};

struct config_db {
    char socket[256];
    char host[256];
    unsigned port;
    char user[65];
    char password[257];
    char name[65];
    unsigned pool_size;
    unsigned connect_timeout;
    unsigned query_timeout;
};

struct config_http {
    size_t max_body_size;
    size_t max_headers_size;
    unsigned timeout;
    unsigned max_connections;
    unsigned methods; /* EVHTTP_REQ_* bits */
    unsigned shutdown_timeout;
};

struct config_ussd {
    unsigned session_idle;
    unsigned resume_window;
    unsigned screen_limit;
};

struct config {
    int refs;
    char path[1024];
    char listen_address[64];
    unsigned listen_port;
    struct config_db db;
    struct config_http http;
    int log_level;
    int log_personal;
    char sql_dir[1024];
    char dialogs_path[1024];
    struct config_ussd ussd;
    struct config_net *proxies;
    size_t nproxies;
    struct config_channel *channels;
    size_t nchannels;
    struct dialog_set *dialogs;
};

/* Returns a config with one reference, or NULL and "FILE:LINE: what is wrong" in err. */
struct config *config_load(const char *path, char *err, size_t errlen);
struct config *config_ref(struct config *);
void config_unref(struct config *);
const char *config_protocol_name(enum config_protocol);
const struct config_channel *config_channel_find(const struct config *, const char *token,
                                                 size_t len);
int config_net_match(const struct config_net *nets, size_t n, const struct sockaddr *sa);
int config_net_parse(const char *s, struct config_net *net);

#endif
