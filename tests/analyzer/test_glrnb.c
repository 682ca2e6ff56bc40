/*  tests/analyzer/test_glrnb.c - the negative binomial GLR chart
 *
 *  Through the registry: R's statistic for salmonella.agona (within the
 *  1e-5 the reference allows for our own glm.nb fit, alarms equal), the
 *  streaming form against the batch form, and the errors: a missing count
 *  in the training periods, unsupported settings.
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

static const char *const s_glr[] = {"c.ARL", "5", "M", "-1", NULL};

START_TEST(test_glrnb_usage)
{
    ts_ref_load("salmonella.agona", &s_ref);
    size_t n = s_ref.n;
    sn_det_input_t in = {s_ref.count, s_ref.day, n, 52, true};
    sn_det_point_t out[208];
    sn_err_t err;
    sn_detector_t *det = ts_ref_detector("glrnb", s_glr);
    ck_assert_int_eq(sn_detector_eval(det, &in, 104, 311, out, &err), 0);
    ts_ref_compare("salmonella.agona", "glrnb", out, 104, 1e-5, 208);
    sn_detector_destroy(&det);
}
END_TEST

START_TEST(test_glrnb_stream_equals_batch)
{
    ts_ref_load("influMen-meningococcus", &s_ref);
    size_t n = s_ref.n;
    sn_det_input_t in = {s_ref.count, s_ref.day, n, 52, false};
    sn_det_point_t *batch = sn_calloc(n, sizeof *batch), pt;
    sn_err_t err;
    sn_detector_t *det = ts_ref_detector("glrnb", s_glr);
    ck_assert_int_eq(sn_detector_eval(det, &in, 104, n - 1, batch, &err), 0);
    sn_det_stream_t *st = sn_det_stream_new(det, 52, 104);
    for (size_t t = 0; t < n; t++) {
        ck_assert_int_eq(
            sn_det_stream_push(st, s_ref.day[t], s_ref.count[t], &pt), 0);
        if (t >= 104) {
            ck_assert_double_eq_tol(pt.upperbound, batch[t - 104].upperbound,
                                    1e-9);
            ck_assert_int_eq(pt.alarm, batch[t - 104].alarm);
        }
    }
    sn_det_stream_destroy(&st);
    sn_detector_destroy(&det);
    free(batch);
}
END_TEST

START_TEST(test_glrnb_errors)
{
    ts_ref_load("synthetic-agona-na", &s_ref);
    size_t n = s_ref.n;
    sn_det_input_t in = {s_ref.count, s_ref.day, n, 52, true};
    sn_det_point_t out[208];
    sn_err_t err;
    sn_detector_t *det = ts_ref_detector("glrnb", s_glr);
    ck_assert_int_eq(sn_detector_eval(det, &in, 104, 311, out, &err),
                     SN_EINVAL);
    ck_assert_msg(strstr(err.msg, "count 150 is missing"), "%s", err.msg);
    ck_assert_int_eq(sn_detector_set(det, "ret", "cases", &err), SN_OK);
    ck_assert_int_eq(sn_detector_eval(det, &in, 104, 311, out, &err),
                     SN_EUNSUPPORTED);
    ck_assert_int_eq(sn_detector_set(det, "dir", "up", &err), SN_EINVAL);
    sn_detector_destroy(&det);
}
END_TEST

static Suite *
glrnb_suite(void)
{
    Suite *s = suite_create("glrnb");
    TCase *tc = tcase_create("usage");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_glrnb_usage);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_glrnb_stream_equals_batch);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_glrnb_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(glrnb_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
