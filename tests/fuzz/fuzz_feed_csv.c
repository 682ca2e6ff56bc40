/*  tests/fuzz/fuzz_feed_csv.c - fuzz the collectors' CSV feed
 *
 *  A hospital export read with a column mapping, a day/month/year date
 *  format, a time zone and the default condition catalogue (the mapping
 *  of the CSV suite, whose exports are the seeds), whole, in pieces and as
 *  one record (fuzz_feed.h).
 */
#include "fuzz.h"

#include "feed_csv.h"
#include "fuzz_feed.h"

static col_feed_t *
s_make(void)
{
    static const col_site_t site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};
    col_csv_opts_t o = {0};
    o.date_format = "%d/%m/%Y";
    o.tz_offset_minutes = 480;
    o.columns[COL_CSV_EVENT_ID] = "Case No";
    o.columns[COL_CSV_CONDITION] = "Diagnosis";
    o.columns[COL_CSV_ONSET_DATE] = "Onset";
    o.columns[COL_CSV_REPORT_TIME] = "Reported";
    o.columns[COL_CSV_SEX] = "Sex";
    o.columns[COL_CSV_AGE_YEARS] = "Age";
    col_cmap_t *cmap = col_cmap_new(true);
    return col_feed_csv_new("fuzz.csv", &site, &o, &cmap, FUZZ_FEED_MAX_RECORD);
}

int
fuzz_feed_csv(const uint8_t *data, size_t size)
{
    fuzz_feed_check("feed_csv", s_make, data, size);
    return 0;
}

SN_FUZZ_TARGET(fuzz_feed_csv)
