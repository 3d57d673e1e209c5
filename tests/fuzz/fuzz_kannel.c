/* kannel_parse_mo() and kannel_parse_dlr() on any bytes. */
#include <stdint.h>
#include <string.h>

#include "kannel_wire.h"
#include "parse.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kannel_mo m;
    struct kannel_dlr d;
    char err[128];

    if (kannel_parse_mo((const char *)data, size, &m, err, sizeof err) == 0) {
        fuzz_check_str(m.id, sizeof m.id);
        fuzz_check_str(m.from, sizeof m.from);
        fuzz_check_str(m.to, sizeof m.to);
        fuzz_check_str(m.text, sizeof m.text);
        FUZZ_CHECK(strlen(m.text) == m.text_len);
        FUZZ_CHECK(m.from[0] == '+' && strlen(m.from) >= 9);
        FUZZ_CHECK(parse_id_valid(m.id, strlen(m.id)));
    } else {
        fuzz_check_str(err, sizeof err);
    }
    if (kannel_parse_dlr((const char *)data, size, &d, err, sizeof err) == 0)
        FUZZ_CHECK(d.id > 0 && d.type >= 1 && d.type <= 255);
    return 0;
}
