/*
 * Kabar's own error codes. A database work function returns 0, a MariaDB error number, or one
 * of these: MariaDB's numbers (server ER_* and client CR_*) are all positive, these are all
 * negative, so a caller can tell "the database said no" from "Kabar said no" by the sign.
 */
#ifndef KABAR_KERR_H
#define KABAR_KERR_H

enum kabar_err {
    KERR_UNAVAILABLE = -1, /* the job could not reach the database (down, or the queue is full) */
    KERR_NOT_FOUND = -2,   /* no such row, or not one the user may see */
    KERR_TOO_LONG = -3,    /* an SMS body longer than its allowed parts: nothing was queued */
    KERR_CONFLICT = -4,    /* an idempotency key already used for another request, or a
                              decision already taken otherwise */
    KERR_INVALID = -5,     /* a value the configuration does not allow: a graduation reason of
                              another track, an unknown visit outcome code */
};

#endif
