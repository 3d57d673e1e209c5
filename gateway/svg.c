#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "html.h"
#include "svg.h"

#define SVG_MAX_N 64
#define SVG_MAX_K 6
/* More x labels than this would overlap; beyond it only every few categories gets one. */
#define SVG_MAX_XLABELS 12
/* Larger values are drawn as this, so that the scale and the printed numbers stay exact. */
#define SVG_MAX_VALUE 1e15

/* The plot area inside the 640 x 260 viewBox: tick labels left, legend above, x labels below. */
#define SVG_LEFT 48.0
#define SVG_RIGHT 628.0
#define SVG_TOP 30.0
#define SVG_BOTTOM 230.0

/* Okabe-Ito: told apart with any kind of colour blindness, and dark enough on white. */
static const char *const svg_palette[SVG_MAX_K] = {
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
};

enum svg_kind {
    SVG_GROUPED,
    SVG_STACKED,
    SVG_LINES,
};

struct svg_chart {
    struct evbuffer *buf;
    int failed; /* sticky: one check at the end instead of one per line of markup */
    enum svg_kind kind;
    const char *const *xlabels;
    size_t n;
    const struct svg_series *series;
    size_t k;
    double top; /* the y axis runs from 0 to top, in nint equal steps */
    int nint;
};

static void svg_add(struct svg_chart *, const char *, ...) __attribute__((format(printf, 2, 3)));

static void
svg_add(struct svg_chart *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (evbuffer_add_vprintf(c->buf, fmt, ap) == -1)
        c->failed = 1;
    va_end(ap);
}

static void
svg_text(struct svg_chart *c, const char *s)
{
    if (html_escape_str(c->buf, s) == -1)
        c->failed = 1;
}

static double
svg_value(const struct svg_chart *c, size_t j, size_t i)
{
    double v = c->series[j].values[i];

    if (!isfinite(v) || v < 0)
        return 0;
    return v > SVG_MAX_VALUE ? SVG_MAX_VALUE : v;
}

/* Values are within [0, SVG_MAX_VALUE], so the cast is exact for every integer among them. */
static int
svg_integral(double v)
{
    return (double)(long long)v == v;
}

/* Coordinates are never negative; rounding them once keeps stacked segments flush. */
static double
svg_round(double v)
{
    return (double)(long long)(v * 10 + 0.5) / 10;
}

static void
svg_trim(char *s, int zeros)
{
    size_t len = strlen(s);

    if (strchr(s, '.') == NULL)
        return;
    while (zeros && len > 0 && s[len - 1] == '0')
        s[--len] = '\0';
    if (!zeros && len >= 2 && strcmp(s + len - 2, ".0") == 0)
        s[len -= 2] = '\0';
    if (len > 0 && s[len - 1] == '.')
        s[--len] = '\0';
}

/*
 * A tick label is short: 2500 is "2.5k", 1500000 "1.5M" (SI prefixes). A tooltip shows every
 * digit of an integer and up to two decimals otherwise.
 */
static void
svg_number(char *buf, size_t len, double v, int compact)
{
    static const struct {
        double unit;
        const char *suffix;
    } units[] = {{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}};
    size_t i;

    if (compact) {
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (v < units[i].unit)
                continue;
            snprintf(buf, len, "%.1f", v / units[i].unit);
            svg_trim(buf, 0);
            strncat(buf, units[i].suffix, len - strlen(buf) - 1);
            return;
        }
    }
    if (svg_integral(v))
        snprintf(buf, len, "%.0f", v);
    else if (compact)
        snprintf(buf, len, "%g", v);
    else {
        snprintf(buf, len, "%.2f", v);
        svg_trim(buf, 1);
    }
}

/*
 * The smallest of 1, 2, 2.5, 5 x 10^e that is at least max, cut into 4 or 5 round steps. When
 * every value is an integer (a count), a step is never less than 1: no "0.2 messages" tick.
 */
static void
svg_nice(double max, int integral, double *top, int *nint)
{
    static const struct {
        double mantissa;
        int nint;
    } nice[] = {{1, 5}, {2, 4}, {2.5, 5}, {5, 5}};
    double p = 1, t;
    size_t i;

    while (p > max && p > 1e-12)
        p /= 10;
    while (p * 10 <= max && p < SVG_MAX_VALUE)
        p *= 10;
    /* ends within two decades: 10 * p > max, and 5 * p >= 5 once p >= 1 */
    for (;; p *= 10) {
        for (i = 0; i < sizeof nice / sizeof nice[0]; i++) {
            t = nice[i].mantissa * p;
            if (t >= max && (!integral || t / nice[i].nint >= 1)) {
                *top = t;
                *nint = nice[i].nint;
                return;
            }
        }
    }
}

/* Sets the scale; returns 0 when there is nothing above zero to draw. */
static int
svg_scale(struct svg_chart *c)
{
    double max = 0, sum, v;
    int integral = 1;
    size_t i, j;

    for (i = 0; i < c->n; i++) {
        sum = 0;
        for (j = 0; j < c->k; j++) {
            v = svg_value(c, j, i);
            integral = integral && svg_integral(v);
            if (c->kind == SVG_STACKED)
                sum += v;
            else if (v > max)
                max = v;
        }
        if (sum > max)
            max = sum;
    }
    if (max <= 0)
        return 0;
    svg_nice(max, integral, &c->top, &c->nint);
    return 1;
}

static double
svg_y(const struct svg_chart *c, double v)
{
    return svg_round(SVG_BOTTOM - v / c->top * (SVG_BOTTOM - SVG_TOP));
}

static double
svg_band(const struct svg_chart *c)
{
    return (SVG_RIGHT - SVG_LEFT) / (double)c->n;
}

static const char *
svg_xlabel(const struct svg_chart *c, size_t i)
{
    return c->xlabels[i] == NULL ? "" : c->xlabels[i];
}

static const char *
svg_label(const struct svg_chart *c, size_t j)
{
    return c->series[j].label == NULL ? "" : c->series[j].label;
}

/* "LABEL — SERIES: VALUE", read on hover (or a long press) over a bar or a dot. */
static void
svg_tooltip(struct svg_chart *c, size_t j, size_t i, double v)
{
    char num[64];

    svg_number(num, sizeof num, v, 0);
    svg_add(c, "<title>");
    if (html_escapef(c->buf, "%s \xe2\x80\x94 %s: %s", svg_xlabel(c, i), svg_label(c, j), num) ==
        -1)
        c->failed = 1;
    svg_add(c, "</title>");
}

static void
svg_open(struct svg_chart *c, const char *title)
{
    svg_add(c, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" "
               "viewBox=\"0 0 640 260\" aria-label=\"");
    svg_text(c, title);
    svg_add(c, "\">\n<title>");
    svg_text(c, title);
    svg_add(c, "</title>\n");
}

static void
svg_close(struct svg_chart *c)
{
    svg_add(c,
            "<g class=\"axis\" stroke=\"#888888\" stroke-width=\"1\">\n"
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
            "</g>\n</svg>\n",
            SVG_LEFT, SVG_TOP, SVG_LEFT, SVG_BOTTOM, SVG_LEFT, SVG_BOTTOM, SVG_RIGHT, SVG_BOTTOM);
}

static void
svg_empty(struct svg_chart *c, const char *empty)
{
    svg_add(c,
            "<text class=\"empty\" x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\" "
            "fill=\"#777777\">",
            (SVG_LEFT + SVG_RIGHT) / 2, (SVG_TOP + SVG_BOTTOM) / 2 + 5);
    svg_text(c, empty);
    svg_add(c, "</text>\n");
}

/* Label widths are guessed from the character count: there is no font to measure here. */
static void
svg_legend(struct svg_chart *c)
{
    double x = SVG_LEFT;
    const char *s;
    size_t j, chars;

    svg_add(c, "<g class=\"legend\" font-size=\"11\" fill=\"#333333\">\n");
    for (j = 0; j < c->k; j++) {
        svg_add(c,
                "<rect x=\"%.1f\" y=\"8.0\" width=\"10.0\" height=\"10.0\" fill=\"%s\"/>"
                "<text x=\"%.1f\" y=\"17.0\">",
                x, svg_palette[j], x + 14);
        svg_text(c, svg_label(c, j));
        svg_add(c, "</text>\n");
        for (s = svg_label(c, j), chars = 0; *s != '\0'; s++)
            chars += ((unsigned char)*s & 0xc0) != 0x80;
        x += 14 + 6.5 * (double)chars + 16;
    }
    svg_add(c, "</g>\n");
}

static void
svg_grid(struct svg_chart *c)
{
    char num[64];
    double y;
    int i;

    svg_add(c, "<g class=\"grid\" stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
    for (i = 1; i <= c->nint; i++) {
        y = svg_y(c, c->top * i / c->nint);
        svg_add(c, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", SVG_LEFT, y,
                SVG_RIGHT, y);
    }
    svg_add(c, "</g>\n<g class=\"y\" font-size=\"10\" text-anchor=\"end\" fill=\"#555555\">\n");
    for (i = 0; i <= c->nint; i++) {
        svg_number(num, sizeof num, c->top * i / c->nint, 1);
        svg_add(c, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", SVG_LEFT - 6,
                svg_y(c, c->top * i / c->nint) + 3.5, num);
    }
    svg_add(c, "</g>\n");
}

static void
svg_xlabels(struct svg_chart *c)
{
    size_t i, every = (c->n + SVG_MAX_XLABELS - 1) / SVG_MAX_XLABELS;
    double band = svg_band(c);

    svg_add(c, "<g class=\"x\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555555\">\n");
    for (i = 0; i < c->n; i += every) {
        svg_add(c, "<text x=\"%.1f\" y=\"%.1f\">", svg_round(SVG_LEFT + band * ((double)i + 0.5)),
                SVG_BOTTOM + 16);
        svg_text(c, svg_xlabel(c, i));
        svg_add(c, "</text>\n");
    }
    svg_add(c, "</g>\n");
}

static void
svg_bar(struct svg_chart *c, size_t j, size_t i, double x, double w, double y0, double y1)
{
    svg_add(c, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
            svg_round(x), y1, svg_round(w), y0 - y1, svg_palette[j]);
    svg_tooltip(c, j, i, svg_value(c, j, i));
    svg_add(c, "</rect>\n");
}

/* Zero bars are left out: they have no height to see or to hover. */
static void
svg_bars_draw(struct svg_chart *c)
{
    double band = svg_band(c), x, w, sum, y0, y1;
    size_t i, j;

    svg_add(c, "<g class=\"bars\">\n");
    for (i = 0; i < c->n; i++) {
        sum = 0;
        for (j = 0; j < c->k; j++) {
            if (svg_value(c, j, i) == 0)
                continue;
            if (c->kind == SVG_STACKED) {
                x = SVG_LEFT + band * ((double)i + 0.2);
                w = band * 0.6;
                y0 = svg_y(c, sum);
                sum += svg_value(c, j, i);
                y1 = svg_y(c, sum);
            } else {
                w = band * 0.8 / (double)c->k;
                x = SVG_LEFT + band * ((double)i + 0.1) + w * (double)j;
                y0 = SVG_BOTTOM;
                y1 = svg_y(c, svg_value(c, j, i));
            }
            svg_bar(c, j, i, x, w, y0, y1);
        }
    }
    svg_add(c, "</g>\n");
}

static void
svg_lines_draw(struct svg_chart *c)
{
    double band = svg_band(c), x;
    size_t i, j;

    svg_add(c, "<g class=\"lines\">\n");
    for (j = 0; j < c->k; j++) {
        if (c->n > 1) {
            svg_add(c, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                    svg_palette[j]);
            for (i = 0; i < c->n; i++) {
                x = svg_round(SVG_LEFT + band * ((double)i + 0.5));
                svg_add(c, "%s%.1f,%.1f", i == 0 ? "" : " ", x, svg_y(c, svg_value(c, j, i)));
            }
            svg_add(c, "\"/>\n");
        }
        for (i = 0; i < c->n; i++) {
            x = svg_round(SVG_LEFT + band * ((double)i + 0.5));
            svg_add(c, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">", x,
                    svg_y(c, svg_value(c, j, i)), svg_palette[j]);
            svg_tooltip(c, j, i, svg_value(c, j, i));
            svg_add(c, "</circle>\n");
        }
    }
    svg_add(c, "</g>\n");
}

/*
 * Drawn into a buffer of its own and appended whole, so that a failure leaves `out` as it was.
 * The labels and values are needed only when there are categories.
 */
static int
svg_draw(struct evbuffer *out, const char *title, const char *const *xlabels, size_t n,
         const struct svg_series *series, size_t k, enum svg_kind kind, const char *empty)
{
    struct svg_chart c;
    size_t j;
    int rc;

    if (out == NULL || n > SVG_MAX_N || k == 0 || k > SVG_MAX_K)
        return -1;
    if (n > 0 && (xlabels == NULL || series == NULL))
        return -1;
    for (j = 0; n > 0 && j < k; j++) {
        if (series[j].values == NULL)
            return -1;
    }

    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.xlabels = xlabels;
    c.n = n;
    c.series = series;
    c.k = k;
    if ((c.buf = evbuffer_new()) == NULL)
        return -1;

    svg_open(&c, title);
    if (!svg_scale(&c))
        svg_empty(&c, empty);
    else {
        svg_legend(&c);
        svg_grid(&c);
        if (kind == SVG_LINES)
            svg_lines_draw(&c);
        else
            svg_bars_draw(&c);
        svg_xlabels(&c);
    }
    svg_close(&c);

    rc = c.failed ? -1 : evbuffer_add_buffer(out, c.buf);
    evbuffer_free(c.buf);
    return rc;
}

int
svg_bars(struct evbuffer *out, const char *title, const char *const *xlabels, size_t n,
         const struct svg_series *series, size_t k, int stacked, const char *empty)
{
    return svg_draw(out, title, xlabels, n, series, k, stacked ? SVG_STACKED : SVG_GROUPED, empty);
}

int
svg_lines(struct evbuffer *out, const char *title, const char *const *xlabels, size_t n,
          const struct svg_series *series, size_t k, const char *empty)
{
    return svg_draw(out, title, xlabels, n, series, k, SVG_LINES, empty);
}
