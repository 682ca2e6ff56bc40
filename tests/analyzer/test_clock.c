/*  tests/analyzer/test_clock.c - watermarks, closing days, late events */
#include "clock.h"

#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

START_TEST(test_clock_usage)
{
    ana_clock_t *c = ana_clock_new(1, 3, 30, false);
    ck_assert_int_eq(ana_clock_due(c, 0), ANA_CLOCK_NONE);
    ana_clock_observe(c, SN_SOURCE_HOSPITAL, 100);
    ana_clock_observe(c, SN_SOURCE_HOSPITAL, 101);
    /* Lateness 1: day 100 waits until an event of day 102 arrives. */
    ck_assert_int_eq(ana_clock_due(c, 0), ANA_CLOCK_NONE);
    ana_clock_observe(c, SN_SOURCE_HOSPITAL, 102);
    ck_assert_int_eq(ana_clock_next(c), 100);
    ck_assert_int_eq(ana_clock_due(c, 0), 100);
    ana_clock_close(c, 100);
    ck_assert_int_eq(ana_clock_closed(c), 100);
    ck_assert_int_eq(ana_clock_classify(c, 100), ANA_CLOCK_LATE);
    ck_assert_int_eq(ana_clock_classify(c, 101), ANA_CLOCK_OPEN);
    ana_clock_destroy(&c);
    ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_clock_slowest_active_source_holds)
{
    ana_clock_t *c = ana_clock_new(0, 3, 30, false);
    ana_clock_observe(c, SN_SOURCE_HOSPITAL, 100);
    ana_clock_observe(c, SN_SOURCE_PHARMACY, 100);
    ana_clock_observe(c, SN_SOURCE_HOSPITAL, 103);
    /* The pharmacy is at 100: only day 99 may close... none before 100. */
    ck_assert_int_eq(ana_clock_due(c, 0), ANA_CLOCK_NONE);
    ana_clock_observe(c, SN_SOURCE_PHARMACY, 102);
    ck_assert_int_eq(ana_clock_due(c, 0), 101);
    /* A pharmacy silent for more than idle_days stops holding days. */
    ana_clock_observe(c, SN_SOURCE_HOSPITAL, 110);
    ck_assert_int_eq(ana_clock_due(c, 0), 109);
    ck_assert_int_eq(ana_clock_watermark(c, SN_SOURCE_PHARMACY), 102);
    ana_clock_destroy(&c);
}
END_TEST

START_TEST(test_clock_wall_closes_quiet_days)
{
    ana_clock_t *c = ana_clock_new(1, 3, 30, true);
    ana_clock_observe(c, SN_SOURCE_LAB, sn_day_from_ymd(2026, 11, 1));
    sn_time_t now;
    sn_time_parse("2026-11-05T08:00:00Z", &now);
    /* No event since the 1st, but the wall clock closes up to the 3rd. */
    ck_assert_int_eq(ana_clock_due(c, now), sn_day_from_ymd(2026, 11, 3));
    ana_clock_t *off = ana_clock_new(1, 3, 30, false);
    ana_clock_observe(off, SN_SOURCE_LAB, sn_day_from_ymd(2026, 11, 1));
    ck_assert_int_eq(ana_clock_due(off, now), ANA_CLOCK_NONE);
    ana_clock_destroy(&c);
    ana_clock_destroy(&off);
}
END_TEST

START_TEST(test_clock_state_round_trip)
{
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "clock", "");
    ana_clock_t *c = ana_clock_new(0, 3, 30, false);
    ana_clock_observe(c, SN_SOURCE_MEDIA, 50);
    ana_clock_observe(c, SN_SOURCE_MEDIA, 52);
    ana_clock_close(c, 50);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_clock_save(c, f), SN_OK);
    fclose(f);
    ana_clock_t *d = ana_clock_new(0, 3, 30, false);
    f = fopen(path, "rb");
    ck_assert_int_eq(ana_clock_load(d, f, NULL), SN_OK);
    fclose(f);
    ck_assert_int_eq(ana_clock_closed(d), 50);
    ck_assert_int_eq(ana_clock_due(d, 0), 51);
    ana_clock_destroy(&c);
    ana_clock_destroy(&d);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_clock_refuses_beyond_horizon)
{
    ana_clock_t *c = ana_clock_new(0, 3, 10, false);
    ana_clock_observe(c, SN_SOURCE_LAB, 100);
    ana_clock_observe(c, SN_SOURCE_LAB, 101);
    ana_clock_close(c, 100);
    ck_assert_int_eq(ana_clock_horizon(c), 91);
    ck_assert_int_eq(ana_clock_classify(c, 91), ANA_CLOCK_LATE);
    ck_assert_int_eq(ana_clock_classify(c, 90), SN_ETOOOLD);
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "bad", "garbage!garbage!");
    FILE *f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_int_eq(ana_clock_load(c, f, &err), SN_ECORRUPT);
    ck_assert_str_eq(err.msg, "clock state: bad header");
    fclose(f);
    ck_assert_int_eq(ana_clock_closed(c), 100);
    ts_rmtree(dir);
    free(path);
    free(dir);
    ana_clock_destroy(&c);
}
END_TEST

static Suite *
clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_clock_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 20);
    tcase_add_test(edges, test_clock_slowest_active_source_holds);
    tcase_add_test(edges, test_clock_wall_closes_quiet_days);
    tcase_add_test(edges, test_clock_state_round_trip);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 20);
    tcase_add_test(errors, test_clock_refuses_beyond_horizon);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(clock_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
