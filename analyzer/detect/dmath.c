/*  analyzer/detect/dmath.c - the distribution functions every detector uses
 *
 *  A detector matches R only if its quantiles and tail probabilities agree
 *  to the last few digits, so this file mirrors the algorithms of R's nmath
 *  where they matter: AS 241 for qnorm, pt through the incomplete beta with
 *  R's choice of branch, and the discrete quantile search with R's fuzz. The
 *  incomplete beta is Lentz's continued fraction, which keeps its relative
 *  accuracy in both tails; the discrete CDFs are summed term by term from
 *  zero, which is exact enough for every count a detector meets and lets a
 *  quantile be found in one pass.
 */
#include "dmath.h"

#include <float.h>
#include <math.h>

/* ---------------------------------------------------------------- normal */

double
det_pnorm(double x, bool lower)
{
    if (isnan(x)) {
        return NAN;
    }
    return 0.5 * erfc((lower ? -x : x) / M_SQRT2);
}

/* AS 241 for 0.075 <= p <= 0.925, with q = p - 0.5. */
static double
s_qnorm_central(double q)
{
    double r = .180625 - q * q;
    return q *
           (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r +
                 67265.770927008700853) *
                    r +
                45921.953931549871457) *
                   r +
               13731.693765509461125) *
                  r +
              1971.5909503065514427) *
                 r +
             133.14166789178437745) *
                r +
            3.387132872796366608) /
           (((((((r * 5226.495278852545925 + 28729.085735721942674) * r +
                 39307.89580009271061) *
                    r +
                21213.794301586595867) *
                   r +
               5394.1960214247511077) *
                  r +
              687.1870074920579083) *
                 r +
             42.313330701600911252) *
                r +
            1.);
}

/* AS 241 in the tails, for r = sqrt(-log(min(p, 1 - p))) <= 5. */
static double
s_qnorm_tail(double r)
{
    r += -1.6;
    return (((((((r * 7.7454501427834140764e-4 + .0227238449892691845833) * r +
                 .24178072517745061177) *
                    r +
                1.27045825245236838258) *
                   r +
               3.64784832476320460504) *
                  r +
              5.7694972214606914055) *
                 r +
             4.6303378461565452959) *
                r +
            1.42343711074968357734) /
           (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r +
                 .0151986665636164571966) *
                    r +
                .14810397642748007459) *
                   r +
               .68976733498510000455) *
                  r +
              1.6763848301838038494) *
                 r +
             2.05319162663775882187) *
                r +
            1.);
}

/* AS 241 far in the tails, r > 5 (p below about 1.4e-11). */
static double
s_qnorm_far(double r)
{
    r += -5.;
    return (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) *
                     r +
                 .0012426609473880784386) *
                    r +
                .026532189526576123093) *
                   r +
               .29656057182850489123) *
                  r +
              1.7848265399172913358) *
                 r +
             5.4637849111641143699) *
                r +
            6.6579046435011037772) /
           (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) *
                     r +
                 1.8463183175100546818e-5) *
                    r +
                7.868691311456132591e-4) *
                   r +
               .0148753612908506148525) *
                  r +
              .13692988092273580531) *
                 r +
             .59983220655588793769) *
                r +
            1.);
}

double
det_qnorm(double p)
{
    if (isnan(p) || p < 0 || p > 1) {
        return NAN;
    }
    if (p == 0) {
        return -INFINITY;
    }
    if (p == 1) {
        return INFINITY;
    }
    double q = p - 0.5;
    if (fabs(q) <= .425) {
        return s_qnorm_central(q);
    }
    double r = sqrt(-log(q < 0 ? p : 1 - p));
    double val = r <= 5. ? s_qnorm_tail(r) : s_qnorm_far(r);
    return q < 0 ? -val : val;
}

/* ------------------------------------------------------ incomplete beta */

/* Lentz's continued fraction for I_x(a, b), valid and fast for
 * x < (a + 1) / (a + b + 2). */
static double
s_betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    d = fabs(d) < tiny ? tiny : d;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2));
        d = 1 + aa * d;
        d = fabs(d) < tiny ? tiny : d;
        c = 1 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2));
        d = 1 + aa * d;
        d = fabs(d) < tiny ? tiny : d;
        c = 1 + aa / c;
        c = fabs(c) < tiny ? tiny : c;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16) {
            break;
        }
    }
    return h;
}

/* x^a (1-x)^b / (a B(a, b)) times the continued fraction: one tail. */
static double
s_beta_tail(double x, double a, double b)
{
    double lbt = det_lgamma(a + b) - det_lgamma(a) - det_lgamma(b) +
                 a * log(x) + b * log1p(-x);
    return exp(lbt) * s_betacf(a, b, x) / a;
}

double
det_pbeta(double x, double a, double b, bool lower)
{
    if (isnan(x) || isnan(a) || isnan(b) || a <= 0 || b <= 0) {
        return NAN;
    }
    if (x <= 0) {
        return lower ? 0 : 1;
    }
    if (x >= 1) {
        return lower ? 1 : 0;
    }
    if (x < (a + 1) / (a + b + 2)) {
        double lo = s_beta_tail(x, a, b);
        return lower ? lo : 0.5 - lo + 0.5;
    }
    double up = s_beta_tail(1 - x, b, a);
    return lower ? 0.5 - up + 0.5 : up;
}

/* ------------------------------------------------------------ Student t */

double
det_pt(double t, double df, bool lower)
{
    if (isnan(t) || isnan(df) || df <= 0) {
        return NAN;
    }
    if (isinf(t)) {
        return (t < 0) == lower ? 0 : 1;
    }
    if (isinf(df)) {
        return det_pnorm(t, lower);
    }
    if (df > 4e5) {
        double v = 1. / (4. * df);
        return det_pnorm(t * (1. - v) / sqrt(1. + t * t * 2. * v), lower);
    }
    /* As R's pt.c: val is P(|T| > |t|), from whichever beta is accurate. */
    double nx = 1 + (t / df) * t;
    double val = df > t * t ? det_pbeta(t * t / (df + t * t), 0.5, df / 2., 0)
                            : det_pbeta(1. / nx, df / 2., 0.5, 1);
    if (t <= 0.) {
        lower = !lower;
    }
    val /= 2.;
    return lower ? (0.5 - val + 0.5) : val;
}

/* log of the density of Student's t at x. */
static double
s_ldt(double x, double df)
{
    return det_lgamma((df + 1) / 2) - det_lgamma(df / 2) -
           0.5 * log(df * M_PI) - (df + 1) / 2 * log1p(x * x / df);
}

double
det_qt(double p, double df)
{
    if (isnan(p) || isnan(df) || p < 0 || p > 1 || df <= 0) {
        return NAN;
    }
    if (p == 0 || p == 1) {
        return p == 0 ? -INFINITY : INFINITY;
    }
    if (p == 0.5) {
        return 0;
    }
    /* Solve for the upper tail q of |x| on the log scale by Newton; for
     * p >= 0.5 the subtraction 1 - p is exact. */
    double q = p < 0.5 ? p : 1 - p;
    double z = -det_qnorm(q);
    double x = z + (z * z * z + z) / (4 * df);
    double lq = log(q);
    for (int i = 0; i < 100; i++) {
        double f = log(det_pt(x, df, false)) - lq;
        double g = -exp(s_ldt(x, df) - log(det_pt(x, df, false)));
        double step = f / g;
        double nx = x - step;
        if (nx <= 0) {
            nx = x / 2;
        }
        x = nx;
        if (fabs(step) <= 1e-15 * fabs(x)) {
            break;
        }
    }
    return p < 0.5 ? -x : x;
}

/* ------------------------------------------------------ gamma, discrete */

double
det_lgamma(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

/* A discrete law whose terms follow p(k) = p(k-1) (a + b (k-1)) / k * c,
 * starting at log p(0) = lp0: the negative binomial (a = size, b = 1,
 * c = 1 - prob) and the Poisson (a = lambda, b = 0, c = 1). */
typedef struct s_disc {
    double lp0; /* log P(X = 0) */
    double a;   /* recurrence numerator constant */
    double b;   /* recurrence numerator slope */
    double c;   /* recurrence factor */
} s_disc_t;

/* Walk k = 0, 1, … summing P(X = k) until k reaches kmax or the sum reaches
 * target. @return k; *cdf gets P(X <= k). Terms are summed in linear space
 * unless P(X = 0) underflows, then in log space. */
static double
s_disc_walk(const s_disc_t *d, double kmax, double target, double *cdf)
{
    double k = 0;
    if (d->lp0 > -700) {
        double term = exp(d->lp0), sum = term;
        while (k < kmax && sum < target) {
            k += 1;
            double ratio = (d->a + d->b * (k - 1)) / k * d->c;
            term *= ratio;
            sum += term;
            if (ratio < 1 && term < sum * 1e-18) {
                break; /* the sum cannot grow any more */
            }
        }
        *cdf = sum;
        return k;
    }
    double lterm = d->lp0, lsum = d->lp0, ltarget = log(target);
    while (k < kmax && lsum < ltarget) {
        k += 1;
        double ratio = (d->a + d->b * (k - 1)) / k * d->c;
        lterm += log(ratio);
        double m = fmax(lsum, lterm);
        lsum = m + log(exp(lsum - m) + exp(lterm - m));
        if (ratio < 1 && lterm < lsum - 41) {
            break;
        }
    }
    *cdf = exp(lsum);
    return k;
}

/* The smallest k whose CDF reaches p with R's fuzz, or INFINITY. */
static double
s_disc_quantile(const s_disc_t *d, double p)
{
    if (p + 1.01 * DBL_EPSILON >= 1.) {
        return INFINITY;
    }
    double cdf;
    return s_disc_walk(d, INFINITY, p * (1 - 64 * DBL_EPSILON), &cdf);
}

double
det_pnbinom(double q, double size, double prob)
{
    if (isnan(q) || isnan(size) || isnan(prob) || prob <= 0 || prob > 1 ||
        size < 0) {
        return NAN;
    }
    double x = floor(q + 1e-7);
    if (x < 0) {
        return 0;
    }
    if (size == 0 || prob == 1 || isinf(x)) {
        return 1;
    }
    s_disc_t d = {size * log(prob), size, 1, 1 - prob};
    double cdf;
    s_disc_walk(&d, x, INFINITY, &cdf);
    return cdf > 1 ? 1 : cdf;
}

double
det_qnbinom(double p, double size, double prob)
{
    if (isnan(p) || isnan(size) || isnan(prob) || prob <= 0 || prob > 1 ||
        size < 0 || p < 0 || p > 1) {
        return NAN;
    }
    if (prob == 1 || size == 0 || p == 0) {
        return 0;
    }
    s_disc_t d = {size * log(prob), size, 1, 1 - prob};
    return s_disc_quantile(&d, p);
}

double
det_ppois(double q, double lambda)
{
    if (isnan(q) || isnan(lambda) || lambda < 0) {
        return NAN;
    }
    double x = floor(q + 1e-7);
    if (x < 0) {
        return 0;
    }
    if (lambda == 0 || isinf(x)) {
        return 1;
    }
    s_disc_t d = {-lambda, lambda, 0, 1};
    double cdf;
    s_disc_walk(&d, x, INFINITY, &cdf);
    return cdf > 1 ? 1 : cdf;
}

double
det_qpois(double p, double lambda)
{
    if (isnan(p) || isnan(lambda) || lambda < 0 || p < 0 || p > 1) {
        return NAN;
    }
    if (lambda == 0 || p == 0) {
        return 0;
    }
    s_disc_t d = {-lambda, lambda, 0, 1};
    return s_disc_quantile(&d, p);
}

/* ------------------------------------------------------------ samples */

double
det_quantile7(const double *sorted, size_t n, double prob)
{
    if (n == 0) {
        return NAN;
    }
    double index = 1 + (double)(n - 1) * prob;
    double lo = floor(index), hi = ceil(index);
    double q = sorted[(size_t)lo - 1];
    double xh = sorted[(size_t)hi - 1];
    if (index > lo && xh != q) {
        double h = index - lo;
        q = (1 - h) * q + h * xh;
    }
    return q;
}

void
det_sort(double *x, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

double
det_round(double x, int digits)
{
    double s = pow(10., digits);
    return nearbyint(x * s) / s;
}
