/*  analyzer/detect/glrnb.c - the negative binomial GLR chart, as R's glrnb()
 *
 *  The in-control mean mu0 comes from a negative binomial regression on the
 *  periods before the evaluated range (log mu = a + S harmonics [+ trend]),
 *  fitted as MASS::glm.nb does it: a Poisson fit, then alternating the
 *  maximum-likelihood theta (theta.ml, Newton on the score) with an IRLS
 *  refit of the mean (glm.c with the NB family), until the log-likelihood
 *  and theta settle. The dispersion alpha is 1/theta unless given.
 *
 *  The statistic is surveillance's C routine glr_nb_window for a change in
 *  the intercept: at each n the maximum over change points k of the
 *  log-likelihood ratio at the Newton estimate of kappa (clipped to the
 *  direction, NaN clipped to 0 as C's fmax does); an alarm when it reaches
 *  c.ARL, after which the chart restarts from the next period with the
 *  same mu0. The upperbound column is the statistic itself.
 */
#include "detect_int.h"
#include "dmath.h"
#include "glm.h"
#include "sentinel/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_CARL,
    P_RET,
    P_CHANGE,
    P_MTILDE,
    P_M,
    P_DIR,
    P_XMAX,
    P_S,
    P_TREND,
    P_REFIT,
    P_ALPHA,
    P_THETA
};

#define S_MAX_S 6        /* harmonics */
#define S_NB_MAXIT 25    /* glm.control()$maxit, theta.ml's limit */
#define S_STREAM_SPAN 10 /* years of GLR history a stream keeps (M = -1) */

static const char *const s_ret[] = {"value", "cases", NULL};
static const char *const s_change[] = {"intercept", "epi", NULL};
static const char *const s_dir[] = {"inc", "dec", NULL};

static const det_param_def_t s_params[] = {
    {"c.ARL", DET_PARAM_DOUBLE, 5, 0, 1e6, NULL, 0, 0},
    {"ret", DET_PARAM_ENUM, 0, 0, 1, s_ret, 0, 0},
    {"change", DET_PARAM_ENUM, 0, 0, 1, s_change, 0, 0},
    {"Mtilde", DET_PARAM_INT, 1, 1, 1, NULL, 0, 0},
    {"M", DET_PARAM_INT, -1, -1, 1e6, NULL, 0, 0},
    {"dir", DET_PARAM_ENUM, 0, 0, 1, s_dir, 0, 0},
    {"xMax", DET_PARAM_DOUBLE, 1e4, 0, 1e9, NULL, 0, 0},
    {"mu0Model.S", DET_PARAM_INT, 1, 0, S_MAX_S, NULL, 0, 0},
    {"mu0Model.trend", DET_PARAM_BOOL, 0, 0, 1, NULL, 0, 0},
    {"mu0Model.refit", DET_PARAM_BOOL, 0, 0, 1, NULL, 0, 0},
    {"alpha", DET_PARAM_DOUBLE, NAN, 0, 1e6, NULL, 0, 1},
    {"theta", DET_PARAM_DOUBLE, NAN, 0, 1e6, NULL, 0, 1},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

static const char *const s_extra[] = {"mu0", NULL};

/* ------------------------------------------------- digamma, trigamma */

static double
s_digamma(double x)
{
    double r = 0.0;
    while (x < 6.0) {
        r -= 1.0 / x;
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double t =
        f *
        (-1.0 / 12 +
         f * (1.0 / 120 +
              f * (-1.0 / 252 +
                   f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760))))));
    return r + log(x) - 0.5 / x + t;
}

static double
s_trigamma(double x)
{
    double r = 0.0;
    while (x < 6.0) {
        r += 1.0 / (x * x);
        x += 1.0;
    }
    double f = 1.0 / (x * x);
    double t =
        1.0 / x + f / 2.0 +
        f / x *
            (1.0 / 6 + f * (-1.0 / 30 +
                            f * (1.0 / 42 + f * (-1.0 / 30 + f * (5.0 / 66)))));
    return r + t;
}

/* ------------------------------------------------------------ glm.nb */

/* MASS's theta.ml(y, mu, n, limit = 25): Newton on the profile score. */
static double
s_theta_ml(const double *y, const double *mu, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double r = y[i] / mu[i] - 1.0;
        s += r * r;
    }
    double t0 = (double)n / s, del = 1.0, eps = pow(DBL_EPSILON, 0.25);
    int it = 0;
    while (++it < S_NB_MAXIT && fabs(del) > eps) {
        t0 = fabs(t0);
        double sc = 0.0, info = 0.0;
        for (size_t i = 0; i < n; i++) {
            double a = t0 + y[i], b = mu[i] + t0;
            sc += s_digamma(a) - s_digamma(t0) + log(t0) + 1.0 - log(b) - a / b;
            info += -s_trigamma(a) + s_trigamma(t0) - 1.0 / t0 + 2.0 / b -
                    a / (b * b);
        }
        del = sc / info;
        t0 += del;
    }
    return t0 < 0.0 ? 0.0 : t0;
}

/* MASS's loglik(n, th, mu, y, w). */
static double
s_loglik(double th, const double *mu, const double *y, size_t n)
{
    double l = 0.0;
    for (size_t i = 0; i < n; i++) {
        l += det_lgamma(th + y[i]) - det_lgamma(th) - det_lgamma(y[i] + 1) +
             th * log(th) + y[i] * log(mu[i] + (y[i] == 0.0)) -
             (th + y[i]) * log(th + mu[i]);
    }
    return l;
}

/* The design of the mu0 model at 1-based time t (R's formula order). */
static size_t
s_row(const double *p, int freq, double t, double *row)
{
    size_t c = 0;
    row[c++] = 1.0;
    if (p[P_TREND] != 0) {
        row[c++] = t;
    }
    for (int s = 1; s <= (int)p[P_S]; s++) {
        double a = 2.0 * s * M_PI / freq * t;
        row[c++] = cos(a);
        row[c++] = sin(a);
    }
    return c;
}

/* MASS::glm.nb on y[0 .. n-1] (times 1..n): coefficients into beta and
 * theta. @return the number of coefficients, or -1 when the fit fails. */
static int
s_glm_nb(const double *p, int freq, const double *y, size_t n, double *beta,
         double *theta)
{
    size_t k = 0;
    double *x = sn_calloc(n * DET_GLM_MAX_P, sizeof(double));
    double *mu = sn_calloc(2 * n, sizeof(double)), *eta = mu + n;
    double row[DET_GLM_MAX_P];
    for (size_t i = 0; i < n; i++) {
        k = s_row(p, freq, (double)(i + 1), row);
        for (size_t j = 0; j < k; j++) {
            x[i + j * n] = row[j];
        }
    }
    det_glm_t *glm = det_glm_new(n);
    int rc = det_glm_fit(glm, x, n, n, k, y, NULL);
    if (rc == 0) {
        memcpy(mu, glm->mu, n * sizeof(double));
        double th = s_theta_ml(y, mu, n);
        double d1 = sqrt(2.0 * fmax(1.0, glm->df_residual)), d2 = 1.0;
        double del = 1.0, lm = s_loglik(th, mu, y, n), lm0 = lm + 2.0 * d1;
        for (int it = 1; rc == 0 && it <= S_NB_MAXIT &&
                         fabs(lm0 - lm) / d1 + fabs(del) / d2 > 1e-8;
             it++) {
            for (size_t i = 0; i < n; i++) {
                eta[i] = log(mu[i]);
            }
            rc = det_glm_fit_nb(glm, x, n, n, k, y, th, eta);
            double t0 = th;
            th = s_theta_ml(y, mu, n);
            memcpy(mu, glm->mu, n * sizeof(double));
            del = t0 - th;
            lm0 = lm;
            lm = s_loglik(th, mu, y, n);
        }
        memcpy(beta, glm->coef, k * sizeof(double));
        *theta = th;
    }
    det_glm_destroy(&glm);
    free(x);
    free(mu);
    return rc == 0 && isfinite(*theta) ? (int)k : -1;
}

/* ------------------------------------------------------------- GLR */

/* l_{n,k}(kappa) and the Newton estimate of kappa over x[k .. n]. */
static double
s_lnk(double kappa, const double *x, const double *mu0, double alpha, size_t k,
      size_t n)
{
    double l = 0.0, ek = exp(kappa);
    for (size_t i = k; i <= n; i++) {
        l += kappa * x[i] +
             (x[i] + 1.0 / alpha) *
                 log((1.0 + alpha * mu0[i]) / (1.0 + alpha * mu0[i] * ek));
    }
    return l;
}

static double
s_newton(double kappa, const double *x, const double *mu0, double alpha,
         size_t k, size_t n)
{
    double old = 0.4, cur = kappa;
    for (int it = 0; cur > -18 && fabs(cur - old) > 1e-6 && it < 1000; it++) {
        old = cur;
        double ek = exp(old), sc = 0.0, fi = 0.0;
        for (size_t i = k; i <= n; i++) {
            double d = 1.0 + alpha * ek * mu0[i];
            sc += (x[i] - ek * mu0[i]) / d;
            fi += mu0[i] * (alpha * x[i] + 1.0) / (d * d);
        }
        cur = old + sc / (ek * fi);
    }
    return cur;
}

/* GLR_n over change points k in [low, n], as glr_nb_window. With
 * `zero` (every count and mean finite, 0 < alpha < inf), a change
 * clipped to kappa = 0 has l exactly 0 (every log is log(1)), so the
 * sum is skipped. */
static double
s_glr(const double *x, const double *mu0, double alpha, double dir, size_t low,
      size_t n, bool zero)
{
    double best = -1e99, kml = 0.5;
    for (size_t k = low; k <= n; k++) {
        double kn = s_newton(kml, x, mu0, alpha, k, n);
        kml = dir * fmax(0.0, dir * kn);
        double l = zero && kml == 0.0 ? 0.0 : s_lnk(kml, x, mu0, alpha, k, n);
        if (l > best) {
            best = l;
        }
    }
    return best;
}

/* Whether l at kappa = 0 is exactly 0 for every window of x[0 .. n-1]. */
static bool
s_zero(const double *x, const double *mu0, double alpha, size_t n)
{
    bool zero = alpha > 0.0 && isfinite(1.0 / alpha);
    for (size_t t = 0; t < n; t++) {
        zero = zero && isfinite(x[t]) && isfinite(1.0 + alpha * mu0[t]);
    }
    return zero;
}

/* The chart over x[0 .. n-1] with means mu0, restarting after alarms. */
static void
s_chart(const double *p, const double *x, const double *mu0, double alpha,
        size_t n, sn_det_point_t *out)
{
    double dir = p[P_DIR] == 0 ? 1.0 : -1.0;
    long mwin = (long)p[P_M];
    size_t start = 0;
    bool zero = s_zero(x, mu0, alpha, n);
    for (size_t t = 0; t < n; t++) {
        size_t low = start;
        if (mwin >= 0 && (long)t - mwin > (long)low) {
            low = t - (size_t)mwin;
        }
        double g = s_glr(x, mu0, alpha, dir, low, t, zero);
        bool alarm = g >= p[P_CARL];
        out[t].alarm = alarm;
        out[t].score = g;
        out[t].upperbound = isnan(g) || g < 0 ? 0.0 : g;
        if (alarm) {
            start = t + 1;
        }
    }
}

/* ---------------------------------------------------------- method */

static int64_t
s_first(const double *p, const sn_det_input_t *in)
{
    (void)p;
    size_t first = 2 * (size_t)in->frequency;
    return first < in->n ? (int64_t)first : SN_ENODATA;
}

static int
s_validate(const double *p, sn_err_t *err)
{
    if (p[P_RET] != 0 || p[P_CHANGE] != 0 || p[P_REFIT] != 0 ||
        !isnan(p[P_THETA])) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "glrnb supports ret='value', change='intercept', "
                          "mu0Model.refit=FALSE and theta=NULL only");
    }
    if (p[P_M] == 0) {
        return sn_err_set(err, SN_ERANGE,
                          "parameter 'M': must be -1 or positive");
    }
    return SN_OK;
}

/* Fit mu0 on x[0 .. ntrain-1]; fill mu0 for times tfirst+1 .. tfirst+n.
 * @return 0, or -1 with err when the fit fails. */
static int
s_mu0(const double *p, const double *x, size_t ntrain, int freq, size_t tfirst,
      size_t n, double *mu0, double *alpha, sn_err_t *err)
{
    double beta[DET_GLM_MAX_P], theta = NAN, row[DET_GLM_MAX_P];
    for (size_t i = 0; i < ntrain; i++) {
        if (isnan(x[i])) {
            return sn_err_set(err, SN_EINVAL,
                              "glrnb: count %zu of the training periods is "
                              "missing",
                              i + 1);
        }
    }
    int k = s_glm_nb(p, freq, x, ntrain, beta, &theta);
    if (k < 0) {
        return sn_err_set(err, SN_EINVAL,
                          "glrnb: the negative binomial fit of the in-control "
                          "mean on periods 1..%zu failed",
                          ntrain);
    }
    *alpha = isnan(p[P_ALPHA]) ? 1.0 / theta : p[P_ALPHA];
    for (size_t i = 0; i < n; i++) {
        s_row(p, freq, (double)(tfirst + i + 1), row);
        double eta = 0.0;
        for (int j = 0; j < k; j++) {
            eta += row[j] * beta[j];
        }
        mu0[i] = fmax(exp(eta), DBL_EPSILON);
    }
    return 0;
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    size_t n = to - from + 1;
    double alpha, *mu0 = sn_calloc(n, sizeof(double));
    int rc =
        s_mu0(p, in->count, from, in->frequency, from, n, mu0, &alpha, err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (isnan(in->count[from + i])) {
            rc = sn_err_set(err, SN_EINVAL, "glrnb: count %zu is missing",
                            from + i + 1);
        }
    }
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            det_point_na(&out[i]);
            out[i].observed = in->count[from + i];
            out[i].expected = mu0[i];
            out[i].extra[0] = mu0[i];
        }
        s_chart(p, in->count + from, mu0, alpha, n, out);
    }
    free(mu0);
    return rc;
}

/* The streaming state: the fitted mu0 model and the restart point. */
typedef struct s_state {
    int k;                      /* coefficients; 0 before the fit, -1 failed */
    double beta[DET_GLM_MAX_P]; /* the mu0 model */
    double alpha;               /* NB dispersion */
    size_t start;               /* absolute index the chart restarts at */
} s_state_t;

static size_t
s_history(const double *p, int frequency)
{
    size_t span = p[P_M] > 0 ? (size_t)p[P_M] + 1
                             : (size_t)S_STREAM_SPAN * (size_t)frequency;
    size_t train = 2 * (size_t)frequency + 1;
    return span > train ? span : train;
}

/* Fit the mu0 model on the ring's values before the newest (times 1..). */
static void
s_stream_fit(const double *p, s_state_t *st, const sn_det_input_t *ring,
             size_t t)
{
    size_t ntrain = ring->n - 1;
    double theta = NAN;
    st->k = -1;
    for (size_t i = 0; i < ntrain; i++) {
        if (isnan(ring->count[i])) {
            return;
        }
    }
    int k = s_glm_nb(p, ring->frequency, ring->count, ntrain, st->beta, &theta);
    if (k > 0) {
        st->k = k;
        st->alpha = isnan(p[P_ALPHA]) ? 1.0 / theta : p[P_ALPHA];
    }
    st->start = t;
}

/* Streaming: the chart since the last restart (at most the ring). */
static void
s_step(const double *p, void *state, const sn_det_input_t *ring, size_t t,
       size_t from, sn_det_point_t *out)
{
    s_state_t *st = state;
    size_t f = (size_t)ring->frequency, last = ring->n - 1;
    if (t < from || t < 2 * f) {
        return;
    }
    if (st->k == 0) {
        s_stream_fit(p, st, ring, t);
    }
    size_t lo = t - last > st->start ? t - last : st->start;
    size_t n = t - lo + 1;
    if (st->k < 0 || n > 4096) {
        return;
    }
    double mu0[4096], row[DET_GLM_MAX_P];
    const double *x = ring->count + (last - (t - lo));
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i])) {
            return;
        }
        s_row(p, (int)f, (double)(lo + i + 1), row);
        double eta = 0.0;
        for (int j = 0; j < st->k; j++) {
            eta += row[j] * st->beta[j];
        }
        mu0[i] = fmax(exp(eta), DBL_EPSILON);
    }
    double dir = p[P_DIR] == 0 ? 1.0 : -1.0;
    long mwin = (long)p[P_M];
    size_t low =
        mwin >= 0 && (long)(n - 1) - mwin > 0 ? n - 1 - (size_t)mwin : 0;
    double g =
        s_glr(x, mu0, st->alpha, dir, low, n - 1, s_zero(x, mu0, st->alpha, n));
    out->expected = out->extra[0] = mu0[n - 1];
    out->score = g;
    out->upperbound = isnan(g) || g < 0 ? 0.0 : g;
    out->alarm = g >= p[P_CARL];
    if (out->alarm) {
        st->start = t + 1;
    }
}

const det_method_t det_glrnb = {
    "glrnb", s_params,  s_extra,           NULL, s_validate, s_first,
    s_eval,  s_history, sizeof(s_state_t), NULL, s_step,
};
