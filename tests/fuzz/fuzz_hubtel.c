/*
 * hubtel_parse() on any bytes; a parsed request's text is rendered and read back; the raw input,
 * as a C string, is rendered too, which must fail exactly when it is not valid UTF-8.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hubtel_wire.h"
#include "parse.h"
#include "fuzz.h"

static void
check_roundtrip(int end, const char *message, const char *state)
{
    char *s = hubtel_render(end, message, state);
    json_t *j;
    json_error_t je;

    FUZZ_CHECK(s != NULL);
    j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    FUZZ_CHECK(j != NULL && json_is_object(j) && json_object_size(j) == 3);
    FUZZ_CHECK(
        strcmp(json_string_value(json_object_get(j, "Type")), end ? "release" : "response") == 0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(j, "Message")), message) == 0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(j, "ClientState")), state) == 0);
    json_decref(j);
    free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hubtel_req r;
    char err[128];
    char *copy, *s;

    if (hubtel_parse((const char *)data, size, &r, err, sizeof(err)) == 0) {
        fuzz_check_str(r.session_id, sizeof(r.session_id));
        fuzz_check_str(r.mobile, sizeof(r.mobile));
        fuzz_check_str(r.service_code, sizeof(r.service_code));
        fuzz_check_str(r.message, sizeof(r.message));
        fuzz_check_str(r.operator_name, sizeof(r.operator_name));
        fuzz_check_str(r.client_state, sizeof(r.client_state));
        FUZZ_CHECK(r.session_id[0] != '\0' && r.mobile[0] == '+');
        FUZZ_CHECK(r.type >= HUBTEL_INITIATION && r.type <= HUBTEL_TIMEOUT);
        check_roundtrip(r.type == HUBTEL_RELEASE, r.message, r.client_state);
    } else {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
    }

    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    s = hubtel_render(size & 1, copy, "");
    FUZZ_CHECK((s != NULL) == parse_utf8_valid(copy, strlen(copy)));
    free(s);
    if (parse_utf8_valid(copy, strlen(copy)))
        check_roundtrip(0, "", copy);
    free(copy);
    return 0;
}
