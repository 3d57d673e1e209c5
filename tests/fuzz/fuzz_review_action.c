/*
 * review_action_check() on any values: the bytes are type, status and note, separated by NULs
 * (no second NUL: no note; no NUL at all: an empty status), checked against the rules written
 * out as a table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "review.h"

static int
action_reference(const char *type, const char *status, const char *note, int *t)
{
    static const struct {
        const char *name;
        int type;
    } types[] = {
        {"business", REVIEW_BUSINESS}, {"attendance", REVIEW_ATTENDANCE}, {"help", REVIEW_HELP}};
    size_t i;

    *t = -1;
    for (i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(type, types[i].name) == 0)
            *t = types[i].type;
    if (*t == -1)
        return REVIEW_ACTION_BAD;
    if (strcmp(status, "reviewed") != 0 && strcmp(status, "follow_up") != 0 &&
        strcmp(status, "note") != 0)
        return REVIEW_ACTION_BAD;
    if (note != NULL && strlen(note) > REVIEW_NOTE_MAX)
        return REVIEW_ACTION_BAD;
    if (strcmp(status, "note") == 0 && (note == NULL || note[0] == '\0'))
        return REVIEW_ACTION_NO_NOTE;
    return REVIEW_ACTION_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 2), *status, *note = NULL;
    int t = -1, want_t, rc, want;

    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = copy[size + 1] = '\0';
    status = copy + strlen(copy) + 1; /* "" when the bytes hold no NUL */
    if ((size_t)(status - copy) < size && status + strlen(status) < copy + size)
        note = status + strlen(status) + 1;
    rc = review_action_check(copy, status, note, &t);
    want = action_reference(copy, status, note, &want_t);
    FUZZ_CHECK(rc == want);
    if (rc != REVIEW_ACTION_BAD)
        FUZZ_CHECK(t == want_t);
    free(copy);
    return 0;
}
