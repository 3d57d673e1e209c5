/*
 * Reading one libconfig file the way every file of ours is read (kabard.conf, the dialogs, the
 * keywords): errors as "FILE:LINE: what", the first error kept, unknown members refused (a
 * typo must not pass silently), and typed getters with ranges. Knows nothing of Kabar.
 */
#ifndef KABAR_CFGFILE_H
#define KABAR_CFGFILE_H

#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

struct cfgfile {
    const char *path; /* as given, for messages */
    char dir[512];    /* the file's directory: relative paths in the file are against it */
    char *err;
    size_t errlen;
    int failed; /* an error was reported: later ones are dropped, the first is the useful one */
    int loaded;
    config_t cf;
};

/* Reads and parses path. 0, or -1 with "PATH:0: cannot read the file" or "PATH:LINE: syntax"
 * in err. Call cfgfile_close() in both cases. */
int cfgfile_open(struct cfgfile *f, const char *path, char *err, size_t errlen);
void cfgfile_close(struct cfgfile *f);
const config_setting_t *cfgfile_root(const struct cfgfile *f);

/* The setting's line, 0 for NULL (the file as a whole). */
int cfgfile_line(const config_setting_t *s);
/* Reports "PATH:LINE: message" at setting `at` (NULL: line 0) unless an error was reported
 * already. Always returns -1. */
int cfgfile_fail(struct cfgfile *f, const config_setting_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cfgfile_fail_line(struct cfgfile *f, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The first member of group g whose name is not in allowed (NULL-terminated), or NULL. */
const config_setting_t *cfgfile_unknown_member(const config_setting_t *g,
                                               const char *const *allowed);
/* 0, or -1 with "unknown setting 'x'" (and " in WHAT" when what is not NULL). */
int cfgfile_members(struct cfgfile *f, const config_setting_t *g, const char *const *allowed,
                    const char *what);
/* The optional group `name` of the root: *out is NULL when it is absent. Its members are
 * checked against keys. 0 or -1. */
int cfgfile_group(struct cfgfile *f, const char *name, const char *const *keys,
                  const config_setting_t **out);

/*
 * Typed members of group g (g NULL: all absent). An absent member leaves *out as it is and
 * is an error only when required ("missing 'name'", at g's line). Numbers are whole and within
 * [min, max]; strings fit outlen with their NUL.
 */
int cfgfile_u64(struct cfgfile *f, const config_setting_t *g, const char *name, uint64_t min,
                uint64_t max, int required, uint64_t *out);
int cfgfile_unsigned(struct cfgfile *f, const config_setting_t *g, const char *name, unsigned min,
                     unsigned max, unsigned *out);
int cfgfile_str(struct cfgfile *f, const config_setting_t *g, const char *name, int required,
                char *out, size_t outlen);
/* A string member as a setting's own string (valid until cfgfile_close): *out NULL if absent. */
int cfgfile_strref(struct cfgfile *f, const config_setting_t *g, const char *name, int required,
                   const char **out);
int cfgfile_bool(struct cfgfile *f, const config_setting_t *g, const char *name, int *out);
/* A path: relative ones are made relative to the file's directory. */
int cfgfile_path(struct cfgfile *f, const config_setting_t *g, const char *name, char *out,
                 size_t outlen);

#endif
