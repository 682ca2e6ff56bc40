/*  tests/support/refevent.h - the reference decoding of a CaseEvent
 *
 *  Suites that check a fast reader of encoded case events (common/event.c's
 *  decoder, analyzer/wire.c) compare it with this one: protobuf-c's
 *  generated unpack and the event model's rules, without any fast path.
 *
 *  Threading: reentrant.
 */
#ifndef SENTINEL_TESTS_REFEVENT_H
#define SENTINEL_TESTS_REFEVENT_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/event.h"

/** Decode `len` bytes at `buf` into *ev as protobuf-c and the event model
 *  would. @return SN_OK or SN_EPARSE (*ev then holds nothing of use). */
int ts_ref_event_unpack(const uint8_t *buf, size_t len, sn_event_t *ev);

#endif
