/*  tests/fuzz/fuzz_event_decode.c - fuzz the protobuf CaseEvent decoder
 *
 *  The analyzer decodes every record a collector sends with
 *  sn_event_decode(). Hostile bytes must be refused with SN_EPARSE and a
 *  message, never crash; bytes it accepts must encode again to something
 *  that decodes to the same event, and validation and the JSON rendering
 *  must cope with whatever the decoder let through.
 */
#include "fuzz.h"

#include "fuzz_event_common.h"
#include "sentinel/event.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_TARGET "event_decode"

/* Encode `ev`, decode the bytes again and compare. */
static void
s_check_round_trip(const sn_event_t *ev)
{
    size_t need = sn_event_encoded_size(ev);
    uint8_t *buf = malloc(need + 1);
    int n = sn_event_encode(ev, buf, need);
    if (n < 0 || (size_t)n != need) {
        fuzz_fail(FUZZ_TARGET, "encode did not fill encoded_size bytes");
    }
    if (need > 0 && sn_event_encode(ev, buf, need - 1) != SN_EOVERFLOW) {
        fuzz_fail(FUZZ_TARGET, "encode into a short buffer did not refuse");
    }
    sn_event_t back;
    sn_err_t err;
    if (sn_event_decode(buf, (size_t)n, &back, &err) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, "re-encoded event does not decode");
    }
    if (!fuzz_event_same(ev, &back)) {
        fuzz_fail(FUZZ_TARGET, "round trip changed the event");
    }
    free(buf);
}

int
fuzz_event_decode(const uint8_t *data, size_t size)
{
    sn_event_t ev;
    sn_err_t err;
    sn_err_clear(&err);
    int rc = sn_event_decode(data, size, &ev, &err);
    if (rc != SN_OK) {
        if (rc != SN_EPARSE || err.code != rc || err.msg[0] == '\0') {
            fuzz_fail(FUZZ_TARGET, "refusal without SN_EPARSE and a message");
        }
        return 0;
    }
    if (!fuzz_event_terminated(&ev)) {
        fuzz_fail(FUZZ_TARGET, "a string is not NUL-terminated");
    }
    s_check_round_trip(&ev);
    sn_err_clear(&err);
    (void)sn_event_validate(&ev, FUZZ_NOW, &err);
    char *json = sn_event_to_json(&ev);
    free(json);
    return 0;
}

SN_FUZZ_TARGET(fuzz_event_decode)
