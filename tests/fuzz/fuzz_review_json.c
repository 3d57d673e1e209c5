/* review_filter_from_json() on any bytes (as the C string the session store hands it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_review.h"
#include "review.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct review_filter zero;
    struct review_filter f;
    char *copy = malloc(size + 1);

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    if (review_filter_from_json(copy, &f) == 0)
        fuzz_review_check(&f);
    else
        FUZZ_CHECK(memcmp(&f, &zero, sizeof f) == 0);
    free(copy);
    return 0;
}
