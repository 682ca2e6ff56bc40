/*  tests/alerting/test_sink_zmq.c - notifications on a ZeroMQ PUB socket
 *
 *  The sink binds an ipc:// endpoint in a temporary directory. Before any
 *  subscriber joins, a delivery fails and stays pending; once a SUB socket
 *  subscribes to "alert.", the outbox delivers it as two frames.
 */
#include "fixture.h"

#include "outbox.h"
#include "sink.h"

#include <zmq.h>

static char *s_dir;
static alr_store_t *s_store;
static alr_lifecycle_t *s_life;
static alr_outbox_t *s_outbox;
static alr_lifecycle_opts_t s_opts;
static const char *const s_sinks[] = {"pub"};
static char s_endpoint[600];

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
    s_opts = fx_opts();
    s_opts.sinks = s_sinks;
    s_opts.n_sinks = 1;
    s_life = alr_lifecycle_new(s_store, &s_opts);
    s_outbox = alr_outbox_new(s_store, NULL);
    snprintf(s_endpoint, sizeof s_endpoint, "ipc://%s/alerts.sock", s_dir);
    alr_sink_t *sink = NULL;
    sn_err_t err;
    ck_assert_msg(alr_sink_zmq_new("pub", s_endpoint, ALR_FORMAT_JSON, &sink,
                                   &err) == SN_OK,
                  "%s", err.msg);
    alr_outbox_add_sink(s_outbox, &sink);
}

static void
s_teardown(void)
{
    fx_check_store_caps(s_dir, s_store);
    alr_outbox_destroy(&s_outbox);
    alr_lifecycle_destroy(&s_life);
    alr_store_destroy(&s_store);
    ts_rmtree(s_dir);
    free(s_dir);
}

static void
s_raise(sn_level_t level, const char *region)
{
    const fx_row_t rows[] = {{"hospital", "2026-11-20", 3}};
    sn_alert_t *a = fx_alert(level, "2026-11-20", rows, 1);
    strcpy(a->region, region);
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, 1000, NULL, NULL), SN_OK);
    sn_alert_destroy(&a);
}

START_TEST(test_sink_zmq_publishes_after_subscribe)
{
    s_raise(SN_LEVEL_RED, "110105");
    ck_assert_int_eq(alr_outbox_run(s_outbox, 2000, NULL), 0); /* nobody */
    void *ctx = zmq_ctx_new();
    void *sub = zmq_socket(ctx, ZMQ_SUB);
    ck_assert_int_eq(zmq_connect(sub, s_endpoint), 0);
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "alert.", 6);
    sn_time_t now = 2000;
    int sent = 0;
    for (int i = 0; i < 100 && sent == 0; i++) {
        now += 3600000;
        sent = alr_outbox_run(s_outbox, now, NULL);
    }
    ck_assert_int_eq(sent, 1);
    char topic[32] = {0}, body[8192] = {0};
    int timeout = 5000;
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    ck_assert_int_eq(zmq_recv(sub, topic, sizeof topic - 1, 0), 9);
    ck_assert_str_eq(topic, "alert.red");
    ck_assert_int_gt(zmq_recv(sub, body, sizeof body - 1, 0), 0);
    ck_assert_ptr_nonnull(strstr(body, "cdc.sentinel.test.alert.1.1"));
    zmq_close(sub);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(test_sink_zmq_errors)
{
    alr_sink_t *sink = NULL;
    sn_err_t err;
    ck_assert_int_eq(
        alr_sink_zmq_new("bad", "bogus://x", ALR_FORMAT_JSON, &sink, &err),
        SN_ETRANSPORT);
    ck_assert_ptr_nonnull(strstr(err.msg, "sink 'bad': cannot bind bogus://x"));
    s_raise(SN_LEVEL_BLUE, "110106");
    ck_assert_int_eq(alr_outbox_run(s_outbox, 2000, NULL), 0);
    char *json = NULL;
    alr_store_show_json(s_store, 1, &json, NULL);
    ck_assert_ptr_nonnull(strstr(json, "no subscriber yet"));
    free(json);
}
END_TEST

static Suite *
sink_zmq_suite(void)
{
    Suite *s = suite_create("sink_zmq");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sink_zmq_publishes_after_subscribe);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_sink_zmq_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(sink_zmq_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
