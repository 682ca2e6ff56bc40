/*  tests/e2e/test_cli.c - the sentinel executable's commands and exit codes
 *
 *  Runs the real binary: every subcommand answers --help with exit 0, an
 *  unknown subcommand or flag exits 2 with a one-line reason.
 */
#include "support.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *const s_commands[] = {
    "collect", "analyze", "detect", "query",   "alerts",
    "simulate", "demo",   "keygen", "version", NULL};

START_TEST(test_cli_usage)
{
    ts_run_t r = ts_sentinel(NULL, 10, "--help", NULL);
    ck_assert_int_eq(r.status, 0);
    for (int i = 0; s_commands[i] != NULL; i++) {
        ck_assert_msg(strstr(r.out, s_commands[i]) != NULL,
                      "--help does not list %s", s_commands[i]);
    }
    ts_run_free(&r);
}
END_TEST

START_TEST(test_cli_every_command_has_help)
{
    for (int i = 0; s_commands[i] != NULL; i++) {
        ts_run_t r = ts_sentinel(NULL, 10, s_commands[i], "--help", NULL);
        ck_assert_msg(r.status == 0, "%s --help exited %d", s_commands[i],
                      r.status);
        ck_assert_msg(strstr(r.out, "usage: sentinel ") != NULL,
                      "%s --help prints no usage", s_commands[i]);
        ts_run_free(&r);
    }
}
END_TEST

START_TEST(test_cli_unknown_command_exits_2)
{
    ts_run_t r = ts_sentinel(NULL, 10, "frobnicate", NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.err, "sentinel: unknown command 'frobnicate'\n"
                            "Try 'sentinel --help'.\n");
    ts_run_free(&r);
    r = ts_sentinel(NULL, 10, NULL);
    ck_assert_int_eq(r.status, 2);
    ts_run_free(&r);
}
END_TEST

START_TEST(test_cli_bad_flag_exits_2)
{
    for (int i = 0; s_commands[i] != NULL; i++) {
        ts_run_t r = ts_sentinel(NULL, 10, s_commands[i], "--no-such-flag",
                                 NULL);
        ck_assert_msg(r.status == 2, "%s --no-such-flag exited %d",
                      s_commands[i], r.status);
        ck_assert_msg(strstr(r.err, "sentinel ") == r.err,
                      "%s: message does not start with the command: %s",
                      s_commands[i], r.err);
        ts_run_free(&r);
    }
}
END_TEST

static Suite *
cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_cli_usage);
    tcase_add_test(usage, test_cli_every_command_has_help);
    suite_add_tcase(s, usage);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_cli_unknown_command_exits_2);
    tcase_add_test(errors, test_cli_bad_flag_exits_2);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
