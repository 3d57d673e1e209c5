#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cfgfile.h"

int
cfgfile_open(struct cfgfile *f, const char *path, char *err, size_t errlen)
{
    char tmp[1024];

    memset(f, 0, sizeof *f);
    f->path = path != NULL ? path : "(null)";
    f->err = err;
    f->errlen = errlen;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL)
        return cfgfile_fail_line(f, 0, "no file");
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(f->dir, sizeof f->dir, "%s", dirname(tmp));
    config_init(&f->cf);
    f->loaded = 1;
    if (config_read_file(&f->cf, path) == CONFIG_TRUE)
        return 0;
    if (config_error_type(&f->cf) == CONFIG_ERR_FILE_IO)
        return cfgfile_fail_line(f, 0, "cannot read the file");
    return cfgfile_fail_line(f, config_error_line(&f->cf), "%s", config_error_text(&f->cf));
}

void
cfgfile_close(struct cfgfile *f)
{
    if (f->loaded)
        config_destroy(&f->cf);
    f->loaded = 0;
}

const config_setting_t *
cfgfile_root(const struct cfgfile *f)
{
    return config_root_setting(&f->cf);
}

int
cfgfile_line(const config_setting_t *s)
{
    return s != NULL ? (int)config_setting_source_line(s) : 0;
}

static int
cfgfile_vfail(struct cfgfile *f, int line, const char *fmt, va_list ap)
{
    int n;

    if (f->failed)
        return -1;
    f->failed = 1;
    if (f->err == NULL || f->errlen == 0)
        return -1;
    n = snprintf(f->err, f->errlen, "%s:%d: ", f->path, line);
    if (n >= 0 && (size_t)n < f->errlen)
        vsnprintf(f->err + n, f->errlen - (size_t)n, fmt, ap);
    return -1;
}

int
cfgfile_fail_line(struct cfgfile *f, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfgfile_vfail(f, line, fmt, ap);
    va_end(ap);
    return -1;
}

int
cfgfile_fail(struct cfgfile *f, const config_setting_t *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    cfgfile_vfail(f, cfgfile_line(at), fmt, ap);
    va_end(ap);
    return -1;
}

const config_setting_t *
cfgfile_unknown_member(const config_setting_t *g, const char *const *allowed)
{
    int i, n = config_setting_length(g);

    for (i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        const char *const *a;

        for (a = allowed; *a != NULL; a++)
            if (name != NULL && strcmp(*a, name) == 0)
                break;
        if (*a == NULL)
            return m;
    }
    return NULL;
}

int
cfgfile_members(struct cfgfile *f, const config_setting_t *g, const char *const *allowed,
                const char *what)
{
    const config_setting_t *m = cfgfile_unknown_member(g, allowed);
    const char *name;

    if (m == NULL)
        return 0;
    name = config_setting_name(m);
    return cfgfile_fail(f, m, "unknown setting '%s'%s%s", name != NULL ? name : "?",
                        what != NULL ? " in " : "", what != NULL ? what : "");
}

int
cfgfile_group(struct cfgfile *f, const char *name, const char *const *keys,
              const config_setting_t **out)
{
    const config_setting_t *g = config_lookup(&f->cf, name);

    *out = NULL;
    if (g == NULL)
        return 0;
    if (!config_setting_is_group(g))
        return cfgfile_fail(f, g, "'%s' must be a group { ... }", name);
    *out = g;
    return cfgfile_members(f, g, keys, NULL);
}

static const config_setting_t *
cfgfile_member(struct cfgfile *f, const config_setting_t *g, const char *name, int required,
               int *failed)
{
    const config_setting_t *m = g != NULL ? config_setting_get_member(g, name) : NULL;

    *failed = 0;
    if (m == NULL && required)
        *failed = cfgfile_fail(f, g, "missing '%s'", name);
    return m;
}

int
cfgfile_u64(struct cfgfile *f, const config_setting_t *g, const char *name, uint64_t min,
            uint64_t max, int required, uint64_t *out)
{
    const config_setting_t *m;
    long long v;
    int failed;

    if ((m = cfgfile_member(f, g, name, required, &failed)) == NULL)
        return failed;
    if (config_setting_type(m) != CONFIG_TYPE_INT && config_setting_type(m) != CONFIG_TYPE_INT64)
        return cfgfile_fail(f, m, "'%s' must be a whole number", name);
    v = config_setting_get_int64(m);
    if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
        return cfgfile_fail(f, m, "'%s' must be %llu to %llu", name, (unsigned long long)min,
                            (unsigned long long)max);
    *out = (uint64_t)v;
    return 0;
}

int
cfgfile_unsigned(struct cfgfile *f, const config_setting_t *g, const char *name, unsigned min,
                 unsigned max, unsigned *out)
{
    uint64_t v = *out;

    if (cfgfile_u64(f, g, name, min, max, 0, &v) == -1)
        return -1;
    *out = (unsigned)v;
    return 0;
}

int
cfgfile_strref(struct cfgfile *f, const config_setting_t *g, const char *name, int required,
               const char **out)
{
    const config_setting_t *m;
    int failed;

    *out = NULL;
    if ((m = cfgfile_member(f, g, name, required, &failed)) == NULL)
        return failed;
    if (config_setting_type(m) != CONFIG_TYPE_STRING)
        return cfgfile_fail(f, m, "'%s' must be a string", name);
    *out = config_setting_get_string(m);
    return 0;
}

int
cfgfile_str(struct cfgfile *f, const config_setting_t *g, const char *name, int required, char *out,
            size_t outlen)
{
    const char *v;
    size_t n;

    if (cfgfile_strref(f, g, name, required, &v) == -1)
        return -1;
    if (v == NULL)
        return 0;
    if ((n = strlen(v)) >= outlen)
        return cfgfile_fail(f, config_setting_get_member(g, name),
                            "'%s' is longer than %zu characters", name, outlen - 1);
    memcpy(out, v, n + 1);
    return 0;
}

int
cfgfile_bool(struct cfgfile *f, const config_setting_t *g, const char *name, int *out)
{
    const config_setting_t *m;
    int failed;

    if ((m = cfgfile_member(f, g, name, 0, &failed)) == NULL)
        return failed;
    if (config_setting_type(m) != CONFIG_TYPE_BOOL)
        return cfgfile_fail(f, m, "'%s' must be true or false", name);
    *out = config_setting_get_bool(m);
    return 0;
}

int
cfgfile_path(struct cfgfile *f, const config_setting_t *g, const char *name, char *out,
             size_t outlen)
{
    char tmp[1024] = "";

    if (cfgfile_str(f, g, name, 0, tmp, sizeof tmp) == -1)
        return -1;
    if (tmp[0] == '\0')
        return 0;
    if (tmp[0] == '/') {
        if (strlen(tmp) >= outlen)
            return cfgfile_fail(f, config_setting_get_member(g, name), "'%s' is too long", name);
        memcpy(out, tmp, strlen(tmp) + 1);
    } else if ((size_t)snprintf(out, outlen, "%s/%s", f->dir, tmp) >= outlen) {
        return cfgfile_fail(f, config_setting_get_member(g, name), "'%s' is too long", name);
    }
    return 0;
}
