/*  tests/analyzer/test_glrnb.c - the negative binomial GLR chart
 *
 *  Through the registry: R's statistic for salmonella.agona (within the
 *  1e-5 the reference allows for our own glm.nb fit, alarms equal), the
 *  streaming form against the batch form, and the errors: a missing count
 *  in the training periods, unsupported settings.
 */
#include "support.h"

#include "sentinel/detector.h"
#include "sentinel/mem.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double s_cnt[400];
static sn_day_t s_day[400];

/* Read a reference series (t,date,count). @return its length. */
static size_t
s_load(const char *name)
{
    char *rel = sn_strdup_printf("series/%s.csv", name);
    char *path = ts_reference_path(rel);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[128], date[16], count[16];
    size_t n = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (n < 400 && fgets(line, sizeof line, f) &&
           sscanf(line, "%*d,%15[^,],%15s", date, count) == 2) {
        sn_day_parse(date, &s_day[n]);
        s_cnt[n++] = strcmp(count, "NA") == 0 ? NAN : atof(count);
    }
    fclose(f);
    free(rel);
    free(path);
    return n;
}

/* Compare points from..to with R's out/<name>__<case>.csv. */
static void
s_compare(const char *name, const char *cs, const sn_det_point_t *pt,
          size_t from)
{
    char *rel = sn_strdup_printf("out/%s__%s.csv", name, cs);
    char *path = ts_reference_path(rel);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char line[160], ub[32], al[8];
    int t, rows = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f) &&
           sscanf(line, "%d,%*[^,],%*[^,],%31[^,],%7s", &t, ub, al) == 3) {
        const sn_det_point_t *p = &pt[(size_t)t - 1 - from];
        if (strcmp(ub, "NA") == 0) {
            ck_assert_msg(isnan(p->upperbound), "t=%d: NA expected", t);
        } else {
            double r = atof(ub);
            ck_assert_msg(fabs(p->upperbound - r) <= 1e-5 * fabs(r) + 1e-9,
                          "t=%d: ours %.12g, R %s", t, p->upperbound, ub);
        }
        ck_assert_int_eq(p->alarm, atoi(al));
        rows++;
    }
    ck_assert_int_eq(rows, 208);
    fclose(f);
    free(rel);
    free(path);
}

static sn_detector_t *
s_detector(const char *method, const char *const *kv)
{
    sn_err_t err;
    sn_detector_t *det = sn_detector_new(method, &err);
    ck_assert_ptr_nonnull(det);
    for (size_t i = 0; kv[i] != NULL; i += 2) {
        ck_assert_msg(sn_detector_set(det, kv[i], kv[i + 1], &err) == SN_OK,
                      "%s", err.msg);
    }
    return det;
}

static const char *const s_glr[] = {"c.ARL", "5", "M", "-1", NULL};

START_TEST(test_glrnb_usage)
{
    size_t n = s_load("salmonella.agona");
    sn_det_input_t in = {s_cnt, s_day, n, 52, true};
    sn_det_point_t out[208];
    sn_err_t err;
    sn_detector_t *det = s_detector("glrnb", s_glr);
    ck_assert_int_eq(sn_detector_eval(det, &in, 104, 311, out, &err), 0);
    s_compare("salmonella.agona", "glrnb", out, 104);
    sn_detector_destroy(&det);
}
END_TEST

START_TEST(test_glrnb_stream_equals_batch)
{
    size_t n = s_load("influMen-meningococcus");
    sn_det_input_t in = {s_cnt, s_day, n, 52, false};
    sn_det_point_t *batch = sn_calloc(n, sizeof *batch), pt;
    sn_err_t err;
    sn_detector_t *det = s_detector("glrnb", s_glr);
    ck_assert_int_eq(sn_detector_eval(det, &in, 104, n - 1, batch, &err), 0);
    sn_det_stream_t *st = sn_det_stream_new(det, 52, 104);
    for (size_t t = 0; t < n; t++) {
        ck_assert_int_eq(sn_det_stream_push(st, s_day[t], s_cnt[t], &pt), 0);
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
    size_t n = s_load("synthetic-agona-na");
    sn_det_input_t in = {s_cnt, s_day, n, 52, true};
    sn_det_point_t out[208];
    sn_err_t err;
    sn_detector_t *det = s_detector("glrnb", s_glr);
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
