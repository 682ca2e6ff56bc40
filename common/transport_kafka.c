/*  common/transport_kafka.c - the reliable transport over Kafka
 *
 *  The path past one machine: collectors produce to a topic keyed by
 *  prefecture, analyzers consume it in one consumer group. The sender is an
 *  idempotent producer with acks=all, so librdkafka's own retries never
 *  duplicate or reorder within a partition. Each message carries two
 *  headers, sn-sender and sn-seq (8 bytes, little-endian), and a record
 *  leaves the spool when its delivery report says the brokers have it; since
 *  reports come back per partition, out of order across partitions, the
 *  sender keeps a ring of "delivered" flags over the window and acknowledges
 *  the spool up to the first gap.
 *
 *  A producer killed before its reports arrive sends those records again
 *  after a restart; the receiver (transport_krecv.c) drops them.
 */
#include "transport_int.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sn_ksender {
    sn_transport_opts_t opts;  /* options; strings borrowed */
    sn_spool_t *spool;         /* borrowed */
    sn_spool_cursor_t *cur;    /* next record to produce */
    sn_sender_key_fn key_fn;   /* the message key of a record */
    void *key_arg;             /* its argument */
    rd_kafka_t *rk;            /* the producer */
    uint8_t *done;             /* ring of delivered flags, `window` long */
    uint64_t base;             /* first record not yet acknowledged */
    uint64_t failed;           /* lowest failed record, or 0 */
    char failure[256];         /* the reason of that failure */
    bool connected;            /* a delivery succeeded lately */
    uint64_t held_seq;         /* a record refused with a full queue, or 0 */
    uint8_t *held;             /* its bytes, produced first next time */
    size_t held_len, held_cap; /* their length and the buffer's size */
};

/* -- helpers ------------------------------------------------------------ */

int
sn_kafka_conf_set(rd_kafka_conf_t *conf, const char *k, const char *v,
                  sn_err_t *err)
{
    char msg[256];
    if (rd_kafka_conf_set(conf, k, v, msg, sizeof msg) != RD_KAFKA_CONF_OK) {
        return sn_err_set(err, SN_ECONFIG, "kafka: %s=%s: %s", k, v, msg);
    }
    return SN_OK;
}

/* -- sender ------------------------------------------------------------- */

/* The delivery report of one message, run by rd_kafka_poll() in the
 * sender's thread; the opaque is the record's sequence number. */
static void
s_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    sn_ksender_t *self = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    if (seq < self->base) {
        return;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (self->failed == 0 || seq < self->failed) {
            self->failed = seq;
            snprintf(self->failure, sizeof self->failure, "%s",
                     rd_kafka_err2str(m->err));
        }
        return;
    }
    self->connected = true;
    self->done[seq % self->opts.window] = 1;
}

static int
s_producer(sn_ksender_t *self, sn_err_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char linger[16], queue[16];
    snprintf(linger, sizeof linger, "%u", self->opts.batch_ms);
    /* The window bounds the records awaiting a delivery report; a local
     * queue as large never refuses one for being full (librdkafka allows
     * 1 to 10,000,000 here). */
    uint32_t q = self->opts.window < 1000 ? 1000 : self->opts.window;
    snprintf(queue, sizeof queue, "%u", q > 10000000 ? 10000000 : q);
    int rc =
        sn_kafka_conf_set(conf, "bootstrap.servers", self->opts.endpoint, err);
    const char *kv[][2] = {{"enable.idempotence", "true"},
                           {"acks", "all"},
                           {"linger.ms", linger},
                           {"queue.buffering.max.messages", queue},
                           {"batch.num.messages", "10000"},
                           {"compression.codec", "none"}};
    for (size_t i = 0; rc == SN_OK && i < sizeof kv / sizeof kv[0]; i++) {
        rc = sn_kafka_conf_set(conf, kv[i][0], kv[i][1], err);
    }
    if (rc != SN_OK) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    rd_kafka_conf_set_opaque(conf, self);
    rd_kafka_conf_set_dr_msg_cb(conf, s_on_delivery);
    char msg[256];
    self->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof msg);
    if (self->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return sn_err_set(err, SN_ETRANSPORT, "kafka producer: %s", msg);
    }
    return SN_OK;
}

int
sn_ksender_new(const sn_transport_opts_t *opts, sn_spool_t *spool,
               sn_sender_key_fn key_fn, void *key_arg, sn_ksender_t **out,
               sn_err_t *err)
{
    if (key_fn == NULL) {
        return sn_err_set(err, SN_EINVAL, "kafka sender: no key function");
    }
    sn_ksender_t *self = sn_calloc(1, sizeof *self);
    self->opts = *opts;
    self->spool = spool;
    self->key_fn = key_fn;
    self->key_arg = key_arg;
    self->done = sn_calloc(opts->window, 1);
    self->base = sn_spool_acked_seq(spool) + 1;
    self->cur = sn_spool_cursor_new(spool, self->base);
    int rc = s_producer(self, err);
    if (rc != SN_OK) {
        sn_ksender_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
sn_ksender_destroy(sn_ksender_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_ksender_t *self = *self_p;
    if (self->rk != NULL) {
        /* Undelivered records stay in the spool and go again next time. */
        rd_kafka_purge(self->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(self->rk, 0);
        rd_kafka_destroy(self->rk);
    }
    sn_spool_cursor_destroy(&self->cur);
    free(self->done);
    free(self->held);
    free(self);
    *self_p = NULL;
}

/* Produce one record. @return SN_OK, SN_EAGAIN (queue full: poll first) or
 * an error naming the record. */
static int
s_produce(sn_ksender_t *self, uint64_t seq, const uint8_t *d, size_t len,
          sn_err_t *err)
{
    char key[SN_TRANSPORT_KEY_MAX + 1];
    int rc = self->key_fn(d, len, key, sizeof key, self->key_arg);
    if (rc != SN_OK) {
        return sn_err_set(
            err, rc, "kafka sender: record %" PRIu64 ": no message key: %s",
            seq, sn_strerror(rc));
    }
    uint8_t s8[8];
    for (int i = 0; i < 8; i++) {
        s8[i] = (uint8_t)(seq >> (8 * i));
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        self->rk, RD_KAFKA_V_TOPIC(self->opts.topic),
        RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE((void *)d, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER(SN_KAFKA_HDR_SENDER, self->opts.sender_id, -1),
        RD_KAFKA_V_HEADER(SN_KAFKA_HDR_SEQ, s8, 8),
        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return SN_EAGAIN;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return sn_err_set(err, SN_ETRANSPORT,
                          "kafka sender: record %" PRIu64 ": %s", seq,
                          rd_kafka_err2str(e));
    }
    return SN_OK;
}

/* Keep a record the full queue refused, so the next round produces it
 * without moving the cursor back (which would reread its segment). */
static void
s_hold(sn_ksender_t *self, uint64_t seq, const uint8_t *d, size_t len)
{
    if (len > self->held_cap) {
        self->held_cap = len;
        self->held = sn_realloc(self->held, len);
    }
    memcpy(self->held, d, len);
    self->held_len = len;
    self->held_seq = seq;
}

/* Produce the held record first. @return SN_OK (none held any more),
 * SN_EAGAIN (the queue is still full) or an error. */
static int
s_produce_held(sn_ksender_t *self, sn_err_t *err)
{
    if (self->held_seq == 0) {
        return SN_OK;
    }
    int rc = s_produce(self, self->held_seq, self->held, self->held_len, err);
    if (rc == SN_OK) {
        self->held_seq = 0;
    }
    return rc;
}

static int
s_ksend(sn_ksender_t *self, sn_err_t *err)
{
    int rc = s_produce_held(self, err);
    while (rc == SN_OK &&
           sn_spool_cursor_pos(self->cur) - self->base < self->opts.window) {
        uint64_t seq;
        const uint8_t *d;
        size_t len;
        rc = sn_spool_cursor_next(self->cur, &seq, &d, &len, err);
        if (rc == SN_ENODATA) {
            return SN_OK;
        }
        if (rc == SN_OK) {
            rc = s_produce(self, seq, d, len, err);
        }
        if (rc == SN_EAGAIN) {
            s_hold(self, seq, d, len);
        }
    }
    return rc == SN_EAGAIN ? SN_OK : rc;
}

/* Acknowledge the spool up to the first record not yet delivered, and
 * start again from a failed record. */
static int
s_kadvance(sn_ksender_t *self, sn_err_t *err)
{
    uint64_t b = self->base;
    while (b < sn_spool_cursor_pos(self->cur) &&
           self->done[b % self->opts.window]) {
        self->done[b % self->opts.window] = 0;
        b++;
    }
    int rc = SN_OK;
    if (b > self->base) {
        self->base = b;
        rc = sn_spool_ack(self->spool, b - 1, err);
    }
    if (rc == SN_OK && self->failed != 0) {
        sn_log(SN_LOG_WARN, "transport", "resend",
               "sender=%s from=%" PRIu64 " reason=\"%s\"", self->opts.sender_id,
               self->failed, self->failure);
        self->connected = false;
        sn_spool_cursor_seek(self->cur, self->failed);
        self->failed = 0;
        self->held_seq = 0;
    }
    return rc;
}

int
sn_ksender_poll(sn_ksender_t *self, int timeout_ms, sn_err_t *err)
{
    uint64_t deadline = sn_transport_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int rc = s_ksend(self, err);
        if (rc == SN_OK) {
            rd_kafka_poll(self->rk, 0);
            rc = s_kadvance(self, err);
        }
        if (rc != SN_OK) {
            return rc;
        }
        uint64_t now = sn_transport_now_ms();
        if (sn_ksender_drained(self) || now >= deadline) {
            return SN_OK;
        }
        uint64_t wait = deadline - now;
        rd_kafka_poll(self->rk, (int)(wait < 10 ? wait : 10));
    }
}

bool
sn_ksender_drained(const sn_ksender_t *self)
{
    return sn_spool_acked_seq(self->spool) == sn_spool_flushed_seq(self->spool);
}

bool
sn_ksender_connected(const sn_ksender_t *self)
{
    return self->connected;
}
