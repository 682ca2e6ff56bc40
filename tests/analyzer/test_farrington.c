/*  tests/analyzer/test_farrington.c - farrington and farrington-flexible
 *
 *  Through the registry: the reference case of salmonella.agona for each
 *  method (R's bounds within 1e-6, alarms equal), the streaming form
 *  against the batch form, and the parameter errors. The full reference
 *  set runs in tests/analyzer/test_reference.c.
 */
#include "refdata.h"
#include "support.h"

#include "sentinel/detector.h"
#include "sentinel/mem.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ts_ref_series_t s_ref;

static const char *const s_orig[] = {"b",    "3",       "w",   "3", "alpha",
                                     "0.01", "limit54", "5,4", NULL};
static const char *const s_nouf[] = {"b",
                                     "3",
                                     "noPeriods",
                                     "10",
                                     "pastWeeksNotIncluded",
                                     "26",
                                     "thresholdMethod",
                                     "nbPlugin",
                                     "alpha",
                                     "0.01",
                                     "weightsThreshold",
                                     "2.58",
                                     NULL};

START_TEST(test_farrington_usage)
{
    ts_ref_load("salmonella.agona", &s_ref);
    size_t n = s_ref.n;
    sn_det_input_t in = {s_ref.count, s_ref.day, n, 52, true};
    sn_det_point_t out[104];
    sn_err_t err;
    sn_detector_t *det = ts_ref_detector("farrington", s_orig);
    ck_assert_int_eq(sn_detector_eval(det, &in, 208, 311, out, &err), 0);
    ts_ref_compare("salmonella.agona", "farrington", out, 208, 1e-6, 104);
    sn_detector_destroy(&det);
    det = ts_ref_detector("farrington-flexible", s_nouf);
    ck_assert_int_eq(sn_detector_eval(det, &in, 208, 311, out, &err), 0);
    ts_ref_compare("salmonella.agona", "farrington-flexible", out, 208, 1e-6,
                   104);
    sn_detector_destroy(&det);
}
END_TEST

/* The stream, fed the whole series, gives the batch numbers exactly. */
static void
s_stream_agrees(const char *method, const char *const *kv)
{
    ts_ref_load("ha-lich", &s_ref);
    size_t n = s_ref.n;
    sn_det_input_t in = {s_ref.count, s_ref.day, n, 52, false};
    sn_det_point_t batch[40], pt;
    sn_err_t err;
    sn_detector_t *det = ts_ref_detector(method, kv);
    ck_assert_int_eq(sn_detector_eval(det, &in, n - 40, n - 1, batch, &err), 0);
    sn_det_stream_t *st = sn_det_stream_new(det, 52, 0);
    for (size_t t = 0; t < n; t++) {
        ck_assert_int_eq(
            sn_det_stream_push(st, s_ref.day[t], s_ref.count[t], &pt), 0);
        if (t >= n - 40) {
            const sn_det_point_t *b = &batch[t - (n - 40)];
            ck_assert(pt.upperbound == b->upperbound ||
                      (isnan(pt.upperbound) && isnan(b->upperbound)));
            ck_assert_int_eq(pt.alarm, b->alarm);
        }
    }
    sn_det_stream_destroy(&st);
    sn_detector_destroy(&det);
}

START_TEST(test_farrington_stream_equals_batch)
{
    s_stream_agrees("farrington", s_orig);
    s_stream_agrees("farrington-flexible", s_nouf);
}
END_TEST

START_TEST(test_farrington_errors)
{
    sn_err_t err;
    sn_detector_t *det = sn_detector_new("farrington-flexible", &err);
    ck_assert_int_eq(sn_detector_set(det, "populationOffset", "TRUE", &err),
                     SN_OK);
    ts_ref_load("salmonella.agona", &s_ref);
    size_t n = s_ref.n;
    sn_det_input_t in = {s_ref.count, s_ref.day, n, 52, true};
    sn_det_point_t out[1];
    ck_assert_int_eq(sn_detector_eval(det, &in, 300, 300, out, &err),
                     SN_EUNSUPPORTED);
    ck_assert_str_eq(err.msg, "parameter 'populationOffset': TRUE needs a "
                              "population column, which the input lacks");
    ck_assert_int_eq(sn_detector_set(det, "noPeriods", "99", &err), SN_ERANGE);
    ck_assert_int_eq(sn_detector_set(det, "thresholdMethod", "x", &err),
                     SN_EINVAL);
    sn_detector_destroy(&det);
    det = sn_detector_new("farrington", &err);
    ck_assert_int_eq(sn_detector_set(det, "limit54", "5,0", &err), SN_OK);
    ck_assert_int_eq(sn_detector_eval(det, &in, 300, 300, out, &err),
                     SN_ERANGE);
    ck_assert_str_eq(err.msg, "parameter 'limit54': the period (second "
                              "number) must be positive");
    sn_detector_destroy(&det);
}
END_TEST

static Suite *
farrington_suite(void)
{
    Suite *s = suite_create("farrington");
    TCase *tc = tcase_create("usage");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_farrington_usage);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_farrington_stream_equals_batch);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_farrington_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(farrington_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
