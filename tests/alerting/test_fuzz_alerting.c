/*  tests/alerting/test_fuzz_alerting.c - replay the HTTP API's fuzz inputs
 *
 *  The libFuzzer target of the alerting HTTP API (tests/fuzz/
 *  fuzz_http_api.c: a real API on a loopback port over a real store, one
 *  request per input) is compiled into this suite without libFuzzer, and
 *  every seed (tests/fuzz/corpus/http_api/) and every input that once
 *  broke it (tests/fuzz/regressions/http_api/) is sent again: each must be
 *  answered, never with a 5xx, and never with a 2xx without the token.
 */
#include "fuzz.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_fuzz_alerting_seeds)
{
    ck_assert_int_ge(fuzz_replay("corpus", "http_api", fuzz_http_api), 6);
}
END_TEST

START_TEST(test_fuzz_alerting_regressions)
{
    /* The folder appears with the first crash found; none so far. */
    ck_assert_int_ge(fuzz_replay("regressions", "http_api", fuzz_http_api), -1);
}
END_TEST

/* Hostile requests written by hand: bad ids, bodies, methods, no token. */
START_TEST(test_fuzz_alerting_hostile)
{
    static const char *const texts[] = {
        "\001POST /alerts/1/ack\n{\"by\":\"mallory\"}",
        "\002GET /alerts/1\n",
        "\000POST /alerts/1/ack\n{\"by\":",
        "\000POST /alerts/1/verify\n{\"by\":\"x\",\"outcome\":\"maybe\"}",
        "\000GET /alerts/99999999999999999999999\n",
        "\000GET /alerts?limit=-1\n",
        "\000DELETE /alerts/1\n",
        "\000GET /../../etc/passwd\n",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = 1 + strlen(texts[t] + 1);
        uint8_t *exact = malloc(len);
        memcpy(exact, texts[t], len);
        ck_assert_int_eq(fuzz_http_api(exact, len), 0);
        free(exact);
    }
}
END_TEST

static Suite *
fuzz_alerting_suite(void)
{
    Suite *s = suite_create("fuzz_alerting");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_fuzz_alerting_seeds);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_fuzz_alerting_regressions);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_fuzz_alerting_hostile);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fuzz_alerting_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
