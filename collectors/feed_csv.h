/*  collectors/feed_csv.h - CSV feed with a configured column mapping
 *
 *  A CSV export (RFC 4180: quoted fields, doubled quotes, line breaks inside
 *  quotes, CRLF or LF) whose first record is a header row. The mapping names,
 *  for each event field, the header of the column that holds it; columns not
 *  in the mapping are never read, so a name or ID column in the export never
 *  reaches an event. Dates are read with a configured format. A broken row
 *  is rejected with its line number and the reason.
 *
 *  Threading: as feed.h.
 */
#ifndef SENTINEL_COLLECTORS_FEED_CSV_H
#define SENTINEL_COLLECTORS_FEED_CSV_H

#include "condition_map.h"
#include "feed.h"

/* The event fields a CSV column can fill. */
typedef enum {
    COL_CSV_EVENT_ID,
    COL_CSV_REVISION,
    COL_CSV_SITE_ID,
    COL_CSV_SOURCE,
    COL_CSV_REGION,
    COL_CSV_CONDITION,
    COL_CSV_ONSET_DATE,
    COL_CSV_REPORT_TIME,
    COL_CSV_COUNT,
    COL_CSV_AGE_YEARS,
    COL_CSV_SEX,
    COL_CSV_LAB_CONFIRMED,
    COL_CSV_FIELD_COUNT
} col_csv_field_t;

/* How to read one export. Strings are copied by col_feed_csv_new(). */
typedef struct col_csv_opts {
    char delimiter;          /* ',' when 0 */
    const char *date_format; /* "%Y-%m-%d" when NULL; %Y %m %d %H %M %S */
    const char *time_format; /* report_time; NULL: RFC 3339 or date_format */
    int tz_offset_minutes;   /* zone of times read with a format (+480) */
    const char *columns[COL_CSV_FIELD_COUNT]; /* header per field, or NULL */
} col_csv_opts_t;

/** Create a CSV feed. `cmap_p`, when not NULL, is taken over: a condition
 *  column's value that is not a catalogue code is then mapped as an ICD-10
 *  code or a complaint text (condition_map.h). Never returns NULL (the
 *  config loader has checked the options). Caller owns the result. */
col_feed_t *col_feed_csv_new(const char *name, const col_site_t *site,
                             const col_csv_opts_t *opts, col_cmap_t **cmap_p,
                             size_t max_record);

/** @return the field named `name` ("onset_date"), or -1. */
int col_csv_field_parse(const char *name);

/** @return the name of `field`, static. */
const char *col_csv_field_name(col_csv_field_t field);

#endif
