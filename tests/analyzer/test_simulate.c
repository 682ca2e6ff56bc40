/*  tests/analyzer/test_simulate.c - scenarios built with the simulator
 *
 *  Simulated feeds (seasonal baseline, weekday effects, injected outbreaks)
 *  go through the whole pipeline as the daemon runs it; the tests check the
 *  expected alerts at the expected levels on the expected days, and that a
 *  run without outbreaks stays within the detectors' false-alarm rates.
 */
#include "ana_config.h"
#include "ingest.h"
#include "simulate.h"

#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char s_yaml[] =
    "analyzer:\n"
    "  state_dir: /nonexistent\n"
    "  lateness_days: 0\n"
    "  wall_clock: false\n"
    "  window_days: 400\n"
    "  dedup_capacity: 400000\n"
    "series:\n"
    "  - condition: ili\n"
    "    sources: [hospital, fever_clinic, pharmacy]\n"
    "    levels: [site, county, prefecture]\n"
    "detectors:\n"
    "  - name: ears-c2\n"
    "rules:\n"
    "  - {name: class-a, kind: threshold, level: red, classes: A}\n"
    "  - {name: single, kind: single, level: blue, detector: ears-c2}\n"
    "  - {name: multi-source, kind: multi-source, level: yellow, k: 2,\n"
    "     days: 3, detector: ears-c2}\n"
    "  - {name: spread, kind: spread, level: orange, group: prefecture,\n"
    "     series: county, k: 3, days: 3, detector: ears-c2}\n"
    "  - {name: multi-site, kind: multi-site, level: orange, series: site,\n"
    "     k: 3, days: 3, detector: ears-c2}\n"
    "health: {silent_days: 3}\n";

#define MAX_SEEN 4096

/* One alert as the test keeps it. */
typedef struct got {
    char rule[SN_RULE_MAX + 1];     /* rule */
    sn_level_t level;               /* colour */
    char region[SN_REGION_MAX + 1]; /* region */
    sn_day_t day;                   /* evidence day */
} got_t;

/* A scenario's pipeline and what came out of it. */
typedef struct run {
    sn_config_t *cfg;    /* configuration */
    ana_ingest_t *in;    /* pipeline */
    got_t got[MAX_SEEN]; /* alerts */
    int n;               /* their number */
    int rejected;        /* events refused */
} run_t;

static void
s_alert(const sn_alert_t *a, void *arg)
{
    run_t *r = arg;
    if (r->n < MAX_SEEN) {
        got_t *g = &r->got[r->n];
        snprintf(g->rule, sizeof g->rule, "%s", a->rule);
        snprintf(g->region, sizeof g->region, "%s", a->region);
        g->level = a->level;
        g->day = a->day;
    }
    r->n++;
}

static int
s_feed(const sn_event_t *ev, void *arg)
{
    run_t *r = arg;
    int rc = ana_ingest_event(r->in, ev, sn_time_now(), NULL);
    if (rc < 0 && rc != SN_EDUP) {
        r->rejected++;
    }
    ana_ingest_tick(r->in, sn_time_now());
    return 0;
}

static run_t *
s_run_new(void)
{
    run_t *r = calloc(1, sizeof *r);
    sn_err_t err;
    ck_assert_msg(sn_config_parse(s_yaml, strlen(s_yaml), "sim.yaml",
                                  ana_config_schema, &r->cfg, &err) == SN_OK,
                  "%s", err.msg);
    ana_config_t c;
    ck_assert_msg(ana_config_read(r->cfg, &c, &err) == SN_OK, "%s", err.msg);
    ana_ingest_sinks_t sinks = {s_alert, r, NULL, NULL};
    ck_assert_int_eq(ana_ingest_new(&c, &sinks, &r->in, &err), SN_OK);
    ana_config_fini(&c);
    return r;
}

static void
s_run_free(run_t *r)
{
    ana_ingest_destroy(&r->in);
    sn_config_destroy(&r->cfg);
    free(r);
}

/* The nine demo sites: three counties of 3301, three sources each. */
static size_t
s_sites(ana_sim_site_t *sites)
{
    static const char *const counties[] = {"330102", "330105", "330106"};
    static const sn_source_t src[] = {
        SN_SOURCE_HOSPITAL, SN_SOURCE_FEVER_CLINIC, SN_SOURCE_PHARMACY};
    static const double mean[] = {8, 5, 12};
    size_t n = 0;
    for (int c = 0; c < 3; c++) {
        for (int k = 0; k < 3; k++) {
            ana_sim_site_t *s = &sites[n++];
            memset(s, 0, sizeof *s);
            snprintf(s->site_id, sizeof s->site_id, "s%d%d", c, k);
            snprintf(s->region, sizeof s->region, "%s", counties[c]);
            s->source = src[k];
            s->mean = mean[k];
        }
    }
    return n;
}

static void
s_scenario(run_t *r, const ana_sim_outbreak_t *obs, size_t n_obs,
           ana_sim_site_t *sites, size_t n_sites, uint64_t seed)
{
    ana_sim_opts_t o;
    ana_sim_opts_default(&o);
    o.seed = seed;
    o.start = sn_day_from_ymd(2024, 1, 1);
    o.days = 200;
    o.sites = sites;
    o.n_sites = n_sites;
    o.outbreaks = obs;
    o.n_outbreaks = n_obs;
    ck_assert_int_eq(ana_sim_run(&o, s_feed, r, NULL), SN_OK);
    ana_ingest_close_through(r->in, o.start + o.days - 1, sn_time_now());
}

/* Alerts of `rule` (optionally in `region`) with day in [from, to]. */
static int
s_count(const run_t *r, const char *rule, const char *region, sn_day_t from,
        sn_day_t to)
{
    int n = 0;
    for (int i = 0; i < r->n && i < MAX_SEEN; i++) {
        const got_t *g = &r->got[i];
        if (strcmp(g->rule, rule) == 0 && g->day >= from && g->day <= to &&
            (region == NULL || strcmp(g->region, region) == 0)) {
            n++;
        }
    }
    return n;
}

/* Every alert of `rule` is at `level`. */
static void
s_all_at(const run_t *r, const char *rule, sn_level_t level)
{
    for (int i = 0; i < r->n && i < MAX_SEEN; i++) {
        if (strcmp(r->got[i].rule, rule) == 0) {
            ck_assert_msg(r->got[i].level == level,
                          "%s alert %d at level %s, not %s", rule, i,
                          sn_level_name(r->got[i].level), sn_level_name(level));
        }
    }
}

START_TEST(test_simulate_usage)
{
    /* An outbreak in county 330106 seen by fever clinic and pharmacy. */
    ana_sim_site_t sites[9];
    size_t n = s_sites(sites);
    ana_sim_outbreak_t ob;
    sn_err_t err;
    ck_assert_int_eq(
        ana_sim_outbreak_parse("330106:2024-06-01:4:160:fever_clinic,pharmacy",
                               &ob, &err),
        SN_OK);
    run_t *r = s_run_new();
    s_scenario(r, &ob, 1, sites, n, 7);
    sn_day_t d = ob.start;
    ck_assert_int_ge(s_count(r, "multi-source", "330106", d, d + 3), 1);
    ck_assert_int_eq(s_count(r, "multi-source", "330106", d - 30, d - 1), 0);
    ck_assert_int_eq(s_count(r, "spread", NULL, d - 5, d + 5), 0);
    for (int i = 0; i < r->n; i++) {
        if (strcmp(r->got[i].rule, "multi-source") == 0 && r->got[i].day >= d) {
            ck_assert_int_eq(r->got[i].level, SN_LEVEL_YELLOW);
        }
    }
    ck_assert_int_eq(r->rejected, 0);
    s_run_free(r);
}
END_TEST

START_TEST(test_simulate_spread_is_orange)
{
    ana_sim_site_t sites[9];
    size_t n = s_sites(sites);
    ana_sim_outbreak_t ob;
    ck_assert_int_eq(ana_sim_outbreak_parse("3301:2024-05-10:4:420", &ob, NULL),
                     SN_OK);
    run_t *r = s_run_new();
    s_scenario(r, &ob, 1, sites, n, 11);
    ck_assert_int_ge(s_count(r, "spread", "3301", ob.start, ob.start + 3), 1);
    ck_assert_int_ge(s_count(r, "multi-source", NULL, ob.start, ob.start + 3),
                     2);
    s_all_at(r, "spread", SN_LEVEL_ORANGE);
    s_all_at(r, "multi-source", SN_LEVEL_YELLOW);
    s_run_free(r);
}
END_TEST

START_TEST(test_simulate_multi_site_in_one_county)
{
    /* An outbreak in county 330105 reaches its hospital, fever clinic and
     * pharmacy: three sites of one county alarm, orange; no other county
     * gets a multi-site alert, and the prefecture no spread alert. */
    ana_sim_site_t sites[9];
    size_t n = s_sites(sites);
    ana_sim_outbreak_t ob;
    ck_assert_int_eq(
        ana_sim_outbreak_parse("330105:2024-05-20:4:300", &ob, NULL), SN_OK);
    run_t *r = s_run_new();
    s_scenario(r, &ob, 1, sites, n, 5);
    sn_day_t d = ob.start;
    ck_assert_int_ge(s_count(r, "multi-site", "330105", d, d + 3), 1);
    ck_assert_int_eq(s_count(r, "multi-site", "330102", d, d + 5), 0);
    ck_assert_int_eq(s_count(r, "multi-site", "330106", d, d + 5), 0);
    ck_assert_int_eq(s_count(r, "spread", NULL, d, d + 5), 0);
    s_all_at(r, "multi-site", SN_LEVEL_ORANGE);
    s_run_free(r);
}
END_TEST

START_TEST(test_simulate_no_outbreak_within_false_alarm_rate)
{
    ana_sim_site_t sites[9];
    size_t n = s_sites(sites);
    run_t *r = s_run_new();
    s_scenario(r, NULL, 0, sites, n, 3);
    /* EARS C2 on Poisson counts alarms on a few percent of series-days
     * (its bound assumes normal data); 9 county series x ~190 days. The
     * combined rules need coincident alarms: with ~3% per series-day, three
     * counties within three days happen about once in 200 days, and two
     * sources of one county about as often. */
    int blue = s_count(r, "single", NULL, 0, INT32_MAX);
    ck_assert_int_gt(blue, 0); /* the detectors do run */
    ck_assert_int_le(blue, 9 * 190 * 5 / 100);
    ck_assert_int_le(s_count(r, "multi-source", NULL, 0, INT32_MAX), 3);
    ck_assert_int_le(s_count(r, "spread", NULL, 0, INT32_MAX), 2);
    ck_assert_int_le(s_count(r, "multi-site", NULL, 0, INT32_MAX), 2);
    ck_assert_int_eq(s_count(r, "class-a", NULL, 0, INT32_MAX), 0);
    s_run_free(r);
}
END_TEST

START_TEST(test_simulate_duplicates_change_nothing)
{
    ana_sim_site_t sites[9];
    size_t n = s_sites(sites);
    ana_sim_outbreak_t ob;
    ana_sim_outbreak_parse("330106:2024-06-01:4:160:fever_clinic,pharmacy", &ob,
                           NULL);
    run_t *once = s_run_new(), *twice = s_run_new();
    s_scenario(once, &ob, 1, sites, n, 7);
    s_scenario(twice, &ob, 1, sites, n, 7);
    s_scenario(twice, &ob, 1, sites, n, 7); /* every event re-sent */
    ck_assert_int_eq(twice->n, once->n);
    /* Re-sent events within the horizon are duplicates; older ones are
     * refused as too old (dead-lettered); none is counted twice. */
    const ana_ingest_stats_t *st = ana_ingest_stats(twice->in);
    uint64_t counted = ana_ingest_stats(once->in)->counted;
    ck_assert_uint_gt(st->duplicates, 0);
    ck_assert_uint_eq(st->duplicates + st->rejected, counted);
    ck_assert_uint_eq(st->counted, counted);
    s_run_free(once);
    s_run_free(twice);
}
END_TEST

START_TEST(test_simulate_new_and_silent_sites)
{
    ana_sim_site_t sites[10];
    size_t n = s_sites(sites);
    /* A new fever clinic from day 120; the 330102 pharmacy falls silent. */
    sites[n] = sites[1];
    snprintf(sites[n].site_id, sizeof sites[n].site_id, "new-fc");
    sites[n].first = sn_day_from_ymd(2024, 1, 1) + 120;
    n++;
    sn_day_t quiet = sn_day_from_ymd(2024, 1, 1) + 150;
    sites[2].silent_from = quiet;
    run_t *r = s_run_new();
    s_scenario(r, NULL, 0, sites, n, 5);
    ck_assert_int_eq(s_count(r, "feed-health", "330102", quiet + 2, quiet + 2),
                     1);
    ck_assert_int_eq(s_count(r, "feed-health", NULL, 0, quiet + 1), 0);
    /* The new site adds site series but raises no alarm storm. */
    ck_assert_int_le(s_count(r, "multi-source", NULL, 0, INT32_MAX), 3);
    s_run_free(r);
}
END_TEST

START_TEST(test_simulate_bad_scenarios)
{
    ana_sim_opts_t o;
    ana_sim_opts_default(&o);
    sn_err_t err;
    ck_assert_int_eq(ana_sim_run(&o, s_feed, NULL, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "simulate: 1 to 1024 sites needed");
    ana_sim_site_t s;
    ck_assert_int_eq(ana_sim_site_parse("a:330106:spaceship:3", &s, &err),
                     SN_EINVAL);
    ck_assert_str_eq(err.msg,
                     "site 'a:330106:spaceship:3': unknown source 'spaceship'");
    ck_assert_int_eq(ana_sim_site_parse("a:330106:lab", &s, &err), SN_EINVAL);
    ana_sim_outbreak_t ob;
    ck_assert_int_eq(ana_sim_outbreak_parse("3301:2024-13-01:4:10", &ob, &err),
                     SN_EINVAL);
    ck_assert_int_eq(
        ana_sim_outbreak_parse("3301:2024-01-01:4:10:pigeon", &ob, &err),
        SN_EINVAL);
    ck_assert_str_eq(err.msg,
                     "outbreak '3301:2024-01-01:4:10:pigeon': unknown source");
}
END_TEST

START_TEST(test_simulate_cli_is_reproducible)
{
    ts_run_t a =
        ts_sentinel(NULL, 30, "simulate", "--days", "20", "--seed", "9", NULL);
    ts_run_t b =
        ts_sentinel(NULL, 30, "simulate", "--days", "20", "--seed", "9", NULL);
    ck_assert_int_eq(a.status, 0);
    ck_assert_str_eq(a.out, b.out);
    ck_assert_ptr_nonnull(strstr(a.err, "9 sites"));
    ts_run_t c = ts_sentinel(NULL, 30, "simulate", "--format", "xml", NULL);
    ck_assert_int_eq(c.status, 2);
    ck_assert_ptr_nonnull(strstr(c.err, "--format 'xml'"));
    ts_run_free(&a);
    ts_run_free(&b);
    ts_run_free(&c);
}
END_TEST

static Suite *
simulate_suite(void)
{
    Suite *s = suite_create("simulate");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_simulate_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_simulate_spread_is_orange);
    tcase_add_test(edges, test_simulate_multi_site_in_one_county);
    tcase_add_test(edges, test_simulate_no_outbreak_within_false_alarm_rate);
    tcase_add_test(edges, test_simulate_duplicates_change_nothing);
    tcase_add_test(edges, test_simulate_new_and_silent_sites);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_simulate_bad_scenarios);
    tcase_add_test(errors, test_simulate_cli_is_reproducible);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(simulate_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
