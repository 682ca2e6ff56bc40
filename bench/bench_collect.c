/*  bench/bench_collect.c - collector throughput next to the raw transports
 *
 *  Figures for the collector issue, measured in one run on this machine:
 *   1. JSON lines file -> parse, validate, encode -> disk spool (fsync
 *      batch) -> ZeroMQ (ipc://) -> receiver thread, acknowledged: events/s;
 *      next to raw ZeroMQ moving the same bytes in messages of the same
 *      sizes (one batch of records per message), with no spool, no protocol.
 *   2. The same spool -> Kafka sender into librdkafka's mock cluster, every
 *      record delivery-reported, next to a bare librdkafka producer sending
 *      the same records with the same keys.
 *  usage: bench_collect [EVENTS]   (default 500000)
 *  It prints figures; it never passes or fails on them.
 */
#include "sentinel/event.h"
#include "sentinel/mem.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define BATCH 1000

/* The receiving side of run 1, in its own thread and ZeroMQ context. */
typedef struct rx_arg {
    const char *endpoint; /* where to bind */
    uint64_t want;        /* stop after this many records */
    uint64_t got;         /* records delivered */
    int ready[2];         /* pipe: bound */
} rx_arg_t;

static double
s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
s_count(const sn_record_t *rec, void *arg)
{
    rx_arg_t *a = arg;
    sn_event_t ev;
    /* Decode as the analyzer will, so the receiver does its real work. */
    if (sn_event_decode(rec->data, rec->len, &ev, NULL) == SN_OK) {
        a->got++;
    }
    return SN_OK;
}

static void *
s_receiver(void *arg)
{
    rx_arg_t *a = arg;
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.endpoint = a->endpoint;
    o.curve = false;
    sn_receiver_t *rx = NULL;
    sn_err_t err;
    if (sn_receiver_new(&o, &rx, &err) != SN_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    (void)!write(a->ready[1], "r", 1);
    while (a->got < a->want) {
        sn_receiver_poll(rx, 100, s_count, a, NULL);
        sn_receiver_commit(rx, NULL);
    }
    /* Keep acknowledging until the sender has seen the last ack. */
    for (int i = 0; i < 20; i++) {
        sn_receiver_poll(rx, 10, s_count, a, NULL);
        sn_receiver_commit(rx, NULL);
    }
    sn_receiver_destroy(&rx);
    return NULL;
}

/* Write `n` events as JSON lines. */
static char *
s_make_input(const char *dir, uint64_t n)
{
    char *path = sn_strdup_printf("%s/events.jsonl", dir);
    FILE *f = fopen(path, "w");
    for (uint64_t i = 0; i < n; i++) {
        fprintf(f,
                "{\"event_id\":\"e%llu\",\"site_id\":\"BJ-CY-H01\","
                "\"source\":\"fever_clinic\",\"region\":\"1101%02d\","
                "\"condition\":\"ILI\",\"report_time\":"
                "\"2026-11-20T08:00:00Z\",\"count\":1,\"age_years\":%d}\n",
                (unsigned long long)i, (int)(i % 17) + 1, (int)(i % 90));
    }
    fclose(f);
    return path;
}

/* Parse, validate, encode and spool every line of `path`, calling the
 * sender between chunks. @return the events spooled. */
static uint64_t
s_spool_file(const char *path, sn_spool_t *sp, sn_sender_t *tx)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    uint8_t enc[512];
    uint64_t n = 0;
    sn_time_t now = sn_time_now();
    while (fgets(line, sizeof line, f) != NULL) {
        sn_event_t ev;
        if (sn_event_from_json(line, strlen(line) - 1, &ev, NULL) != SN_OK ||
            sn_event_validate(&ev, now, NULL) != SN_OK) {
            continue;
        }
        int len = sn_event_encode(&ev, enc, sizeof enc);
        if (sn_spool_append(sp, enc, (size_t)len, NULL, NULL) != SN_OK) {
            fprintf(stderr, "bench: spool append failed\n");
            exit(1);
        }
        if (++n % 4096 == 0) {
            sn_spool_flush(sp, NULL);
            if (tx != NULL) {
                sn_sender_poll(tx, 0, NULL);
            }
        }
    }
    fclose(f);
    sn_spool_flush(sp, NULL);
    return n;
}

static sn_spool_t *
s_open_spool(const char *dir, const char *name)
{
    sn_spool_opts_t o;
    sn_spool_opts_init(&o);
    char *d = sn_strdup_printf("%s/%s", dir, name);
    o.dir = d;
    o.max_bytes = 8ull << 30;
    o.fsync = getenv("BENCH_FSYNC_NEVER") ? SN_SPOOL_FSYNC_NEVER : o.fsync;
    sn_spool_t *sp = NULL;
    sn_err_t err;
    if (sn_spool_open(&o, &sp, &err) != SN_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    free(d);
    return sp;
}

typedef struct corpus corpus_t;
static uint64_t s_spool_corpus(const corpus_t *c, sn_spool_t *sp,
                               sn_sender_t *tx);

/* Run 1a: the collector path over ZeroMQ, from the JSON lines file or,
 * when `c` is given, from already encoded events (the transport alone).
 * @return events/s. */
static double
s_bench_sentinel_zmq(const char *dir, const char *input, const corpus_t *c,
                     uint64_t n, size_t *bytes)
{
    char *ep = sn_strdup_printf("ipc://%s/bench.sock", dir);
    rx_arg_t a = {ep, n, 0, {0, 0}};
    (void)!pipe(a.ready);
    pthread_t th;
    pthread_create(&th, NULL, s_receiver, &a);
    char ch;
    (void)!read(a.ready[0], &ch, 1);
    sn_spool_t *sp = s_open_spool(dir, c ? "spool-zmq-enc" : "spool-zmq");
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.endpoint = ep;
    o.sender_id = "bench";
    o.curve = false;
    o.batch_records = BATCH;
    sn_sender_t *tx = NULL;
    sn_sender_new(&o, sp, NULL, NULL, &tx, NULL);
    double t0 = s_now();
    uint64_t spooled =
        c ? s_spool_corpus(c, sp, tx) : s_spool_file(input, sp, tx);
    double t1 = s_now();
    while (!sn_sender_drained(tx)) {
        sn_sender_poll(tx, 100, NULL);
    }
    double dt = s_now() - t0;
    if (getenv("BENCH_VERBOSE")) {
        fprintf(stderr, "spool phase %.3f s, drain phase %.3f s\n", t1 - t0,
                s_now() - t1);
    }
    *bytes = (size_t)sn_spool_bytes(sp);
    pthread_join(th, NULL);
    sn_sender_destroy(&tx);
    sn_spool_destroy(&sp);
    free(ep);
    close(a.ready[0]);
    close(a.ready[1]);
    return spooled == n && a.got == n ? (double)n / dt : 0.0;
}

/* The pre-encoded events, in batches of BATCH: the raw runs' payload. */
struct corpus {
    uint8_t *data;  /* the encoded events back to back */
    size_t *off;    /* offset of each */
    size_t *len;    /* length of each */
    char (*key)[8]; /* prefecture key of each */
    uint64_t n;     /* their number */
};

/* Spool the encoded events, calling the sender between chunks. */
static uint64_t
s_spool_corpus(const corpus_t *c, sn_spool_t *sp, sn_sender_t *tx)
{
    for (uint64_t i = 0; i < c->n; i++) {
        if (sn_spool_append(sp, c->data + c->off[i], c->len[i], NULL, NULL) !=
            SN_OK) {
            fprintf(stderr, "bench: spool append failed\n");
            exit(1);
        }
        if ((i + 1) % 4096 == 0) {
            sn_spool_flush(sp, NULL);
            sn_sender_poll(tx, 0, NULL);
        }
    }
    sn_spool_flush(sp, NULL);
    return c->n;
}

static corpus_t
s_corpus(const char *path, uint64_t n)
{
    corpus_t c = {sn_malloc(n * 128), sn_calloc(n, sizeof(size_t)),
                  sn_calloc(n, sizeof(size_t)), sn_calloc(n, 8), 0};
    FILE *f = fopen(path, "r");
    char line[1024];
    size_t at = 0;
    while (c.n < n && fgets(line, sizeof line, f) != NULL) {
        sn_event_t ev;
        if (sn_event_from_json(line, strlen(line) - 1, &ev, NULL) != SN_OK) {
            continue;
        }
        int len = sn_event_encode(&ev, c.data + at, 128);
        c.off[c.n] = at;
        c.len[c.n] = (size_t)len;
        snprintf(c.key[c.n], 8, "%.4s", ev.region);
        at += (size_t)len;
        c.n++;
    }
    fclose(f);
    return c;
}

/* Run 1b's receiver: count messages until all have come. */
typedef struct raw_arg {
    void *ctx;      /* shared context (inproc not used) */
    const char *ep; /* where to bind */
    uint64_t msgs;  /* messages expected */
    int ready[2];   /* pipe: bound */
} raw_arg_t;

static void *
s_raw_receiver(void *arg)
{
    raw_arg_t *a = arg;
    void *s = zmq_socket(a->ctx, ZMQ_ROUTER);
    zmq_bind(s, a->ep);
    (void)!write(a->ready[1], "r", 1);
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (uint64_t i = 0; i < a->msgs; i++) {
        zmq_msg_recv(&m, s, 0); /* routing id */
        zmq_msg_recv(&m, s, 0); /* body */
    }
    zmq_msg_close(&m);
    zmq_close(s);
    return NULL;
}

/* Run 1b: raw ZeroMQ, the same bytes in messages of the same sizes. */
static double
s_bench_raw_zmq(const char *dir, const corpus_t *c)
{
    char *ep = sn_strdup_printf("ipc://%s/raw.sock", dir);
    uint64_t msgs = (c->n + BATCH - 1) / BATCH;
    raw_arg_t a = {zmq_ctx_new(), ep, msgs, {0, 0}};
    (void)!pipe(a.ready);
    pthread_t th;
    pthread_create(&th, NULL, s_raw_receiver, &a);
    char ch;
    (void)!read(a.ready[0], &ch, 1);
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    zmq_connect(s, ep);
    uint8_t *buf = sn_malloc(BATCH * 140);
    double t0 = s_now();
    for (uint64_t i = 0; i < c->n; i += BATCH) {
        /* What a Batch holds: each record with a tag and a length byte. */
        size_t at = 0;
        for (uint64_t j = i; j < i + BATCH && j < c->n; j++) {
            buf[at++] = 0x1a;
            buf[at++] = (uint8_t)c->len[j];
            memcpy(buf + at, c->data + c->off[j], c->len[j]);
            at += c->len[j];
        }
        zmq_send(s, buf, at + 24, 0);
    }
    pthread_join(th, NULL);
    double dt = s_now() - t0;
    zmq_close(s);
    zmq_ctx_term(ctx);
    zmq_ctx_term(a.ctx);
    free(buf);
    free(ep);
    close(a.ready[0]);
    close(a.ready[1]);
    return (double)c->n / dt;
}

/* -- Kafka ---------------------------------------------------------------- */

static int
s_key(const uint8_t *data, size_t len, char *key, size_t size, void *arg)
{
    (void)arg;
    sn_event_t ev;
    int rc = sn_event_decode(data, len, &ev, NULL);
    if (rc == SN_OK) {
        snprintf(key, size, "%.4s", ev.region);
    }
    return rc;
}

static double
s_bench_sentinel_kafka(const char *dir, const char *input, const corpus_t *c,
                       uint64_t n, const char *brokers)
{
    sn_spool_t *sp = s_open_spool(dir, c ? "spool-kafka-enc" : "spool-kafka");
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.kind = SN_TRANSPORT_KAFKA;
    o.endpoint = brokers;
    o.topic = "events";
    o.sender_id = "bench";
    o.window = 1000000;
    sn_sender_t *tx = NULL;
    sn_err_t err;
    if (sn_sender_new(&o, sp, s_key, NULL, &tx, &err) != SN_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    double t0 = s_now();
    uint64_t spooled =
        c ? s_spool_corpus(c, sp, tx) : s_spool_file(input, sp, tx);
    while (!sn_sender_drained(tx)) {
        if (sn_sender_poll(tx, 100, &err) != SN_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            break;
        }
    }
    double dt = s_now() - t0;
    bool ok = sn_sender_drained(tx) && spooled == n;
    sn_sender_destroy(&tx);
    sn_spool_destroy(&sp);
    return ok ? (double)n / dt : 0.0;
}

static void
s_dr_count(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    uint64_t *done = opaque;
    *done += m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

static double
s_bench_raw_kafka(const corpus_t *c, const char *brokers)
{
    uint64_t done = 0;
    char msg[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, msg, sizeof msg);
    rd_kafka_conf_set(conf, "enable.idempotence", "true", msg, sizeof msg);
    rd_kafka_conf_set(conf, "acks", "all", msg, sizeof msg);
    rd_kafka_conf_set(conf, "linger.ms", "5", msg, sizeof msg);
    rd_kafka_conf_set_opaque(conf, &done);
    rd_kafka_conf_set_dr_msg_cb(conf, s_dr_count);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof msg);
    double t0 = s_now();
    for (uint64_t i = 0; i < c->n;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC("events"),
            RD_KAFKA_V_KEY(c->key[i], strlen(c->key[i])),
            RD_KAFKA_V_VALUE(c->data + c->off[i], c->len[i]),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 10);
            continue;
        }
        i++;
        rd_kafka_poll(rk, 0);
    }
    while (done < c->n && s_now() - t0 < 600) {
        rd_kafka_poll(rk, 50);
    }
    double dt = s_now() - t0;
    rd_kafka_destroy(rk);
    return done == c->n ? (double)c->n / dt : 0.0;
}

static void
s_print(const char *what, double ours, double raw, double aim)
{
    printf("%-44s %12.0f events/s\n", what, ours);
    printf("%-44s %12.0f events/s\n", "  raw, same bytes and message sizes",
           raw);
    printf("%-44s %12.2f (aim >= 0.50%s)\n", "  ratio",
           raw > 0 ? ours / raw : 0,
           aim > 0 ? ", and >= 1,000,000 events/s" : "");
}

int
main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 500000;
    char tmpl[] = "/tmp/bench-collect-XXXXXX";
    char *dir = mkdtemp(tmpl);
    char *input = s_make_input(dir, n);
    corpus_t c = s_corpus(input, n);
    size_t bytes = 0;
    double ours = s_bench_sentinel_zmq(dir, input, NULL, n, &bytes);
    double enc = s_bench_sentinel_zmq(dir, NULL, &c, n, &bytes);
    double raw = s_bench_raw_zmq(dir, &c);
    printf("collector, %llu events, spool %zu bytes, batches of %d:\n",
           (unsigned long long)n, bytes, BATCH);
    s_print("JSON lines -> spool -> ZeroMQ -> receiver", ours, raw, 1e6);
    s_print("encoded events -> spool -> ZeroMQ -> receiver", enc, raw, 1e6);

    char msg[256];
    rd_kafka_t *owner =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), msg, sizeof msg);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(owner, 3);
    rd_kafka_mock_topic_create(mc, "events", 4, 3);
    const char *brokers = rd_kafka_mock_cluster_bootstraps(mc);
    double kours = s_bench_sentinel_kafka(dir, input, NULL, n, brokers);
    double kenc = s_bench_sentinel_kafka(dir, NULL, &c, n, brokers);
    double kraw = s_bench_raw_kafka(&c, brokers);
    s_print("JSON lines -> spool -> Kafka (mock cluster)", kours, kraw, 0);
    s_print("encoded events -> spool -> Kafka (mock)", kenc, kraw, 0);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);

    char *cmd = sn_strdup_printf("rm -rf '%s'", dir);
    (void)!system(cmd);
    free(cmd);
    free(input);
    free(c.data);
    free(c.off);
    free(c.len);
    free(c.key);
    return 0;
}
