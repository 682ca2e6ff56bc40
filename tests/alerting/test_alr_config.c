/*  tests/alerting/test_alr_config.c - the alerting configuration file
 *
 *  Loads a complete file (sinks of every kind, API, CAP), checks the
 *  commented example deploy/alerting.yaml against the schema, and checks
 *  the refusals the schema table cannot express, with their lines.
 */
#include "fixture.h"

#include "alr_config.h"

static char *s_dir;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    free(ts_write_file(s_dir, "secret", "hmac-key\n"));
    free(ts_write_file(s_dir, "token", "tok\n"));
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

static int
s_parse(const char *body, alr_config_t **out, sn_err_t *err)
{
    char text[4096];
    snprintf(text, sizeof text, body, s_dir, s_dir, s_dir);
    return alr_config_parse(text, "alerting.yaml", out, err);
}

START_TEST(test_alr_config_full)
{
    alr_config_t *c = NULL;
    sn_err_t err;
    int rc = s_parse("alerting:\n"
                     "  store: %s/a.db\n"
                     "  quiet_days: 5\n"
                     "  clock: data\n"
                     "  cap: {sender: cdc.x, status: Actual}\n"
                     "  api: {listen: 127.0.0.1:0, token_file: %s/token}\n"
                     "  sinks:\n"
                     "    - {name: h, kind: webhook, url: http://x/,"
                     " format: cap, secret_file: %s/secret}\n"
                     "    - {name: m, kind: email, url: smtp://x,"
                     " from: a@b, to: [c@d, e@f]}\n"
                     "    - {name: l, kind: log, path: /tmp/x.jsonl}\n",
                     &c, &err);
    ck_assert_msg(rc == SN_OK, "%s", err.msg);
    ck_assert_int_eq(c->life.quiet_days, 5);
    ck_assert(c->data_clock);
    ck_assert_str_eq(c->life.cap.status, "Actual");
    ck_assert_str_eq(c->api_token, "tok");
    ck_assert_uint_eq(c->n_sinks, 3);
    ck_assert_uint_eq(c->life.n_sinks, 3);
    ck_assert_str_eq(c->life.sinks[1], "m");
    ck_assert_int_eq(c->sinks[0].format, ALR_FORMAT_CAP);
    ck_assert_str_eq(c->sinks[0].secret, "hmac-key");
    ck_assert_uint_eq(c->sinks[1].n_to, 2);
    ck_assert_str_eq(c->sinks[1].to[1], "e@f");
    ck_assert(!c->has_transport);
    alr_config_destroy(&c);
    alr_config_destroy(&c);
}
END_TEST

START_TEST(test_alr_config_example_is_valid)
{
    char *path = ts_source_path("deploy/alerting.yaml");
    sn_err_t err;
    sn_config_t *cfg = NULL;
    ck_assert_msg(sn_config_load(path, alr_config_schema, &cfg, &err) == SN_OK,
                  "%s", err.msg);
    sn_config_destroy(&cfg);
    free(path);
}
END_TEST

START_TEST(test_alr_config_refusals)
{
    alr_config_t *c = NULL;
    sn_err_t err;
    ck_assert_int_eq(s_parse("alerting:\n  store: x.db\n  sinks:\n"
                             "    - {name: h, kind: webhook}\n",
                             &c, &err),
                     SN_ECONFIG);
    ck_assert_str_eq(err.msg, "alerting.yaml:4: sink 'h' (webhook): missing "
                              "key 'url'");
    ck_assert_int_eq(s_parse("alerting:\n  store: x.db\n  sinks:\n"
                             "    - {name: a, kind: log, path: p}\n"
                             "    - {name: a, kind: log, path: q}\n",
                             &c, &err),
                     SN_ECONFIG);
    ck_assert_str_eq(err.msg, "alerting.yaml:5: sink name 'a' used twice");
    ck_assert_int_eq(s_parse("alerting:\n  store: x.db\n"
                             "  cap: {sender: 'a b'}\n",
                             &c, &err),
                     SN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "no spaces, commas"));
    ck_assert_int_eq(s_parse("alerting:\n  store: x.db\n  sinks:\n"
                             "    - {name: h, kind: webhook, url: u,"
                             " secret_file: /nonexistent/s}\n",
                             &c, &err),
                     SN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot read '/nonexistent/s'"));
    ck_assert_int_eq(
        s_parse("alerting:\n  store: x.db\n  quiet_days: 0\n", &c, &err),
        SN_ECONFIG);
    ck_assert_ptr_null(c);
}
END_TEST

static Suite *
alr_config_suite(void)
{
    Suite *s = suite_create("alr_config");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_alr_config_full);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_alr_config_example_is_valid);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_alr_config_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(alr_config_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
