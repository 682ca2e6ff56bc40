/*  tests/analyzer/test_health.c - silent feeds and backlog resubmissions */
#include "health.h"

#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What the callback saw. */
typedef struct seen {
    int n;                              /* signals */
    char detector[SN_DETECTOR_MAX + 1]; /* of the last */
    char series[SN_SERIES_KEY_MAX + 1]; /* of the last */
    double observed;                    /* of the last */
} seen_t;

static void
s_collect(const sn_alert_t *a, void *arg)
{
    seen_t *s = arg;
    s->n++;
    ck_assert_str_eq(a->rule, "feed-health");
    ck_assert_uint_eq(a->n_evidence, 1);
    snprintf(s->detector, sizeof s->detector, "%s", a->evidence[0].detector);
    snprintf(s->series, sizeof s->series, "%s", a->evidence[0].series_key);
    s->observed = a->evidence[0].observed;
    ck_assert_int_eq(sn_alert_validate(a, NULL), SN_OK);
}

static ana_series_key_t
s_key(const char *site, sn_source_t src)
{
    ana_series_key_t k;
    memset(&k, 0, sizeof k);
    strcpy(k.condition, "ILI");
    strcpy(k.region, "330106");
    strcpy(k.site, site);
    k.source = (uint8_t)src;
    return k;
}

START_TEST(test_health_usage)
{
    ana_health_opts_t o;
    ana_health_opts_default(&o);
    seen_t seen = {0};
    ana_health_t *h = ana_health_new(&o, s_collect, &seen);
    ana_series_key_t k = s_key("fc-7", SN_SOURCE_FEVER_CLINIC);
    /* The fever clinic reports every day for 40 days ... */
    for (sn_day_t d = 1000; d < 1040; d++) {
        ana_health_event(h, 0, &k, d, d - 1);
        ck_assert_int_eq(ana_health_close(h, d, 0), 0);
    }
    /* ... then falls silent: on the third quiet day a signal. */
    ck_assert_int_eq(ana_health_close(h, 1040, 0), 0);
    ck_assert_int_eq(ana_health_close(h, 1041, 0), 0);
    ck_assert_int_eq(ana_health_close(h, 1042, 0), 1);
    ck_assert_str_eq(seen.detector, "silence");
    ck_assert_str_eq(seen.series, "feed/fc-7/fever_clinic");
    ck_assert_double_eq(seen.observed, 3);
    /* Raised once per silence. */
    ck_assert_int_eq(ana_health_close(h, 1043, 0), 0);
    ck_assert_uint_eq(ana_health_feeds(h), 1);
    ana_health_destroy(&h);
    ck_assert_ptr_null(h);
}
END_TEST

START_TEST(test_health_irregular_feed_is_not_silent)
{
    ana_health_opts_t o;
    ana_health_opts_default(&o);
    seen_t seen = {0};
    ana_health_t *h = ana_health_new(&o, s_collect, &seen);
    ana_series_key_t k = s_key("school-1", SN_SOURCE_SCHOOL);
    for (sn_day_t d = 1000; d < 1040; d += 7) { /* weekly reporter */
        ana_health_event(h, 3, &k, d, d - 1);
    }
    for (sn_day_t d = 1000; d < 1060; d++) {
        ana_health_close(h, d, 0);
    }
    ck_assert_int_eq(seen.n, 0);
    ana_health_destroy(&h);
}
END_TEST

START_TEST(test_health_backlog)
{
    ana_health_opts_t o;
    ana_health_opts_default(&o);
    o.backlog_min = 50;
    seen_t seen = {0};
    ana_health_t *h = ana_health_new(&o, s_collect, &seen);
    ana_series_key_t k = s_key("ph-2", SN_SOURCE_PHARMACY);
    for (int i = 0; i < 49; i++) {
        ana_health_event(h, 1, &k, 900, 1000); /* 100 days old */
    }
    ana_health_event(h, 1, &k, 999, 1000); /* recent: not backlog */
    ck_assert_int_eq(ana_health_close(h, 1001, 0), 0);
    for (int i = 0; i < 50; i++) {
        ana_health_event(h, 1, &k, 980, 1001);
    }
    ck_assert_int_eq(ana_health_close(h, 1002, 0), 1);
    ck_assert_str_eq(seen.detector, "backlog");
    ck_assert_double_eq(seen.observed, 50);
    ana_health_destroy(&h);
}
END_TEST

START_TEST(test_health_state_round_trip)
{
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "h", "junk");
    ana_health_opts_t o;
    ana_health_opts_default(&o);
    seen_t seen = {0};
    ana_health_t *h = ana_health_new(&o, s_collect, &seen);
    FILE *f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_int_eq(ana_health_load(h, f, &err), SN_EIO);
    fclose(f);
    ana_series_key_t k = s_key("fc-1", SN_SOURCE_FEVER_CLINIC);
    for (sn_day_t d = 100; d < 130; d++) {
        ana_health_event(h, 0, &k, d, d - 1);
    }
    f = fopen(path, "wb");
    ck_assert_int_eq(ana_health_save(h, f), SN_OK);
    fclose(f);
    ana_health_destroy(&h);
    h = ana_health_new(&o, s_collect, &seen);
    f = fopen(path, "rb");
    ck_assert_int_eq(ana_health_load(h, f, &err), SN_OK);
    fclose(f);
    ck_assert_uint_eq(ana_health_feeds(h), 1);
    ck_assert_int_eq(ana_health_close(h, 132, 0), 1); /* history kept */
    ana_health_destroy(&h);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

static Suite *
health_suite(void)
{
    Suite *s = suite_create("health");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_health_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_health_irregular_feed_is_not_silent);
    tcase_add_test(edges, test_health_backlog);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 20);
    tcase_add_test(errors, test_health_state_round_trip);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(health_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
