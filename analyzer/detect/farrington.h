/*  analyzer/detect/farrington.h - what the two Farrington detectors share
 *
 *  farrington.c (R's algo.farrington) and farrington_flexible.c (R's
 *  farringtonFlexible) fit the same quasi-Poisson GLM with the same
 *  Anscombe-residual reweighting, and both locate the seasonal reference
 *  periods either by index (t - y * freq) or by calendar date. Those pieces
 *  live in farrington.c and are declared here.
 *
 *  Threading: every function is pure or works on caller-owned state.
 */
#ifndef SENTINEL_ANALYZER_DETECT_FARRINGTON_H
#define SENTINEL_ANALYZER_DETECT_FARRINGTON_H

#include <stdbool.h>
#include <stddef.h>

#include "glm.h"
#include "sentinel/date.h"

/** @return the period start `years` calendar years before `t0` as R's
 *  seq(t0, by = "-1 year") gives it (29 February goes to 1 March), moved
 *  for weekly data (freq 52) to the nearest day of t0's weekday. */
sn_day_t det_farr_years_back(sn_day_t t0, int years, int freq);

/** @return the index of `day` in the ascending `days[0 .. n-1]`, or -1. */
long det_farr_find_day(const sn_day_t *days, size_t n, sn_day_t day);

/** @return R's max(x, 1): NAN stays NAN (C's fmax would give 1). */
double det_farr_max1(double x);

/* The rows of one Farrington GLM and scratch for its fit. The design is
 * described, not stored: column 0 the intercept, column 1 the time trend
 * t (when `trend`), then indicators of levels 1 .. nlev-1 of `lev`. What
 * the fit needs of each count (y log y - y, log(y + 0.1), y^(2/3)) is computed
 * once per series (det_farr_data_series) and copied with the row. */
typedef struct det_farr_data {
    size_t cap;          /* rows allocated */
    size_t m, p;         /* rows and columns in use */
    bool trend;          /* column 1 is the time trend */
    size_t nlev;         /* levels of the factor (1: no indicator columns) */
    double *t;           /* cap trend values */
    int *lev;            /* cap levels, 0 .. nlev-1 */
    double *y;           /* cap responses */
    double *yly;         /* cap y log(y) - y (0 where y = 0) */
    double *eta0;        /* cap log(y + 0.1) */
    double *y23;         /* cap y^(2/3) */
    double *hat;         /* cap hat values (scratch) */
    double *omega;       /* cap prior weights of the reweighted fit */
    const double *count; /* the series of det_farr_data_series() */
    size_t sn, scap;     /* its length; cache entries allocated */
    double *syly, *seta0, *sy23; /* the per-count values by series index */
    size_t *snan;                /* scap + 1: missing counts before each
                                    index */
    unsigned long gen; /* rows added so far: an id of the current rows */
} det_farr_data_t;

/** Create rows for at most `cap` observations. Never returns NULL. */
det_farr_data_t *det_farr_data_new(size_t cap);

/** Free the rows and set *self_p to NULL. Safe on NULL. */
void det_farr_data_destroy(det_farr_data_t **self_p);

/** Use the `n` counts of `count` (kept by reference) for the rows that
 *  follow, computing what the fit needs of each once. */
void det_farr_data_series(det_farr_data_t *d, const double *count, size_t n);

/** Append the count at series index i as a row with trend value t and
 *  level `lev`. The caller keeps m < cap. Inline: the detectors call it
 *  for every row of every evaluated point. */
static inline void
det_farr_data_add(det_farr_data_t *d, size_t i, double t, int lev)
{
    size_t r = d->m++;
    d->gen++;
    d->y[r] = d->count[i];
    d->yly[r] = d->syly[i];
    d->eta0[r] = d->seta0[i];
    d->y23[r] = d->sy23[i];
    d->t[r] = t;
    d->lev[r] = lev;
}

/** Append the `n` counts from series index i on as rows with trend
 *  values t0, t0 + 1, .. and level 0, as n det_farr_data_add() calls
 *  would. The caller keeps m + n <= cap. */
void det_farr_data_span(det_farr_data_t *d, size_t i, size_t n, double t0);

/** @return whether counts i .. j (inclusive, j < n) are all present. */
static inline bool
det_farr_data_present(const det_farr_data_t *d, size_t i, size_t j)
{
    return d->snan[j + 1] == d->snan[i];
}

/** Set the columns: p = 1 + trend + nlev - 1. */
void det_farr_data_design(det_farr_data_t *d, bool trend, size_t nlev);

/** Remove column 1 (the time trend) from the design; clears d->trend. */
void det_farr_drop_trend(det_farr_data_t *d);

/** Fit the GLM of d as R's Farrington fit functions do: when IRLS does
 *  not converge with the trend, the trend is dropped (d changes) and the
 *  fit repeated; phi = max(1, dispersion); with `reweight`, rows whose
 *  Anscombe residual exceeds `thr` are down-weighted (weights in
 *  d->omega) and the model refitted, phi taken from that fit. *conv gets
 *  whether the unweighted fit (after any drop) converged.
 *  @return 0, or -1 where R would stop with an error. */
int det_farr_fit(det_glm_t *glm, det_farr_data_t *d, bool reweight, double thr,
                 double *phi, bool *conv);

#endif
