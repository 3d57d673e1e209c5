/* at_parse_ussd(), then what the route does with a hop: split the path, render a reply. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "africastalking.h"
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

static void
check_path(const char *text, size_t len)
{
    struct at_input in[16];
    size_t i, total = 0;
    int n = at_split_path(text, len, in, 16);

    if (n < 0)
        return;
    FUZZ_CHECK(n <= 16);
    FUZZ_CHECK(n > 0 || len == 0);
    for (i = 0; i < (size_t)n; i++) {
        FUZZ_CHECK(in[i].len > 0);
        FUZZ_CHECK(in[i].p >= text && in[i].p + in[i].len <= text + len);
        FUZZ_CHECK(memchr(in[i].p, '*', in[i].len) == NULL);
        total += in[i].len;
    }
    if (n > 0)
        FUZZ_CHECK(total + (size_t)n - 1 == len);
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
    check_path(hop.text, hop.text_len);

    n = at_render_ussd(hop.text_len & 1, hop.text, reply, sizeof(reply));
    FUZZ_CHECK(n == (int)(4 + hop.text_len));
    FUZZ_CHECK(memcmp(reply + 4, hop.text, hop.text_len + 1) == 0);
    n = at_render_ussd(0, hop.text, reply, 4 + hop.text_len);
    FUZZ_CHECK(n == -1 && reply[0] == '\0');
    return 0;
}
