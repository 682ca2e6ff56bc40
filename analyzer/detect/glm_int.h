/*  analyzer/detect/glm_int.h - the state of a fast Farrington fit, shared
 *  by glm_fast.c (the IRLS steps) and glm_start.c (the start sums)
 *
 *  Private to analyzer/detect: a fast fit (det_glm_fit_design()) keeps its
 *  level sums and iterates in a det_glm_fast_t on the stack of glm_fast.c;
 *  glm_start.c fills the sums of the first WLS step at the start
 *  mu = y + 0.1, from the cached sums of the same rows where they apply.
 *
 *  Threading: as det_glm_t (one thread per workspace).
 */
#ifndef SENTINEL_ANALYZER_DETECT_GLM_INT_H
#define SENTINEL_ANALYZER_DETECT_GLM_INT_H

#include "glm.h"

#define DET_GLM_RUN 16 /* most rows in one run */

/* The sums of one fit and the state of its iterates. Time is centred:
 * tt = t - tc. Level sums: p* of the prior weights and counts, w* of the
 * working weights of the next WLS step, wz* of its working responses. */
typedef struct det_glm_fast {
    const det_glm_design_t *d;
    const double *y;     /* counts */
    const double *prior; /* the caller's prior, or NULL */
    const double *pr;    /* prior weights, or m ones */
    const int *lv;       /* d->lev, or m zeros */
    size_t p, nl;        /* columns; levels */
    bool tr;             /* the design has a trend */
    double tc;           /* the centre of t */
    double c1;           /* sum(prior * (y log y - y)) */
    double py[DET_GLM_MAX_P],
        pyt[DET_GLM_MAX_P];   /* sum(prior y), sum(prior y tt) */
    double pw[DET_GLM_MAX_P]; /* sum(prior) */
    double w[DET_GLM_MAX_P], wt[DET_GLM_MAX_P];   /* sum(w), sum(w tt) */
    double wtt[DET_GLM_MAX_P];                    /* sum(w tt^2) */
    double wz[DET_GLM_MAX_P], wzt[DET_GLM_MAX_P]; /* sum(w z), sum(w z tt) */
    double c[DET_GLM_MAX_P], b;                   /* eta = c[level] + b tt */
    double cw[DET_GLM_MAX_P], bw;                 /* c and b at the last WLS */
    double mul[DET_GLM_MAX_P], mulw[DET_GLM_MAX_P]; /* exp(c), exp(cw) */
    double iw[DET_GLM_MAX_P], h[DET_GLM_MAX_P],
        is; /* 1/w, wt/w, 1/S of the last WLS */
    double g0[DET_GLM_RUN + 1], g1[DET_GLM_RUN + 1],
        g2[DET_GLM_RUN + 1];    /* geometric sums */
    double qp[DET_GLM_RUN + 1]; /* q^j */
    int nrun, maxn;             /* runs; the longest */
    double tlo, thi;            /* the least and the greatest tt */
    long nexc;                  /* exception rows in exc (weights g but
                                   for these), or -1: not found */
    int mode;                   /* how the means are held: DET_GLM_MU_START.. */
    int modew;                  /* ditto at the last WLS */
} det_glm_fast_t;

enum {
    DET_GLM_MU_START, /* mu = y + 0.1 (before the first WLS) */
    DET_GLM_MU_LEVEL, /* by level in mul (no trend) */
    DET_GLM_MU_TREND  /* by c and b */
};

/* The per-fit constants (f->c1, self->ngood) and the level sums of the
 * first WLS step at the start mu = y + 0.1, added into f's zeroed sums;
 * f->mode becomes DET_GLM_MU_START. The plain sums of rows with a rows id
 * are kept in self->start for the next fits of the same rows, and with
 * a trend their run breaks in self->brk (glm_fast.c cuts the runs).
 * @return the deviance D0 of the start. */
double det_glm_start_sums(det_glm_t *self, det_glm_fast_t *f);

#endif
