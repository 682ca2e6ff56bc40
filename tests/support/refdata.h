/*  tests/support/refdata.h - reference series and outputs for detector suites
 *
 *  Reads the series and R's outputs of the reference set (found through
 *  SENTINEL_REFERENCE_DIR, see support.h) and builds detectors from
 *  NAME, VALUE pairs, so each detector suite checks its method against R
 *  without its own CSV code.
 *
 *  Threading: test process main thread only.
 */
#ifndef SENTINEL_TESTS_REFDATA_H
#define SENTINEL_TESTS_REFDATA_H

#include "sentinel/detector.h"

#include <stddef.h>

#define TS_REF_MAX 400 /* points read of a series: every weekly set fits */

/* One reference series: counts (NAN for NA) and period start days. */
typedef struct ts_ref_series {
    double count[TS_REF_MAX]; /* the counts */
    sn_day_t day[TS_REF_MAX]; /* the dates */
    size_t n;                 /* how many were read */
} ts_ref_series_t;

/** Read series/NAME.csv (t,date,count) into *s. Fails the test when the
 *  file is missing. */
void ts_ref_load(const char *name, ts_ref_series_t *s);

/** Compare the upper bounds and alarms of pt[] (pt[0] is 0-based point
 *  `from`) with R's out/NAME__CASE.csv: |ours - R| <= tol * |R| + 1e-9, NA
 *  where R has NA, alarms equal, and exactly `rows` rows. */
void ts_ref_compare(const char *name, const char *cs, const sn_det_point_t *pt,
                    size_t from, double tol, int rows);

/** @return a detector for `method` with the NULL-terminated NAME, VALUE
 *  pairs set; fails the test on an error. Caller owns the result. */
sn_detector_t *ts_ref_detector(const char *method, const char *const *kv);

#endif
