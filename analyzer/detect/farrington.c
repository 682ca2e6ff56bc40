/*  analyzer/detect/farrington.c - Farrington et al. (1996), as R's farrington()
 *
 *  For each evaluated period t the method takes the b * (2w + 1) counts in
 *  windows of +-w periods around the same period 1..b years back, fits a
 *  log-linear quasi-Poisson GLM with a linear time trend (glm.c), reweights
 *  rows with large Anscombe residuals, drops the trend unless it is
 *  significant, b >= 3 and the prediction does not extrapolate beyond the
 *  data, and puts the threshold on the 2/3-power scale. This follows
 *  surveillance::algo.farrington with its default fit function
 *  (algo.farrington.fitGLM.fast), including its quirks: the two-sided
 *  z(1 - alpha/2), the trend test with the unfloored dispersion of the
 *  reweighted fit, and the bound 0 when fewer than limit54 cases were seen.
 *
 *  The file also holds what farrington_flexible.c shares (farrington.h).
 */
#include "farrington.h"

#include "detect_int.h"
#include "dmath.h"
#include "sentinel/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_B,
    P_W,
    P_REWEIGHT,
    P_ALPHA,
    P_TREND,
    P_LIMIT54,
    P_POWER,
    P_REFMODE,
    P_FITFUN
};

static const char *const s_power[] = {"2/3", "1/2", "none", NULL};
static const char *const s_refmode[] = {"index", "date", NULL};
static const char *const s_fitfun[] = {"algo.farrington.fitGLM.fast",
                                       "algo.farrington.fitGLM", NULL};

static const det_param_def_t s_params[] = {
    {"b", DET_PARAM_INT, 5, 1, 50, NULL, 0, 0},
    {"w", DET_PARAM_INT, 3, 0, 26, NULL, 0, 0},
    {"reweight", DET_PARAM_BOOL, 1, 0, 1, NULL, 0, 0},
    {"alpha", DET_PARAM_DOUBLE, 0.05, 1e-12, 0.5, NULL, 0, 0},
    {"trend", DET_PARAM_BOOL, 1, 0, 1, NULL, 0, 0},
    {"limit54", DET_PARAM_PAIR, 5, 0, 1e6, NULL, 4, 0},
    {"powertrans", DET_PARAM_ENUM, 0, 0, 2, s_power, 0, 0},
    {"referenceMode", DET_PARAM_ENUM, 0, 0, 1, s_refmode, 0, 0},
    {"fitFun", DET_PARAM_ENUM, 0, 0, 1, s_fitfun, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

static const char *const s_extra[] = {"trend", "pd_q", "pd_median", NULL};

/* ------------------------------------------------------ shared helpers */

sn_day_t
det_farr_years_back(sn_day_t t0, int years, int freq)
{
    int y, mo, d;
    sn_day_to_ymd(t0, &y, &mo, &d);
    y -= years;
    sn_day_t ref;
    if (mo == 2 && d == 29 && !sn_day_is_leap(y)) {
        ref = sn_day_from_ymd(y, 3, 1);
    } else {
        ref = sn_day_from_ymd(y, mo, d);
    }
    if (freq == 52) {
        int fwd = ((sn_day_weekday(t0) - sn_day_weekday(ref)) % 7 + 7) % 7;
        int back = (7 - fwd) % 7;
        ref += fwd < back ? fwd : -back;
    }
    return ref;
}

long
det_farr_find_day(const sn_day_t *days, size_t n, sn_day_t day)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (days[mid] < day) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo < n && days[lo] == day ? (long)lo : -1;
}

double
det_farr_max1(double x)
{
    return isnan(x) ? x : (x > 1.0 ? x : 1.0);
}

det_farr_data_t *
det_farr_data_new(size_t cap)
{
    det_farr_data_t *self = sn_calloc(1, sizeof(*self));
    self->cap = cap < 1 ? 1 : cap;
    self->t = sn_calloc(self->cap, sizeof(double));
    self->lev = sn_calloc(self->cap, sizeof(int));
    self->y = sn_calloc(self->cap, sizeof(double));
    self->yly = sn_calloc(self->cap, sizeof(double));
    self->eta0 = sn_calloc(self->cap, sizeof(double));
    self->y23 = sn_calloc(self->cap, sizeof(double));
    self->hat = sn_calloc(self->cap, sizeof(double));
    self->omega = sn_calloc(self->cap, sizeof(double));
    self->nlev = 1;
    return self;
}

void
det_farr_data_destroy(det_farr_data_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    det_farr_data_t *self = *self_p;
    free(self->t);
    free(self->lev);
    free(self->y);
    free(self->yly);
    free(self->eta0);
    free(self->y23);
    free(self->hat);
    free(self->omega);
    free(self->syly);
    free(self->seta0);
    free(self->sy23);
    free(self->snan);
    free(self);
    *self_p = NULL;
}

void
det_farr_data_series(det_farr_data_t *d, const double *count, size_t n)
{
    if (n > d->scap) {
        free(d->syly);
        free(d->seta0);
        free(d->sy23);
        d->scap = n;
        d->syly = sn_calloc(n, sizeof(double));
        d->seta0 = sn_calloc(n, sizeof(double));
        d->sy23 = sn_calloc(n, sizeof(double));
        free(d->snan);
        d->snan = sn_calloc(n + 1, sizeof(size_t));
    }
    d->count = count;
    d->sn = n;
    for (size_t i = 0; i < n; i++) {
        double y = count[i];
        d->syly[i] = y > 0.0 ? y * log(y) - y : 0.0;
        d->seta0[i] = log(y + 0.1);
        d->sy23[i] = pow(y, 2.0 / 3.0);
        d->snan[i + 1] = d->snan[i] + (isnan(y) ? 1 : 0);
    }
}

void
det_farr_data_span(det_farr_data_t *d, size_t i, size_t n, double t0)
{
    size_t r = d->m;
    memcpy(d->y + r, d->count + i, n * sizeof(double));
    memcpy(d->yly + r, d->syly + i, n * sizeof(double));
    memcpy(d->eta0 + r, d->seta0 + i, n * sizeof(double));
    memcpy(d->y23 + r, d->sy23 + i, n * sizeof(double));
    for (size_t k = 0; k < n; k++) {
        d->t[r + k] = t0 + (double)k;
        d->lev[r + k] = 0;
    }
    d->m += n;
    d->gen += n;
}

void
det_farr_data_design(det_farr_data_t *d, bool trend, size_t nlev)
{
    d->trend = trend;
    d->nlev = nlev < 1 ? 1 : nlev;
    d->p = 1 + (trend ? 1 : 0) + d->nlev - 1;
}

void
det_farr_drop_trend(det_farr_data_t *d)
{
    if (!d->trend) {
        return;
    }
    d->p--;
    d->trend = false;
}

/* Anscombe residuals of the fit in `glm` and R's weights from them.
 * @return 0, or -1 where a weight is NA or negative (R stops). */
static int
s_weights(const det_glm_t *glm, const det_farr_data_t *d, double phi,
          double thr, double *hat, double *omega)
{
    size_t m = glm->m;
    const double *mu = glm->mu, *y23 = d->y23;
    det_glm_hat(glm, hat);
    det_glm_mu_pow(glm, -1.0 / 6.0, omega); /* omega[i] is mu_i^(-1/6) */
    double sum = 0.0, thr2 = thr * thr;
    for (size_t i = 0; i < m; i++) {
        /* mu^(1/2) = mu (mu^(-1/6))^3; with v = phi (1 - h) > 0 and a
         * finite, s = a / sqrt(v) > thr is a > 0 and a^2 > thr^2 v, and
         * 1 / s^2 is v / a^2: no square root or division on most rows. */
        double mp = omega[i], a = 1.5 * (y23[i] * mp - mu[i] * mp * mp * mp);
        double v = phi * (1.0 - hat[i]);
        if (v > 0.0 && isfinite(a) && thr >= 0.0) {
            double o = 1.0, aa = a * a;
            /* the sign of a is a coin toss: one rare branch, not two */
            if ((a > 0.0) & (aa > thr2 * v)) {
                o = v / aa; /* rare: a branch, not a division a row */
            }
            omega[i] = o;
            sum += o;
        } else {
            double s = a / sqrt(v);
            omega[i] = s > thr ? 1.0 / (s * s) : 1.0;
            sum += isnan(s) ? NAN : omega[i];
        }
    }
    double gamma = (double)m / sum;
    bool bad = false;
    for (size_t i = 0; i < m; i++) {
        omega[i] = gamma * omega[i];
        bad |= !(omega[i] >= 0.0);
    }
    return bad ? -1 : 0;
}

/* The fit of the rows of d with prior weights `prior` (NULL: all 1). */
static int
s_glm_fit(det_glm_t *glm, const det_farr_data_t *d, const double *prior)
{
    det_glm_design_t des = {d->m,
                            d->trend ? d->t : NULL,
                            d->nlev > 1 ? d->lev : NULL,
                            d->nlev,
                            d->yly,
                            d->eta0,
                            prior != NULL,
                            d->gen};
    return det_glm_fit_design(glm, &des, d->y, prior);
}

int
det_farr_fit(det_glm_t *glm, det_farr_data_t *d, bool reweight, double thr,
             double *phi, bool *conv)
{
    if (s_glm_fit(glm, d, NULL) != 0) {
        return -1;
    }
    if (!glm->converged && d->trend) {
        det_farr_drop_trend(d);
        if (s_glm_fit(glm, d, NULL) != 0) {
            return -1;
        }
    }
    *conv = glm->converged;
    *phi = det_farr_max1(det_glm_dispersion(glm, NULL));
    if (!reweight) {
        return 0;
    }
    if (s_weights(glm, d, *phi, thr, d->hat, d->omega) != 0 ||
        s_glm_fit(glm, d, d->omega) != 0) {
        return -1;
    }
    *phi = det_farr_max1(det_glm_dispersion(glm, NULL));
    return 0;
}

/* ------------------------------------------------------------- method */

/* The workspace of one evaluation call: the GLM and its rows. */
typedef struct s_work {
    det_glm_t *glm;
    det_farr_data_t *d;
} s_work_t;

static size_t
s_rows(const double *p)
{
    return (size_t)p[P_B] * (2 * (size_t)p[P_W] + 1);
}

static bool
s_date_mode(const double *p, const sn_det_input_t *in)
{
    return in->day != NULL && p[P_REFMODE] == 1;
}

/* Append reference index r (if it exists) to the rows. */
static void
s_add_row(det_farr_data_t *d, const sn_det_input_t *in, long r, long tofs)
{
    if (r < 0 || (size_t)r >= in->n) {
        return;
    }
    det_farr_data_add(d, (size_t)r, (double)(r + 1 + tofs), 0);
}

/* The reference rows of t: windows of +-w periods around t - i years,
 * i = b..1 by index, or i = 1..b by date as refvalIdxByDate() orders
 * them; references that do not exist are dropped, as R does. */
static void
s_reference(const double *p, const sn_det_input_t *in, size_t t, long tofs,
            det_farr_data_t *d)
{
    long b = (long)p[P_B], w = (long)p[P_W], f = in->frequency;
    d->m = 0;
    if (!s_date_mode(p, in)) {
        for (long i = b; i >= 1; i--) {
            for (long j = -w; j <= w; j++) {
                s_add_row(d, in, (long)t - f * i + j, tofs);
            }
        }
        return;
    }
    int step = f == 52 ? 7 : 1;
    for (long i = 1; i <= b; i++) {
        sn_day_t ref = det_farr_years_back(in->day[t], (int)i, f);
        for (long j = -w; j <= w; j++) {
            s_add_row(d, in, det_farr_find_day(in->day, in->n, ref + j * step),
                      tofs);
        }
    }
}

/* R's t-test p-value of the trend coefficient with dispersion `disp`. */
static double
s_trend_pvalue(const det_glm_t *glm, double disp)
{
    double se = sqrt(det_glm_var(glm, 1) * disp);
    double tv = glm->coef[1] / se;
    return 2.0 * det_pt(-fabs(tv), glm->df_residual, true);
}

/* Keep the trend only if significant, b >= 3 and not extrapolating;
 * otherwise refit without it. @return 0 or -1. */
static int
s_trend_rule(const double *p, s_work_t *wk, double x0t, double *phi)
{
    det_glm_t *glm = wk->glm;
    det_farr_data_t *d = wk->d;
    if (!d->trend) {
        return 0;
    }
    double pv = s_trend_pvalue(glm, det_glm_dispersion(glm, NULL));
    double eta = glm->coef[0] + glm->coef[1] * x0t;
    double mu0 = fmax(exp(eta), DBL_EPSILON);
    double ymax = d->y[0];
    for (size_t i = 1; i < d->m; i++) {
        ymax = fmax(ymax, d->y[i]);
    }
    if (p[P_B] >= 3 && pv < 0.05 && mu0 <= ymax) {
        return 0;
    }
    det_farr_drop_trend(d);
    bool conv;
    return det_farr_fit(glm, d, p[P_REWEIGHT] != 0, 1.0, phi, &conv);
}

/* The power transform of the threshold: exponent and sd (R's
 * algo.farrington.threshold). */
static double
s_power_sd(int power, double mu0, double tau, double *expo)
{
    if (power == 0) {
        *expo = 2.0 / 3.0;
        return sqrt(4.0 / 9.0 * pow(mu0, 1.0 / 3.0) * tau);
    }
    if (power == 1) {
        *expo = 0.5;
        return sqrt(1.0 / 4.0 * tau);
    }
    *expo = 1.0;
    return sqrt(mu0 * tau);
}

/* Sum of the counts of the last `period` points up to t (NAN if any is
 * missing or the window starts before the series). */
static double
s_recent_sum(const sn_det_input_t *in, size_t t, double period)
{
    long first = (long)t - (long)period + 1;
    if (first < 0) {
        return NAN;
    }
    double s = 0.0;
    for (long i = first; i <= (long)t; i++) {
        s += in->count[i];
    }
    return s;
}

/* Threshold, score and alarm from the prediction (fit, se on the
 * response scale) as the end of algo.farrington computes them. */
static void
s_finish(const double *p, const sn_det_input_t *in, size_t t, double fit,
         double se, double phi, sn_det_point_t *out)
{
    double y = in->count[t], expo;
    double tau = phi + se * se / fit;
    double sd = s_power_sd((int)p[P_POWER], fit, tau, &expo);
    double z = det_qnorm(1.0 - p[P_ALPHA] / 2.0);
    double upper = pow(pow(fit, expo) + z * sd, 1.0 / expo);
    double sum = s_recent_sum(in, t, p[DET_MAX_PARAMS + P_LIMIT54]);
    bool enough = sum >= p[P_LIMIT54];
    double score = enough ? (y - fit) / (upper - fit) : 0.0;
    out->observed = y;
    out->expected = fit;
    out->upperbound = enough ? upper : 0.0;
    out->score = score;
    out->alarm = isnan(score) ? SN_DET_NA : score > 1.0;
    out->extra[1] = det_pnorm((pow(y, expo) - pow(fit, expo)) / sd, true);
    out->extra[2] = pow(pow(fit, expo), 1.0 / expo);
}

/* Evaluate time point t; wtime is the 1-based index plus tofs. */
static void
s_point(const double *p, const sn_det_input_t *in, size_t t, long tofs,
        s_work_t *wk, sn_det_point_t *out)
{
    det_farr_data_t *d = wk->d;
    det_point_na(out);
    out->observed = in->count[t];
    s_reference(p, in, t, tofs, d);
    for (size_t i = 0; i < d->m; i++) {
        if (isnan(d->y[i])) {
            return; /* R's glm.fit refuses missing counts */
        }
    }
    bool trend = p[P_TREND] != 0, conv;
    det_farr_data_design(d, trend, 1);
    double phi, x0t = (double)((long)t + 1 + tofs), eta, xvx;
    if (d->m < 1 ||
        det_farr_fit(wk->glm, d, p[P_REWEIGHT] != 0, 1.0, &phi, &conv) ||
        s_trend_rule(p, wk, x0t, &phi) != 0) {
        return;
    }
    double x0[2] = {1.0, x0t};
    if (det_glm_predict(wk->glm, x0, &eta, &xvx) != 0) {
        return;
    }
    double scale = sqrt(phi);
    double fit = fmax(exp(eta), DBL_EPSILON);
    double se = sqrt(xvx * (scale * scale)) * fit;
    s_finish(p, in, t, fit, se, phi, out);
    out->extra[0] = d->trend ? 1.0 : 0.0;
}

/* The first 0-based index R's default range evaluates, whatever n. */
static long
s_first_index(const double *p, int frequency)
{
    long b = (long)p[P_B], w = (long)p[P_W];
    long first = (long)frequency * b - w - 1;
    long l54 = (long)p[DET_MAX_PARAMS + P_LIMIT54] - 1;
    if (first < l54) {
        first = l54;
    }
    return first < 0 ? 0 : first;
}

static int64_t
s_first(const double *p, const sn_det_input_t *in)
{
    long first = s_first_index(p, in->frequency);
    return (size_t)first < in->n ? first : SN_ENODATA;
}

static int
s_validate(const double *p, sn_err_t *err)
{
    if (!(p[DET_MAX_PARAMS + P_LIMIT54] > 0)) {
        return sn_err_set(err, SN_ERANGE,
                          "parameter 'limit54': the period (second number) "
                          "must be positive");
    }
    return SN_OK;
}

static int
s_run(const double *p, const sn_det_input_t *in, size_t from, size_t to,
      long tofs, sn_det_point_t *out, sn_err_t *err)
{
    if (s_date_mode(p, in) && in->frequency != 52 && in->frequency != 365) {
        return sn_err_set(err, SN_EINVAL,
                          "reference by date needs weekly or daily data, not "
                          "frequency %d",
                          in->frequency);
    }
    s_work_t wk = {det_glm_new(s_rows(p)), det_farr_data_new(s_rows(p))};
    det_farr_data_series(wk.d, in->count, in->n);
    for (size_t t = from; t <= to; t++) {
        s_point(p, in, t, tofs, &wk, &out[t - from]);
    }
    det_glm_destroy(&wk.glm);
    det_farr_data_destroy(&wk.d);
    return SN_OK;
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    return s_run(p, in, from, to, 0, out, err);
}

static size_t
s_history(const double *p, int frequency)
{
    /* Date mode may reach a few periods further back than b * freq. */
    size_t b = (size_t)p[P_B];
    return b * (size_t)frequency + (size_t)p[P_W] + b / 4 + 2 +
           (size_t)p[DET_MAX_PARAMS + P_LIMIT54];
}

/* Streaming: evaluate the newest point of the ring with the absolute
 * index as the time variable, so the numbers equal the batch form's. */
static void
s_step(const double *p, void *state, const sn_det_input_t *ring, size_t t,
       size_t from, sn_det_point_t *out)
{
    (void)state;
    size_t last = ring->n - 1;
    if (t < from || (long)t < s_first_index(p, ring->frequency)) {
        return;
    }
    sn_err_t err;
    long tofs = (long)t - (long)last;
    if (s_run(p, ring, last, last, tofs, out, &err) != SN_OK) {
        det_point_na(out);
        out->observed = ring->count[last];
    }
}

const det_method_t det_farrington = {
    "farrington", s_params,  s_extra, NULL, s_validate, s_first,
    s_eval,       s_history, 0,       NULL, s_step,
};
