/*  tests/e2e/test_query_cli.c - the real `sentinel query` on a real archive
 *
 *  Writes an archive with the writer (archive_fixture.h: two series of 40
 *  days, two detectors, one alert), then runs bin/sentinel: list, series
 *  and alerts in every format, --weekly, --rollup, --plot (a PNG with the
 *  PNG signature, an SVG), and the errors with their exact messages and
 *  exit codes: unknown key, empty range, not a Sentinel archive, a newer
 *  schema version, a bad flag.
 */
#include "archive_fixture.h"
#include "support.h"

#include <check.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY "ILI/440106/fever_clinic/*"

static char *s_dir;
static char s_path[512];
static const char *const s_regions[] = {"440106", "440103"};

static void
s_setup(void)
{
    /* Under the sanitizers, fontconfig's process-lifetime configuration is
     * not a leak of ours (--plot); nothing else is suppressed. */
    char *supp = ts_source_path("tests/e2e/lsan_fontconfig.supp");
    char opt[1200];
    snprintf(opt, sizeof opt, "suppressions=%s:print_suppressions=0", supp);
    setenv("LSAN_OPTIONS", opt, 1);
    free(supp);
    s_dir = ts_tmpdir();
    snprintf(s_path, sizeof s_path, "%s/archive.h5", s_dir);
    af_write(s_path, s_regions, 2, 40);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

/* Run `sentinel query -a ARCHIVE args…` (NULL-terminated). */
static ts_run_t
s_query(const char *archive, ...)
{
    char *argv[32] = {(char *)ts_sentinel_bin(), "query", "-a",
                      (char *)archive};
    int n = 4;
    va_list ap;
    va_start(ap, archive);
    for (char *a = va_arg(ap, char *); a != NULL && n < 31;
         a = va_arg(ap, char *)) {
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    return ts_run(argv, NULL, 60);
}

static void
s_expect(ts_run_t r, int status, const char *out, const char *err)
{
    ck_assert_msg(r.status == status, "exit %d, wanted %d: %s", r.status,
                  status, r.err);
    if (out != NULL) {
        ck_assert_str_eq(r.out, out);
    }
    if (err != NULL) {
        ck_assert_str_eq(r.err, err);
    }
    ts_run_free(&r);
}

START_TEST(test_query_cli_usage)
{
    s_expect(s_query(s_path, "list", NULL), 0,
             "key,condition,region,source,site\n"
             "ILI/440106/fever_clinic/*,ILI,440106,fever_clinic,*\n"
             "ILI/440103/fever_clinic/*,ILI,440103,fever_clinic,*\n",
             "");
    s_expect(
        s_query(s_path, "list", "--region", "440103", "--format", "json", NULL),
        0,
        "{\"key\":\"ILI/440103/fever_clinic/*\",\"condition\":\"ILI\","
        "\"region\":\"440103\",\"source\":\"fever_clinic\","
        "\"site\":\"*\"}\n",
        "");
    s_expect(s_query(s_path, "series", KEY, "--from", "2024-10-09", "--to",
                     "2024-10-10", "--format", "table", NULL),
             0,
             "date        observed  cusum.expected  cusum.upperbound  "
             "cusum.score  cusum.alarm  ears-c2.expected  ears-c2.upperbound"
             "  ears-c2.score  ears-c2.alarm\n"
             "2024-10-09        NA               3               7.5         "
             "0.25           NA                 3                 7.5        "
             "   0.25             NA\n"
             "2024-10-10         6               3               7.5         "
             "0.25            0                 3                 7.5        "
             "   0.25              0\n",
             "");
    s_expect(s_query(s_path, "series", KEY, "--from", "2024-11-12", "--format",
                     "json", NULL),
             0,
             "{\"date\":\"2024-11-12\",\"observed\":39,\"cusum.expected\":3,"
             "\"cusum.upperbound\":7.5,\"cusum.score\":0.25,\"cusum.alarm\":0,"
             "\"ears-c2.expected\":3,\"ears-c2.upperbound\":7.5,"
             "\"ears-c2.score\":0.25,\"ears-c2.alarm\":0}\n",
             "");
}
END_TEST

START_TEST(test_query_cli_alerts_every_format)
{
    s_expect(s_query(s_path, "alerts", NULL), 0,
             "time,day,id,rule,level,state,condition,region,series,observed,"
             "expected,upperbound,message\n"
             "2024-10-07T00:00:00.000Z,2024-10-07,A1,single,blue,open,ILI,"
             "440106,ILI/440106/fever_clinic/*,3,3,7.5,over the bound\n",
             "");
    s_expect(s_query(s_path, "alerts", "--open", "--format", "json", NULL), 0,
             "{\"time\":\"2024-10-07T00:00:00.000Z\",\"day\":\"2024-10-07\","
             "\"id\":\"A1\",\"rule\":\"single\",\"level\":\"blue\","
             "\"state\":\"open\",\"condition\":\"ILI\",\"region\":\"440106\","
             "\"series\":\"ILI/440106/fever_clinic/*\",\"observed\":3,"
             "\"expected\":3,\"upperbound\":7.5,"
             "\"message\":\"over the bound\"}\n",
             "");
    ts_run_t r = s_query(s_path, "alerts", "--format", "table", NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "A1  single  blue   open"));
    ts_run_free(&r);
    s_expect(s_query(s_path, "alerts", "--level", "red", NULL), 0,
             "time,day,id,rule,level,state,condition,region,series,observed,"
             "expected,upperbound,message\n",
             "");
    s_expect(s_query(s_path, "alerts", "--since", "2024-10-08", "--format",
                     "json", NULL),
             0, "", "");
}
END_TEST

START_TEST(test_query_cli_weekly_and_rollup)
{
    s_expect(
        s_query(s_path, "series", KEY, "--weekly", "--to", "2024-10-14", NULL),
        0,
        "week,start,days,observed,cusum.alarms,ears-c2.alarms\n"
        "2024-W40,2024-10-04,3,3,0,0\n"
        "2024-W41,2024-10-07,7,37,1,1\n"
        "2024-W42,2024-10-14,1,10,1,1\n",
        "");
    s_expect(s_query(s_path, "series", KEY, "--rollup", "prefecture", "--from",
                     "2024-10-09", "--to", "2024-10-10", NULL),
             0,
             "date,observed,series\n"
             "2024-10-09,105,1\n"
             "2024-10-10,112,2\n",
             "");
    s_expect(s_query(s_path, "series", KEY, "--rollup", "province", "--weekly",
                     "--to", "2024-10-06", "--format", "json", NULL),
             0,
             "{\"week\":\"2024-W40\",\"start\":\"2024-10-04\",\"days\":3,"
             "\"observed\":306,\"series\":2}\n",
             "");
}
END_TEST

START_TEST(test_query_cli_plot_writes_pictures)
{
    char png[600], svg[600];
    snprintf(png, sizeof png, "%s/ili.png", s_dir);
    snprintf(svg, sizeof svg, "%s/ili.svg", s_dir);
    s_expect(s_query(s_path, "series", KEY, "--plot", png, "--detector",
                     "ears-c2", NULL),
             0, "", "");
    size_t len = 0;
    char *data = ts_read_file(png, &len);
    ck_assert_ptr_nonnull(data);
    ck_assert_uint_gt(len, 1000);
    ck_assert_mem_eq(data, "\x89PNG\r\n\x1a\n", 8);
    free(data);
    s_expect(s_query(s_path, "series", KEY, "--weekly", "--plot", svg, NULL), 0,
             "", "");
    data = ts_read_file(svg, &len);
    ck_assert_ptr_nonnull(data);
    ck_assert_ptr_nonnull(strstr(data, "<svg"));
    free(data);
}
END_TEST

START_TEST(test_query_cli_errors)
{
    char want[1200];
    snprintf(want, sizeof want,
             "sentinel query: %s: unknown series key 'ILI/1/x/*'\n", s_path);
    s_expect(s_query(s_path, "series", "ILI/1/x/*", NULL), 1, "", want);
    s_expect(s_query(s_path, "series", KEY, "--from", "2025-01-01", NULL), 1,
             "",
             "sentinel query: " KEY ": no days between 2025-01-01 and "
             "2024-11-12 (the archive holds 2024-10-04 to 2024-11-12)\n");
    char *txt = ts_write_file(s_dir, "notes.h5", "not hdf5\n");
    snprintf(want, sizeof want,
             "sentinel query: %s: not a Sentinel archive (not an HDF5 file)\n",
             txt);
    s_expect(s_query(txt, "list", NULL), 1, "", want);
    free(txt);
    s_expect(s_query(s_path, "series", KEY, "--plot", "x.gif", NULL), 1, "",
             "sentinel query: --plot: 'x.gif': give a .png, .svg or .pdf "
             "file\n");
    s_expect(s_query(s_path, "lsit", NULL), 2, "", NULL);
    s_expect(s_query(s_path, "list", "--format", "xml", NULL), 2, "", NULL);
}
END_TEST

START_TEST(test_query_cli_refuses_newer_schema)
{
    hid_t f = H5Fopen(s_path, H5F_ACC_RDWR, H5P_DEFAULT);
    ck_assert_int_ge(f, 0);
    hid_t at = H5Aopen(f, "sentinel_schema_version", H5P_DEFAULT);
    int v = 2;
    ck_assert_int_ge(H5Awrite(at, H5T_NATIVE_INT, &v), 0);
    H5Aclose(at);
    H5Fclose(f);
    char want[1200];
    snprintf(want, sizeof want,
             "sentinel query: %s: schema version 2 is newer than this build "
             "reads (1): upgrade Sentinel\n",
             s_path);
    s_expect(s_query(s_path, "list", NULL), 1, "", want);
}
END_TEST

static Suite *
query_cli_suite(void)
{
    Suite *s = suite_create("query_cli");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_query_cli_usage);
    tcase_add_test(usage, test_query_cli_alerts_every_format);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_query_cli_weekly_and_rollup);
    tcase_add_test(edges, test_query_cli_plot_writes_pictures);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_query_cli_errors);
    tcase_add_test(errors, test_query_cli_refuses_newer_schema);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(query_cli_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
