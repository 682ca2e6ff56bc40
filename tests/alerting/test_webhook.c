/*  tests/alerting/test_webhook.c - webhook delivery through the outbox
 *
 *  A real HTTP receiver on 127.0.0.1 (libmicrohttpd, in the test process)
 *  answers 503 to the first N requests, checks the HMAC signature of each
 *  body and counts arrivals per idempotency key. The outbox runs with a
 *  clock the test moves forward, so the backoff needs no waiting.
 */
#include "fixture.h"

#include "outbox.h"
#include "sink.h"

#include <microhttpd.h>

#define SECRET "s3cret-shared-key"
#define MAX_KEYS 16

typedef struct rx {
    int fail_first;     /* answer 503 to this many requests */
    int status;         /* then this status (200) */
    int requests;       /* requests seen */
    int bad_signatures; /* bodies whose HMAC did not match */
    int n_keys;         /* distinct idempotency keys accepted */
    char keys[MAX_KEYS][ALR_IDENT_MAX + 1];
    int count[MAX_KEYS]; /* accepted arrivals per key */
    char type[64];       /* last Content-Type */
    char body[16384];    /* last accepted body */
} rx_t;

typedef struct rx_req {
    char *data; /* body so far */
    size_t len; /* its length */
} rx_req_t;

static void
s_accept(rx_t *rx, const char *key, const char *body)
{
    for (int i = 0; i < rx->n_keys; i++) {
        if (strcmp(rx->keys[i], key) == 0) {
            rx->count[i]++;
            return;
        }
    }
    snprintf(rx->keys[rx->n_keys], sizeof rx->keys[0], "%s", key);
    rx->count[rx->n_keys++] = 1;
    snprintf(rx->body, sizeof rx->body, "%s", body);
}

static enum MHD_Result
s_answer(struct MHD_Connection *c, int status)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, "ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Check the signature, then count the arrival (dropping repeats). */
static int
s_finish(rx_t *rx, struct MHD_Connection *c, rx_req_t *q)
{
    rx->requests++;
    if (rx->requests <= rx->fail_first) {
        return 503;
    }
    const char *sig =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Sentinel-Signature");
    const char *key =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Idempotency-Key");
    const char *type =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    char hex[65];
    alr_sink_webhook_sign(SECRET, strlen(SECRET), q->data ? q->data : "",
                          q->len, hex);
    if (sig == NULL || strncmp(sig, "sha256=", 7) != 0 ||
        strcmp(sig + 7, hex) != 0) {
        rx->bad_signatures++;
        return 401;
    }
    snprintf(rx->type, sizeof rx->type, "%s", type ? type : "");
    if (rx->status == 200) {
        s_accept(rx, key ? key : "", q->data ? q->data : "");
    }
    return rx->status;
}

static enum MHD_Result
s_handler(void *cls, struct MHD_Connection *c, const char *url,
          const char *method, const char *version, const char *upload,
          size_t *upload_size, void **con_cls)
{
    (void)url, (void)method, (void)version;
    rx_req_t *q = *con_cls;
    if (q == NULL) {
        *con_cls = calloc(1, sizeof *q);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        q->data = realloc(q->data, q->len + *upload_size + 1);
        memcpy(q->data + q->len, upload, *upload_size);
        q->len += *upload_size;
        q->data[q->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    return s_answer(c, s_finish(cls, c, q));
}

static void
s_completed(void *cls, struct MHD_Connection *c, void **con_cls,
            enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c, (void)code;
    rx_req_t *q = *con_cls;
    if (q != NULL) {
        free(q->data);
        free(q);
    }
    *con_cls = NULL;
}

static struct MHD_Daemon *
s_rx_start(rx_t *rx, int port)
{
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, s_handler,
        rx, MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    ck_assert_ptr_nonnull(d);
    return d;
}

/* ------------------------------------------------------------- fixtures */

static char *s_dir;
static alr_store_t *s_store;
static alr_lifecycle_t *s_life;
static alr_outbox_t *s_outbox;
static alr_lifecycle_opts_t s_opts;
static const char *const s_hook[] = {"hook"};
static int s_port;

static void
s_setup_with(alr_format_t format)
{
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
    s_opts = fx_opts();
    s_opts.sinks = s_hook;
    s_opts.n_sinks = 1;
    s_life = alr_lifecycle_new(s_store, &s_opts);
    alr_outbox_opts_t oo = {1000, 60000, 7};
    s_outbox = alr_outbox_new(s_store, &oo);
    s_port = ts_free_port();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/alerts", s_port);
    alr_webhook_opts_t wo = {url, format, SECRET, strlen(SECRET), 5000};
    alr_sink_t *sink = NULL;
    ck_assert_int_eq(alr_sink_webhook_new("hook", &wo, &sink, NULL), SN_OK);
    alr_outbox_add_sink(s_outbox, &sink);
}

static void
s_setup(void)
{
    s_setup_with(ALR_FORMAT_JSON);
}

static void
s_setup_cap(void)
{
    s_setup_with(ALR_FORMAT_CAP);
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
s_raise(const char *region)
{
    const fx_row_t rows[] = {{"pharmacy", "2026-11-20", 12}};
    sn_alert_t *a = fx_alert(SN_LEVEL_YELLOW, "2026-11-20", rows, 1);
    strcpy(a->region, region);
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, 1000, NULL, NULL), SN_OK);
    sn_alert_destroy(&a);
}

/* Run the outbox `rounds` times, ten minutes of clock apart. */
static void
s_run(int rounds, sn_time_t *now)
{
    for (int i = 0; i < rounds; i++) {
        ck_assert_int_ge(alr_outbox_run(s_outbox, *now, NULL), 0);
        *now += 600000;
    }
}

START_TEST(test_webhook_retries_until_accepted_once)
{
    rx_t rx = {.fail_first = 2, .status = 200};
    struct MHD_Daemon *d = s_rx_start(&rx, s_port);
    s_raise("110105");
    sn_time_t now = 1000;
    s_run(6, &now);
    MHD_stop_daemon(d);
    ck_assert_int_eq(rx.requests, 3);
    ck_assert_int_eq(rx.bad_signatures, 0);
    ck_assert_int_eq(rx.n_keys, 1);
    ck_assert_int_eq(rx.count[0], 1);
    ck_assert_str_eq(rx.keys[0], "cdc.sentinel.test.alert.1.1");
    ck_assert_str_eq(rx.type, "application/json");
    ck_assert_ptr_nonnull(strstr(rx.body, "\"type\":\"Alert\""));
    ck_assert_int_eq(alr_store_pending(s_store), 0);
    ck_assert_int_eq(alr_outbox_failures(s_outbox), 2);
}
END_TEST

START_TEST(test_webhook_receiver_down_then_up)
{
    rx_t rx = {.status = 200};
    s_raise("110105");
    s_raise("110106");
    s_raise("110107");
    sn_time_t now = 1000;
    s_run(4, &now); /* nobody listens: every attempt fails */
    ck_assert_int_eq(alr_store_pending(s_store), 3);
    char *json = NULL;
    alr_store_show_json(s_store, 1, &json, NULL);
    ck_assert_ptr_nonnull(strstr(json, "\"attempts\":4"));
    ck_assert_ptr_nonnull(strstr(json, "webhook http://127.0.0.1:"));
    free(json);
    struct MHD_Daemon *d = s_rx_start(&rx, s_port);
    s_run(3, &now);
    MHD_stop_daemon(d);
    ck_assert_int_eq(alr_store_pending(s_store), 0);
    ck_assert_int_eq(rx.n_keys, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(rx.count[i], 1);
    }
}
END_TEST

START_TEST(test_webhook_cap_body_validates)
{
    rx_t rx = {.status = 200};
    struct MHD_Daemon *d = s_rx_start(&rx, s_port);
    s_raise("110105");
    sn_time_t now = 1000;
    s_run(1, &now);
    MHD_stop_daemon(d);
    ck_assert_int_eq(rx.n_keys, 1);
    ck_assert_str_eq(rx.type, "application/cap+xml; charset=utf-8");
    fx_check_cap(s_dir, rx.body);
}
END_TEST

START_TEST(test_webhook_messages_of_an_alert_in_order)
{
    rx_t rx = {.fail_first = 1, .status = 200};
    struct MHD_Daemon *d = s_rx_start(&rx, s_port);
    s_raise("110105"); /* Alert */
    const fx_row_t rows[] = {{"pharmacy", "2026-11-20", 12}};
    sn_alert_t *a = fx_alert(SN_LEVEL_RED, "2026-11-20", rows, 1);
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, 1000, NULL, NULL), SN_OK);
    sn_alert_destroy(&a); /* Update: escalated */
    sn_time_t now = 1000;
    ck_assert_int_eq(alr_outbox_run(s_outbox, now, NULL), 0); /* 503, wait */
    ck_assert_int_eq(rx.requests, 1); /* the Update was held back */
    s_run(3, &now);
    MHD_stop_daemon(d);
    ck_assert_int_eq(rx.n_keys, 2);
    ck_assert_str_eq(rx.keys[0], "cdc.sentinel.test.alert.1.1");
    ck_assert_str_eq(rx.keys[1], "cdc.sentinel.test.alert.1.2");
}
END_TEST

START_TEST(test_webhook_backoff_grows_with_jitter)
{
    alr_outbox_opts_t o = {1000, 60000, 1};
    ck_assert_int_eq(alr_outbox_backoff(&o, 1, 0.0), 500);
    ck_assert_int_eq(alr_outbox_backoff(&o, 1, 0.999), 999);
    ck_assert_int_eq(alr_outbox_backoff(&o, 3, 0.0), 2000);
    ck_assert_int_eq(alr_outbox_backoff(&o, 30, 0.0), 30000);
    ck_assert_int_le(alr_outbox_backoff(&o, 30, 0.999), 60000);
}
END_TEST

START_TEST(test_webhook_errors)
{
    rx_t rx = {.status = 400};
    struct MHD_Daemon *d = s_rx_start(&rx, s_port);
    s_raise("110105");
    sn_time_t now = 1000;
    s_run(1, &now);
    MHD_stop_daemon(d);
    char *json = NULL;
    alr_store_show_json(s_store, 1, &json, NULL);
    ck_assert_ptr_nonnull(strstr(json, "/alerts: HTTP status 400\""));
    ck_assert_ptr_nonnull(strstr(json, "\"state\":\"pending\""));
    free(json);
    alr_webhook_opts_t wo = {NULL, ALR_FORMAT_JSON, NULL, 0, 0};
    alr_sink_t *sink = NULL;
    sn_err_t err;
    ck_assert_int_eq(alr_sink_webhook_new("x", &wo, &sink, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "sink 'x': no url");
}
END_TEST

static Suite *
webhook_suite(void)
{
    Suite *s = suite_create("webhook");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_webhook_retries_until_accepted_once);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_webhook_receiver_down_then_up);
    tcase_add_test(tc, test_webhook_backoff_grows_with_jitter);
    tcase_add_test(tc, test_webhook_messages_of_an_alert_in_order);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges-cap");
    tcase_add_checked_fixture(tc, s_setup_cap, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_webhook_cap_body_validates);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_webhook_errors);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(webhook_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
