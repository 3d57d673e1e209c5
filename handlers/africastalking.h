/* Africa's Talking's routes (africastalking.c); its wire formats are in at_wire.h. */
#ifndef KABAR_AFRICASTALKING_H
#define KABAR_AFRICASTALKING_H

#include "http.h"

extern const struct http_handler handler_africastalking;

#endif
