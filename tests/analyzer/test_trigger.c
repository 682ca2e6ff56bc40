/*  tests/analyzer/test_trigger.c - multi-point trigger rules */
#include "trigger.h"

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
