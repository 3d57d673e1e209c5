/* `kabard -c FILE user ...`: administrators and API tokens, from the command line. */
#ifndef KABAR_USERS_H
#define KABAR_USERS_H

struct config;

/* argv starts after "user". Returns the exit status (0, 1 failed, 2 usage). */
int users_cli(const struct config *cfg, int argc, char **argv);

#endif
