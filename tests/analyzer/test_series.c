/*  tests/analyzer/test_series.c - series keys, fan-out, roll-ups, state */
#include "series.h"

#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const ana_condition_t s_conds[] = {
    {"ILI", 'S'}, {"VISITS", '-'}, {"cholera", 'A'}};

static ana_series_t *
s_table(void)
{
    ana_series_spec_t specs[2];
    memset(specs, 0, sizeof specs);
    strcpy(specs[0].condition, "ILI");
    specs[0].levels = (1u << ANA_LEVEL_SITE) | (1u << ANA_LEVEL_COUNTY) |
                      (1u << ANA_LEVEL_PREFECTURE) | (1u << ANA_LEVEL_PROVINCE);
    specs[0].sources =
        (1u << SN_SOURCE_FEVER_CLINIC) | (1u << SN_SOURCE_PHARMACY);
    strcpy(specs[0].denominator, "VISITS");
    strcpy(specs[1].condition, "VISITS");
    specs[1].levels = specs[0].levels;
    return ana_series_new(s_conds, 3, specs, 2, 30, 100);
}

START_TEST(test_series_usage)
{
    ana_series_t *s = s_table();
    uint32_t leaf;
    ck_assert_int_eq(ana_series_leaf(s, "ILI", "330106", SN_SOURCE_FEVER_CLINIC,
                                     "h1", &leaf, NULL),
                     SN_OK);
    size_t n;
    const uint32_t *ids = ana_series_fanout(s, leaf, &n);
    ck_assert_uint_eq(n, 4); /* site, county, prefecture, province */
    char name[ANA_SERIES_NAME_MAX];
    ck_assert_str_eq(ana_series_name(ana_series_key(s, ids[0]), name),
                     "ILI/330106/fever_clinic/h1");
    ck_assert_str_eq(ana_series_name(ana_series_key(s, ids[2]), name),
                     "ILI/3301/fever_clinic");
    ck_assert_str_eq(ana_series_key(s, ids[3])->region, "33");
    ck_assert_int_eq(ana_series_add(s, leaf, 100, 5, 1), SN_OK);
    uint32_t v;
    ana_window_get(ana_series_window(s, ids[3]), 100, &v);
    ck_assert_uint_eq(v, 5);
    /* The denominator series exists beside each ILI series. */
    uint32_t den = ana_series_denominator(s, ids[1]);
    ck_assert_uint_ne(den, ANA_SERIES_NONE);
    ck_assert_str_eq(ana_series_key(s, den)->condition, "VISITS");
    ana_series_destroy(&s);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_series_rollup_shares_series)
{
    ana_series_t *s = s_table();
    uint32_t a, b;
    ana_series_leaf(s, "ILI", "330106", SN_SOURCE_PHARMACY, "p1", &a, NULL);
    ana_series_leaf(s, "ILI", "330108", SN_SOURCE_PHARMACY, "p2", &b, NULL);
    ana_series_add(s, a, 101, 2, 1);
    ana_series_add(s, b, 101, 3, 1);
    size_t n;
    const uint32_t *ids = ana_series_fanout(s, b, &n);
    uint32_t pref = ids[2], v = 0;
    ana_window_get(ana_series_window(s, pref), 101, &v);
    ck_assert_uint_eq(v, 5); /* both counties roll up into 3301 */
    /* A revision moves a count away again. */
    ck_assert_int_eq(ana_series_add(s, a, 101, 2, -1), SN_OK);
    ana_window_get(ana_series_window(s, pref), 101, &v);
    ck_assert_uint_eq(v, 3);
    /* A source without a spec counts nowhere but is a valid leaf. */
    uint32_t c;
    ck_assert_int_eq(
        ana_series_leaf(s, "ILI", "330106", SN_SOURCE_LAB, "l1", &c, NULL),
        SN_OK);
    ana_series_fanout(s, c, &n);
    ck_assert_uint_eq(n, 0);
    /* A short region code skips the levels it cannot fill. */
    ana_series_leaf(s, "ILI", "33", SN_SOURCE_PHARMACY, "x", &c, NULL);
    ana_series_fanout(s, c, &n);
    ck_assert_uint_eq(n, 1);
    ana_series_destroy(&s);
}
END_TEST

START_TEST(test_series_weekly_totals)
{
    ana_series_t *s = s_table();
    uint32_t leaf;
    ana_series_leaf(s, "VISITS", "110101", SN_SOURCE_HOSPITAL, "h", &leaf,
                    NULL);
    sn_day_t mon = sn_day_from_ymd(2024, 1, 1); /* a Monday */
    for (int i = 0; i < 14; i++) {
        ana_series_add(s, leaf, mon + i, (uint32_t)(i < 7 ? 1 : 2), 1);
    }
    size_t n;
    uint32_t id = ana_series_fanout(s, leaf, &n)[1];
    double out[4];
    /* On Wednesday of week 3 the weeks end on the Sunday before; the 30-day
     * window holds four complete weeks, the older two empty. */
    ck_assert_uint_eq(ana_series_weekly(s, id, mon + 16, out, 4), 4);
    ck_assert_double_eq(out[1], 0);
    ck_assert_double_eq(out[2], 7);
    ck_assert_double_eq(out[3], 14);
    ck_assert_uint_eq(ana_series_weekly(s, id, mon + 16, out, 1), 1);
    ck_assert_double_eq(out[0], 14);
    ana_series_destroy(&s);
}
END_TEST

START_TEST(test_series_state_round_trip)
{
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "series", "");
    ana_series_t *s = s_table();
    uint32_t a, b;
    ana_series_leaf(s, "ILI", "330106", SN_SOURCE_PHARMACY, "p1", &a, NULL);
    ana_series_leaf(s, "VISITS", "330106", SN_SOURCE_PHARMACY, "p1", &b, NULL);
    ana_series_add(s, a, 110, 4, 1);
    ana_series_add(s, b, 111, 9, 1);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_series_save(s, f), SN_OK);
    fclose(f);
    size_t before = ana_series_size(s);
    ana_series_destroy(&s);
    s = s_table();
    f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_int_eq(ana_series_load(s, f, &err), SN_OK);
    fclose(f);
    ck_assert_uint_eq(ana_series_size(s), before);
    ck_assert_uint_eq(ana_series_leaves(s), 2);
    size_t n;
    uint32_t id = ana_series_fanout(s, 0, &n)[1], v = 0;
    ck_assert_int_eq(ana_window_get(ana_series_window(s, id), 110, &v), SN_OK);
    ck_assert_uint_eq(v, 4);
    ana_series_destroy(&s);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_series_unknown_condition)
{
    ana_series_t *s = s_table();
    uint32_t leaf = 77;
    sn_err_t err;
    ck_assert_int_eq(
        ana_series_leaf(s, "plague", "110101", SN_SOURCE_LAB, "l", &leaf, &err),
        SN_ENOTFOUND);
    ck_assert_str_eq(err.msg,
                     "field 'condition': 'plague' is not in the catalogue");
    ck_assert_uint_eq(leaf, 77);
    ana_level_t lv;
    ck_assert_int_eq(ana_level_parse("prefecture", &lv), SN_OK);
    ck_assert_int_eq(lv, ANA_LEVEL_PREFECTURE);
    ck_assert_int_eq(ana_level_parse("city", &lv), SN_ENOTFOUND);
    ana_series_destroy(&s);
}
END_TEST

static Suite *
series_suite(void)
{
    Suite *s = suite_create("series");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_series_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 20);
    tcase_add_test(edges, test_series_rollup_shares_series);
    tcase_add_test(edges, test_series_weekly_totals);
    tcase_add_test(edges, test_series_state_round_trip);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_series_unknown_condition);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(series_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
