/*  tests/common/test_config.c - YAML configuration against a schema
 *
 *  A schema shaped like a daemon's (a site id, a spool section, lists, a
 *  free-form mapping of detectors and the shared log section) is loaded from
 *  the fixture files in tests/common/configs/: a good file whose every value
 *  is read back through the typed getters, and broken files, each refused
 *  with its exact "file:line: reason".
 */
#include "sentinel/config.h"

#include "support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const s_fsync[] = {"always", "batch", "never", NULL};
static const char *const s_methods[] = {"ears", "cusum", NULL};

static const sn_cfg_schema_t s_spool[] = {
    {.key = "dir", .type = SN_CFG_STRING, .required = true},
    {.key = "fsync", .type = SN_CFG_ENUM, .choices = s_fsync},
    {.key = "max_bytes", .type = SN_CFG_INT, .min = 1, .max = 1073741824},
    {.key = NULL},
};

static const sn_cfg_schema_t s_publish[] = {
    {.key = "endpoint", .type = SN_CFG_STRING, .min = 1, .max = 256},
    {.key = "hwm", .type = SN_CFG_INT, .min = 1, .max = 1000000},
    {.key = "compress", .type = SN_CFG_BOOL},
    {.key = NULL},
};

static const sn_cfg_schema_t s_detector[] = {
    {.key = "method",
     .type = SN_CFG_ENUM,
     .required = true,
     .choices = s_methods},
    {.key = "threshold", .type = SN_CFG_FLOAT, .min = 0, .max = 100},
    {.key = NULL},
};

static const sn_cfg_schema_t s_source_item = {.type = SN_CFG_STRING};
static const sn_cfg_schema_t s_detector_item = {.type = SN_CFG_MAP,
                                                .fields = s_detector};

static const sn_cfg_schema_t s_root[] = {
    {.key = "site_id",
     .type = SN_CFG_STRING,
     .required = true,
     .min = 1,
     .max = 32},
    {.key = "spool", .type = SN_CFG_MAP, .required = true, .fields = s_spool},
    {.key = "publish", .type = SN_CFG_MAP, .fields = s_publish},
    {.key = "rate", .type = SN_CFG_FLOAT, .min = 0, .max = 1},
    {.key = "sources",
     .type = SN_CFG_LIST,
     .min = 1,
     .max = 16,
     .item = &s_source_item},
    {.key = "detectors", .type = SN_CFG_DICT, .item = &s_detector_item},
    SN_CFG_LOG_SECTION,
    {.key = NULL},
};

/* Run each test from the fixture folder, so messages carry bare names. */
static void
s_enter_fixtures(void)
{
    char *dir = ts_source_path("tests/common/configs");
    ck_assert_int_eq(chdir(dir), 0);
    free(dir);
}

START_TEST(test_config_usage)
{
    sn_config_t *cfg = NULL;
    sn_err_t err = {0};
    ck_assert_int_eq(sn_config_load("good.yaml", s_root, &cfg, &err), SN_OK);
    const sn_cfg_node_t *root = sn_config_root(cfg);
    ck_assert_str_eq(sn_config_file(cfg), "good.yaml");
    ck_assert_str_eq(sn_cfg_str(root, "site_id", NULL), "bj-h001");
    ck_assert_str_eq(sn_cfg_str(root, "spool.fsync", "always"), "batch");
    ck_assert_int_eq(sn_cfg_int(root, "spool.max_bytes", 0), 1048576);
    ck_assert_str_eq(sn_cfg_str(root, "publish.endpoint", NULL),
                     "tcp://127.0.0.1:5555");
    ck_assert(sn_cfg_bool(root, "publish.compress", false));
    ck_assert_double_eq(sn_cfg_float(root, "rate", 1.0), 0.25);
    ck_assert_double_eq(sn_cfg_float(root, "detectors.ili.threshold", 0), 2.5);
    /* Absent keys give the caller's default. */
    ck_assert_int_eq(sn_cfg_int(root, "publish.hwm_missing", 7), 7);
    ck_assert_double_eq(sn_cfg_float(root, "detectors.hfmd.threshold", 3), 3);
    ck_assert_str_eq(sn_cfg_str(root, "nowhere.at.all", "dflt"), "dflt");
    sn_config_destroy(&cfg);
    ck_assert_ptr_null(cfg);
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_config_walk_lists_and_dicts)
{
    sn_config_t *cfg = NULL;
    ck_assert_int_eq(sn_config_load("good.yaml", s_root, &cfg, NULL), SN_OK);
    const sn_cfg_node_t *root = sn_config_root(cfg);
    const sn_cfg_node_t *sources = sn_cfg_get(root, "sources");
    ck_assert_uint_eq(sn_cfg_size(sources), 3);
    ck_assert_str_eq(sn_cfg_text(sn_cfg_at(sources, 1)), "pharmacy");
    ck_assert_int_eq(sn_cfg_line(sn_cfg_at(sources, 1)), 14);
    ck_assert_ptr_null(sn_cfg_at(sources, 3));
    ck_assert_str_eq(sn_cfg_str(root, "sources.2", NULL), "lab");
    ck_assert_ptr_null(sn_cfg_get(root, "sources.3"));
    ck_assert_ptr_null(sn_cfg_get(root, "sources.x"));
    const sn_cfg_node_t *det = sn_cfg_get(root, "detectors");
    ck_assert_uint_eq(sn_cfg_size(det), 2);
    ck_assert_str_eq(sn_cfg_key(sn_cfg_at(det, 0)), "ili");
    ck_assert_str_eq(sn_cfg_key(sn_cfg_at(det, 1)), "hfmd");
    ck_assert_str_eq(sn_cfg_str(sn_cfg_at(det, 1), "method", NULL), "cusum");
    ck_assert_ptr_null(sn_cfg_text(det));
    ck_assert_uint_eq(sn_cfg_size(sn_cfg_get(root, "site_id")), 0);
    ck_assert_ptr_eq(sn_cfg_get(root, ""), root);
    ck_assert_int_eq(sn_cfg_line(sn_cfg_get(root, "detectors.hfmd")), 20);
    sn_err_t err = {0};
    ck_assert_int_eq(sn_cfg_error(cfg, sn_cfg_get(root, "detectors.hfmd"), &err,
                                  "detector '%s' needs a baseline", "hfmd"),
                     SN_ECONFIG);
    ck_assert_str_eq(err.msg, "good.yaml:20: detector 'hfmd' needs a baseline");
    sn_config_destroy(&cfg);
}
END_TEST

START_TEST(test_config_parse_from_text)
{
    const char *text = "site_id: 'x'\nspool: {dir: \"/tmp\", max_bytes: 5}\n"
                       "rate: 1\npublish:\n  compress: Off\n";
    sn_config_t *cfg = NULL;
    sn_err_t err = {0};
    ck_assert_int_eq(
        sn_config_parse(text, strlen(text), "inline", s_root, &cfg, &err),
        SN_OK);
    const sn_cfg_node_t *root = sn_config_root(cfg);
    ck_assert_int_eq(sn_cfg_int(root, "spool.max_bytes", 0), 5);
    ck_assert_double_eq(sn_cfg_float(root, "rate", 0), 1.0);
    ck_assert(!sn_cfg_bool(root, "publish.compress", true));
    /* A string that looks like a number reads as a number on request. */
    ck_assert_int_eq(sn_cfg_int(root, "site_id", -1), -1);
    sn_config_destroy(&cfg);
}
END_TEST

/* The broken fixtures and the exact message each gets. */
static const struct {
    const char *file;
    const char *msg;
} s_broken[] = {
    {"unknown_key.yaml",
     "unknown_key.yaml:4: unknown key 'fsnyc' in 'spool' (expected one of: "
     "dir, fsync, max_bytes)"},
    {"unknown_top.yaml",
     "unknown_top.yaml:2: unknown key 'spoool' at top level (expected one "
     "of: site_id, spool, publish, rate, sources, detectors, log)"},
    {"wrong_type.yaml", "wrong_type.yaml:4: key 'spool.max_bytes': expected "
                        "an integer, got 'lots'"},
    {"out_of_range.yaml", "out_of_range.yaml:4: key 'spool.max_bytes': 0 is "
                          "outside 1..1073741824"},
    {"bad_enum.yaml", "bad_enum.yaml:4: key 'spool.fsync': 'sometimes' is "
                      "not one of: always, batch, never"},
    {"missing_required.yaml",
     "missing_required.yaml:2: missing required key 'spool.dir'"},
    {"duplicate_key.yaml", "duplicate_key.yaml:5: duplicate key 'dir' in "
                           "'spool' (first at line 3)"},
    {"duplicate_in_list.yaml", "duplicate_in_list.yaml:6: duplicate key "
                               "'name' in 'rules[0]' (first at line 5)"},
    {"syntax_error.yaml", "syntax_error.yaml:4: YAML syntax error: did not "
                          "find expected key (while parsing a block mapping)"},
    {"tab_indent.yaml",
     "tab_indent.yaml:3: YAML syntax error: found character that cannot "
     "start any token (while scanning for the next token)"},
    {"anchor.yaml", "anchor.yaml:2: anchors are not supported (&base)"},
    {"alias.yaml", "alias.yaml:5: aliases are not supported (*nowhere)"},
    {"empty.yaml", "empty.yaml:1: empty file (expected a mapping of settings)"},
    {"comments_only.yaml",
     "comments_only.yaml:1: empty file (expected a mapping of settings)"},
    {"wrong_container.yaml", "wrong_container.yaml:2: key 'spool': expected "
                             "a mapping, got a list"},
    {"bad_bool.yaml", "bad_bool.yaml:5: key 'publish.compress': expected "
                      "true or false, got 'maybe'"},
    {"too_long.yaml", "too_long.yaml:1: key 'site_id': 47 characters long, "
                      "expected 1 to 32"},
    {"dict_item.yaml", "dict_item.yaml:6: key 'detectors.ili.method': "
                       "'farrington' is not one of: ears, cusum"},
    {"top_list.yaml", "top_list.yaml:1: expected a mapping at top level, "
                      "got a list"},
    {"two_documents.yaml",
     "two_documents.yaml:4: only one YAML document is allowed"},
    {"no_value.yaml", "no_value.yaml:3: key 'spool.dir': no value"},
    {"bad_log_level.yaml",
     "bad_log_level.yaml:5: key 'log.level': 'verbose' is not one of: "
     "debug, info, warn, error, off"},
    {"float_range.yaml", "float_range.yaml:4: key 'rate': 1.5 is outside "
                         "0..1"},
    {"empty_list.yaml", "empty_list.yaml:4: key 'sources': 0 items, "
                        "expected 1 to 16"},
};

START_TEST(test_config_broken_files)
{
    sn_config_t *cfg = NULL;
    sn_err_t err = {0};
    int rc = sn_config_load(s_broken[_i].file, s_root, &cfg, &err);
    ck_assert_int_eq(rc, SN_ECONFIG);
    ck_assert_int_eq(err.code, SN_ECONFIG);
    ck_assert_str_eq(err.msg, s_broken[_i].msg);
    ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_config_missing_file)
{
    sn_config_t *cfg = NULL;
    sn_err_t err = {0};
    ck_assert_int_eq(sn_config_load("absent.yaml", s_root, &cfg, &err), SN_EIO);
    ck_assert_str_eq(err.msg,
                     "absent.yaml: cannot open: No such file or directory");
    ck_assert_ptr_null(cfg);
}
END_TEST

START_TEST(test_config_hostile_text)
{
    /* Deep nesting, a NUL in a value and a complex key never crash. */
    char deep[400];
    size_t o = 0;
    for (int i = 0; i < 100; i++) {
        deep[o++] = '[';
    }
    deep[o] = '\0';
    sn_err_t err = {0};
    sn_config_t *cfg = NULL;
    ck_assert_int_eq(sn_config_parse(deep, o, "deep", s_root, &cfg, &err),
                     SN_ECONFIG);
    ck_assert_str_eq(err.msg, "deep:1: nested deeper than 32 levels");
    const char *nul = "site_id: \"a\\0b\"\n";
    ck_assert_int_eq(
        sn_config_parse(nul, strlen(nul), "nul", s_root, &cfg, &err),
        SN_ECONFIG);
    ck_assert_str_eq(err.msg, "nul:1: NUL character in a value");
    const char *complex = "? [a, b]\n: c\n";
    ck_assert_int_eq(
        sn_config_parse(complex, strlen(complex), "cx", s_root, &cfg, &err),
        SN_ECONFIG);
    ck_assert_str_eq(err.msg, "cx:1: keys must be plain text");
    ck_assert_ptr_null(cfg);
}
END_TEST

static Suite *
config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_enter_fixtures, NULL);
    tcase_set_timeout(usage, 10);
    tcase_add_test(usage, test_config_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_enter_fixtures, NULL);
    tcase_set_timeout(edges, 10);
    tcase_add_test(edges, test_config_walk_lists_and_dicts);
    tcase_add_test(edges, test_config_parse_from_text);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_enter_fixtures, NULL);
    tcase_set_timeout(errors, 10);
    tcase_add_loop_test(errors, test_config_broken_files, 0,
                        (int)(sizeof s_broken / sizeof s_broken[0]));
    tcase_add_test(errors, test_config_missing_file);
    tcase_add_test(errors, test_config_hostile_text);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(config_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
