/* at_parse_ussd(), then what the route does with a hop: render a reply. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_wire.h"
#include "parse.h"
#include "fuzz.h"

static void
check_e164(const char *s)
{
    size_t n = strlen(s), i;

    FUZZ_CHECK(n >= 9 && n <= 16 && s[0] == '+' && s[1] != '0');
    for (i = 1; i < n; i++)
        FUZZ_CHECK(s[i] >= '0' && s[i] <= '9');
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct at_ussd_hop hop;
    char err[128], reply[1100];
    int n;

    if (at_parse_ussd((const char *)data, size, &hop, err, sizeof(err)) != 0) {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
        return 0;
    }
    FUZZ_CHECK(strlen(hop.session_id) > 0);
    FUZZ_CHECK(strspn(hop.session_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789_.:-") == strlen(hop.session_id));
    fuzz_check_str(hop.session_id, sizeof(hop.session_id));
    fuzz_check_str(hop.service_code, sizeof(hop.service_code));
    fuzz_check_str(hop.network_code, sizeof(hop.network_code));
    fuzz_check_str(hop.text, sizeof(hop.text));
    check_e164(hop.msisdn);
    FUZZ_CHECK(hop.text_len == strlen(hop.text) && hop.text_len <= 1024);

    n = at_render_ussd(hop.text_len & 1, hop.text, reply, sizeof(reply));
    FUZZ_CHECK(n == (int)(4 + hop.text_len));
    FUZZ_CHECK(memcmp(reply + 4, hop.text, hop.text_len + 1) == 0);
    n = at_render_ussd(0, hop.text, reply, 4 + hop.text_len);
    FUZZ_CHECK(n == -1 && reply[0] == '\0');
    return 0;
}
