/*  tests/analyzer/test_window.c - rolling window of daily counts */
#include "window.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>

START_TEST(test_window_usage)
{
    ana_window_t *w = ana_window_new(7, 100);
    ck_assert_int_eq(ana_window_add(w, 100, 3), SN_OK);
    ck_assert_int_eq(ana_window_add(w, 98, 2), SN_OK);
    ck_assert_int_eq(ana_window_add(w, 100, 1), SN_OK);
    const uint32_t *c = ana_window_counts(w);
    ck_assert_uint_eq(c[6], 4);
    ck_assert_uint_eq(c[4], 2);
    ck_assert_int_eq(ana_window_oldest(w), 94);
    uint64_t sum = 0;
    ck_assert_int_eq(ana_window_sum(w, 100, 3, &sum), SN_OK);
    ck_assert_uint_eq(sum, 6);
    ana_window_destroy(&w);
    ck_assert_ptr_null(w);
    ana_window_destroy(&w);
}
END_TEST

START_TEST(test_window_advance_drops_oldest)
{
    ana_window_t *w = ana_window_new(3, 10);
    ana_window_add(w, 8, 5);
    ana_window_add(w, 10, 7);
    ana_window_advance(w, 11);
    uint32_t v = 99;
    ck_assert_int_eq(ana_window_get(w, 8, &v), SN_ETOOOLD);
    ck_assert_uint_eq(v, 99);
    ck_assert_int_eq(ana_window_get(w, 10, &v), SN_OK);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(ana_window_get(w, 11, &v), SN_OK);
    ck_assert_uint_eq(v, 0);
    ana_window_advance(w, 50); /* a jump past the span empties it */
    ck_assert_int_eq(ana_window_get(w, 50, &v), SN_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(ana_window_today(w), 50);
    ana_window_destroy(&w);
}
END_TEST

START_TEST(test_window_aggregate_weekly)
{
    ana_window_t *w = ana_window_new(28, 27);
    for (sn_day_t d = 0; d <= 27; d++) {
        ana_window_add(w, d, (uint32_t)(d / 7 + 1));
    }
    double out[8];
    size_t n = ana_window_aggregate(w, 27, 7, 7, out, 8);
    ck_assert_uint_eq(n, 4);
    ck_assert_double_eq(out[0], 7);
    ck_assert_double_eq(out[3], 28);
    n = ana_window_aggregate(w, 27, 7, 1, out, 2); /* moving 7-day sum */
    ck_assert_uint_eq(n, 2);
    ck_assert_double_eq(out[1], 28);
    ck_assert_double_eq(out[0], 3 + 6 * 4);
    ck_assert_uint_eq(ana_window_aggregate(w, 27, 40, 7, out, 8), 0);
    ana_window_destroy(&w);
}
END_TEST

START_TEST(test_window_add_rejects_old_day)
{
    ana_window_t *w = ana_window_new(5, 20);
    ck_assert_int_eq(ana_window_add(w, 15, 1), SN_ETOOOLD);
    ck_assert_int_eq(ana_window_add(w, 21, 1), SN_EFUTURE);
    ck_assert_int_eq(ana_window_add(w, 20, UINT32_MAX), SN_OK);
    ck_assert_int_eq(ana_window_add(w, 20, 1), SN_EOVERFLOW);
    ck_assert_int_eq(ana_window_sub(w, 19, 1), SN_ERANGE);
    ck_assert_int_eq(ana_window_sub(w, 20, 5), SN_OK);
    uint32_t v;
    ana_window_get(w, 20, &v);
    ck_assert_uint_eq(v, UINT32_MAX - 5);
    uint64_t s;
    ck_assert_int_eq(ana_window_sum(w, 20, 9, &s), SN_ETOOOLD);
    ck_assert_int_eq(ana_window_sum(w, 20, 0, &s), SN_EINVAL);
    ana_window_destroy(&w);
}
END_TEST

static Suite *
window_suite(void)
{
    Suite *s = suite_create("window");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_window_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_window_advance_drops_oldest);
    tcase_add_test(edges, test_window_aggregate_weekly);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_window_add_rejects_old_day);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(window_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
