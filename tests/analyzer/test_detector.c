/*  tests/analyzer/test_detector.c - the detector registry and its streams
 *
 *  The registry lists every method, creates detectors with their defaults,
 *  parses parameters by the method's table and rejects bad ones with exact
 *  messages; evaluation checks the range; and for every method the
 *  streaming form, fed one value at a time, gives the numbers of the batch
 *  form on the same series.
 */
#include "support.h"

#include "dmath.h"
#include "sentinel/detector.h"
#include "sentinel/mem.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A deterministic series with a yearly wave, weekday effect and noise:
 * weekly (freq 52) or daily (365), starting on a Monday. */
static sn_det_input_t
s_series(size_t n, int freq, double **cnt, sn_day_t **day)
{
    *cnt = sn_calloc(n, sizeof **cnt);
    *day = sn_calloc(n, sizeof **day);
    uint64_t x = 88172645463325252ULL;
    int step = freq == 52 ? 7 : 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double mean = 6 + 4 * sin(2 * M_PI * (double)i / freq) +
                      (freq == 365 ? 2.0 * (i % 7 < 5) : 0);
        double u = (double)(x >> 11) / 9007199254740992.0;
        (*cnt)[i] = det_qpois(u, mean) + (i % 97 == 50 ? 25 : 0);
        (*day)[i] = sn_day_from_ymd(2001, 1, 1) + (sn_day_t)(i * step);
    }
    sn_det_input_t in = {*cnt, *day, n, freq, true};
    return in;
}

START_TEST(test_detector_usage)
{
    sn_err_t err;
    sn_detector_t *det = sn_detector_new("ears-c2", &err);
    ck_assert_ptr_nonnull(det);
    ck_assert_int_eq(sn_detector_set(det, "baseline", "7", &err), SN_OK);
    ck_assert_int_eq(sn_detector_set(det, "alpha", "0.001", &err), SN_OK);
    double c[12] = {1, 0, 2, 1, 3, 1, 0, 2, 1, 1, 9, 1};
    sn_det_input_t in = {c, NULL, 12, 52, false};
    ck_assert_int_eq(sn_detector_first(det, &in), 9);
    sn_det_point_t out[3];
    ck_assert_int_eq(sn_detector_eval(det, &in, 9, 11, out, &err), SN_OK);
    /* t = 10: baseline c[0..6], mean 8/7, sample SD sqrt(48/42 * 7/6)… */
    double mean = 8.0 / 7, ss = 0;
    for (int i = 0; i < 7; i++) {
        ss += (c[i] - mean) * (c[i] - mean);
    }
    double u = mean + det_qnorm(0.999) * sqrt(ss / 6);
    ck_assert_double_eq_tol(out[0].upperbound, u, 1e-12);
    ck_assert_int_eq(out[0].alarm, 0);
    ck_assert_int_eq(out[1].alarm, 1); /* 9 cases after a quiet baseline */
    ck_assert_str_eq(sn_detector_method(det), "ears-c2");
    sn_detector_destroy(&det);
    ck_assert_ptr_null(det);
    sn_detector_destroy(&det);
}
END_TEST

START_TEST(test_detector_every_method_listed_and_created)
{
    const char *const *names = sn_detector_methods();
    int n = 0;
    for (; names[n] != NULL; n++) {
        sn_detector_t *det = sn_detector_new(names[n], NULL);
        ck_assert_msg(det != NULL, "method %s is listed but not created",
                      names[n]);
        ck_assert_str_eq(sn_detector_method(det), names[n]);
        sn_detector_destroy(&det);
    }
    ck_assert_int_ge(n, 8);
}
END_TEST

START_TEST(test_detector_param_kinds)
{
    sn_detector_t *det = sn_detector_new("cusum", NULL);
    ck_assert(isnan(sn_detector_get(det, "m")));
    ck_assert_int_eq(sn_detector_set(det, "m", "2.5", NULL), SN_OK);
    ck_assert_double_eq(sn_detector_get(det, "m"), 2.5);
    ck_assert_int_eq(sn_detector_set(det, "m", "NULL", NULL), SN_OK);
    ck_assert(isnan(sn_detector_get(det, "m")));
    ck_assert_int_eq(sn_detector_set(det, "trans", "rossi", NULL), SN_OK);
    ck_assert_double_eq(sn_detector_get(det, "trans"), 1);
    ck_assert_int_eq(sn_detector_set(det, "k", "2/4", NULL), SN_OK);
    ck_assert_double_eq(sn_detector_get(det, "k"), 0.5);
    ck_assert(isnan(sn_detector_get(det, "nosuch")));
    sn_detector_destroy(&det);
    det = sn_detector_new("bayes", NULL);
    ck_assert_int_eq(sn_detector_set(det, "actY", "FALSE", NULL), SN_OK);
    ck_assert_double_eq(sn_detector_get(det, "actY"), 0);
    ck_assert_int_eq(sn_detector_set(det, "actY", "true", NULL), SN_OK);
    ck_assert_double_eq(sn_detector_get(det, "actY"), 1);
    sn_detector_destroy(&det);
}
END_TEST

/* Feed the series one value at a time and compare with the batch form of
 * `method` with the NAME=VALUE settings `params` (NULL-terminated). */
static void
s_stream_agrees_with(const char *method, const char *const *params,
                     sn_det_input_t in)
{
    sn_detector_t *det = sn_detector_new(method, NULL);
    for (size_t k = 0; params && params[k]; k++) {
        char name[64];
        const char *eq = strchr(params[k], '=');
        snprintf(name, sizeof name, "%.*s", (int)(eq - params[k]), params[k]);
        ck_assert_int_eq(sn_detector_set(det, name, eq + 1, NULL), SN_OK);
    }
    int64_t first = sn_detector_first(det, &in);
    ck_assert_msg(first >= 0, "%s: series too short", method);
    size_t from = (size_t)first + 3, m = in.n - from;
    sn_det_point_t *batch = sn_calloc(m, sizeof *batch), pt;
    sn_err_t err;
    ck_assert_msg(sn_detector_eval(det, &in, from, in.n - 1, batch, &err) ==
                      SN_OK,
                  "%s: %s", method, err.msg);
    sn_det_stream_t *st = sn_det_stream_new(det, in.frequency, from);
    for (size_t t = 0; t < in.n; t++) {
        ck_assert_int_eq(sn_det_stream_push(st, in.day[t], in.count[t], &pt),
                         SN_OK);
        if (t < from) {
            continue;
        }
        const sn_det_point_t *b = &batch[t - from];
        double u = pt.upperbound, v = b->upperbound;
        ck_assert_msg((isnan(u) && isnan(v)) ||
                          fabs(u - v) <= 1e-9 * fabs(v) + 1e-12,
                      "%s t=%zu: stream %.17g, batch %.17g", method, t, u, v);
        ck_assert_msg(pt.alarm == b->alarm, "%s t=%zu: alarm %d vs %d", method,
                      t, pt.alarm, b->alarm);
        ck_assert_msg(
            (isnan(pt.score) && isnan(b->score)) ||
                fabs(pt.score - b->score) <= 1e-9 * fabs(b->score) + 1e-12,
            "%s t=%zu: score %.17g vs %.17g", method, t, pt.score, b->score);
    }
    ck_assert_uint_eq(sn_det_stream_size(st), in.n);
    sn_det_stream_destroy(&st);
    ck_assert_ptr_null(st);
    free(batch);
    sn_detector_destroy(&det);
}

static void
s_stream_agrees(const char *method, sn_det_input_t in)
{
    s_stream_agrees_with(method, NULL, in);
}

/* farringtonFlexible with the Noufaily settings keeps a workspace and the
 * counts' transforms from one step to the next: the same numbers as the
 * batch form over a series longer than its ring, with missing counts. */
START_TEST(test_detector_stream_noufaily_with_missing)
{
    static const char *const noufaily[] = {"noPeriods=10",
                                           "b=5",
                                           "w=3",
                                           "weightsThreshold=2.58",
                                           "pastWeeksNotIncluded=26",
                                           "thresholdMethod=nbPlugin",
                                           "alpha=0.01",
                                           NULL};
    double *cnt;
    sn_day_t *day;
    sn_det_input_t in = s_series(900, 52, &cnt, &day);
    cnt[400] = cnt[401] = cnt[650] = NAN;
    s_stream_agrees_with("farrington-flexible", noufaily, in);
    free(cnt);
    free(day);
}
END_TEST

START_TEST(test_detector_stream_matches_batch)
{
    const char *method = sn_detector_methods()[_i];
    bool daily = strcmp(method, "mpm") == 0 || strcmp(method, "ewma") == 0;
    double *cnt;
    sn_day_t *day;
    sn_det_input_t in =
        daily ? s_series(1600, 365, &cnt, &day) : s_series(600, 52, &cnt, &day);
    s_stream_agrees(method, in);
    free(cnt);
    free(day);
}
END_TEST

START_TEST(test_detector_stream_rejects_gap)
{
    sn_detector_t *det = sn_detector_new("ears-c1", NULL);
    sn_det_stream_t *st = sn_det_stream_new(det, 52, 0);
    sn_det_point_t pt;
    ck_assert_int_eq(sn_det_stream_push(st, 7, 1, &pt), SN_OK);
    ck_assert_int_eq(pt.alarm, SN_DET_NA);
    ck_assert_int_eq(sn_det_stream_push(st, 15, 1, &pt), SN_EINVAL);
    ck_assert_int_eq(sn_det_stream_push(st, 14, 1, &pt), SN_OK);
    ck_assert_uint_eq(sn_det_stream_size(st), 2);
    sn_det_stream_destroy(&st);
    sn_detector_destroy(&det);
}
END_TEST

START_TEST(test_detector_na_and_degenerate)
{
    /* A flat baseline: SD 0, so C2's bound is the mean; C3 gets 0/0. */
    double c[14] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, NAN, 2};
    sn_det_input_t in = {c, NULL, 14, 52, false};
    sn_det_point_t out[5];
    sn_detector_t *det = sn_detector_new("ears-c2", NULL);
    ck_assert_int_eq(sn_detector_eval(det, &in, 9, 13, out, NULL), SN_OK);
    ck_assert_double_eq(out[0].upperbound, 2);
    ck_assert_int_eq(out[2].alarm, 1);
    ck_assert_int_eq(out[3].alarm, SN_DET_NA);
    sn_detector_destroy(&det);
    det = sn_detector_new("ears-c3", NULL);
    ck_assert_int_eq(sn_detector_eval(det, &in, 11, 13, out, NULL), SN_OK);
    ck_assert(isnan(out[0].upperbound)); /* max(0, NaN) is NaN in R */
    ck_assert_int_eq(out[0].alarm, SN_DET_NA);
    sn_detector_destroy(&det);
}
END_TEST

START_TEST(test_detector_unknown_method)
{
    sn_err_t err;
    ck_assert_ptr_null(sn_detector_new("ears-c4", &err));
    ck_assert_int_eq(err.code, SN_ENOTFOUND);
    ck_assert_str_eq(err.msg, "unknown method 'ears-c4'");
}
END_TEST

static void
s_expect(const char *method, const char *name, const char *value, int code,
         const char *msg)
{
    sn_err_t err;
    sn_detector_t *det = sn_detector_new(method, NULL);
    ck_assert_int_eq(sn_detector_set(det, name, value, &err), code);
    ck_assert_str_eq(err.msg, msg);
    sn_detector_destroy(&det);
}

START_TEST(test_detector_bad_params)
{
    s_expect("ears-c1", "nosuch", "1", SN_ENOTFOUND,
             "method 'ears-c1' has no parameter 'nosuch'");
    s_expect("ears-c1", "alpha", "abc", SN_EINVAL,
             "parameter 'alpha': expected a number, got 'abc'");
    s_expect("ears-c1", "alpha", "", SN_EINVAL,
             "parameter 'alpha': expected a number, got ''");
    s_expect("ears-c1", "alpha", "1.5", SN_ERANGE,
             "parameter 'alpha': 1.5 is out of range [0, 1]");
    s_expect("ears-c1", "baseline", "2.5", SN_EINVAL,
             "parameter 'baseline': expected an integer, got '2.5'");
    s_expect("ears-c1", "baseline", "2", SN_ERANGE,
             "parameter 'baseline': 2 is out of range [3, 100000]");
    s_expect("bayes", "actY", "maybe", SN_EINVAL,
             "parameter 'actY': expected TRUE or FALSE, got 'maybe'");
    s_expect("cusum", "trans", "anscombe", SN_EINVAL,
             "parameter 'trans': expected one of standard, rossi, got "
             "'anscombe'");
    s_expect("cusum", "k", "1/0", SN_EINVAL,
             "parameter 'k': expected a number, got '1/0'");
    s_expect("ewma", "B", "NULL", SN_EINVAL,
             "parameter 'B': expected a number, got 'NULL'");
}
END_TEST

START_TEST(test_detector_bad_range)
{
    double c[20] = {0};
    sn_det_input_t in = {c, NULL, 20, 52, false};
    sn_det_point_t out[20];
    sn_err_t err;
    sn_detector_t *det = sn_detector_new("ears-c2", NULL);
    ck_assert_int_eq(sn_detector_eval(det, &in, 5, 19, out, &err), SN_ENODATA);
    ck_assert_str_eq(err.msg, "time point 6 has too little history: method "
                              "'ears-c2' with these parameters starts at 10");
    ck_assert_int_eq(sn_detector_eval(det, &in, 10, 20, out, &err), SN_ERANGE);
    ck_assert_str_eq(err.msg, "range 11:21 goes past the end of the series "
                              "(20 points)");
    ck_assert_int_eq(sn_detector_eval(det, &in, 12, 11, out, &err), SN_ERANGE);
    ck_assert_str_eq(err.msg, "range 13:12 is empty");
    in.n = 5;
    ck_assert_int_eq(sn_detector_eval(det, &in, 0, 4, out, &err), SN_ENODATA);
    ck_assert_str_eq(err.msg, "the series (5 points) is too short for method "
                              "'ears-c2' with these parameters");
    sn_detector_destroy(&det);
}
END_TEST

static Suite *
detector_suite(void)
{
    Suite *s = suite_create("detector");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_detector_usage);
    tcase_add_test(usage, test_detector_every_method_listed_and_created);
    tcase_add_test(usage, test_detector_param_kinds);
    int nm = 0;
    while (sn_detector_methods()[nm] != NULL) {
        nm++;
    }
    tcase_add_loop_test(usage, test_detector_stream_matches_batch, 0, nm);
    tcase_set_timeout(usage, 120);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_detector_stream_rejects_gap);
    tcase_add_test(edges, test_detector_stream_noufaily_with_missing);
    tcase_add_test(edges, test_detector_na_and_degenerate);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_detector_unknown_method);
    tcase_add_test(errors, test_detector_bad_params);
    tcase_add_test(errors, test_detector_bad_range);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(detector_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
