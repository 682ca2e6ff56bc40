/*  analyzer/detect/rki.c - the RKI detector, as surveillance::algo.rki
 *
 *  The Robert Koch Institute's rule on the Bayes baseline (bayes.h): when
 *  the baseline mean exceeds 20 the bound is mean + 2 SD (sample SD);
 *  otherwise it is the `upper` entry of the package's table for
 *  floor(mean), copied below from its CIdata (ALGORITHM-NOTES §9). R stops
 *  on a missing baseline value; here that point comes out NA.
 */
#include "bayes.h"
#include "detect_int.h"

#include <math.h>

enum { P_B, P_W, P_ACTY };

/* surveillance's CIdata$upper for means 0 .. 20. */
static const double s_upper[21] = {
    3.285,  5.323,  6.686,  8.102,  9.598,  11.177, 12.817,
    13.765, 14.921, 16.768, 17.633, 19.05,  20.335, 21.364,
    22.945, 23.762, 25.4,   26.306, 27.735, 28.966, 30.017,
};

/* The bound for a baseline of n values (two-pass mean and SD, as R). */
static double
s_bound(const double *base, size_t n, double *mean_out)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        sum += base[i];
    }
    double mean = sum / (double)n;
    *mean_out = mean;
    if (isnan(mean)) {
        return NAN;
    }
    if (mean > 20) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) {
            ss += (base[i] - mean) * (base[i] - mean);
        }
        return mean + 2 * sqrt(ss / (double)(n - 1));
    }
    return s_upper[(int)floor(mean)];
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    (void)err;
    int b = (int)p[P_B], w = (int)p[P_W];
    double base[DET_BAYES_MAX_BASE];
    for (size_t t = from; t <= to; t++) {
        size_t nb = det_bayes_baseline(in->count, t, b, w, p[P_ACTY] != 0,
                                       in->frequency, base);
        double mean;
        double u = nb > 0 ? s_bound(base, nb, &mean) : (mean = NAN);
        double y = in->count[t];
        sn_det_point_t *pt = &out[t - from];
        det_point_init(pt);
        pt->observed = y;
        pt->expected = mean;
        pt->upperbound = u;
        pt->alarm = (isnan(y) || isnan(u)) ? SN_DET_NA : (y > u);
    }
    return SN_OK;
}

static int64_t
s_first(const double *p, const sn_det_input_t *in)
{
    return det_bayes_first((int)p[P_B], (int)p[P_W], p[P_ACTY] != 0,
                           in->frequency, in->n);
}

static size_t
s_history(const double *p, int frequency)
{
    return det_bayes_history((int)p[P_B], (int)p[P_W], frequency);
}

static const det_param_def_t s_params[] = {
    {"b", DET_PARAM_INT, 2, 0, 10, NULL, 0, 0},
    {"w", DET_PARAM_INT, 4, 0, 100, NULL, 0, 0},
    {"actY", DET_PARAM_BOOL, 0, 0, 1, NULL, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

const det_method_t det_rki = {
    "rki",  s_params,  NULL, NULL, NULL, s_first,
    s_eval, s_history, 0,    NULL, NULL,
};
