/*  tests/collectors/test_col_config.c - collector.yaml: schema and builders
 *
 *  The commented example in deploy/ loads and builds working feeds; the
 *  builders honour each option; mistakes (a name column in the CSV
 *  mapping, a missing site id, an empty rule) are refused with file:line.
 */
#include "col_config.h"
#include "feed_hl7.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* The sections every file needs besides the one a test is about. */
#define T_BASE                                                                 \
    "site: {id: S1, region: \"110105\"}\n"                                     \
    "dead_letter: {path: /nonexistent/dead.jsonl}\n"                           \
    "spool: {dir: /tmp/spool}\n"                                               \
    "transport: {endpoint: \"ipc:///tmp/x\"}\n"

static sn_config_t *
s_parse(const char *text, sn_err_t *err)
{
    sn_config_t *cfg = NULL;
    int rc = sn_config_parse(text, strlen(text), "collector.yaml",
                             col_config_schema, &cfg, err);
    return rc == SN_OK ? cfg : NULL;
}

START_TEST(test_col_config_usage)
{
    char *path = ts_source_path("deploy/collector.yaml");
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_msg(sn_config_load(path, col_config_schema, &cfg, &err) == SN_OK,
                  "%s", err.msg);
    col_site_t site;
    ck_assert_int_eq(col_config_site(cfg, &site, &err), SN_OK);
    ck_assert_str_eq(site.site_id, "BJ-CY-H01");
    ck_assert_int_eq(site.source, SN_SOURCE_HOSPITAL);
    /* The example's CSV mapping reads the example's export. */
    col_feed_t *csv = col_feed_from_config(cfg, COL_FEED_CSV, "x.csv", &err);
    ck_assert_ptr_nonnull(csv);
    const char *rows = "Case No,Name,Diagnosis,Onset,Reported,Sex,Age\n"
                       "7,Li Si,J11.1,01/11/2026,02/11/2026 09:30,F,40\n";
    col_feed_push(csv, rows, strlen(rows));
    col_record_t rec;
    ck_assert_int_eq(col_feed_next(csv, &rec), COL_FEED_EVENT);
    ck_assert_str_eq(rec.event.condition, "influenza");
    ck_assert_str_eq(rec.event.site_id, "BJ-CY-H01");
    ck_assert_int_eq(rec.event.report_time,
                     (sn_day_from_ymd(2026, 11, 2) * 86400LL + 3600 + 1800) *
                         1000);
    col_feed_destroy(&csv);
    /* The site rule beats the catalogue; E and O classes only. */
    col_cmap_t *cmap = NULL;
    ck_assert_int_eq(col_config_cmap(cfg, &cmap, &err), SN_OK);
    ck_assert_str_eq(col_cmap_match(cmap, NULL, 0, "Fever, joint pain"),
                     "dengue");
    col_cmap_destroy(&cmap);
    col_feed_t *hl7 = col_feed_from_config(cfg, COL_FEED_HL7, "mllp", &err);
    ck_assert_int_eq(col_feed_kind(hl7), COL_FEED_HL7);
    col_feed_destroy(&hl7);
    col_feed_t *json = col_feed_from_config(cfg, COL_FEED_JSON, "-", &err);
    ck_assert_int_eq(col_feed_kind(json), COL_FEED_JSON);
    col_feed_destroy(&json);
    sn_config_destroy(&cfg);
    free(path);
}
END_TEST

START_TEST(test_col_config_minimal)
{
    sn_err_t err;
    char *dir = ts_tmpdir();
    char *text = sn_strdup_printf(
        "site: {id: S1, region: \"110105\", source: pharmacy}\n"
        "dead_letter: {path: \"%s/dead.jsonl\", fsync: never}\n"
        "spool: {dir: /tmp/spool}\n"
        "transport: {endpoint: \"ipc:///tmp/x\"}\n"
        "inputs: {hl7: {catalogue: none, rules: [{condition: x, "
        "keywords: [cough]}]}}\n",
        dir);
    sn_config_t *cfg = s_parse(text, &err);
    ck_assert_msg(cfg != NULL, "%s", err.msg);
    col_site_t site;
    col_config_site(cfg, &site, &err);
    ck_assert_int_eq(site.source, SN_SOURCE_PHARMACY);
    col_cmap_t *cmap = NULL;
    ck_assert_int_eq(col_config_cmap(cfg, &cmap, &err), SN_OK);
    ck_assert_str_eq(col_cmap_match(cmap, NULL, 0, "COUGH"), "x");
    ck_assert_ptr_null(col_cmap_find(cmap, "cholera"));
    col_cmap_destroy(&cmap);
    col_deadletter_t *dl = col_deadletter_from_config(cfg, &err);
    ck_assert_ptr_nonnull(dl);
    col_deadletter_destroy(&dl);
    /* CSV needs its mapping. */
    ck_assert_ptr_null(col_feed_from_config(cfg, COL_FEED_CSV, "a.csv", &err));
    ck_assert_str_eq(err.msg, "collector.yaml: CSV input needs an inputs.csv "
                              "section with columns");
    sn_config_destroy(&cfg);
    ts_rmtree(dir);
    free(dir);
    free(text);
}
END_TEST

/* Parsing `extra` after the base sections fails with `msg`. */
static void
s_refused(const char *extra, const char *msg)
{
    char *text = sn_strdup_printf("%s%s", T_BASE, extra);
    sn_err_t err;
    sn_config_t *cfg = s_parse(text, &err);
    if (cfg) {
        col_feed_t *f = col_feed_from_config(cfg, COL_FEED_HL7, "x", &err);
        ck_assert_ptr_null(f);
        sn_config_destroy(&cfg);
    }
    ck_assert_int_eq(err.code, SN_ECONFIG);
    ck_assert_msg(strstr(err.msg, msg) != NULL, "got: %s", err.msg);
    free(text);
}

START_TEST(test_col_config_refused)
{
    s_refused("inputs: {csv: {columns: {name: Name}}}\n",
              "collector.yaml:5: unknown key 'name' in 'inputs.csv.columns'");
    s_refused("inputs: {csv: {delimiter: \";;\", columns: {}}}\n",
              "key 'inputs.csv.delimiter': 2 characters long");
    s_refused("inputs: {hl7: {event_id: md5}}\n",
              "key 'inputs.hl7.event_id': 'md5' is not one of: hash, plain");
    s_refused("inputs:\n  hl7:\n    rules:\n      - condition: x\n",
              "collector.yaml:8: inputs.hl7.rules[0]: rule for 'x': no icd10 "
              "prefix and no keyword");
    sn_err_t err;
    ck_assert_ptr_null(s_parse("site: {region: \"1\"}\n", &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "missing required key 'site.id'"));
}
END_TEST

static Suite *
col_config_suite(void)
{
    Suite *s = suite_create("col_config");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 10);
    tcase_add_test(usage, test_col_config_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 10);
    tcase_add_test(edges, test_col_config_minimal);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 10);
    tcase_add_test(errors, test_col_config_refused);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(col_config_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
