/*  analyzer/detect/ears.c - CDC EARS C1, C2 and C3, as surveillance::earsC
 *
 *  C1 compares the count with the mean and sample SD of the previous
 *  `baseline` periods; C2 does the same with a two-period guard band; C3
 *  is what the package computes (ALGORITHM-NOTES §1): the bound
 *  max(0, y + sd (z - S)) where S adds the positive excesses over 1 of the
 *  two previous C2 statistics. The baseline moves by running sums, so a
 *  whole series costs O(n); sums of integer counts are exact in doubles,
 *  so a flat baseline gives an SD of exactly 0, as R's two-pass SD does.
 *  R's max(0, NaN) is NaN, which the degenerate sparse series rely on.
 */
#include "detect_int.h"
#include "dmath.h"

#include <math.h>

enum { P_BASELINE, P_ALPHA, P_MINSIGMA };

/* A sliding baseline: the sum and sum of squares of its non-missing values
 * and the number of missing ones. */
typedef struct s_win {
    double sum;   /* sum of the non-missing values */
    double sumsq; /* sum of their squares */
    int nna;      /* missing values in the window */
} s_win_t;

static void
s_win_add(s_win_t *w, double y, double sign)
{
    if (isnan(y)) {
        w->nna += (int)sign;
        return;
    }
    w->sum += sign * y;
    w->sumsq += sign * y * y;
}

/* Fill the window with y[lo .. lo+b-1]. */
static void
s_win_fill(s_win_t *w, const double *y, size_t lo, int b)
{
    w->sum = w->sumsq = 0;
    w->nna = 0;
    for (int i = 0; i < b; i++) {
        s_win_add(w, y[lo + (size_t)i], 1);
    }
}

/* Mean and SD of the window (NAN when a value is missing). */
static void
s_win_stats(const s_win_t *w, int b, double *mean, double *sd)
{
    if (w->nna > 0) {
        *mean = *sd = NAN;
        return;
    }
    double var = (b * w->sumsq - w->sum * w->sum) / ((double)b * (b - 1));
    *mean = w->sum / b;
    *sd = var > 0 ? sqrt(var) : 0;
}

/* R's max(a, b): NaN when either is NaN. */
static double
s_rmax(double a, double b)
{
    if (isnan(a) || isnan(b)) {
        return NAN;
    }
    return a > b ? a : b;
}

static void
s_alarm(sn_det_point_t *pt, double y, double u)
{
    pt->observed = y;
    pt->upperbound = u;
    pt->alarm = (isnan(y) || isnan(u)) ? SN_DET_NA : (y > u);
}

/* C1 (lag 1) and C2 (lag 3): the baseline of t is y[t-lag-b+1 .. t-lag]. */
static int
s_eval_c12(const double *p, const sn_det_input_t *in, size_t from, size_t to,
           sn_det_point_t *out, size_t lag)
{
    int b = (int)p[P_BASELINE];
    double z = det_qnorm(1 - p[P_ALPHA]);
    const double *y = in->count;
    s_win_t w;
    s_win_fill(&w, y, from - lag - (size_t)b + 1, b);
    for (size_t t = from; t <= to; t++) {
        if (t > from) {
            s_win_add(&w, y[t - lag], 1);
            s_win_add(&w, y[t - lag - (size_t)b], -1);
        }
        double mean, sd;
        s_win_stats(&w, b, &mean, &sd);
        sn_det_point_t *pt = &out[t - from];
        det_point_init(pt);
        double sigma = s_rmax(sd, p[P_MINSIGMA]);
        s_alarm(pt, y[t], mean + z * sigma);
        pt->expected = mean;
        pt->score = (y[t] - mean) / sigma;
    }
    return SN_OK;
}

static int
s_eval_c1(const double *p, const sn_det_input_t *in, size_t from, size_t to,
          sn_det_point_t *out, sn_err_t *err)
{
    (void)err;
    return s_eval_c12(p, in, from, to, out, 1);
}

static int
s_eval_c2(const double *p, const sn_det_input_t *in, size_t from, size_t to,
          sn_det_point_t *out, sn_err_t *err)
{
    (void)err;
    return s_eval_c12(p, in, from, to, out, 3);
}

/* C3: the C2 statistics of t-2, t-1 and t come from one sliding window,
 * which starts at the baseline of from-2. */
static int
s_eval_c3(const double *p, const sn_det_input_t *in, size_t from, size_t to,
          sn_det_point_t *out, sn_err_t *err)
{
    (void)err;
    int b = (int)p[P_BASELINE];
    double z = det_qnorm(1 - p[P_ALPHA]);
    const double *y = in->count;
    double c2[3] = {NAN, NAN, NAN}; /* C2 statistics of s-2, s-1, s */
    s_win_t w;
    s_win_fill(&w, y, from - 2 - 3 - (size_t)b + 1, b);
    for (size_t s = from - 2; s <= to; s++) {
        if (s > from - 2) {
            s_win_add(&w, y[s - 3], 1);
            s_win_add(&w, y[s - 3 - (size_t)b], -1);
        }
        double mean, sd;
        s_win_stats(&w, b, &mean, &sd);
        sd = s_rmax(sd, p[P_MINSIGMA]);
        c2[0] = c2[1];
        c2[1] = c2[2];
        c2[2] = (y[s] - mean) / sd;
        if (s < from) {
            continue;
        }
        double sum = s_rmax(0, c2[0] - 1) + s_rmax(0, c2[1] - 1);
        sn_det_point_t *pt = &out[s - from];
        det_point_init(pt);
        s_alarm(pt, y[s], s_rmax(0, y[s] + sd * (z - sum)));
        pt->expected = mean;
        pt->score = sum;
    }
    return SN_OK;
}

static int64_t
s_first_c1(const double *p, const sn_det_input_t *in)
{
    int64_t f = (int64_t)p[P_BASELINE];
    return f < (int64_t)in->n ? f : SN_ENODATA;
}

static int64_t
s_first_c2(const double *p, const sn_det_input_t *in)
{
    int64_t f = (int64_t)p[P_BASELINE] + 2;
    return f < (int64_t)in->n ? f : SN_ENODATA;
}

static int64_t
s_first_c3(const double *p, const sn_det_input_t *in)
{
    int64_t f = (int64_t)p[P_BASELINE] + 4;
    return f < (int64_t)in->n ? f : SN_ENODATA;
}

static size_t
s_history(const double *p, int frequency)
{
    (void)frequency;
    return (size_t)p[P_BASELINE] + 5;
}

static const det_param_def_t s_params[] = {
    {"baseline", DET_PARAM_INT, 7, 3, 100000, NULL, 0, 0},
    {"alpha", DET_PARAM_DOUBLE, 0.001, 0, 1, NULL, 0, 0},
    {"minSigma", DET_PARAM_DOUBLE, 0, 0, INFINITY, NULL, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

static const det_param_def_t s_params_c3[] = {
    {"baseline", DET_PARAM_INT, 7, 3, 100000, NULL, 0, 0},
    {"alpha", DET_PARAM_DOUBLE, 0.025, 0, 1, NULL, 0, 0},
    {"minSigma", DET_PARAM_DOUBLE, 0, 0, INFINITY, NULL, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

const det_method_t det_ears_c1 = {
    "ears-c1", s_params,  NULL, NULL, NULL, s_first_c1,
    s_eval_c1, s_history, 0,    NULL, NULL,
};

const det_method_t det_ears_c2 = {
    "ears-c2", s_params,  NULL, NULL, NULL, s_first_c2,
    s_eval_c2, s_history, 0,    NULL, NULL,
};

const det_method_t det_ears_c3 = {
    "ears-c3", s_params_c3, NULL, NULL, NULL, s_first_c3,
    s_eval_c3, s_history,   0,    NULL, NULL,
};
