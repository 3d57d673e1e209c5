#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpscan.h"

#define GET "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

/* Scans s whole, then a byte at a time: both must agree. Returns the offset of the fault, or
 * the length when there is none. */
static size_t
scan(const char *s, size_t len, struct httpscan *out)
{
    struct httpscan one;
    size_t n = httpscan_feed((httpscan_init(out), out), s, len), i, at = len;

    httpscan_init(&one);
    for (i = 0; i < len; i++) {
        if (httpscan_feed(&one, s + i, 1) != 1) {
            at = i;
            break;
        }
    }
    ck_assert_uint_eq(n, at);
    ck_assert_int_eq(one.fault, out->fault);
    ck_assert_int_eq(one.fault_in_head, out->fault_in_head);
    ck_assert_uint_eq(one.requests, out->requests);
    ck_assert_int_eq(httpscan_at_line_start(&one), httpscan_at_line_start(out));
    return n;
}

#define SCAN(lit, s) scan(lit, sizeof(lit) - 1, s)

START_TEST(requests_pipelined_are_counted_and_end_idle)
{
    struct httpscan s;
    static const char in[] = GET "POST /c/at/demo/ussd HTTP/1.1\r\nContent-Length: 5\r\n"
                                 "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
                                 "a\0b\nc" GET "HEAD / HTTP/1.0\n\n";

    ck_assert_uint_eq(SCAN(in, &s), sizeof in - 1);
    ck_assert_int_eq(s.fault, HTTPSCAN_OK);
    ck_assert_uint_eq(s.requests, 4);
    ck_assert(httpscan_idle(&s));
    ck_assert_uint_eq(SCAN("GET / HT", &s), 8);
    ck_assert(!httpscan_idle(&s));
}
END_TEST

START_TEST(nul_in_a_head_is_refused_where_it_is)
{
    struct httpscan s;

    ck_assert_uint_eq(SCAN("GET /a\0b HTTP/1.1\r\n\r\n", &s), 6);
    ck_assert_int_eq(s.fault, HTTPSCAN_NUL);
    ck_assert(s.fault_in_head);
    ck_assert(!httpscan_at_line_start(&s));
    ck_assert_uint_eq(SCAN("POST / HTTP/1.1\r\nContent-Type: application/json\0junk\r\n\r\n", &s),
                      47);
    ck_assert_int_eq(s.fault, HTTPSCAN_NUL);
    ck_assert_uint_eq(SCAN("\0GET / HTTP/1.1\r\n\r\n", &s), 0);
    ck_assert(httpscan_at_line_start(&s));
    ck_assert_uint_eq(SCAN("GET / HTTP/1.1\r\n\0X: y\r\n\r\n", &s), 16);
    ck_assert(httpscan_at_line_start(&s));
    /* a lone '\r' at the start of the line: "\r\n" would end the header section */
    ck_assert_uint_eq(SCAN("GET / HTTP/1.1\r\n\r\0\r\n", &s), 17);
    ck_assert(httpscan_at_line_start(&s));
    /* the second request's head */
    ck_assert_uint_eq(SCAN(GET "GET / HTTP/1.1\r\nX: \0\r\n\r\n", &s), sizeof GET - 1 + 19);
    ck_assert_uint_eq(s.requests, 1);
}
END_TEST

START_TEST(nul_in_a_body_or_chunk_passes)
{
    struct httpscan s;
    static const char cl[] = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n\0\0\0" GET;
    static const char chunked[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "3\r\n\0\0\0\r\n0\r\n\r\n" GET;

    ck_assert_uint_eq(SCAN(cl, &s), sizeof cl - 1);
    ck_assert_uint_eq(s.requests, 2);
    ck_assert_uint_eq(SCAN(chunked, &s), sizeof chunked - 1);
    ck_assert_int_eq(s.fault, HTTPSCAN_OK);
    ck_assert_uint_eq(s.requests, 2);
    ck_assert(httpscan_idle(&s));
}
END_TEST

START_TEST(content_lengths_twice_are_refused_same_or_not)
{
    struct httpscan s;
    static const char two[] = "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n";
    static const char same[] = "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length:5\r\n\r\n";
    static const char get[] = "GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n";

    ck_assert_uint_eq(SCAN(two, &s), sizeof two - 1 - 3); /* at the second one's "\n" */
    ck_assert_int_eq(s.fault, HTTPSCAN_CONTENT_LENGTH);
    ck_assert(s.fault_in_head);
    ck_assert(!httpscan_at_line_start(&s));
    ck_assert_uint_lt(SCAN(same, &s), sizeof same - 1);
    ck_assert_int_eq(s.fault, HTTPSCAN_CONTENT_LENGTH);
    ck_assert_uint_lt(SCAN(get, &s), sizeof get - 1);
    ck_assert_int_eq(s.fault, HTTPSCAN_CONTENT_LENGTH);
}
END_TEST

START_TEST(content_length_with_transfer_encoding_is_refused)
{
    struct httpscan s;
    static const char *const bad[] = {
        "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length : 5\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 5\r\n 6\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\tgzip\r\n\r\n",
    };
    static const char spaced[] =
        "POST / HTTP/1.1\r\nContent-Length: \t2 \t\r\nX: a\r\n b\r\n\r\nab";
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_uint_lt(scan(bad[i], strlen(bad[i]), &s), strlen(bad[i]));
        ck_assert_int_eq(s.fault, HTTPSCAN_CONTENT_LENGTH);
        ck_assert(s.fault_in_head);
    }
    /* spaces and tabs around the digits, a fold of another header */
    ck_assert_uint_eq(SCAN(spaced, &s), sizeof spaced - 1);
    ck_assert_uint_eq(s.requests, 1);
}
END_TEST

START_TEST(bodies_are_framed_as_evhttp_frames_them)
{
    /* each is two requests, the second a GET: the first's body must end where evhttp ends it */
    static const char *const two[] = {
        /* no body for GET or a method in lower case, whatever the headers say */
        "GET / HTTP/1.1\r\nContent-Length: 4\r\n\r\n" GET,
        "post / HTTP/1.1\r\nContent-Length: 3\r\n\r\n" GET,
        "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" GET,
        /* Transfer-Encoding other than chunked: no Content-Length, no body */
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n" GET,
        /* evhttp strips only spaces before a value: a tab makes it another encoding */
        "POST / HTTP/1.1\r\nTransfer-Encoding:\tchunked\r\n\r\n" GET,
        /* only the first Transfer-Encoding counts, its value compared whole */
        "POST / HTTP/1.1\r\nTransfer-Encoding:  ChunKed \t\r\nTransfer-Encoding: gzip\r\n\r\n"
        "5\r\nabcde\r\n0\r\nX: y\r\n\r\n" GET,
    };
    struct httpscan s;
    size_t i;

    for (i = 0; i < sizeof two / sizeof two[0]; i++) {
        ck_assert_uint_eq(scan(two[i], strlen(two[i]), &s), strlen(two[i]));
        ck_assert_uint_eq(s.requests, 2);
        ck_assert(httpscan_idle(&s));
    }
}
END_TEST

/* A body skipped unseen ends where a body fed ends, and the next request is scanned as ever. */
START_TEST(body_skipped_unseen_frames_as_fed)
{
    static const char head[] = "POST /import HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
    struct httpscan s;

    httpscan_init(&s);
    ck_assert_uint_eq(httpscan_skip_body(&s, 5), 0); /* not in a body yet */
    ck_assert_uint_eq(httpscan_feed(&s, head, sizeof head - 1), sizeof head - 1);
    ck_assert_uint_eq(httpscan_feed(&s, "abc", 3), 3);
    ck_assert_uint_eq(httpscan_skip_body(&s, 4), 4);
    ck_assert_uint_eq(httpscan_skip_body(&s, 100), 3); /* the body's last 3 bytes only */
    ck_assert(httpscan_idle(&s));
    ck_assert_uint_eq(s.requests, 1);
    ck_assert_uint_eq(httpscan_skip_body(&s, 5), 0);
    ck_assert_uint_eq(httpscan_feed(&s, "GET /\0", 6), 5);
    ck_assert_int_eq(s.fault, HTTPSCAN_NUL);
}
END_TEST

START_TEST(chunk_sizes_are_read_as_evhttp_reads_them)
{
    struct httpscan s;
    /* "0x3", a size then a space and junk, a NUL ending the line: strtoll's reading */
    static const char odd[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0x3\r\nabc\r\n2 junk\r\nab\r\n1\0zz\r\nX\r\n\n0\r\n\r\n" GET;
    static const char trailer_nul[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                                      "0\r\nX: \0\r\n\r\n";
    static const char bad[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "zz\r\nGET /\0 HTTP/1.1\r\n\r\n";
    char longline[256];
    int n;

    ck_assert_uint_eq(SCAN(odd, &s), sizeof odd - 1);
    ck_assert_int_eq(s.fault, HTTPSCAN_OK);
    ck_assert_uint_eq(s.requests, 2);
    ck_assert_uint_lt(SCAN(trailer_nul, &s), sizeof trailer_nul - 1);
    ck_assert_int_eq(s.fault, HTTPSCAN_NUL);
    ck_assert(s.fault_in_head);
    /* evhttp refuses the size and closes: nothing after it is a request */
    ck_assert_uint_eq(SCAN(bad, &s), sizeof bad - 1);
    ck_assert_int_eq(s.fault, HTTPSCAN_OK);
    n = snprintf(longline, sizeof longline,
                 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%0100d\r\n", 5);
    ck_assert_uint_lt(scan(longline, (size_t)n, &s), (size_t)n);
    ck_assert_int_eq(s.fault, HTTPSCAN_CHUNK_LINE);
    ck_assert(!s.fault_in_head);
}
END_TEST

START_TEST(lines_end_at_lf_or_crlf_only)
{
    struct httpscan s;
    /* "\r\r\n" is a line holding "\r", not the end of the header section */
    static const char crcr[] = "POST / HTTP/1.1\r\n\r\r\nContent-Length: 1\r\n\r\nx" GET;

    ck_assert_uint_eq(SCAN(crcr, &s), sizeof crcr - 1);
    ck_assert_uint_eq(s.requests, 2);
    ck_assert(httpscan_idle(&s));
}
END_TEST

static Suite *
httpscan_suite(void)
{
    Suite *s = suite_create("httpscan");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, requests_pipelined_are_counted_and_end_idle);
    tcase_add_test(tc, nul_in_a_head_is_refused_where_it_is);
    tcase_add_test(tc, nul_in_a_body_or_chunk_passes);
    tcase_add_test(tc, content_lengths_twice_are_refused_same_or_not);
    tcase_add_test(tc, content_length_with_transfer_encoding_is_refused);
    tcase_add_test(tc, bodies_are_framed_as_evhttp_frames_them);
    tcase_add_test(tc, chunk_sizes_are_read_as_evhttp_reads_them);
    tcase_add_test(tc, lines_end_at_lf_or_crlf_only);
    tcase_add_test(tc, body_skipped_unseen_frames_as_fed);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(httpscan_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
