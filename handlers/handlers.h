/* One entry per peer protocol (and the operations endpoints); gateway/http.c loops over them. */
#ifndef KABAR_HANDLERS_H
#define KABAR_HANDLERS_H

#include "http.h"

extern const struct http_handler handler_ops;
extern const struct http_handler handler_africastalking;
extern const struct http_handler handler_hubtel;
extern const struct http_handler handler_kannel;
/* the admin listener */
extern const struct http_handler handler_admin;
extern const struct http_handler handler_api;

#endif
