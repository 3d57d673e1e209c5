#include "gsm7.h"

/* Non-ASCII characters of the GSM 03.38 basic set (one septet each). */
static const uint32_t gsm7_basic_extra[] = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
    0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6,
    0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393,
    0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};

int
gsm7_utf8_next(const char *str, size_t len, size_t *pos, uint32_t *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = *pos, n, k;
    uint32_t c, min;

    if (i >= len)
        return -1;
    c = s[i];
    if (c < 0x80) {
        *cp = c;
        *pos = i + 1;
        return 0;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        c &= 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        c &= 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        c &= 0x07;
        min = 0x10000;
    } else {
        return -1;
    }
    if (len - i - 1 < n)
        return -1;
    for (k = 1; k <= n; k++) {
        if ((s[i + k] & 0xC0) != 0x80)
            return -1;
        c = (c << 6) | (s[i + k] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    *cp = c;
    *pos = i + n + 1;
    return 0;
}

/* Septets for one character: 1 basic, 2 extension table, 0 not in GSM-7. */
static int
gsm7_char_septets(uint32_t c)
{
    size_t lo = 0, hi = sizeof(gsm7_basic_extra) / sizeof(gsm7_basic_extra[0]);

    if (c == '\n' || c == '\r')
        return 1;
    if (c == '\f')
        return 2;
    if (c >= 0x20 && c <= 0x7E) {
        switch (c) {
        case '`':
            return 0;
        case '^':
        case '{':
        case '}':
        case '\\':
        case '[':
        case ']':
        case '~':
        case '|':
            return 2;
        default:
            return 1;
        }
    }
    if (c == 0x20AC)
        return 2;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (gsm7_basic_extra[mid] == c)
            return 1;
        if (gsm7_basic_extra[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int
gsm7_measure(const char *utf8, size_t len, size_t *units, int *is_gsm7)
{
    size_t pos = 0, septets = 0, ucs2 = 0;
    int gsm = 1;

    while (pos < len) {
        uint32_t c;
        int n;

        if (gsm7_utf8_next(utf8, len, &pos, &c) < 0)
            return -1;
        ucs2 += c > 0xFFFF ? 2 : 1;
        if (gsm) {
            n = gsm7_char_septets(c);
            if (n == 0)
                gsm = 0;
            septets += (size_t)n;
        }
    }
    *units = gsm ? septets : ucs2;
    *is_gsm7 = gsm;
    return 0;
}

size_t
gsm7_sms_segments(size_t units, int is_gsm7)
{
    size_t single = is_gsm7 ? 160 : 70, part = is_gsm7 ? 153 : 67;

    if (units <= single)
        return 1;
    return units / part + (units % part != 0);
}

size_t
gsm7_screen_limit(int is_gsm7, size_t limit_gsm7)
{
    if (limit_gsm7 == 0 || limit_gsm7 >= GSM7_USSD_SEPTETS)
        return is_gsm7 ? GSM7_USSD_SEPTETS : GSM7_USSD_UCS2;
    return is_gsm7 ? limit_gsm7 : limit_gsm7 * GSM7_USSD_UCS2 / GSM7_USSD_SEPTETS;
}
