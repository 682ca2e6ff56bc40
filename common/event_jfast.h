/*  common/event_jfast.h - the JSON-lines fast path of the event parser
 *
 *  Nearly every line a site sends is a flat object of known keys whose
 *  strings are plain ASCII. sn_event_json_fast() reads such a line into an
 *  event in one pass over the bytes, without the tokenizer and the strict
 *  checker of jscan.c. Whatever it is not sure about (an escape, a byte
 *  above 0x7F, an unknown or repeated key, a value of the wrong type, a
 *  number that is not a plain non-negative integer, a nested value, any
 *  syntax error) it leaves to the strict path, which then accepts or
 *  refuses it with its message. So it never accepts a line the strict path
 *  refuses, and what it accepts it reads into the same event: the
 *  differential test in tests/common/test_event_json.c checks both.
 *
 *  Threading: reentrant.
 */
#ifndef SENTINEL_COMMON_EVENT_JFAST_H
#define SENTINEL_COMMON_EVENT_JFAST_H

#include <stdbool.h>
#include <stddef.h>

#include "sentinel/event.h"

/** Read the JSON object of `len` bytes at `text` into `ev` when it is a
 *  plain event line (see above). @return SN_OK (ev written), or SN_EAGAIN
 *  when the strict parser must decide (ev may be partly written). */
int sn_event_json_fast(const char *text, size_t len, sn_event_t *ev);

/** Read the `n` bytes at `s` as a report time when they have the usual
 *  UTC form, "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.mmmZ", with
 *  the same checks and result as sn_time_parse(). @return true with *out
 *  written, or false when sn_time_parse() must decide. */
bool sn_event_json_time(const char *s, size_t n, sn_time_t *out);

#endif
