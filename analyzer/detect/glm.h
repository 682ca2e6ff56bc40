/*  analyzer/detect/glm.h - R's IRLS for the log-linear (quasi-)Poisson GLM
 *
 *  The Farrington detectors must reproduce the numbers of R's glm.fit(), so
 *  this module follows it step by step rather than using a generic
 *  optimiser: start at mu = y + 0.1, weighted least squares by a pivoted
 *  Householder QR that copies LINPACK's dqrdc2 (columns whose norm falls
 *  below 1e-11 of their original norm are moved to the end and dropped as
 *  aliased), deviance-based stopping |D - D_old| / (|D| + 0.1) < 1e-8, at
 *  most 25 iterations, step halving only when the deviance or the mean is
 *  not finite, and means floored at DBL_EPSILON as R's poisson() does.
 *
 *  What the fit keeps is what R keeps: the QR and the working weights of the
 *  last WLS step (computed at the mean before the final update), and the
 *  final means and working residuals. From these come the hat values, the
 *  unscaled covariance (X'WX)^-1 and the dispersion estimates.
 *
 *  The struct is public because the detectors read its arrays on their hot
 *  path; only glm.c writes it. A fit object is a workspace: create it once
 *  for the largest design it will see and refit it for every time point, so
 *  the detectors do not allocate per point.
 *
 *  Threading: a det_glm_t belongs to one thread.
 */
#ifndef SENTINEL_ANALYZER_DETECT_GLM_H
#define SENTINEL_ANALYZER_DETECT_GLM_H

#include <stdbool.h>
#include <stddef.h>

#define DET_GLM_MAX_P 16  /* most columns a design may have */
#define DET_GLM_MAXIT 25  /* glm.control()$maxit */
#define DET_GLM_EPS 1e-8  /* glm.control()$epsilon */
#define DET_GLM_TOL 1e-11 /* min(1e-7, epsilon / 1000), Cdqrls' tolerance */

/* The start sums of a fast fit without prior weights (glm_start.c), kept
 * for the next fits of the same rows (det_glm_design_t.rows_id). */
typedef struct det_glm_start {
    unsigned long id;           /* rows id; 0: empty */
    const double *y;            /* the counts they were made from */
    size_t m, nl;               /* rows, levels */
    bool tr;                    /* the t sums are there, centred at tc */
    double tc;                  /* the centre of t */
    double c1, syeta;           /* sum(y log y - y), sum(y log(y + 0.1)) */
    double s[8][DET_GLM_MAX_P]; /* by level: sum y, y tt, 1, mu, mu tt,
                                   mu tt^2, wz, wz tt at mu = y + 0.1 */
} det_glm_start_t;

typedef struct det_glm {
    size_t cap;                  /* rows the arrays can hold */
    size_t m, p;                 /* rows and columns of the last fit */
    size_t ngood;                /* rows with a positive prior weight */
    int rank;                    /* rank found by the pivoted QR */
    int iter;                    /* IRLS iterations done */
    bool converged;              /* R's $converged */
    double deviance;             /* final deviance */
    int df_residual;             /* ngood - rank */
    double coef[DET_GLM_MAX_P];  /* by column; NAN when aliased */
    int pivot[DET_GLM_MAX_P];    /* column at pivoted position j */
    double qraux[DET_GLM_MAX_P]; /* dqrdc2's qraux of the last WLS */
    double *mu;                  /* m final means (fitted.values) */
    double *eta;                 /* m final linear predictors (not
                                    written by a fast fit) */
    double *wt;                  /* m working weights (0 if not good) */
    double *res;                 /* m working residuals */
    double *qr;                  /* ngood x p QR of the last WLS step */
    int *good;                   /* ngood row numbers with weight > 0 */
    double *work;                /* scratch: 4 * cap doubles */
    double theta;                /* NB size of the last fit; 0 Poisson */
    bool fast;                   /* last fit by det_glm_fit_design()'s
                                    normal equations: vinv holds
                                    (X'WX)^-1 and qr is unused */
    double vinv[DET_GLM_MAX_P * DET_GLM_MAX_P]; /* p x p, column-major */
    bool xtrend;               /* the fast fit's design had a trend */
    double *xd;                /* cap x DET_GLM_MAX_P dense design */
    int *runs;                 /* cap + 1 row numbers (fast fit) */
    int *rlink;                /* cap + 1 run links (fast fit) */
    int *rlev, *rlen;          /* cap + 1 runs' levels and lengths */
    double *rt0, *rg;          /* cap + 1 runs' first t - tc, weights */
    int *exc;                  /* cap rows (fast fit scratch) */
    int *brk;                  /* 2 (cap + 1) rows where runs must start:
                                  the first half kept for the rows id
                                  brk_id, the second scratch */
    double *ones;              /* cap ones, never written after new */
    int *zeros;                /* cap zeros, never written */
    unsigned long brk_id;      /* rows id of the kept breaks; 0: none */
    size_t brk_m, nbrk;        /* their rows; how many breaks */
    det_glm_start_t start;     /* fast fit: start sums of the last rows */
    int fnrun;                 /* fast fit: runs in `runs` */
    int fmaxn;                 /* fast fit: the longest run */
    size_t fnlev;              /* fast fit: levels */
    const double *ft;          /* fast fit: the design's t (borrowed) */
    const int *flev;           /* fast fit: the rows' levels (borrowed) */
    double ftc;                /* fast fit: the centre of t */
    double fc[DET_GLM_MAX_P];  /* fast fit: eta by level at t = ftc */
    double fb;                 /* fast fit: trend coefficient */
    double fiw[DET_GLM_MAX_P]; /* fast fit: 1 / sum of weights by level */
    double fh[DET_GLM_MAX_P];  /* fast fit: weighted mean of t - ftc */
    double fis;                /* fast fit: 1 / pooled within-level
                                  sum(w (t - fh)^2); 0 without trend */
    double fdisp[2];           /* fast fit: sum(wt res^2) and
                                  sum(prior res^2) over the good rows */
    const double *fprior;      /* fast fit: its prior weights (borrowed) */
    const double *etastart;    /* starting eta during a fit, or NULL */
} det_glm_t;

/** Create a workspace for designs of at most `cap` rows. Never returns
 *  NULL. Caller owns the result and frees it with det_glm_destroy(). */
det_glm_t *det_glm_new(size_t cap);

/** Free the workspace and set *self_p to NULL. Safe on NULL. */
void det_glm_destroy(det_glm_t **self_p);

/** Fit log(mu) = X beta to counts `y` (m values, none NAN) with prior
 *  weights `prior` (NULL: all 1; zero weights drop a row from the fit as R
 *  does) by R's IRLS. `x` is column-major with leading dimension `ldx`.
 *  Non-convergence is not an error: see self->converged.
 *  @return 0, or -1 when m > cap, p > DET_GLM_MAX_P, no row has a positive
 *  weight or the IRLS broke down (R would stop with an error). */
int det_glm_fit(det_glm_t *self, const double *x, size_t ldx, size_t m,
                size_t p, const double *y, const double *prior);

/* A design of the Farrington family: column 0 the intercept, then (if
 * t is set) the time trend, then indicators of levels 1 .. nlev-1 of a
 * factor (treatment contrasts, level 0 the baseline). */
typedef struct det_glm_design {
    size_t m;              /* rows */
    const double *t;       /* m trend values, or NULL: no trend column */
    const int *lev;        /* m levels in 0 .. nlev-1, or NULL: all 0 */
    size_t nlev;           /* levels, >= 1 */
    const double *yly;     /* m values y log(y) - y (0 at y = 0), or NULL */
    const double *eta0;    /* m values log(y + 0.1), or NULL */
    bool sums_only;        /* a fast fit leaves mu, eta, wt and res
                              unwritten: the caller reads only coef, the
                              covariance, the deviance and the dispersion
                              for NULL and for the prior weights */
    unsigned long rows_id; /* nonzero: the rows (y, t, lev, yly, eta0)
                              equal those of the last fit that had this
                              id and the same y pointer and m; 0: new */
} det_glm_design_t;

/** Fit log(mu) = X beta for the design `d` as det_glm_fit() does, with
 *  the same results to rounding, but in O(m) for the first IRLS step and
 *  O(runs of consecutive t) after it: X'WX and X'Wz are summed by level
 *  and the p x p system solved in O(levels) (self->fast set). Where that
 *  could disagree with R's pivoted QR (a squared relative Cholesky pivot
 *  below 1e-6, so near the aliasing tolerances; a mean below DBL_EPSILON
 *  or not finite; step halving) the fit is redone by det_glm_fit() on the
 *  dense design. A fast fit keeps pointers to d->t and d->lev for
 *  det_glm_hat() and det_glm_mu_pow(): those arrays must hold until the
 *  next fit. @return as det_glm_fit(). */
int det_glm_fit_design(det_glm_t *self, const det_glm_design_t *d,
                       const double *y, const double *prior);

/** Write mu_i^e for the final means of the last fit into out[0 .. m-1]:
 *  pow() for a dense fit; for a fast fit exp(e * eta) by level, or by run
 *  of consecutive weeks with a product per row (within a few ulps). */
void det_glm_mu_pow(const det_glm_t *self, double e, double *out);

/** Fit the same model with the negative binomial family of MASS's
 *  negative.binomial(theta) and log link, starting from eta = etastart
 *  (m values; NULL: log(y + 0.1)), as glm.nb() refits it between its
 *  estimates of theta. @return as det_glm_fit(). */
int det_glm_fit_nb(det_glm_t *self, const double *x, size_t ldx, size_t m,
                   size_t p, const double *y, double theta,
                   const double *etastart);

/** @return sum(wts * res^2 over rows with wts > 0) / df_residual: R's
 *  summary.glm() dispersion of a quasi family when `wts` holds the fit's
 *  working weights (pass NULL for those); NAN when df_residual <= 0. A
 *  fast fit has made the sums for NULL and for its own prior weights
 *  (the same array, unchanged since) on the way. */
double det_glm_dispersion(const det_glm_t *self, const double *wts);

/** Write the hat values of the weighted fit into hat[0 .. m-1] (rows with
 *  zero weight get 0; values within 10 DBL_EPSILON of 1 become 1, as R's
 *  lm.influence() does). */
void det_glm_hat(const det_glm_t *self, double *hat);

/** Predict at the row `x0` (p values, by column): *eta gets x0' beta over
 *  the non-aliased columns and *xvx gets x0' (X'WX)^-1 x0, computed as R's
 *  predict.lm() does (through the inverse of R).
 *  @return 0, or -1 when R's qr.solve() would find R singular (tolerance
 *  1e-7), where R's predict() stops with "singular matrix". */
int det_glm_predict(const det_glm_t *self, const double *x0, double *eta,
                    double *xvx);

/** @return the unscaled variance (X'WX)^-1 of column `col`'s coefficient
 *  (summary.glm's cov.unscaled diagonal); NAN when the column is aliased. */
double det_glm_var(const det_glm_t *self, size_t col);

#endif
