/* at_parse_dlr() on any bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_wire.h"
#include "parse.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct at_dlr d;
    char err[128];
    int final;

    if (at_parse_dlr((const char *)data, size, &d, err, sizeof(err)) != 0) {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return 0;
    }
    fuzz_check_str(d.id, sizeof(d.id));
    fuzz_check_str(d.phone, sizeof(d.phone));
    fuzz_check_str(d.network_code, sizeof(d.network_code));
    fuzz_check_str(d.failure_reason, sizeof(d.failure_reason));
    FUZZ_CHECK(d.id[0] != '\0');
    FUZZ_CHECK(d.phone[0] == '\0' || d.phone[0] == '+');
    FUZZ_CHECK(d.status >= AT_DLR_SENT && d.status <= AT_DLR_UNKNOWN);
    final = at_dlr_is_final(d.status);
    FUZZ_CHECK(final == (d.status == AT_DLR_SUCCESS || d.status == AT_DLR_REJECTED ||
                         d.status == AT_DLR_FAILED || d.status == AT_DLR_EXPIRED));
    return 0;
}
