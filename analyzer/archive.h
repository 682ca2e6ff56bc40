/*  analyzer/archive.h - the HDF5 archive writer (SWMR) of every series
 *
 *  The analyzer keeps one archive file. Each series key (condition, region,
 *  source, site) owns one row; each day owns one column. When a day closes,
 *  the analyzer puts that day's observed count and, for every configured
 *  detector, its expected value, upper bound, score and alarm, for many
 *  series at once; alerts go to an append-only table. The file is written in
 *  HDF5's single-writer/multiple-reader (SWMR) mode, so `sentinel query`,
 *  h5py, pandas and R open it while it grows, and a kill -9 leaves a file
 *  that holds everything up to the last flush.
 *
 *  SWMR cannot create objects, so every dataset exists before SWMR starts:
 *  the series-key table and the [series x day] value datasets are extendible
 *  and grow in place, and a new series needs no restart. A file left behind
 *  by a killed writer is recovered by ana_archive_open() itself (it clears
 *  the superblock's writer flags, as `h5clear -s` does). The layout, its
 *  attributes and the reasons for the chunk shape are in docs/archive.md.
 *
 *  Series keys are stable strings "CONDITION/REGION/SOURCE/SITE", whose
 *  SITE part is a single star for a series of all sites ("ILI/440106/
 *  fever_clinic/" and the star); no part may be empty or hold '/', and each
 *  has a fixed maximum length (below).
 *
 *  Threading: not thread-safe. An archive is owned by the analyzer thread
 *  that opened it. HDF5 itself is one per process: open one writer per
 *  process.
 */
#ifndef SENTINEL_ANALYZER_ARCHIVE_H
#define SENTINEL_ANALYZER_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/config.h"   /* sn_cfg_schema_t, sn_cfg_node_t */
#include "sentinel/date.h"     /* sn_day_t, sn_time_t */
#include "sentinel/detector.h" /* sn_det_point_t */
#include "sentinel/error.h"    /* SN_OK and the negative SN_E* codes */

#define ANA_ARCHIVE_SCHEMA_VERSION 1 /* written to the root attribute */
#define ANA_ARCHIVE_MAX_DETECTORS 16 /* detector groups per file */
#define ANA_ARCHIVE_NAME_MAX 32      /* detector name, bytes w/o NUL */
#define ANA_ARCHIVE_CONDITION_MAX 32 /* key parts, bytes without NUL */
#define ANA_ARCHIVE_REGION_MAX 16
#define ANA_ARCHIVE_SOURCE_MAX 24
#define ANA_ARCHIVE_SITE_MAX 32
#define ANA_ARCHIVE_KEY_MAX 112 /* whole key string, bytes with NUL */
#define ANA_ARCHIVE_TEXT_MAX 64 /* alert string fields, bytes w/o NUL */
#define ANA_ARCHIVE_MESSAGE_MAX 256

typedef struct ana_archive ana_archive_t; /* opaque; defined in archive.c */

/* Where and how to write; fill with ana_archive_opts_default() first. */
typedef struct ana_archive_opts {
    const char *path;             /* the .h5 file; borrowed for open */
    const char *const *detectors; /* configured detector names, in order */
    size_t n_detectors;           /* 0 .. ANA_ARCHIVE_MAX_DETECTORS */
    double flush_interval;        /* seconds between flushes (default 5) */
    size_t chunk_series;          /* chunk rows (series), default 1024 */
    size_t chunk_days;            /* chunk columns (days), default 32 */
    int deflate;                  /* sealed blocks: 0 off .. 9 (default 4) */
} ana_archive_opts_t;

/* One series key; parts are borrowed. `site` NULL or "*": all sites. */
typedef struct ana_archive_key {
    const char *condition; /* disease or syndrome code ("ILI") */
    const char *region;    /* administrative code ("440106") */
    const char *source;    /* reporting channel ("fever_clinic") */
    const char *site;      /* site id, or NULL / "*" */
} ana_archive_key_t;

/* One series' values for the day given to ana_archive_put_day(). */
typedef struct ana_archive_row {
    size_t series;             /* row from ana_archive_series() */
    double observed;           /* the day's count; NAN when missing */
    const sn_det_point_t *det; /* n_detectors points in the configured
                                  order, or NULL when none ran; borrowed */
} ana_archive_row_t;

/* One alert event (opened, updated, escalated, closed); strings borrowed,
 * cut to ANA_ARCHIVE_TEXT_MAX (message: ANA_ARCHIVE_MESSAGE_MAX). */
typedef struct ana_archive_alert {
    sn_time_t time;        /* when the event happened */
    sn_day_t day;          /* the data day it is about */
    const char *id;        /* stable alert id */
    const char *rule;      /* trigger rule name */
    const char *level;     /* "blue", "yellow", "orange", "red" */
    const char *state;     /* "open", "update", "closed" */
    const char *condition; /* condition code */
    const char *region;    /* region code */
    const char *series;    /* evidence series key, or NULL */
    double observed;       /* evidence: observed count */
    double expected;       /* evidence: baseline */
    double upperbound;     /* evidence: threshold */
    const char *message;   /* one line for people, or NULL */
} ana_archive_alert_t;

/** The keys of the `archive:` section of the analyzer configuration (path,
 *  flush_interval, chunk_series, chunk_days, deflate), ending with a NULL
 *  key. Put it in a root schema as {"archive", SN_CFG_MAP, …, .fields =
 *  ana_archive_schema}. */
extern const sn_cfg_schema_t ana_archive_schema[];

/** Fill `opts` with the defaults (no path, no detectors). */
void ana_archive_opts_default(ana_archive_opts_t *opts);

/** Read the `archive:` section `node` (validated by ana_archive_schema) into
 *  `opts` over its defaults; detectors are left as they are. The path
 *  string lives as long as the configuration. @return SN_OK, or SN_ECONFIG
 *  when chunk_series * chunk_days is too large for one chunk. */
int ana_archive_opts_load(const sn_cfg_node_t *node, ana_archive_opts_t *opts,
                          sn_err_t *err);

/** Open the archive at opts->path for writing, creating it when missing;
 *  recover a file whose writer was killed; add groups for detectors new
 *  since the last run; then start SWMR. A file with a detector that is no
 *  longer configured keeps it (its columns stay NaN from now on).
 *  @return SN_OK; SN_EIO when the file cannot be created or opened;
 *  SN_EARCHIVE "not a Sentinel archive" or SN_EUNSUPPORTED for a newer
 *  schema version; SN_EINVAL for bad options. *out is written only on
 *  success and the caller owns it. */
int ana_archive_open(const ana_archive_opts_t *opts, ana_archive_t **out,
                     sn_err_t *err);

/** Flush, close the file and set *self_p to NULL. Safe on NULL. */
void ana_archive_destroy(ana_archive_t **self_p);

/** @return true when open found a file left open by a killed writer and
 *  cleared its flags (the analyzer logs it). */
bool ana_archive_recovered(const ana_archive_t *self);

/** @return the path an unreadable archive was moved to by open (a new,
 *  empty archive took its place: the analyzer logs both paths), or NULL
 *  when none was; borrowed until destroy. */
const char *ana_archive_moved_aside(const ana_archive_t *self);

/** @return the first day of the time axis, or INT32_MIN when it has none. */
sn_day_t ana_archive_first_day(const ana_archive_t *self);

/** @return the number of series rows in the file. */
size_t ana_archive_series_count(const ana_archive_t *self);

/** Write the key string of `key` into buf (ANA_ARCHIVE_KEY_MAX bytes).
 *  @return SN_OK, or SN_EINVAL naming the part that is empty, too long or
 *  holds '/'. */
int ana_archive_key_format(const ana_archive_key_t *key, char *buf,
                           sn_err_t *err);

/** Find the row of `key`, adding a new row (extending the key table in
 *  place) when it is new. *row is written only on success.
 *  @return SN_OK, SN_EINVAL for a bad key, SN_EARCHIVE on an HDF5 error. */
int ana_archive_series(ana_archive_t *self, const ana_archive_key_t *key,
                       size_t *row, sn_err_t *err);

/** Put the values of `n` series for `day`. Series not given keep their
 *  earlier values for that day (NaN / alarm -1 when never given), so a day
 *  may be put in several calls. The time axis grows to `day`; days between
 *  stay missing. A day before the current block (put again after a
 *  restart) goes through ana_archive_correct_day() with the current time.
 *  Flushes when the flush interval has passed.
 *  @return SN_OK; SN_ERANGE for a row that was never registered;
 *  SN_EARCHIVE on an HDF5 error. */
int ana_archive_put_day(ana_archive_t *self, sn_day_t day,
                        const ana_archive_row_t *rows, size_t n, sn_err_t *err);

/** Put the re-evaluated values of closed day `day` after a correction (a
 *  late or revised event): as ana_archive_put_day(), but any day is
 *  writable. A day of a sealed block is rewritten in place (one element
 *  per field, in its compressed chunk); a day before the first day of the
 *  time axis has no column and is kept in the record alone. Every row
 *  whose observed count changes appends a record (time `now`, day, series,
 *  the count before and after) to the corrections table, so a correction
 *  is visible, never silent. @return SN_OK; SN_ERANGE for a row that was
 *  never registered; SN_EARCHIVE on an HDF5 error. */
int ana_archive_correct_day(ana_archive_t *self, sn_day_t day,
                            const ana_archive_row_t *rows, size_t n,
                            sn_time_t now, sn_err_t *err);

/** Put the counts of `rows` on day `day` back to their `observed` values
 *  (the analyzer undoing a Kafka checkpoint that was dropped): a row whose
 *  stored count already equals it is left as it is, detector outputs
 *  included; each other row is written as by ana_archive_correct_day(),
 *  its detector outputs with it (give det NULL to mark them missing), and
 *  its change recorded in the corrections table. @return SN_OK; SN_ERANGE
 *  for a row that was never registered; SN_EARCHIVE on an HDF5 error. */
int ana_archive_restore_day(ana_archive_t *self, sn_day_t day,
                            const ana_archive_row_t *rows, size_t n,
                            sn_time_t now, sn_err_t *err);

/** Append one alert event to the alerts table. Flushes when the flush
 *  interval has passed. @return SN_OK or SN_EARCHIVE. */
int ana_archive_alert(ana_archive_t *self, const ana_archive_alert_t *alert,
                      sn_err_t *err);

/** Flush when the flush interval has passed since the last flush (call it
 *  from the analyzer's loop). @return SN_OK or SN_EARCHIVE. */
int ana_archive_tick(ana_archive_t *self, sn_err_t *err);

/** Flush now: after SN_OK, everything put so far survives a kill -9 and is
 *  visible to readers (commit Kafka offsets after this). @return SN_OK or
 *  SN_EARCHIVE. */
int ana_archive_flush(ana_archive_t *self, sn_err_t *err);

/** @return the newest day put so far, or INT32_MIN when none. */
sn_day_t ana_archive_last_day(const ana_archive_t *self);

#endif
