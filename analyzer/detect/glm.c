/*  analyzer/detect/glm.c - R's IRLS for the log-linear (quasi-)Poisson GLM
 *
 *  The Farrington family fits one small GLM per evaluated time point. The
 *  fit follows R's glm.fit() with family quasipoisson(link = "log") and the
 *  LINPACK routines behind it (dqrdc2 for the pivoted QR, dqrsl for the
 *  solves), in the same order of operations, so that the iterate at which R
 *  stops, and hence the bounds, agree to rounding. Degenerate windows (all
 *  counts zero) make IRLS walk the intercept towards minus infinity until
 *  the deviance test stops it; copying R's arithmetic reproduces where.
 */
#include "glm.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

det_glm_t *
det_glm_new(size_t cap)
{
    det_glm_t *self = sn_calloc(1, sizeof(*self));
    if (cap < 1) {
        cap = 1;
    }
    self->cap = cap;
    self->mu = sn_calloc(cap, sizeof(double));
    self->eta = sn_calloc(cap, sizeof(double));
    self->wt = sn_calloc(cap, sizeof(double));
    self->res = sn_calloc(cap, sizeof(double));
    self->qr = sn_calloc(cap * DET_GLM_MAX_P, sizeof(double));
    self->good = sn_calloc(cap, sizeof(int));
    self->work = sn_calloc(4 * cap, sizeof(double));
    self->xd = sn_calloc(cap * DET_GLM_MAX_P, sizeof(double));
    self->runs = sn_calloc(cap + 1, sizeof(int));
    self->rlink = sn_calloc(cap + 1, sizeof(int));
    self->exc = sn_calloc(cap, sizeof(int));
    self->brk = sn_calloc(2 * (cap + 1), sizeof(int));
    self->ones = sn_calloc(cap, sizeof(double));
    self->zeros = sn_calloc(cap, sizeof(int));
    for (size_t i = 0; i < cap; i++) {
        self->ones[i] = 1.0;
    }
    self->rlev = sn_calloc(cap + 1, sizeof(int));
    self->rlen = sn_calloc(cap + 1, sizeof(int));
    self->rt0 = sn_calloc(cap + 1, sizeof(double));
    self->rg = sn_calloc(cap + 1, sizeof(double));
    return self;
}

void
det_glm_destroy(det_glm_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    det_glm_t *self = *self_p;
    free(self->mu);
    free(self->eta);
    free(self->wt);
    free(self->res);
    free(self->qr);
    free(self->good);
    free(self->work);
    free(self->xd);
    free(self->runs);
    free(self->rlink);
    free(self->exc);
    free(self->brk);
    free(self->ones);
    free(self->zeros);
    free(self->rlev);
    free(self->rlen);
    free(self->rt0);
    free(self->rg);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------
 * LINPACK, as R ships it (column-major, leading dimension ld).
 */

static double
s_nrm2(size_t n, const double *x)
{
    /* The scaled sum of squares of the reference BLAS dnrm2. */
    double scale = 0.0, ssq = 1.0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != 0.0) {
            double a = fabs(x[i]);
            if (scale < a) {
                ssq = 1.0 + ssq * (scale / a) * (scale / a);
                scale = a;
            } else {
                ssq += (a / scale) * (a / scale);
            }
        }
    }
    return scale * sqrt(ssq);
}

static double
s_dot(size_t n, const double *x, const double *y)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        s += x[i] * y[i];
    }
    return s;
}

static void
s_axpy(size_t n, double a, const double *x, double *y)
{
    if (a == 0.0) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        y[i] += a * x[i];
    }
}

/* Move column l to the end (dqrdc2's cycling of a negligible column). */
static void
s_cycle(double *x, size_t ld, size_t n, size_t p, size_t l, int *jpvt,
        double *qraux, double *w1, double *w2)
{
    for (size_t i = 0; i < n; i++) {
        double t = x[i + l * ld];
        for (size_t j = l + 1; j < p; j++) {
            x[i + (j - 1) * ld] = x[i + j * ld];
        }
        x[i + (p - 1) * ld] = t;
    }
    int ip = jpvt[l];
    double t = qraux[l], tt = w1[l], ttt = w2[l];
    for (size_t j = l + 1; j < p; j++) {
        jpvt[j - 1] = jpvt[j];
        qraux[j - 1] = qraux[j];
        w1[j - 1] = w1[j];
        w2[j - 1] = w2[j];
    }
    jpvt[p - 1] = ip;
    qraux[p - 1] = t;
    w1[p - 1] = tt;
    w2[p - 1] = ttt;
}

/* Apply the Householder step of column l to column j and update its norm. */
static void
s_reflect(double *x, size_t ld, size_t n, size_t l, size_t j, double *qraux,
          double *w1)
{
    double *xl = x + l + l * ld, *xj = x + l + j * ld;
    double t = -s_dot(n - l, xl, xj) / xl[0];
    s_axpy(n - l, t, xl, xj);
    if (qraux[j] == 0.0) {
        return;
    }
    double tt = 1.0 - (fabs(xj[0]) / qraux[j]) * (fabs(xj[0]) / qraux[j]);
    tt = fmax(tt, 0.0);
    if (fabs(tt) < 1e-6) {
        qraux[j] = s_nrm2(n - l - 1, xj + 1);
        w1[j] = qraux[j];
    } else {
        qraux[j] *= sqrt(tt);
    }
}

/* LINPACK dqrdc2 with R's limited column pivoting. @return the rank. */
static int
s_dqrdc2(double *x, size_t ld, size_t n, size_t p, double tol, double *qraux,
         int *jpvt)
{
    double w1[DET_GLM_MAX_P], w2[DET_GLM_MAX_P];
    for (size_t j = 0; j < p; j++) {
        qraux[j] = s_nrm2(n, x + j * ld);
        w1[j] = qraux[j];
        w2[j] = qraux[j] == 0.0 ? 1.0 : qraux[j];
    }
    size_t lup = n < p ? n : p;
    size_t k = p + 1; /* 1-based, as in the Fortran */
    for (size_t l = 0; l < lup; l++) {
        while (l + 1 < k && !(qraux[l] >= w2[l] * tol)) {
            s_cycle(x, ld, n, p, l, jpvt, qraux, w1, w2);
            k--;
        }
        if (l + 1 == n) {
            break;
        }
        double *xl = x + l + l * ld;
        double nrmxl = s_nrm2(n - l, xl);
        if (nrmxl == 0.0) {
            continue;
        }
        if (xl[0] != 0.0) {
            nrmxl = copysign(nrmxl, xl[0]);
        }
        for (size_t i = 0; i < n - l; i++) {
            xl[i] *= 1.0 / nrmxl;
        }
        xl[0] = 1.0 + xl[0];
        for (size_t j = l + 1; j < p; j++) {
            s_reflect(x, ld, n, l, j, qraux, w1);
        }
        qraux[l] = xl[0];
        xl[0] = -nrmxl;
    }
    k = k - 1;
    return (int)(k < n ? k : n);
}

/* Q'y in place (dqrsl job 1000) for a QR of rank k on n rows. */
static void
s_qty(const double *x, size_t ld, size_t n, size_t k, const double *qraux,
      double *y)
{
    size_t ju = k < n - 1 ? k : n - 1;
    for (size_t j = 0; j < ju; j++) {
        if (qraux[j] == 0.0) {
            continue;
        }
        const double *xj = x + j + j * ld;
        double t =
            -(qraux[j] * y[j] + s_dot(n - j - 1, xj + 1, y + j + 1)) / qraux[j];
        y[j] += t * qraux[j];
        s_axpy(n - j - 1, t, xj + 1, y + j + 1);
    }
}

/* Q y in place (dqrsl job 10000). */
static void
s_qy(const double *x, size_t ld, size_t n, size_t k, const double *qraux,
     double *y)
{
    size_t ju = k < n - 1 ? k : n - 1;
    for (size_t jj = 0; jj < ju; jj++) {
        size_t j = ju - 1 - jj;
        if (qraux[j] == 0.0) {
            continue;
        }
        const double *xj = x + j + j * ld;
        double t =
            -(qraux[j] * y[j] + s_dot(n - j - 1, xj + 1, y + j + 1)) / qraux[j];
        y[j] += t * qraux[j];
        s_axpy(n - j - 1, t, xj + 1, y + j + 1);
    }
}

/* Solve R b = qty[0..k-1] in place, column by column as dqrsl does. */
static int
s_backsolve(const double *x, size_t ld, size_t k, double *b)
{
    for (size_t jj = 0; jj < k; jj++) {
        size_t j = k - 1 - jj;
        double rjj = x[j + j * ld];
        if (rjj == 0.0) {
            return -1;
        }
        b[j] /= rjj;
        if (j > 0) {
            s_axpy(j, -b[j], x + j * ld, b);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * IRLS
 */

static double
s_linkinv(double eta)
{
    return fmax(exp(eta), DBL_EPSILON);
}

/* Sum of the deviance residuals: Poisson, or negative binomial with
 * size theta (MASS's negative.binomial()) when theta > 0. */
static double
s_deviance(const det_glm_t *self, const double *y, const double *mu,
           const double *prior, size_t m)
{
    double d = 0.0, th = self->theta;
    for (size_t i = 0; i < m; i++) {
        double wi = prior ? prior[i] : 1.0, r;
        if (th > 0.0) {
            r = wi * (y[i] * log(fmax(1.0, y[i]) / mu[i]) -
                      (y[i] + th) * log((y[i] + th) / (mu[i] + th)));
        } else if (y[i] > 0.0) {
            r = wi * (y[i] * log(y[i] / mu[i]) - (y[i] - mu[i]));
        } else {
            r = mu[i] * wi;
        }
        d += 2.0 * r;
    }
    return d;
}

static void
s_predict(const double *x, size_t ldx, size_t m, size_t p, const double *beta,
          double *eta, double *mu)
{
    for (size_t i = 0; i < m; i++) {
        double e = 0.0;
        for (size_t j = 0; j < p; j++) {
            e += x[i + j * ldx] * beta[j];
        }
        eta[i] = e;
        mu[i] = s_linkinv(e);
    }
}

static bool
s_valid_mu(const double *mu, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        if (!isfinite(mu[i]) || !(mu[i] > 0.0)) {
            return false;
        }
    }
    return true;
}

/* One WLS step: build sqrt-weighted X and z, factor, solve into beta
 * (by column, aliased columns 0). @return 0, or -1 on non-finite. */
static int
s_wls(det_glm_t *self, const double *x, size_t ldx, const double *y,
      const double *prior, double *beta)
{
    size_t n = self->ngood, p = self->p;
    double *z = self->work, *w = self->work + self->cap;
    for (size_t r = 0; r < n; r++) {
        size_t i = (size_t)self->good[r];
        double me = fmax(exp(self->eta[i]), DBL_EPSILON);
        double pw = prior ? prior[i] : 1.0;
        double var = self->mu[i];
        if (self->theta > 0.0) {
            var += self->mu[i] * self->mu[i] / self->theta;
        }
        z[r] = self->eta[i] + (y[i] - self->mu[i]) / me;
        w[r] = sqrt((pw * me * me) / var);
        for (size_t j = 0; j < p; j++) {
            self->qr[r + j * n] = x[i + j * ldx] * w[r];
        }
        z[r] *= w[r];
    }
    for (size_t j = 0; j < p; j++) {
        self->pivot[j] = (int)j;
    }
    int k = s_dqrdc2(self->qr, n, n, p, DET_GLM_TOL, self->qraux, self->pivot);
    self->rank = k;
    double b[DET_GLM_MAX_P] = {0};
    if (k > 0) {
        s_qty(self->qr, n, n, (size_t)k, self->qraux, z);
        memcpy(b, z, (size_t)k * sizeof(double));
        if (s_backsolve(self->qr, n, (size_t)k, b) != 0) {
            return -1;
        }
    }
    for (size_t j = 0; j < p; j++) {
        if (!isfinite(b[j])) {
            return -1;
        }
        beta[self->pivot[j]] = b[j];
    }
    for (size_t r = 0; r < n; r++) {
        self->wt[self->good[r]] = w[r] * w[r];
    }
    return 0;
}

/* R's step halving when the deviance or the means are not valid. */
static int
s_halve(det_glm_t *self, const double *x, size_t ldx, const double *y,
        const double *prior, double *beta, const double *old, bool have_old,
        double *dev)
{
    size_t m = self->m, p = self->p;
    int ii = 0;
    while (!isfinite(*dev) || !s_valid_mu(self->mu, m)) {
        if (!have_old || ++ii > DET_GLM_MAXIT) {
            return -1;
        }
        for (size_t j = 0; j < p; j++) {
            beta[j] = (beta[j] + old[j]) / 2.0;
        }
        s_predict(x, ldx, m, p, beta, self->eta, self->mu);
        *dev = s_deviance(self, y, self->mu, prior, m);
    }
    return 0;
}

static int
s_setup(det_glm_t *self, size_t m, size_t p, const double *y,
        const double *prior)
{
    if (m > self->cap || p > DET_GLM_MAX_P || p == 0) {
        return -1;
    }
    self->m = m;
    self->p = p;
    self->ngood = 0;
    for (size_t i = 0; i < m; i++) {
        self->wt[i] = 0.0;
        if (prior == NULL || prior[i] > 0.0) {
            self->good[self->ngood++] = (int)i;
        }
        self->eta[i] = self->etastart ? self->etastart[i] : log(y[i] + 0.1);
        self->mu[i] = s_linkinv(self->eta[i]);
    }
    return self->ngood > 0 ? 0 : -1;
}

static int
s_fit(det_glm_t *self, const double *x, size_t ldx, size_t m, size_t p,
      const double *y, const double *prior)
{
    assert(self != NULL && x != NULL && y != NULL);
    self->fast = false;
    if (s_setup(self, m, p, y, prior) != 0) {
        return -1;
    }
    double beta[DET_GLM_MAX_P] = {0}, old[DET_GLM_MAX_P] = {0};
    bool have_old = false;
    double devold = s_deviance(self, y, self->mu, prior, m), dev = devold;
    self->converged = false;
    self->iter = 0;
    for (int it = 1; it <= DET_GLM_MAXIT; it++) {
        self->iter = it;
        if (s_wls(self, x, ldx, y, prior, beta) != 0) {
            break; /* R: "non-finite coefficients", not converged */
        }
        s_predict(x, ldx, m, p, beta, self->eta, self->mu);
        dev = s_deviance(self, y, self->mu, prior, m);
        if (s_halve(self, x, ldx, y, prior, beta, old, have_old, &dev) != 0) {
            return -1;
        }
        if (fabs(dev - devold) / (fabs(dev) + 0.1) < DET_GLM_EPS) {
            self->converged = true;
            break;
        }
        devold = dev;
        memcpy(old, beta, sizeof(beta));
        have_old = true;
    }
    self->deviance = dev;
    self->df_residual = (int)self->ngood - self->rank;
    for (size_t j = 0; j < p; j++) {
        self->coef[j] = beta[j];
    }
    for (size_t j = (size_t)self->rank; j < p; j++) {
        self->coef[self->pivot[j]] = NAN;
    }
    for (size_t i = 0; i < m; i++) {
        double me = fmax(exp(self->eta[i]), DBL_EPSILON);
        self->res[i] = (y[i] - self->mu[i]) / me;
    }
    return 0;
}

int
det_glm_fit(det_glm_t *self, const double *x, size_t ldx, size_t m, size_t p,
            const double *y, const double *prior)
{
    self->theta = 0.0;
    self->etastart = NULL;
    return s_fit(self, x, ldx, m, p, y, prior);
}

int
det_glm_fit_nb(det_glm_t *self, const double *x, size_t ldx, size_t m, size_t p,
               const double *y, double theta, const double *etastart)
{
    self->theta = theta;
    self->etastart = etastart;
    int rc = s_fit(self, x, ldx, m, p, y, NULL);
    self->etastart = NULL;
    return rc;
}

double
det_glm_dispersion(const det_glm_t *self, const double *wts)
{
    if (self->df_residual <= 0) {
        return NAN;
    }
    if (self->fast && (wts == NULL || wts == self->fprior)) {
        return self->fdisp[wts == NULL ? 0 : 1] / self->df_residual;
    }
    const double *w = wts ? wts : self->wt;
    double s = 0.0;
    for (size_t i = 0; i < self->m; i++) {
        if (w[i] > 0.0) {
            s += w[i] * self->res[i] * self->res[i];
        }
    }
    return s / self->df_residual;
}

/* The hat values of a fit by det_glm_fit_design(): for row i at level l
 * and centred time tt, x_i' V x_i = 1/w_l + (tt - h_l)^2 / S with the
 * level sums of the last WLS (glm_fast.c). */
static void
s_fast_hat(const det_glm_t *self, double *hat)
{
    const double *wt = self->wt, *t = self->ft, *iw = self->fiw;
    const double *fh = self->fh;
    const int *lev = self->flev;
    double is = self->fis, tc = self->ftc;
    size_t m = self->m;
    for (size_t i = 0; i < m; i++) {
        double w = wt[i], h = 0.0;
        int l = lev[i];
        if (w > 0.0) {
            double d = t ? t[i] - tc - fh[l] : 0.0;
            h = w * (iw[l] + d * d * is);
        }
        hat[i] = h >= 1.0 - 10.0 * DBL_EPSILON ? 1.0 : h;
    }
}

void
det_glm_hat(const det_glm_t *self, double *hat)
{
    if (self->fast) {
        s_fast_hat(self, hat);
        return;
    }
    size_t n = self->ngood, k = (size_t)self->rank;
    double *h = self->work + 2 * self->cap, *e = self->work + 3 * self->cap;
    for (size_t r = 0; r < n; r++) {
        h[r] = 0.0;
    }
    for (size_t j = 0; j < k; j++) {
        for (size_t r = 0; r < n; r++) {
            e[r] = r == j ? 1.0 : 0.0;
        }
        s_qy(self->qr, n, n, k, self->qraux, e);
        for (size_t r = 0; r < n; r++) {
            h[r] += e[r] * e[r];
        }
    }
    for (size_t i = 0; i < self->m; i++) {
        hat[i] = 0.0;
    }
    for (size_t r = 0; r < n; r++) {
        hat[self->good[r]] = h[r] >= 1.0 - 10.0 * DBL_EPSILON ? 1.0 : h[r];
    }
}

/* R's qr.solve(R) fails when qr(R, tol = 1e-7) is rank deficient. */
static bool
s_r_singular(const det_glm_t *self)
{
    size_t k = (size_t)self->rank, n = self->ngood;
    double a[DET_GLM_MAX_P * DET_GLM_MAX_P], qa[DET_GLM_MAX_P];
    int piv[DET_GLM_MAX_P];
    for (size_t j = 0; j < k; j++) {
        piv[j] = (int)j;
        for (size_t i = 0; i < k; i++) {
            a[i + j * k] = i <= j ? self->qr[i + j * n] : 0.0;
        }
    }
    return s_dqrdc2(a, k, k, k, 1e-7, qa, piv) < (int)k;
}

static void
s_xvx(const det_glm_t *self, const double *x0, double *eta, double *xvx)
{
    size_t k = (size_t)self->rank, n = self->ngood;
    double v[DET_GLM_MAX_P], e = 0.0, q = 0.0;
    /* Forward substitution: v = R^-T x0[piv], so x0' V x0 = |v|^2. */
    for (size_t j = 0; j < k; j++) {
        size_t c = (size_t)self->pivot[j];
        double s = x0[c];
        e += x0[c] * self->coef[c];
        for (size_t i = 0; i < j; i++) {
            s -= self->qr[i + j * n] * v[i];
        }
        v[j] = s / self->qr[j + j * n];
        q += v[j] * v[j];
    }
    *eta = e;
    *xvx = q;
}

int
det_glm_predict(const det_glm_t *self, const double *x0, double *eta,
                double *xvx)
{
    if (self->fast) {
        /* Every relative pivot was far above qr()'s 1e-7. */
        size_t p = self->p;
        double e = 0.0, q = 0.0;
        for (size_t i = 0; i < p; i++) {
            e += x0[i] * self->coef[i];
            for (size_t j = 0; j < p; j++) {
                q += x0[i] * x0[j] * self->vinv[i + j * p];
            }
        }
        *eta = e;
        *xvx = q;
        return 0;
    }
    if (self->rank == 0 || s_r_singular(self)) {
        return -1;
    }
    s_xvx(self, x0, eta, xvx);
    return 0;
}

double
det_glm_var(const det_glm_t *self, size_t col)
{
    double x0[DET_GLM_MAX_P] = {0}, eta, q;
    if (col >= self->p || isnan(self->coef[col])) {
        return NAN;
    }
    if (self->fast) {
        return self->vinv[col + col * self->p];
    }
    x0[col] = 1.0;
    s_xvx(self, x0, &eta, &q);
    return q;
}
