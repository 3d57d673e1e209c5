/* Hubtel-style JSON USSD's route (hubtel.c); its wire format is in hubtel_wire.h. */
#ifndef KABAR_HUBTEL_H
#define KABAR_HUBTEL_H

#include "http.h"

extern const struct http_handler handler_hubtel;

#endif
