#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

#define CT "multipart/form-data; boundary=XyZ"

static int
parse(const char *ct, const char *body, struct multipart_form *f, char *err)
{
    return multipart_parse(ct, body, strlen(body), f, err, 128);
}

START_TEST(test_fields_and_file_point_into_the_body)
{
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
        "abc\r\n"
        "--XyZ\r\n"
        "content-disposition: form-data; name=kind\r\n\r\n"
        "kpm\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"k.csv\"\r\n"
        "Content-Type: text/csv\r\n\r\n"
        "no_pkh;nama\r\n1;A\r\n"
        "--XyZ--\r\n";
    struct multipart_form f;
    const struct multipart_part *p;
    char err[128], v[8];

    ck_assert_int_eq(parse(CT, body, &f, err), 0);
    ck_assert_uint_eq(f.n, 3);
    ck_assert_int_eq(multipart_field(&f, "csrf", v, sizeof v), 0);
    ck_assert_str_eq(v, "abc");
    ck_assert_int_eq(multipart_field(&f, "kind", v, sizeof v), 0);
    ck_assert_str_eq(v, "kpm");
    ck_assert_ptr_nonnull(p = multipart_find(&f, "file"));
    ck_assert_uint_eq(p->filename_len, 5);
    ck_assert_int_eq(memcmp(p->filename, "k.csv", 5), 0);
    /* the CRLF before a delimiter is the delimiter's */
    ck_assert_uint_eq(p->len, strlen("no_pkh;nama\r\n1;A"));
    ck_assert(p->data > body && p->data < body + sizeof body);
    ck_assert_int_eq(memcmp(p->data, "no_pkh;nama\r\n1;A", p->len), 0);
    /* a file is no field, and a field longer than the room is refused */
    ck_assert_int_eq(multipart_field(&f, "file", v, sizeof v), -1);
    ck_assert_int_eq(multipart_field(&f, "csrf", v, 3), -1);
    ck_assert_int_eq(multipart_field(&f, "none", v, sizeof v), -1);
}
END_TEST

START_TEST(test_quoted_boundary_preamble_and_empty_part)
{
    static const char body[] = "ignored preamble\r\n--a b\r\n"
                               "Content-Disposition: form-data; name=\"dry\"\r\n\r\n"
                               "\r\n--a b--";
    struct multipart_form f;
    char err[128];

    ck_assert_int_eq(parse("Multipart/Form-Data ; boundary=\"a b\"; charset=x", body, &f, err), 0);
    ck_assert_uint_eq(f.n, 1);
    ck_assert_uint_eq(f.parts[0].len, 0);
}
END_TEST

START_TEST(test_malformed_is_refused_with_a_reason)
{
    struct multipart_form f;
    char err[128];

    ck_assert_int_eq(parse("application/x-www-form-urlencoded", "--XyZ--", &f, err), -1);
    ck_assert_str_eq(err, "expected multipart/form-data with a boundary of 1-70 characters");
    ck_assert_int_eq(parse("multipart/form-data", "--XyZ--", &f, err), -1);
    ck_assert_int_eq(parse("multipart/form-data; boundary=", "--XyZ--", &f, err), -1);
    ck_assert_int_eq(parse(CT, "hello", &f, err), -1);
    ck_assert_str_eq(err, "the body has no boundary line");
    ck_assert_int_eq(parse(CT, "--XyZ--\r\n", &f, err), -1);
    ck_assert_str_eq(err, "the form has no parts");
    ck_assert_int_eq(
        parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue", &f, err), -1);
    ck_assert_str_eq(err, "the form does not end with its closing boundary");
    ck_assert_int_eq(parse(CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nv\r\n--XyZ--", &f, err),
                     -1);
    ck_assert_str_eq(err, "a part without a name");
    ck_assert_int_eq(
        parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--XyZ--", &f, err),
        -1);
    ck_assert_str_eq(err, "a malformed Content-Disposition");
    ck_assert_int_eq(
        parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\n\nv\r\n--XyZ--", &f, err), -1);
    ck_assert_int_eq(
        parse(CT, "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--XyZ--", &f, err),
        -1);
    ck_assert_str_eq(err, "a part that is not form-data");
    ck_assert_int_eq(
        parse(CT, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--XyZjunk", &f, err),
        -1);
    ck_assert_str_eq(err, "a malformed boundary line");
}
END_TEST

START_TEST(test_part_count_is_bounded)
{
    static const char one[] = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n";
    char body[2048] = "", err[128];
    struct multipart_form f;
    size_t i;

    for (i = 0; i <= MULTIPART_PARTS_MAX; i++)
        strcat(body, one);
    strcat(body, "--XyZ--");
    ck_assert_int_eq(parse(CT, body, &f, err), -1);
    ck_assert_str_eq(err, "too many parts");
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("multipart");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_fields_and_file_point_into_the_body);
    tcase_add_test(tc, test_quoted_boundary_preamble_and_empty_part);
    tcase_add_test(tc, test_malformed_is_refused_with_a_reason);
    tcase_add_test(tc, test_part_count_is_bounded);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
