/*  analyzer/detect/bayes.c - the Bayes detector, as surveillance::algo.bayes
 *
 *  The baseline is the previous `w` periods (when actY) plus, for each of
 *  `b` years back, the window t - y*freq ± w, located by index arithmetic
 *  whatever the dates say (ALGORITHM-NOTES §8). With S the sum and N the
 *  number of non-missing baseline values, the bound is the 1 - alpha
 *  quantile of the Poisson-Gamma predictive, a negative binomial with size
 *  S + 1/2 and probability N/(N + 1): an integer. The baseline walk is
 *  shared with rki.c through det_bayes_baseline().
 */
#include "bayes.h"
#include "dmath.h"

#include <math.h>

enum { P_B, P_W, P_ACTY, P_ALPHA };

size_t
det_bayes_baseline(const double *y, size_t t, int b, int w, bool acty, int freq,
                   double *out)
{
    size_t n = 0;
    if (acty) {
        /* R's (t - w):(t - 1) counts down when w is 0: it holds t, t-1. */
        if (w == 0) {
            out[n++] = y[t];
            out[n++] = y[t - 1];
        }
        for (size_t i = t - (size_t)w; i < t; i++) {
            out[n++] = y[i];
        }
    }
    for (int yr = 1; yr <= b; yr++) {
        size_t c = t - (size_t)yr * (size_t)freq;
        for (size_t i = c - (size_t)w; i <= c + (size_t)w; i++) {
            out[n++] = y[i];
        }
    }
    return n;
}

int64_t
det_bayes_first(int b, int w, bool acty, int freq, size_t n)
{
    int64_t f = (int64_t)b * freq + w;
    if (b == 0) {
        f = acty ? (w == 0 ? 1 : w) : 0;
    }
    return f < (int64_t)n ? f : SN_ENODATA;
}

size_t
det_bayes_history(int b, int w, int freq)
{
    return (size_t)b * (size_t)freq + (size_t)w + 2;
}

#define BAYES_MEMO 1024 /* quantiles remembered by baseline sum */

/* The bound for baseline sum S over N values. Within one series N rarely
 * changes and S takes few values, so the quantile, whose search costs
 * O(bound), is remembered by S while N stays the same (memo NULL: not). */
static double
s_bound(double alpha, double sum, double cnt, double *memo, double *memo_cnt)
{
    bool small = memo && sum == floor(sum) && sum >= 0 && sum < BAYES_MEMO;
    if (!small) {
        return det_qnbinom(1 - alpha, sum + 0.5, cnt / (cnt + 1));
    }
    if (cnt != *memo_cnt) {
        for (int i = 0; i < BAYES_MEMO; i++) {
            memo[i] = NAN;
        }
        *memo_cnt = cnt;
    }
    double *u = &memo[(int)sum];
    if (isnan(*u)) {
        *u = det_qnbinom(1 - alpha, sum + 0.5, cnt / (cnt + 1));
    }
    return *u;
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    (void)err;
    int b = (int)p[P_B], w = (int)p[P_W];
    double base[DET_BAYES_MAX_BASE], memo[BAYES_MEMO], memo_cnt = -1;
    double *m = to - from >= 64 ? memo : NULL; /* not worth it for a few */
    for (size_t t = from; t <= to; t++) {
        size_t nb = det_bayes_baseline(in->count, t, b, w, p[P_ACTY] != 0,
                                       in->frequency, base);
        double sum = 0, cnt = 0;
        for (size_t i = 0; i < nb; i++) {
            if (!isnan(base[i])) {
                sum += base[i];
                cnt += 1;
            }
        }
        double u = s_bound(p[P_ALPHA], sum, cnt, m, &memo_cnt);
        double y = in->count[t];
        sn_det_point_t *pt = &out[t - from];
        det_point_init(pt);
        pt->observed = y;
        pt->expected = cnt > 0 ? sum / cnt : NAN;
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
    {"b", DET_PARAM_INT, 0, 0, 10, NULL, 0, 0},
    {"w", DET_PARAM_INT, 6, 0, 100, NULL, 0, 0},
    {"actY", DET_PARAM_BOOL, 1, 0, 1, NULL, 0, 0},
    {"alpha", DET_PARAM_DOUBLE, 0.05, 0, 1, NULL, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

const det_method_t det_bayes = {
    "bayes", s_params,  NULL, NULL, NULL, s_first,
    s_eval,  s_history, 0,    NULL, NULL,
};
