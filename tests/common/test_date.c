/*  tests/common/test_date.c - days, timestamps and their text forms */
#include "sentinel/date.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_date_usage)
{
    sn_day_t d;
    ck_assert_int_eq(sn_day_parse("2024-02-29", &d), SN_OK);
    char buf[SN_DAY_STR_MAX];
    ck_assert_str_eq(sn_day_format(d, buf), "2024-02-29");
    ck_assert_int_eq(sn_day_weekday(d), 4); /* a Thursday */
    ck_assert_int_eq(sn_day_from_ymd(1970, 1, 1), 0);
    ck_assert_int_eq(sn_day_from_ymd(2000, 3, 1), 11017);
}
END_TEST

START_TEST(test_date_round_trip_every_day)
{
    for (sn_day_t d = sn_day_from_ymd(1900, 1, 1); d < 40000; d++) {
        int y, m, dd;
        sn_day_to_ymd(d, &y, &m, &dd);
        ck_assert_int_eq(sn_day_from_ymd(y, m, dd), d);
    }
}
END_TEST

START_TEST(test_date_time_parse_offsets)
{
    sn_time_t t;
    ck_assert_int_eq(sn_time_parse("2026-11-25T08:00:00+08:00", &t), SN_OK);
    char buf[SN_TIME_STR_MAX];
    ck_assert_str_eq(sn_time_format(t, buf), "2026-11-25T00:00:00.000Z");
    ck_assert_int_eq(sn_time_parse("2026-11-25T00:00:00.5Z", &t), SN_OK);
    ck_assert_str_eq(sn_time_format(t, buf), "2026-11-25T00:00:00.500Z");
    ck_assert_int_eq(sn_time_parse("2026-11-25", &t), SN_OK);
    ck_assert_int_eq(sn_time_day(t), sn_day_from_ymd(2026, 11, 25));
}
END_TEST

START_TEST(test_date_rejects_bad_text)
{
    sn_day_t d = 7;
    ck_assert_int_eq(sn_day_parse("2023-02-29", &d), SN_EPARSE);
    ck_assert_int_eq(sn_day_parse("2023-2-28", &d), SN_EPARSE);
    ck_assert_int_eq(sn_day_parse("2023-02-28x", &d), SN_EPARSE);
    ck_assert_int_eq(sn_day_parse(NULL, &d), SN_EPARSE);
    ck_assert_int_eq(d, 7);
    sn_time_t t;
    ck_assert_int_eq(sn_time_parse("2026-11-25T25:00:00Z", &t), SN_EPARSE);
    ck_assert_int_eq(sn_time_parse("2026-11-25T10:00:00", &t), SN_EPARSE);
}
END_TEST

static Suite *
date_suite(void)
{
    Suite *s = suite_create("date");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_date_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_test(edges, test_date_round_trip_every_day);
    tcase_add_test(edges, test_date_time_parse_offsets);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_date_rejects_bad_text);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(date_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
