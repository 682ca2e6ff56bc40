/*  tests/collectors/test_fuzz_collectors.c - replay the collectors' fuzz inputs
 *
 *  The libFuzzer targets of the site feed parsers (tests/fuzz/: JSON
 *  lines, CSV, HL7 v2, the MLLP deframer and ACK builder) are compiled into
 *  this suite without libFuzzer, and every seed (tests/fuzz/corpus/
 *  <target>/) and every input that once crashed one (tests/fuzz/
 *  regressions/<target>/) is replayed through them: whole, in pieces and as
 *  one record, as the targets do. `make asan` runs the same replay under
 *  AddressSanitizer and UBSan.
 */
#include "fuzz.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Each fuzz target of collectors/ and its entry point. */
static const struct {
    const char *name;
    fuzz_entry_fn entry;
} s_targets[] = {
    {"feed_json", fuzz_feed_json},
    {"feed_csv", fuzz_feed_csv},
    {"hl7", fuzz_hl7},
    {"mllp", fuzz_mllp},
};

#define N_TARGETS (sizeof s_targets / sizeof s_targets[0])

START_TEST(test_fuzz_collectors_seeds)
{
    for (size_t i = 0; i < N_TARGETS; i++) {
        int n = fuzz_replay("corpus", s_targets[i].name, s_targets[i].entry);
        ck_assert_msg(n > 0, "no seeds for fuzz target %s", s_targets[i].name);
    }
}
END_TEST

START_TEST(test_fuzz_collectors_regressions)
{
    int total = 0;
    for (size_t i = 0; i < N_TARGETS; i++) {
        int n =
            fuzz_replay("regressions", s_targets[i].name, s_targets[i].entry);
        total += n > 0 ? n : 0;
    }
    ck_assert_int_ge(total, 5); /* the crashes found so far, at least */
}
END_TEST

/* Hostile inputs written by hand, each one a class the feeds refuse. */
START_TEST(test_fuzz_collectors_hostile)
{
    static const char *const texts[] = {
        "\n\n\n",
        "{\"event_id\":\"e1\"\r\n{\"\\u0000\":1}\n",
        "\"unterminated,quote\nC-1,ili\n",
        "MSH|\r",
        "MSH\rPID|1\r",
        "\x0b\x0b\x0bMSH|^~\\&\x1c\x0d\x1c",
        "\x0bMSH\x1c^~\\&\x1c\x0d",
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = strlen(texts[t]);
        uint8_t *exact = malloc(len);
        memcpy(exact, texts[t], len);
        for (size_t i = 0; i < N_TARGETS; i++) {
            ck_assert_int_eq(s_targets[i].entry(exact, len), 0);
        }
        free(exact);
    }
}
END_TEST

static Suite *
fuzz_collectors_suite(void)
{
    Suite *s = suite_create("fuzz_collectors");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_fuzz_collectors_seeds);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_fuzz_collectors_regressions);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_fuzz_collectors_hostile);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fuzz_collectors_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
