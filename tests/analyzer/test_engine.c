/*  tests/analyzer/test_engine.c - the pipeline: events to days to alerts
 *
 *  Drives ingest (dedup, bins, clock, engine, triggers, health) with the
 *  configuration read from YAML, as the daemon does, and checks the alerts,
 *  the corrections, the dead letter and a restart from saved state: a
 *  revision to a class-A condition raises its alert, a late event that
 *  completes a multi-source group raises it, and the signals and
 *  threshold counts a rule needs survive a restart (snapshot and journal).
 */
#include "ana_config.h"
#include "ingest.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_yaml[] =
    "analyzer:\n"
    "  state_dir: /nonexistent\n"
    "  lateness_days: 0\n"
    "  wall_clock: false\n"
    "  horizon_days: 20\n"
    "  window_days: 120\n"
    "  dedup_capacity: 100000\n"
    "series:\n"
    "  - condition: ili\n"
    "    sources: [fever_clinic, pharmacy]\n"
    "    levels: [site, county]\n"
    "  - condition: cholera\n"
    "detectors:\n"
    "  - name: ears-c2\n"
    "rules:\n"
    "  - {name: class-a, kind: threshold, level: red, classes: A}\n"
    "  - {name: multi-source, kind: multi-source, level: yellow, k: 2,\n"
    "     days: 3, detector: ears-c2}\n";

/* What the sinks saw. */
typedef struct seen {
    int alerts;                      /* alerts */
    char rules[16][SN_RULE_MAX + 1]; /* their rules, in order */
    sn_day_t days[16];               /* their days */
    int corrections;                 /* correction rows */
    double corrected_observed;       /* last correction's count */
    int rows;                        /* rows of regular closes */
} seen_t;

static void
s_alert(const sn_alert_t *a, void *arg)
{
    seen_t *s = arg;
    if (s->alerts < 16) {
        snprintf(s->rules[s->alerts], sizeof s->rules[0], "%s", a->rule);
        s->days[s->alerts] = a->day;
    }
    s->alerts++;
}

static void
s_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n, bool corr,
       void *arg)
{
    (void)day;
    seen_t *s = arg;
    if (corr) {
        s->corrections += (int)n;
        s->corrected_observed = rows[n - 1].observed;
    } else {
        s->rows += (int)n;
    }
}

static ana_ingest_t *
s_pipeline(const char *yaml, seen_t *seen, sn_config_t **cfg_out)
{
    sn_err_t err;
    sn_config_t *cfg = NULL;
    ck_assert_msg(sn_config_parse(yaml, strlen(yaml), "t.yaml",
                                  ana_config_schema, &cfg, &err) == SN_OK,
                  "%s", err.msg);
    ana_config_t c;
    ck_assert_msg(ana_config_read(cfg, &c, &err) == SN_OK, "%s", err.msg);
    ana_ingest_sinks_t sinks = {s_alert, seen, s_rows, seen};
    ana_ingest_t *in = NULL;
    ck_assert_msg(ana_ingest_new(&c, &sinks, &in, &err) == SN_OK, "%s",
                  err.msg);
    ana_config_fini(&c);
    *cfg_out = cfg;
    return in;
}

static sn_event_t
s_ev(const char *site, const char *id, sn_source_t src, const char *cond,
     sn_day_t day, uint32_t count)
{
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.site_id, sizeof ev.site_id, "%s", site);
    snprintf(ev.event_id, sizeof ev.event_id, "%s", id);
    snprintf(ev.region, sizeof ev.region, "330106");
    snprintf(ev.condition, sizeof ev.condition, "%s", cond);
    ev.source = src;
    ev.report_time = (sn_time_t)day * 86400000 + 3600000;
    ev.count = count;
    return ev;
}

/* One aggregated event per source per day: a steady baseline, then a spike
 * in both sources on day `spike` (0 for none). */
static void
s_feed(ana_ingest_t *in, sn_day_t from, sn_day_t to, sn_day_t spike)
{
    static const uint32_t base[] = {5, 6, 4, 5, 7, 5, 6};
    char id[32];
    for (sn_day_t d = from; d <= to; d++) {
        uint32_t c = d == spike ? 40 : base[d % 7];
        snprintf(id, sizeof id, "fc-%d", d);
        sn_event_t a = s_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, c);
        snprintf(id, sizeof id, "ph-%d", d);
        sn_event_t b = s_ev("ph1", id, SN_SOURCE_PHARMACY, "ili", d, c);
        int ra = ana_ingest_event(in, &a, sn_time_now(), NULL);
        int rb = ana_ingest_event(in, &b, sn_time_now(), NULL);
        ck_assert(ra >= 0 || ra == SN_EDUP);
        ck_assert(rb >= 0 || rb == SN_EDUP);
        ana_ingest_tick(in, sn_time_now());
    }
}

START_TEST(test_engine_usage)
{
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    s_feed(in, d0, d0 + 39, d0 + 30);
    ana_ingest_close_through(in, d0 + 39, sn_time_now());
    /* Both sources spike on day 30: one yellow multi-source alert. */
    ck_assert_int_eq(seen.alerts, 1);
    ck_assert_str_eq(seen.rules[0], "multi-source");
    ck_assert_int_eq(seen.days[0], d0 + 30);
    /* One cholera case: red at once, before any day closes. */
    sn_event_t ch = s_ev("lab1", "c-1", SN_SOURCE_LAB, "cholera", d0 + 40, 1);
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
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    s_feed(in, d0, d0 + 59, 0);
    ck_assert_int_eq(seen.alerts, 0);
    ck_assert_uint_gt(ana_ingest_stats(in)->days, 50);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_duplicates_and_revisions)
{
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    sn_event_t a = s_ev("fc1", "e1", SN_SOURCE_FEVER_CLINIC, "ili", d, 3);
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL),
                     ANA_INGEST_COUNTED);
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL), SN_EDUP);
    /* Revision 1 moves the 3 cases to the next day and makes them 2. */
    sn_event_t b = s_ev("fc1", "e1", SN_SOURCE_FEVER_CLINIC, "ili", d + 1, 2);
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
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    s_feed(in, d0, d0 + 20, 0);
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 19);
    int rows_before = seen.rows;
    sn_event_t late =
        s_ev("fc1", "late-1", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 15, 4);
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
    seen_t seen = {0};
    sn_config_t *cfg;
    char *yaml = sn_strdup_printf("%s  - {name: single, kind: single, level: "
                                  "blue, series: site, detector: ears-c2}\n",
                                  s_yaml);
    ana_ingest_t *in = s_pipeline(yaml, &seen, &cfg);
    free(yaml);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    s_feed(in, d0, d0 + 30, 0);
    size_t before = ana_series_size(ana_ingest_series(in));
    /* A day with no events at all still closes, with zero counts. */
    sn_event_t a = s_ev("fc1", "x2", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 32, 5);
    sn_event_t b = s_ev("ph1", "y2", SN_SOURCE_PHARMACY, "ili", d0 + 32, 5);
    ana_ingest_event(in, &a, sn_time_now(), NULL);
    ana_ingest_event(in, &b, sn_time_now(), NULL);
    ana_ingest_tick(in, sn_time_now());
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 31);
    /* A new site gets its own series and no alarm from false zeros (the
     * single rule below would raise one). */
    sn_event_t c = s_ev("fc9", "n1", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 33, 9);
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
    seen_t whole = {0}, first = {0}, second = {0};
    sn_config_t *c1, *c2, *c3;
    ana_ingest_t *ref = s_pipeline(s_yaml, &whole, &c1);
    s_feed(ref, d0, d0 + 39, d0 + 30);
    ana_ingest_t *in = s_pipeline(s_yaml, &first, &c2);
    s_feed(in, d0, d0 + 25, 0);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_ingest_save(in, f), SN_OK);
    fclose(f);
    ana_ingest_destroy(&in);
    in = s_pipeline(s_yaml, &second, &c3);
    f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_msg(ana_ingest_load(in, f, &err) == SN_OK, "%s", err.msg);
    fclose(f);
    /* Re-sent events of day 25 are duplicates after the restart. */
    s_feed(in, d0 + 25, d0 + 39, d0 + 30);
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

/* One event per source per day over [from, to]: the baseline, 40 cases at
 * the fever clinic on `fc_spike` and at the pharmacy on `ph_spike` (0:
 * none), and no fever-clinic event on `fc_skip` (0: none). */
static void
s_feed2(ana_ingest_t *in, sn_day_t from, sn_day_t to, sn_day_t fc_spike,
        sn_day_t ph_spike, sn_day_t fc_skip)
{
    static const uint32_t base[] = {5, 6, 4, 5, 7, 5, 6};
    char id[32];
    for (sn_day_t d = from; d <= to; d++) {
        snprintf(id, sizeof id, "fc-%d", d);
        sn_event_t a = s_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d,
                            d == fc_spike ? 40 : base[d % 7]);
        snprintf(id, sizeof id, "ph-%d", d);
        sn_event_t b = s_ev("ph1", id, SN_SOURCE_PHARMACY, "ili", d,
                            d == ph_spike ? 40 : base[d % 7]);
        if (d != fc_skip) {
            ck_assert_int_ge(ana_ingest_event(in, &a, sn_time_now(), NULL), 0);
        }
        ck_assert_int_ge(ana_ingest_event(in, &b, sn_time_now(), NULL), 0);
        ana_ingest_tick(in, sn_time_now());
    }
}

START_TEST(test_engine_revision_to_class_a_raises)
{
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    /* An HL7 A08 corrects a visit's diagnosis from ILI to cholera: the
     * class-A rule fires on the revision, at once. */
    sn_event_t a = s_ev("h1", "visit-7", SN_SOURCE_HOSPITAL, "ili", d, 1);
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL),
                     ANA_INGEST_COUNTED);
    ck_assert_int_eq(seen.alerts, 0);
    sn_event_t b = s_ev("h1", "visit-7", SN_SOURCE_HOSPITAL, "cholera", d, 1);
    b.revision = 1;
    ck_assert_int_eq(ana_ingest_event(in, &b, sn_time_now(), NULL),
                     ANA_INGEST_REVISED);
    ck_assert_int_eq(seen.alerts, 1);
    ck_assert_str_eq(seen.rules[0], "class-a");
    /* Corrected back to ILI and again to cholera: one alert per day. */
    a.revision = 2;
    b.revision = 3;
    ana_ingest_event(in, &a, sn_time_now(), NULL);
    ana_ingest_event(in, &b, sn_time_now(), NULL);
    ck_assert_int_eq(seen.alerts, 1);
    /* Days later (the day's counts are long forgotten) the discharge
     * message comes: same condition, same day. Nothing is raised again. */
    s_feed(in, d, d + 6, 0);
    ck_assert_int_eq(ana_ingest_closed(in), d + 5);
    b.revision = 4;
    ck_assert_int_eq(ana_ingest_event(in, &b, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ana_ingest_tick(in, sn_time_now());
    ck_assert_int_eq(seen.alerts, 1);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_late_event_completes_a_group)
{
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    /* The fever clinic's spike of day 30 is missing when days 30 and 31
     * close; the pharmacy spikes on day 31: one source, no alert yet. */
    s_feed2(in, d0, d0 + 32, 0, d0 + 31, d0 + 30);
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 31);
    ck_assert_int_eq(seen.alerts, 0);
    /* The spike comes late: day 30 is corrected, and with the pharmacy's
     * alarm of day 31 two sources alarmed within 3 days. */
    sn_event_t late =
        s_ev("fc1", "fc-late", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 30, 40);
    ck_assert_int_eq(ana_ingest_event(in, &late, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ana_ingest_tick(in, sn_time_now());
    ck_assert_int_eq(seen.alerts, 1);
    ck_assert_str_eq(seen.rules[0], "multi-source");
    ck_assert_int_eq(seen.days[0], d0 + 31);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_engine_late_events_raise_nothing_old)
{
    /* The multi-source alert of day 30 is raised once. Two late events,
     * of days 19 and 37, change no alarm: evaluating the rules again for
     * their days raises nothing, and the alert of day 30, between them,
     * is not raised again. */
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    s_feed(in, d0, d0 + 39, d0 + 30);
    ck_assert_int_eq(seen.alerts, 1);
    sn_event_t a =
        s_ev("fc1", "late-a", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 19, 1);
    sn_event_t b = s_ev("ph1", "late-b", SN_SOURCE_PHARMACY, "ili", d0 + 37, 1);
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ck_assert_int_eq(ana_ingest_event(in, &b, sn_time_now(), NULL),
                     ANA_INGEST_LATE);
    ana_ingest_tick(in, sn_time_now());
    ck_assert_int_eq(seen.alerts, 1);
    ana_ingest_destroy(&in);
    sn_config_destroy(&cfg);
}
END_TEST

/* The fever clinic alarms on day 30, the pharmacy on day 31; the state is
 * saved (snapshot, or snapshot plus journal) once day 30 has closed and
 * restored into a new pipeline before day 31 closes. @return the alerts of
 * the restored pipeline. */
static int
s_alerts_across_restart(bool journal)
{
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "state", "");
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    seen_t first = {0}, second = {0};
    sn_config_t *c1, *c2;
    ana_ingest_t *in = s_pipeline(s_yaml, &first, &c1);
    s_feed2(in, d0, d0 + (journal ? 20 : 31), d0 + 30, d0 + 31, 0);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_ingest_save(in, f), SN_OK);
    fclose(f);
    size_t n_ops = 0;
    uint8_t *ops = NULL;
    if (journal) { /* days 21 .. 31 only in the journal */
        ana_ingest_journal(in, true);
        s_feed2(in, d0 + 21, d0 + 31, d0 + 30, d0 + 31, 0);
        const uint8_t *delta = ana_ingest_delta(in, &n_ops);
        ops = sn_malloc(n_ops);
        memcpy(ops, delta, n_ops);
    }
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 30);
    ck_assert_int_eq(first.alerts, 0);
    ana_ingest_destroy(&in);
    in = s_pipeline(s_yaml, &second, &c2);
    f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_msg(ana_ingest_load(in, f, &err) == SN_OK, "%s", err.msg);
    fclose(f);
    if (journal) {
        ck_assert_msg(ana_ingest_replay(in, ops, n_ops, &err) == SN_OK, "%s",
                      err.msg);
    }
    s_feed2(in, d0 + 32, d0 + 32, 0, 0, 0); /* closes day 31 */
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 31);
    int alerts = second.alerts;
    if (alerts > 0) {
        ck_assert_str_eq(second.rules[0], "multi-source");
        ck_assert_int_eq(second.days[0], d0 + 31);
    }
    ana_ingest_destroy(&in);
    sn_config_destroy(&c1);
    sn_config_destroy(&c2);
    ts_rmtree(dir);
    free(ops);
    free(path);
    free(dir);
    return alerts;
}

START_TEST(test_engine_restart_keeps_signals)
{
    /* Yesterday's alarm survives the restart and completes today's group,
     * from the snapshot and from the journal. */
    ck_assert_int_eq(s_alerts_across_restart(false), 1);
    ck_assert_int_eq(s_alerts_across_restart(true), 1);
}
END_TEST

START_TEST(test_engine_restart_keeps_threshold_counts)
{
    static const char yaml[] =
        "analyzer: {state_dir: /nonexistent, lateness_days: 0,\n"
        "           wall_clock: false, dedup_capacity: 1000}\n"
        "series:\n  - condition: measles\n"
        "rules:\n  - {name: measles-cluster, kind: threshold, level: orange,\n"
        "     conditions: [measles], min_count: 3}\n";
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "state", "");
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    seen_t first = {0}, second = {0};
    sn_config_t *c1, *c2;
    ana_ingest_t *in = s_pipeline(yaml, &first, &c1);
    /* Two cases, then a restart, then the third: the cluster is seen. */
    for (int i = 0; i < 2; i++) {
        char id[16];
        snprintf(id, sizeof id, "m-%d", i);
        sn_event_t e = s_ev("h1", id, SN_SOURCE_HOSPITAL, "measles", d, 1);
        ana_ingest_event(in, &e, sn_time_now(), NULL);
    }
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_ingest_save(in, f), SN_OK);
    fclose(f);
    ana_ingest_destroy(&in);
    in = s_pipeline(yaml, &second, &c2);
    f = fopen(path, "rb");
    ck_assert_int_eq(ana_ingest_load(in, f, NULL), SN_OK);
    fclose(f);
    sn_event_t e = s_ev("h1", "m-2", SN_SOURCE_HOSPITAL, "measles", d, 1);
    ana_ingest_event(in, &e, sn_time_now(), NULL);
    ck_assert_int_eq(first.alerts + second.alerts, 1);
    ck_assert_str_eq(second.rules[0], "measles-cluster");
    ana_ingest_destroy(&in);
    sn_config_destroy(&c1);
    sn_config_destroy(&c2);
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
        sn_event_t e = s_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 5);
        ck_assert_int_ge(ana_ingest_event(in, &e, sn_time_now(), NULL), 0);
        ana_ingest_tick(in, sn_time_now());
    }
    ck_assert_int_eq(ana_ingest_closed(in), sunday);
    /* 100 late cases on the Wednesday: the week's Sunday is evaluated
     * again on the new total, and alarms. */
    sn_event_t late =
        s_ev("fc1", "late-wed", SN_SOURCE_FEVER_CLINIC, "ili", sunday - 4, 100);
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
        s_ev("fc1", "late-sun", SN_SOURCE_FEVER_CLINIC, "ili", sunday, 1);
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
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(s_yaml, &seen, &cfg);
    ck_assert_int_eq(ana_ingest_dead_letter(in, dl, NULL), SN_OK);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    sn_event_t bad = s_ev("fc1", "b1", SN_SOURCE_FEVER_CLINIC, "ili", d, 1);
    strcpy(bad.region, "33010");
    sn_err_t err;
    ck_assert_int_eq(ana_ingest_event(in, &bad, sn_time_now(), &err),
                     SN_EVALIDATE);
    sn_event_t unk = s_ev("fc1", "b2", SN_SOURCE_FEVER_CLINIC, "ebola", d, 1);
    ck_assert_int_eq(ana_ingest_event(in, &unk, sn_time_now(), &err),
                     SN_ENOTFOUND);
    ck_assert_str_eq(err.msg,
                     "field 'condition': 'ebola' is not in the catalogue");
    const uint8_t junk[] = {0xff, 0xff, 0x01};
    ck_assert_int_eq(
        ana_ingest_record(in, junk, sizeof junk, "site-9", 77, 0, &err),
        SN_EPARSE);
    s_feed(in, d, d + 30, 0);
    sn_event_t old = s_ev("fc1", "b3", SN_SOURCE_FEVER_CLINIC, "ili", d, 1);
    ck_assert_int_eq(ana_ingest_event(in, &old, sn_time_now(), &err),
                     SN_ETOOOLD);
    /* A resident ID number as the event id: refused, and not written. */
    sn_event_t pid = s_ev("fc1", "11010519491231002X", SN_SOURCE_FEVER_CLINIC,
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
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(yaml, &seen, &cfg);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    sn_err_t err = {0};
    int refused = 0;
    for (int i = 0; i < 14; i++) {
        char id[16];
        snprintf(id, sizeof id, "e-%d", i);
        sn_event_t e = s_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 1);
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
        sn_event_t e = s_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 5);
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
        s_ev("fc1", "late", SN_SOURCE_FEVER_CLINIC, "ili", w.d0 + 20, 10);
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
    seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = s_pipeline(yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    char id[32];
    for (sn_day_t d = d0; d < d0 + 45; d++) {
        snprintf(id, sizeof id, "a-%d", d);
        sn_event_t a = s_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 2);
        snprintf(id, sizeof id, "b-%d", d);
        sn_event_t b = s_ev("fc2", id, SN_SOURCE_FEVER_CLINIC, "ili", d, 3);
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
    seen_t seen = {0};
    ana_ingest_sinks_t sinks = {s_alert, &seen, s_prop_rows, &p};
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
        sn_event_t v = s_ev("h1", id, SN_SOURCE_HOSPITAL, "visits", d, visits);
        snprintf(id, sizeof id, "i-%d", d);
        sn_event_t i =
            s_ev("h1", id, SN_SOURCE_HOSPITAL, "ili", d, visits / 10);
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
    tcase_add_test(edges, test_engine_revision_to_class_a_raises);
    tcase_add_test(edges, test_engine_late_event_completes_a_group);
    tcase_add_test(edges, test_engine_late_events_raise_nothing_old);
    tcase_add_test(edges, test_engine_restart_keeps_signals);
    tcase_add_test(edges, test_engine_restart_keeps_threshold_counts);
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
