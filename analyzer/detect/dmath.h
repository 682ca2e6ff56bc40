/*  analyzer/detect/dmath.h - the distribution functions every detector uses
 *
 *  The detectors must give the numbers R gives, so these follow R's own
 *  algorithms where the last digits matter: qnorm is Wichura's AS 241 as in
 *  R's qnorm.c, pt goes through the regularised incomplete beta as R's pt.c
 *  does, and the discrete quantiles search for the smallest integer whose
 *  CDF reaches p times R's left-continuity fuzz (1 - 64 DBL_EPSILON). The
 *  quantile of a sample is R's type 7. All functions take and give doubles
 *  and follow IEEE rules: NAN in, NAN out.
 *
 *  Threading: every function is pure and thread-safe.
 */
#ifndef SENTINEL_ANALYZER_DETECT_DMATH_H
#define SENTINEL_ANALYZER_DETECT_DMATH_H

#include <stdbool.h>
#include <stddef.h>

/** @return P(Z <= x) (lower) or P(Z > x) for a standard normal Z. */
double det_pnorm(double x, bool lower);

/** @return the lower-tail p quantile of the standard normal, as R's qnorm
 *  (AS 241); -INFINITY at 0, INFINITY at 1, NAN outside [0, 1]. */
double det_qnorm(double p);

/** @return P(T <= t) (lower) or P(T > t) for Student's t with `df` > 0
 *  degrees of freedom (need not be an integer), to about 1e-13 relative. */
double det_pt(double t, double df, bool lower);

/** @return the lower-tail p quantile of Student's t with `df` degrees of
 *  freedom, solved on det_pt() to full precision. */
double det_qt(double p, double df);

/** @return log|Gamma(x)|. */
double det_lgamma(double x);

/** @return the regularised incomplete beta I_x(a, b) (lower) or
 *  1 - I_x(a, b), each computed directly so small tails keep their digits. */
double det_pbeta(double x, double a, double b, bool lower);

/** @return P(X <= q) for X negative binomial with `size` > 0 and success
 *  probability `prob` in (0, 1] (R's pnbinom(q, size, prob)). */
double det_pnbinom(double q, double size, double prob);

/** @return R's qnbinom(p, size, prob): the smallest integer y with
 *  P(X <= y) >= p (1 - 64 DBL_EPSILON); NAN for prob <= 0 or size < 0,
 *  INFINITY when p is within rounding of 1. */
double det_qnbinom(double p, double size, double prob);

/** @return P(X <= q) for X Poisson with mean `lambda` >= 0. */
double det_ppois(double q, double lambda);

/** @return R's qpois(p, lambda), with the same search and fuzz as
 *  det_qnbinom(). */
double det_qpois(double p, double lambda);

/** @return R's quantile(x, prob, type = 7) of the `n` values of `sorted`,
 *  which must be in ascending order and hold no NAN; NAN when n == 0. */
double det_quantile7(const double *sorted, size_t n, double prob);

/** Sort `n` doubles ascending in place (insertion sort: detector baselines
 *  are short). NANs are not allowed. */
void det_sort(double *x, size_t n);

/** @return x rounded to `digits` decimal places, as R's round(x, digits)
 *  for values away from ties. */
double det_round(double x, int digits);

#endif
