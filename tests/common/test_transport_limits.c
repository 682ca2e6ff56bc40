/*  tests/common/test_transport_limits.c - what a hostile sender cannot send
 *
 *  The ZeroMQ receiver's limits, with real sockets over ipc://: a message
 *  larger than `max_message` makes ZeroMQ drop the connection before the
 *  receiver allocates for it, and a batch of more than `max_batch_records`
 *  records is refused whole (logged as batch_refused). Nothing of either is
 *  delivered, and an honest sender on the same receiver still gets through.
 */
#include "sentinel/mem.h"
#include "sentinel/spool.h"
#include "sentinel/transport.h"
#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *s_dir;
static char *s_endpoint;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_endpoint = sn_strdup_printf("ipc://%s/rx.ipc", s_dir);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
    free(s_endpoint);
}

/* A sender with its own spool holding `n` records of `size` bytes. */
typedef struct s_site {
    sn_spool_t *spool;   /* its outbox */
    sn_sender_t *sender; /* publishing it */
} s_site_t;

static void
s_site(s_site_t *s, const char *id, uint32_t batch, int n, size_t size)
{
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    char *dir = sn_strdup_printf("%s/spool-%s", s_dir, id);
    so.dir = dir;
    sn_err_t err;
    ck_assert_msg(sn_spool_open(&so, &s->spool, &err) == SN_OK, "%s", err.msg);
    uint8_t *rec = sn_calloc(1, size);
    for (int i = 0; i < n; i++) {
        memset(rec, 'a' + i % 26, size);
        ck_assert_int_eq(sn_spool_append(s->spool, rec, size, NULL, &err),
                         SN_OK);
    }
    ck_assert_int_eq(sn_spool_flush(s->spool, &err), SN_OK);
    sn_transport_opts_t to;
    sn_transport_opts_init(&to);
    to.endpoint = s_endpoint;
    to.sender_id = id;
    to.curve = false;
    to.batch_records = batch;
    to.heartbeat_ms = 50;
    to.timeout_ms = 200;
    ck_assert_msg(sn_sender_new(&to, s->spool, NULL, NULL, &s->sender, &err) ==
                      SN_OK,
                  "%s", err.msg);
    free(rec);
    free(dir);
}

static void
s_site_free(s_site_t *s)
{
    sn_sender_destroy(&s->sender);
    sn_spool_destroy(&s->spool);
}

static sn_receiver_t *
s_receiver(uint64_t max_message, uint32_t max_batch)
{
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.endpoint = s_endpoint;
    o.curve = false;
    o.heartbeat_ms = 50;
    o.max_message = max_message;
    o.max_batch_records = max_batch;
    sn_receiver_t *rx = NULL;
    sn_err_t err;
    ck_assert_msg(sn_receiver_new(&o, &rx, &err) == SN_OK, "%s", err.msg);
    return rx;
}

/* Count delivered records per sender: "good" or anything else. */
typedef struct s_count {
    int good; /* from sender "good" */
    int bad;  /* from the others */
} s_count_t;

static int
s_on_record(const sn_record_t *rec, void *arg)
{
    s_count_t *c = arg;
    if (strcmp(rec->sender_id, "good") == 0) {
        c->good++;
    } else {
        c->bad++;
    }
    return SN_OK;
}

/* Run both senders and the receiver for `rounds` rounds of 20 ms. */
static void
s_pump(sn_receiver_t *rx, s_site_t *a, s_site_t *b, s_count_t *c, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        sn_sender_poll(a->sender, 10, NULL);
        sn_sender_poll(b->sender, 10, NULL);
        ck_assert_int_ge(sn_receiver_poll(rx, 10, s_on_record, c, NULL), 0);
        sn_receiver_commit(rx, NULL);
    }
}

START_TEST(test_transport_limits_batch_refused)
{
    sn_receiver_t *rx = s_receiver(SN_TRANSPORT_MAX_MESSAGE, 10);
    s_site_t big, good;
    s_site(&big, "big-batch", 50, 120, 40);
    s_site(&good, "good", 10, 120, 40);
    s_count_t c = {0, 0};
    s_pump(rx, &big, &good, &c, 150);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_int_eq(c.good, 120);
    ck_assert(sn_sender_drained(good.sender));
    ck_assert(!sn_sender_drained(big.sender));
    s_site_free(&big);
    s_site_free(&good);
    sn_receiver_destroy(&rx);
}
END_TEST

START_TEST(test_transport_limits_message_too_large)
{
    sn_receiver_t *rx = s_receiver(64 * 1024, SN_TRANSPORT_MAX_BATCH);
    s_site_t big, good;
    s_site(&big, "big-message", 1, 3, 256 * 1024);
    s_site(&good, "good", 100, 500, 100);
    s_count_t c = {0, 0};
    s_pump(rx, &big, &good, &c, 150);
    ck_assert_int_eq(c.bad, 0);
    ck_assert_int_eq(c.good, 500);
    ck_assert(!sn_sender_drained(big.sender));
    s_site_free(&big);
    s_site_free(&good);
    sn_receiver_destroy(&rx);
}
END_TEST

START_TEST(test_transport_limits_config_keys)
{
    const char *root = "transport: {endpoint: \"ipc://x\", curve: false, "
                       "max_message: 100}\n";
    static const sn_cfg_schema_t schema[] = {
        {"transport", SN_CFG_MAP, true, 0, 0, NULL, sn_transport_cfg_schema,
         NULL, "the transport"},
        {NULL, 0, false, 0, 0, NULL, NULL, NULL, NULL},
    };
    char *path = ts_write_file(s_dir, "t.yaml", root);
    sn_config_t *cfg = NULL;
    sn_err_t err;
    ck_assert_int_eq(sn_config_load(path, schema, &cfg, &err), SN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "max_message"));
    free(path);
    path = ts_write_file(s_dir, "u.yaml",
                         "transport: {endpoint: \"ipc://x\", curve: false,\n"
                         "  max_message: 65536, max_batch_records: 7}\n");
    ck_assert_int_eq(sn_config_load(path, schema, &cfg, &err), SN_OK);
    sn_transport_opts_t o;
    ck_assert_int_eq(
        sn_transport_opts_from_cfg(
            cfg, sn_cfg_get(sn_config_root(cfg), "transport"), &o, &err),
        SN_OK);
    ck_assert_uint_eq(o.max_message, 65536);
    ck_assert_uint_eq(o.max_batch_records, 7);
    sn_config_destroy(&cfg);
    free(path);
}
END_TEST

static Suite *
transport_limits_suite(void)
{
    Suite *s = suite_create("transport_limits");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_transport_limits_batch_refused);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 60);
    tcase_add_test(edges, test_transport_limits_message_too_large);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_transport_limits_config_keys);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(transport_limits_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
