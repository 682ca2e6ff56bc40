/*  bench/bench_collect.c - collector throughput next to the raw transports
 *
 *  Figures for the collector issue, measured in one run on this machine:
 *   1. JSON lines file -> the collector's JSON feed (col_feed: split, parse)
 *      -> validate, encode -> disk spool, flushed every 4096 records as
 *      `sentinel collect` does -> ZeroMQ (ipc://) -> receiver thread that
 *      decodes every event and acknowledges: events/s; next to raw ZeroMQ
 *      moving the same bytes in messages of the same sizes (one batch of
 *      records per message), with no spool, no protocol, no decoding.
 *      Measured under the default fsync policy (batch: group commit, its
 *      bounds printed) and under the strictest one (always: fsync at every
 *      flush, before anything flushed is acknowledged to the site).
 *   2. The same spool -> Kafka sender into librdkafka's mock cluster, every
 *      record delivery-reported, next to a bare librdkafka producer sending
 *      the same records with the same keys (and no headers).
 *  usage: bench_collect [EVENTS] [zmq|kafka|all]   (500000, all)
 *  Each figure is the best of three interleaved rounds (the machine is
 *  shared). It prints figures; it never passes or fails on them.
 */
#include "feed_json.h"

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
#define FLUSH_EVERY 4096     /* records between spool flushes, as the CLI */
#define READ_CHUNK (1 << 20) /* bytes read from the input at a time */
#define ROUNDS 3             /* each figure is the best of these */

/* The receiving side of run 1, in its own thread and ZeroMQ context. */
typedef struct rx_arg {
    const char *endpoint; /* where to bind */
    uint64_t want;        /* stop after this many records */
    uint64_t got;         /* records delivered */
    int ready[2];         /* pipe: bound */
    double cpu;           /* CPU seconds the thread spent receiving */
} rx_arg_t;

/* One measured run: the rate, and the CPU time per event of the thread
 * that parses, spools and sends, and of the receiving thread. */
typedef struct result {
    double rate;  /* events/s, wall clock */
    double tx_us; /* collector thread, CPU microseconds per event */
    double rx_us; /* receiver thread, CPU microseconds per event */
} result_t;

static double
s_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
s_now(void)
{
    return s_clock(CLOCK_MONOTONIC);
}

/* CPU seconds of the calling thread: the machine is shared, so the wall
 * clock alone does not say what a step costs. */
static double
s_cpu(void)
{
    return s_clock(CLOCK_THREAD_CPUTIME_ID);
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
    double c0 = s_cpu();
    while (a->got < a->want) {
        sn_receiver_poll(rx, 100, s_count, a, NULL);
        sn_receiver_commit(rx, NULL);
    }
    a->cpu = s_cpu() - c0;
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

/* Spool one encoded event; flush and let the sender work every
 * FLUSH_EVERY records. */
static void
s_spool_one(sn_spool_t *sp, sn_sender_t *tx, const uint8_t *enc, size_t len,
            uint64_t *n)
{
    if (sn_spool_append(sp, enc, len, NULL, NULL) != SN_OK) {
        fprintf(stderr, "bench: spool append failed\n");
        exit(1);
    }
    if (++*n % FLUSH_EVERY == 0) {
        sn_spool_flush(sp, NULL);
        if (tx != NULL) {
            sn_sender_poll(tx, 0, NULL);
        }
    }
}

/* Take every record out of the feed: validate, encode, spool. */
static void
s_drain_feed(col_feed_t *feed, sn_spool_t *sp, sn_sender_t *tx, sn_time_t now,
             uint64_t *n)
{
    col_record_t rec;
    uint8_t enc[512];
    int r;
    while ((r = col_feed_next(feed, &rec)) != COL_FEED_AGAIN) {
        if (r != COL_FEED_EVENT ||
            sn_event_validate(&rec.event, now, &rec.err) != SN_OK) {
            continue;
        }
        int len = sn_event_encode(&rec.event, enc, sizeof enc);
        s_spool_one(sp, tx, enc, (size_t)len, n);
    }
}

/* Read `path` through the collector's JSON lines feed, then validate,
 * encode and spool every event, calling the sender between chunks.
 * @return the events spooled. */
static uint64_t
s_spool_file(const char *path, sn_spool_t *sp, sn_sender_t *tx)
{
    FILE *f = fopen(path, "r");
    char *buf = sn_malloc(READ_CHUNK);
    col_feed_t *feed = col_feed_json_new(path, NULL, 0);
    uint64_t n = 0;
    sn_time_t now = sn_time_now();
    size_t got;
    while ((got = fread(buf, 1, READ_CHUNK, f)) > 0) {
        col_feed_push(feed, buf, got);
        s_drain_feed(feed, sp, tx, now, &n);
    }
    col_feed_end(feed);
    s_drain_feed(feed, sp, tx, now, &n);
    col_feed_destroy(&feed);
    free(buf);
    fclose(f);
    sn_spool_flush(sp, NULL);
    return n;
}

/* The spool of one run; every run starts with an empty one. */
static char *
s_spool_dir(const char *dir, const char *name, sn_spool_fsync_t fsync)
{
    return sn_strdup_printf("%s/%s-%s", dir, name, sn_spool_fsync_name(fsync));
}

static sn_spool_t *
s_open_spool(const char *dir, const char *name, sn_spool_fsync_t fsync)
{
    sn_spool_opts_t o;
    sn_spool_opts_init(&o);
    char *d = s_spool_dir(dir, name, fsync);
    o.dir = d;
    o.max_bytes = 8ull << 30;
    o.fsync = fsync;
    sn_spool_t *sp = NULL;
    sn_err_t err;
    if (sn_spool_open(&o, &sp, &err) != SN_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    free(d);
    return sp;
}

static void
s_close_spool(sn_spool_t **sp, const char *dir, const char *name,
              sn_spool_fsync_t fsync)
{
    sn_spool_destroy(sp);
    char *d = s_spool_dir(dir, name, fsync);
    char *cmd = sn_strdup_printf("rm -rf '%s'", d);
    (void)!system(cmd);
    free(cmd);
    free(d);
}

typedef struct corpus corpus_t;
static uint64_t s_spool_corpus(const corpus_t *c, sn_spool_t *sp,
                               sn_sender_t *tx);

/* Run 1a: the collector path over ZeroMQ, from the JSON lines file or,
 * when `c` is given, from already encoded events (the transport alone).
 * @return the rate (0 when events went missing) and CPU times. */
static result_t
s_bench_sentinel_zmq(const char *dir, const char *input, const corpus_t *c,
                     uint64_t n, sn_spool_fsync_t fsync, size_t *bytes)
{
    char *ep = sn_strdup_printf("ipc://%s/bench.sock", dir);
    rx_arg_t a = {ep, n, 0, {0, 0}, 0};
    (void)!pipe(a.ready);
    pthread_t th;
    pthread_create(&th, NULL, s_receiver, &a);
    char ch;
    (void)!read(a.ready[0], &ch, 1);
    const char *name = c ? "spool-zmq-enc" : "spool-zmq";
    sn_spool_t *sp = s_open_spool(dir, name, fsync);
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.endpoint = ep;
    o.sender_id = "bench";
    o.curve = false;
    o.batch_records = BATCH;
    sn_sender_t *tx = NULL;
    sn_sender_new(&o, sp, NULL, NULL, &tx, NULL);
    double t0 = s_now(), c0 = s_cpu();
    uint64_t spooled =
        c ? s_spool_corpus(c, sp, tx) : s_spool_file(input, sp, tx);
    double t1 = s_now();
    while (!sn_sender_drained(tx)) {
        sn_sender_poll(tx, 100, NULL);
    }
    double dt = s_now() - t0, cpu = s_cpu() - c0;
    if (getenv("BENCH_VERBOSE")) {
        fprintf(stderr, "spool phase %.3f s, drain phase %.3f s\n", t1 - t0,
                s_now() - t1);
    }
    *bytes = (size_t)sn_spool_bytes(sp);
    pthread_join(th, NULL);
    sn_sender_destroy(&tx);
    s_close_spool(&sp, dir, name, fsync);
    free(ep);
    close(a.ready[0]);
    close(a.ready[1]);
    bool ok = spooled == n && a.got == n;
    return (result_t){ok ? (double)n / dt : 0.0, 1e6 * cpu / (double)n,
                      1e6 * a.cpu / (double)n};
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
    uint64_t n = 0;
    for (uint64_t i = 0; i < c->n; i++) {
        s_spool_one(sp, tx, c->data + c->off[i], c->len[i], &n);
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

static double
s_bench_sentinel_kafka(const char *dir, const char *input, const corpus_t *c,
                       uint64_t n, const char *brokers)
{
    const char *name = c ? "spool-kafka-enc" : "spool-kafka";
    sn_spool_t *sp = s_open_spool(dir, name, SN_SPOOL_FSYNC_BATCH);
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.kind = SN_TRANSPORT_KAFKA;
    o.endpoint = brokers;
    o.topic = "events";
    o.sender_id = "bench";
    o.window = 1000000;
    sn_sender_t *tx = NULL;
    sn_err_t err;
    if (sn_sender_new(&o, sp, sn_event_prefecture_key, NULL, &tx, &err) !=
        SN_OK) {
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
    s_close_spool(&sp, dir, name, SN_SPOOL_FSYNC_BATCH);
    return ok ? (double)n / dt : 0.0;
}

static void
s_dr_count(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    uint64_t *done = opaque;
    *done += m->err == RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Produce record i of the corpus, bare or with the transport's two
 * headers (sender and sequence number) for comparison. */
static rd_kafka_resp_err_t
s_raw_produce(rd_kafka_t *rk, const corpus_t *c, uint64_t i, bool headers)
{
    if (!headers) {
        return rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC("events"),
            RD_KAFKA_V_KEY(c->key[i], strlen(c->key[i])),
            RD_KAFKA_V_VALUE(c->data + c->off[i], c->len[i]),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    }
    uint8_t s8[8];
    for (int b = 0; b < 8; b++) {
        s8[b] = (uint8_t)((i + 1) >> (8 * b));
    }
    return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("events"),
                             RD_KAFKA_V_KEY(c->key[i], strlen(c->key[i])),
                             RD_KAFKA_V_VALUE(c->data + c->off[i], c->len[i]),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_HEADER("sn-sender", "bench", -1),
                             RD_KAFKA_V_HEADER("sn-seq", s8, 8),
                             RD_KAFKA_V_END);
}

static double
s_bench_raw_kafka(const corpus_t *c, const char *brokers, bool headers)
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
        rd_kafka_resp_err_t e = s_raw_produce(rk, c, i, headers);
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
s_line(const char *what, double v)
{
    printf("  %-50s %10.0f events/s\n", what, v);
}

/* A run with what its threads cost: on a shared machine the CPU time per
 * event says what the rate would be with a core each. */
static void
s_result(const char *what, result_t r)
{
    printf("  %-50s %10.0f events/s  (CPU us/event: collector %.2f, "
           "receiver %.2f)\n",
           what, r.rate, r.tx_us, r.rx_us);
}

static void
s_ratio(double ours, double raw, bool million)
{
    printf("  %-50s %10.2f (aim >= 0.50%s)\n", "ratio, default policy / raw",
           raw > 0 ? ours / raw : 0, million ? ", and >= 1,000,000/s" : "");
}

/* Keep the faster of two runs (a run that lost events counts 0). */
static void
s_best(result_t *best, result_t r)
{
    if (r.rate > best->rate) {
        *best = r;
    }
}

/* Run 1: ZeroMQ. */
static void
s_run_zmq(const char *dir, const char *input, const corpus_t *c, uint64_t n)
{
    size_t bytes = 0;
    sn_spool_opts_t d;
    sn_spool_opts_init(&d);
    result_t batch = {0}, always = {0}, enc = {0}, enc_always = {0};
    double raw = 0;
    /* Rounds interleave the runs, so a burst of load elsewhere on the
     * machine does not fall on one of them only. */
    for (int r = 0; r < ROUNDS; r++) {
        s_best(&batch, s_bench_sentinel_zmq(dir, input, NULL, n,
                                            SN_SPOOL_FSYNC_BATCH, &bytes));
        s_best(&always, s_bench_sentinel_zmq(dir, input, NULL, n,
                                             SN_SPOOL_FSYNC_ALWAYS, &bytes));
        s_best(&enc, s_bench_sentinel_zmq(dir, NULL, c, n, SN_SPOOL_FSYNC_BATCH,
                                          &bytes));
        s_best(&enc_always,
               s_bench_sentinel_zmq(dir, NULL, c, n, SN_SPOOL_FSYNC_ALWAYS,
                                    &bytes));
        double rz = s_bench_raw_zmq(dir, c);
        raw = rz > raw ? rz : raw;
    }
    printf("collector over ZeroMQ, %llu events, spool %zu bytes, batches of "
           "%d, spool flushed every %d records, best of %d rounds;\n"
           "default fsync policy: batch (fsync every %u records or %u ms, "
           "whichever first); strictest: always (fsync at every flush)\n",
           (unsigned long long)n, bytes, BATCH, FLUSH_EVERY, ROUNDS,
           d.fsync_every, d.fsync_ms);
    printf("JSON lines -> feed -> spool -> ZeroMQ -> receiver\n");
    s_result("fsync batch (default)", batch);
    s_result("fsync always (strictest)", always);
    s_line("raw ZeroMQ, same bytes and message sizes", raw);
    s_ratio(batch.rate, raw, true);
    printf("encoded events -> spool -> ZeroMQ -> receiver\n");
    s_result("fsync batch (default)", enc);
    s_result("fsync always (strictest)", enc_always);
    s_ratio(enc.rate, raw, true);
}

/* Run 2: Kafka into the mock cluster. */
static void
s_run_kafka(const char *dir, const char *input, const corpus_t *c, uint64_t n)
{
    char msg[256];
    rd_kafka_t *owner =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), msg, sizeof msg);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(owner, 3);
    rd_kafka_mock_topic_create(mc, "events", 4, 3);
    const char *brokers = rd_kafka_mock_cluster_bootstraps(mc);
    double kours = 0, kenc = 0, kraw = 0, khdr = 0;
    for (int r = 0; r < ROUNDS; r++) {
        double v = s_bench_sentinel_kafka(dir, input, NULL, n, brokers);
        kours = v > kours ? v : kours;
        v = s_bench_sentinel_kafka(dir, NULL, c, n, brokers);
        kenc = v > kenc ? v : kenc;
        v = s_bench_raw_kafka(c, brokers, false);
        kraw = v > kraw ? v : kraw;
        v = s_bench_raw_kafka(c, brokers, true);
        khdr = v > khdr ? v : khdr;
    }
    printf("collector over Kafka (mock cluster, 3 brokers, 4 partitions), "
           "fsync batch, best of %d rounds:\n",
           ROUNDS);
    s_line("JSON lines -> feed -> spool -> Kafka", kours);
    s_line("encoded events -> spool -> Kafka", kenc);
    s_line("bare librdkafka producer, same records and keys", kraw);
    s_line("  the same with the transport's two headers", khdr);
    s_ratio(kours, kraw, false);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
}

int
main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 500000;
    const char *which = argc > 2 ? argv[2] : "all";
    if (n == 0 || (strcmp(which, "zmq") != 0 && strcmp(which, "kafka") != 0 &&
                   strcmp(which, "all") != 0)) {
        fprintf(stderr, "usage: bench_collect [EVENTS] [zmq|kafka|all]\n");
        return 2;
    }
    char tmpl[] = "/tmp/bench-collect-XXXXXX";
    char *dir = mkdtemp(tmpl);
    char *input = s_make_input(dir, n);
    corpus_t c = s_corpus(input, n);
    if (strcmp(which, "kafka") != 0) {
        s_run_zmq(dir, input, &c, n);
    }
    if (strcmp(which, "zmq") != 0) {
        s_run_kafka(dir, input, &c, n);
    }
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
