/* Every handler's route table, for gateway/kabard.c to hand each listener the ones it serves. */
#ifndef KABAR_HANDLERS_H
#define KABAR_HANDLERS_H

#include "africastalking.h"
#include "http.h"
#include "hubtel.h"
#include "kannel.h"

extern const struct http_handler handler_ops;
/* the admin listener */
extern const struct http_handler handler_admin;
extern const struct http_handler handler_api;

#endif
