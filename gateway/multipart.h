/*
 * multipart/form-data (RFC 7578), pure: the boundary from the Content-Type, then the parts of a
 * body as pointers into it, so that an upload of 100 MB is never copied.
 */
#ifndef KABAR_MULTIPART_H
#define KABAR_MULTIPART_H

#include <stddef.h>

#define MULTIPART_BOUNDARY_MAX 70 /* RFC 2046 */
#define MULTIPART_PARTS_MAX 16

struct multipart_part {
    const char *name; /* the Content-Disposition's name, not NUL-terminated */
    size_t name_len;
    const char *filename; /* NULL for a plain field */
    size_t filename_len;
    const char *data; /* the part's bytes, inside the body */
    size_t len;
};

struct multipart_form {
    struct multipart_part parts[MULTIPART_PARTS_MAX];
    size_t n;
};

/*
 * The parts of body, whose Content-Type is ctype: 0, or -1 with a message for the sender in err
 * (no boundary, a part without a name, no closing delimiter, more than MULTIPART_PARTS_MAX
 * parts, ...). Headers and delimiters must end in CRLF.
 */
int multipart_parse(const char *ctype, const char *body, size_t len, struct multipart_form *f,
                    char *err, size_t errlen);
/* The first part named name, or NULL. */
const struct multipart_part *multipart_find(const struct multipart_form *f, const char *name);
/* A plain field's value copied NUL-terminated into out: 0, or -1 when absent, too long, a file
 * or holding a NUL. */
int multipart_field(const struct multipart_form *f, const char *name, char *out, size_t cap);

#endif
