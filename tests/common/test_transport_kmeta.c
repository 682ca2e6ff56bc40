/*  tests/common/test_transport_kmeta.c - Kafka commit marks and handoffs
 *
 *  The commit metadata of the Kafka receiver (transport_kmeta.c) and the
 *  two calls built on it, sn_receiver_mark() and sn_receiver_landed(),
 *  against librdkafka's mock cluster: a commit's token is found in the
 *  group after it landed and not before, still found after the next owner
 *  of the partitions has committed past it (that owner carries it on), and
 *  a mark whose commit never happened is reported as not landed even then.
 */
#include "transport_int.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_dir;
static rd_kafka_t *s_owner;                /* holds the mock cluster */
static rd_kafka_mock_cluster_t *s_cluster; /* three mock brokers */
static const char *s_brokers;              /* their bootstrap list */

static void
s_setup(void)
{
    char msg[256];
    s_dir = ts_tmpdir();
    s_owner =
        rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), msg, sizeof msg);
    ck_assert_ptr_nonnull(s_owner);
    s_cluster = rd_kafka_mock_cluster_new(s_owner, 3);
    s_brokers = rd_kafka_mock_cluster_bootstraps(s_cluster);
    ck_assert_int_eq(rd_kafka_mock_topic_create(s_cluster, "events", 2, 3),
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

static int
s_key(const uint8_t *data, size_t len, char *key, size_t size, void *arg)
{
    (void)arg;
    snprintf(key, size, "k%zu", len > 0 ? (size_t)data[len - 1] % 5 : 0);
    return SN_OK;
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
    return o;
}

/* Produce records from..to ("rec-N") through a spool named `name`. */
static void
s_produce(const char *name, int from, int to)
{
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    char *dir = sn_strdup_printf("%s/%s", s_dir, name);
    so.dir = dir;
    so.fsync = SN_SPOOL_FSYNC_NEVER;
    sn_spool_t *sp = NULL;
    ck_assert_int_eq(sn_spool_open(&so, &sp, NULL), SN_OK);
    free(dir);
    for (int i = from; i <= to; i++) {
        char rec[32];
        int len = snprintf(rec, sizeof rec, "rec-%d", i);
        ck_assert_int_eq(sn_spool_append(sp, rec, (size_t)len, NULL, NULL),
                         SN_OK);
    }
    ck_assert_int_eq(sn_spool_flush(sp, NULL), SN_OK);
    sn_transport_opts_t o = s_opts();
    o.sender_id = name;
    sn_sender_t *tx = NULL;
    ck_assert_int_eq(sn_sender_new(&o, sp, s_key, NULL, &tx, NULL), SN_OK);
    for (int t = 0; t < 600 && !sn_sender_drained(tx); t++) {
        ck_assert_int_eq(sn_sender_poll(tx, 50, NULL), SN_OK);
    }
    ck_assert(sn_sender_drained(tx));
    ck_assert_uint_eq(sn_sender_acked(tx), (uint64_t)(to - from + 1));
    sn_sender_destroy(&tx);
    sn_spool_destroy(&sp);
}

static int
s_count(const sn_record_t *rec, void *arg)
{
    (void)rec;
    (*(int *)arg)++;
    return SN_OK;
}

/* Poll `rx` until it has delivered `n` records. */
static void
s_take(sn_receiver_t *rx, int n)
{
    int got = 0;
    for (int t = 0; t < 600 && got < n; t++) {
        ck_assert_int_ge(sn_receiver_poll(rx, 100, s_count, &got, NULL), 0);
    }
    ck_assert_int_eq(got, n);
}

static sn_receiver_t *
s_receiver(void)
{
    sn_transport_opts_t o = s_opts();
    sn_receiver_t *rx = NULL;
    sn_err_t err;
    ck_assert_msg(sn_receiver_new(&o, &rx, &err) == SN_OK, "%s", err.msg);
    return rx;
}

START_TEST(test_transport_kmeta_usage)
{
    s_produce("site-a", 1, 200);
    sn_receiver_t *rx = s_receiver();
    s_take(rx, 200);
    uint8_t *mark = NULL;
    size_t len = 0;
    ck_assert_int_eq(sn_receiver_mark(rx, &mark, &len, NULL), SN_OK);
    ck_assert_int_eq(sn_receiver_landed(rx, mark, len, NULL), 0);
    ck_assert_int_eq(sn_receiver_commit(rx, NULL), SN_OK);
    ck_assert_int_eq(sn_receiver_landed(rx, mark, len, NULL), 1);
    /* Nothing new delivered: nothing to mark. */
    uint8_t *none = NULL;
    ck_assert_int_eq(sn_receiver_mark(rx, &none, &len, NULL), SN_ENODATA);
    ck_assert_ptr_null(none);
    free(mark);
    sn_receiver_destroy(&rx);
}
END_TEST

START_TEST(test_transport_kmeta_found_after_the_next_owner_commits)
{
    s_produce("site-a", 1, 100);
    sn_receiver_t *a = s_receiver();
    s_take(a, 100);
    uint8_t *landed = NULL, *lost = NULL;
    size_t n_landed = 0, n_lost = 0;
    ck_assert_int_eq(sn_receiver_mark(a, &landed, &n_landed, NULL), SN_OK);
    ck_assert_int_eq(sn_receiver_commit(a, NULL), SN_OK);
    /* a takes more and marks them, but dies before committing. */
    s_produce("site-b", 1, 50);
    s_take(a, 50);
    ck_assert_int_eq(sn_receiver_mark(a, &lost, &n_lost, NULL), SN_OK);
    sn_receiver_destroy(&a);
    /* b starts at a's committed offsets (the 50 again) and commits past. */
    sn_receiver_t *b = s_receiver();
    s_take(b, 50);
    ck_assert_int_eq(sn_receiver_commit(b, NULL), SN_OK);
    ck_assert_int_eq(sn_receiver_landed(b, landed, n_landed, NULL), 1);
    ck_assert_int_eq(sn_receiver_landed(b, lost, n_lost, NULL), 0);
    free(landed);
    free(lost);
    sn_receiver_destroy(&b);
}
END_TEST

START_TEST(test_transport_kmeta_carry_keeps_eight)
{
    char h[SN_KMETA_HANDOFFS_LEN], md[512];
    /* Not Sentinel's metadata: nothing to carry. */
    sn_kmeta_carry("", 0, 7, h, sizeof h);
    ck_assert_str_eq(h, "");
    /* Our own commit: the list stays as it was. */
    char *own = sn_kmeta_format(0x10, 7, "0000000000000001");
    sn_kmeta_carry(own, strlen(own), 7, h, sizeof h);
    ck_assert_str_eq(h, "0000000000000001");
    /* Another consumer's: its token first, at most eight kept. */
    snprintf(md, sizeof md, "sn1 t=%016x i=%016x h=", 0x99, 8);
    for (int k = 1; k <= 8; k++) {
        snprintf(md + strlen(md), sizeof md - strlen(md), "%s%016x",
                 k > 1 ? "," : "", k);
    }
    sn_kmeta_carry(md, strlen(md), 7, h, sizeof h);
    ck_assert_uint_eq(strlen(h), 8 * 17 - 1);
    ck_assert(strncmp(h, "0000000000000099,0000000000000001", 33) == 0);
    ck_assert(sn_kmeta_has(h, 0x7));
    ck_assert(!sn_kmeta_has(h, 0x8)); /* the oldest fell off */
    uint64_t t = 0, i = 0;
    char back[SN_KMETA_HANDOFFS_LEN];
    ck_assert(sn_kmeta_parse(own, strlen(own), &t, &i, back, sizeof back));
    ck_assert_uint_eq(t, 0x10);
    ck_assert_uint_eq(i, 7);
    ck_assert(sn_kmeta_random() != 0);
    free(own);
}
END_TEST

START_TEST(test_transport_kmeta_errors)
{
    sn_receiver_t *rx = s_receiver();
    sn_err_t err;
    uint8_t junk[20] = {1, 2, 3};
    ck_assert_int_eq(sn_receiver_landed(rx, junk, sizeof junk, &err),
                     SN_ECORRUPT);
    ck_assert_str_eq(err.msg, "kafka commit mark: 20 bytes, not a mark");
    sn_receiver_destroy(&rx);
    /* ZeroMQ acknowledges idempotently: no marks. */
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    char *ep = sn_strdup_printf("ipc://%s/rx.sock", s_dir);
    o.endpoint = ep;
    o.curve = false;
    ck_assert_int_eq(sn_receiver_new(&o, &rx, NULL), SN_OK);
    uint8_t *mark = NULL;
    size_t len = 0;
    ck_assert_int_eq(sn_receiver_mark(rx, &mark, &len, &err), SN_EUNSUPPORTED);
    ck_assert_str_eq(err.msg, "transport: commit marks are for kafka");
    ck_assert_int_eq(sn_receiver_landed(rx, junk, sizeof junk, &err),
                     SN_EUNSUPPORTED);
    sn_receiver_destroy(&rx);
    free(ep);
}
END_TEST

static Suite *
transport_kmeta_suite(void)
{
    Suite *s = suite_create("transport_kmeta");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 120);
    tcase_add_test(usage, test_transport_kmeta_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 120);
    tcase_add_test(edges,
                   test_transport_kmeta_found_after_the_next_owner_commits);
    tcase_add_test(edges, test_transport_kmeta_carry_keeps_eight);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 120);
    tcase_add_test(errors, test_transport_kmeta_errors);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(transport_kmeta_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
