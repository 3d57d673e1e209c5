/* `kabard -c FILE import KIND FILE.csv [--dry-run]`: onboarding from a district registry. */
#ifndef KABAR_IMPORT_H
#define KABAR_IMPORT_H

struct config;

/* argv starts after "import". Returns the exit status (0, 1 failed, 2 usage or a bad file). */
int import_cli(const struct config *cfg, int argc, char **argv);

#endif
