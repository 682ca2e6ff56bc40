/*  tests/fuzz/fuzz.h - the fuzz entry points, shared by libFuzzer and CTest
 *
 *  Every parser that reads outside input has one entry point here. Each
 *  takes the raw bytes an attacker controls, runs them through the parser
 *  the daemons use, and, when the parser accepts them, checks what it
 *  built (a round trip through the encoder, every field readable). A broken
 *  invariant calls fuzz_fail(), which aborts, so libFuzzer records it as a
 *  crash like any sanitizer report.
 *
 *  Two programs run the same entry points. With -DSENTINEL_FUZZ=ON and
 *  clang, tests/fuzz/CMakeLists.txt builds one libFuzzer executable per
 *  target (SN_FUZZ_MAIN defined: SN_FUZZ_TARGET() defines
 *  LLVMFuzzerTestOneInput). In the normal build the regression suites
 *  (tests/common/test_fuzz_common.c, tests/collectors/test_fuzz_collectors.c,
 *  tests/analyzer/test_fuzz_analyzer.c) compile the same files and replay every file under
 *  tests/fuzz/regressions/<target>/ and tests/fuzz/corpus/<target>/.
 *
 *  Threading: each entry point is reentrant; libFuzzer calls them from one
 *  thread.
 */
#ifndef SENTINEL_TESTS_FUZZ_H
#define SENTINEL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* 2026-11-25T12:00:00Z: the fixed "now" of every validation, so a run is
 * reproducible whatever the day. */
#define FUZZ_NOW 1795608000000LL

/* Each returns 0, as libFuzzer asks; a bug aborts instead. */
int fuzz_event_decode(const uint8_t *data, size_t size);
int fuzz_event_json(const uint8_t *data, size_t size);
int fuzz_config(const uint8_t *data, size_t size);
int fuzz_alert(const uint8_t *data, size_t size);
int fuzz_batch(const uint8_t *data, size_t size);
int fuzz_feed_json(const uint8_t *data, size_t size);
int fuzz_feed_csv(const uint8_t *data, size_t size);
int fuzz_hl7(const uint8_t *data, size_t size);
int fuzz_mllp(const uint8_t *data, size_t size);
int fuzz_http_api(const uint8_t *data, size_t size);
int fuzz_wire(const uint8_t *data, size_t size);

/** Report a broken invariant of target `target` and abort. */
void fuzz_fail(const char *target, const char *what) __attribute__((noreturn));

/** @return a malloc'd copy of data[0..size) followed by a NUL, for the
 *  parsers that want a C string. Parsers that take a length get the input
 *  buffer itself, which libFuzzer allocates to the exact size, so a read
 *  past its end is caught by AddressSanitizer. Caller frees. */
char *fuzz_dup(const uint8_t *data, size_t size);

/* An entry point, as the replay takes it. */
typedef int (*fuzz_entry_fn)(const uint8_t *data, size_t size);

/** Replay every file of tests/fuzz/<kind>/<target>/ (kind "corpus" or
 *  "regressions"; found through $SENTINEL_SOURCE_DIR) through `entry`, each
 *  in a buffer of its exact size, naming each file on stderr first so a
 *  crash says which. Only in the regression suites (fuzz_replay.c).
 *  @return the number of files replayed, or -1 when the folder is absent. */
int fuzz_replay(const char *kind, const char *target, fuzz_entry_fn entry);

/* libFuzzer's entry, defined only in the libFuzzer build of a target. */
#ifdef SN_FUZZ_MAIN
#define SN_FUZZ_TARGET(entry)                                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);              \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)               \
    {                                                                          \
        return entry(data, size);                                              \
    }
#else
#define SN_FUZZ_TARGET(entry)
#endif

#endif
