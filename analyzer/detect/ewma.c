/*  analyzer/detect/ewma.c - ESSENCE's EWMA, as CDC's Rnssp alert_ewma
 *
 *  Two exponentially weighted averages of the daily counts (w1 = 0.4 for
 *  gradual events, w2 = 0.9 for sudden ones) are compared with the mean of
 *  a baseline that ends g days before the day (it grows from 7 to B days,
 *  then slides). Each is standardised by the baseline SD with Rnssp's
 *  correction and floor, and tested against Student's t with L - 1 degrees
 *  of freedom; the smaller p-value is reported (ties go to w2). An average
 *  that passes the alert limit is pulled back to the limit before it feeds
 *  the next day, so the recursion depends on the whole past: the batch form
 *  always starts at day 1, and the streaming form carries the two averages.
 *  Labels: red p < 0.01, yellow p < 0.05, blue otherwise, grey while the
 *  baseline is too short.
 */
#include "detect_int.h"
#include "dmath.h"

#include <math.h>
#include <stddef.h>

enum { P_B, P_G, P_W1, P_W2 };

#define EWMA_MIN_BASELINE 7
#define EWMA_MAX_B 365

/* The recursion state, also the streaming state. */
typedef struct s_state {
    double z[2];                      /* the two averages, after clamping */
    double ucl_alert[EWMA_MAX_B + 1]; /* round(qt(0.99, L - 1), 5) by L */
    double ucl_warn[EWMA_MAX_B + 1];  /* round(qt(0.95, L - 1), 5) by L */
} s_state_t;

static void
s_init(const double *p, int frequency, void *state)
{
    (void)frequency;
    s_state_t *st = state;
    st->z[0] = st->z[1] = NAN;
    for (int l = 2; l <= (int)p[P_B]; l++) {
        st->ucl_alert[l] = det_round(det_qt(1 - 0.01, l - 1), 5);
        st->ucl_warn[l] = det_round(det_qt(1 - 0.05, l - 1), 5);
    }
}

/* Mean and sample SD of y[lo .. lo+len-1], two-pass as R. */
static void
s_baseline(const double *y, size_t len, double *mean, double *sd)
{
    double sum = 0, ss = 0;
    for (size_t i = 0; i < len; i++) {
        sum += y[i];
    }
    *mean = sum / (double)len;
    for (size_t i = 0; i < len; i++) {
        ss += (y[i] - *mean) * (y[i] - *mean);
    }
    *sd = sqrt(ss / (double)(len - 1));
}

static const char *
s_label(double pv)
{
    if (isnan(pv)) {
        return "grey";
    }
    return pv < 0.01 ? "red" : (pv < 0.05 ? "yellow" : "blue");
}

/* Test branch k of day y against the baseline: statistic, p-value, sigma,
 * then clamp the average (Rnssp computes the p-value from the statistic
 * before the clamp). */
static void
s_branch(const s_state_t *st, double *z, double w, int g, size_t len,
         double mean, double sd, double out[3])
{
    double df = (double)len - 1, warn = st->ucl_warn[len];
    double alert = st->ucl_alert[len];
    double corr = sqrt((w / (2 - w)) + (1 / (double)len) -
                       2 * pow(1 - w, g + 1) *
                           ((1 - pow(1 - w, (double)len)) / (double)len));
    double min_sigma = (w / warn) * (0.01 + 0.05 * pow(1 - w, 2));
    double constant =
        (0.1289 - (0.2414 - 0.1826 * pow(1 - w, 4)) * log(10 * 0.05)) *
        (w / warn);
    double sigma = fmax(min_sigma, sd * corr + constant);
    double stat = (*z - mean) / sigma;
    if (fabs(stat) > alert) {
        *z = mean + (stat > 0 ? 1 : -1) * alert * sigma;
    }
    out[0] = stat;
    out[1] = 1 - det_pt(stat, df, true);
    out[2] = sigma;
}

/* Advance the recursion to 0-based day t, whose value is *cur (the values
 * before it are cur[-1], cur[-2], … back to the baseline's start), and fill
 * *pt. */
static void
s_day(const double *p, s_state_t *st, const double *cur, size_t t,
      sn_det_point_t *pt)
{
    int g = (int)p[P_G];
    double w[2] = {p[P_W1], p[P_W2]};
    det_point_na(pt);
    pt->observed = *cur;
    pt->label = "grey";
    for (int k = 0; k < 2; k++) {
        st->z[k] = t == 0 ? *cur : w[k] * *cur + (1 - w[k]) * st->z[k];
    }
    if (t < (size_t)(EWMA_MIN_BASELINE + g)) {
        return;
    }
    size_t len = t - (size_t)g;
    len = len < (size_t)p[P_B] ? len : (size_t)p[P_B];
    double mean, sd, r[2][3];
    s_baseline(cur - g - (ptrdiff_t)len, len, &mean, &sd);
    for (int k = 0; k < 2; k++) {
        s_branch(st, &st->z[k], w[k], g, len, mean, sd, r[k]);
    }
    const double *best = r[0][1] < r[1][1] ? r[0] : r[1];
    pt->expected = pt->extra[0] = mean;
    pt->extra[1] = best[2];
    pt->score = pt->extra[2] = best[0];
    pt->extra[3] = best[1];
    pt->label = s_label(best[1]);
    pt->alarm = isnan(best[1]) ? SN_DET_NA : best[1] < 0.05;
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    (void)err;
    s_state_t st;
    s_init(p, in->frequency, &st);
    sn_det_point_t scratch;
    for (size_t t = 0; t <= to; t++) {
        s_day(p, &st, in->count + t, t, t >= from ? &out[t - from] : &scratch);
    }
    return SN_OK;
}

static void
s_step(const double *p, void *state, const sn_det_input_t *ring, size_t t,
       size_t from, sn_det_point_t *out)
{
    /* The ring holds the newest B + g + 1 values, enough for a baseline. */
    sn_det_point_t scratch;
    s_day(p, state, ring->count + ring->n - 1, t, t >= from ? out : &scratch);
}

static int64_t
s_first(const double *p, const sn_det_input_t *in)
{
    size_t need = (size_t)p[P_B] + (size_t)p[P_G] + 1;
    return in->n >= need ? 0 : SN_ENODATA;
}

static size_t
s_history(const double *p, int frequency)
{
    (void)frequency;
    return (size_t)p[P_B] + (size_t)p[P_G] + 1;
}

static const char *const s_extra[] = {"expected", "sigma", "statistic",
                                      "pvalue", NULL};

static const det_param_def_t s_params[] = {
    {"B", DET_PARAM_INT, 28, 7, EWMA_MAX_B, NULL, 0, 0},
    {"g", DET_PARAM_INT, 2, 0, 365, NULL, 0, 0},
    {"w1", DET_PARAM_DOUBLE, 0.4, 0, 1, NULL, 0, 0},
    {"w2", DET_PARAM_DOUBLE, 0.9, 0, 1, NULL, 0, 0},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

const det_method_t det_ewma = {
    "ewma", s_params,  s_extra,           "alert", NULL,   s_first,
    s_eval, s_history, sizeof(s_state_t), s_init,  s_step,
};
