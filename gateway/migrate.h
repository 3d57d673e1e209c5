#ifndef KABAR_MIGRATE_H
#define KABAR_MIGRATE_H

struct config;

/* Applies sql/NNN_*.sql not yet in schema_migrations, in order. Blocking: a command, not the
 * daemon. Returns 0 or -1. */
int migrate_run(const struct config *cfg);

#endif
