/*  analyzer/detect/cusum.c - CUSUM, as surveillance::algo.cusum
 *
 *  The in-control mean m is the `m` parameter, or (NULL, the default) the
 *  mean of every value before the first evaluated point. Each count is
 *  standardised ("standard": (y - m)/sqrt(m); "rossi": the Anscombe-like
 *  transform of Rossi et al.) and the statistic S = max(0, S + x - k) runs
 *  without reset; the alarm is S >= h. The bound is the count that would
 *  just reach h given the previous S (ALGORITHM-NOTES §6); a NaN or
 *  negative bound is written as 0, as R does. The streaming form carries S
 *  and the running mean before `from`, so it needs no ring at all.
 */
#include "detect_int.h"

#include <math.h>

enum { P_K, P_H, P_M, P_TRANS, P_ALPHA };
enum { TRANS_STANDARD, TRANS_ROSSI };

/* The streaming state: the pre-range sum and the statistic. */
typedef struct s_state {
    double sum; /* sum of the values before `from` */
    double n;   /* how many */
    double m;   /* the in-control mean, once fixed */
    double s;   /* the CUSUM statistic so far */
} s_state_t;

/* Evaluate one point: y with in-control mean m after statistic *s. */
static void
s_point(const double *p, double m, double y, double *s, sn_det_point_t *pt)
{
    double k = p[P_K], h = p[P_H], sm = sqrt(m), prev = *s;
    double x, u;
    if ((int)p[P_TRANS] == TRANS_ROSSI) {
        x = (y - 3 * m + 2 * sqrt(y * m)) / (2 * sm);
        u = 2 * h * sm + 2 * k * sm - 2 * prev * sm + 5 * m -
            2 * sqrt(4 * m * m + 2 * pow(m, 1.5) * (h + k - prev));
    } else {
        x = (y - m) / sm;
        u = ceil(sm * (h + k - prev) + m);
    }
    double next = prev + x - k;
    *s = (isnan(next) || next > 0) ? next : 0; /* R: max(0, NaN) is NaN */
    det_point_init(pt);
    pt->observed = y;
    pt->expected = m;
    pt->upperbound = (isnan(u) || u < 0) ? 0 : u;
    pt->score = *s;
    pt->alarm = isnan(*s) ? SN_DET_NA : (*s >= h);
    pt->extra[0] = m;
    pt->extra[1] = *s;
}

static int
s_eval(const double *p, const sn_det_input_t *in, size_t from, size_t to,
       sn_det_point_t *out, sn_err_t *err)
{
    (void)err;
    double m = p[P_M];
    if (isnan(m)) {
        double sum = 0;
        for (size_t i = 0; i < from; i++) {
            sum += in->count[i];
        }
        m = sum / (double)from;
    }
    double s = 0;
    for (size_t t = from; t <= to; t++) {
        s_point(p, m, in->count[t], &s, &out[t - from]);
    }
    return SN_OK;
}

static int64_t
s_first(const double *p, const sn_det_input_t *in)
{
    int64_t f = isnan(p[P_M]) ? 1 : 0;
    return f < (int64_t)in->n ? f : SN_ENODATA;
}

static size_t
s_history(const double *p, int frequency)
{
    (void)p;
    (void)frequency;
    return 1;
}

static void
s_step(const double *p, void *state, const sn_det_input_t *ring, size_t t,
       size_t from, sn_det_point_t *out)
{
    s_state_t *st = state;
    double y = ring->count[ring->n - 1];
    if (t < from) {
        st->sum += y;
        st->n += 1;
        return;
    }
    if (t == from) {
        st->m = isnan(p[P_M]) ? st->sum / st->n : p[P_M];
    }
    s_point(p, st->m, y, &st->s, out);
}

static const char *const s_trans[] = {"standard", "rossi", NULL};
static const char *const s_extra[] = {"m", "cusum", NULL};

static const det_param_def_t s_params[] = {
    {"k", DET_PARAM_DOUBLE, 1.04, 0, INFINITY, NULL, 0, 0},
    {"h", DET_PARAM_DOUBLE, 2.26, 0, INFINITY, NULL, 0, 0},
    {"m", DET_PARAM_DOUBLE, NAN, 0, INFINITY, NULL, 0, 1},
    {"trans", DET_PARAM_ENUM, TRANS_STANDARD, 0, 1, s_trans, 0, 0},
    {"alpha", DET_PARAM_DOUBLE, NAN, 0, 1, NULL, 0, 1},
    {NULL, 0, 0, 0, 0, NULL, 0, 0},
};

const det_method_t det_cusum = {
    "cusum", s_params,  s_extra,           NULL, NULL,   s_first,
    s_eval,  s_history, sizeof(s_state_t), NULL, s_step,
};
