/*  tests/analyzer/test_fuzz_analyzer.c - replay the analyzer's fuzz inputs
 *
 *  The libFuzzer target of the analyzer's own reader of bus records
 *  (tests/fuzz/fuzz_wire.c: ana_wire_decode() against sn_event_decode()) is
 *  compiled into this suite without libFuzzer, and every seed
 *  (tests/fuzz/corpus/wire/) and every input that once crashed it
 *  (tests/fuzz/regressions/wire/, when there are some) is replayed through
 *  it. `make asan` runs the same replay under AddressSanitizer and UBSan.
 */
#include "fuzz.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_fuzz_analyzer_seeds)
{
    ck_assert_int_gt(fuzz_replay("corpus", "wire", fuzz_wire), 0);
    (void)fuzz_replay("regressions", "wire", fuzz_wire); /* none yet */
}
END_TEST

/* Every prefix of a seed, and each byte of it changed: cut-short and
 * mutated records, which the fast reader must hand to the codec or read
 * exactly as it does. */
START_TEST(test_fuzz_analyzer_mutations)
{
    static const uint8_t seed[] = {0x0a, 0x02, 'e',  '1',  0x12, 0x02, 's',
                                   '1',  0x18, 0x01, 0x22, 0x06, '1',  '1',
                                   '0',  '1',  '0',  '5',  0x2a, 0x03, 'I',
                                   'L',  'I',  0x30, 0x05, 0x38, 0x01};
    uint8_t buf[sizeof seed];
    for (size_t n = 0; n <= sizeof seed; n++) {
        uint8_t *exact = malloc(n ? n : 1);
        memcpy(exact, seed, n);
        ck_assert_int_eq(fuzz_wire(exact, n), 0);
        free(exact);
    }
    for (size_t i = 0; i < sizeof seed; i++) {
        for (int v = 0; v < 256; v += 17) {
            memcpy(buf, seed, sizeof seed);
            buf[i] = (uint8_t)v;
            ck_assert_int_eq(fuzz_wire(buf, sizeof buf), 0);
        }
    }
}
END_TEST

static Suite *
fuzz_analyzer_suite(void)
{
    Suite *s = suite_create("fuzz_analyzer");
    TCase *tc = tcase_create("replay");
    tcase_add_test(tc, test_fuzz_analyzer_seeds);
    tcase_add_test(tc, test_fuzz_analyzer_mutations);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(fuzz_analyzer_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
