/*  common/transport.c - the transport's public entry points
 *
 *  Collectors, the analyzer and alerting call one API whatever the wire;
 *  this file checks the options and hands each call to the ZeroMQ or the
 *  Kafka implementation chosen by opts->kind.
 */
#include "sentinel/transport.h"

#include "sentinel/mem.h"
#include "transport_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sn_sender {
    sn_transport_kind_t kind; /* which of the two below is set */
    sn_zsender_t *z;          /* ZeroMQ */
    sn_ksender_t *k;          /* Kafka */
    const sn_spool_t *spool;  /* borrowed: what it publishes */
};

struct sn_receiver {
    sn_transport_kind_t kind; /* which of the two below is set */
    sn_zreceiver_t *z;        /* ZeroMQ */
    sn_kreceiver_t *k;        /* Kafka */
};

uint64_t
sn_transport_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
sn_transport_opts_init(sn_transport_opts_t *opts)
{
    *opts = (sn_transport_opts_t){
        .kind = SN_TRANSPORT_ZMQ,
        .curve = true,
        .batch_records = 1000,
        .batch_ms = 5,
        .window = 100000,
        .heartbeat_ms = 1000,
        .timeout_ms = 5000,
        .max_message = SN_TRANSPORT_MAX_MESSAGE,
        .max_batch_records = SN_TRANSPORT_MAX_BATCH,
        .lookback = SN_TRANSPORT_LOOKBACK,
    };
}

int
sn_transport_check(const sn_transport_opts_t *o, bool sender, sn_err_t *err)
{
    if (o->endpoint == NULL || o->endpoint[0] == '\0') {
        return sn_err_set(err, SN_EINVAL, "transport: no endpoint given");
    }
    if (sender && (o->sender_id == NULL || o->sender_id[0] == '\0' ||
                   strlen(o->sender_id) > SN_SENDER_ID_MAX)) {
        return sn_err_set(err, SN_EINVAL,
                          "transport: sender_id must be 1 to %d bytes",
                          SN_SENDER_ID_MAX);
    }
    if (o->batch_records == 0 || o->window < o->batch_records ||
        o->heartbeat_ms == 0 || o->timeout_ms == 0) {
        return sn_err_set(err, SN_EINVAL,
                          "transport: batch_records, heartbeat_ms and "
                          "timeout_ms must be > 0 and window >= "
                          "batch_records");
    }
    if (o->kind == SN_TRANSPORT_KAFKA &&
        (o->topic == NULL || (!sender && o->group == NULL))) {
        return sn_err_set(err, SN_EINVAL, "transport: kafka needs a topic%s",
                          sender ? "" : " and a group");
    }
    return SN_OK;
}

/* -- sender ------------------------------------------------------------- */

int
sn_sender_new(const sn_transport_opts_t *opts, sn_spool_t *spool,
              sn_sender_key_fn key_fn, void *key_arg, sn_sender_t **out,
              sn_err_t *err)
{
    assert(opts != NULL && spool != NULL);
    int rc = sn_transport_check(opts, true, err);
    if (rc != SN_OK) {
        return rc;
    }
    sn_sender_t *self = sn_calloc(1, sizeof *self);
    self->kind = opts->kind;
    self->spool = spool;
    if (opts->kind == SN_TRANSPORT_KAFKA) {
        rc = sn_ksender_new(opts, spool, key_fn, key_arg, &self->k, err);
    } else {
        rc = sn_zsender_new(opts, spool, &self->z, err);
    }
    if (rc != SN_OK) {
        free(self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
sn_sender_destroy(sn_sender_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_zsender_destroy(&(*self_p)->z);
    sn_ksender_destroy(&(*self_p)->k);
    free(*self_p);
    *self_p = NULL;
}

int
sn_sender_poll(sn_sender_t *self, int timeout_ms, sn_err_t *err)
{
    return self->z ? sn_zsender_poll(self->z, timeout_ms, err)
                   : sn_ksender_poll(self->k, timeout_ms, err);
}

bool
sn_sender_drained(const sn_sender_t *self)
{
    return self->z ? sn_zsender_drained(self->z) : sn_ksender_drained(self->k);
}

bool
sn_sender_connected(const sn_sender_t *self)
{
    return self->z ? sn_zsender_connected(self->z)
                   : sn_ksender_connected(self->k);
}

/* Both kinds free the spool up to what the receiver acknowledged (ZeroMQ)
 * or the brokers reported delivered (Kafka), so the spool's acknowledged
 * sequence is the sender's. */
uint64_t
sn_sender_acked(const sn_sender_t *self)
{
    return sn_spool_acked_seq(self->spool);
}

/* -- receiver ----------------------------------------------------------- */

int
sn_receiver_new(const sn_transport_opts_t *opts, sn_receiver_t **out,
                sn_err_t *err)
{
    assert(opts != NULL);
    int rc = sn_transport_check(opts, false, err);
    if (rc != SN_OK) {
        return rc;
    }
    sn_receiver_t *self = sn_calloc(1, sizeof *self);
    self->kind = opts->kind;
    if (opts->kind == SN_TRANSPORT_KAFKA) {
        rc = sn_kreceiver_new(opts, &self->k, err);
    } else {
        rc = sn_zreceiver_new(opts, &self->z, err);
    }
    if (rc != SN_OK) {
        free(self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
sn_receiver_destroy(sn_receiver_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_zreceiver_destroy(&(*self_p)->z);
    sn_kreceiver_destroy(&(*self_p)->k);
    free(*self_p);
    *self_p = NULL;
}

int
sn_receiver_poll(sn_receiver_t *self, int timeout_ms, sn_receiver_fn fn,
                 void *arg, sn_err_t *err)
{
    assert(fn != NULL);
    return self->z ? sn_zreceiver_poll(self->z, timeout_ms, fn, arg, err)
                   : sn_kreceiver_poll(self->k, timeout_ms, fn, arg, err);
}

/* A batch callback behind Kafka's record-at-a-time delivery. */
typedef struct s_one_by_one {
    sn_receiver_batch_fn fn; /* the application's callback */
    void *arg;               /* its argument */
} s_one_by_one_t;

static int
s_one_by_one(const sn_record_t *rec, void *arg)
{
    const s_one_by_one_t *o = arg;
    return o->fn(rec, 1, o->arg);
}

int
sn_receiver_poll_batch(sn_receiver_t *self, int timeout_ms,
                       sn_receiver_batch_fn fn, void *arg, sn_err_t *err)
{
    assert(fn != NULL);
    if (self->z != NULL) {
        return sn_zreceiver_poll_batch(self->z, timeout_ms, fn, arg, err);
    }
    s_one_by_one_t o = {fn, arg};
    return sn_kreceiver_poll(self->k, timeout_ms, s_one_by_one, &o, err);
}

int
sn_receiver_ack(sn_receiver_t *self, const char *sender_id, uint64_t seq,
                sn_err_t *err)
{
    if (self->k != NULL) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "transport: kafka acknowledges by offsets: call "
                          "sn_receiver_commit()");
    }
    return sn_zreceiver_ack(self->z, sender_id, seq, err);
}

int
sn_receiver_commit(sn_receiver_t *self, sn_err_t *err)
{
    return self->z ? sn_zreceiver_commit(self->z, err)
                   : sn_kreceiver_commit(self->k, err);
}

static sn_positions_t *
s_positions(const sn_receiver_t *self)
{
    return self->z ? sn_zreceiver_positions(self->z)
                   : sn_kreceiver_positions(self->k);
}

void
sn_receiver_on_revoke(sn_receiver_t *self, sn_receiver_revoke_fn fn, void *arg)
{
    if (self->k != NULL) {
        sn_kreceiver_on_revoke(self->k, fn, arg);
    }
}

int
sn_receiver_mark(sn_receiver_t *self, uint8_t **out, size_t *len, sn_err_t *err)
{
    if (self->k == NULL) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "transport: commit marks are for kafka");
    }
    return sn_kreceiver_mark(self->k, out, len, err);
}

int
sn_receiver_landed(sn_receiver_t *self, const uint8_t *mark, size_t len,
                   sn_err_t *err)
{
    if (self->k == NULL) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "transport: commit marks are for kafka");
    }
    return sn_kreceiver_landed(self->k, mark, len, err);
}

int
sn_receiver_set_position(sn_receiver_t *self, const char *sender_id,
                         uint64_t seq)
{
    sn_peer_t *p = sn_positions_get(s_positions(self), sender_id, true);
    if (p == NULL) {
        return SN_EINVAL;
    }
    p->delivered = p->acked = seq;
    return SN_OK;
}

uint64_t
sn_receiver_position(const sn_receiver_t *self, const char *sender_id)
{
    sn_peer_t *p = sn_positions_get(s_positions(self), sender_id, false);
    return p ? p->delivered : 0;
}
