/*
 * parse_media_type_is() on any Content-Type value (a C string, as the HTTP layer hands it
 * over), for each media type kabard asks for, against the rule done another way: the part
 * before the first ';', without the blanks around it, is the type, case-insensitively.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "parse.h"

static int
media_reference(const char *ct, const char *want)
{
    size_t n = strcspn(ct, ";"), i = 0;

    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    while (i < n && (ct[i] == ' ' || ct[i] == '\t'))
        i++;
    return n - i == strlen(want) && strncasecmp(ct + i, want, n - i) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const wants[] = {"application/json", "application/x-www-form-urlencoded",
                                        "text/plain"};
    char *ct = malloc(size + 1);
    size_t i;

    if (ct == NULL)
        return 0;
    memcpy(ct, data, size);
    ct[size] = '\0';
    for (i = 0; i < sizeof wants / sizeof wants[0]; i++)
        FUZZ_CHECK(parse_media_type_is(ct, wants[i]) == media_reference(ct, wants[i]));
    FUZZ_CHECK(parse_media_type_is(NULL, wants[0]) == 0);
    free(ct);
    return 0;
}
