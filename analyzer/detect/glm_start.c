/*  analyzer/detect/glm_start.c - the start sums of a fast Farrington fit
 *
 *  The first IRLS step of R's glm.fit() is taken at mu = y + 0.1 (eta =
 *  log(y + 0.1)): its level sums of the prior weights, counts, working
 *  weights and working responses are made here in one pass over the rows,
 *  a level's stretch at a time. The detectors refit the same rows several
 *  times (unweighted, reweighted, without the trend), so the sums without
 *  prior weights are cached in det_glm_t.start under the design's rows id;
 *  a reweighted fit whose weights are one value g but for a few rows starts
 *  from g times the cached sums plus its exception rows.
 */
#include "glm_int.h"

#include <math.h>
#include <string.h>

/* Level sums of the start over one level's stretch of rows. */
typedef struct s_acc {
    double py, pyt, pw, w, wt, wtt, wz, wzt; /* as in det_glm_fast_t */
    double c1, syeta;                        /* the deviance's pieces */
    size_t ngood;                            /* rows with prior > 0 */
} s_acc_t;

/* The sums of the start over rows i0 .. i1-1 with prior weights. */
static void
s_start_prior(const det_glm_fast_t *f, const double *yly, const double *et,
              size_t i0, size_t i1, s_acc_t *a)
{
    const double *y = f->y, *pr = f->pr, *t = f->d->t;
    double spy = 0, spyt = 0, spw = 0, sw = 0, swt = 0, swtt = 0, swz = 0;
    double swzt = 0, c1 = 0, syeta = 0, tc = f->tc;
    size_t ngood = 0;
    for (size_t i = i0; i < i1; i++) {
        double p = pr[i], yi = y[i], mu = yi + 0.1, eta = et[i];
        double tt = t ? t[i] - tc : 0.0;
        double py = p * yi, w = p * mu, wz = w * eta + p * (yi - mu);
        ngood += p > 0.0;
        c1 += p * yly[i];
        syeta += py * eta;
        spy += py;
        spyt += py * tt;
        spw += p;
        sw += w;
        swt += w * tt;
        swtt += w * tt * tt;
        swz += wz;
        swzt += wz * tt;
    }
    *a = (s_acc_t){spy, spyt, spw, sw, swt, swtt, swz, swzt, c1, syeta, ngood};
}

/* The same without prior weights (all 1: the products by 1 dropped). The
 * trend's sums are left to s_start_plain_t(). */
static void
s_start_plain(const det_glm_fast_t *f, const double *yly, const double *et,
              size_t i0, size_t i1, s_acc_t *a)
{
    const double *y = f->y;
    double spy = 0, sw = 0, swz = 0, c1 = 0, syeta = 0;
    for (size_t i = i0; i < i1; i++) {
        double yi = y[i], mu = yi + 0.1, eta = et[i];
        c1 += yly[i];
        syeta += yi * eta;
        spy += yi;
        sw += mu;
        swz += mu * eta + (yi - mu);
    }
    double n = (double)(i1 - i0);
    *a = (s_acc_t){spy, 0, n, sw, 0, 0, swz, 0, c1, syeta, i1 - i0};
}

/* s_start_plain() with the trend's sums (f->d->t set). */
static void
s_start_plain_t(const det_glm_fast_t *f, const double *yly, const double *et,
                size_t i0, size_t i1, s_acc_t *a)
{
    const double *y = f->y, *t = f->d->t;
    double spy = 0, spyt = 0, sw = 0, swt = 0, swtt = 0, swz = 0;
    double swzt = 0, c1 = 0, syeta = 0, tc = f->tc;
    for (size_t i = i0; i < i1; i++) {
        double yi = y[i], mu = yi + 0.1, eta = et[i], tt = t[i] - tc;
        double wz = mu * eta + (yi - mu);
        c1 += yly[i];
        syeta += yi * eta;
        spy += yi;
        spyt += yi * tt;
        sw += mu;
        swt += mu * tt;
        swtt += mu * tt * tt;
        swz += wz;
        swzt += wz * tt;
    }
    double n = (double)(i1 - i0);
    *a = (s_acc_t){spy, spyt, n, sw, swt, swtt, swz, swzt, c1, syeta, i1 - i0};
}

/* Whether self->start holds the plain start sums of these rows. */
static bool
s_cached(const det_glm_t *self, const det_glm_fast_t *f)
{
    const det_glm_start_t *c = &self->start;
    return f->d->rows_id != 0 && c->id == f->d->rows_id && c->y == f->y &&
           c->m == f->d->m && c->nl == f->nl &&
           (!f->tr || (c->tr && c->tc == f->tc));
}

/* Keep the plain start sums just made (no prior weights) in self->start. */
static void
s_cache(det_glm_t *self, det_glm_fast_t *f, double c1, double syeta)
{
    det_glm_start_t *c = &self->start;
    c->id = f->d->rows_id;
    c->y = f->y;
    c->m = f->d->m;
    c->nl = f->nl;
    c->tr = f->tr;
    c->tc = f->tc;
    c->c1 = c1;
    c->syeta = syeta;
    const double *src[8] = {f->py, f->pyt, f->pw, f->w,
                            f->wt, f->wtt, f->wz, f->wzt};
    for (int k = 0; k < 8; k++) {
        memcpy(c->s[k], src[k], f->nl * sizeof(double));
    }
}

/* The prior weights as g * 1 plus a few exceptions: self->exc gets the
 * rows whose weight is not g. @return how many, or -1 when too many. */
static long
s_exceptions(det_glm_t *self, const det_glm_fast_t *f, double *g)
{
    const double *pr = f->pr;
    size_t m = f->d->m, n = 0;
    double w = pr[0];
    if (m > 2 && pr[0] != pr[1] && pr[1] == pr[2]) {
        w = pr[1];
    }
    for (size_t i = 0; i < m; i++) {
        self->exc[n] = (int)i; /* kept only where pr[i] != w */
        n += pr[i] != w;
    }
    *g = w;
    return n > m / 8 ? -1 : (long)n;
}

/* The start from the cached plain sums: g times them, plus (pr - g) times
 * each exception row's terms. @return false where it does not apply. */
static bool
s_start_cached(det_glm_t *self, det_glm_fast_t *f, const double *yly,
               const double *et, double dv[3])
{
    double g = 1.0;
    long nexc = 0;
    if (!s_cached(self, f) ||
        (f->prior && (nexc = s_exceptions(self, f, &g)) < 0)) {
        return false;
    }
    const det_glm_start_t *c = &self->start;
    for (size_t l = 0; l < f->nl; l++) {
        f->py[l] = g * c->s[0][l];
        f->pw[l] = g * c->s[2][l];
        f->w[l] = g * c->s[3][l];
        f->wz[l] = g * c->s[6][l];
        if (f->tr) {
            f->pyt[l] = g * c->s[1][l];
            f->wt[l] = g * c->s[4][l];
            f->wtt[l] = g * c->s[5][l];
            f->wzt[l] = g * c->s[7][l];
        }
    }
    dv[0] = g * c->c1;
    dv[1] = g * c->syeta;
    size_t ngood = g > 0.0 ? f->d->m : 0;
    for (long e = 0; e < nexc; e++) {
        size_t i = (size_t)self->exc[e];
        int l = f->lv[i];
        double p = f->pr[i], dp = p - g, yi = f->y[i], mu = yi + 0.1;
        double tt = f->tr ? f->d->t[i] - f->tc : 0.0, eta = et[i];
        double py = dp * yi, w = dp * mu, wz = w * eta + dp * (yi - mu);
        f->py[l] += py;
        f->pyt[l] += py * tt;
        f->pw[l] += dp;
        f->w[l] += w;
        f->wt[l] += w * tt;
        f->wtt[l] += w * tt * tt;
        f->wz[l] += wz;
        f->wzt[l] += wz * tt;
        dv[0] += dp * yly[i];
        dv[1] += py * eta;
        ngood = ngood + (p > 0.0) - (g > 0.0);
    }
    f->nexc = nexc;
    dv[2] = 0.0;
    for (size_t l = 0; l < f->nl; l++) {
        dv[2] += f->w[l];
    }
    self->ngood = ngood;
    return true;
}

/* The run breaks (glm_fast.c) of the stretch of one level i0 .. i1-1
 * appended to brk[n ..]: i0 itself (a new level) unless it is row 0, then
 * the rows where t does not step by 1. @return the new count. */
static size_t
s_stretch_breaks(const det_glm_fast_t *f, size_t i0, size_t i1, int *brk,
                 size_t n)
{
    const double *t = f->d->t;
    if (i0 > 0) {
        brk[n++] = (int)i0;
    }
    for (size_t i = i0 + 1; i < i1; i++) {
        brk[n] = (int)i;
        n += t[i] - t[i - 1] != 1.0;
    }
    return n;
}

/* The per-fit constants and the sums of the first WLS step, at the start
 * mu = y + 0.1: from the cached sums of the same rows where they apply,
 * else in one pass over the rows, a level's stretch at a time.
 * @return the deviance D0 of the start. */
double
det_glm_start_sums(det_glm_t *self, det_glm_fast_t *f)
{
    const det_glm_design_t *d = f->d;
    const double *yly = d->yly, *et = d->eta0;
    size_t m = d->m, ngood = 0;
    if (yly == NULL || et == NULL) {
        double *wyly = self->work, *wet = self->work + self->cap;
        for (size_t i = 0; i < m; i++) {
            double y = f->y[i];
            wyly[i] = y > 0.0 ? y * log(y) - y : 0.0;
            wet[i] = log(y + 0.1);
        }
        yly = yly ? yly : wyly;
        et = et ? et : wet;
    }
    double dv[3] = {0.0, 0.0, 0.0}; /* c1, sum(pr y eta), sum(pr mu) */
    f->mode = DET_GLM_MU_START;
    if (s_start_cached(self, f, yly, et, dv)) {
        f->c1 = dv[0];
        return 2.0 * (dv[0] - dv[1] + dv[2]);
    }
    bool keep = f->prior == NULL && f->tr && d->rows_id != 0;
    size_t nb = 0; /* run breaks kept for the rows (keep) */
    for (size_t i0 = 0, i1; i0 < m; i0 = i1) {
        int l = f->lv[i0];
        s_acc_t a;
        for (i1 = i0 + 1; i1 < m && f->lv[i1] == l; i1++) {
        }
        if (f->prior) {
            s_start_prior(f, yly, et, i0, i1, &a);
        } else if (f->tr) {
            s_start_plain_t(f, yly, et, i0, i1, &a);
            nb = keep ? s_stretch_breaks(f, i0, i1, self->brk, nb) : nb;
        } else {
            s_start_plain(f, yly, et, i0, i1, &a);
        }
        f->py[l] += a.py;
        f->pyt[l] += a.pyt;
        f->pw[l] += a.pw;
        f->w[l] += a.w;
        f->wt[l] += a.wt;
        f->wtt[l] += a.wtt;
        f->wz[l] += a.wz;
        f->wzt[l] += a.wzt;
        dv[0] += a.c1;
        dv[1] += a.syeta;
        dv[2] += a.w;
        ngood += a.ngood;
    }
    if (f->prior == NULL && d->rows_id != 0) {
        s_cache(self, f, dv[0], dv[1]);
    }
    if (keep) {
        self->nbrk = nb;
        self->brk_id = d->rows_id;
        self->brk_m = m;
    }
    self->ngood = ngood;
    f->c1 = dv[0];
    return 2.0 * (dv[0] - dv[1] + dv[2]);
}
