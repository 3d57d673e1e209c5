/* review_filter_parse() on any bytes: the queue's filter form and GET /api/v1/reports?... */
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_review.h"
#include "review.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct review_filter f;
    char err[128];

    if (review_filter_parse((const char *)data, size, &f, err, sizeof err) == 0) {
        FUZZ_CHECK(err[0] == '\0');
        fuzz_review_check(&f);
    } else {
        FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof err) != NULL);
    }
    return 0;
}
