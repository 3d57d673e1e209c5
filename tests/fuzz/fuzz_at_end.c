/* at_parse_ussd_end() on any bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at_wire.h"
#include "parse.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct at_ussd_end e;
    char err[128];

    if (at_parse_ussd_end((const char *)data, size, &e, err, sizeof(err)) != 0) {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return 0;
    }
    FUZZ_CHECK(e.session_id[0] != '\0');
    FUZZ_CHECK(e.msisdn[0] == '+');
    fuzz_check_str(e.session_id, sizeof(e.session_id));
    fuzz_check_str(e.service_code, sizeof(e.service_code));
    fuzz_check_str(e.msisdn, sizeof(e.msisdn));
    fuzz_check_str(e.network_code, sizeof(e.network_code));
    fuzz_check_str(e.status_text, sizeof(e.status_text));
    fuzz_check_str(e.input, sizeof(e.input));
    fuzz_check_str(e.last_response, sizeof(e.last_response));
    fuzz_check_str(e.error_message, sizeof(e.error_message));
    fuzz_check_str(e.date, sizeof(e.date));
    fuzz_check_str(e.cost, sizeof(e.cost));
    FUZZ_CHECK(e.status >= AT_END_SUCCESS && e.status <= AT_END_OTHER);
    FUZZ_CHECK(e.status != AT_END_OTHER || (strcasecmp(e.status_text, "success") != 0 &&
                                            strcasecmp(e.status_text, "incomplete") != 0 &&
                                            strcasecmp(e.status_text, "failed") != 0));
    return 0;
}
