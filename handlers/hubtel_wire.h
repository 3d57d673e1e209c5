/*
 * Hubtel-style JSON USSD (see docs/PROTOCOLS.md): only the latest input is sent, so the dialog
 * state lives in the gateway, keyed by SessionId. hubtel_parse() is pure apart from jansson's
 * own allocations; on error it returns -1 with a message in err that names the field but never
 * quotes client bytes, and the struct contents are unspecified.
 */
#ifndef KABAR_HUBTEL_WIRE_H
#define KABAR_HUBTEL_WIRE_H

#include <stddef.h>
#include <stdint.h>

enum hubtel_type { HUBTEL_INITIATION, HUBTEL_RESPONSE, HUBTEL_RELEASE, HUBTEL_TIMEOUT };

/* Optional fields absent or null are "" / 0. On initiation, message holds the dialled code. */
struct hubtel_req {
    char session_id[65];
    char mobile[17]; /* E.164 */
    char service_code[33];
    enum hubtel_type type;
    char message[1025];
    char operator_name[33];
    uint64_t sequence;
    char client_state[257];
};

int hubtel_parse(const char *body, size_t len, struct hubtel_req *r, char *err, size_t errlen);

/*
 * Reply {"Type":"response"|"release","Message":...,"ClientState":...}; NULL message or
 * client_state count as "". Returns a NUL-terminated string to release with free(), or NULL
 * (out of memory, or a string that is not valid UTF-8).
 */
char *hubtel_render(int end, const char *message, const char *client_state);

#endif
