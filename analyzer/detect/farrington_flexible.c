/*  analyzer/detect/farrington_flexible.c - R's farringtonFlexible()
 *
 *  The improved Farrington method of Noufaily et al. (2013) as the
 *  surveillance package implements it, and its original-like settings.
 *  For each evaluated period t the GLM sees the windows of +-w periods
 *  around t - y years (y = 1..b) and, with noPeriods > 1, the stretches
 *  between them cut into noPeriods - 1 blocks, each its own level of a
 *  seasonal factor; the newest pastWeeksNotIncluded periods are left out.
 *  The fit (glm.c, farrington.c) is reweighted by Anscombe residuals above
 *  weightsThreshold; the trend stays only if significant at
 *  pThresholdTrend, b >= 3 and the prediction does not extrapolate.
 *
 *  Copied quirks of the package (ALGORITHM-NOTES, section 4): after
 *  reweighting, the fit's working weights are replaced by the prior
 *  weights, so the trend test and the prediction's standard error use
 *  d* = sum(omega * ((y - mu)/mu)^2) / (m - p) rather than the Pearson
 *  statistic; "delta" is one-sided; "nbPlugin" gives an integer negative
 *  binomial (or Poisson) quantile; fewer than limit54 recent cases give
 *  the bound NA and no alarm.
 */
#include "detect_int.h"
#include "dmath.h"
#include "farrington.h"
#include "sentinel/mem.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_B,
    P_W,
    P_REWEIGHT,
    P_WTHR,
    P_ALPHA,
    P_TREND,
    P_PTREND,
    P_LIMIT54,
    P_POWER,
    P_POPOFS,
    P_NOPER,
    P_PASTW,
    P_THRMETHOD,
    P_REFMODE,
    P_FITFUN,
    P_GLMWARN,
    P_VERBOSE
};

enum { TH_DELTA, TH_NBPLUGIN, TH_MUAN };

#define S_MAX_PERIODS (DET_GLM_MAX_P - 1)

static const char *const s_power[] = {"2/3", "1/2", "none", NULL};
static const char *const s_thr[] = {"delta", "nbPlugin", "muan", NULL};
static const char *const s_refmode[] = {"index", "date", NULL};
static const char *const s_fitfun[] = {"algo.farrington.fitGLM.flexible", NULL};

static const det_param_def_t s_params[] = {
    {"b", DET_PARAM_INT, 5, 1, 50, NULL, 0, 0},
    {"w", DET_PARAM_INT, 3, 0, 26, NULL, 0, 0},
    {"reweight", DET_PARAM_BOOL, 1, 0, 1, NULL, 0, 0},
    {"weightsThreshold", DET_PARAM_DOUBLE, 2.58, 0, 1e6, NULL, 0, 0},
    {"alpha", DET_PARAM_DOUBLE, 0.05, 1e-12, 0.5, NULL, 0, 0},
    {"trend", DET_PARAM_BOOL, 1, 0, 1, NULL, 0, 0},
    {"pThresholdTrend", DET_PARAM_DOUBLE, 0.05, 0, 1, NULL, 0, 0},
    {"limit54", DET_PARAM_PAIR, 5, 0, 1e6, NULL, 4, 0},
    {"powertrans", DET_PARAM_ENUM, 0, 0, 2, s_power, 0, 0},
    {"populationOffset", DET_PARAM_BOOL, 0, 0, 1, NULL, 0, 0},
    {"noPeriods", DET_PARAM_INT, 1, 1, S_MAX_PERIODS, NULL, 0, 0},
    {"pastWeeksNotIncluded", DET_PARAM_INT, NAN, 0, 520, NULL, 0, 1},
    {"thresholdMethod", DET_PARAM_ENUM, 0, 0, 2, s_thr, 0, 0},
    {"referenceMode", DET_PARAM_ENUM, 0, 0, 1, s_refmode, 0, 0},
    {"fitFun", DET_PARAM_ENUM, 0, 0, 0, s_fitfun, 0, 0},
    {"glmWarnings", DET_PARAM_BOOL, 1, 0, 1, NULL, 0, 0},
    {"verbose", DET_PARAM_BOOL, 0, 0, 1, NULL, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

enum { X_PHI, X_TREND, X_TREND_COEF, X_PVALUE, X_MU0 };
static const char *const s_extra[] = {"phi",    "trend", "trend_coef",
                                      "pvalue", "mu0",   NULL};

/* The workspace of one evaluation call. */
typedef struct s_work {
    det_glm_t *glm;     /* the fit */
    det_farr_data_t *d; /* the GLM rows */
    int *level;         /* seasonal level per period of the span, 0 NA */
    int *rowlev;        /* level per GLM row */
    size_t cap;         /* periods the span may cover */
    int levels[S_MAX_PERIODS + 1]; /* levels present, ascending */
    int nlev;                      /* how many */
    long rel[64];                  /* refs - lo that `level` was made for */
    bool have;                     /* level holds the blocks of rel */
    unsigned long lev_gen;         /* d->gen whose levels d->lev holds */
} s_work_t;

/* ------------------------------------------------------ reference rows */

static bool
s_date_mode(const double *p, const sn_det_input_t *in)
{
    return in->day != NULL && p[P_REFMODE] == 1;
}

/* The reference periods refs[0] = t, refs[i] = t - i years (i <= b).
 * @return 0, or -1 when one does not exist (R stops there). */
static int
s_refs(const double *p, const sn_det_input_t *in, size_t t, long *refs)
{
    long b = (long)p[P_B];
    refs[0] = (long)t;
    for (long i = 1; i <= b; i++) {
        if (s_date_mode(p, in)) {
            sn_day_t d = det_farr_years_back(in->day[t], (int)i, in->frequency);
            refs[i] = det_farr_find_day(in->day, in->n, d);
        } else {
            refs[i] = (long)t - (long)in->frequency * i;
        }
        if (refs[i] - (long)p[P_W] < 0) {
            return -1;
        }
    }
    return 0;
}

/* Set level[a .. b] (span-relative) to v; R's a:(a-1) sets both. */
static void
s_set(int *level, long a, long b, int v)
{
    if (b < a) {
        long tmp = a;
        a = b;
        b = tmp;
    }
    for (long i = a; i <= b; i++) {
        level[i] = v;
    }
}

/* R's blocks(): levels of the span refs[b] - w .. t. @return 0 or -1. */
static int
s_blocks(const double *p, const long *refs, long lo, int *level)
{
    long b = (long)p[P_B], w = (long)p[P_W], np = (long)p[P_NOPER];
    for (long i = 0; i <= refs[0] - lo; i++) {
        level[i] = 0;
    }
    s_set(level, refs[0] - w - lo, refs[0] - lo, (int)np);
    for (long i = 1; i <= b; i++) {
        long r = refs[i];
        s_set(level, r - w - lo, r + w - lo, (int)np);
        if (np == 1) {
            continue;
        }
        long period = refs[i - 1] - 2 * w - 1 - r;
        if (period < np - (2 * w + 1)) {
            return -1; /* R: "Number of factors too big!" */
        }
        long len = period / (np - 1), rest = period % (np - 1), cum = 0;
        for (long j = 1; j <= np - 1; j++) {
            long lj = len + (j <= rest ? 1 : 0);
            long a = r + w + 1 + cum;
            s_set(level, a - lo, a + lj - 1 - lo, (int)j);
            cum += lj;
        }
    }
    return 0;
}

/* The rows of a span by index whose counts are all present: each
 * stretch of weeks with a level copied at once. */
static void
s_rows_span(size_t t, long lo, long tofs, s_work_t *wk, double *wt0)
{
    const int *level = wk->level;
    size_t m = 0;
    wk->d->m = 0;
    *wt0 = (double)((long)t + 1 + tofs);
    for (long i = lo; i <= (long)t;) {
        long j = i;
        while (j <= (long)t && level[j - lo] != 0) {
            j++;
        }
        if (j > i) {
            size_t n = (size_t)(j - i);
            det_farr_data_span(wk->d, (size_t)i, n, (double)(i + 1 + tofs));
            memcpy(wk->rowlev + m, level + (i - lo), n * sizeof(int));
            m += n;
        }
        i = j + 1;
    }
}

/* Gather the GLM rows of the span (levels set, counts present). */
static void
s_rows(const double *p, const sn_det_input_t *in, size_t t, long lo, long tofs,
       s_work_t *wk, double *wt0)
{
    long pw = isnan(p[P_PASTW]) ? (long)p[P_W] : (long)p[P_PASTW];
    for (long i = (long)t - pw; i <= (long)t; i++) {
        if (i >= lo) {
            wk->level[i - lo] = 0;
        }
    }
    bool date = s_date_mode(p, in);
    if (!date && det_farr_data_present(wk->d, (size_t)lo, t)) {
        s_rows_span(t, lo, tofs, wk, wt0);
        return;
    }
    long first = -1;
    size_t m = 0;
    wk->d->m = 0;
    double step = date ? (double)(in->day[1] - in->day[0]) : 1.0;
    for (long i = lo; i <= (long)t; i++) {
        if (wk->level[i - lo] == 0) {
            continue;
        }
        first = first < 0 ? i : first;
        if (isnan(in->count[i])) {
            continue;
        }
        double wtime = date ? (double)(in->day[i] - in->day[first]) / step
                            : (double)(i + 1 + tofs);
        det_farr_data_add(wk->d, (size_t)i, wtime, 0);
        wk->rowlev[m] = wk->level[i - lo];
        if (m == 0) {
            *wt0 = date ? (double)(in->day[t] - in->day[i]) / step
                        : (double)((long)t + 1 + tofs);
        }
        m++;
    }
}

/* ---------------------------------------------------------------- fit */

/* The levels present in the rows (wk->levels), and each row's level as
 * the index of its level among them into d->lev. @return 0, or -1 where
 * level noPeriods is not among them. */
static int
s_levels_present(int np, s_work_t *wk)
{
    det_farr_data_t *d = wk->d;
    bool seen[S_MAX_PERIODS + 1] = {false};
    for (size_t i = 0; i < d->m; i++) {
        seen[wk->rowlev[i]] = true;
    }
    wk->nlev = 0;
    for (int l = 1; l <= np; l++) {
        if (seen[l]) {
            wk->levels[wk->nlev++] = l;
        }
    }
    if (!seen[np]) {
        return -1;
    }
    int map[S_MAX_PERIODS + 1] = {0};
    for (int k = 0; k < wk->nlev; k++) {
        map[wk->levels[k]] = k;
    }
    for (size_t i = 0; i < d->m; i++) {
        d->lev[i] = map[wk->rowlev[i]];
    }
    return 0;
}

/* Build the design (intercept, [wtime], seasgroups by treatment
 * contrasts on the levels present) and the prediction row x0 for level
 * noPeriods at wtime wt0. @return 0, or -1 where R's model fails. */
static int
s_design(const double *p, s_work_t *wk, bool trend, double wt0, double *x0)
{
    det_farr_data_t *d = wk->d;
    int np = (int)p[P_NOPER];
    if (wk->lev_gen != d->gen) { /* else the same rows' levels are set */
        if (s_levels_present(np, wk) != 0) {
            return -1; /* R: factor seasgroups has new level */
        }
        wk->lev_gen = d->gen;
    }
    size_t nf = np > 1 ? (size_t)wk->nlev - 1 : 0, c = 0;
    det_farr_data_design(d, trend, nf + 1);
    x0[c++] = 1.0;
    if (trend) {
        x0[c++] = wt0;
    }
    for (size_t k = 1; k <= nf; k++, c++) {
        x0[c] = np == wk->levels[k];
    }
    return 0;
}

/* R's algo.farrington.fitGLM.flexible: the fit must converge (with the
 * trend dropped if need be); *dstar gets the dispersion with the working
 * weights overwritten by the prior weights. @return 0 or -1 (NULL). */
static int
s_fit(const double *p, s_work_t *wk, bool trend, double wt0, double *x0,
      double *phi, double *dstar)
{
    bool conv;
    if (wk->d->m == 0 || s_design(p, wk, trend, wt0, x0) != 0 ||
        det_farr_fit(wk->glm, wk->d, p[P_REWEIGHT] != 0, p[P_WTHR], phi,
                     &conv) != 0 ||
        !conv) {
        return -1;
    }
    if (!wk->d->trend && trend) {
        /* The trend was dropped: its slot in x0 goes too. */
        memmove(x0 + 1, x0 + 2, (wk->d->p - 1) * sizeof(double));
    }
    *dstar =
        det_glm_dispersion(wk->glm, p[P_REWEIGHT] != 0 ? wk->d->omega : NULL);
    return 0;
}

/* The trend rule of algo.farrington.glm(). @return 0 or -1 (NA). */
static int
s_trend_rule(const double *p, s_work_t *wk, double wt0, double *x0, double *phi,
             double *dstar, bool *dotrend)
{
    det_glm_t *glm = wk->glm;
    *dotrend = false;
    if (!wk->d->trend) {
        return 0;
    }
    double eta, xvx;
    if (det_glm_predict(glm, x0, &eta, &xvx) != 0) {
        return -1;
    }
    double se = sqrt(det_glm_var(glm, 1) * *dstar);
    double pv = 2.0 * det_pt(-fabs(glm->coef[1] / se), glm->df_residual, true);
    const double *y = wk->d->y;
    double ymax = y[0];
    for (size_t i = 1; i < wk->d->m; i++) {
        ymax = y[i] > ymax ? y[i] : ymax; /* rows have no NA counts */
    }
    *dotrend =
        p[P_B] >= 3 && pv < p[P_PTREND] && fmax(exp(eta), DBL_EPSILON) <= ymax;
    if (*dotrend) {
        return 0;
    }
    return s_fit(p, wk, false, wt0, x0, phi, dstar);
}

/* ---------------------------------------------------------- threshold */

/* The prediction at t and what the threshold functions give. */
typedef struct s_pred {
    double fit;   /* pred$fit: log scale (nbPlugin, muan) or response */
    double se;    /* pred$se.fit on the same scale */
    double phi;   /* max(1, Pearson) of the reweighted fit */
    double upper; /* lu$upper */
    double prob;  /* lu$prob */
    double score; /* lu$score */
    double mu0;   /* R's mu0Vector */
} s_pred_t;

/* algo.farrington.threshold.farrington: one-sided, power transformed. */
static void
s_thr_delta(const double *p, double y, s_pred_t *pr)
{
    double mu0 = pr->fit, tau = pr->phi + pr->se * pr->se / mu0, sd, e;
    int power = (int)p[P_POWER];
    if (power == 0) {
        e = 2.0 / 3.0;
        sd = sqrt(4.0 / 9.0 * pow(mu0, 1.0 / 3.0) * tau);
    } else if (power == 1) {
        e = 0.5;
        sd = sqrt(1.0 / 4.0 * tau);
    } else {
        e = 1.0;
        sd = sqrt(mu0 * tau);
    }
    double z = det_qnorm(1.0 - p[P_ALPHA]);
    pr->upper = pow(pow(mu0, e) + z * sd, 1.0 / e);
    pr->prob = det_pnorm((pow(y, e) - pow(mu0, e)) / sd, false);
    pr->score = isnan(pr->upper) ? NAN : (y - mu0) / (pr->upper - mu0);
    pr->mu0 = exp(pr->fit + pr->se * z);
}

/* algo.farrington.threshold.noufaily: NB (or Poisson) plug-in quantile. */
static void
s_thr_noufaily(const double *p, double y, s_pred_t *pr)
{
    double a = p[P_ALPHA], phi = pr->phi;
    double mu0 = (int)p[P_THRMETHOD] == TH_NBPLUGIN
                     ? exp(pr->fit)
                     : exp(pr->fit + pr->se * det_qnorm(1.0 - a));
    pr->mu0 = exp(pr->fit);
    if (isinf(mu0)) {
        pr->upper = pr->prob = pr->score = NAN;
        return;
    }
    if (phi > 1.0) {
        pr->upper = det_qnbinom(1.0 - a, mu0 / (phi - 1.0), 1.0 / phi);
        pr->prob = 1.0 - det_pnbinom(y - 1.0, mu0 / (phi - 1.0), 1.0 / phi);
    } else {
        pr->upper = det_qpois(1.0 - a, mu0);
        pr->prob = 1.0 - det_ppois(y - 1.0, mu0);
    }
    pr->score = isnan(pr->upper) ? NAN : (y - pr->fit) / (pr->upper - pr->fit);
}

/* Sum of the last `period` counts up to t; NAN if any is missing. */
static double
s_recent_sum(const sn_det_input_t *in, size_t t, double period)
{
    long first = (long)t - (long)period + 1;
    double s = first < 0 ? NAN : 0.0;
    for (long i = first < 0 ? 0 : first; i <= (long)t; i++) {
        s += in->count[i];
    }
    return s;
}

/* The end of farringtonFlexible's loop body. */
static void
s_output(const double *p, const sn_det_input_t *in, size_t t,
         const s_pred_t *pr, sn_det_point_t *out)
{
    double y = in->count[t];
    double sum = s_recent_sum(in, t, p[DET_MAX_PARAMS + P_LIMIT54]);
    bool known = !isnan(sum), enough = known && sum >= p[P_LIMIT54];
    double x = enough ? pr->score : NAN;
    bool response = (int)p[P_THRMETHOD] == TH_DELTA;
    out->alarm = !isnan(x) && x > 1.0 && y != 0.0;
    out->upperbound = enough ? pr->upper : NAN;
    out->expected = NAN;
    if (!isnan(pr->upper) && enough) {
        out->expected = response ? pr->fit : exp(pr->fit);
    }
    out->score = pr->score;
    out->extra[X_PHI] = pr->phi;
    out->extra[X_PVALUE] = pr->prob;
    out->extra[X_MU0] = pr->mu0;
}

/* ------------------------------------------------------------- method */

/* The span's levels (s_blocks, with the newest weeks cleared by
 * s_rows): they depend only on the reference periods relative to the
 * span's start, so consecutive points by index reuse them.
 * @return false, or true where R's blocks() fails. */
static bool
s_levels(const double *p, const long *refs, long lo, s_work_t *wk)
{
    long b = (long)p[P_B];
    bool same = wk->have;
    for (long i = 0; i <= b; i++) {
        same = same && wk->rel[i] == refs[i] - lo;
        wk->rel[i] = refs[i] - lo;
    }
    if (same) {
        return false;
    }
    wk->have = s_blocks(p, refs, lo, wk->level) == 0;
    return !wk->have;
}

/* Evaluate time point t; wtime is the 1-based index plus tofs. */
static void
s_point(const double *p, const sn_det_input_t *in, size_t t, long tofs,
        s_work_t *wk, sn_det_point_t *out)
{
    long refs[64];
    double x0[DET_GLM_MAX_P], wt0 = 0.0, phi, dstar, eta, xvx;
    bool dotrend;
    det_point_na(out);
    out->observed = in->count[t];
    if (s_refs(p, in, t, refs) != 0) {
        return;
    }
    long lo = refs[(long)p[P_B]] - (long)p[P_W];
    if ((size_t)(refs[0] - lo + 1) > wk->cap || s_levels(p, refs, lo, wk)) {
        return;
    }
    s_rows(p, in, t, lo, tofs, wk, &wt0);
    if (s_fit(p, wk, p[P_TREND] != 0, wt0, x0, &phi, &dstar) != 0 ||
        s_trend_rule(p, wk, wt0, x0, &phi, &dstar, &dotrend) != 0 ||
        det_glm_predict(wk->glm, x0, &eta, &xvx) != 0) {
        return;
    }
    double scale = sqrt(dstar);
    s_pred_t pr = {eta, sqrt(xvx * (scale * scale)), phi, NAN, NAN, NAN, NAN};
    if ((int)p[P_THRMETHOD] == TH_DELTA) {
        pr.fit = fmax(exp(eta), DBL_EPSILON);
        pr.se *= pr.fit;
        s_thr_delta(p, in->count[t], &pr);
    } else {
        s_thr_noufaily(p, in->count[t], &pr);
    }
    s_output(p, in, t, &pr, out);
    out->extra[X_TREND] = dotrend ? 1.0 : 0.0;
    out->extra[X_TREND_COEF] = dotrend ? wk->glm->coef[1] : NAN;
}

/* The first 0-based index whose oldest window lies inside the series. */
static long
s_first_index(const double *p, int frequency)
{
    long first = (long)frequency * (long)p[P_B] + (long)p[P_W];
    long l54 = (long)p[DET_MAX_PARAMS + P_LIMIT54] - 1;
    return first > l54 ? first : l54;
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
    if (p[P_POPOFS] != 0) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "parameter 'populationOffset': TRUE needs a "
                          "population column, which the input lacks");
    }
    return SN_OK;
}

static size_t
s_history(const double *p, int frequency)
{
    size_t b = (size_t)p[P_B];
    return b * (size_t)frequency + (size_t)p[P_W] + b / 4 + 2 +
           (size_t)p[DET_MAX_PARAMS + P_LIMIT54];
}

static int
s_run(const double *p, const sn_det_input_t *in, size_t from, size_t to,
      long tofs, sn_det_point_t *out, sn_err_t *err)
{
    if (s_date_mode(p, in) && (in->frequency != 52 && in->frequency != 365)) {
        return sn_err_set(err, SN_EINVAL,
                          "reference by date needs weekly or daily data, not "
                          "frequency %d",
                          in->frequency);
    }
    s_work_t wk = {0};
    wk.cap = s_history(p, in->frequency) + 8;
    wk.glm = det_glm_new(wk.cap);
    wk.d = det_farr_data_new(wk.cap);
    wk.level = sn_calloc(wk.cap, sizeof(int));
    wk.rowlev = sn_calloc(wk.cap, sizeof(int));
    det_farr_data_series(wk.d, in->count, in->n);
    for (size_t t = from; t <= to; t++) {
        s_point(p, in, t, tofs, &wk, &out[t - from]);
    }
    det_glm_destroy(&wk.glm);
    det_farr_data_destroy(&wk.d);
    free(wk.level);
    free(wk.rowlev);
    return SN_OK;
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    return s_run(p, in, from, to, 0, out, err);
}

/* Streaming: the newest point of the ring, with its absolute index as the
 * time variable so the numbers equal the batch form's. */
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
    if (s_run(p, ring, last, last, (long)t - (long)last, out, &err) != 0) {
        det_point_na(out);
        out->observed = ring->count[last];
    }
}

const det_method_t det_farrington_flexible = {
    "farrington-flexible",
    s_params,
    s_extra,
    NULL,
    s_validate,
    s_first,
    s_eval,
    s_history,
    0,
    NULL,
    s_step,
};
