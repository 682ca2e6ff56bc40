/*  analyzer/engine.h - run every configured detector on every series
 *
 *  When a day closes, the engine pushes each series' count for that day (or
 *  its proportion of the denominator series; with a window of `width` days
 *  the sum of the last `width` days, every `step` days) into one streaming
 *  detector
 *  state per (series, detector) (sn_det_stream_push: O(1) in the history),
 *  hands the results to the caller's sink (the archive writer) in blocks of
 *  rows, and hands every alarm to the trigger rules. Weekly detectors get
 *  the ISO week's total when the day closes a week (a Sunday) and NA on
 *  other days. A series starts its streams on the first day it counted
 *  anything, so a new site does not inherit years of false zeros.
 *
 *  A late event corrects a closed day: ana_engine_correct() evaluates that
 *  day again with the batch form over the window (the same numbers as the
 *  stream; a weekly detector the week's totals up to that Sunday), hands
 *  the result to the sink marked as a correction, retracts
 *  the old signals and hands the new ones to the triggers; the series'
 *  streams are rebuilt from the window before the next close.
 *
 *  Threading: not thread-safe; owned by the analyzer's ingest thread, which
 *  also runs the sink.
 */
#ifndef SENTINEL_ANALYZER_ENGINE_H
#define SENTINEL_ANALYZER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/detector.h"
#include "sentinel/error.h"

#include "series.h"
#include "trigger.h"

#define ANA_ENGINE_MAX_DETECTORS 16
#define ANA_ENGINE_MAX_PARAMS 24
#define ANA_ENGINE_BLOCK 4096 /* rows per sink call */

/* One configured detector. */
typedef struct ana_detector_spec {
    char name[SN_DETECTOR_MAX + 1];   /* its name in archive and alerts */
    char method[SN_DETECTOR_MAX + 1]; /* sn_detector_new() method */
    struct {
        char key[48];                /* the reference's control name */
        char value[48];              /* its text */
    } params[ANA_ENGINE_MAX_PARAMS]; /* parameters */
    size_t n_params;                 /* their number */
    bool weekly;     /* runs on ISO week totals: width 7, step 7 */
    uint32_t width;  /* days summed into one value (0: 1, or 7 weekly) */
    uint32_t step;   /* days between evaluations, on the days a multiple
                        of `step` after a Sunday (0: 1, or 7 weekly) */
    bool proportion; /* runs on count / denominator */
    uint32_t levels; /* bit per ana_level_t; 0 all */
    size_t warmup;   /* first values that are history only (CUSUM's in-control
                        period); 0: each method's own minimum */
} ana_detector_spec_t;

/* One series' result for a day. */
typedef struct ana_engine_row {
    uint32_t series;           /* series id */
    double observed;           /* the day's count */
    const sn_det_point_t *det; /* one point per detector, config order */
} ana_engine_row_t;

/* Receives a block of results for `day`; `correction` when a closed day was
 * evaluated again. Rows are borrowed for the call. */
typedef void (*ana_engine_sink_fn)(sn_day_t day, const ana_engine_row_t *rows,
                                   size_t n, bool correction, void *arg);

typedef struct ana_engine ana_engine_t; /* opaque; defined in engine.c */

/** Create the engine over `series` (borrowed; must outlive self), with
 *  `trigger` (borrowed, may be NULL) receiving alarms and `sink` (may be
 *  NULL) the results. @return SN_OK with *out (caller owns it), or the
 *  detector's error (unknown method, bad parameter) naming the detector. */
int ana_engine_new(ana_series_t *series, const ana_detector_spec_t *specs,
                   size_t n_specs, ana_trigger_t *trigger,
                   ana_engine_sink_fn sink, void *arg, ana_engine_t **out,
                   sn_err_t *err);

/** Free the engine and its streams; sets *self_p to NULL. Safe on NULL. */
void ana_engine_destroy(ana_engine_t **self_p);

/** @return the number of detectors, and their names in order. */
size_t ana_engine_detectors(const ana_engine_t *self);
const char *ana_engine_detector_name(const ana_engine_t *self, size_t i);

/** Close `day` for every series: push, sink, signal. Call for each day in
 *  order. @return the number of alarms. */
size_t ana_engine_close(ana_engine_t *self, sn_day_t day);

/** Evaluate closed day `day` of series `id` again after a correction
 *  (a detector with a step only when `day` is one of its days: a late
 *  event makes its caller correct the later days whose windows hold it,
 *  ana_engine_reach()). @return the number of alarms. */
size_t ana_engine_correct(ana_engine_t *self, uint32_t id, sn_day_t day);

/** @return how many days after a changed day some detector's value still
 *  holds it (the longest width, less one): the caller corrects the closed
 *  days up to that many after a late event's day. */
uint32_t ana_engine_reach(const ana_engine_t *self);

/** @return whether some detector evaluated on `day` reads a value whose
 *  window holds `changed` (a day at or before `day`). */
bool ana_engine_holds(const ana_engine_t *self, sn_day_t day, sn_day_t changed);

/** @return the last day closed, or INT32_MIN. */
sn_day_t ana_engine_last(const ana_engine_t *self);

/** Set the last closed day after a restart (streams are rebuilt from the
 *  windows on the next close). */
void ana_engine_resume(ana_engine_t *self, sn_day_t last);

/** @return bytes held by streams and bookkeeping (for the benchmark). */
size_t ana_engine_memory(const ana_engine_t *self);

#endif
