/* Output escaping for the admin pages, their charts and their exports. Every byte that came
 * from a database row or a request goes through one of these on its way out. */
#ifndef KABAR_HTML_H
#define KABAR_HTML_H

#include <stddef.h>

struct evbuffer;

/* Text or attribute value: & < > " ' become entities; other bytes pass. */
int html_escape(struct evbuffer *out, const char *s, size_t len);
int html_escape_str(struct evbuffer *out, const char *s);
/* printf, then escaped. */
int html_escapef(struct evbuffer *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled. A
 * field starting with = + - @ TAB or CR gets a leading apostrophe inside the quotes, so that a
 * spreadsheet shows it as text instead of running it as a formula; plain numbers and phone
 * numbers ("+62812...", "-5") pass as they are. NULL writes an empty field.
 */
int csv_field(struct evbuffer *out, const char *s, size_t len);

/* Rupiah with dot thousands separators, as Indonesians write it: 2500000 -> "2.500.000". */
void html_rupiah(unsigned long long v, char *out, size_t outlen);

#endif
