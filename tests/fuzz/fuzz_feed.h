/*  tests/fuzz/fuzz_feed.h - drive one collectors feed over fuzzed bytes
 *
 *  The JSON lines, CSV and HL7 targets share one driver. It reads the input
 *  three ways: pushed whole, pushed in small pieces with the record loop
 *  drained after each piece (as bytes arrive from a socket), and as one
 *  record through col_feed_parse() (as an MLLP frame or a Kafka message
 *  arrives). The first two must yield the same records: how TCP cuts a
 *  stream must never change what is parsed. Every event a feed yields must
 *  have terminated strings, survive the protobuf codec and be safe to
 *  validate; every rejection must carry a code and a message.
 *
 *  Threading: reentrant.
 */
#ifndef SENTINEL_TESTS_FUZZ_FEED_H
#define SENTINEL_TESTS_FUZZ_FEED_H

#include "feed.h"

#include <stddef.h>
#include <stdint.h>

/* The record bound of every fuzzed feed: small, so that inputs of a few
 * kilobytes reach the oversize path. */
#define FUZZ_FEED_MAX_RECORD 512

/* Makes a fresh feed of the kind under test. */
typedef col_feed_t *(*fuzz_feed_make_fn)(void);

/** Run `data` through feeds made by `make` as described above; a broken
 *  invariant aborts through fuzz_fail(target, …). */
void fuzz_feed_check(const char *target, fuzz_feed_make_fn make,
                     const uint8_t *data, size_t size);

#endif
