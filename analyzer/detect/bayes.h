/*  analyzer/detect/bayes.h - the baseline shared by the Bayes and RKI methods
 *
 *  surveillance's algo.bayes and algo.rki build the same baseline: the `w`
 *  periods before t (when actY) and, for each of `b` years back, the window
 *  t - y*freq ± w, by index arithmetic. bayes.c defines it; rki.c uses it.
 *
 *  Threading: pure functions, thread-safe.
 */
#ifndef SENTINEL_ANALYZER_DETECT_BAYES_H
#define SENTINEL_ANALYZER_DETECT_BAYES_H

#include "detect_int.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most values a baseline can hold: w <= 100, b <= 10 (the parameter
 * ranges), so 2 + 100 + 10 * 201. */
#define DET_BAYES_MAX_BASE 2200

/** Copy the baseline of 0-based point `t` of `y` into `out` (at least
 *  DET_BAYES_MAX_BASE values), in R's order. @return how many values.
 *  The caller has checked t >= det_bayes_first(). */
size_t det_bayes_baseline(const double *y, size_t t, int b, int w, bool acty,
                          int freq, double *out);

/** @return the first 0-based point with a full baseline in a series of `n`
 *  points, or SN_ENODATA. */
int64_t det_bayes_first(int b, int w, bool acty, int freq, size_t n);

/** @return how many of the newest values the streaming form keeps. */
size_t det_bayes_history(int b, int w, int freq);

#endif
