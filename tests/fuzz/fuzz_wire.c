/*  tests/fuzz/fuzz_wire.c - fuzz the analyzer's fast CaseEvent reader
 *  against the codec
 *
 *  The analyzer reads the records a collector sends with ana_wire_decode()
 *  (analyzer/wire.c): a walk of the wire format that hands anything it is
 *  not sure of to sn_event_decode(). Whatever the bytes, the two must
 *  agree: the same result, the same message on a refusal, the same event
 *  when both accept.
 */
#include "fuzz.h"

#include "fuzz_event_common.h"
#include "sentinel/event.h"
#include "wire.h"

#include <string.h>

#define FUZZ_TARGET "wire"

int
fuzz_wire(const uint8_t *data, size_t size)
{
    sn_event_t codec, fast;
    sn_err_t ec, ef;
    sn_err_clear(&ec);
    sn_err_clear(&ef);
    int rc = sn_event_decode(data, size, &codec, &ec);
    int rf = ana_wire_decode(data, size, &fast, &ef);
    if (rc != rf) {
        fuzz_fail(FUZZ_TARGET, "the fast reader and the codec disagree on "
                               "accepting the bytes");
    }
    if (rc != SN_OK) {
        if (strcmp(ec.msg, ef.msg) != 0) {
            fuzz_fail(FUZZ_TARGET, "the fast reader refuses with another "
                                   "message");
        }
        return 0;
    }
    if (!fuzz_event_terminated(&fast) || !fuzz_event_same(&codec, &fast)) {
        fuzz_fail(FUZZ_TARGET, "the fast reader and the codec decode "
                               "different events");
    }
    return 0;
}

SN_FUZZ_TARGET(fuzz_wire)
