/*  tests/fuzz/fuzz_event_json.c - fuzz the JSON mapping of the case event
 *
 *  Sites that cannot compile the .proto send one JSON object per event, and
 *  sn_event_from_json() reads them. Hostile text must be refused with
 *  SN_EPARSE or SN_EVALIDATE and a message, never crash; an accepted event
 *  must be JSON to jansson too, must render to JSON that reads back to the
 *  same event, and must survive the protobuf codec unchanged.
 */
#include "fuzz.h"

#include "fuzz_event_common.h"
#include "sentinel/event.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_TARGET "event_json"

/* sn_event_from_json() has a scanner of its own (common/jscan.c): what it
 * accepts must be one JSON object to jansson as well. */
static void
s_check_is_json(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *j =
        json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL || !json_is_object(j)) {
        fuzz_fail(FUZZ_TARGET, "accepted text that jansson refuses");
    }
    json_decref(j);
}

/* The JSON rendering of `ev` must read back to `ev`. */
static void
s_check_json(const sn_event_t *ev)
{
    char *json = sn_event_to_json(ev);
    if (json == NULL) {
        fuzz_fail(FUZZ_TARGET, "to_json returned NULL");
    }
    sn_event_t back;
    sn_err_t err;
    if (sn_event_from_json(json, strlen(json), &back, &err) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, "rendered JSON does not read back");
    }
    if (!fuzz_event_same(ev, &back)) {
        fuzz_fail(FUZZ_TARGET, "JSON round trip changed the event");
    }
    free(json);
}

/* The protobuf encoding of `ev` must decode to `ev`. */
static void
s_check_proto(const sn_event_t *ev)
{
    size_t need = sn_event_encoded_size(ev);
    uint8_t *buf = malloc(need + 1);
    int n = sn_event_encode(ev, buf, need);
    sn_event_t back;
    if (n < 0 || sn_event_decode(buf, (size_t)n, &back, NULL) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, "accepted event does not survive protobuf");
    }
    if (!fuzz_event_same(ev, &back)) {
        fuzz_fail(FUZZ_TARGET, "protobuf round trip changed the event");
    }
    free(buf);
}

int
fuzz_event_json(const uint8_t *data, size_t size)
{
    sn_event_t ev;
    sn_err_t err;
    sn_err_clear(&err);
    int rc = sn_event_from_json((const char *)data, size, &ev, &err);
    if (rc != SN_OK) {
        if ((rc != SN_EPARSE && rc != SN_EVALIDATE) || err.code != rc ||
            err.msg[0] == '\0') {
            fuzz_fail(FUZZ_TARGET, "refusal without a code and a message");
        }
        return 0;
    }
    if (!fuzz_event_terminated(&ev)) {
        fuzz_fail(FUZZ_TARGET, "a string is not NUL-terminated");
    }
    s_check_is_json(data, size);
    s_check_json(&ev);
    s_check_proto(&ev);
    (void)sn_event_validate(&ev, FUZZ_NOW, &err);
    return 0;
}

SN_FUZZ_TARGET(fuzz_event_json)
