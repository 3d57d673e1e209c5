/* Shared by every libconfig file of ours (kabard.conf, dialogs, keywords); kept apart from
 * config.h so the pure modules do not pull in the socket headers. */
#ifndef KABAR_CONFIG_CHECK_H
#define KABAR_CONFIG_CHECK_H

/* The first member of a libconfig group whose name is not in allowed (NULL-terminated), or
 * NULL: how each of our files says "unknown setting" (a typo must not pass silently). */
struct config_setting_t;
const struct config_setting_t *config_unknown_member(const struct config_setting_t *g,
                                                     const char *const *allowed);

#endif
