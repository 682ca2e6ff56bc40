/*  tests/analyzer/test_query.c - list, series (weekly, roll-ups), alerts
 *
 *  Writes a small archive with the real writer (three series, two
 *  detectors, 20 days from Friday 2024-10-04, three alert events) and
 *  checks what the query module prints and loads: filters, ranges, ISO
 *  weeks cut by the range, prefecture and province sums, the three
 *  formats, --open, the corrections of a sealed and a recent day, and the
 *  exact error messages.
 */
#include "archive.h"
#include "archive_read.h"
#include "query.h"
#include "support.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY0 20000 /* 2024-10-04, a Friday */
#define NDAYS 20

static char *s_dir;
static char s_path[512];
static const char *const s_regions[] = {"440106", "440103", "450102"};
static const char *const s_key = "ILI/440106/fever_clinic/*";

/* Observed count of series `row` on day index `d`; day 5 of row 0 is
 * missing and raises no alarm. */
static double
s_obs(size_t row, int d)
{
    return (row == 0 && d == 5) ? NAN : (double)(row * 10 + (size_t)d);
}

static void
s_alert(ana_archive_t *a, const char *id, const char *state, int day)
{
    ana_archive_alert_t al = {.time = 1728000000000LL + day,
                              .day = DAY0 + day,
                              .id = id,
                              .rule = "single",
                              .level = day > 10 ? "yellow" : "blue",
                              .state = state,
                              .condition = "ILI",
                              .region = "440106",
                              .series = s_key,
                              .observed = 12,
                              .expected = 4.5,
                              .upperbound = 9,
                              .message = "cases, over \"bound\""};
    ck_assert_int_eq(ana_archive_alert(a, &al, NULL), SN_OK);
}

static void
s_write(void)
{
    static const char *const dets[] = {"ears-c2", "cusum"};
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = s_path;
    o.detectors = dets;
    o.n_detectors = 2;
    o.chunk_days = 8;
    ana_archive_t *a = NULL;
    ck_assert_int_eq(ana_archive_open(&o, &a, NULL), SN_OK);
    size_t rows[3];
    for (size_t i = 0; i < 3; i++) {
        ana_archive_key_t k = {"ILI", s_regions[i], "fever_clinic", NULL};
        ck_assert_int_eq(ana_archive_series(a, &k, &rows[i], NULL), SN_OK);
    }
    for (int d = 0; d < NDAYS; d++) {
        ana_archive_row_t r[3];
        sn_det_point_t p[6];
        for (size_t i = 0; i < 3; i++) {
            for (int k = 0; k < 2; k++) {
                p[2 * i + (size_t)k] = (sn_det_point_t){
                    .expected = 3,
                    .upperbound = 7.5,
                    .score = 0.25,
                    .alarm = d == 5 ? SN_DET_NA : (d % 7 == 3)};
            }
            r[i] = (ana_archive_row_t){rows[i], s_obs(i, d), &p[2 * i]};
        }
        ck_assert_int_eq(ana_archive_put_day(a, DAY0 + d, r, 3, NULL), SN_OK);
    }
    s_alert(a, "A1", "open", 3);
    s_alert(a, "A2", "open", 12);
    s_alert(a, "A1", "closed", 14);
    ana_archive_destroy(&a);
}

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    snprintf(s_path, sizeof s_path, "%s/archive.h5", s_dir);
    s_write();
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

static ana_archive_read_t *
s_reader(void)
{
    ana_archive_read_t *r = NULL;
    ck_assert_int_eq(ana_archive_read_open(s_path, &r, NULL), SN_OK);
    return r;
}

/* Run `call` printing to `out` in memory; buf gets the text (caller
 * frees). */
#define S_CAPTURE(buf, call)                                                   \
    do {                                                                       \
        size_t len_ = 0;                                                       \
        FILE *out = open_memstream(&(buf), &len_);                             \
        ck_assert_int_eq((call), SN_OK);                                       \
        fclose(out);                                                           \
    } while (0)

static ana_query_range_t
s_range(sn_day_t from, sn_day_t to)
{
    return (ana_query_range_t){from, to, false, ANA_QUERY_ROLLUP_NONE};
}

START_TEST(test_query_usage)
{
    ana_archive_read_t *r = s_reader();
    char *txt = NULL;
    ana_query_filter_t f = {.region = "4401"};
    S_CAPTURE(txt, ana_query_list(r, &f, ANA_QUERY_CSV, out, NULL));
    ck_assert_str_eq(txt,
                     "key,condition,region,source,site\n"
                     "ILI/440106/fever_clinic/*,ILI,440106,fever_clinic,*\n"
                     "ILI/440103/fever_clinic/*,ILI,440103,fever_clinic,*\n");
    free(txt);
    ana_query_range_t q = s_range(DAY0 + 4, DAY0 + 6);
    ana_query_series_t *s = NULL;
    ck_assert_int_eq(ana_query_series_load(r, s_key, &q, &s, NULL), SN_OK);
    ck_assert_uint_eq(ana_query_series_rows(s), 3);
    ck_assert_int_eq(ana_query_series_day(s, 0), DAY0 + 4);
    S_CAPTURE(txt, ana_query_series_print(s, ANA_QUERY_CSV, out, NULL));
    ck_assert_str_eq(
        txt, "date,observed,cusum.expected,cusum.upperbound,cusum.score,"
             "cusum.alarm,ears-c2.expected,ears-c2.upperbound,ears-c2.score,"
             "ears-c2.alarm\n"
             "2024-10-08,4,3,7.5,0.25,0,3,7.5,0.25,0\n"
             "2024-10-09,NA,3,7.5,0.25,NA,3,7.5,0.25,NA\n"
             "2024-10-10,6,3,7.5,0.25,0,3,7.5,0.25,0\n");
    free(txt);
    ana_query_series_destroy(&s);
    ck_assert_ptr_null(s);
    ana_archive_read_destroy(&r);
}
END_TEST

START_TEST(test_query_weekly_cut_weeks_and_alarm_counts)
{
    ana_archive_read_t *r = s_reader();
    ana_query_range_t q = s_range(ANA_QUERY_OPEN_FROM, DAY0 + 10);
    q.weekly = true;
    ana_query_series_t *s = NULL;
    ck_assert_int_eq(ana_query_series_load(r, s_key, &q, &s, NULL), SN_OK);
    char *txt = NULL;
    S_CAPTURE(txt, ana_query_series_print(s, ANA_QUERY_CSV, out, NULL));
    /* Fri-Sun 0+1+2; Mon-Sun 3+4+6+7+8+9 (5 missing); Mon 10. */
    ck_assert_str_eq(txt, "week,start,days,observed,cusum.alarms,"
                          "ears-c2.alarms\n"
                          "2024-W40,2024-10-04,3,3,0,0\n"
                          "2024-W41,2024-10-07,7,37,1,1\n"
                          "2024-W42,2024-10-14,1,10,1,1\n");
    free(txt);
    ana_query_series_destroy(&s);
    ana_archive_read_destroy(&r);
}
END_TEST

START_TEST(test_query_rollup_sums_one_level)
{
    ana_archive_read_t *r = s_reader();
    ana_query_range_t q = s_range(DAY0 + 5, DAY0 + 6);
    q.rollup = ANA_QUERY_ROLLUP_PREFECTURE;
    ana_query_series_t *s = NULL;
    char *txt = NULL;
    ck_assert_int_eq(ana_query_series_load(r, s_key, &q, &s, NULL), SN_OK);
    ck_assert_str_eq(ana_query_series_key(s), "ILI/4401/fever_clinic/*");
    ck_assert_uint_eq(ana_query_series_detector_count(s), 0);
    S_CAPTURE(txt, ana_query_series_print(s, ANA_QUERY_JSON, out, NULL));
    ck_assert_str_eq(txt, "{\"date\":\"2024-10-09\",\"observed\":15,"
                          "\"series\":1}\n"
                          "{\"date\":\"2024-10-10\",\"observed\":22,"
                          "\"series\":2}\n");
    free(txt);
    ana_query_series_destroy(&s);
    q.rollup = ANA_QUERY_ROLLUP_PROVINCE;
    ck_assert_int_eq(
        ana_query_series_load(r, "ILI/450102/fever_clinic/*", &q, &s, NULL),
        SN_OK);
    ck_assert_str_eq(ana_query_series_key(s), "ILI/45/fever_clinic/*");
    ck_assert_double_eq(ana_query_series_value(s, 0, 1), 26);
    ana_query_series_destroy(&s);
    ana_archive_read_destroy(&r);
}
END_TEST

START_TEST(test_query_alerts_open_and_formats)
{
    ana_archive_read_t *r = s_reader();
    ana_query_alert_filter_t f = {.open_only = true, .since = INT32_MIN};
    char *txt = NULL;
    S_CAPTURE(txt, ana_query_alerts(r, &f, ANA_QUERY_CSV, out, NULL));
    ck_assert_str_eq(txt, "time,day,id,rule,level,state,condition,region,"
                          "series,observed,expected,upperbound,message\n"
                          "2024-10-04T00:00:00.012Z,2024-10-16,A2,single,"
                          "yellow,open,ILI,440106,ILI/440106/fever_clinic/*,"
                          "12,4.5,9,\"cases, over \"\"bound\"\"\"\n");
    free(txt);
    f = (ana_query_alert_filter_t){.since = DAY0 + 4, .level = "yellow"};
    S_CAPTURE(txt, ana_query_alerts(r, &f, ANA_QUERY_JSON, out, NULL));
    ck_assert_ptr_nonnull(strstr(txt, "\"id\":\"A2\""));
    ck_assert_ptr_nonnull(strstr(txt, "\"message\":\"cases, over \\\"bound"));
    ck_assert_ptr_nonnull(strstr(txt, "\"state\":\"closed\""));
    ck_assert_ptr_null(strstr(txt, "\"day\":\"2024-10-07\""));
    ck_assert_ptr_eq(strchr(strchr(txt, '\n') + 1, '\n'),
                     txt + strlen(txt) - 1);
    free(txt);
    ana_archive_read_destroy(&r);
}
END_TEST

/* Correct a sealed day (2) of 440103 and a recent one (18) of 450102. */
static void
s_correct(void)
{
    static const char *const dets[] = {"ears-c2", "cusum"};
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    o.path = s_path;
    o.detectors = dets;
    o.n_detectors = 2;
    o.chunk_days = 8;
    ana_archive_t *a = NULL;
    ck_assert_int_eq(ana_archive_open(&o, &a, NULL), SN_OK);
    ana_archive_row_t r = {1, 99, NULL};
    ck_assert_int_eq(
        ana_archive_correct_day(a, DAY0 + 2, &r, 1, 1728000000000LL, NULL),
        SN_OK);
    r = (ana_archive_row_t){2, 5, NULL};
    ck_assert_int_eq(
        ana_archive_correct_day(a, DAY0 + 18, &r, 1, 1728000001000LL, NULL),
        SN_OK);
    ana_archive_destroy(&a);
}

START_TEST(test_query_corrections_listed_and_applied)
{
    s_correct();
    ana_archive_read_t *r = s_reader();
    ana_query_fix_filter_t f = {NULL, INT32_MIN};
    char *txt = NULL;
    S_CAPTURE(txt, ana_query_corrections(r, &f, ANA_QUERY_CSV, out, NULL));
    ck_assert_str_eq(txt, "time,day,series,previous,observed,where\n"
                          "2024-10-04T00:00:00.000Z,2024-10-06,"
                          "ILI/440103/fever_clinic/*,12,99,sealed\n"
                          "2024-10-04T00:00:01.000Z,2024-10-22,"
                          "ILI/450102/fever_clinic/*,38,5,recent\n");
    free(txt);
    f = (ana_query_fix_filter_t){"ILI/450102/fever_clinic/*", DAY0 + 10};
    S_CAPTURE(txt, ana_query_corrections(r, &f, ANA_QUERY_JSON, out, NULL));
    ck_assert_ptr_nonnull(strstr(txt, "\"observed\":5,\"where\":\"recent\""));
    ck_assert_ptr_null(strstr(txt, "440103"));
    free(txt);
    ana_query_series_t *t = NULL;
    ana_query_range_t rg = s_range(DAY0 + 2, DAY0 + 2);
    ck_assert_int_eq(
        ana_query_series_load(r, "ILI/440103/fever_clinic/*", &rg, &t, NULL),
        SN_OK);
    ck_assert_double_eq(ana_query_series_value(t, 0, 0), 99);
    ana_query_series_destroy(&t);
    ana_archive_read_destroy(&r);
}
END_TEST

START_TEST(test_query_errors_name_the_reason)
{
    ana_archive_read_t *r = s_reader();
    ana_query_series_t *s = NULL;
    sn_err_t err;
    ana_query_range_t q = s_range(ANA_QUERY_OPEN_FROM, ANA_QUERY_OPEN_TO);
    ck_assert_int_eq(ana_query_series_load(r, "ILI/9/x/*", &q, &s, &err),
                     SN_ENOTFOUND);
    ck_assert_str_eq(err.msg + strlen(s_path),
                     ": unknown series key 'ILI/9/x/*'");
    q = s_range(DAY0 + 30, DAY0 + 40);
    ck_assert_int_eq(ana_query_series_load(r, s_key, &q, &s, &err), SN_ENODATA);
    ck_assert_str_eq(err.msg, "ILI/440106/fever_clinic/*: no days between "
                              "2024-11-03 and 2024-11-13 (the archive holds "
                              "2024-10-04 to 2024-10-23)");
    ana_query_format_t fmt;
    ck_assert_int_eq(ana_query_format_parse("xml", &fmt, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "--format: 'xml' is not csv, json or table");
    ana_query_rollup_t lvl;
    ck_assert_int_eq(ana_query_rollup_parse("county", &lvl, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "--rollup: 'county' is not prefecture or "
                              "province");
    ck_assert_ptr_null(s);
    ana_archive_read_destroy(&r);
}
END_TEST

static Suite *
query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_query_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 60);
    tcase_add_test(edges, test_query_weekly_cut_weeks_and_alarm_counts);
    tcase_add_test(edges, test_query_rollup_sums_one_level);
    tcase_add_test(edges, test_query_alerts_open_and_formats);
    tcase_add_test(edges, test_query_corrections_listed_and_applied);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_query_errors_name_the_reason);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(query_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
