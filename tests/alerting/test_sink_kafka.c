/*  tests/alerting/test_sink_kafka.c - notifications on a Kafka topic
 *
 *  librdkafka's mock cluster stands in for the broker (no broker package
 *  exists here): the sink produces each notification through the outbox,
 *  and a real consumer reads it back with its key and idempotency header.
 */
#include "fixture.h"

#include "outbox.h"
#include "sink.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static char *s_dir;
static alr_store_t *s_store;
static alr_lifecycle_t *s_life;
static alr_lifecycle_opts_t s_opts;
static rd_kafka_t *s_mock_rk;
static rd_kafka_mock_cluster_t *s_mock;
static const char *const s_sinks[] = {"topic"};

static void
s_setup(void)
{
    char errstr[256];
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
    s_opts = fx_opts();
    s_opts.sinks = s_sinks;
    s_opts.n_sinks = 1;
    s_life = alr_lifecycle_new(s_store, &s_opts);
    s_mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), errstr,
                             sizeof errstr);
    ck_assert_ptr_nonnull(s_mock_rk);
    s_mock = rd_kafka_mock_cluster_new(s_mock_rk, 1);
    ck_assert_ptr_nonnull(s_mock);
    rd_kafka_mock_topic_create(s_mock, "sentinel.alerts", 1, 1);
}

static void
s_teardown(void)
{
    fx_check_store_caps(s_dir, s_store);
    rd_kafka_mock_cluster_destroy(s_mock);
    rd_kafka_destroy(s_mock_rk);
    alr_lifecycle_destroy(&s_life);
    alr_store_destroy(&s_store);
    ts_rmtree(s_dir);
    free(s_dir);
}

static void
s_raise(void)
{
    const fx_row_t rows[] = {{"school", "2026-11-20", 9}};
    sn_alert_t *a = fx_alert(SN_LEVEL_YELLOW, "2026-11-20", rows, 1);
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, 1000, NULL, NULL), SN_OK);
    sn_alert_destroy(&a);
}

/* Read the first message of the topic with the simple (group-less)
 * consumer; the caller destroys it with s_consumed_free(). */
static rd_kafka_t *s_consumer;

static rd_kafka_message_t *
s_consume_one(const char *brokers)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr,
                      sizeof errstr);
    s_consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    rd_kafka_topic_t *t =
        rd_kafka_topic_new(s_consumer, "sentinel.alerts", NULL);
    rd_kafka_consume_start(t, 0, RD_KAFKA_OFFSET_BEGINNING);
    rd_kafka_message_t *m = NULL;
    for (int i = 0; i < 50 && m == NULL; i++) {
        m = rd_kafka_consume(t, 0, 200);
        if (m != NULL && m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_message_destroy(m);
            m = NULL;
        }
    }
    rd_kafka_consume_stop(t, 0);
    rd_kafka_topic_destroy(t);
    return m;
}

static void
s_consumed_free(rd_kafka_message_t *m)
{
    rd_kafka_message_destroy(m);
    rd_kafka_destroy(s_consumer);
    s_consumer = NULL;
}

START_TEST(test_sink_kafka_produces_to_topic)
{
    const char *brokers = rd_kafka_mock_cluster_bootstraps(s_mock);
    alr_outbox_t *ob = alr_outbox_new(s_store, NULL);
    alr_sink_t *sink = NULL;
    sn_err_t err;
    ck_assert_int_eq(alr_sink_kafka_new("topic", brokers, "sentinel.alerts",
                                        ALR_FORMAT_JSON, &sink, &err),
                     SN_OK);
    alr_outbox_add_sink(ob, &sink);
    s_raise();
    ck_assert_int_eq(alr_outbox_run(ob, 2000, NULL), 1);
    ck_assert_int_eq(alr_store_pending(s_store), 0);
    alr_outbox_destroy(&ob);
    rd_kafka_message_t *m = s_consume_one(brokers);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->key_len, strlen("cdc.sentinel.test.alert.1.1"));
    ck_assert(memcmp(m->key, "cdc.sentinel.test.alert.1.1", m->key_len) == 0);
    char *body = strndup(m->payload, m->len);
    ck_assert_ptr_nonnull(strstr(body, "\"type\":\"Alert\""));
    free(body);
    rd_kafka_headers_t *hdrs = NULL;
    const void *v = NULL;
    size_t vlen = 0;
    ck_assert_int_eq(rd_kafka_message_headers(m, &hdrs), 0);
    ck_assert_int_eq(
        rd_kafka_header_get_last(hdrs, "idempotency-key", &v, &vlen), 0);
    ck_assert_int_eq(vlen, m->key_len);
    s_consumed_free(m);
}
END_TEST

START_TEST(test_sink_kafka_cap_format)
{
    const char *brokers = rd_kafka_mock_cluster_bootstraps(s_mock);
    alr_outbox_t *ob = alr_outbox_new(s_store, NULL);
    alr_sink_t *sink = NULL;
    ck_assert_int_eq(alr_sink_kafka_new("topic", brokers, "sentinel.alerts",
                                        ALR_FORMAT_CAP, &sink, NULL),
                     SN_OK);
    alr_outbox_add_sink(ob, &sink);
    s_raise();
    ck_assert_int_eq(alr_outbox_run(ob, 2000, NULL), 1);
    alr_outbox_destroy(&ob);
    rd_kafka_message_t *m = s_consume_one(brokers);
    ck_assert_ptr_nonnull(m);
    char *xml = strndup(m->payload, m->len);
    fx_check_cap(s_dir, xml);
    free(xml);
    s_consumed_free(m);
}
END_TEST

START_TEST(test_sink_kafka_errors)
{
    alr_sink_t *sink = NULL;
    sn_err_t err;
    ck_assert_int_eq(
        alr_sink_kafka_new("k", NULL, "t", ALR_FORMAT_JSON, &sink, &err),
        SN_EINVAL);
    ck_assert_str_eq(err.msg, "sink 'k': kafka needs brokers and topic");
    /* A broker that is not there: the delivery fails and stays pending. */
    alr_outbox_t *ob = alr_outbox_new(s_store, NULL);
    char brokers[64];
    snprintf(brokers, sizeof brokers, "127.0.0.1:%d", ts_free_port());
    ck_assert_int_eq(alr_sink_kafka_new("topic", brokers, "sentinel.alerts",
                                        ALR_FORMAT_JSON, &sink, &err),
                     SN_OK);
    alr_outbox_add_sink(ob, &sink);
    s_raise();
    ck_assert_int_eq(alr_outbox_run(ob, 2000, NULL), 0);
    ck_assert_int_eq(alr_store_pending(s_store), 1);
    alr_outbox_destroy(&ob);
}
END_TEST

static Suite *
sink_kafka_suite(void)
{
    Suite *s = suite_create("sink_kafka");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sink_kafka_produces_to_topic);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sink_kafka_cap_format);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sink_kafka_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(sink_kafka_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
