/*  tests/analyzer/test_glm.c - R's IRLS for the log-linear GLM
 *
 *  Fits whose answers are known in closed form: the intercept-only Poisson
 *  fit (the mean, its hat values and variance), a two-group fit (the group
 *  means), an aliased column dropped by the pivoted QR, the all-zero window
 *  that walks the intercept down until the deviance test stops it, prior
 *  weights, the negative binomial family, and the refusals. The level-sum
 *  fit of the Farrington designs (det_glm_fit_design) must give what the
 *  dense pivoted QR gives, and hand over to it near aliasing.
 */
#include "glm.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Counts around 8 * exp(0.002 t) with a level effect, some zeros. */
static void
s_design_data(unsigned seed, size_t m, double *t, int *lev, double *y,
              double *prior, double *x)
{
    srand(seed);
    for (size_t i = 0; i < m; i++) {
        t[i] = 100 + (double)i + (i >= m / 2 ? 30 : 0);
        lev[i] = (int)((i / 5) % 4);
        double mu = 8 * exp(0.002 * t[i] + 0.3 * lev[i]);
        y[i] = floor(mu * (0.5 + (double)rand() / RAND_MAX));
        y[i] = rand() % 7 == 0 ? 0 : y[i];
        prior[i] = 0.5 + (double)rand() / RAND_MAX;
        x[i] = 1;
        x[i + m] = t[i];
        for (int j = 1; j < 4; j++) {
            x[i + (size_t)(j + 1) * m] = lev[i] == j;
        }
    }
}

static void
s_same_fit(det_glm_t *a, det_glm_t *b, size_t m, size_t p)
{
    double ha[64], hb[64], x0[6] = {1, 250, 0, 1, 0, 0}, ea, eb, qa, qb;
    ck_assert_int_eq(a->iter, b->iter);
    ck_assert(a->converged == b->converged);
    ck_assert_int_eq(a->df_residual, b->df_residual);
    for (size_t j = 0; j < p; j++) {
        ck_assert_double_eq_tol(a->coef[j], b->coef[j],
                                1e-9 * fabs(b->coef[j]) + 1e-12);
        ck_assert_double_eq_tol(det_glm_var(a, j), det_glm_var(b, j),
                                1e-8 * det_glm_var(b, j));
    }
    det_glm_hat(a, ha);
    det_glm_hat(b, hb);
    for (size_t i = 0; i < m; i++) {
        ck_assert_double_eq_tol(a->mu[i], b->mu[i], 1e-10 * b->mu[i]);
        ck_assert_double_eq_tol(a->wt[i], b->wt[i], 1e-10 * b->wt[i]);
        ck_assert_double_eq_tol(ha[i], hb[i], 1e-10);
    }
    ck_assert_double_eq_tol(det_glm_dispersion(a, NULL),
                            det_glm_dispersion(b, NULL), 1e-10);
    ck_assert_int_eq(det_glm_predict(a, x0, &ea, &qa), 0);
    ck_assert_int_eq(det_glm_predict(b, x0, &eb, &qb), 0);
    ck_assert_double_eq_tol(ea, eb, 1e-10);
    ck_assert_double_eq_tol(qa, qb, 1e-8 * qb);
}

START_TEST(test_glm_design_matches_dense)
{
    enum { M = 60 };
    double t[M], y[M], prior[M], x[M * 5];
    int lev[M];
    det_glm_t *a = det_glm_new(M), *b = det_glm_new(M);
    for (unsigned seed = 1; seed <= 20; seed++) {
        s_design_data(seed, M, t, lev, y, prior, x);
        const double *pr = seed % 2 ? prior : NULL;
        det_glm_design_t d = {M, t, lev, 4, NULL, NULL, false, 0};
        ck_assert_int_eq(det_glm_fit_design(a, &d, y, pr), 0);
        ck_assert(a->fast);
        ck_assert_int_eq(det_glm_fit(b, x, M, M, 5, y, pr), 0);
        s_same_fit(a, b, M, 5);
        /* Without the trend: the level means. */
        d.t = NULL;
        memmove(x + M, x + 2 * M, 3 * M * sizeof(double));
        ck_assert_int_eq(det_glm_fit_design(a, &d, y, pr), 0);
        ck_assert_int_eq(det_glm_fit(b, x, M, M, 4, y, pr), 0);
        ck_assert_int_eq(a->iter, b->iter);
        for (size_t j = 0; j < 4; j++) {
            ck_assert_double_eq_tol(a->coef[j], b->coef[j], 1e-9);
        }
    }
    det_glm_destroy(&a);
    det_glm_destroy(&b);
}
END_TEST

START_TEST(test_glm_design_degenerate)
{
    enum { M = 21 };
    double t[M], y[M] = {0}, x[M * 2], prior[M];
    for (size_t i = 0; i < M; i++) {
        t[i] = 200 + (double)i;
        x[i] = 1;
        x[i + M] = t[i];
        prior[i] = i < 7 ? 0.0 : 1.0;
    }
    det_glm_t *a = det_glm_new(M), *b = det_glm_new(M);
    /* All zero: the intercept walks down as in the dense fit, step by
     * step, and stops at the same iteration. */
    det_glm_design_t d = {M, t, NULL, 1, NULL, NULL, false, 0};
    ck_assert_int_eq(det_glm_fit_design(a, &d, y, NULL), 0);
    ck_assert_int_eq(det_glm_fit(b, x, M, M, 2, y, NULL), 0);
    ck_assert_int_eq(a->iter, b->iter);
    ck_assert(a->converged == b->converged);
    ck_assert_double_eq_tol(a->coef[0], b->coef[0], 1e-6);
    /* A level whose rows all have prior weight 0 has an empty column:
     * the dense pivoted QR drops it as aliased, so the fast path must
     * hand over. */
    int lev2[M];
    for (size_t i = 0; i < M; i++) {
        lev2[i] = i < 7 ? 1 : 0;
        y[i] = (double)(i % 5);
    }
    det_glm_design_t d2 = {M, NULL, lev2, 2, NULL, NULL, false, 0};
    ck_assert_int_eq(det_glm_fit_design(a, &d2, y, prior), 0);
    ck_assert(!a->fast);
    ck_assert_int_eq(a->rank, 1);
    ck_assert(isnan(a->coef[1]));
    det_glm_destroy(&a);
    det_glm_destroy(&b);
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
    tcase_add_test(tc, test_glm_design_matches_dense);
    tcase_add_test(tc, test_glm_design_degenerate);
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
