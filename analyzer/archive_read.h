/*  analyzer/archive_read.h - read the HDF5 archive, also while it is written
 *
 *  The reader side of analyzer/archive.h: `sentinel query`, the tests and
 *  the benchmarks open an archive with SWMR read access, so it works while
 *  the analyzer appends, after a kill -9 of the writer, and years later.
 *  It hides the split between sealed blocks and the recent block: a series
 *  reads as one run of days. Series are found by their key string
 *  (CONDITION/REGION/SOURCE/SITE); value fields are numbered 0 (observed)
 *  then 1 + 4 * detector + k, k = expected, upperbound, score, alarm.
 *
 *  Threading: not thread-safe; one reader per thread, HDF5 one thread per
 *  process.
 */
#ifndef SENTINEL_ANALYZER_ARCHIVE_READ_H
#define SENTINEL_ANALYZER_ARCHIVE_READ_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"
#include "sentinel/date.h"
#include "sentinel/error.h"

typedef struct ana_archive_read ana_archive_read_t; /* opaque */

/* Key parts, for ana_archive_read_key(). */
enum {
    ANA_ARCHIVE_KEY = 0,
    ANA_ARCHIVE_CONDITION,
    ANA_ARCHIVE_REGION,
    ANA_ARCHIVE_SOURCE,
    ANA_ARCHIVE_SITE
};

/* Detector value fields, k in field = 1 + 4 * detector + k. */
enum {
    ANA_ARCHIVE_EXPECTED = 0,
    ANA_ARCHIVE_UPPERBOUND,
    ANA_ARCHIVE_SCORE,
    ANA_ARCHIVE_ALARM
};

/* One record of the alerts table, as stored (fixed-size strings). */
typedef struct ana_archive_alert_rec {
    int64_t time;                              /* ms since 1970-01-01 */
    int32_t day;                               /* days since 1970-01-01 */
    char id[ANA_ARCHIVE_TEXT_MAX];             /* alert id */
    char rule[ANA_ARCHIVE_TEXT_MAX];           /* rule name */
    char level[16];                            /* colour */
    char state[16];                            /* open / update / closed */
    char condition[ANA_ARCHIVE_CONDITION_MAX]; /* condition code */
    char region[ANA_ARCHIVE_REGION_MAX];       /* region code */
    char series[ANA_ARCHIVE_KEY_MAX];          /* evidence key */
    double observed;                           /* evidence: count */
    double expected;                           /* evidence: baseline */
    double upperbound;                         /* evidence: threshold */
    char message[ANA_ARCHIVE_MESSAGE_MAX];     /* one line */
} ana_archive_alert_rec_t;

/* One record of the corrections table: a closed day whose observed count
 * changed after it was first written (a late event, a revised one). The
 * value datasets hold the corrected figures; this table says what changed
 * and when. */
typedef struct ana_archive_fix_rec {
    int64_t time;                     /* ms since 1970-01-01: when written */
    int32_t day;                      /* the corrected day */
    int32_t sealed;                   /* 1: the day was in a sealed block */
    char series[ANA_ARCHIVE_KEY_MAX]; /* series key */
    double previous;                  /* the count before; NAN when none */
    double observed;                  /* the corrected count */
} ana_archive_fix_rec_t;

/** Open the archive at `path` for reading (SWMR read).
 *  @return SN_OK; SN_EIO when it cannot be opened; SN_EARCHIVE "not a
 *  Sentinel archive"; SN_EUNSUPPORTED for a newer schema version. *out is
 *  written only on success; the caller owns it. */
int ana_archive_read_open(const char *path, ana_archive_read_t **out,
                          sn_err_t *err);

/** Close the archive and set *self_p to NULL. Safe on NULL. */
void ana_archive_read_destroy(ana_archive_read_t **self_p);

/** See what the writer has flushed since open or the last refresh: new
 *  series, days and alerts. @return SN_OK or SN_EARCHIVE. */
int ana_archive_read_refresh(ana_archive_read_t *self, sn_err_t *err);

/** @return the number of series. */
size_t ana_archive_read_series_count(const ana_archive_read_t *self);

/** @return part `part` (ANA_ARCHIVE_KEY …) of series `row`; valid until the
 *  next refresh or destroy. */
const char *ana_archive_read_key(const ana_archive_read_t *self, size_t row,
                                 int part);

/** Find the row of the series with key string `key`.
 *  @return SN_OK, or SN_ENOTFOUND "unknown series key '…'". */
int ana_archive_read_find(const ana_archive_read_t *self, const char *key,
                          size_t *row, sn_err_t *err);

/** @return the number of days (columns) on the time axis. */
size_t ana_archive_read_days(const ana_archive_read_t *self);

/** @return the day of column 0 (meaningless when there are no days). */
sn_day_t ana_archive_read_first_day(const ana_archive_read_t *self);

/** @return the number of detectors in the file. */
size_t ana_archive_read_detector_count(const ana_archive_read_t *self);

/** @return the name of detector `i`, valid while self lives. */
const char *ana_archive_read_detector(const ana_archive_read_t *self, size_t i);

/** Read field `field` of series `row` for columns [col0, col0 + n) into
 *  out (NAN where missing; alarm -1 where not evaluated).
 *  @return SN_OK; SN_ERANGE past the series or days; SN_EARCHIVE. */
int ana_archive_read_values(ana_archive_read_t *self, size_t row, size_t field,
                            size_t col0, size_t n, double *out, sn_err_t *err);

/** @return the number of alert records. */
size_t ana_archive_read_alert_count(const ana_archive_read_t *self);

/** Read alert records [i0, i0 + n) into out. @return SN_OK, SN_ERANGE or
 *  SN_EARCHIVE. */
int ana_archive_read_alerts(ana_archive_read_t *self, size_t i0, size_t n,
                            ana_archive_alert_rec_t *out, sn_err_t *err);

/** @return the number of correction records (0 for a file made before
 *  the corrections table existed). */
size_t ana_archive_read_fix_count(const ana_archive_read_t *self);

/** Read correction records [i0, i0 + n) into out, oldest first.
 *  @return SN_OK, SN_ERANGE or SN_EARCHIVE. */
int ana_archive_read_fixes(ana_archive_read_t *self, size_t i0, size_t n,
                           ana_archive_fix_rec_t *out, sn_err_t *err);

#endif
