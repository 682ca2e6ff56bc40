/*  tests/fuzz/fuzz_batch.c - fuzz the transport's Envelope decoding
 *
 *  The analyzer's ZeroMQ receiver takes every message a sender's DEALER
 *  delivers and unpacks it with sn_zmq_unpack() (common/transport_int.h)
 *  into its bump arena, before it knows who sent it. This target runs the
 *  same call on the same arena the receiver keeps, reads every field the
 *  receiver reads (the body case, sender_id, sequence numbers, every
 *  record's bytes) and decodes each record as a CaseEvent, as the analyzer
 *  does next. Each input gets a fresh arena, so a crash replays from its
 *  own bytes alone.
 */
#include "fuzz.h"

#include "sentinel/event.h"
#include "transport_int.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_TARGET "batch"

/* Read every byte of `len` at `p`, so a view outside the input or the
 * arena is caught by AddressSanitizer. */
static unsigned
s_touch(const uint8_t *p, size_t len)
{
    unsigned sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += p[i];
    }
    return sum;
}

static unsigned
s_batch(const Sentinel__V1__Batch *b)
{
    unsigned sum = b->sender_id ? s_touch((const uint8_t *)b->sender_id,
                                          strlen(b->sender_id))
                                : 0;
    sum += (unsigned)(b->seq_first + b->session);
    if (b->n_records > 0 && b->records == NULL) {
        fuzz_fail(FUZZ_TARGET, "records missing for a non-zero count");
    }
    for (size_t i = 0; i < b->n_records; i++) {
        const ProtobufCBinaryData *r = &b->records[i];
        if (r->len > 0 && r->data == NULL) {
            fuzz_fail(FUZZ_TARGET, "record without bytes");
        }
        sum += s_touch(r->data, r->len);
        sn_event_t ev;
        (void)sn_event_decode(r->data, r->len, &ev, NULL);
    }
    return sum;
}

static unsigned
s_envelope(const Sentinel__V1__Envelope *env)
{
    switch (env->body_case) {
    case SENTINEL__V1__ENVELOPE__BODY_BATCH:
        return s_batch(env->batch);
    case SENTINEL__V1__ENVELOPE__BODY_ACK:
        return (unsigned)env->ack->seq_acked +
               (unsigned)strlen(env->ack->sender_id);
    case SENTINEL__V1__ENVELOPE__BODY_HEARTBEAT:
        return (unsigned)(env->heartbeat->seq_last +
                          (uint64_t)env->heartbeat->time_ms) +
               (unsigned)strlen(env->heartbeat->sender_id);
    default:
        return 0;
    }
}

int
fuzz_batch(const uint8_t *data, size_t size)
{
    sn_zarena_t arena = {NULL, 0, 0};
    Sentinel__V1__Envelope *env = sn_zmq_unpack(&arena, data, size);
    if (env != NULL) {
        volatile unsigned sum = s_envelope(env);
        (void)sum;
    }
    free(arena.buf);
    return 0;
}

SN_FUZZ_TARGET(fuzz_batch)
