#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "config.h"
#include "migrate.h"
#include "parse.h"

#define MIGRATE_MAX 256
#define MIGRATE_FILE_MAX (4 << 20)

static const char migrate_table[] = "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                    " version INT UNSIGNED NOT NULL PRIMARY KEY,"
                                    " name VARCHAR(255) NOT NULL,"
                                    " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)"
                                    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";

static int
migrate_name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "001_schema.sql" -> 1; anything else is not a migration */
static int
migrate_version(const char *name, uint64_t *v)
{
    size_t n = strlen(name);

    if (n < 9 || name[3] != '_' || strcmp(name + n - 4, ".sql") != 0)
        return -1;
    return parse_u64(name, 3, 1, 999, v);
}

static int
migrate_applied(MYSQL *m, uint64_t v)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    const char *sql = "SELECT 1 FROM schema_migrations WHERE version = ?";
    MYSQL_BIND b;
    int found = -1;

    if (st == NULL)
        return -1;
    memset(&b, 0, sizeof b);
    b.buffer_type = MYSQL_TYPE_LONGLONG;
    b.buffer = &v;
    b.is_unsigned = 1;
    if (mysql_stmt_prepare(st, sql, strlen(sql)) == 0 && mysql_stmt_bind_param(st, &b) == 0 &&
        mysql_stmt_execute(st) == 0 && mysql_stmt_store_result(st) == 0)
        found = mysql_stmt_num_rows(st) > 0;
    mysql_stmt_close(st);
    return found;
}

static int
migrate_record(MYSQL *m, uint64_t v, const char *name)
{
    MYSQL_STMT *st = mysql_stmt_init(m);
    const char *sql = "INSERT INTO schema_migrations (version, name) VALUES (?, ?)";
    unsigned long len = strlen(name);
    MYSQL_BIND b[2];
    int rc = -1;

    if (st == NULL)
        return -1;
    memset(b, 0, sizeof b);
    b[0].buffer_type = MYSQL_TYPE_LONGLONG;
    b[0].buffer = &v;
    b[0].is_unsigned = 1;
    b[1].buffer_type = MYSQL_TYPE_STRING;
    b[1].buffer = (void *)(uintptr_t)name;
    b[1].buffer_length = len;
    b[1].length = &len;
    if (mysql_stmt_prepare(st, sql, strlen(sql)) == 0 && mysql_stmt_bind_param(st, b) == 0 &&
        mysql_stmt_execute(st) == 0)
        rc = 0;
    mysql_stmt_close(st);
    return rc;
}

static char *
migrate_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    char *buf;

    if (f == NULL)
        return NULL;
    if ((buf = malloc(MIGRATE_FILE_MAX + 1)) == NULL) {
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, MIGRATE_FILE_MAX, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* A migration file is a script of DDL statements; run it whole and drain every result. */
static int
migrate_apply(MYSQL *m, const char *path)
{
    size_t len;
    char *sql = migrate_read(path, &len);
    int status;

    if (sql == NULL) {
        fprintf(stderr, "kabard: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    status = mysql_real_query(m, sql, (unsigned long)len);
    free(sql);
    while (status == 0) {
        MYSQL_RES *res = mysql_store_result(m);

        if (res != NULL)
            mysql_free_result(res);
        if ((status = mysql_next_result(m)) > 0)
            break;
        if (status == -1)
            return 0;
    }
    fprintf(stderr, "kabard: %s: error %u: %s\n", path, mysql_errno(m), mysql_error(m));
    return -1;
}

int
migrate_run(const struct config *cfg)
{
    const struct config_db *d = &cfg->db;
    char *names[MIGRATE_MAX], path[2048];
    size_t n = 0, i, applied = 0;
    struct dirent *de;
    unsigned ct = d->connect_timeout;
    uint64_t v;
    MYSQL *m;
    DIR *dir;
    int rc = -1;

    if ((dir = opendir(cfg->sql_dir)) == NULL) {
        fprintf(stderr, "kabard: cannot open sql directory %s: %s\n", cfg->sql_dir,
                strerror(errno));
        return -1;
    }
    while ((de = readdir(dir)) != NULL && n < MIGRATE_MAX)
        if (migrate_version(de->d_name, &v) == 0)
            names[n++] = strdup(de->d_name);
    closedir(dir);
    qsort(names, n, sizeof names[0], migrate_name_cmp);
    if ((m = mysql_init(NULL)) == NULL)
        goto out;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* the first of database.hosts: a cluster replicates the schema to the others */
    if (mysql_real_connect(m, d->hosts[0].socket[0] ? NULL : d->hosts[0].host, d->user,
                           d->password[0] ? d->password : NULL, d->name, d->hosts[0].port,
                           d->hosts[0].socket[0] ? d->hosts[0].socket : NULL,
                           CLIENT_MULTI_STATEMENTS) == NULL) {
        fprintf(stderr, "kabard: cannot connect to the database: %s\n", mysql_error(m));
        goto out;
    }
    if (mysql_query(m, migrate_table) != 0) {
        fprintf(stderr, "kabard: schema_migrations: %s\n", mysql_error(m));
        goto out;
    }
    for (i = 0; i < n; i++) {
        int done;

        migrate_version(names[i], &v);
        if ((done = migrate_applied(m, v)) == -1) {
            fprintf(stderr, "kabard: schema_migrations: %s\n", mysql_error(m));
            goto out;
        }
        if (done)
            continue;
        snprintf(path, sizeof path, "%s/%s", cfg->sql_dir, names[i]);
        if (migrate_apply(m, path) == -1)
            goto out;
        if (migrate_record(m, v, names[i]) == -1) {
            fprintf(stderr, "kabard: cannot record %s: %s\n", names[i], mysql_error(m));
            goto out;
        }
        fprintf(stderr, "kabard: applied %s\n", names[i]);
        applied++;
    }
    fprintf(stderr, "kabard: migrations up to date (%zu applied now, %zu known)\n", applied, n);
    rc = 0;
out:
    if (m != NULL)
        mysql_close(m);
    for (i = 0; i < n; i++)
        free(names[i]);
    return rc;
}
