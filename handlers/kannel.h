/* Kannel's routes (kannel.c); its wire formats are in kannel_wire.h. */
#ifndef KABAR_KANNEL_H
#define KABAR_KANNEL_H

#include "http.h"

extern const struct http_handler handler_kannel;

#endif
