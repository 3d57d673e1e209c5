/* GSM 03.38 lengths of UTF-8 text: what fits one SMS part or one USSD screen. Pure. */
#ifndef KABAR_GSM7_H
#define KABAR_GSM7_H

#include <stddef.h>
#include <stdint.h>

#define GSM7_USSD_SEPTETS 182
#define GSM7_USSD_UCS2 80

/*
 * Measures len bytes of UTF-8. When every character is in the GSM 03.38 default alphabet
 * (or its extension table), *is_gsm7 = 1 and *units counts septets (extension characters
 * `^{}\[~]|` U+20AC and form feed count 2). Otherwise *is_gsm7 = 0 and *units counts
 * UTF-16 code units (UCS-2; a character outside the BMP counts 2).
 * Returns 0, or -1 on invalid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
 */
int gsm7_measure(const char *utf8, size_t len, size_t *units, int *is_gsm7);

/* Number of SMS parts: 160 / 153 per part in GSM-7, 70 / 67 in UCS-2; 0 units is 1 part. */
size_t gsm7_sms_segments(size_t units, int is_gsm7);

/*
 * Units available on one USSD screen: 182 septets or 80 UCS-2 characters. A smaller
 * configured limit (in septets) scales the UCS-2 limit as limit * 80 / 182.
 */
size_t gsm7_screen_limit(int is_gsm7, size_t limit_gsm7);

/*
 * Decodes the code point at s[*pos] (strict UTF-8) and advances *pos.
 * Returns 0, or -1 on an invalid sequence (*pos unchanged).
 */
int gsm7_utf8_next(const char *s, size_t len, size_t *pos, uint32_t *cp);

#endif
