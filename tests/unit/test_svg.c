#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "svg.h"

#define PREFIX                                                                                     \
    "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" "                      \
    "viewBox=\"0 0 640 260\" aria-label=\""
#define EVIL "<script>alert(1)</script> & \"q\" 'a'"
#define EVIL_ESC "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot; &#39;a&#39;"
#define DASH " \xe2\x80\x94 "
/* the plot area is 200 units high, from y 30 to y 230 */
#define PLOT_HEIGHT 200.0
#define PLOT_BOTTOM 230.0

static const char *const days[] = {"Mon", "Tue", "Wed"};

struct bar {
    double x, y, w, h;
};

static char *
take(struct evbuffer *b)
{
    size_t len = evbuffer_get_length(b);
    char *s = malloc(len + 1);

    ck_assert_ptr_nonnull(s);
    evbuffer_remove(b, s, len);
    s[len] = '\0';
    evbuffer_free(b);
    return s;
}

static char *
bars(const char *title, const char *const *x, size_t n, const struct svg_series *s, size_t k,
     int stacked, const char *empty)
{
    struct evbuffer *b = evbuffer_new();

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(svg_bars(b, title, x, n, s, k, stacked, empty), 0);
    return take(b);
}

static char *
lines(const char *title, const char *const *x, size_t n, const struct svg_series *s, size_t k,
      const char *empty)
{
    struct evbuffer *b = evbuffer_new();

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(svg_lines(b, title, x, n, s, k, empty), 0);
    return take(b);
}

static size_t
count(const char *hay, const char *needle)
{
    size_t c = 0;

    while ((hay = strstr(hay, needle)) != NULL) {
        c++;
        hay += strlen(needle);
    }
    return c;
}

/* The part of svg inside <g class="NAME">...</g> (groups are never nested), or "". */
static char *
group(const char *svg, const char *name)
{
    char open[64];
    const char *p, *end;
    char *g;

    snprintf(open, sizeof open, "<g class=\"%s\"", name);
    if ((p = strstr(svg, open)) == NULL)
        return strdup("");
    end = strstr(p, "</g>");
    ck_assert_ptr_nonnull(end);
    g = strndup(p, (size_t)(end - p));
    ck_assert_ptr_nonnull(g);
    return g;
}

/* The y tick labels, bottom (0) first. */
static size_t
ticks(const char *svg, char labels[][16], size_t max)
{
    char *g = group(svg, "y");
    const char *p = g, *end;
    size_t n = 0;

    while ((p = strstr(p, "<text ")) != NULL) {
        p = strchr(p, '>') + 1;
        end = strstr(p, "</text>");
        ck_assert_uint_lt(n, max);
        ck_assert_uint_lt((size_t)(end - p), 16);
        memcpy(labels[n], p, (size_t)(end - p));
        labels[n++][end - p] = '\0';
    }
    free(g);
    return n;
}

static size_t
parse_bars(const char *svg, struct bar *out, size_t max)
{
    char *g = group(svg, "bars");
    const char *p = g;
    size_t n = 0;

    while ((p = strstr(p, "<rect ")) != NULL) {
        ck_assert_uint_lt(n, max);
        ck_assert_int_eq(sscanf(p, "<rect x=\"%lf\" y=\"%lf\" width=\"%lf\" height=\"%lf\"",
                                &out[n].x, &out[n].y, &out[n].w, &out[n].h),
                         4);
        n++;
        p++;
    }
    free(g);
    return n;
}

static int
name_char(int c)
{
    return isalnum(c) || c == '-' || c == ':' || c == '_';
}

/* &amp; &lt; &gt; &quot; &apos; or a decimal reference; returns its length, 0 if none. */
static size_t
entity(const char *p)
{
    static const char *const named[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
    size_t i;

    for (i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (strncmp(p, named[i], strlen(named[i])) == 0)
            return strlen(named[i]);
    }
    if (p[1] == '#' && isdigit((unsigned char)p[2])) {
        for (i = 2; isdigit((unsigned char)p[i]); i++)
            ;
        return p[i] == ';' ? i + 1 : 0;
    }
    return 0;
}

/*
 * A small XML well-formedness check: one root element, tags balanced and matching, attribute
 * values quoted, every & an entity, no < or > in text or attribute values (stricter than XML:
 * a stray > would mean something was not escaped). Returns NULL, or what is wrong.
 */
static const char *
xml_check(const char *s)
{
    const char *stack[64], *p = s, *name;
    size_t lens[64], len, e;
    int depth = 0, roots = 0;

    while (*p != '\0') {
        if (*p == '&') {
            if ((e = entity(p)) == 0)
                return "bare &";
            if (depth == 0)
                return "text outside the root";
            p += e;
        } else if (*p == '>') {
            return "stray >";
        } else if (*p == '<' && p[1] == '/') {
            for (name = p += 2; name_char((unsigned char)*p); p++)
                ;
            len = (size_t)(p - name);
            if (*p++ != '>')
                return "bad end tag";
            if (depth == 0)
                return "end tag without a start";
            depth--;
            if (len != lens[depth] || strncmp(name, stack[depth], len) != 0)
                return "end tag does not match";
        } else if (*p == '<') {
            if (!isalpha((unsigned char)p[1]))
                return "bad tag name";
            for (name = ++p; name_char((unsigned char)*p); p++)
                ;
            len = (size_t)(p - name);
            if (depth == 0 && roots++ > 0)
                return "more than one root";
            for (;;) {
                if (*p == '/' && p[1] == '>') {
                    p += 2;
                    break;
                }
                if (*p == '>') {
                    if (depth == 64)
                        return "too deep";
                    stack[depth] = name;
                    lens[depth++] = len;
                    p++;
                    break;
                }
                if (*p != ' ')
                    return "no space before an attribute";
                if (!isalpha((unsigned char)*++p))
                    return "bad attribute name";
                if (strncasecmp(p, "on", 2) == 0)
                    return "event handler attribute";
                while (name_char((unsigned char)*p))
                    p++;
                if (*p++ != '=' || *p++ != '"')
                    return "attribute value not quoted";
                for (; *p != '"'; p++) {
                    if (*p == '\0' || *p == '<' || *p == '>')
                        return "bad attribute value";
                    if (*p == '&' && entity(p) == 0)
                        return "bare & in an attribute";
                }
                p++;
            }
        } else {
            if (depth == 0 && !isspace((unsigned char)*p))
                return "text outside the root";
            p++;
        }
    }
    if (depth != 0)
        return "unclosed element";
    return roots == 1 ? NULL : "no root";
}

/* What every chart must be: one well-formed <svg>, no inline style, nothing external. */
static void
check_svg(const char *svg)
{
    const char *err = xml_check(svg);
    size_t len = strlen(svg);

    ck_assert_msg(err == NULL, "not well-formed (%s):\n%s", err, svg);
    ck_assert_msg(strncmp(svg, PREFIX, strlen(PREFIX)) == 0, "bad start:\n%s", svg);
    ck_assert_ptr_nonnull(strstr(svg, "\">\n<title>"));
    ck_assert_uint_ge(len, 7);
    ck_assert_str_eq(svg + len - 7, "</svg>\n");
    ck_assert_uint_eq(count(svg, "<svg"), 1);
    ck_assert_ptr_null(strcasestr(svg, "style"));
    ck_assert_ptr_null(strcasestr(svg, "<script"));
    ck_assert_ptr_null(strcasestr(svg, "href"));
    ck_assert_ptr_null(strcasestr(svg, "url("));
}

/* The top tick of a one-bar chart of v, and the number of ticks, which must be 5 or 6. */
static void
expect_top(double v, const char *top, const char *second)
{
    struct svg_series s = {"s", &v};
    char labels[16][16];
    char *svg = bars("t", days, 1, &s, 1, 0, "-");
    size_t n = ticks(svg, labels, 16);

    check_svg(svg);
    ck_assert_msg(n >= 5 && n <= 6, "%g: %zu ticks", v, n);
    ck_assert_str_eq(labels[0], "0");
    ck_assert_msg(strcmp(labels[n - 1], top) == 0, "%g: top %s, want %s", v, labels[n - 1], top);
    ck_assert_msg(strcmp(labels[1], second) == 0, "%g: first step %s, want %s", v, labels[1],
                  second);
    free(svg);
}

START_TEST(test_wellformed)
{
    double a[] = {3, 1, 2}, b[] = {4, 1, 0};
    struct svg_series s[] = {{"Delivered", a}, {"Failed", b}};
    char *svg;

    svg = bars("SMS per day", days, 3, s, 2, 0, "No data");
    check_svg(svg);
    ck_assert_ptr_nonnull(strstr(svg, "aria-label=\"SMS per day\">\n<title>SMS per day</title>"));
    free(svg);
    svg = bars("SMS per day", days, 3, s, 2, 1, "No data");
    check_svg(svg);
    free(svg);
    svg = lines("SMS per day", days, 3, s, 2, "No data");
    check_svg(svg);
    free(svg);
    svg = lines("SMS per day", NULL, 0, NULL, 1, "No data");
    check_svg(svg);
    free(svg);

    /* the checker itself rejects what it should */
    ck_assert_ptr_null(xml_check("<a x=\"1\"><b/>t &amp; &#39;</a>"));
    ck_assert_ptr_nonnull(xml_check("<a><b></a></b>"));
    ck_assert_ptr_nonnull(xml_check("<a><b></a>"));
    ck_assert_ptr_nonnull(xml_check("<a>x & y</a>"));
    ck_assert_ptr_nonnull(xml_check("<a>x > y</a>"));
    ck_assert_ptr_nonnull(xml_check("<a x=1></a>"));
    ck_assert_ptr_nonnull(xml_check("<a x=\"<\"></a>"));
    ck_assert_ptr_nonnull(xml_check("<a></a><a></a>"));
    ck_assert_ptr_nonnull(xml_check("<a>"));
    ck_assert_ptr_nonnull(xml_check("<a onload=\"x\"></a>"));
}
END_TEST

START_TEST(test_escaping)
{
    static const char *const evil[] = {EVIL};
    double v = 5, zero = 0;
    struct svg_series s = {EVIL, &v}, z = {EVIL, &zero};
    char *charts[4];
    size_t i;

    charts[0] = bars(EVIL, evil, 1, &s, 1, 0, EVIL);
    charts[1] = bars(EVIL, evil, 1, &s, 1, 1, EVIL);
    charts[2] = lines(EVIL, evil, 1, &s, 1, EVIL);
    charts[3] = bars(EVIL, evil, 1, &z, 1, 0, EVIL);
    for (i = 0; i < 4; i++) {
        check_svg(charts[i]);
        ck_assert_ptr_null(strstr(charts[i], "<script>"));
        ck_assert_ptr_null(strstr(charts[i], "</script>"));
        ck_assert_ptr_null(strstr(charts[i], "\"q\""));
        ck_assert_ptr_null(strstr(charts[i], "'a'"));
        ck_assert_ptr_nonnull(strstr(charts[i], "aria-label=\"" EVIL_ESC "\">"));
        ck_assert_ptr_nonnull(strstr(charts[i], "<title>" EVIL_ESC "</title>"));
    }
    for (i = 0; i < 3; i++) {
        /* the legend and the x label */
        ck_assert_uint_eq(count(charts[i], ">" EVIL_ESC "</text>"), 2);
        ck_assert_ptr_nonnull(strstr(charts[i], "<title>" EVIL_ESC DASH EVIL_ESC ": 5</title>"));
    }
    ck_assert_ptr_nonnull(strstr(charts[3], ">" EVIL_ESC "</text>"));
    ck_assert_ptr_nonnull(strstr(charts[3], "class=\"empty\""));
    for (i = 0; i < 4; i++)
        free(charts[i]);
}
END_TEST

START_TEST(test_empty)
{
    double zeros[] = {0, NAN, -3};
    struct svg_series s[] = {{"a", zeros}, {"b", zeros}};
    char *charts[5];
    size_t i;

    charts[0] = bars("t", NULL, 0, NULL, 1, 0, "Belum ada data");
    charts[1] = lines("t", NULL, 0, NULL, 2, "Belum ada data");
    charts[2] = bars("t", days, 3, s, 2, 0, "Belum ada data");
    charts[3] = bars("t", days, 3, s, 2, 1, "Belum ada data");
    charts[4] = lines("t", days, 3, s, 2, "Belum ada data");
    for (i = 0; i < 5; i++) {
        check_svg(charts[i]);
        ck_assert_ptr_nonnull(
            strstr(charts[i], "text-anchor=\"middle\" fill=\"#777777\">Belum ada data</text>"));
        ck_assert_ptr_nonnull(strstr(charts[i], "<g class=\"axis\""));
        ck_assert_ptr_null(strstr(charts[i], "class=\"bars\""));
        ck_assert_ptr_null(strstr(charts[i], "class=\"lines\""));
        ck_assert_ptr_null(strstr(charts[i], "class=\"legend\""));
        ck_assert_ptr_null(strstr(charts[i], "class=\"y\""));
        free(charts[i]);
    }
    /* no empty text at all is still a chart */
    charts[0] = bars("t", NULL, 0, NULL, 1, 0, NULL);
    check_svg(charts[0]);
    free(charts[0]);
}
END_TEST

START_TEST(test_stacked)
{
    double a[] = {3, 1, 2}, b[] = {4, 1, 0}, sums[] = {7, 2, 2};
    struct svg_series s[] = {{"Delivered", a}, {"Failed", b}};
    struct bar r[8];
    char labels[16][16];
    char *svg;
    size_t n, i, j;
    double h, x, top;

    /* stacked: the tallest bar is 3 + 4 = 7, so the axis goes to 10 in steps of 2 */
    svg = bars("t", days, 3, s, 2, 1, "-");
    check_svg(svg);
    n = ticks(svg, labels, 16);
    ck_assert_uint_eq(n, 6);
    ck_assert_str_eq(labels[5], "10");
    ck_assert_str_eq(labels[1], "2");
    top = 10;
    /* one segment per non-zero value, in category order, each resting on the one below */
    ck_assert_uint_eq(parse_bars(svg, r, 8), 5);
    ck_assert(r[0].y + r[0].h == PLOT_BOTTOM);
    ck_assert(r[1].y + r[1].h == r[0].y);
    ck_assert(r[0].h == 60.0 && r[1].h == 80.0);
    for (i = 0, j = 0; i < 3; i++) {
        for (h = 0, x = r[j].x; j < 5 && r[j].x == x; j++)
            h += r[j].h;
        ck_assert_msg(fabs(h - sums[i] / top * PLOT_HEIGHT) < 0.11, "category %zu: %g", i, h);
    }
    ck_assert_uint_eq(j, 5);
    ck_assert_uint_eq(count(svg, "<title>Mon" DASH "Failed: 4</title>"), 1);
    free(svg);

    /* side by side: the tallest bar is 4, so the axis goes to 5 in steps of 1 */
    svg = bars("t", days, 3, s, 2, 0, "-");
    check_svg(svg);
    n = ticks(svg, labels, 16);
    ck_assert_uint_eq(n, 6);
    ck_assert_str_eq(labels[5], "5");
    ck_assert_uint_eq(parse_bars(svg, r, 8), 5);
    for (i = 0; i < 5; i++)
        ck_assert(r[i].y + r[i].h == PLOT_BOTTOM);
    ck_assert(r[0].h == 120.0 && r[1].h == 160.0);
    ck_assert(r[0].x + r[0].w <= r[1].x + 0.05);
    free(svg);
}
END_TEST

START_TEST(test_nice_max)
{
    /* counts: never a fractional step */
    expect_top(1, "5", "1");
    expect_top(3, "5", "1");
    expect_top(5, "5", "1");
    expect_top(6, "10", "2");
    expect_top(10, "10", "2");
    expect_top(11, "20", "5");
    expect_top(21, "25", "5");
    expect_top(26, "50", "10");
    expect_top(99, "100", "20");
    expect_top(101, "200", "50");
    expect_top(2001, "2.5k", "500");
    expect_top(40000, "50k", "10k");
    expect_top(1234567, "2M", "500k");
    expect_top(7e9, "10G", "2G");
    /* clamped at 10^15 */
    expect_top(3e20, "1000T", "200T");
    /* fractions */
    expect_top(0.3, "0.5", "0.1");
    expect_top(1.5, "2", "0.5");
    expect_top(0.07, "0.1", "0.02");
    expect_top(2.4, "2.5", "0.5");
}
END_TEST

START_TEST(test_ranges)
{
    double v[64] = {1};
    const char *x[65] = {"a"};
    struct svg_series s[7], bad[2];
    struct evbuffer *b = evbuffer_new();
    size_t i;

    for (i = 0; i < 7; i++) {
        s[i].label = "s";
        s[i].values = v;
    }
    bad[0] = s[0];
    bad[1].label = "b";
    bad[1].values = NULL;
    ck_assert_int_eq(svg_bars(b, "t", x, 65, s, 1, 0, "-"), -1);
    ck_assert_int_eq(svg_bars(b, "t", x, 1, s, 0, 0, "-"), -1);
    ck_assert_int_eq(svg_bars(b, "t", x, 1, s, 7, 1, "-"), -1);
    ck_assert_int_eq(svg_bars(NULL, "t", x, 1, s, 1, 0, "-"), -1);
    ck_assert_int_eq(svg_bars(b, "t", NULL, 1, s, 1, 0, "-"), -1);
    ck_assert_int_eq(svg_bars(b, "t", x, 1, NULL, 1, 0, "-"), -1);
    ck_assert_int_eq(svg_bars(b, "t", x, 1, bad, 2, 0, "-"), -1);
    ck_assert_int_eq(svg_bars(b, "t", NULL, 0, NULL, 0, 0, "-"), -1);
    ck_assert_int_eq(svg_lines(b, "t", x, 65, s, 1, "-"), -1);
    ck_assert_int_eq(svg_lines(b, "t", x, 1, s, 0, "-"), -1);
    ck_assert_int_eq(svg_lines(b, "t", x, 1, s, 7, "-"), -1);
    ck_assert_int_eq(svg_lines(NULL, "t", x, 1, s, 1, "-"), -1);
    ck_assert_int_eq(svg_lines(b, "t", NULL, 1, s, 1, "-"), -1);
    ck_assert_int_eq(svg_lines(b, "t", x, 1, NULL, 1, "-"), -1);
    ck_assert_int_eq(svg_lines(b, "t", x, 1, bad, 2, "-"), -1);
    /* a refusal writes nothing */
    ck_assert_uint_eq(evbuffer_get_length(b), 0);
    evbuffer_free(b);

    /* the limits themselves are fine, and NULL labels and titles are empty text */
    {
        char *svg = bars(NULL, x, 64, s, 6, 1, "-");

        check_svg(svg);
        ck_assert_uint_eq(count(svg, "<rect "), 6 + 6); /* 6 swatches, 6 segments in "a" */
        free(svg);
        svg = lines("t", x, 64, s, 6, "-");
        check_svg(svg);
        ck_assert_uint_eq(count(svg, "<circle "), 64 * 6);
        free(svg);
    }
}
END_TEST

START_TEST(test_nan_negative)
{
    static const char *const x[] = {"a", "b", "c", "d", "e"};
    double v[] = {NAN, -5, INFINITY, -INFINITY, 4};
    struct svg_series s = {"s", v};
    struct bar r[8];
    char labels[16][16];
    char *svg;

    svg = bars("t", x, 5, &s, 1, 0, "-");
    check_svg(svg);
    ck_assert_uint_eq(parse_bars(svg, r, 8), 1);
    ck_assert(r[0].h == 160.0);
    ck_assert_ptr_nonnull(strstr(svg, "<title>e" DASH "s: 4</title>"));
    ck_assert_str_eq(labels[ticks(svg, labels, 16) - 1], "5");
    ck_assert_ptr_null(strcasestr(svg, "nan"));
    ck_assert_ptr_null(strcasestr(svg, "inf"));
    free(svg);

    svg = lines("t", x, 5, &s, 1, "-");
    check_svg(svg);
    ck_assert_uint_eq(count(svg, "<circle "), 5);
    ck_assert_uint_eq(count(svg, " r=\"3\" fill=\"#0072B2\"><title>"), 5);
    ck_assert_ptr_nonnull(strstr(svg, "<title>a" DASH "s: 0</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>c" DASH "s: 0</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "cy=\"230.0\""));
    ck_assert_ptr_null(strcasestr(svg, "nan"));
    ck_assert_ptr_null(strcasestr(svg, "inf"));
    free(svg);
}
END_TEST

START_TEST(test_lines)
{
    double a[] = {3, 1, 2}, b[] = {4, 1, 0};
    struct svg_series s[] = {{"a", a}, {"b", b}};
    char *svg;

    svg = lines("t", days, 3, s, 2, "-");
    check_svg(svg);
    ck_assert_uint_eq(count(svg, "<polyline "), 2);
    ck_assert_uint_eq(count(svg, "<circle "), 6);
    ck_assert_ptr_nonnull(strstr(svg, "stroke=\"#0072B2\" stroke-width=\"2\" points=\""
                                      "144.7,110.0 338.0,190.0 531.3,150.0\"/>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>Wed" DASH "b: 0</title>"));
    free(svg);

    /* one point: no line, just the dot */
    svg = lines("t", days, 1, s, 2, "-");
    check_svg(svg);
    ck_assert_uint_eq(count(svg, "<polyline "), 0);
    ck_assert_uint_eq(count(svg, "<circle "), 2);
    ck_assert_ptr_nonnull(strstr(svg, "<circle cx=\"338.0\""));
    free(svg);
}
END_TEST

START_TEST(test_xlabels)
{
    static const size_t ns[] = {1, 12, 13, 31, 64}, shown[] = {1, 12, 7, 11, 11};
    double v[64];
    const char *x[64];
    struct svg_series s = {"s", v};
    char *svg, *g;
    size_t i;

    for (i = 0; i < 64; i++) {
        v[i] = (double)i + 1;
        x[i] = "day";
    }
    for (i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        svg = bars("t", x, ns[i], &s, 1, 0, "-");
        check_svg(svg);
        g = group(svg, "x");
        ck_assert_msg(count(g, ">day</text>") == shown[i], "n %zu: %zu labels", ns[i],
                      count(g, ">day</text>"));
        free(g);
        /* every category still gets its bar and tooltip */
        ck_assert_uint_eq(count(svg, "<title>day" DASH "s: "), ns[i]);
        free(svg);
    }
}
END_TEST

START_TEST(test_legend)
{
    static const char *const colours[] = {"#0072B2", "#E69F00", "#009E73",
                                          "#CC79A7", "#56B4E9", "#D55E00"};
    double v[] = {1};
    struct svg_series s[6];
    char name[6][8], *svg, *g, swatch[64];
    size_t i;

    for (i = 0; i < 6; i++) {
        snprintf(name[i], sizeof name[i], "s%zu", i);
        s[i].label = name[i];
        s[i].values = v;
    }
    svg = bars("t", days, 1, s, 6, 0, "-");
    check_svg(svg);
    g = group(svg, "legend");
    ck_assert_uint_eq(count(g, "<rect "), 6);
    for (i = 0; i < 6; i++) {
        snprintf(swatch, sizeof swatch, "fill=\"%s\"/><text", colours[i]);
        ck_assert_uint_eq(count(g, swatch), 1);
        snprintf(swatch, sizeof swatch, ">s%zu</text>", i);
        ck_assert_uint_eq(count(g, swatch), 1);
        snprintf(swatch, sizeof swatch, "fill=\"%s\"><title>Mon" DASH "s%zu: 1</title>", colours[i],
                 i);
        ck_assert_uint_eq(count(svg, swatch), 1);
    }
    free(g);
    free(svg);
}
END_TEST

START_TEST(test_deterministic)
{
    static const char *const attrs[] = {" x=\"",  " y=\"",  " width=\"", " height=\"",
                                        " cx=\"", " cy=\"", " x1=\"",    " y2=\""};
    double a[] = {1.0 / 3, 2.0 / 3, 1e-7}, b[] = {1.333, 2.5, 1234567};
    struct svg_series s[] = {{"a", a}, {"b", b}};
    char *one, *two;
    const char *p;
    size_t i;

    one = bars("t", days, 3, s, 2, 1, "-");
    two = bars("t", days, 3, s, 2, 1, "-");
    ck_assert_str_eq(one, two);
    check_svg(one);
    /* tooltips show the value itself, not the axis's rounding */
    ck_assert_ptr_nonnull(strstr(one, "<title>Mon" DASH "b: 1.33</title>"));
    ck_assert_ptr_nonnull(strstr(one, "<title>Tue" DASH "b: 2.5</title>"));
    ck_assert_ptr_nonnull(strstr(one, "<title>Wed" DASH "b: 1234567</title>"));
    ck_assert_ptr_nonnull(strstr(one, "<title>Wed" DASH "a: 0</title>"));
    /* every coordinate has exactly one decimal */
    for (i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
        for (p = one; (p = strstr(p, attrs[i])) != NULL;) {
            p += strlen(attrs[i]);
            ck_assert(isdigit((unsigned char)*p));
            while (isdigit((unsigned char)*p))
                p++;
            ck_assert_msg(p[0] == '.' && isdigit((unsigned char)p[1]) && p[2] == '"', "%.20s", p);
        }
    }
    free(one);
    free(two);
    one = lines("t", days, 3, s, 2, "-");
    two = lines("t", days, 3, s, 2, "-");
    ck_assert_str_eq(one, two);
    check_svg(one);
    free(one);
    free(two);
}
END_TEST

static Suite *
svg_suite(void)
{
    Suite *s = suite_create("svg");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_wellformed);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_stacked);
    tcase_add_test(tc, test_nice_max);
    tcase_add_test(tc, test_ranges);
    tcase_add_test(tc, test_nan_negative);
    tcase_add_test(tc, test_lines);
    tcase_add_test(tc, test_xlabels);
    tcase_add_test(tc, test_legend);
    tcase_add_test(tc, test_deterministic);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(svg_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
