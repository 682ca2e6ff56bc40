/*  tests/alerting/test_report.c - response times and outcomes per group
 *
 *  Raises alerts of two levels and rules, acknowledges and verifies them at
 *  known times, and checks the counts, medians and shares of the report.
 */
#include "fixture.h"

#include "report.h"

#include <math.h>

#define MIN 60000LL
#define HOUR (60 * MIN)
#define T0 1764000000000LL

static char *s_dir;
static alr_store_t *s_store;
static alr_lifecycle_t *s_life;
static alr_lifecycle_opts_t s_opts;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
    s_opts = fx_opts();
    s_life = alr_lifecycle_new(s_store, &s_opts);
}

static void
s_teardown(void)
{
    fx_check_store_caps(s_dir, s_store);
    alr_lifecycle_destroy(&s_life);
    alr_store_destroy(&s_store);
    ts_rmtree(s_dir);
    free(s_dir);
}

/* Raise an alert in `region` at T0 and respond after the given delays
 * (negative: never). */
static void
s_alert(sn_level_t level, const char *rule, const char *region,
        int64_t ack_after, int64_t verify_after, alr_outcome_t outcome)
{
    const fx_row_t rows[] = {{"lab", "2026-11-20", 4}};
    sn_alert_t *a = fx_alert(level, "2026-11-20", rows, 1);
    strcpy(a->rule, rule);
    strcpy(a->region, region);
    int64_t id = 0;
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, T0, &id, NULL), SN_OK);
    sn_alert_destroy(&a);
    if (ack_after >= 0) {
        ck_assert_int_eq(
            alr_lifecycle_ack(s_life, id, "li", NULL, T0 + ack_after, NULL),
            SN_OK);
    }
    if (verify_after >= 0) {
        ck_assert_int_eq(alr_lifecycle_verify(s_life, id, outcome, 0, "li",
                                              NULL, T0 + verify_after, NULL),
                         SN_OK);
    }
}

START_TEST(test_report_groups_and_figures)
{
    s_alert(SN_LEVEL_BLUE, "single", "110101", 30 * MIN, 5 * HOUR,
            ALR_OUTCOME_DISCARDED);
    s_alert(SN_LEVEL_BLUE, "single", "110102", 90 * MIN, 30 * HOUR,
            ALR_OUTCOME_CONFIRMED);
    s_alert(SN_LEVEL_BLUE, "single", "110103", 3 * HOUR, -1, 0);
    s_alert(SN_LEVEL_RED, "class-a", "110104", 10 * MIN, 1 * HOUR,
            ALR_OUTCOME_CONFIRMED);
    alr_report_row_t *rows = NULL;
    size_t n = 0;
    ck_assert_int_eq(alr_report_build(s_store, 0, &rows, &n, NULL), SN_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(rows[0].level, SN_LEVEL_RED); /* red first */
    ck_assert_uint_eq(rows[0].count, 1);
    ck_assert(rows[0].median_ack_ms == 10 * MIN);
    const alr_report_row_t *b = &rows[1];
    ck_assert_str_eq(b->rule, "single");
    ck_assert_uint_eq(b->count, 3);
    ck_assert_uint_eq(b->acked, 3);
    ck_assert_uint_eq(b->acked_2h, 2);
    ck_assert(b->median_ack_ms == 90 * MIN);
    ck_assert_uint_eq(b->verified, 2);
    ck_assert_uint_eq(b->verified_24h, 1);
    ck_assert(b->median_verify_ms == (5 * HOUR + 30 * HOUR) / 2.0);
    ck_assert_uint_eq(b->confirmed, 1);
    char *json = alr_report_json(rows, n);
    ck_assert_ptr_nonnull(strstr(json, "\"share_ack_2h\":0.66666"));
    free(json);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    alr_report_print(f, rows, n);
    fclose(f);
    ck_assert_ptr_nonnull(
        strstr(text, "blue    single                    3      1h30m     "
                     "17h30m      67%       33%        33%"));
    free(text);
    free(rows);
}
END_TEST

START_TEST(test_report_since_and_empty)
{
    s_alert(SN_LEVEL_BLUE, "single", "110101", -1, -1, 0);
    alr_report_row_t *rows = NULL;
    size_t n = 0;
    ck_assert_int_eq(alr_report_build(s_store, T0 + 1, &rows, &n, NULL), SN_OK);
    ck_assert_uint_eq(n, 0);
    free(rows);
    ck_assert_int_eq(alr_report_build(s_store, T0, &rows, &n, NULL), SN_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(isnan(rows[0].median_ack_ms));
    char *json = alr_report_json(rows, n);
    ck_assert_ptr_nonnull(strstr(json, "\"median_ack_ms\":null"));
    free(json);
    free(rows);
}
END_TEST

START_TEST(test_report_database_error)
{
    alr_store_destroy(&s_store);
    char *path = ts_write_file(s_dir, "alerts.db",
                               "garbage garbage garbage "
                               "garbage garbage garbage");
    sn_err_t err;
    ck_assert_int_eq(alr_store_open(path, &s_store, &err), SN_EDB);
    ck_assert_ptr_nonnull(strstr(err.msg, "alerts.db"));
    free(path);
}
END_TEST

static Suite *
report_suite(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_report_groups_and_figures);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_report_since_and_empty);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_report_database_error);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(report_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
