/*  analyzer/detect/glm_fast.c - R's IRLS in O(runs) per step for the
 *  Farrington designs
 *
 *  The Farrington GLMs have an intercept, perhaps a time trend, and
 *  indicators of a seasonal factor; the indicators never overlap. Written
 *  with one intercept a_l per level and the common slope b on the centred
 *  time t - tc, the weighted least squares step of IRLS splits: b is the
 *  pooled within-level regression slope and a_l a level mean, so the
 *  p x p normal equations are solved in O(levels) from sums by level (the
 *  pivots that a Cholesky factorisation in R's column order would meet are
 *  checked in O(levels) too). The sums come from runs of rows of one
 *  level, one prior weight and consecutive t: along a run the means grow
 *  by q = exp(b), so a run's sums of mu, mu t and mu t^2 are a mean times
 *  geometric sums that depend only on q and the run's length, and after
 *  the first step an iteration costs O(runs), not O(rows). The deviance is
 *  kept as per-fit constants plus sum(prior * mu) and beta' X'(prior * y).
 *
 *  The iterates are R's (glm.fit with the pivoted QR of glm.c) up to
 *  rounding: the same start, the same weights, the same deviance test and
 *  iteration count. Where rounding could decide something R decides
 *  differently (a column near R's aliasing tolerance, a mean at the
 *  DBL_EPSILON floor, a non-finite step) the fit is handed to the exact
 *  dense path in glm.c instead.
 */
#include "glm_int.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define S_PIVOT 1e-6 /* least squared relative Cholesky pivot */
#define S_ANCHOR 32  /* runs between exact exp() anchors */

/* ------------------------------------------------------------- set-up */

/* The rows i in 1 .. m-1 where a run must start (t does not step by 1,
 * the level changes, or with `withp` the prior weight changes) into brk.
 * Branch-free: row i is written and counts only where it breaks.
 * @return how many. */
static size_t
s_breaks(const det_glm_fast_t *f, bool withp, int *brk)
{
    const double *t = f->d->t, *pr = f->pr;
    const int *lv = f->lv;
    size_t n = 0;
    if (withp) {
        for (size_t i = 1; i < f->d->m; i++) {
            brk[n] = (int)i;
            n += (t[i] - t[i - 1] != 1.0) | (lv[i] != lv[i - 1]) |
                 (pr[i] != pr[i - 1]);
        }
        return n;
    }
    for (size_t i = 1; i < f->d->m; i++) {
        brk[n] = (int)i;
        n += (t[i] - t[i - 1] != 1.0) | (lv[i] != lv[i - 1]);
    }
    return n;
}

/* The breaks of the rows kept in self->brk (without prior weights) merged
 * with the changes of the prior weight, which are all next to one of the
 * f->nexc exception rows in self->exc, into out. @return how many. */
static size_t
s_merge(const det_glm_t *self, const det_glm_fast_t *f, int *out)
{
    const double *pr = f->pr;
    const int *kb = self->brk;
    size_t nk = self->nbrk, k = 0, n = 0, m = f->d->m;
    int last = 0;
    for (long e = 0; e < 2 * f->nexc; e++) {
        int i = self->exc[e / 2] + (int)(e % 2); /* e's row, then the next */
        if (i <= last || (size_t)i >= m || pr[i] == pr[i - 1]) {
            continue;
        }
        for (; k < nk && kb[k] < i; k++) {
            out[n++] = kb[k];
        }
        k += k < nk && kb[k] == i;
        out[n++] = i;
        last = i;
    }
    for (; k < nk; k++) {
        out[n++] = kb[k];
    }
    return n;
}

/* The breaks of this fit: from the kept ones where they apply (a fit of
 * the same rows without prior weights made them), else by a pass over
 * the rows. @return how many, in *brk. */
static size_t
s_fit_breaks(det_glm_t *self, const det_glm_fast_t *f, int **brk)
{
    unsigned long id = f->d->rows_id;
    bool kept = id != 0 && self->brk_id == id && self->brk_m == f->d->m;
    if (f->prior == NULL && id != 0) {
        if (!kept) {
            self->nbrk = s_breaks(f, false, self->brk);
            self->brk_id = id;
            self->brk_m = f->d->m;
        }
        *brk = self->brk;
        return self->nbrk;
    }
    *brk = self->brk + self->cap + 1;
    if (kept && f->nexc >= 0) {
        return s_merge(self, f, *brk);
    }
    return s_breaks(f, f->prior != NULL, *brk);
}

/* Cut the rows into runs of one level, one prior weight and consecutive
 * t, at most DET_GLM_RUN long: self->runs gets each run's first row, then m;
 * self->rlink[r] the length of run r - 1 when run r starts where it ends
 * (its exp(b t) follows by a product), 0 where s_chain() takes an exact
 * exp() (after a gap, and every S_ANCHOR-th run). O(runs) after the
 * breaks. */
static void
s_runs(det_glm_t *self, det_glm_fast_t *f)
{
    const double *t = f->d->t, *pr = f->pr;
    const int *lv = f->lv;
    int *brk, n = 0, maxn = 1;
    size_t nb = s_fit_breaks(self, f, &brk), m = f->d->m, i0 = 0;
    for (size_t k = 0; k <= nb; k++) {
        size_t i1 = k < nb ? (size_t)brk[k] : m;
        for (size_t i = i0; i < i1; i += DET_GLM_RUN) {
            int len = i1 - i < DET_GLM_RUN ? (int)(i1 - i) : DET_GLM_RUN;
            bool link = n > 0 && n % S_ANCHOR != 0 && t[i] - t[i - 1] == 1.0;
            self->rlink[n] = link ? self->rlen[n - 1] : 0;
            self->runs[n] = (int)i;
            self->rlen[n] = len;
            self->rt0[n] = t[i] - f->tc;
            self->rg[n] = pr[i];
            self->rlev[n] = lv[i];
            maxn = len > maxn ? len : maxn;
            n++;
        }
        i0 = i1;
    }
    self->runs[n] = (int)m;
    f->nrun = n;
    f->maxn = maxn;
    f->tlo = f->thi = self->rt0[0];
    for (int r = 0; r < n; r++) {
        double a = self->rt0[r], b = a + (self->rlen[r] - 1);
        f->tlo = a < f->tlo ? a : f->tlo;
        f->thi = b > f->thi ? b : f->thi;
    }
}

/* ---------------------------------------------------------- the means */

/* q^j and the geometric sums sum_{j<n} q^j j^k (k = 0, 1, 2) for the
 * run lengths n = 1 .. maxn. */
static void
s_tables(det_glm_fast_t *f, double q)
{
    double qj = 1.0, s0 = 0.0, s1 = 0.0, s2 = 0.0;
    f->g0[0] = f->g1[0] = f->g2[0] = 0.0;
    for (int j = 0; j < f->maxn; j++) {
        f->qp[j] = qj;
        s0 += qj;
        s1 += j * qj;
        s2 += (double)j * j * qj;
        f->g0[j + 1] = s0;
        f->g1[j + 1] = s1;
        f->g2[j + 1] = s2;
        qj *= q;
    }
    f->qp[f->maxn] = qj;
}

/* e[r] = exp(b (t0_r - tc)) for every run r, the tables of s_tables()
 * made for q = exp(b): a run linked to the one before it (s_runs) takes
 * that run's value times q^n, the others an exact exp(), so a value
 * stays within a few dozen ulps. */
static void
s_chain(const det_glm_t *self, const det_glm_fast_t *f, double b, double *e)
{
    const int *link = self->rlink;
    const double *qp = f->qp, *t0 = self->rt0;
    double v = 0.0; /* e[r - 1], kept in a register */
    for (int r = 0; r < f->nrun; r++) {
        v = link[r] > 0 ? v * qp[link[r]] : exp(b * t0[r]);
        e[r] = v;
    }
}

/* The trend model's level sums of pr mu, pr mu tt and pr mu tt^2 at
 * eta = c[level] + b tt, run by run, into w, wt and wtt; mul gets
 * exp(c). A level's means lie between its values at the least and the
 * greatest t of the fit. @return false where one of those is below
 * DBL_EPSILON or not finite (R might floor a mean: the exact path
 * decides). */
static bool
s_means(const det_glm_t *self, det_glm_fast_t *f, const double *c, double b)
{
    double a0[DET_GLM_MAX_P] = {0}, a1[DET_GLM_MAX_P] = {0},
           a2[DET_GLM_MAX_P] = {0};
    double *e = self->work + self->cap;
    const double *t0 = self->rt0, *rg = self->rg;
    const double *g0 = f->g0, *g1 = f->g1, *g2 = f->g2;
    const int *rlev = self->rlev, *rlen = self->rlen;
    double elo = exp(b * f->tlo), ehi = exp(b * f->thi);
    s_tables(f, exp(b));
    s_chain(self, f, b, e);
    for (size_t l = 0; l < f->nl; l++) {
        double mu = exp(c[l]), lo = mu * elo, hi = mu * ehi;
        if (!(lo >= DBL_EPSILON && hi >= DBL_EPSILON) || isinf(lo) ||
            isinf(hi)) {
            return false;
        }
        f->mul[l] = mu;
    }
    for (int r = 0; r < f->nrun; r++) {
        int n = rlen[r], l = rlev[r];
        double ge = rg[r] * e[r], s0 = g0[n], s1 = g1[n], t = t0[r];
        a0[l] += ge * s0;
        a1[l] += ge * (t * s0 + s1);
        a2[l] += ge * (t * (t * s0 + 2.0 * s1) + g2[n]);
    }
    for (size_t l = 0; l < f->nl; l++) {
        f->w[l] = f->mul[l] * a0[l];
        f->wt[l] = f->mul[l] * a1[l];
        f->wtt[l] = f->mul[l] * a2[l];
    }
    return true;
}

/* ---------------------------------------------------------- WLS step */

/* The working responses' sums from the weights' sums when
 * eta = c[level] + b tt. */
static void
s_sum_trend(det_glm_fast_t *f)
{
    for (size_t l = 0; l < f->nl; l++) {
        double c = f->c[l] - 1.0;
        f->wz[l] = c * f->w[l] + f->b * f->wt[l] + f->py[l];
        f->wzt[l] = c * f->wt[l] + f->b * f->wtt[l] + f->pyt[l];
    }
    memcpy(f->cw, f->c, sizeof(f->c));
    memcpy(f->mulw, f->mul, sizeof(f->mul));
    f->bw = f->b;
}

/* The same sums when every row of a level has the level's mean. */
static void
s_sum_levels(det_glm_fast_t *f)
{
    for (size_t l = 0; l < f->nl; l++) {
        double mu = f->mul[l];
        f->w[l] = mu * f->pw[l];
        f->wz[l] = mu * f->c[l] * f->pw[l] + (f->py[l] - mu * f->pw[l]);
        f->mulw[l] = mu;
    }
}

/* The pivots a Cholesky factorisation of X'WX in R's column order
 * (intercept, trend, indicators of levels 1 ..) meets, in O(levels):
 * after the intercept and the trend, the pivot of level k's indicator is
 * w_k - u' C^-1 u with u = (w_k, wt_k) and C the 2 x 2 Schur complement
 * of intercept and trend given the indicators before k, that is the
 * weight and spread of the rows not yet given their own level.
 * @return 0, or 1 where a squared relative pivot is below S_PIVOT (R's
 * QR might see the column as aliased) or not finite. */
static int
s_pivots(const det_glm_fast_t *f)
{
    size_t nl = f->nl;
    double rw = 0.0, rt = 0.0, rtt = 0.0, inner = 0.0;
    for (size_t l = 0; l < nl; l++) {
        rw += f->w[l];
        rt += f->wt[l];
        rtt += f->wtt[l];
    }
    if (!(rw > 0.0) || !isfinite(rw)) {
        return 1;
    }
    if (f->tr) {
        double a11 = rtt + f->tc * (2.0 * rt + f->tc * rw);
        double s1 = rtt - rt * rt / rw;
        if (!(s1 > S_PIVOT * a11) || !isfinite(s1)) {
            return 1;
        }
    }
    for (size_t k = 1; k < nl; k++) {
        double wk = f->w[k], s;
        if (f->tr) {
            double c11 = rtt + inner, det = rw * c11 - rt * rt;
            double wt = f->wt[k];
            s = wk - (wk * wk * c11 - 2.0 * wk * wt * rt + wt * wt * rw) / det;
            inner += f->wtt[k] - wt * wt / wk;
            rt -= wt;
            rtt -= f->wtt[k];
        } else {
            s = wk - wk * wk / rw;
        }
        if (!(s > S_PIVOT * wk) || !isfinite(s)) {
            return 1;
        }
        rw -= wk;
    }
    return 0;
}

/* One WLS step at the current means: the new c and b, with 1/w, the
 * level means h of tt and 1/S kept for the covariance. @return 0 or 1. */
static int
s_wls(det_glm_fast_t *f)
{
    if (f->mode == DET_GLM_MU_LEVEL) {
        s_sum_levels(f);
    } else if (f->mode == DET_GLM_MU_TREND) {
        s_sum_trend(f);
    }
    f->modew = f->mode;
    if (s_pivots(f) != 0) {
        return 1;
    }
    double sn = 0.0, sd = 0.0;
    for (size_t l = 0; l < f->nl; l++) {
        f->iw[l] = 1.0 / f->w[l];
        f->h[l] = f->wt[l] * f->iw[l];
        sd += f->wtt[l] - f->wt[l] * f->h[l];
        sn += f->wzt[l] - f->wz[l] * f->h[l];
    }
    f->b = f->tr ? sn / sd : 0.0;
    f->is = f->tr ? 1.0 / sd : 0.0;
    for (size_t l = 0; l < f->nl; l++) {
        f->c[l] = (f->wz[l] - f->wt[l] * f->b) * f->iw[l];
        if (!isfinite(f->c[l])) {
            return 1;
        }
    }
    return isfinite(f->b) ? 0 : 1;
}

/* New means from c and b. @return the deviance, or NAN where the exact
 * path must decide (a mean floored or not finite). With a trend, the
 * weights' sums of the next WLS are made on the way. */
static double
s_update(const det_glm_t *self, det_glm_fast_t *f)
{
    double syeta = 0.0, smu = 0.0;
    for (size_t l = 0; l < f->nl; l++) {
        syeta += f->c[l] * f->py[l] + f->b * f->pyt[l];
    }
    if (!f->tr) {
        f->mode = DET_GLM_MU_LEVEL;
        for (size_t l = 0; l < f->nl; l++) {
            f->mul[l] = exp(f->c[l]);
            if (!(f->mul[l] >= DBL_EPSILON) || isinf(f->mul[l])) {
                return NAN;
            }
            smu += f->mul[l] * f->pw[l];
        }
        return 2.0 * (f->c1 - syeta + smu);
    }
    f->mode = DET_GLM_MU_TREND;
    if (!s_means(self, f, f->c, f->b)) {
        return NAN;
    }
    for (size_t l = 0; l < f->nl; l++) {
        smu += f->w[l];
    }
    return 2.0 * (f->c1 - syeta + smu);
}

/* ------------------------------------------------------------- finish */

/* (X'WX)^-1 of the last WLS in R's parametrisation (intercept, trend,
 * indicators), from the level form: with H_l the level's mean of t,
 * V00 = 1/w_0 + H_0^2/S, V01 = -H_0/S, V11 = 1/S, V0j = -1/w_0 +
 * H_0 (H_j - H_0)/S, V1j = -(H_j - H_0)/S and Vjk = [j = k]/w_j + 1/w_0 +
 * (H_j - H_0)(H_k - H_0)/S. */
static void
s_inverse(det_glm_t *self, const det_glm_fast_t *f)
{
    size_t p = f->p, off = f->tr ? 2 : 1;
    double *v = self->vinv, is = f->is, h0 = f->h[0] + f->tc;
    double dh[DET_GLM_MAX_P];
    for (size_t j = off; j < p; j++) {
        dh[j] = f->h[j - off + 1] - f->h[0];
    }
    v[0] = f->iw[0] + h0 * h0 * is;
    if (f->tr) {
        v[1] = v[p] = -h0 * is;
        v[1 + p] = is;
    }
    for (size_t j = off; j < p; j++) {
        v[j] = v[j * p] = -f->iw[0] + h0 * dh[j] * is;
        if (f->tr) {
            v[1 + j * p] = v[j + p] = -dh[j] * is;
        }
        for (size_t k = off; k <= j; k++) {
            double x = f->iw[0] + dh[j] * dh[k] * is;
            x += k == j ? f->iw[j - off + 1] : 0.0;
            v[j + k * p] = v[k + j * p] = x;
        }
    }
}

/* One row's outputs: mu, the working weight at the last WLS's mean mw,
 * the working residual, and the two dispersion sums onto ds (eta is left
 * to dense fits: glm.h). */
static inline void
s_row(det_glm_t *self, const det_glm_fast_t *f, size_t i, double mu, double mw,
      double ds[2])
{
    double pr = f->pr[i], res = (f->y[i] - mu) / mu, wt = pr * mw;
    self->mu[i] = mu;
    self->res[i] = res;
    self->wt[i] = pr > 0.0 ? wt : 0.0;
    if (pr > 0.0) {
        ds[0] += wt * res * res;
        ds[1] += pr * res * res;
    }
}

/* The dispersion sums alone (det_glm_design_t.sums_only) of row i. */
static inline void
s_row_sums(const det_glm_fast_t *f, size_t i, double mu, double mw,
           double ds[2])
{
    double pr = f->pr[i], res = (f->y[i] - mu) / mu;
    if (pr > 0.0) {
        ds[0] += pr * mw * res * res;
        ds[1] += pr * res * res;
    }
}

/* The rows of a trend fit whose last WLS was at a trend model too: the
 * means along each run as products by exp(b). The final means are those
 * the last s_means() made (its exp(c) in mul, its q = exp(b) in qp[1], its
 * run chain in work + cap), and those of the last WLS step had exp(cw) in
 * mulw: only the chain of bw is new. */
static void
s_rows_trend(det_glm_t *self, det_glm_fast_t *f)
{
    double *ew = self->work;
    const double *e = self->work + self->cap, *ec = f->mul, *ecw = f->mulw;
    double q = f->qp[1], qw = exp(f->bw);
    double ds[2] = {0.0, 0.0};
    s_tables(f, qw);
    s_chain(self, f, f->bw, ew);
    for (int r = 0; r < f->nrun; r++) {
        int i0 = self->runs[r], i1 = self->runs[r + 1], l = f->lv[i0];
        double m = ec[l] * e[r], mw = ecw[l] * ew[r];
        for (int i = i0; i < i1 && f->d->sums_only; i++) {
            s_row_sums(f, (size_t)i, m, mw, ds);
            m *= q;
            mw *= qw;
        }
        for (int i = i0; i < i1 && !f->d->sums_only; i++) {
            s_row(self, f, (size_t)i, m, mw, ds);
            m *= q;
            mw *= qw;
        }
    }
    self->fdisp[0] = ds[0];
    self->fdisp[1] = ds[1];
}

/* The final means, the working weights of the last WLS, the working
 * residuals and the dispersion sums, row by row. */
static void
s_rows_out(det_glm_t *self, det_glm_fast_t *f)
{
    size_t m = f->d->m;
    if (f->mode == DET_GLM_MU_TREND && f->modew == DET_GLM_MU_TREND) {
        s_rows_trend(self, f);
        return;
    }
    double *mu = self->work + 3 * self->cap; /* trend, first step only */
    double ds[2] = {0.0, 0.0};
    if (f->mode == DET_GLM_MU_TREND) {
        double *e = self->work + self->cap, q = exp(f->b);
        s_tables(f, q);
        s_chain(self, f, f->b, e);
        for (int r = 0; r < f->nrun; r++) {
            int i0 = self->runs[r], l = f->lv[i0];
            double v = exp(f->c[l]) * e[r];
            for (int i = i0; i < self->runs[r + 1]; i++) {
                mu[i] = v;
                v *= q;
            }
        }
    }
    for (size_t i = 0; i < m; i++) {
        int l = f->lv[i];
        double mw = f->modew == DET_GLM_MU_START ? f->y[i] + 0.1 : f->mulw[l];
        if (f->d->sums_only) {
            s_row_sums(f, i, f->mode == DET_GLM_MU_TREND ? mu[i] : f->mul[l],
                       mw, ds);
        } else if (f->mode == DET_GLM_MU_TREND) {
            s_row(self, f, i, mu[i], mw, ds);
        } else {
            s_row(self, f, i, f->mul[l], mw, ds);
        }
    }
    self->fdisp[0] = ds[0];
    self->fdisp[1] = ds[1];
}

/* What the fit keeps, as s_fit() in glm.c leaves it. */
static void
s_finish(det_glm_t *self, det_glm_fast_t *f, double dev)
{
    s_rows_out(self, f);
    self->deviance = dev;
    self->rank = (int)f->p;
    self->df_residual = (int)self->ngood - self->rank;
    size_t off = f->tr ? 2 : 1;
    double b = f->tr ? f->b : 0.0;
    self->coef[0] = f->c[0] - b * f->tc;
    if (f->tr) {
        self->coef[1] = b;
    }
    for (size_t j = off; j < f->p; j++) {
        self->coef[j] = f->c[j - off + 1] - f->c[0];
    }
    for (size_t j = 0; j < f->p; j++) {
        self->pivot[j] = (int)j;
    }
    s_inverse(self, f);
    /* What hat values and mu_pow need of the design and the fit. */
    self->xtrend = f->tr;
    self->ft = f->d->t;
    self->flev = f->lv;
    self->fnlev = f->nl;
    self->fnrun = f->nrun;
    self->fmaxn = f->maxn;
    self->ftc = f->tc;
    self->fb = b;
    self->fis = f->is;
    self->fprior = f->prior;
    for (size_t l = 0; l < f->nl; l++) {
        self->fc[l] = f->c[l];
        self->fiw[l] = f->iw[l];
        self->fh[l] = f->h[l];
    }
    self->fast = true;
}

/* ------------------------------------------------------------ the fit */

/* Zero what a fit reads before writing: the scalars and the first `nl`
 * entries of the level arrays (a memset of the whole state would clear
 * DET_GLM_MAX_P entries of each, most of them never used). */
static void
s_clear(det_glm_fast_t *f, size_t nl)
{
    double *levels[] = {f->py, f->pyt, f->pw,  f->w,   f->wt,
                        f->wtt, f->wz, f->wzt, f->c,   f->cw,
                        f->mul, f->mulw, f->iw, f->h};
    size_t n = nl < DET_GLM_MAX_P ? nl : DET_GLM_MAX_P;
    for (size_t k = 0; k < sizeof levels / sizeof levels[0]; k++) {
        memset(levels[k], 0, n * sizeof(double));
    }
    f->d = NULL;
    f->y = f->prior = f->pr = NULL;
    f->lv = NULL;
    f->p = f->nl = 0;
    f->tr = false;
    f->tc = f->c1 = f->b = f->bw = f->is = f->tlo = f->thi = 0.0;
    f->nrun = f->maxn = 0;
    f->nexc = 0;
    f->mode = f->modew = DET_GLM_MU_START;
}

/* @return 0 on success, 1 where the exact path must fit instead. */
static int
s_fast(det_glm_t *self, const det_glm_design_t *d, const double *y,
       const double *prior)
{
    det_glm_fast_t f;
    s_clear(&f, d->nlev);
    f.d = d;
    f.y = y;
    f.nl = d->nlev;
    f.tr = d->t != NULL;
    f.p = (f.tr ? 2 : 1) + d->nlev - 1;
    if (d->m > self->cap || d->m == 0 || d->nlev < 1 || f.p > DET_GLM_MAX_P) {
        return 1;
    }
    self->m = d->m;
    self->p = f.p;
    self->theta = 0.0;
    f.prior = prior;
    f.pr = prior ? prior : self->ones;
    f.lv = d->lev ? d->lev : self->zeros;
    f.nexc = -1;
    if (f.tr) {
        f.tc = floor((d->t[0] + d->t[d->m - 1]) / 2.0);
    }
    double devold = det_glm_start_sums(self, &f), dev = devold;
    if (f.tr) {
        s_runs(self, &f);
    }
    self->converged = false;
    for (int it = 1; it <= DET_GLM_MAXIT; it++) {
        self->iter = it;
        if (s_wls(&f) != 0) {
            return 1;
        }
        dev = s_update(self, &f);
        if (!isfinite(dev)) {
            return 1;
        }
        if (fabs(dev - devold) / (fabs(dev) + 0.1) < DET_GLM_EPS) {
            self->converged = true;
            break;
        }
        devold = dev;
    }
    s_finish(self, &f, dev);
    return 0;
}

/* The dense design of d into self->xd, and the exact fit. */
static int
s_dense(det_glm_t *self, const det_glm_design_t *d, const double *y,
        const double *prior)
{
    size_t off = d->t ? 2 : 1, p = off + (d->nlev ? d->nlev - 1 : 0);
    size_t ld = self->cap;
    if (d->m > ld || p > DET_GLM_MAX_P) {
        return -1;
    }
    for (size_t i = 0; i < d->m; i++) {
        int l = d->lev ? d->lev[i] : 0;
        self->xd[i] = 1.0;
        if (d->t) {
            self->xd[i + ld] = d->t[i];
        }
        for (size_t j = off; j < p; j++) {
            self->xd[i + j * ld] = (size_t)l == j - off + 1 ? 1.0 : 0.0;
        }
    }
    return det_glm_fit(self, self->xd, ld, d->m, p, y, prior);
}

void
det_glm_mu_pow(const det_glm_t *self, double e, double *out)
{
    size_t m = self->m;
    if (!self->fast) {
        for (size_t i = 0; i < m; i++) {
            out[i] = pow(self->mu[i], e);
        }
        return;
    }
    const int *lev = self->flev;
    if (!self->xtrend) {
        double pl[DET_GLM_MAX_P];
        for (size_t l = 0; l < self->fnlev; l++) {
            pl[l] = exp(e * self->fc[l]);
        }
        for (size_t i = 0; i < m; i++) {
            out[i] = pl[lev[i]];
        }
        return;
    }
    double eb = exp(e * self->fb), pl[DET_GLM_MAX_P], qp[DET_GLM_RUN + 1],
           ev = 0.0;
    qp[0] = 1.0;
    for (int j = 1; j <= self->fmaxn; j++) {
        qp[j] = qp[j - 1] * eb;
    }
    for (size_t l = 0; l < self->fnlev; l++) {
        pl[l] = exp(e * self->fc[l]);
    }
    for (int r = 0; r < self->fnrun; r++) {
        int i0 = self->runs[r], i1 = self->runs[r + 1], l = lev[i0];
        int link = self->rlink[r];
        ev = link > 0 ? ev * qp[link] : exp(e * self->fb * self->rt0[r]);
        double v = pl[l] * ev;
        for (int i = i0; i < i1; i++) {
            out[i] = v;
            v *= eb;
        }
    }
}

int
det_glm_fit_design(det_glm_t *self, const det_glm_design_t *d, const double *y,
                   const double *prior)
{
    if (s_fast(self, d, y, prior) == 0) {
        return 0;
    }
    return s_dense(self, d, y, prior);
}
