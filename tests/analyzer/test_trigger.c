/*  tests/analyzer/test_trigger.c - multi-point trigger rules
 *
 *  The rules on their own, then through the pipeline (pipeline.h): a
 *  revision to a class-A condition raises its alert and a later one in
 *  place raises nothing; a late event that completes a multi-source group
 *  raises it, late events that change no alarm raise nothing old; the
 *  signals and threshold counts a rule needs survive a restart (snapshot
 *  and journal).
 */
#include "pipeline.h"
#include "trigger.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const ana_condition_t s_conds[] = {
    {"ILI", 'S'}, {"cholera", 'A'}, {"measles", 'B'}};

/* What the callback saw. */
typedef struct seen {
    int n;                            /* alerts */
    sn_level_t level;                 /* of the last */
    char rule[SN_RULE_MAX + 1];       /* of the last */
    char region[16];                  /* of the last */
    size_t evidence;                  /* rows of the last */
    char summary[SN_SUMMARY_MAX + 1]; /* of the last */
} seen_t;

static void
s_collect(const sn_alert_t *a, void *arg)
{
    seen_t *s = arg;
    s->n++;
    s->level = a->level;
    snprintf(s->rule, sizeof s->rule, "%s", a->rule);
    snprintf(s->region, sizeof s->region, "%s", a->region);
    snprintf(s->summary, sizeof s->summary, "%s", a->summary);
    s->evidence = a->n_evidence;
    ck_assert_int_eq(sn_alert_validate(a, NULL), SN_OK);
}

static ana_rule_t
s_rule(const char *name, ana_rule_kind_t kind, sn_level_t level)
{
    ana_rule_t r;
    memset(&r, 0, sizeof r);
    snprintf(r.name, sizeof r.name, "%s", name);
    r.kind = kind;
    r.level = level;
    r.group = ANA_LEVEL_COUNTY;
    r.series = ANA_LEVEL_COUNTY;
    r.min_count = 1;
    r.k = 2;
    r.days = 3;
    return r;
}

static ana_series_key_t
s_key(const char *cond, const char *region, sn_source_t src, const char *site,
      ana_level_t level)
{
    ana_series_key_t k;
    memset(&k, 0, sizeof k);
    strcpy(k.condition, cond);
    strcpy(k.region, region);
    strcpy(k.site, site);
    k.source = (uint8_t)src;
    k.level = (uint8_t)level;
    return k;
}

static sn_det_point_t
s_alarm(double obs)
{
    sn_det_point_t p;
    memset(&p, 0, sizeof p);
    p.observed = obs;
    p.expected = 2;
    p.upperbound = 5;
    p.score = 3;
    p.alarm = 1;
    return p;
}

START_TEST(test_trigger_usage)
{
    ana_series_t *ser = ana_series_new(s_conds, 3, NULL, 0, 10, 0);
    ana_rule_t rules[2];
    rules[0] = s_rule("class-a", ANA_RULE_THRESHOLD, SN_LEVEL_RED);
    strcpy(rules[0].classes, "A");
    rules[1] = s_rule("multi-source", ANA_RULE_MULTI_SOURCE, SN_LEVEL_YELLOW);
    seen_t seen = {0};
    ana_trigger_t *t = ana_trigger_new(rules, 2, ser, s_collect, &seen);
    /* One cholera case raises red at once. */
    ana_series_key_t ck =
        s_key("cholera", "110105", SN_SOURCE_LAB, "lab1", ANA_LEVEL_SITE);
    ck_assert_int_eq(ana_trigger_event(t, &ck, 500, 1, 1000), 1);
    ck_assert_int_eq(seen.level, SN_LEVEL_RED);
    ck_assert_str_eq(seen.region, "110105");
    ck_assert_int_eq(ana_trigger_event(t, &ck, 500, 1, 1000), 0); /* once */
    /* Two sources alarming for ILI in one county within 3 days: yellow. */
    ana_series_key_t a =
        s_key("ILI", "110105", SN_SOURCE_FEVER_CLINIC, "", ANA_LEVEL_COUNTY);
    ana_series_key_t b =
        s_key("ILI", "110105", SN_SOURCE_PHARMACY, "", ANA_LEVEL_COUNTY);
    sn_det_point_t p = s_alarm(9);
    ana_trigger_signal(t, &a, "ears-c2", 498, &p);
    ck_assert_int_eq(ana_trigger_evaluate(t, 498, 1000), 0);
    ana_trigger_signal(t, &b, "ears-c2", 500, &p);
    ck_assert_int_eq(ana_trigger_evaluate(t, 500, 1000), 1);
    ck_assert_int_eq(seen.level, SN_LEVEL_YELLOW);
    ck_assert_str_eq(seen.rule, "multi-source");
    ck_assert_uint_eq(seen.evidence, 2);
    ck_assert_ptr_nonnull(strstr(seen.summary, "fever_clinic pharmacy"));
    /* Three days later the first signal is out of the window. */
    ck_assert_int_eq(ana_trigger_evaluate(t, 501, 1000), 0);
    ana_trigger_destroy(&t);
    ck_assert_ptr_null(t);
    ana_series_destroy(&ser);
}
END_TEST

START_TEST(test_trigger_spread_and_multi_site)
{
    ana_series_t *ser = ana_series_new(s_conds, 3, NULL, 0, 10, 0);
    ana_rule_t rules[2];
    rules[0] = s_rule("spread", ANA_RULE_SPREAD, SN_LEVEL_ORANGE);
    rules[0].group = ANA_LEVEL_PREFECTURE;
    rules[0].k = 3;
    rules[1] = s_rule("multi-site", ANA_RULE_MULTI_SITE, SN_LEVEL_YELLOW);
    rules[1].series = ANA_LEVEL_SITE;
    seen_t seen = {0};
    ana_trigger_t *t = ana_trigger_new(rules, 2, ser, s_collect, &seen);
    sn_det_point_t p = s_alarm(9);
    const char *counties[] = {"440101", "440102", "440103", "440201"};
    for (int i = 0; i < 4; i++) {
        ana_series_key_t k = s_key("measles", counties[i], SN_SOURCE_HOSPITAL,
                                   "", ANA_LEVEL_COUNTY);
        ana_trigger_signal(t, &k, "ears-c2", 700, &p);
    }
    ck_assert_int_eq(ana_trigger_evaluate(t, 700, 0), 1);
    ck_assert_str_eq(seen.region, "4401"); /* 4402 has only one county */
    ck_assert_int_eq(seen.level, SN_LEVEL_ORANGE);
    ck_assert_uint_eq(seen.evidence, 3);
    /* The same site twice is one site. */
    ana_series_key_t s1 =
        s_key("ILI", "440101", SN_SOURCE_HOSPITAL, "h1", ANA_LEVEL_SITE);
    ana_trigger_signal(t, &s1, "ears-c2", 701, &p);
    ana_trigger_signal(t, &s1, "cusum", 701, &p);
    /* No new county signal: spread does not fire again on old evidence. */
    ck_assert_int_eq(ana_trigger_evaluate(t, 701, 0), 0);
    ana_series_key_t s2 =
        s_key("ILI", "440101", SN_SOURCE_FEVER_CLINIC, "f1", ANA_LEVEL_SITE);
    ana_trigger_signal(t, &s2, "ears-c2", 702, &p);
    ck_assert_int_eq(ana_trigger_evaluate(t, 702, 0), 1);
    ck_assert_str_eq(seen.rule, "multi-site");
    ck_assert_uint_eq(seen.evidence, 3);
    ck_assert_int_eq(seen.level, SN_LEVEL_YELLOW);
    ana_trigger_destroy(&t);
    ana_series_destroy(&ser);
}
END_TEST

START_TEST(test_trigger_single_and_retract)
{
    ana_series_t *ser = ana_series_new(s_conds, 3, NULL, 0, 10, 0);
    ana_rule_t r = s_rule("single", ANA_RULE_SINGLE, SN_LEVEL_BLUE);
    r.days = 1;
    strcpy(r.detector, "ears-c2");
    seen_t seen = {0};
    ana_trigger_t *t = ana_trigger_new(&r, 1, ser, s_collect, &seen);
    ana_series_key_t a =
        s_key("ILI", "110105", SN_SOURCE_SCHOOL, "", ANA_LEVEL_COUNTY);
    sn_det_point_t p = s_alarm(4);
    ana_trigger_signal(t, &a, "cusum", 10, &p); /* other detector: ignored */
    ck_assert_int_eq(ana_trigger_evaluate(t, 10, 0), 0);
    ana_trigger_signal(t, &a, "ears-c2", 11, &p);
    ck_assert_uint_eq(ana_trigger_signals(t), 2);
    ana_trigger_retract(t, &a, 11);
    ck_assert_uint_eq(ana_trigger_signals(t), 1);
    ck_assert_int_eq(ana_trigger_evaluate(t, 11, 0), 0);
    ana_trigger_signal(t, &a, "ears-c2", 11, &p);
    ck_assert_int_eq(ana_trigger_evaluate(t, 11, 0), 1);
    ck_assert_int_eq(seen.level, SN_LEVEL_BLUE);
    ana_trigger_destroy(&t);
    ana_series_destroy(&ser);
}
END_TEST

START_TEST(test_trigger_threshold_counts_to_min)
{
    ana_series_t *ser = ana_series_new(s_conds, 3, NULL, 0, 10, 0);
    ana_rule_t r = s_rule("measles-3", ANA_RULE_THRESHOLD, SN_LEVEL_ORANGE);
    strcpy(r.conditions[0], "measles");
    r.n_conditions = 1;
    r.min_count = 3;
    r.group = ANA_LEVEL_PREFECTURE;
    seen_t seen = {0};
    ana_trigger_t *t = ana_trigger_new(&r, 1, ser, s_collect, &seen);
    ana_series_key_t a =
        s_key("measles", "440101", SN_SOURCE_HOSPITAL, "h", ANA_LEVEL_SITE);
    ana_series_key_t b =
        s_key("measles", "440102", SN_SOURCE_HOSPITAL, "g", ANA_LEVEL_SITE);
    ana_series_key_t c =
        s_key("ILI", "440102", SN_SOURCE_HOSPITAL, "g", ANA_LEVEL_SITE);
    ck_assert_int_eq(ana_trigger_event(t, &a, 5, 1, 0), 0);
    ck_assert_int_eq(ana_trigger_event(t, &c, 5, 9, 0), 0);
    ck_assert_int_eq(ana_trigger_event(t, &a, 6, 1, 0), 0); /* other day */
    ck_assert_int_eq(ana_trigger_event(t, &b, 5, 2, 0), 1);
    ck_assert_str_eq(seen.region, "4401");
    ck_assert_ptr_nonnull(strstr(seen.summary, "3 case(s) of measles"));
    ana_rule_kind_t k;
    ck_assert_int_eq(ana_rule_kind_parse("multi-source", &k), SN_OK);
    ck_assert_int_eq(k, ANA_RULE_MULTI_SOURCE);
    ck_assert_int_eq(ana_rule_kind_parse("quorum", &k), SN_ENOTFOUND);
    ck_assert_str_eq(ana_rule_kind_name(ANA_RULE_SPREAD), "spread");
    ana_trigger_destroy(&t);
    ana_series_destroy(&ser);
}
END_TEST

START_TEST(test_trigger_pipeline_revision_to_class_a_raises)
{
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    sn_day_t d = sn_day_from_ymd(2025, 3, 1);
    /* An HL7 A08 corrects a visit's diagnosis from ILI to cholera: the
     * class-A rule fires on the revision, at once. */
    sn_event_t a = pl_ev("h1", "visit-7", SN_SOURCE_HOSPITAL, "ili", d, 1);
    ck_assert_int_eq(ana_ingest_event(in, &a, sn_time_now(), NULL),
                     ANA_INGEST_COUNTED);
    ck_assert_int_eq(seen.alerts, 0);
    sn_event_t b = pl_ev("h1", "visit-7", SN_SOURCE_HOSPITAL, "cholera", d, 1);
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
    pl_feed(in, d, d + 6, 0);
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

START_TEST(test_trigger_pipeline_late_event_completes_a_group)
{
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    /* The fever clinic's spike of day 30 is missing when days 30 and 31
     * close; the pharmacy spikes on day 31: one source, no alert yet. */
    pl_feed2(in, d0, d0 + 32, 0, d0 + 31, d0 + 30);
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 31);
    ck_assert_int_eq(seen.alerts, 0);
    /* The spike comes late: day 30 is corrected, and with the pharmacy's
     * alarm of day 31 two sources alarmed within 3 days. */
    sn_event_t late =
        pl_ev("fc1", "fc-late", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 30, 40);
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

START_TEST(test_trigger_pipeline_late_events_raise_nothing_old)
{
    /* The multi-source alert of day 30 is raised once. Two late events,
     * of days 19 and 37, change no alarm: evaluating the rules again for
     * their days raises nothing, and the alert of day 30, between them,
     * is not raised again. */
    pl_seen_t seen = {0};
    sn_config_t *cfg;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &seen, &cfg);
    sn_day_t d0 = sn_day_from_ymd(2025, 3, 1);
    pl_feed(in, d0, d0 + 39, d0 + 30);
    ck_assert_int_eq(seen.alerts, 1);
    sn_event_t a =
        pl_ev("fc1", "late-a", SN_SOURCE_FEVER_CLINIC, "ili", d0 + 19, 1);
    sn_event_t b =
        pl_ev("ph1", "late-b", SN_SOURCE_PHARMACY, "ili", d0 + 37, 1);
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
    pl_seen_t first = {0}, second = {0};
    sn_config_t *c1, *c2;
    ana_ingest_t *in = pl_pipeline(pl_yaml, &first, &c1);
    pl_feed2(in, d0, d0 + (journal ? 20 : 31), d0 + 30, d0 + 31, 0);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_ingest_save(in, f), SN_OK);
    fclose(f);
    size_t n_ops = 0;
    uint8_t *ops = NULL;
    if (journal) { /* days 21 .. 31 only in the journal */
        ana_ingest_journal(in, true);
        pl_feed2(in, d0 + 21, d0 + 31, d0 + 30, d0 + 31, 0);
        const uint8_t *delta = ana_ingest_delta(in, &n_ops);
        ops = sn_malloc(n_ops);
        memcpy(ops, delta, n_ops);
    }
    ck_assert_int_eq(ana_ingest_closed(in), d0 + 30);
    ck_assert_int_eq(first.alerts, 0);
    ana_ingest_destroy(&in);
    in = pl_pipeline(pl_yaml, &second, &c2);
    f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_msg(ana_ingest_load(in, f, &err) == SN_OK, "%s", err.msg);
    fclose(f);
    if (journal) {
        ck_assert_msg(ana_ingest_replay(in, ops, n_ops, &err) == SN_OK, "%s",
                      err.msg);
    }
    pl_feed2(in, d0 + 32, d0 + 32, 0, 0, 0); /* closes day 31 */
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

START_TEST(test_trigger_pipeline_restart_keeps_signals)
{
    /* Yesterday's alarm survives the restart and completes today's group,
     * from the snapshot and from the journal. */
    ck_assert_int_eq(s_alerts_across_restart(false), 1);
    ck_assert_int_eq(s_alerts_across_restart(true), 1);
}
END_TEST

START_TEST(test_trigger_pipeline_restart_keeps_threshold_counts)
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
    pl_seen_t first = {0}, second = {0};
    sn_config_t *c1, *c2;
    ana_ingest_t *in = pl_pipeline(yaml, &first, &c1);
    /* Two cases, then a restart, then the third: the cluster is seen. */
    for (int i = 0; i < 2; i++) {
        char id[16];
        snprintf(id, sizeof id, "m-%d", i);
        sn_event_t e = pl_ev("h1", id, SN_SOURCE_HOSPITAL, "measles", d, 1);
        ana_ingest_event(in, &e, sn_time_now(), NULL);
    }
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_ingest_save(in, f), SN_OK);
    fclose(f);
    ana_ingest_destroy(&in);
    in = pl_pipeline(yaml, &second, &c2);
    f = fopen(path, "rb");
    ck_assert_int_eq(ana_ingest_load(in, f, NULL), SN_OK);
    fclose(f);
    sn_event_t e = pl_ev("h1", "m-2", SN_SOURCE_HOSPITAL, "measles", d, 1);
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

static Suite *
trigger_suite(void)
{
    Suite *s = suite_create("trigger");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_trigger_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_trigger_spread_and_multi_site);
    tcase_add_test(edges, test_trigger_single_and_retract);
    suite_add_tcase(s, edges);
    TCase *pipe = tcase_create("pipeline");
    tcase_set_timeout(pipe, 60);
    tcase_add_test(pipe, test_trigger_pipeline_revision_to_class_a_raises);
    tcase_add_test(pipe, test_trigger_pipeline_late_event_completes_a_group);
    tcase_add_test(pipe, test_trigger_pipeline_late_events_raise_nothing_old);
    tcase_add_test(pipe, test_trigger_pipeline_restart_keeps_signals);
    tcase_add_test(pipe, test_trigger_pipeline_restart_keeps_threshold_counts);
    suite_add_tcase(s, pipe);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_trigger_threshold_counts_to_min);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(trigger_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
