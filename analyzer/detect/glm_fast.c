/*  analyzer/detect/glm_fast.c - R's IRLS in O(m) per step for the
 *  Farrington designs
 *
 *  The Farrington GLMs have an intercept, perhaps a time trend, and
 *  indicators of a seasonal factor; every row has at most three nonzero
 *  columns and the indicators never overlap. So X'WX and X'Wz are sums by
 *  level, the p x p system is solved by Cholesky, the deviance is kept as
 *  per-fit constants plus sum(prior * mu) and beta' X'(prior * y), and
 *  without a trend every row of a level shares one mean, so an IRLS step
 *  after the first costs O(levels). The iterates are R's (glm.fit with the
 *  pivoted QR of glm.c) up to rounding: the same start, the same weights,
 *  the same deviance test and iteration count. Where rounding could decide
 *  something R decides differently (a column near R's aliasing tolerance,
 *  a mean at the DBL_EPSILON floor, a non-finite step) the fit is handed to
 *  the exact dense path in glm.c instead.
 */
#include "glm.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define S_MAXL DET_GLM_MAX_P /* most levels a design may have */
#define S_PIVOT 1e-6         /* least squared relative Cholesky pivot */
#define S_RUN 16             /* most means from one exp() */

/* The sums of one fit and the state of its iterates. */
typedef struct s_fit {
    const det_glm_design_t *d;
    const double *y, *prior;
    const double *pr; /* prior, or m ones */
    const int *lv;    /* d->lev, or m zeros */
    size_t p, off;    /* columns; first indicator column */
    double c1;        /* sum(prior * (y log y - y)) */
    double py[S_MAXL], pyt[S_MAXL], pw[S_MAXL]; /* by level */
    double w[S_MAXL], wt[S_MAXL], wtt[S_MAXL], wz[S_MAXL], wzt[S_MAXL];
    double c[S_MAXL];  /* eta by level without the trend */
    double b;          /* the trend coefficient */
    double cw[S_MAXL]; /* c and b at the last WLS */
    double bw;
    double mul[S_MAXL];  /* level means (no trend, after step 1) */
    double mulw[S_MAXL]; /* the level means of the last WLS */
    double a[DET_GLM_MAX_P * DET_GLM_MAX_P]; /* X'WX of the last WLS */
    double l[DET_GLM_MAX_P * DET_GLM_MAX_P]; /* its Cholesky factor */
    double beta[DET_GLM_MAX_P];
    int nrun;  /* runs of one level at consecutive t (self->runs) */
    int mode;  /* how the current means are held: S_START, ... */
    int modew; /* ditto at the last WLS */
} s_fit_t;

enum {
    S_START, /* by row in self->mu and self->eta */
    S_LEVEL, /* by level in mul (no trend) */
    S_TREND  /* by c and b, their level sums in w, wt, wtt */
};

static int
s_lev(const det_glm_design_t *d, size_t i)
{
    return d->lev ? d->lev[i] : 0;
}

/* The per-fit constants and the start mu = y + 0.1. @return D0. */
static double
s_start(det_glm_t *self, s_fit_t *f)
{
    const det_glm_design_t *d = f->d;
    double syeta = 0.0, smu = 0.0;
    f->c1 = 0.0;
    for (size_t i = 0; i < d->m; i++) {
        double pr = f->pr[i], y = f->y[i];
        double ly = y > 0.0 ? (d->logy ? d->logy[i] : log(y)) : 0.0;
        int l = f->lv[i];
        self->eta[i] = d->eta0 ? d->eta0[i] : log(y + 0.1);
        self->mu[i] = y + 0.1;
        f->c1 += pr * (y * ly - y);
        f->py[l] += pr * y;
        f->pw[l] += pr;
        if (d->t) {
            f->pyt[l] += pr * y * d->t[i];
        }
        syeta += pr * y * self->eta[i];
        smu += pr * self->mu[i];
    }
    f->mode = S_START;
    return 2.0 * (f->c1 - syeta + smu);
}

/* The level sums of the WLS at the current means, row by row. */
static void
s_sum_rows(det_glm_t *self, s_fit_t *f)
{
    const det_glm_design_t *d = f->d;
    for (size_t i = 0; i < d->m; i++) {
        double pr = f->pr[i], mu = self->mu[i];
        double w = pr * mu, wz = w * self->eta[i] + pr * (f->y[i] - mu);
        int l = f->lv[i];
        self->wt[i] = w;
        f->w[l] += w;
        f->wz[l] += wz;
        if (d->t) {
            double t = d->t[i];
            f->wt[l] += w * t;
            f->wtt[l] += w * t * t;
            f->wzt[l] += wz * t;
        }
    }
}

/* The same sums when every row of a level has the level's mean. */
static void
s_sum_levels(s_fit_t *f)
{
    for (size_t l = 0; l < f->d->nlev; l++) {
        double mu = f->mul[l];
        f->w[l] = mu * f->pw[l];
        f->wz[l] = mu * f->c[l] * f->pw[l] + (f->py[l] - mu * f->pw[l]);
        f->mulw[l] = mu;
    }
}

/* Cut the rows into runs of one level at consecutive t, at most S_RUN
 * long: self->runs gets each run's first row, then m. */
static void
s_runs(det_glm_t *self, s_fit_t *f)
{
    const det_glm_design_t *d = f->d;
    int n = 0, len = 0;
    for (size_t i = 0; i < d->m; i++) {
        if (i > 0 && len < S_RUN && f->lv[i] == f->lv[i - 1] &&
            d->t[i] - d->t[i - 1] == 1.0) {
            len++;
            continue;
        }
        self->runs[n++] = (int)i;
        len = 1;
    }
    self->runs[n] = (int)d->m;
    f->nrun = n;
}

/* The means exp(c[level] + b t) row by row, into eta and mu (when not
 * NULL) and summed by level onto w, wt and wtt. Along a run the mean
 * grows by exp(b): one exp() per run and a product per row, so a mean
 * stays within S_RUN ulps of exp(eta); a run's means are monotone, so its
 * ends bound them. @return false where a mean is below DBL_EPSILON or
 * infinite (R would floor it: the exact path decides). */
static bool
s_means(const det_glm_t *self, s_fit_t *f, const double *c, double b,
        double *eta, double *mu)
{
    const double *t = f->d->t, *pr = f->pr;
    double eb = exp(b);
    for (int r = 0; r < f->nrun; r++) {
        int i0 = self->runs[r], i1 = self->runs[r + 1], l = f->lv[i0];
        double m = exp(c[l] + b * t[i0]), s0 = 0.0, s1 = 0.0, s2 = 0.0;
        if (!(m >= DBL_EPSILON) || isinf(m)) {
            return false;
        }
        for (int i = i0; i < i1; i++) {
            double w = pr[i] * m;
            if (eta) {
                eta[i] = c[l] + b * t[i];
                mu[i] = m;
            }
            s0 += w;
            s1 += w * t[i];
            s2 += w * t[i] * t[i];
            m = i + 1 < i1 ? m * eb : m;
        }
        if (!(m >= DBL_EPSILON) || isinf(m)) {
            return false;
        }
        f->w[l] += s0;
        f->wt[l] += s1;
        f->wtt[l] += s2;
    }
    return true;
}

/* The z sums of the WLS from the w sums when eta = c[level] + b t. */
static void
s_sum_trend(s_fit_t *f)
{
    for (size_t l = 0; l < f->d->nlev; l++) {
        double c = f->c[l] - 1.0;
        f->wz[l] = c * f->w[l] + f->b * f->wt[l] + f->py[l];
        f->wzt[l] = c * f->wt[l] + f->b * f->wtt[l] + f->pyt[l];
    }
    memcpy(f->cw, f->c, sizeof(f->c));
    f->bw = f->b;
}

/* X'WX into f->a and X'Wz into r from the level sums. */
static void
s_normal(s_fit_t *f, double *r)
{
    size_t p = f->p, nl = f->d->nlev;
    bool tr = f->d->t != NULL;
    memset(f->a, 0, sizeof(f->a));
    double *a = f->a;
    for (size_t l = 0; l < nl; l++) {
        a[0] += f->w[l];
        r[0] += f->wz[l];
        if (tr) {
            a[p] += f->wt[l];
            a[1 + p] += f->wtt[l];
            r[1] += f->wzt[l];
        }
        if (l == 0) {
            continue;
        }
        size_t j = f->off + l - 1;
        a[j * p] = a[j] = f->w[l];
        a[j + j * p] = f->w[l];
        r[j] = f->wz[l];
        if (tr) {
            a[1 + j * p] = a[j + p] = f->wt[l];
        }
    }
    if (tr) {
        a[1] = a[p];
    }
}

/* Cholesky A = L L' with every squared relative pivot above S_PIVOT.
 * @return 0, or 1 where the QR of R might see the column as aliased. */
static int
s_chol(s_fit_t *f)
{
    size_t p = f->p;
    const double *a = f->a;
    double *l = f->l;
    for (size_t j = 0; j < p; j++) {
        double s = a[j + j * p];
        for (size_t k = 0; k < j; k++) {
            s -= l[j + k * p] * l[j + k * p];
        }
        if (!(s > S_PIVOT * a[j + j * p]) || !isfinite(s)) {
            return 1;
        }
        double ljj = sqrt(s);
        l[j + j * p] = ljj;
        for (size_t i = j + 1; i < p; i++) {
            double v = a[i + j * p];
            for (size_t k = 0; k < j; k++) {
                v -= l[i + k * p] * l[j + k * p];
            }
            l[i + j * p] = v / ljj;
        }
    }
    return 0;
}

/* Solve L L' x = r in place. */
static void
s_solve(const s_fit_t *f, double *r)
{
    size_t p = f->p;
    const double *l = f->l;
    for (size_t i = 0; i < p; i++) {
        for (size_t k = 0; k < i; k++) {
            r[i] -= l[i + k * p] * r[k];
        }
        r[i] /= l[i + i * p];
    }
    for (size_t ii = 0; ii < p; ii++) {
        size_t i = p - 1 - ii;
        for (size_t k = i + 1; k < p; k++) {
            r[i] -= l[k + i * p] * r[k];
        }
        r[i] /= l[i + i * p];
    }
}

/* One WLS step at the current means into f->beta. @return 0 or 1. */
static int
s_wls(det_glm_t *self, s_fit_t *f)
{
    memset(f->wz, 0, sizeof(f->wz));
    memset(f->wzt, 0, sizeof(f->wzt));
    if (f->mode != S_TREND) {
        memset(f->w, 0, sizeof(f->w));
        memset(f->wt, 0, sizeof(f->wt));
        memset(f->wtt, 0, sizeof(f->wtt));
    }
    if (f->mode == S_START) {
        s_sum_rows(self, f);
    } else if (f->mode == S_LEVEL) {
        s_sum_levels(f);
    } else {
        s_sum_trend(f);
    }
    f->modew = f->mode;
    double r[DET_GLM_MAX_P] = {0};
    s_normal(f, r);
    if (s_chol(f) != 0) {
        return 1;
    }
    s_solve(f, r);
    for (size_t j = 0; j < f->p; j++) {
        if (!isfinite(r[j])) {
            return 1;
        }
        f->beta[j] = r[j];
    }
    return 0;
}

/* New means from f->beta. @return the deviance, or NAN where the exact
 * path must decide (a mean floored or not finite). With a trend, the
 * level sums of the next WLS are made on the way. */
static double
s_update(const det_glm_t *self, s_fit_t *f)
{
    const det_glm_design_t *d = f->d;
    double syeta = 0.0, smu = 0.0;
    f->b = d->t ? f->beta[1] : 0.0;
    for (size_t l = 0; l < d->nlev; l++) {
        f->c[l] = f->beta[0] + (l > 0 ? f->beta[f->off + l - 1] : 0.0);
        syeta += f->c[l] * f->py[l] + f->b * f->pyt[l];
    }
    if (d->t == NULL) {
        f->mode = S_LEVEL;
        for (size_t l = 0; l < d->nlev; l++) {
            f->mul[l] = exp(f->c[l]);
            if (!(f->mul[l] >= DBL_EPSILON) || isinf(f->mul[l])) {
                return NAN;
            }
            smu += f->mul[l] * f->pw[l];
        }
        return 2.0 * (f->c1 - syeta + smu);
    }
    f->mode = S_TREND;
    memset(f->w, 0, sizeof(f->w));
    memset(f->wt, 0, sizeof(f->wt));
    memset(f->wtt, 0, sizeof(f->wtt));
    if (!s_means(self, f, f->c, f->b, NULL, NULL)) {
        return NAN;
    }
    for (size_t l = 0; l < d->nlev; l++) {
        smu += f->w[l];
    }
    return 2.0 * (f->c1 - syeta + smu);
}

/* (X'WX)^-1 from the Cholesky factor of the last WLS. */
static void
s_inverse(det_glm_t *self, const s_fit_t *f)
{
    size_t p = f->p;
    double li[DET_GLM_MAX_P * DET_GLM_MAX_P] = {0};
    for (size_t j = 0; j < p; j++) {
        li[j + j * p] = 1.0 / f->l[j + j * p];
        for (size_t i = j + 1; i < p; i++) {
            double s = 0.0;
            for (size_t k = j; k < i; k++) {
                s -= f->l[i + k * p] * li[k + j * p];
            }
            li[i + j * p] = s / f->l[i + i * p];
        }
    }
    for (size_t j = 0; j < p; j++) {
        for (size_t i = j; i < p; i++) {
            double s = 0.0;
            for (size_t k = i; k < p; k++) {
                s += li[k + i * p] * li[k + j * p];
            }
            self->vinv[i + j * p] = self->vinv[j + i * p] = s;
        }
    }
}

/* What the fit keeps, as s_fit() in glm.c leaves it. */
static void
s_finish(det_glm_t *self, s_fit_t *f, double dev)
{
    const det_glm_design_t *d = f->d;
    size_t m = d->m;
    double *scr = self->work; /* the means of the last WLS */
    if (f->mode == S_TREND) {
        s_means(self, f, f->c, f->b, self->eta, self->mu);
    }
    if (f->modew == S_TREND) {
        s_means(self, f, f->cw, f->bw, self->work + self->cap, scr);
    }
    for (size_t i = 0; i < m; i++) {
        int l = f->lv[i];
        double pr = f->pr[i];
        if (f->mode == S_LEVEL) {
            self->eta[i] = f->c[l];
            self->mu[i] = f->mul[l];
        }
        if (f->modew == S_LEVEL) {
            self->wt[i] = pr * f->mulw[l];
        } else if (f->modew == S_TREND) {
            self->wt[i] = pr * scr[i];
        }
        if (!(pr > 0.0)) {
            self->wt[i] = 0.0;
        }
        self->res[i] = (f->y[i] - self->mu[i]) / self->mu[i];
    }
    self->deviance = dev;
    self->rank = (int)f->p;
    self->df_residual = (int)self->ngood - self->rank;
    for (size_t j = 0; j < f->p; j++) {
        self->coef[j] = f->beta[j];
        self->pivot[j] = (int)j;
    }
    s_inverse(self, f);
    /* What hat values need of the design (xd is scratch otherwise). */
    for (size_t i = 0; i < m; i++) {
        self->xd[i] = d->t ? d->t[i] : 0.0;
        self->xd[i + self->cap] = f->lv[i];
    }
    self->xtrend = d->t != NULL;
    self->fnlev = d->nlev;
    self->fnrun = f->nrun;
    self->fb = f->mode == S_TREND ? f->b : 0.0;
    memcpy(self->fc, f->c, sizeof(self->fc));
    self->fast = true;
}

/* @return 0 on success, 1 where the exact path must fit instead. */
static int
s_fast(det_glm_t *self, const det_glm_design_t *d, const double *y,
       const double *prior)
{
    s_fit_t f;
    memset(&f, 0, sizeof(f));
    f.d = d;
    f.y = y;
    f.prior = prior;
    f.off = d->t ? 2 : 1;
    f.p = f.off + d->nlev - 1;
    if (d->m > self->cap || d->nlev < 1 || f.p > DET_GLM_MAX_P) {
        return 1;
    }
    self->m = d->m;
    self->p = f.p;
    self->theta = 0.0;
    self->ngood = 0;
    if (prior == NULL || d->lev == NULL) {
        for (size_t i = 0; i < d->m; i++) {
            self->work[2 * self->cap + i] = 1.0;
            self->good[i] = 0;
        }
    }
    f.pr = prior ? prior : self->work + 2 * self->cap;
    f.lv = d->lev ? d->lev : self->good;
    for (size_t i = 0; i < d->m; i++) {
        self->ngood += f.pr[i] > 0.0;
    }
    if (d->t) {
        s_runs(self, &f);
    }
    double devold = s_start(self, &f), dev = devold;
    self->converged = false;
    for (int it = 1; it <= DET_GLM_MAXIT; it++) {
        self->iter = it;
        if (s_wls(self, &f) != 0) {
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
        int l = s_lev(d, i);
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
    const double *t = self->xd, *lev = self->xd + self->cap;
    if (!self->xtrend) {
        double pl[S_MAXL];
        for (size_t l = 0; l < self->fnlev; l++) {
            pl[l] = exp(e * self->fc[l]);
        }
        for (size_t i = 0; i < m; i++) {
            out[i] = pl[(size_t)lev[i]];
        }
        return;
    }
    double eb = exp(e * self->fb);
    for (int r = 0; r < self->fnrun; r++) {
        int i0 = self->runs[r], i1 = self->runs[r + 1];
        size_t l = (size_t)lev[i0];
        double v = exp(e * (self->fc[l] + self->fb * t[i0]));
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
