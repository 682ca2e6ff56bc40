/*  tests/common/test_fuzz_common.c - replay the fuzz inputs of common/
 *
 *  The libFuzzer targets of common's parsers (tests/fuzz/: the CaseEvent
 *  decoder, the event JSON mapping, the configuration loader, the alert
 *  codecs, the transport's Envelope decoding) are compiled into this suite
 *  without libFuzzer, and every seed (tests/fuzz/corpus/<target>/) and
 *  every input that once crashed one (tests/fuzz/regressions/<target>/) is
 *  replayed through them. A target aborts on a broken invariant, and the
 *  sanitizer build (`make asan`) catches memory errors on the same inputs.
 */
#include "fuzz.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Each fuzz target of common/ and its entry point. */
static const struct {
    const char *name;
    fuzz_entry_fn entry;
} s_targets[] = {
    {"event_decode", fuzz_event_decode},
    {"event_json", fuzz_event_json},
    {"config", fuzz_config},
    {"alert", fuzz_alert},
    {"batch", fuzz_batch},
};

#define N_TARGETS (sizeof s_targets / sizeof s_targets[0])

START_TEST(test_fuzz_common_seeds)
{
    for (size_t i = 0; i < N_TARGETS; i++) {
        int n = fuzz_replay("corpus", s_targets[i].name, s_targets[i].entry);
        ck_assert_msg(n > 0, "no seeds for fuzz target %s", s_targets[i].name);
    }
}
END_TEST

START_TEST(test_fuzz_common_regressions)
{
    int total = 0;
    for (size_t i = 0; i < N_TARGETS; i++) {
        int n =
            fuzz_replay("regressions", s_targets[i].name, s_targets[i].entry);
        total += n > 0 ? n : 0;
    }
    ck_assert_int_ge(total, 4); /* the crashes found so far, at least */
}
END_TEST

/* Hostile inputs written by hand, each one a class the parsers refuse. */
START_TEST(test_fuzz_common_hostile)
{
    static const char *const texts[] = {
        "",
        "\x0a\xff\xff\xff\xff\x0f",                /* length past the end */
        "{\"event_id\":\"\xc3\x28\"}",             /* JSON, not UTF-8 */
        "{\"level\":\"red\",\"rule\":\"r\xff\"}",  /* alert JSON */
        "site_id: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", /* YAML nesting */
        "a: &x [*x, *x]\n",                        /* YAML alias loop */
        "\x12\x04\x1a\x02\x0a\x01",                /* Envelope, an Ack */
    };
    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        size_t len = strlen(texts[t]);
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, texts[t], len);
        for (size_t i = 0; i < N_TARGETS; i++) {
            ck_assert_int_eq(s_targets[i].entry(exact, len), 0);
        }
        free(exact);
    }
}
END_TEST

static Suite *
fuzz_common_suite(void)
{
    Suite *s = suite_create("fuzz_common");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_fuzz_common_seeds);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_fuzz_common_regressions);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_fuzz_common_hostile);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fuzz_common_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
