/*  include/sentinel/date.h - calendar days and timestamps
 *
 *  A day is sn_day_t, the number of days since 1970-01-01 in the proleptic
 *  Gregorian calendar (UTC); a timestamp is sn_time_t, milliseconds since the
 *  Unix epoch. Binning, windows, archives and detectors all count in days.
 *
 *  Threading: every function is pure and thread-safe.
 */
#ifndef SENTINEL_INCLUDE_DATE_H
#define SENTINEL_INCLUDE_DATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"

typedef int32_t sn_day_t;  /* days since 1970-01-01 */
typedef int64_t sn_time_t; /* milliseconds since 1970-01-01T00:00:00Z */

#define SN_DAY_STR_MAX 11  /* "YYYY-MM-DD" and NUL */
#define SN_TIME_STR_MAX 32 /* "YYYY-MM-DDTHH:MM:SS.mmmZ" and NUL */

/** @return the day of year/month/day; the date must be valid. */
sn_day_t sn_day_from_ymd(int year, int month, int day);

/** Split `d` into year, month (1-12) and day of month (1-31). */
void sn_day_to_ymd(sn_day_t d, int *year, int *month, int *day);

/** @return true when `year` is a leap year. */
bool sn_day_is_leap(int year);

/** @return the ISO weekday of `d`: 1 Monday … 7 Sunday. */
int sn_day_weekday(sn_day_t d);

/** Parse "YYYY-MM-DD" (exactly; a valid calendar date, years 1900-9999).
 *  @return SN_OK or SN_EPARSE; *out is written only on success. */
int sn_day_parse(const char *s, sn_day_t *out);

/** Write "YYYY-MM-DD" into buf (at least SN_DAY_STR_MAX bytes). @return buf. */
char *sn_day_format(sn_day_t d, char *buf);

/** Parse an RFC 3339 timestamp ("2026-11-25T13:51:39Z", fractions and
 *  "+08:00" offsets allowed) or a bare date (midnight UTC).
 *  @return SN_OK or SN_EPARSE; *out is written only on success. */
int sn_time_parse(const char *s, sn_time_t *out);

/** Write the timestamp as "YYYY-MM-DDTHH:MM:SS.mmmZ" into buf (at least
 *  SN_TIME_STR_MAX bytes). @return buf. */
char *sn_time_format(sn_time_t t, char *buf);

/** @return the UTC day that holds timestamp `t`. */
sn_day_t sn_time_day(sn_time_t t);

/** @return the wall clock now. Thread-safe. */
sn_time_t sn_time_now(void);

/** @return a monotonic clock in nanoseconds, for intervals and benchmarks. */
int64_t sn_clock_ns(void);

#endif
