/*  analyzer/wire.h - the analyzer's fast reader of encoded case events
 *
 *  Every record the analyzer ingests is a sentinel.v1.CaseEvent. The codec
 *  in sentinel/event.h decodes it through protobuf-c: a generic walk of the
 *  message descriptor, an allocation per string, a copy into the event.
 *  This reader walks the wire format of the one message it knows straight
 *  into an sn_event_t, for the encodings collectors produce. Anything it is
 *  not sure of (an unknown field, a wire type other than the schema's, a
 *  string too long or holding a NUL, an unknown enum value, a tag or
 *  length of more than five bytes, cut-short bytes) it leaves to
 *  sn_event_decode(), which accepts or refuses it with its usual message:
 *  an event read here is the event sn_event_decode() would give, byte for
 *  byte.
 *
 *  Threading: reentrant; the event belongs to the caller.
 */
#ifndef SENTINEL_ANALYZER_WIRE_H
#define SENTINEL_ANALYZER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/event.h"

/** Read the CaseEvent of `len` bytes at `buf` into `ev`.
 *  @return true when it was read (and *ev written: the same event as
 *  sn_event_decode() gives); false when the caller must decode it with
 *  sn_event_decode() instead (*ev then holds nothing of use). */
bool ana_wire_event(const uint8_t *buf, size_t len, sn_event_t *ev);

/** Decode `buf` as sn_event_decode() does (same results, same messages),
 *  through ana_wire_event() when it can. Unlike sn_event_decode(), *ev may
 *  be overwritten when the result is an error.
 *  @return SN_OK or SN_EPARSE. */
int ana_wire_decode(const uint8_t *buf, size_t len, sn_event_t *ev,
                    sn_err_t *err);

#endif
