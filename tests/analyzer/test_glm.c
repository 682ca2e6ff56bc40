/*  tests/analyzer/test_glm.c - R's IRLS for the log-linear GLM
 *
 *  Fits whose answers are known in closed form: the intercept-only Poisson
 *  fit (the mean, its hat values and variance), a two-group fit (the group
 *  means), an aliased column dropped by the pivoted QR, the all-zero window
 *  that walks the intercept down until the deviance test stops it, prior
 *  weights, the negative binomial family, and the refusals.
 */
#include "glm.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>

START_TEST(test_glm_usage)
{
    double y[6] = {2, 3, 6, 7, 8, 10}, x[6] = {1, 1, 1, 1, 1, 1}, h[6];
    det_glm_t *g = det_glm_new(6);
    ck_assert_int_eq(det_glm_fit(g, x, 6, 6, 1, y, NULL), 0);
    ck_assert(g->converged);
    ck_assert_int_eq(g->rank, 1);
    ck_assert_int_eq(g->df_residual, 5);
    double mean = 36.0 / 6;
    ck_assert_double_eq_tol(g->coef[0], log(mean), 1e-9);
    /* Pearson: sum((y - mean)^2 / mean) / 5, up to the last step's
     * weights, which R takes at the mean before the final update. */
    double ss = 0;
    for (int i = 0; i < 6; i++) {
        ss += (y[i] - mean) * (y[i] - mean) / mean;
    }
    ck_assert_double_eq_tol(det_glm_dispersion(g, NULL), ss / 5, 1e-3);
    det_glm_hat(g, h);
    ck_assert_double_eq_tol(h[3], 1.0 / 6, 1e-12);
    ck_assert_double_eq_tol(det_glm_var(g, 0), 1.0 / 36, 1e-5);
    double x0 = 1, eta, xvx;
    ck_assert_int_eq(det_glm_predict(g, &x0, &eta, &xvx), 0);
    ck_assert_double_eq_tol(exp(eta), mean, 1e-8);
    det_glm_destroy(&g);
    ck_assert_ptr_null(g);
    det_glm_destroy(&g);
}
END_TEST

START_TEST(test_glm_two_groups_and_aliasing)
{
    /* Columns: intercept, group B, and a copy of group B (aliased). */
    double y[6] = {1, 2, 3, 10, 12, 14};
    double x[18] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1};
    det_glm_t *g = det_glm_new(8);
    ck_assert_int_eq(det_glm_fit(g, x, 6, 6, 3, y, NULL), 0);
    ck_assert_int_eq(g->rank, 2);
    ck_assert(isnan(g->coef[2]));
    ck_assert_int_eq(g->pivot[2], 2);
    ck_assert_double_eq_tol(exp(g->coef[0]), 2.0, 1e-8);
    ck_assert_double_eq_tol(exp(g->coef[0] + g->coef[1]), 12.0, 1e-8);
    ck_assert_double_eq_tol(g->mu[4], 12.0, 1e-7);
    det_glm_destroy(&g);
}
END_TEST

START_TEST(test_glm_all_zero_walks_down)
{
    double y[7] = {0}, x[7] = {1, 1, 1, 1, 1, 1, 1};
    det_glm_t *g = det_glm_new(7);
    ck_assert_int_eq(det_glm_fit(g, x, 7, 7, 1, y, NULL), 0);
    /* Each step lowers the intercept by about 1 until the deviance,
     * 2 * sum(mu), changes by less than 1e-8 relative to |D| + 0.1. */
    ck_assert(g->converged);
    ck_assert(g->coef[0] < -15 && g->coef[0] > -30);
    ck_assert(g->deviance < 1e-8);
    det_glm_destroy(&g);
}
END_TEST

START_TEST(test_glm_weights_and_nb)
{
    double y[4] = {4, 4, 8, 8}, x[4] = {1, 1, 1, 1}, w[4] = {1, 1, 1, 0};
    det_glm_t *g = det_glm_new(4);
    ck_assert_int_eq(det_glm_fit(g, x, 4, 4, 1, y, w), 0);
    ck_assert_uint_eq(g->ngood, 3);
    ck_assert_double_eq_tol(exp(g->coef[0]), 16.0 / 3, 1e-8);
    /* The NB mean of an intercept-only model is the sample mean too. */
    ck_assert_int_eq(det_glm_fit_nb(g, x, 4, 4, 1, y, 2.5, NULL), 0);
    ck_assert_double_eq_tol(exp(g->coef[0]), 6.0, 1e-8);
    ck_assert(g->theta == 2.5);
    det_glm_destroy(&g);
}
END_TEST

START_TEST(test_glm_errors)
{
    double y[4] = {1, 2, 3, 4}, x[4] = {1, 1, 1, 1}, w[4] = {0};
    det_glm_t *g = det_glm_new(3);
    ck_assert_int_eq(det_glm_fit(g, x, 4, 4, 1, y, NULL), -1);
    ck_assert_int_eq(det_glm_fit(g, x, 3, 3, DET_GLM_MAX_P + 1, y, NULL), -1);
    ck_assert_int_eq(det_glm_fit(g, x, 3, 3, 1, y, w), -1);
    det_glm_destroy(&g);
}
END_TEST

static Suite *
glm_suite(void)
{
    Suite *s = suite_create("glm");
    TCase *tc = tcase_create("usage");
    tcase_add_test(tc, test_glm_usage);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_test(tc, test_glm_two_groups_and_aliasing);
    tcase_add_test(tc, test_glm_all_zero_walks_down);
    tcase_add_test(tc, test_glm_weights_and_nb);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_glm_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(glm_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
