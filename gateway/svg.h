/* Charts for the admin pages, drawn on the server as inline SVG: no script, no external asset,
 * readable on a phone (the viewBox scales to the page width). Pure: data in, markup out. */
#ifndef KABAR_SVG_H
#define KABAR_SVG_H

#include <stddef.h>

struct evbuffer;

struct svg_series {
    const char *label;    /* legend text (escaped on output) */
    const double *values; /* one per category; negative, NaN or infinite values count as 0 */
};

/*
 * Vertical bars over n categories (x labels, escaped), one bar per series per category, side by
 * side, or stacked when `stacked` is set. The y axis starts at 0 and has 4-6 round ticks. A
 * chart with no categories, or only zeros, says `empty` (escaped) in its middle instead.
 * Returns 0, or -1 when out of memory or n or k is out of range (n <= 64, 1 <= k <= 6).
 */
int svg_bars(struct evbuffer *out, const char *title, const char *const *xlabels, size_t n,
             const struct svg_series *series, size_t k, int stacked, const char *empty);

/* The same frame with one line (and a dot per point) per series. */
int svg_lines(struct evbuffer *out, const char *title, const char *const *xlabels, size_t n,
              const struct svg_series *series, size_t k, const char *empty);

#endif
