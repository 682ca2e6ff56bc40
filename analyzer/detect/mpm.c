/*  analyzer/detect/mpm.c - CIDARS's moving percentile method
 *
 *  China's CIDARS compares the count of the last 7 days with the P-th
 *  percentile of the 7-day counts at the same calendar position, and k
 *  blocks of 7 days either side, in each of the previous Y years. No public
 *  code exists; the definition followed here is the reference's (its mpm
 *  README, restated in docs/detectors.md): the same calendar date y years
 *  back, 29 February falling back to 28 February; R's type-7 quantile; an
 *  alarm when observed >= bound and observed >= min_count. It needs a
 *  complete daily series with dates; a window with a missing day gives NA.
 */
#include "detect_int.h"
#include "dmath.h"

#include <math.h>

enum { P_PERCENTILE, P_BLOCKS, P_YEARS, P_MIN_COUNT };

#define MPM_MAX_BASE (21 * 10) /* (2k + 1) * Y with k <= 10, Y <= 10 */

/* @return the day `years` calendar years before d (29 Feb -> 28 Feb). */
static sn_day_t
s_years_back(sn_day_t d, int years)
{
    int y, m, dd;
    sn_day_to_ymd(d, &y, &m, &dd);
    y -= years;
    if (m == 2 && dd == 29 && !sn_day_is_leap(y)) {
        dd = 28;
    }
    return sn_day_from_ymd(y, m, dd);
}

/* @return true when every window point t needs starts on or after day 0. */
static bool
s_evaluable(const double *p, const sn_det_input_t *in, size_t t)
{
    if (t < 6) {
        return false;
    }
    sn_day_t oldest = s_years_back(in->day[t], (int)p[P_YEARS]) -
                      7 * (sn_day_t)p[P_BLOCKS] - 6;
    return oldest >= in->day[0];
}

static int64_t
s_first(const double *p, const sn_det_input_t *in)
{
    if (in->day == NULL || in->n == 0 || !s_evaluable(p, in, in->n - 1)) {
        return SN_ENODATA;
    }
    size_t lo = 0, hi = in->n - 1; /* hi is evaluable; find the first */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_evaluable(p, in, mid)) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return (int64_t)lo;
}

/* The 7-day sum ending on index e. */
static double
s_week(const double *y, size_t e)
{
    return y[e - 6] + y[e - 5] + y[e - 4] + y[e - 3] + y[e - 2] + y[e - 1] +
           y[e];
}

static void
s_point(const double *p, const sn_det_input_t *in, size_t t, sn_det_point_t *pt)
{
    int k = (int)p[P_BLOCKS], years = (int)p[P_YEARS];
    double base[MPM_MAX_BASE];
    size_t nb = 0;
    bool missing = false;
    for (int yr = 1; yr <= years; yr++) {
        sn_day_t dy = s_years_back(in->day[t], yr);
        for (int j = -k; j <= k; j++) {
            size_t e = t - (size_t)(in->day[t] - (dy + 7 * j));
            base[nb] = s_week(in->count, e);
            missing = missing || isnan(base[nb]);
            nb++;
        }
    }
    double obs = s_week(in->count, t);
    det_point_init(pt);
    pt->observed = obs;
    if (missing) {
        return;
    }
    det_sort(base, nb);
    double u = det_quantile7(base, nb, p[P_PERCENTILE] / 100);
    pt->upperbound = u;
    pt->alarm = isnan(obs) ? SN_DET_NA : (obs >= u && obs >= p[P_MIN_COUNT]);
}

static size_t
s_history(const double *p, int frequency)
{
    (void)frequency;
    return (size_t)p[P_YEARS] * 366 + 7 * (size_t)p[P_BLOCKS] + 8;
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    size_t span = s_history(p, in->frequency);
    for (size_t t = from > span ? from - span : 1; t <= to; t++) {
        if (in->day[t] != in->day[t - 1] + 1) {
            return sn_err_set(err, SN_EINVAL,
                              "method 'mpm' needs consecutive days: time "
                              "point %zu does not follow the one before",
                              t + 1);
        }
    }
    for (size_t t = from; t <= to; t++) {
        s_point(p, in, t, &out[t - from]);
    }
    return SN_OK;
}

static const det_param_def_t s_params[] = {
    {"percentile", DET_PARAM_DOUBLE, 80, 0, 100, NULL, 0, 0},
    {"blocks", DET_PARAM_INT, 2, 0, 10, NULL, 0, 0},
    {"years", DET_PARAM_INT, 3, 1, 10, NULL, 0, 0},
    {"min_count", DET_PARAM_DOUBLE, 1, 0, INFINITY, NULL, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

const det_method_t det_mpm = {
    "mpm",  s_params,  NULL, NULL, NULL, s_first,
    s_eval, s_history, 0,    NULL, NULL,
};
