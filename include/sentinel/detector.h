/*  include/sentinel/detector.h - one interface for every outbreak detector
 *
 *  A detector is a named method ("ears-c2", "farrington-flexible", "mpm", …)
 *  with parameters named as the reference implementation (R's surveillance,
 *  CDC's Rnssp) names its control list. Every detector has the same shape:
 *  given the history of one series up to t, it gives the observed value, the
 *  expected value, the upper bound, a score and the alarm at t.
 *
 *  Two forms share one set of formulas:
 *  - batch: sn_detector_eval() over a whole series, as `sentinel detect` and
 *    the reference tests use it;
 *  - streaming: sn_det_stream_push() one new value at a time, in time
 *    independent of the series length and from a state of bounded size, as
 *    the analyzer uses it on every series when a day closes. Both give the
 *    same numbers.
 *
 *  Threading: a detector and a stream belong to one thread. sn_detector_*
 *  functions that take a const detector may be called from several threads
 *  at once on the same detector.
 */
#ifndef SENTINEL_INCLUDE_DETECTOR_H
#define SENTINEL_INCLUDE_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/date.h"
#include "sentinel/error.h"

#define SN_DET_NA (-1)      /* alarm value where the reference gives NA */
#define SN_DET_MAX_EXTRA 32 /* extra output columns a method may add */

typedef struct sn_detector sn_detector_t;     /* opaque: method + params */
typedef struct sn_det_stream sn_det_stream_t; /* opaque: streaming state */

/* A series as the batch form reads it. Borrowed for the call. */
typedef struct sn_det_input {
    const double *count; /* n values; NAN marks a missing value */
    const sn_day_t *day; /* n period start days, or NULL when undated */
    size_t n;            /* number of time points */
    int frequency;       /* periods per year: 52 weekly, 365 daily */
    bool date_mode;      /* reference periods by date; a method's own
                            referenceMode parameter takes precedence */
} sn_det_input_t;

/* The result at one time point. NAN stands for NA in every double. */
typedef struct sn_det_point {
    double observed;                /* the value the alarm is about */
    double expected;                /* baseline expectation */
    double upperbound;              /* threshold (the GLR statistic: glrnb) */
    double score;                   /* method's statistic */
    int alarm;                      /* 1, 0 or SN_DET_NA */
    const char *label;              /* e.g. EWMA's "red"; static or NULL */
    double extra[SN_DET_MAX_EXTRA]; /* named by sn_detector_extra_name() */
} sn_det_point_t;

/** @return the NULL-terminated list of method names, static. Thread-safe. */
const char *const *sn_detector_methods(void);

/** Create a detector for `method` with its default parameters.
 *  @return the detector (caller owns it), or NULL with SN_ENOTFOUND and
 *  "unknown method 'x'" in err. */
sn_detector_t *sn_detector_new(const char *method, sn_err_t *err);

/** Free the detector and set *self_p to NULL. Safe on NULL. */
void sn_detector_destroy(sn_detector_t **self_p);

/** @return the method name, as given to sn_detector_new(). */
const char *sn_detector_method(const sn_detector_t *self);

/** Set parameter `name` (the reference's control name) from its text.
 *  @return SN_OK; SN_ENOTFOUND for an unknown name; SN_EINVAL or SN_ERANGE
 *  for a bad value, with "parameter 'b': …" in err. */
int sn_detector_set(sn_detector_t *self, const char *name, const char *value,
                    sn_err_t *err);

/** @return the 0-based index of the first time point of `in` the method can
 *  evaluate (its default range starts there), or SN_ENODATA when the series
 *  is too short for any. */
int64_t sn_detector_first(const sn_detector_t *self, const sn_det_input_t *in);

/** @return the number of extra output columns the method adds. */
size_t sn_detector_extra_count(const sn_detector_t *self);

/** @return the name of extra column `i` ("sigma", "pvalue", …), static. */
const char *sn_detector_extra_name(const sn_detector_t *self, size_t i);

/** @return the name of the label column (EWMA's "alert"), static, or NULL
 *  when the method gives no label. */
const char *sn_detector_label_name(const sn_detector_t *self);

/** @return the value of parameter `name` as a number (an enum gives the
 *  index of its choice; NAN stands for NULL), or NAN when unknown. */
double sn_detector_get(const sn_detector_t *self, const char *name);

/** Evaluate time points `from`..`to` (0-based, inclusive) of `in` into
 *  out[0 .. to-from]. @return SN_OK; SN_ENODATA with a message naming the
 *  first point when the history before `from` is too short; SN_EINVAL when
 *  the series does not suit the method (weekly method on daily data). */
int sn_detector_eval(const sn_detector_t *self, const sn_det_input_t *in,
                     size_t from, size_t to, sn_det_point_t *out,
                     sn_err_t *err);

/** Create the streaming state of `det` for a series of `frequency` periods
 *  per year. The first `from` values pushed are history only and come out
 *  NA; from then on each push is evaluated exactly as sn_detector_eval()
 *  evaluates that point of the whole series with the same `from` (CUSUM's
 *  in-control mean, for one, is the mean of those first values). Keeps a
 *  reference to det; det must outlive the stream. Never returns NULL.
 *  Caller owns the result. */
sn_det_stream_t *sn_det_stream_new(const sn_detector_t *det, int frequency,
                                   size_t from);

/** Free the stream and set *self_p to NULL. Safe on NULL. */
void sn_det_stream_destroy(sn_det_stream_t **self_p);

/** Append the value of the next period (`day` is its start; NAN when
 *  missing) and evaluate it into *out. Points before the method has enough
 *  history come out NA. O(1) in the series length.
 *  @return SN_OK, or SN_EINVAL when `day` does not follow the previous one. */
int sn_det_stream_push(sn_det_stream_t *self, sn_day_t day, double count,
                       sn_det_point_t *out);

/** @return the number of values pushed so far. */
size_t sn_det_stream_size(const sn_det_stream_t *self);

#endif
