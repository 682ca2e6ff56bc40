/*  analyzer/query.h - analysts' queries over the archive: list, series,
 *  alerts, corrections
 *
 *  What `sentinel query` prints, as a module the CLI, the tests and the
 *  plotter share. `list` filters the series keys; `series` loads one series
 *  (or a roll-up of many) over a date range into a table of named columns,
 *  daily or by ISO week; `alerts` filters the alerts table. Each prints as
 *  CSV, JSON lines or an aligned text table. Reading goes through the
 *  archive reader (archive_read.h), so queries work while the analyzer
 *  writes.
 *
 *  Weekly tables sum the days of each ISO week (Monday to Sunday). A week
 *  cut by --from/--to or by either end of the archive keeps the days it has:
 *  its `days` column says how many (fewer than 7), and its sum covers only
 *  those. Detector baselines, bounds and scores are daily figures that do
 *  not add up, so weekly tables give per detector only `D.alarms`, the
 *  number of days of the week whose alarm was raised.
 *
 *  A roll-up to the prefecture (4-digit region prefix) or province (2)
 *  sums the observed counts of every series with the key's condition,
 *  source and site whose region has the key's length (one administrative
 *  level: a county series and a prefecture series are never both counted)
 *  and starts with the prefix. Baselines cannot be summed either: roll-ups
 *  give the observed sum and `series`, the number of series with a value
 *  that day (weekly: the most on any day of the week), and no detector
 *  columns.
 *
 *  Threading: not thread-safe; one thread per reader (see archive_read.h).
 */
#ifndef SENTINEL_ANALYZER_QUERY_H
#define SENTINEL_ANALYZER_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "archive_read.h"
#include "sentinel/date.h"
#include "sentinel/error.h"

/* Output formats. */
typedef enum {
    ANA_QUERY_CSV = 0, /* header line, then comma-separated rows */
    ANA_QUERY_JSON,    /* one JSON object per line; NA is null */
    ANA_QUERY_TABLE    /* aligned columns for people */
} ana_query_format_t;

/* Roll-up levels of --rollup. */
typedef enum {
    ANA_QUERY_ROLLUP_NONE = 0,
    ANA_QUERY_ROLLUP_PREFECTURE, /* 4-digit region prefix */
    ANA_QUERY_ROLLUP_PROVINCE    /* 2-digit region prefix */
} ana_query_rollup_t;

#define ANA_QUERY_OPEN_FROM INT32_MIN /* no --from */
#define ANA_QUERY_OPEN_TO INT32_MAX   /* no --to */

/* Filters of `list`; NULL fields match everything. Strings borrowed. */
typedef struct ana_query_filter {
    const char *condition; /* exact condition code */
    const char *region;    /* region code prefix */
    const char *source;    /* exact source */
    const char *site;      /* exact site ("*" for all-site series) */
} ana_query_filter_t;

/* What `series` reads. */
typedef struct ana_query_range {
    sn_day_t from;             /* first day, or ANA_QUERY_OPEN_FROM */
    sn_day_t to;               /* last day, or ANA_QUERY_OPEN_TO */
    bool weekly;               /* sum by ISO week */
    ana_query_rollup_t rollup; /* sum over a region prefix */
} ana_query_range_t;

/* Filters of `alerts`. */
typedef struct ana_query_alert_filter {
    bool open_only;    /* only alerts whose latest event is not closed */
    sn_day_t since;    /* events about this day or later; or INT32_MIN */
    const char *level; /* exact colour, or NULL */
} ana_query_alert_filter_t;

/* Filters of `corrections`. */
typedef struct ana_query_fix_filter {
    const char *series; /* exact series key, or NULL for all */
    sn_day_t since;     /* corrected days from this one, or INT32_MIN */
} ana_query_fix_filter_t;

typedef struct ana_query_series ana_query_series_t; /* opaque; query.c */

/** Parse "csv", "json" or "table". @return SN_OK or SN_EINVAL
 *  "--format: 'x' is not csv, json or table". */
int ana_query_format_parse(const char *s, ana_query_format_t *out,
                           sn_err_t *err);

/** Parse "prefecture" or "province". @return SN_OK or SN_EINVAL. */
int ana_query_rollup_parse(const char *s, ana_query_rollup_t *out,
                           sn_err_t *err);

/** Print the series that pass `filter`, one per row, the key first.
 *  @return SN_OK, or SN_EIO when `out` fails. */
int ana_query_list(const ana_archive_read_t *r,
                   const ana_query_filter_t *filter, ana_query_format_t fmt,
                   FILE *out, sn_err_t *err);

/** Load series `key` over `range` into a new table. *out is written only
 *  on success; the caller owns it. @return SN_OK; SN_ENOTFOUND "unknown
 *  series key 'K'"; SN_ENODATA "K: no days between FROM and TO (the
 *  archive holds FIRST to LAST)" or "…: the archive holds no days yet";
 *  SN_EINVAL for a roll-up of a region shorter than its prefix, or
 *  from > to; SN_EARCHIVE when reading fails. */
int ana_query_series_load(ana_archive_read_t *r, const char *key,
                          const ana_query_range_t *range,
                          ana_query_series_t **out, sn_err_t *err);

/** Free the table and set *self_p to NULL. Safe on NULL. */
void ana_query_series_destroy(ana_query_series_t **self_p);

/** Print the table: its label columns ("date", or "week", "start",
 *  "days"), then its value columns. @return SN_OK or SN_EIO. */
int ana_query_series_print(const ana_query_series_t *self,
                           ana_query_format_t fmt, FILE *out, sn_err_t *err);

/** @return the key the table is about; a roll-up's key carries the prefix
 *  as its region ("ILI/4401/fever_clinic/" and a star). Valid while self lives.
 */
const char *ana_query_series_key(const ana_query_series_t *self);

/** @return true for a weekly table. */
bool ana_query_series_weekly(const ana_query_series_t *self);

/** @return the number of rows (days or weeks). */
size_t ana_query_series_rows(const ana_query_series_t *self);

/** @return the first day of row `i` (a Monday for weekly rows, or the
 *  first day of the range for a cut week). */
sn_day_t ana_query_series_day(const ana_query_series_t *self, size_t i);

/** @return the number of detectors whose columns the table holds. */
size_t ana_query_series_detector_count(const ana_query_series_t *self);

/** @return the name of detector `i`, valid while self lives. */
const char *ana_query_series_detector(const ana_query_series_t *self, size_t i);

/** @return the index of value column `name` ("observed",
 *  "ears-c2.upperbound", "ears-c2.alarms"…), or -1 when absent. */
int ana_query_series_column(const ana_query_series_t *self, const char *name);

/** @return value column `col` at row `i`; NAN where missing (an alarm
 *  column gives NAN where the detector did not evaluate). */
double ana_query_series_value(const ana_query_series_t *self, int col,
                              size_t i);

/** Print the alert events that pass `filter`, oldest first.
 *  @return SN_OK, SN_EARCHIVE or SN_EIO. */
int ana_query_alerts(ana_archive_read_t *r,
                     const ana_query_alert_filter_t *filter,
                     ana_query_format_t fmt, FILE *out, sn_err_t *err);

/** Print the correction records that pass `filter`, oldest first: time,
 *  day, series, previous, observed and where ("sealed": a sealed day
 *  rewritten in place, "recent", or "none": a day before the time axis,
 *  held by the record alone). @return SN_OK, SN_EARCHIVE or SN_EIO. */
int ana_query_corrections(ana_archive_read_t *r,
                          const ana_query_fix_filter_t *filter,
                          ana_query_format_t fmt, FILE *out, sn_err_t *err);

#endif
