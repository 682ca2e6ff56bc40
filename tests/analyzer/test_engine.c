/*  tests/analyzer/test_engine.c - the pipeline: events to days to alerts
 *
 *  Drives ingest (dedup, bins, clock, engine, triggers, health) with the
 *  configuration read from YAML, as the daemon does (pipeline.h), and
 *  checks the alerts, the corrections (weekly and sliding windows), the
 *  dead letter, a restart from saved state, onset dates, proportions and
 *  the configuration's errors. The rules through the pipeline are in
 *  test_trigger.c.
 */
#include "ana_config.h"
#include "ingest.h"
#include "pipeline.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_engine_usage)
{
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    pl_feed(in, d0, d0 + 39, d0 + 30);
    ana_ingest_close_through(in, d0 + 39, sn_time_now());
    /* Both sources spike on day 30: one yellow multi-source alert. */
    ck_assert_int_eq(seen.alerts, 1);
    ck_assert_str_eq(seen.rules[0], "multi-source");
    ck_assert_int_eq(seen.days[0], d0 + 30);
    /* One cholera case: red at once, before any day closes. */
    sn_event_t ch = pl_ev("lab1", "c-1", SN_SOURCE_LAB, "cholera", d0 + 40, 1);
    ck_assert_int_eq(ana_ingest_event(in, &ch, sn_time_now(), NULL),
                     ANA_INGEST_COUNTED);
    ck_assert_int_eq(seen.alerts, 2);
    ck_assert_str_eq(seen.rules[1], "class-a");
    const ana_ingest_stats_t *st = ana_ingest_stats(in);
    ck_assert_uint_eq(st->days, 40);
    ck_assert_uint_eq(st->counted, 81);
    ana_ingest_destroy(&in);
    ck_assert_ptr_null(in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_no_outbreak_no_alert)
{
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    pl_feed(in, d0, d0 + 59, 0);
    ck_assert_int_eq(seen.alerts, 0);
    ck_assert_uint_gt(ana_ingest_stats(in)->days, 50);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_duplicates_and_revisions)
{
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    sn_event_t a = pl_ev("fc1", "e1", SN_SOURCE_FEVER_CLINIC, "ili", d, 3);
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL),
                     ANA_INGEST_COUNTED);
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL), SN_EDUP);
    /* Revision 1 moves the 3 cases to the next day and makes them 2. */
    sn_event_t b = pl_ev("fc1", "e1", SN_SOURCE_FEVER_CLINIC, "ili", d + 1, 2);
    b.revision = 1;
    ck_assert_int_eq(ana_ingest_event(in, &b, sn_time_now(), NULL),
                     ANA_INGEST_REVISED);
    a.revision = 0;
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL), SN_EDUP);
    ana_series_t *s = ana_ingest_series(in);
    size_t n;
    uint32_t county = ana_series_fanout(s, 0, &n)[1], v = 9;
    ana_window_t *w = ana_series_window(s, county);
    ana_window_get(w, d, &v);
    ck_assert_uint_eq(v, 0);
    ana_window_get(w, d + 1, &v);
    ck_assert_uint_eq(v, 2);
    const ana_ingest_stats_t *st = ana_ingest_stats(in);
    ck_assert_uint_eq(st->duplicates, 2);
    ck_assert_uint_eq(st->revised, 1);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_late_event_corrects_closed_day)
{
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    pl_feed(in, d0, d0 + 20, 0);
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 19);
    int rows_before = seen.rows;
    sn_event_t late =
        pl_ev("fc1", "late-1", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 15, 4);
    ck_assert_int_eq(ana_ingest_event(in, &late, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ana_ingest_tick(in, sn_time_now());
    /* The site and county series of day 15 are evaluated again. */
    ck_assert_int_eq(seen.corrections, 2);
    ck_assert_double_eq(seen.corrected_observed, 5 + 4); /* 15 % 7 == 1 */
    ck_assert_int_eq(seen.rows, rows_before);
    ck_assert_uint_eq(ana_ingest_stats(in)->late, 1);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_quiet_day_and_new_site)
{
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    char *yaml = sn_strdup_printf("%s  - {name: single, kind: single, level: "
                                  "blue, series: site, detector: ears-c2}\n",
                                  pl_yaml);
    ana_ingest_t *in = pl_pipeline(yaml, &seen, &cfg);
    free(yaml);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    pl_feed(in, d0, d0 + 30, 0);
    size_t before = ana_series_size(ana_ingest_series(in));
    /* A day with no events at all still closes, with zero counts. */
    sn_event_t a =
        pl_ev("fc1", "x2", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 32, 5);
    sn_event_t b = pl_ev("ph1", "y2", SN_SOURCE_PHARMACY, "ili", d0 + 32, 5);
    ana_ingest_event(in, &a, sn_time_now(), NULL);
    ana_ingest_event(in, &b, sn_time_now(), NULL);
    ana_ingest_tick(in, sn_time_now());
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 31);
    /* A new site gets its own series and no alarm from false zeros (the
     * single rule below would raise one). */
    sn_event_t c =
        pl_ev("fc9", "n1", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 33, 9);
    ana_ingest_event(in, &c, sn_time_now(), NULL);
    ck_assert_uint_eq(ana_series_size(ana_ingest_series(in)), before + 1);
    ana_ingest_close_through(in, d0 + 33, sn_time_now());
    ck_assert_int_eq(seen.alerts, 0);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_restart_from_state)
{
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "state", "");
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    pl_seen_t whole = {0}, first = {0}, second = {0};
    sn_config_t *c1, *c2, *c3;
    ana_ingest_t *ref = pl_pipeline(pl_yaml, &whole, &c1);
    pl_feed(ref, d0, d0 + 39, d0 + 30);
    ana_ingest_t *in = pl_pipeline(pl_yaml, &first, &c2);
    pl_feed(in, d0, d0 + 25, 0);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_ingest_save(in, f), SN_OK);
    fclose(f);
    ana_ingest_destroy(&in);
    in = pl_pipeline(pl_yaml, &second, &c3);
    f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_msg(ana_ingest_load(in, f, &err) == SN_OK, "%s", err.msg);
    fclose(f);
    /* Re-sent events of day 25 are duplicates after the restart. */
    pl_feed(in, d0 + 25, d0 + 39, d0 + 30);
    ck_assert_uint_eq(ana_ingest_stats(in)->duplicates, 2);
    ck_assert_int_eq(second.alerts, whole.alerts);
    ck_assert_int_eq(second.days[0], whole.days[0]);
    ck_assert_int_eq(ana_ingest_closed(in), ana_ingest_closed(ref));
    ana_ingest_destroy(&in);
    ana_ingest_destroy(&ref);
    sn_config_destroy(&c1);
    sn_config_destroy(&c2);
    sn_config_destroy(&c3);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* The weekly points of the corrections: day and detector 0's point. */
typedef struct weekly_seen {
    sn_day_t day[8];
    sn_det_point_t point[8];
    int n;
} weekly_seen_t;

static void
s_weekly_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n, bool corr,
              void *arg)
{
    weekly_seen_t *w = arg;
    for (size_t i = 0; corr && i < n && w->n < 8; i++) {
        w->day[w->n] = day;
        w->point[w->n++] = rows[i].det[0];
    }
}

START_TEST(test_engine_late_event_corrects_its_week)
{
    static const char yaml[] =
        "analyzer: {state_dir: /nonexistent, lateness_days: 0,\n"
        "           wall_clock: false, dedup_capacity: 10000}\n"
        "series:\n  - {condition: ili, levels: [county]}\n"
        "detectors:\n  - {name: ears-c1, weekly: true}\n";
    sn_config_t *cfg = NULL;
    ck_assert_int_eq(sn_config_parse(yaml, strlen(yaml), "t.yaml",
                                     ana_config_schema, &cfg, NULL),
                     SN_OK);
    ana_config_t c;
    ck_assert_int_eq(ana_config_read(cfg, &c, NULL), SN_OK);
    weekly_seen_t w = {0};
    ana_ingest_sinks_t sinks = {NULL, NULL, s_weekly_rows, &w};
    ana_ingest_t *in = NULL;
    ck_assert_int_eq(ana_ingest_new(&c, &sinks, &in, NULL), SN_OK);
    ana_config_fini(&c);
    sn_day_t monday = sn_day_from_ymd(2025, 3, 3), sunday = monday + 76;
    ck_assert_int_eq(sn_day_weekday(monday), 1);
    ck_assert_int_eq(sn_day_weekday(sunday), 7);
    char id[32];
    for (sn_day_t d = monday; d <= sunday + 1; d++) { /* 11 weeks of 5 */
        snprintf(id, sizeof id, "e-%d", d);
        sn_event_t e = pl_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 5);
        ck_assert_int_ge(ana_ingest_event(in, &e, sn_time_now(), NULL), 0);
        ana_ingest_tick(in, sn_time_now());
    }
    ck_assert_int_eq(ana_ingest_closed(in), sunday);
    /* 100 late cases on the Wednesday: the week's Sunday is evaluated
     * again on the new total, and alarms. */
    sn_event_t late = pl_ev("fc1", "late-wed", SN_SOURCE_FEVER_CLINIC, "ili",
                            sunday - 4, 100);
    ck_assert_int_eq(ana_ingest_event(in, &late, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ana_ingest_tick(in, sn_time_now());
    ck_assert_int_eq(w.n, 2);
    ck_assert_int_eq(w.day[0], sunday - 4);
    ck_assert_int_eq(w.point[0].alarm, SN_DET_NA); /* not a week's end */
    ck_assert_int_eq(w.day[1], sunday);
    ck_assert_double_eq(w.point[1].observed, 7 * 5 + 100);
    ck_assert_int_eq(w.point[1].alarm, 1);
    /* A late case on the Sunday itself keeps the week's result. */
    sn_event_t sun =
        pl_ev("fc1", "late-sun", SN_SOURCE_FEVER_CLINIC, "ili", sunday, 1);
    ck_assert_int_eq(ana_ingest_event(in, &sun, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ana_ingest_tick(in, sn_time_now());
    ck_assert_int_eq(w.n, 3);
    ck_assert_int_eq(w.day[2], sunday);
    ck_assert_double_eq(w.point[2].observed, 7 * 5 + 101);
    ck_assert_int_eq(w.point[2].alarm, 1);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_dead_letters_bad_events)
{
    char *dir = ts_tmpdir();
    char *dl = sn_strdup_printf("%s/dead.jsonl", dir);
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    ck_assert_int_eq(ana_ingest_dead_letter(in, dl, NULL), SN_OK);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    sn_event_t bad = pl_ev("fc1", "b1", SN_SOURCE_FEVER_CLINIC, "ili", d, 1);
    strcpy(bad.region, "33010");
    sn_err_t err;
    ck_assert_int_eq(ana_ingest_event(in, &bad, sn_time_now(), &err),
                     SN_EVALIDATE);
    sn_event_t unk = pl_ev("fc1", "b2", SN_SOURCE_FEVER_CLINIC, "ebola", d, 1);
    ck_assert_int_eq(ana_ingest_event(in, &unk, sn_time_now(), &err),
                     SN_ENOTFOUND);
    ck_assert_str_eq(err.msg,
                     "field 'condition': 'ebola' is not in the catalogue");
    const uint8_t junk[] = {0xff, 0xff, 0x01};
    ck_assert_int_eq(
        ana_ingest_record(in, junk, sizeof junk, "site-9", 77, 0, &err),
        SN_EPARSE);
    pl_feed(in, d, d + 30, 0);
    sn_event_t old = pl_ev("fc1", "b3", SN_SOURCE_FEVER_CLINIC, "ili", d, 1);
    ck_assert_int_eq(ana_ingest_event(in, &old, sn_time_now(), &err),
                     SN_ETOOOLD);
    /* A resident ID number as the event id: refused, and not written. */
    sn_event_t pid = pl_ev("fc1", "11010519491231002X", SN_SOURCE_FEVER_CLINIC,
                           "ili", d + 30, 1);
    ck_assert_int_eq(ana_ingest_event(in, &pid, sn_time_now(), &err),
                     SN_EVALIDATE);
    ck_assert_uint_eq(ana_ingest_stats(in)->rejected, 5);
    ana_ingest_destroy(&in);
    char *text = ts_read_file(dl, NULL);
    ck_assert_ptr_nonnull(strstr(text, "is not 6 digits"));
    ck_assert_ptr_nonnull(strstr(text, "\"sender\":\"site-9\",\"seq\":77"));
    ck_assert_ptr_nonnull(strstr(text, "is before the horizon"));
    ck_assert_ptr_nonnull(strstr(text, "it holds a resident ID number"));
    ck_assert_ptr_nonnull(strstr(text, "\"redacted\":true"));
    ck_assert_ptr_null(strstr(text, "19491231"));
    free(text);
    sn_config_destroy(&cfg);
    ts_rmtree(dir);
    free(dl);
    free(dir);
}
END_TEST

START_TEST(test_engine_dedup_full_is_counted)
{
    static const char yaml[] =
        "analyzer: {state_dir: /nonexistent, wall_clock: false,\n"
        "           dedup_capacity: 10}\n"
        "series:\n  - condition: ili\n";
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(yaml, &seen, &cfg);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    sn_err_t err = {0};
    int refused = 0;
    for (int i = 0; i < 14; i++) {
        char id[16];
        snprintf(id, sizeof id, "e-%d", i);
        sn_event_t e = pl_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 1);
        refused += ana_ingest_event(in, &e, sn_time_now(), &err) == SN_EFULL;
    }
    ck_assert_int_eq(refused, 4);
    ck_assert_str_eq(err.msg, "event 'e-13': the dedup table is full");
    ck_assert_uint_eq(ana_ingest_stats(in)->dedup_full, 4);
    size_t size, cap;
    ana_ingest_dedup_usage(in, &size, &cap);
    ck_assert_uint_eq(size, 10);
    ck_assert_uint_eq(cap, 10);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

/* Detector 0's values by day, of regular closes and of corrections. */
typedef struct sum_seen {
    double close[64], corr[64]; /* observed by day - d0; NAN: none */
    double corr2[64];           /* detector 1's, of corrections */
    int n_corr;                 /* correction rows */
    sn_day_t d0;
} sum_seen_t;

static void
s_sum_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n, bool corr,
           void *arg)
{
    sum_seen_t *w = arg;
    for (size_t i = 0; i < n && day - w->d0 >= 0 && day - w->d0 < 64; i++) {
        (corr ? w->corr : w->close)[day - w->d0] = rows[i].det[0].observed;
        if (corr) {
            w->corr2[day - w->d0] = rows[i].det[1].observed;
        }
        w->n_corr += corr;
    }
}

START_TEST(test_engine_sliding_window)
{
    /* A 7-day sum evaluated daily (width 7, step 1), and every 14 days
     * (width 14, step 14, on every other Sunday). */
    static const char yaml[] =
        "analyzer: {state_dir: /nonexistent, lateness_days: 0,\n"
        "           wall_clock: false, dedup_capacity: 10000}\n"
        "series:\n  - {condition: ili, levels: [site]}\n"
        "detectors:\n  - {name: sum7, method: ears-c1, width: 7}\n"
        "  - {name: fortnight, method: ears-c1, width: 14, step: 14}\n";
    sn_config_t *cfg = NULL;
    ck_assert_int_eq(sn_config_parse(yaml, strlen(yaml), "t.yaml",
                                     ana_config_schema, &cfg, NULL),
                     SN_OK);
    ana_config_t c;
    ck_assert_int_eq(ana_config_read(cfg, &c, NULL), SN_OK);
    sum_seen_t w;
    w.d0 = sn_day_from_ymd(2025, 3, 3); /* a Monday */
    w.n_corr = 0;
    for (int i = 0; i < 64; i++) {
        w.close[i] = w.corr[i] = w.corr2[i] = NAN;
    }
    ana_ingest_sinks_t sinks = {NULL, NULL, s_sum_rows, &w};
    ana_ingest_t *in = NULL;
    ck_assert_int_eq(ana_ingest_new(&c, &sinks, &in, NULL), SN_OK);
    ana_config_fini(&c);
    char id[32];
    for (sn_day_t d = w.d0; d < w.d0 + 31; d++) {
        snprintf(id, sizeof id, "e-%d", d);
        sn_event_t e = pl_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 5);
        ck_assert_int_ge(ana_ingest_event(in, &e, sn_time_now(), NULL), 0);
        ana_ingest_tick(in, sn_time_now());
    }
    ck_assert_int_eq(ana_ingest_closed(in), w.d0 + 29);
    ck_assert_double_eq(w.close[0], 5); /* the first day alone */
    ck_assert_double_eq(w.close[6], 35);
    ck_assert_double_eq(w.close[29], 35);
    /* A late 10 on day 20 is in the 7-day sums of days 20 .. 26, and in
     * the fortnight ending on the one fortnight day (a Sunday) in 21 ..
     * 29: each of those is corrected, and nothing else. */
    sn_event_t late =
        pl_ev("fc1", "late", SN_SOURCE_FEVER_CLINIC, "ili", w.d0 + 20, 10);
    ck_assert_int_eq(ana_ingest_event(in, &late, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ana_ingest_tick(in, sn_time_now());
    /* A correction row of another day shows that day's own count for the
     * detector not evaluated on it: the fortnight's value is the one over
     * a day's count. */
    int fortnight = -1;
    for (int k = 0; k < 64; k++) {
        if (k >= 20 && k <= 26) {
            ck_assert_double_eq(w.corr[k], 45);
        }
        if (!isnan(w.corr2[k]) && w.corr2[k] > 15) {
            ck_assert_int_eq(fortnight, -1);
            fortnight = k;
        }
    }
    ck_assert_int_ge(fortnight, 21);
    ck_assert_int_le(fortnight, 29);
    ck_assert_int_eq(sn_day_weekday(w.d0 + fortnight), 7);
    ck_assert_double_eq(w.corr2[fortnight], 14 * 5 + 10);
    for (int k = 0; k < 64; k++) { /* nothing else corrected */
        bool want = (k >= 20 && k <= 26) || k == fortnight;
        ck_assert_int_eq(!isnan(w.corr[k]), want);
    }
    ck_assert_int_eq(w.n_corr, fortnight > 26 ? 8 : 7);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_onset_basis)
{
    /* Two fever clinics: fc1 gives no onset dates (report date used), fc2
     * gives onsets five days before its reports. Counts go to the onset
     * day; feed health goes by the report day, so fc2, reporting daily,
     * is not taken for silent though its onsets lag behind fc1's days. */
    static const char yaml[] =
        "analyzer: {state_dir: /nonexistent, lateness_days: 0,\n"
        "           wall_clock: false, date_basis: onset,\n"
        "           dedup_capacity: 10000}\n"
        "series:\n  - {condition: ili, levels: [site]}\n"
        "health: {silent_days: 3}\n";
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    char id[32];
    for (sn_day_t d = d0; d < d0 + 45; d++) {
        snprintf(id, sizeof id, "a-%d", d);
        sn_event_t a = pl_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 2);
        snprintf(id, sizeof id, "b-%d", d);
        sn_event_t b = pl_ev("fc2", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 3);
        b.onset_date = d - 5;
        ck_assert_int_ge(ana_ingest_event(in, &a, sn_time_now(), NULL), 0);
        ck_assert_int_ge(ana_ingest_event(in, &b, sn_time_now(), NULL), 0);
        ana_ingest_tick(in, sn_time_now());
    }
    ck_assert_int_eq(seen.alerts, 0); /* no feed-health signal */
    ana_series_t *ser = ana_ingest_series(in);
    uint32_t leaf;
    ck_assert_int_eq(ana_series_leaf_find(ser, "ili", "330106",
                                          SN_SOURCE_FEVER_CLINIC, "fc2", &leaf),
                     SN_OK);
    size_t n;
    ana_window_t *w =
        ana_series_window(ser, ana_series_fanout(ser, leaf, &n)[0]);
    uint32_t v = 0;
    ana_window_get(w, d0 + 39, &v); /* reported on day 44 */
    ck_assert_uint_eq(v, 3);
    ana_window_get(w, d0 + 43, &v); /* onsets of days 44 .. 48 not yet */
    ck_assert_uint_eq(v, 0);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

/* The proportion a detector reads: ILI over visits of the same series'
 * region, source and day. */
typedef struct prop_seen {
    double observed[64]; /* detector 0's observed value per close row */
    int n;
} prop_seen_t;

static void
s_prop_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n, bool corr,
            void *arg)
{
    (void)day;
    prop_seen_t *p = arg;
    for (size_t i = 0; !corr && i < n && p->n < 64; i++) {
        if (!isnan(rows[i].det[0].observed)) {
            p->observed[p->n++] = rows[i].det[0].observed;
        }
    }
}

START_TEST(test_engine_proportion_of_visits)
{
    static const char yaml[] =
        "analyzer: {state_dir: /nonexistent, lateness_days: 0,\n"
        "           wall_clock: false, dedup_capacity: 10000}\n"
        "conditions:\n  - {code: ili, class: S}\n  - {code: visits}\n"
        "series:\n"
        "  - {condition: ili, sources: [hospital], denominator: visits}\n"
        "  - {condition: visits, sources: [hospital]}\n"
        "detectors:\n  - {name: ears-c1, proportion: true}\n"
        "rules:\n  - {name: any, kind: single, level: blue}\n";
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_msg(sn_config_parse(yaml, strlen(yaml), "t.yaml",
                                  ana_config_schema, &cfg, &err) == SN_OK,
                  "%s", err.msg);
    ana_config_t c;
    ck_assert_msg(ana_config_read(cfg, &c, &err) == SN_OK, "%s", err.msg);
    prop_seen_t p = {0};
    pl_seen_t seen = {0};
    ana_ingest_sinks_t sinks = {pl_alert, &seen, s_prop_rows, &p};
    ana_ingest_t *in = NULL;
    ck_assert_int_eq(ana_ingest_new(&c, &sinks, &in, NULL), SN_OK);
    ana_config_fini(&c);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    char id[32];
    for (sn_day_t d = d0; d <= d0 + 20; d++) {
        /* Visits double on day 10 and so do ILI cases: the share stays at
         * 10 %, and a rise in visits alone is no alert. */
        uint32_t visits = d >= d0 + 10 ? 400 : 200;
        snprintf(id, sizeof id, "v-%d", d);
        sn_event_t v = pl_ev("h1", id, SN_SOURCE_HOSPITAL, "visits", d, visits);
        snprintf(id, sizeof id, "i-%d", d);
        sn_event_t i =
            pl_ev("h1", id, SN_SOURCE_HOSPITAL, "ili", d, visits / 10);
        ck_assert_int_ge(ana_ingest_event(in, &v, sn_time_now(), NULL), 0);
        ck_assert_int_ge(ana_ingest_event(in, &i, sn_time_now(), NULL), 0);
        ana_ingest_tick(in, sn_time_now());
    }
    /* The ILI series read 10 % on each of days 0 .. 19; the visits series,
     * which has no denominator, reads its counts. */
    int shares = 0;
    for (int k = 0; k < p.n; k++) {
        shares += fabs(p.observed[k] - 0.1) < 1e-12;
        ck_assert(fabs(p.observed[k] - 0.1) < 1e-12 || p.observed[k] >= 200);
    }
    ck_assert_int_eq(shares, 20);
    ck_assert_int_eq(seen.alerts, 0);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_shipped_configuration_reads)
{
    /* The commented example operators start from is a valid one. */
    const char *src = getenv("SENTINEL_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char *path = sn_strdup_printf("%s/deploy/sentinel.yaml", src);
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_msg(sn_config_load(path, ana_config_schema, &cfg, &err) == SN_OK,
                  "%s", err.msg);
    ana_config_t c;
    ck_assert_msg(ana_config_read(cfg, &c, &err) == SN_OK, "%s", err.msg);
    ana_config_fini(&c);
    sn_config_destroy(&cfg);
    free(path);
}
END_TEST

START_TEST(test_engine_config_errors)
{
    static const char *const bad[][2] = {
        {"analyzer: {state_dir: x}\n"
         "rules:\n  - {name: r, kind: single, level: blue, detector: cusum}\n",
         "t.yaml:3: rule 'r': detector 'cusum' is not configured"},
        {"analyzer: {state_dir: x}\nseries:\n  - condition: ebola\n",
         "t.yaml:3: series: condition 'ebola' is not in the catalogue"},
        {"analyzer: {state_dir: x, window_days: 30, horizon_days: 30}\n",
         "t.yaml:1: analyzer: window_days (30) must exceed horizon_days (30)"},
        {"analyzer: {state_dir: x}\n"
         "detectors:\n  - {name: w, method: ears-c1, weekly: true, width: "
         "14}\n",
         "t.yaml:3: detector 'w': weekly is width 7 and step 7; give either "
         "weekly or width and step"},
        {"analyzer: {state_dir: x}\n"
         "conditions:\n  - {code: ili, class: S}\n  - {code: visits}\n"
         "series:\n"
         "  - {condition: ili, sources: [hospital, pharmacy],\n"
         "     levels: [county], denominator: visits}\n"
         "  - {condition: visits, sources: [hospital]}\n",
         "t.yaml:6: series ili: denominator 'visits' has no pharmacy series "
         "at level county (add the source to a 'visits' series, or give "
         "this source its own series without a denominator)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sn_err_t err;
        sn_config_t *cfg = NULL;
        ck_assert_int_eq(sn_config_parse(bad[i][0], strlen(bad[i][0]), "t.yaml",
                                         ana_config_schema, &cfg, &err),
                         SN_OK);
        ana_config_t c;
        ck_assert_int_eq(ana_config_read(cfg, &c, &err), SN_ECONFIG);
        ck_assert_str_eq(err.msg, bad[i][1]);
        sn_config_destroy(&cfg);
    }
}
END_TEST

static Suite *
engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_engine_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 60);
    tcase_add_test(edges, test_engine_no_outbreak_no_alert);
    tcase_add_test(edges, test_engine_duplicates_and_revisions);
    tcase_add_test(edges, test_engine_late_event_corrects_closed_day);
    tcase_add_test(edges, test_engine_quiet_day_and_new_site);
    tcase_add_test(edges, test_engine_restart_from_state);
    tcase_add_test(edges, test_engine_late_event_corrects_its_week);
    tcase_add_test(edges, test_engine_onset_basis);
    tcase_add_test(edges, test_engine_sliding_window);
    tcase_add_test(edges, test_engine_proportion_of_visits);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_engine_dead_letters_bad_events);
    tcase_add_test(errors, test_engine_config_errors);
    tcase_add_test(errors, test_engine_dedup_full_is_counted);
    tcase_add_test(errors, test_engine_shipped_configuration_reads);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(engine_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
