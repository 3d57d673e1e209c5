/* at_parse_sms() on any bytes. */
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
    struct at_sms_in m;
    char err[128];
    size_t n;

    if (at_parse_sms((const char *)data, size, &m, err, sizeof(err)) != 0) {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return 0;
    }
    fuzz_check_str(m.id, sizeof(m.id));
    fuzz_check_str(m.from, sizeof(m.from));
    fuzz_check_str(m.to, sizeof(m.to));
    fuzz_check_str(m.text, sizeof(m.text));
    fuzz_check_str(m.date, sizeof(m.date));
    fuzz_check_str(m.link_id, sizeof(m.link_id));
    fuzz_check_str(m.network_code, sizeof(m.network_code));
    FUZZ_CHECK(m.id[0] != '\0' && m.from[0] == '+');
    FUZZ_CHECK(m.text_len == strlen(m.text) && m.text_len <= 1600);
    n = strlen(m.to);
    FUZZ_CHECK(n <= 20);
    FUZZ_CHECK(strspn(m.to, "+") <= 1);
    FUZZ_CHECK(strspn(m.to + (m.to[0] == '+'), "0123456789") == n - (m.to[0] == '+'));
    FUZZ_CHECK(strcmp(m.to, "+") != 0);
    return 0;
}
