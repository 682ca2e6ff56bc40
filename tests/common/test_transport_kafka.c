/*  tests/common/test_transport_kafka.c - the reliable transport over Kafka
 *
 *  Against librdkafka's mock cluster (three brokers, a four-partition
 *  topic): a spool published by the idempotent producer and freed on
 *  delivery reports; a restarted producer that sends everything again is
 *  deduplicated by (sender, partition, seq); a consumer that stops before
 *  committing hands its uncommitted records to the next one in the group,
 *  and nothing committed comes twice; copies a producer sends again after
 *  the partitions changed owner are dropped by the new owner's read-back
 *  (and counted again without it); the error codes.
 */
#include "sentinel/transport.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_RECORDS 2000

static char *s_dir;
static rd_kafka_t *s_owner;                /* holds the mock cluster */
static rd_kafka_mock_cluster_t *s_cluster; /* three mock brokers */
static const char *s_brokers;              /* their bootstrap list */

/* Which sequence numbers the application saw, and how often. */
typedef struct seen {
    uint8_t count[N_RECORDS + 1]; /* per seq */
    uint64_t n;                   /* records delivered */
    uint64_t ends;                /* end markers (sender "site-end") */
} seen_t;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    char msg[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    s_owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, msg, sizeof msg);
    ck_assert_msg(s_owner != NULL, "rd_kafka_new: %s", msg);
    s_cluster = rd_kafka_mock_cluster_new(s_owner, 3);
    ck_assert_ptr_nonnull(s_cluster);
    s_brokers = rd_kafka_mock_cluster_bootstraps(s_cluster);
    ck_assert_int_eq(rd_kafka_mock_topic_create(s_cluster, "events", 4, 3),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void
s_teardown(void)
{
    rd_kafka_mock_cluster_destroy(s_cluster);
    rd_kafka_destroy(s_owner);
    ts_rmtree(s_dir);
    free(s_dir);
}

/* Records are "rec-<seq>"; their key spreads them over the partitions the
 * way prefectures do. */
static int
s_key(const uint8_t *data, size_t len, char *key, size_t size, void *arg)
{
    (void)arg;
    snprintf(key, size, "44%02d",
             (int)(strtol((const char *)data + 4, NULL, 10) % 17));
    return len > 4 ? SN_OK : SN_EINVAL;
}

static int
s_seen(const sn_record_t *rec, void *arg)
{
    seen_t *s = arg;
    char want[32];
    int n = snprintf(want, sizeof want, "rec-%" PRIu64, rec->seq);
    ck_assert_uint_eq(rec->len, (size_t)n);
    ck_assert(memcmp(rec->data, want, rec->len) == 0);
    if (strcmp(rec->sender_id, "site-end") == 0) {
        s->ends++;
        return SN_OK;
    }
    ck_assert_str_eq(rec->sender_id, "site-k");
    ck_assert_uint_le(rec->seq, N_RECORDS);
    s->count[rec->seq]++;
    s->n++;
    return SN_OK;
}

static sn_spool_t *
s_spool_n(const char *name, int n)
{
    sn_spool_opts_t o;
    sn_spool_opts_init(&o);
    char *dir = sn_strdup_printf("%s/%s", s_dir, name);
    o.dir = dir;
    o.fsync = SN_SPOOL_FSYNC_NEVER;
    o.segment_bytes = 8192;
    sn_spool_t *sp = NULL;
    ck_assert_int_eq(sn_spool_open(&o, &sp, NULL), SN_OK);
    free(dir);
    for (int i = 1; i <= n; i++) {
        char rec[32];
        int len = snprintf(rec, sizeof rec, "rec-%d", i);
        ck_assert_int_eq(sn_spool_append(sp, rec, (size_t)len, NULL, NULL),
                         SN_OK);
    }
    ck_assert_int_eq(sn_spool_flush(sp, NULL), SN_OK);
    return sp;
}

static sn_spool_t *
s_spool(const char *name)
{
    return s_spool_n(name, N_RECORDS);
}

static sn_transport_opts_t
s_opts(void)
{
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.kind = SN_TRANSPORT_KAFKA;
    o.endpoint = s_brokers;
    o.topic = "events";
    o.group = "analyzers";
    o.sender_id = "site-k";
    o.window = 1000;
    o.batch_records = 100;
    return o;
}

static void
s_publish_as(sn_spool_t *sp, const char *sender_id, uint64_t n)
{
    sn_transport_opts_t o = s_opts();
    o.sender_id = sender_id;
    sn_sender_t *tx = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_sender_new(&o, sp, s_key, NULL, &tx, &err), SN_OK);
    for (int i = 0; i < 3000 && !sn_sender_drained(tx); i++) {
        int rc = sn_sender_poll(tx, 20, &err);
        ck_assert_msg(rc == SN_OK, "poll: %s", err.msg);
    }
    ck_assert(sn_sender_drained(tx));
    ck_assert(sn_sender_connected(tx));
    ck_assert_uint_eq(sn_spool_acked_seq(sp), n);
    ck_assert_uint_eq(sn_spool_segments(sp), 1);
    sn_sender_destroy(&tx);
}

static void
s_publish(sn_spool_t *sp)
{
    s_publish_as(sp, "site-k", N_RECORDS);
}

static sn_receiver_t *
s_consumer_lookback(uint32_t lookback)
{
    sn_transport_opts_t o = s_opts();
    o.lookback = lookback;
    sn_receiver_t *rx = NULL;
    sn_err_t err;
    int rc = sn_receiver_new(&o, &rx, &err);
    ck_assert_msg(rc == SN_OK, "consumer: %s", err.msg);
    return rx;
}

static sn_receiver_t *
s_consumer(void)
{
    return s_consumer_lookback(SN_TRANSPORT_LOOKBACK);
}

/* Consume until `want` records came or a minute passed. */
static void
s_consume(sn_receiver_t *rx, seen_t *s, uint64_t want, bool commit)
{
    for (int i = 0; i < 600 && s->n < want; i++) {
        sn_err_t err;
        int n = sn_receiver_poll(rx, 100, s_seen, s, &err);
        ck_assert_msg(n >= 0, "poll: %s", err.msg);
        if (commit) {
            ck_assert_int_eq(sn_receiver_commit(rx, &err), SN_OK);
        }
    }
}

START_TEST(test_transport_kafka_usage)
{
    sn_spool_t *sp = s_spool("spool");
    s_publish(sp);
    sn_receiver_t *rx = s_consumer();
    seen_t *s = sn_calloc(1, sizeof *s);
    s_consume(rx, s, N_RECORDS, true);
    ck_assert_uint_eq(s->n, N_RECORDS);
    for (int i = 1; i <= N_RECORDS; i++) {
        ck_assert_int_eq(s->count[i], 1);
    }
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
    free(s);
}
END_TEST

START_TEST(test_transport_kafka_producer_restart_dedup)
{
    /* The second spool is the first one's twin: a producer that died before
     * its delivery reports and sends everything again. */
    sn_spool_t *a = s_spool("a"), *b = s_spool("b");
    s_publish(a);
    s_publish(b);
    /* End markers on every key, after the copies in every partition. */
    sn_spool_t *end = s_spool_n("end", 17);
    s_publish_as(end, "site-end", 17);
    sn_receiver_t *rx = s_consumer();
    seen_t *s = sn_calloc(1, sizeof *s);
    for (int i = 0; i < 600 && s->ends < 17; i++) {
        ck_assert_int_ge(sn_receiver_poll(rx, 100, s_seen, s, NULL), 0);
    }
    ck_assert_uint_eq(s->ends, 17);
    ck_assert_uint_eq(s->n, N_RECORDS);
    for (int i = 1; i <= N_RECORDS; i++) {
        ck_assert_int_eq(s->count[i], 1);
    }
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&a);
    sn_spool_destroy(&b);
    sn_spool_destroy(&end);
    free(s);
}
END_TEST

START_TEST(test_transport_kafka_uncommitted_go_to_next_consumer)
{
    sn_spool_t *sp = s_spool("spool");
    s_publish(sp);
    sn_receiver_t *rx = s_consumer();
    seen_t *first = sn_calloc(1, sizeof *first);
    s_consume(rx, first, 500, false);
    ck_assert_int_eq(sn_receiver_commit(rx, NULL), SN_OK);
    uint64_t committed = first->n;
    s_consume(rx, first, committed + 300, false); /* never committed */
    ck_assert_uint_gt(first->n, committed);
    sn_receiver_destroy(&rx);
    rx = s_consumer();
    seen_t *second = sn_calloc(1, sizeof *second);
    s_consume(rx, second, N_RECORDS - committed, true);
    ck_assert_uint_eq(second->n, N_RECORDS - committed);
    for (int i = 1; i <= N_RECORDS; i++) {
        ck_assert_int_le(second->count[i], 1);
    }
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
    free(first);
    free(second);
}
END_TEST

/* One consumer counts and commits everything and leaves the group; then
 * the producer, restarted without its delivery reports, sends every record
 * again; the next consumer of the group (fresh positions, as on another
 * machine) reads the topic from the committed offsets with `lookback`.
 * @return how many of the copies it delivered. */
static uint64_t
s_copies_after_handover(uint32_t lookback)
{
    sn_spool_t *a = s_spool("a"), *b = s_spool("b");
    s_publish(a);
    sn_receiver_t *rx = s_consumer();
    seen_t *first = sn_calloc(1, sizeof *first);
    s_consume(rx, first, N_RECORDS, true);
    ck_assert_uint_eq(first->n, N_RECORDS);
    ck_assert_int_eq(sn_receiver_commit(rx, NULL), SN_OK);
    sn_receiver_destroy(&rx);
    s_publish(b);
    sn_spool_t *end = s_spool_n("end", 17);
    s_publish_as(end, "site-end", 17);
    rx = s_consumer_lookback(lookback);
    seen_t *second = sn_calloc(1, sizeof *second);
    for (int i = 0; i < 600 && second->ends < 17; i++) {
        ck_assert_int_ge(sn_receiver_poll(rx, 100, s_seen, second, NULL), 0);
    }
    ck_assert_uint_eq(second->ends, 17);
    uint64_t copies = second->n;
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&a);
    sn_spool_destroy(&b);
    sn_spool_destroy(&end);
    free(first);
    free(second);
    return copies;
}

START_TEST(test_transport_kafka_handover_drops_copies)
{
    ck_assert_uint_eq(s_copies_after_handover(SN_TRANSPORT_LOOKBACK), 0);
}
END_TEST

START_TEST(test_transport_kafka_handover_without_lookback)
{
    /* The control: without the read-back the new owner has no position for
     * the sender, and every copy is delivered again. */
    ck_assert_uint_eq(s_copies_after_handover(0), N_RECORDS);
}
END_TEST

START_TEST(test_transport_kafka_errors)
{
    sn_spool_t *sp = s_spool("spool");
    sn_transport_opts_t o = s_opts();
    sn_sender_t *tx = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_sender_new(&o, sp, NULL, NULL, &tx, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "kafka sender: no key function");
    o.topic = NULL;
    ck_assert_int_eq(sn_sender_new(&o, sp, s_key, NULL, &tx, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "transport: kafka needs a topic");
    ck_assert_ptr_null(tx);
    sn_receiver_t *rx = s_consumer();
    ck_assert_int_eq(sn_receiver_ack(rx, "site-k", 1, &err), SN_EUNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(err.msg, "sn_receiver_commit"));
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
}
END_TEST

static Suite *
transport_kafka_suite(void)
{
    Suite *s = suite_create("transport_kafka");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_transport_kafka_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges, test_transport_kafka_producer_restart_dedup);
    tcase_add_test(edges, test_transport_kafka_uncommitted_go_to_next_consumer);
    tcase_add_test(edges, test_transport_kafka_handover_drops_copies);
    tcase_add_test(edges, test_transport_kafka_handover_without_lookback);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 60);
    tcase_add_test(errors, test_transport_kafka_errors);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(transport_kafka_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
