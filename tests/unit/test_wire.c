#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "at_wire.h"
#include "hubtel_wire.h"
#include "kannel_wire.h"

#define HOP_OK                                                                                     \
    "sessionId=ATUid_5f1b1c0b6b0c7d0e&serviceCode=%2A384%2A12345%23"                               \
    "&phoneNumber=%2B628123456001&networkCode=51010"

static char err[256];

static int
hop(const char *body, struct at_ussd_hop *h)
{
    strcpy(err, "untouched");
    return at_parse_ussd(body, strlen(body), h, err, sizeof(err));
}

START_TEST(test_at_hop_first)
{
    struct at_ussd_hop h;

    ck_assert_int_eq(hop(HOP_OK "&text=", &h), 0);
    ck_assert_str_eq(h.session_id, "ATUid_5f1b1c0b6b0c7d0e");
    ck_assert_str_eq(h.service_code, "*384*12345#");
    ck_assert_str_eq(h.msisdn, "+628123456001");
    ck_assert_str_eq(h.network_code, "51010");
    ck_assert_str_eq(h.text, "");
    ck_assert_uint_eq(h.text_len, 0);
}
END_TEST

START_TEST(test_at_hop_path)
{
    struct at_ussd_hop h;

    /* as curl --data-urlencode and AT send it: field order varies, '*' may be raw or %2A */
    ck_assert_int_eq(hop("text=1%2A2*150000&phoneNumber=08123456001&sessionId=s-1.2:3", &h), 0);
    ck_assert_str_eq(h.text, "1*2*150000");
    ck_assert_uint_eq(h.text_len, 10);
    ck_assert_str_eq(h.msisdn, "+628123456001");
    ck_assert_str_eq(h.service_code, "");
    ck_assert_str_eq(h.network_code, "");

    ck_assert_int_eq(hop(HOP_OK "&text=BANTUAN+modal+%C3%A9", &h), 0);
    ck_assert_str_eq(h.text, "BANTUAN modal \xc3\xa9");
    ck_assert_uint_eq(h.text_len, 16);
}
END_TEST

START_TEST(test_at_hop_bad)
{
    static const struct {
        const char *body;
        const char *err;
    } cases[] = {
        {"phoneNumber=%2B628123456001&text=", "missing field 'sessionId'"},
        {"sessionId=a&text=", "missing field 'phoneNumber'"},
        {"sessionId=a&phoneNumber=%2B628123456001", "missing field 'text'"},
        {"sessionId=&phoneNumber=%2B628123456001&text=", "bad sessionId"},
        {"sessionId=a+b&phoneNumber=%2B628123456001&text=", "bad sessionId"},
        {"sessionId=a%2Fb&phoneNumber=%2B628123456001&text=", "bad sessionId"},
        {"sessionId=%C3%A9&phoneNumber=%2B628123456001&text=", "bad sessionId"},
        {"sessionId=a&phoneNumber=8123456001&text=", "bad phoneNumber"},
        {"sessionId=a&phoneNumber=&text=", "bad phoneNumber"},
        {"sessionId=a&phoneNumber=%2B628123456001&text=1&text=2", "duplicate field 'text'"},
        {"sessionId=a&phoneNumber=%2B628123456001&text=%ff", "invalid UTF-8 in 'text'"},
        {"sessionId=a&phoneNumber=%2B628123456001&text=%", "bad percent-encoding in 'text'"},
        {"sessionId=a&phoneNumber=%2B628123456001&networkCode=12345678901234567&text=",
         "field 'networkCode' too long"},
        {"sessionId=a&phoneNumber=%2B628123456001&text=&serviceCode="
         "123456789012345678901234567890123",
         "field 'serviceCode' too long"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct at_ussd_hop h;

        ck_assert_msg(hop(cases[i].body, &h) == -1, "accepted %s", cases[i].body);
        ck_assert_msg(strcmp(err, cases[i].err) == 0, "%s: got \"%s\"", cases[i].body, err);
    }
}
END_TEST

START_TEST(test_at_hop_limits)
{
    struct at_ussd_hop h;
    char body[4096];
    size_t n;

    /* 64-char session id and 1024-byte text are the maxima */
    n = (size_t)snprintf(body, sizeof(body), "phoneNumber=%%2B628123456001&sessionId=");
    memset(body + n, 'S', 64);
    n += 64;
    n += (size_t)snprintf(body + n, sizeof(body) - n, "&text=");
    memset(body + n, '1', 1024);
    n += 1024;
    body[n] = '\0';
    ck_assert_int_eq(hop(body, &h), 0);
    ck_assert_uint_eq(strlen(h.session_id), 64);
    ck_assert_uint_eq(h.text_len, 1024);

    strcpy(body + n, "1");
    ck_assert_int_eq(hop(body, &h), -1);
    ck_assert_str_eq(err, "field 'text' too long");

    /* 1024 bytes decoded from 3072 bytes of escapes still fits */
    n = (size_t)snprintf(body, sizeof(body), "phoneNumber=%%2B628123456001&sessionId=x&text=");
    for (size_t i = 0; i < 1024; i++, n += 3)
        memcpy(body + n, "%2A", 3);
    body[n] = '\0';
    ck_assert_int_eq(hop(body, &h), 0);
    ck_assert_uint_eq(h.text_len, 1024);

    n = (size_t)snprintf(body, sizeof(body), "phoneNumber=%%2B628123456001&text=&sessionId=");
    memset(body + n, 'S', 65);
    body[n + 65] = '\0';
    ck_assert_int_eq(hop(body, &h), -1);
    ck_assert_str_eq(err, "field 'sessionId' too long");
}
END_TEST

START_TEST(test_at_render)
{
    char out[32];

    ck_assert_int_eq(at_render_ussd(0, "Pilih 1", out, sizeof(out)), 11);
    ck_assert_str_eq(out, "CON Pilih 1");
    ck_assert_int_eq(at_render_ussd(1, "Terima kasih", out, sizeof(out)), 16);
    ck_assert_str_eq(out, "END Terima kasih");
    ck_assert_int_eq(at_render_ussd(1, "", out, sizeof(out)), 4);
    ck_assert_str_eq(out, "END ");
    ck_assert_int_eq(at_render_ussd(0, NULL, out, sizeof(out)), 4);
    ck_assert_str_eq(out, "CON ");
    /* 11 chars + "CON " + NUL = 16 fits exactly; one more does not */
    ck_assert_int_eq(at_render_ussd(0, "12345678901", out, 16), 15);
    ck_assert_str_eq(out, "CON 12345678901");
    ck_assert_int_eq(at_render_ussd(0, "123456789012", out, 16), -1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(at_render_ussd(0, "x", out, 5), -1);
    ck_assert_int_eq(at_render_ussd(0, "x", out, 0), -1);
    ck_assert_int_eq(at_render_ussd(0, "x", NULL, 10), -1);
}
END_TEST

static int
end_parse(const char *body, struct at_ussd_end *e)
{
    strcpy(err, "untouched");
    return at_parse_ussd_end(body, strlen(body), e, err, sizeof(err));
}

START_TEST(test_at_end)
{
    struct at_ussd_end e;

    ck_assert_int_eq(
        end_parse(
            "date=2024-01-15+10%3A23%3A45&sessionId=ATUid_5f1b1c0b&serviceCode=%2A384%2A123%23"
            "&networkCode=51010&phoneNumber=%2B628123456001&status=Success&cost=IDR+0.0000"
            "&durationInMillis=15234&hopsCount=4&input=1%2A2%2A150000"
            "&lastAppResponse=END+Laporan+tersimpan+%28No.+57%29&errorMessage=",
            &e),
        0);
    ck_assert_str_eq(e.session_id, "ATUid_5f1b1c0b");
    ck_assert_str_eq(e.msisdn, "+628123456001");
    ck_assert_str_eq(e.service_code, "*384*123#");
    ck_assert_str_eq(e.network_code, "51010");
    ck_assert_str_eq(e.status_text, "Success");
    ck_assert_int_eq(e.status, AT_END_SUCCESS);
    ck_assert_uint_eq(e.duration_ms, 15234);
    ck_assert_uint_eq(e.hops, 4);
    ck_assert_str_eq(e.input, "1*2*150000");
    ck_assert_str_eq(e.last_response, "END Laporan tersimpan (No. 57)");
    ck_assert_str_eq(e.error_message, "");
    ck_assert_str_eq(e.date, "2024-01-15 10:23:45");
    ck_assert_str_eq(e.cost, "IDR 0.0000");

    ck_assert_int_eq(end_parse("sessionId=a&phoneNumber=0812-3456-001&status=incomplete", &e), 0);
    ck_assert_int_eq(e.status, AT_END_INCOMPLETE);
    ck_assert_uint_eq(e.duration_ms, 0);
    ck_assert_uint_eq(e.hops, 0);
    ck_assert_int_eq(end_parse("sessionId=a&phoneNumber=08123456001&status=FAILED"
                               "&errorMessage=Session+timed+out&durationInMillis=",
                               &e),
                     0);
    ck_assert_int_eq(e.status, AT_END_FAILED);
    ck_assert_str_eq(e.error_message, "Session timed out");
    ck_assert_int_eq(end_parse("sessionId=a&phoneNumber=08123456001&status=Aborted", &e), 0);
    ck_assert_int_eq(e.status, AT_END_OTHER);
    ck_assert_str_eq(e.status_text, "Aborted");
    ck_assert_int_eq(end_parse("sessionId=a&phoneNumber=08123456001", &e), 0);
    ck_assert_int_eq(e.status, AT_END_OTHER);
    ck_assert_int_eq(end_parse("sessionId=a&phoneNumber=08123456001&status=Successful", &e), 0);
    ck_assert_int_eq(e.status, AT_END_OTHER);
    ck_assert_int_eq(
        end_parse("sessionId=a&phoneNumber=08123456001&durationInMillis=18446744073709551615", &e),
        0);
    ck_assert_uint_eq(e.duration_ms, UINT64_MAX);
}
END_TEST

START_TEST(test_at_end_bad)
{
    static const struct {
        const char *body;
        const char *err;
    } cases[] = {
        {"phoneNumber=08123456001", "missing field 'sessionId'"},
        {"sessionId=a", "missing field 'phoneNumber'"},
        {"sessionId=a%20b&phoneNumber=08123456001", "bad sessionId"},
        {"sessionId=a&phoneNumber=12345", "bad phoneNumber"},
        {"sessionId=a&phoneNumber=08123456001&durationInMillis=abc", "bad durationInMillis"},
        {"sessionId=a&phoneNumber=08123456001&durationInMillis=-1", "bad durationInMillis"},
        {"sessionId=a&phoneNumber=08123456001&durationInMillis=1.5", "bad durationInMillis"},
        {"sessionId=a&phoneNumber=08123456001&durationInMillis=+15", "bad durationInMillis"},
        {"sessionId=a&phoneNumber=08123456001&durationInMillis=18446744073709551616",
         "bad durationInMillis"},
        {"sessionId=a&phoneNumber=08123456001&hopsCount=4x", "bad hopsCount"},
        {"sessionId=a&phoneNumber=08123456001&status=SuccessSuccessSucc",
         "field 'status' too long"},
        {"sessionId=a&phoneNumber=08123456001&status=a&status=b", "duplicate field 'status'"},
        {"sessionId=a&phoneNumber=08123456001&durationInMillis=123456789012345678901234",
         "field 'durationInMillis' too long"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct at_ussd_end e;

        ck_assert_msg(end_parse(cases[i].body, &e) == -1, "accepted %s", cases[i].body);
        ck_assert_msg(strcmp(err, cases[i].err) == 0, "%s: got \"%s\"", cases[i].body, err);
    }
}
END_TEST

static int
sms(const char *body, struct at_sms_in *m)
{
    strcpy(err, "untouched");
    return at_parse_sms(body, strlen(body), m, err, sizeof(err));
}

START_TEST(test_at_sms)
{
    struct at_sms_in m;

    ck_assert_int_eq(sms("linkId=SampleLinkId123&text=USAHA+BUKA+2500000+3&to=21212"
                         "&id=ATXid_7a9b1c2d3e4f&date=2017-05-03+06%3A04%3A45"
                         "&from=%2B628123456001&networkCode=51010",
                         &m),
                     0);
    ck_assert_str_eq(m.id, "ATXid_7a9b1c2d3e4f");
    ck_assert_str_eq(m.from, "+628123456001");
    ck_assert_str_eq(m.to, "21212");
    ck_assert_str_eq(m.text, "USAHA BUKA 2500000 3");
    ck_assert_uint_eq(m.text_len, 20);
    ck_assert_str_eq(m.date, "2017-05-03 06:04:45");
    ck_assert_str_eq(m.link_id, "SampleLinkId123");
    ck_assert_str_eq(m.network_code, "51010");

    ck_assert_int_eq(
        sms("from=08123456001&to=%2B62+812-000&text=&id=x&date=2017-05-03T06%3A04%3A45Z", &m), 0);
    ck_assert_str_eq(m.to, "+62812000");
    ck_assert_str_eq(m.text, "");
    ck_assert_str_eq(m.date, "2017-05-03T06:04:45Z");

    ck_assert_int_eq(sms("from=08123456001&text=halo&id=x", &m), 0);
    ck_assert_str_eq(m.to, "");
    ck_assert_int_eq(sms("from=08123456001&text=halo&id=x&to=12345678901234567890", &m), 0);
    ck_assert_str_eq(m.to, "12345678901234567890");

    /* UCS-2 SMS arrives as UTF-8 */
    ck_assert_int_eq(sms("from=08123456001&text=%E2%82%AC+%F0%9F%98%80&id=x", &m), 0);
    ck_assert_str_eq(m.text, "\xe2\x82\xac \xf0\x9f\x98\x80");
}
END_TEST

START_TEST(test_at_sms_bad)
{
    static const struct {
        const char *body;
        const char *err;
    } cases[] = {
        {"from=08123456001&text=halo", "missing field 'id'"},
        {"id=x&text=halo", "missing field 'from'"},
        {"id=x&from=08123456001", "missing field 'text'"},
        {"id=&from=08123456001&text=a", "bad id"},
        {"id=a%2Cb&from=08123456001&text=a", "bad id"},
        {"id=x&from=KABAR&text=a", "bad from"},
        {"id=x&from=08123456001&text=a&to=KABAR", "bad to"},
        {"id=x&from=08123456001&text=a&to=%2B", "bad to"},
        {"id=x&from=08123456001&text=a&to=1%2B2", "bad to"},
        {"id=x&from=08123456001&text=a&to=123456789012345678901", "bad to"},
        {"id=x&from=08123456001&text=a%C0%AF", "invalid UTF-8 in 'text'"},
        {"id=x&from=08123456001&text=a&text=b", "duplicate field 'text'"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct at_sms_in m;

        ck_assert_msg(sms(cases[i].body, &m) == -1, "accepted %s", cases[i].body);
        ck_assert_msg(strcmp(err, cases[i].err) == 0, "%s: got \"%s\"", cases[i].body, err);
    }
}
END_TEST

START_TEST(test_at_sms_long_text)
{
    struct at_sms_in m;
    char body[2048];
    size_t n = (size_t)snprintf(body, sizeof(body), "id=x&from=08123456001&text=");

    memset(body + n, 'a', 1600);
    body[n + 1600] = '\0';
    ck_assert_int_eq(sms(body, &m), 0);
    ck_assert_uint_eq(m.text_len, 1600);
    strcpy(body + n + 1600, "a");
    ck_assert_int_eq(sms(body, &m), -1);
    ck_assert_str_eq(err, "field 'text' too long");
}
END_TEST

static int
dlr(const char *body, struct at_dlr *d)
{
    strcpy(err, "untouched");
    return at_parse_dlr(body, strlen(body), d, err, sizeof(err));
}

START_TEST(test_at_dlr)
{
    static const struct {
        const char *status;
        enum at_dlr_status want;
        int final;
    } map[] = {
        {"Sent", AT_DLR_SENT, 0},         {"Submitted", AT_DLR_SUBMITTED, 0},
        {"Buffered", AT_DLR_BUFFERED, 0}, {"Success", AT_DLR_SUCCESS, 1},
        {"Rejected", AT_DLR_REJECTED, 1}, {"Failed", AT_DLR_FAILED, 1},
        {"Expired", AT_DLR_EXPIRED, 1},   {"SUCCESS", AT_DLR_SUCCESS, 1},
        {"failed", AT_DLR_FAILED, 1},     {"Queued", AT_DLR_UNKNOWN, 0},
        {"", AT_DLR_UNKNOWN, 0},
    };
    struct at_dlr d;
    size_t i;

    ck_assert_int_eq(dlr("phoneNumber=%2B628123456001&failureReason=&retryCount=0"
                         "&id=ATXid_f2a1c8e0&status=Success&networkCode=51010",
                         &d),
                     0);
    ck_assert_str_eq(d.id, "ATXid_f2a1c8e0");
    ck_assert_int_eq(d.status, AT_DLR_SUCCESS);
    ck_assert_str_eq(d.phone, "+628123456001");
    ck_assert_str_eq(d.network_code, "51010");
    ck_assert_str_eq(d.failure_reason, "");
    ck_assert_uint_eq(d.retry_count, 0);

    ck_assert_int_eq(dlr("id=ATXid_1&status=Failed&failureReason=InsufficientCredit&retryCount=2"
                         "&phoneNumber=08123456001",
                         &d),
                     0);
    ck_assert_int_eq(d.status, AT_DLR_FAILED);
    ck_assert_str_eq(d.failure_reason, "InsufficientCredit");
    ck_assert_uint_eq(d.retry_count, 2);

    ck_assert_int_eq(dlr("id=ATXid_1&status=Sent", &d), 0);
    ck_assert_str_eq(d.phone, "");

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        char body[64];

        snprintf(body, sizeof(body), "id=x&status=%s", map[i].status);
        ck_assert_int_eq(dlr(body, &d), 0);
        ck_assert_msg(d.status == map[i].want, "%s", map[i].status);
        ck_assert_int_eq(at_dlr_is_final(d.status), map[i].final);
    }
    ck_assert_int_eq(at_dlr_is_final(AT_DLR_UNKNOWN), 0);
}
END_TEST

START_TEST(test_at_dlr_bad)
{
    static const struct {
        const char *body;
        const char *err;
    } cases[] = {
        {"status=Success", "missing field 'id'"},
        {"id=x", "missing field 'status'"},
        {"id=x+y&status=Success", "bad id"},
        {"id=x&status=Success&phoneNumber=abc", "bad phoneNumber"},
        {"id=x&status=Success&retryCount=-1", "bad retryCount"},
        {"id=x&status=Success&retryCount=%201", "bad retryCount"},
        {"id=x&status=Success&status=Failed", "duplicate field 'status'"},
        {"id=x&status=Success%00", "NUL byte in 'status'"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct at_dlr d;

        ck_assert_msg(dlr(cases[i].body, &d) == -1, "accepted %s", cases[i].body);
        ck_assert_msg(strcmp(err, cases[i].err) == 0, "%s: got \"%s\"", cases[i].body, err);
    }
}
END_TEST

static int
hub(const char *body, struct hubtel_req *r)
{
    strcpy(err, "untouched");
    return hubtel_parse(body, strlen(body), r, err, sizeof(err));
}

START_TEST(test_hubtel_parse)
{
    struct hubtel_req r;

    ck_assert_int_eq(
        hub("{\"Mobile\":\"628123456001\",\"SessionId\":\"3c3b8f2d27a34bb3a5a8e8a1b6ec5d8a\","
            "\"ServiceCode\":\"713\",\"Type\":\"Initiation\",\"Message\":\"*713#\","
            "\"Operator\":\"Telkomsel\",\"Sequence\":1,\"ClientState\":\"\"}",
            &r),
        0);
    ck_assert_str_eq(r.session_id, "3c3b8f2d27a34bb3a5a8e8a1b6ec5d8a");
    ck_assert_str_eq(r.mobile, "+628123456001");
    ck_assert_str_eq(r.service_code, "713");
    ck_assert_int_eq(r.type, HUBTEL_INITIATION);
    ck_assert_str_eq(r.message, "*713#");
    ck_assert_str_eq(r.operator_name, "Telkomsel");
    ck_assert_uint_eq(r.sequence, 1);
    ck_assert_str_eq(r.client_state, "");

    ck_assert_int_eq(
        hub(" {\"SessionId\":\"s1\",\"Mobile\":\"+62 812 3456 001\",\"Type\":\"RESPONSE\","
            "\"Message\":\"2\",\"Sequence\":\"3\",\"ClientState\":\"menu:usaha\","
            "\"Operator\":null,\"Extra\":{\"a\":[1,2]}}\n",
            &r),
        0);
    ck_assert_int_eq(r.type, HUBTEL_RESPONSE);
    ck_assert_uint_eq(r.sequence, 3);
    ck_assert_str_eq(r.client_state, "menu:usaha");
    ck_assert_str_eq(r.operator_name, "");
    ck_assert_str_eq(r.service_code, "");

    ck_assert_int_eq(hub("{\"SessionId\":\"s1\",\"Mobile\":\"08123456001\",\"Type\":\"release\","
                         "\"Message\":\"\"}",
                         &r),
                     0);
    ck_assert_int_eq(r.type, HUBTEL_RELEASE);
    ck_assert_uint_eq(r.sequence, 0);
    ck_assert_int_eq(hub("{\"SessionId\":\"s1\",\"Mobile\":\"08123456001\",\"Type\":\"Timeout\","
                         "\"Message\":\"caf\\u00e9\"}",
                         &r),
                     0);
    ck_assert_int_eq(r.type, HUBTEL_TIMEOUT);
    ck_assert_str_eq(r.message, "caf\xc3\xa9");
}
END_TEST

START_TEST(test_hubtel_bad)
{
#define BASE "\"SessionId\":\"s1\",\"Mobile\":\"08123456001\""
    static const struct {
        const char *body;
        const char *err;
    } cases[] = {
        {"", "empty body"},
        {"[]", "body is not a JSON object"},
        {"\"x\"", "bad JSON at line 1 column 3"}, /* jansson wants an object or array */
        {"42", "bad JSON at line 1 column 2"},
        {"{", "bad JSON at line 1 column 1"},
        {"{\"a\":1}x", "bad JSON at line 1 column 8"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"1\",\"Message\":\"2\"}",
         "duplicate key in JSON"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"1\",\"X\":{\"a\":1,\"a\":2}}",
         "duplicate key in JSON"},
        {"{\"Mobile\":\"08123456001\",\"Type\":\"response\",\"Message\":\"1\"}",
         "missing field 'SessionId'"},
        {"{\"SessionId\":\"s1\",\"Type\":\"response\",\"Message\":\"1\"}",
         "missing field 'Mobile'"},
        {"{" BASE ",\"Message\":\"1\"}", "missing field 'Type'"},
        {"{" BASE ",\"Type\":\"response\"}", "missing field 'Message'"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":null}", "field 'Message' must be a string"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":1}", "field 'Message' must be a string"},
        {"{\"SessionId\":7,"
         "\"Mobile\":\"08123456001\",\"Type\":\"response\",\"Message\":\"\"}",
         "field 'SessionId' must be a string"},
        {"{\"SessionId\":\"a "
         "b\",\"Mobile\":\"08123456001\",\"Type\":\"response\",\"Message\":\"\"}",
         "bad SessionId"},
        {"{\"SessionId\":\"\",\"Mobile\":\"08123456001\",\"Type\":\"response\",\"Message\":\"\"}",
         "bad SessionId"},
        {"{\"SessionId\":\"s\",\"Mobile\":6281234560,\"Type\":\"response\",\"Message\":\"\"}",
         "field 'Mobile' must be a string"},
        {"{\"SessionId\":\"s\",\"Mobile\":\"233244123456\",\"Type\":\"response\",\"Message\":\"\"}",
         "bad Mobile"},
        {"{" BASE ",\"Type\":\"continue\",\"Message\":\"\"}", "bad Type"},
        {"{" BASE ",\"Type\":[\"response\"],\"Message\":\"\"}", "field 'Type' must be a string"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"\",\"Sequence\":-1}", "bad Sequence"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"\",\"Sequence\":1.5}",
         "field 'Sequence' must be a number"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"\",\"Sequence\":\"1x\"}", "bad Sequence"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"\",\"Sequence\":true}",
         "field 'Sequence' must be a number"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"\",\"ClientState\":{}}",
         "field 'ClientState' must be a string"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"\",\"Operator\":false}",
         "field 'Operator' must be a string"},
        {"{" BASE ",\"Type\":\"response\",\"Message\":\"\",\"ServiceCode\":"
         "\"123456789012345678901234567890123\"}",
         "field 'ServiceCode' too long"},
    };
#undef BASE
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hubtel_req r;

        ck_assert_msg(hub(cases[i].body, &r) == -1, "accepted %s", cases[i].body);
        ck_assert_msg(strcmp(err, cases[i].err) == 0, "%s: got \"%s\"", cases[i].body, err);
    }
}
END_TEST

START_TEST(test_hubtel_bad_bytes)
{
    struct hubtel_req r;
    static const char nul[] =
        "{\"SessionId\":\"s1\",\"Mobile\":\"08123456001\",\"Type\":\"response\","
        "\"Message\":\"a\\u0000b\"}";
    static const char raw_nul[] = "{\"SessionId\":\"s1\",\"Mobile\":\"08123456001\",\"Type\":"
                                  "\"response\",\"Message\":\"a\0b\"}";
    static const char surrogate[] = "{\"SessionId\":\"s1\",\"Mobile\":\"08123456001\",\"Type\":"
                                    "\"response\",\"Message\":\"\\ud800\"}";
    static const char overlong[] = "{\"SessionId\":\"s1\",\"Mobile\":\"08123456001\",\"Type\":"
                                   "\"response\",\"Message\":\"\xc0\x80\"}";

    ck_assert_int_eq(hub(nul, &r), -1);
    ck_assert_int_eq(hubtel_parse(raw_nul, sizeof(raw_nul) - 1, &r, err, sizeof(err)), -1);
    ck_assert_int_eq(hub(surrogate, &r), -1);
    ck_assert_int_eq(hub(overlong, &r), -1);
    ck_assert_int_eq(hubtel_parse(NULL, 0, &r, NULL, 0), -1);
}
END_TEST

START_TEST(test_hubtel_long)
{
    struct hubtel_req r;
    char body[2048];
    size_t n = (size_t)snprintf(body, sizeof(body),
                                "{\"SessionId\":\"s1\",\"Mobile\":\"08123456001\",\"Type\":"
                                "\"response\",\"Message\":\"");

    memset(body + n, 'm', 1024);
    strcpy(body + n + 1024, "\"}");
    ck_assert_int_eq(hub(body, &r), 0);
    ck_assert_uint_eq(strlen(r.message), 1024);
    memset(body + n, 'm', 1025);
    strcpy(body + n + 1025, "\"}");
    ck_assert_int_eq(hub(body, &r), -1);
    ck_assert_str_eq(err, "field 'Message' too long");
}
END_TEST

START_TEST(test_hubtel_render)
{
    char *s;
    json_t *j;
    json_error_t je;

    s = hubtel_render(0, "Kabar KPM\n1 Lapor usaha", "menu:main");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "{\"Type\":\"response\",\"Message\":\"Kabar KPM\\n1 Lapor usaha\","
                        "\"ClientState\":\"menu:main\"}");
    free(s);

    s = hubtel_render(1, "Terima kasih \"Ibu\" \xc3\xa9", NULL);
    ck_assert_ptr_nonnull(s);
    j = json_loads(s, JSON_REJECT_DUPLICATES, &je);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "Type")), "release");
    ck_assert_str_eq(json_string_value(json_object_get(j, "Message")),
                     "Terima kasih \"Ibu\" \xc3\xa9");
    ck_assert_str_eq(json_string_value(json_object_get(j, "ClientState")), "");
    json_decref(j);
    free(s);

    s = hubtel_render(1, NULL, NULL);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "{\"Type\":\"release\",\"Message\":\"\",\"ClientState\":\"\"}");
    free(s);

    ck_assert_ptr_null(hubtel_render(0, "\xff", NULL));
    ck_assert_ptr_null(hubtel_render(0, "ok", "\xc0\x80"));
}
END_TEST

START_TEST(test_kannel_mo)
{
    static const char q[] = "from=%2B628123456001&to=1234&text=USAHA+BUKA&id=b0a8-1"
                            "&smsc=operator&time=1764442800";
    struct kannel_mo m;

    ck_assert_int_eq(kannel_parse_mo(q, sizeof(q) - 1, &m, err, sizeof(err)), 0);
    ck_assert_str_eq(m.id, "b0a8-1");
    ck_assert_str_eq(m.from, "+628123456001");
    ck_assert_str_eq(m.to, "1234");
    ck_assert_str_eq(m.text, "USAHA BUKA");
    ck_assert_uint_eq(m.text_len, 10);
    ck_assert_str_eq(m.smsc, "operator");
    ck_assert_str_eq(m.time, "1764442800");
}
END_TEST

START_TEST(test_kannel_mo_bad)
{
    static const struct {
        const char *q;
        const char *err;
    } cases[] = {
        {"from=08123456001&text=a", "missing field 'id'"},
        {"id=x&text=a", "missing field 'from'"},
        {"id=x&from=08123456001", "missing field 'text'"},
        {"id=a%2Cb&from=08123456001&text=a", "bad id"},
        {"id=x&from=KABAR&text=a", "bad from"},
        /* %P as smsbox writes it: digits, at most a leading '+', no separators */
        {"id=x&from=08123456001&text=a&to=12+34", "bad to"},
        {"id=x&from=08123456001&text=a&to=1%2B2", "bad to"},
        {"id=x&from=08123456001&text=a&to=123456789012345678901", "field 'to' too long"},
    };
    struct kannel_mo m;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strcpy(err, "untouched");
        ck_assert_msg(kannel_parse_mo(cases[i].q, strlen(cases[i].q), &m, err, sizeof(err)) == -1,
                      "accepted %s", cases[i].q);
        ck_assert_msg(strcmp(err, cases[i].err) == 0, "%s: got \"%s\"", cases[i].q, err);
    }
}
END_TEST

START_TEST(test_kannel_dlr)
{
    static const struct {
        const char *q;
        const char *err;
    } cases[] = {
        {"type=1", "missing field 'id'"},
        {"id=7", "missing field 'type'"},
        {"id=0&type=1", "bad id"},
        {"id=x&type=1", "bad id"},
        {"id=18446744073709551616&type=1", "bad id"},
        {"id=7&type=0", "bad type"},
        {"id=7&type=256", "bad type"},
        {"id=7&type=", "bad type"},
    };
    struct kannel_dlr d;
    size_t i;

    ck_assert_int_eq(kannel_parse_dlr("id=18446744073709551615&type=16", 31, &d, err, sizeof(err)),
                     0);
    ck_assert_uint_eq(d.id, UINT64_MAX);
    ck_assert_uint_eq(d.type, 16);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        strcpy(err, "untouched");
        ck_assert_msg(kannel_parse_dlr(cases[i].q, strlen(cases[i].q), &d, err, sizeof(err)) == -1,
                      "accepted %s", cases[i].q);
        ck_assert_msg(strcmp(err, cases[i].err) == 0, "%s: got \"%s\"", cases[i].q, err);
    }
}
END_TEST

static Suite *
wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *at = tcase_create("africastalking");
    TCase *hubtel = tcase_create("hubtel");
    TCase *kannel = tcase_create("kannel");

    tcase_add_test(at, test_at_hop_first);
    tcase_add_test(at, test_at_hop_path);
    tcase_add_test(at, test_at_hop_bad);
    tcase_add_test(at, test_at_hop_limits);
    tcase_add_test(at, test_at_render);
    tcase_add_test(at, test_at_end);
    tcase_add_test(at, test_at_end_bad);
    tcase_add_test(at, test_at_sms);
    tcase_add_test(at, test_at_sms_bad);
    tcase_add_test(at, test_at_sms_long_text);
    tcase_add_test(at, test_at_dlr);
    tcase_add_test(at, test_at_dlr_bad);
    tcase_add_test(hubtel, test_hubtel_parse);
    tcase_add_test(hubtel, test_hubtel_bad);
    tcase_add_test(hubtel, test_hubtel_bad_bytes);
    tcase_add_test(hubtel, test_hubtel_long);
    tcase_add_test(hubtel, test_hubtel_render);
    tcase_add_test(kannel, test_kannel_mo);
    tcase_add_test(kannel, test_kannel_mo_bad);
    tcase_add_test(kannel, test_kannel_dlr);
    suite_add_tcase(s, at);
    suite_add_tcase(s, hubtel);
    suite_add_tcase(s, kannel);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(wire_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
