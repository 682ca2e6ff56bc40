/*  collectors/deadletter_kafka.c - copies of dead letters to a Kafka topic
 *
 *  A thin librdkafka producer: the only place in collectors/ that sees a
 *  librdkafka type, so its error codes become SN_E* codes here. Delivery
 *  reports only count: delivered, failed, and the reason of the last
 *  failure, which _poll() and _flush() hand to the caller to log.
 */
#include "deadletter_kafka.h"

#include "sentinel/mem.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct col_deadletter_kafka {
    rd_kafka_t *rk;     /* the producer */
    char *topic;        /* the dead-letter topic */
    char *key;          /* every message's key: the site */
    uint64_t delivered; /* copies the brokers acknowledged */
    uint64_t failed;    /* copies refused or failed */
    uint64_t reported;  /* failures already handed to the caller */
    char failure[256];  /* the reason of the last failure */
};

/* Run by rd_kafka_poll() or rd_kafka_flush(), in the caller's thread. */
static void
s_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    col_deadletter_kafka_t *self = opaque;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->delivered++;
        return;
    }
    self->failed++;
    snprintf(self->failure, sizeof self->failure, "%s",
             rd_kafka_err2str(m->err));
}

static int
s_conf(rd_kafka_conf_t *conf, const char *brokers, sn_err_t *err)
{
    const char *kv[][2] = {{"bootstrap.servers", brokers},
                           {"enable.idempotence", "true"},
                           {"acks", "all"},
                           {"linger.ms", "5"}};
    char msg[256];
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], msg, sizeof msg) !=
            RD_KAFKA_CONF_OK) {
            return sn_err_set(err, SN_ECONFIG, "dead-letter topic: %s=%s: %s",
                              kv[i][0], kv[i][1], msg);
        }
    }
    return SN_OK;
}

col_deadletter_kafka_t *
col_deadletter_kafka_new(const char *brokers, const char *topic,
                         const char *key, sn_err_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (s_conf(conf, brokers, err) != SN_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    col_deadletter_kafka_t *self = sn_calloc(1, sizeof *self);
    rd_kafka_conf_set_opaque(conf, self);
    rd_kafka_conf_set_dr_msg_cb(conf, s_on_delivery);
    char msg[256];
    self->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof msg);
    if (self->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        free(self);
        sn_err_set(err, SN_ETRANSPORT, "dead-letter topic: producer: %s", msg);
        return NULL;
    }
    self->topic = sn_strdup(topic);
    self->key = sn_strdup(key);
    return self;
}

void
col_deadletter_kafka_destroy(col_deadletter_kafka_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    col_deadletter_kafka_t *self = *self_p;
    rd_kafka_purge(self->rk,
                   RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(self->rk, 0);
    rd_kafka_destroy(self->rk);
    free(self->topic);
    free(self->key);
    free(self);
    *self_p = NULL;
}

void
col_deadletter_kafka_send(col_deadletter_kafka_t *self, const char *line,
                          size_t len)
{
    rd_kafka_resp_err_t e = rd_kafka_producev(
        self->rk, RD_KAFKA_V_TOPIC(self->topic),
        RD_KAFKA_V_KEY(self->key, strlen(self->key)),
        RD_KAFKA_V_VALUE((void *)line, len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        self->failed++;
        snprintf(self->failure, sizeof self->failure, "%s",
                 rd_kafka_err2str(e));
    }
    rd_kafka_poll(self->rk, 0);
}

/* Hand the failures not yet reported to the caller. */
static int
s_report(col_deadletter_kafka_t *self, sn_err_t *err)
{
    if (self->failed == self->reported) {
        return SN_OK;
    }
    uint64_t n = self->failed - self->reported;
    self->reported = self->failed;
    return sn_err_set(err, SN_ETRANSPORT,
                      "%llu dead letter(s) not delivered to topic '%s': %s",
                      (unsigned long long)n, self->topic, self->failure);
}

int
col_deadletter_kafka_poll(col_deadletter_kafka_t *self, sn_err_t *err)
{
    rd_kafka_poll(self->rk, 0);
    return s_report(self, err);
}

int
col_deadletter_kafka_flush(col_deadletter_kafka_t *self, int timeout_ms,
                           sn_err_t *err)
{
    rd_kafka_flush(self->rk, timeout_ms);
    int waiting = rd_kafka_outq_len(self->rk);
    if (waiting > 0) {
        return sn_err_set(err, SN_ETIMEDOUT,
                          "%d dead letter(s) not delivered to topic '%s' "
                          "within %d ms",
                          waiting, self->topic, timeout_ms);
    }
    return s_report(self, err);
}

const char *
col_deadletter_kafka_topic(const col_deadletter_kafka_t *self)
{
    return self->topic;
}

uint64_t
col_deadletter_kafka_delivered(const col_deadletter_kafka_t *self)
{
    return self->delivered;
}
