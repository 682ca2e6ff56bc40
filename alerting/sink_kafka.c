/*  alerting/sink_kafka.c - notifications on a Kafka topic (librdkafka)
 *
 *  An idempotent producer (acks=all) writes each notification to the topic,
 *  keyed by its CAP identifier, with an "idempotency-key" header. A send
 *  succeeds only when the broker's delivery report says the message is
 *  written; otherwise the outbox retries. librdkafka's own types stay in
 *  this file.
 */
#include "sink.h"

#include "sentinel/mem.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KAFKA_FLUSH_MS 10000 /* wait this long for the delivery report */

typedef struct s_kafka {
    rd_kafka_t *rk;      /* the producer */
    char *topic;         /* target topic */
    alr_format_t format; /* body */
} s_kafka_t;

/* Delivery report: runs in the thread that polls (s_send, via flush). */
static void
s_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    rd_kafka_resp_err_t *result = m->_private;
    if (result != NULL) {
        *result = m->err;
    }
}

static int
s_send(void *impl, const alr_delivery_t *d, sn_err_t *err)
{
    s_kafka_t *k = impl;
    const char *body = alr_sink_body(d, k->format);
    rd_kafka_resp_err_t result = RD_KAFKA_RESP_ERR__IN_PROGRESS;
    const char *key = d->notice.identifier;
    rd_kafka_resp_err_t e = rd_kafka_producev(
        k->rk, RD_KAFKA_V_TOPIC(k->topic),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, strlen(key)),
        RD_KAFKA_V_VALUE((void *)body, strlen(body)),
        RD_KAFKA_V_HEADER("idempotency-key", key, (ssize_t)strlen(key)),
        RD_KAFKA_V_OPAQUE(&result), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return sn_err_set(err, SN_ETRANSPORT, "kafka %s: %s", k->topic,
                          rd_kafka_err2str(e));
    }
    rd_kafka_flush(k->rk, KAFKA_FLUSH_MS);
    if (result == RD_KAFKA_RESP_ERR__IN_PROGRESS) {
        /* Not reported yet: the report must not write to our stack later. */
        rd_kafka_purge(k->rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(k->rk, 0);
        return sn_err_set(err, SN_ETIMEDOUT, "kafka %s: no delivery report",
                          k->topic);
    }
    if (result != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return sn_err_set(err, SN_ETRANSPORT, "kafka %s: %s", k->topic,
                          rd_kafka_err2str(result));
    }
    return SN_OK;
}

static void
s_destroy(void *impl)
{
    s_kafka_t *k = impl;
    rd_kafka_flush(k->rk, 1000);
    rd_kafka_destroy(k->rk);
    free(k->topic);
    free(k);
}

static const alr_sink_ops_t s_ops = {"kafka", s_send, s_destroy};

int
alr_sink_kafka_new(const char *name, const char *brokers, const char *topic,
                   alr_format_t format, alr_sink_t **out, sn_err_t *err)
{
    char errstr[512];
    if (brokers == NULL || topic == NULL) {
        return sn_err_set(err, SN_EINVAL,
                          "sink '%s': kafka needs brokers "
                          "and topic",
                          name);
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                          sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr,
                          sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "message.timeout.ms", "8000", errstr,
                          sizeof errstr) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return sn_err_set(err, SN_EINVAL, "sink '%s': %s", name, errstr);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, s_dr);
    rd_kafka_t *rk =
        rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return sn_err_set(err, SN_ETRANSPORT, "sink '%s': %s", name, errstr);
    }
    s_kafka_t *k = sn_calloc(1, sizeof *k);
    k->rk = rk;
    k->topic = sn_strdup(topic);
    k->format = format;
    *out = alr_sink_new(name, &s_ops, k);
    return SN_OK;
}
