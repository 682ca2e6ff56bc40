/*  tests/common/test_error.c - error codes, messages and the error record */
#include "sentinel/error.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_error_usage)
{
    sn_err_t err;
    sn_err_clear(&err);
    int rc = sn_err_set(&err, SN_EPARSE, "line %d: bad", 3);
    ck_assert_int_eq(rc, SN_EPARSE);
    ck_assert_str_eq(err.msg, "line 3: bad");
    sn_err_prefix(&err, "%s", "feed.csv");
    ck_assert_str_eq(sn_err_text(&err), "feed.csv: line 3: bad");
}
END_TEST

START_TEST(test_error_names_and_messages)
{
    ck_assert_str_eq(sn_strerror(SN_OK), "success");
    ck_assert_str_eq(sn_strerror(SN_EFULL), "full");
    ck_assert_str_eq(sn_err_name(SN_ECONFIG), "SN_ECONFIG");
    ck_assert_str_eq(sn_strerror(12345), "unknown error");
    ck_assert_int_eq(sn_err_set(NULL, SN_EIO, "x"), SN_EIO);
    sn_err_t err = {SN_EIO, ""};
    ck_assert_str_eq(sn_err_text(&err), "input/output error");
}
END_TEST

static Suite *
error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_error_usage);
    suite_add_tcase(s, usage);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_error_names_and_messages);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(error_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
