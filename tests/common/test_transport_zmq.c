/*  tests/common/test_transport_zmq.c - the reliable transport over ZeroMQ
 *
 *  A sender and a receiver on ipc:// in a temporary directory, driven in
 *  turn from one thread: delivery in order, deduplication by (sender, seq),
 *  resend after the receiver restarts, acks only after the application
 *  commits, the sender's floor, CURVE with an unlisted key refused, and the
 *  error codes with their messages.
 */
#include "sentinel/transport.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static char *s_dir;
static char *s_ep;

/* What the receiving application saw. */
typedef struct got {
    uint64_t n;       /* records delivered */
    uint64_t first;   /* first seq */
    uint64_t last;    /* last seq */
    int out_of_order; /* seq not last + 1 */
    int bad_content;  /* bytes not "rec-<seq>" */
} got_t;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_ep = sn_strdup_printf("ipc://%s/rx.sock", s_dir);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
    free(s_ep);
}

static int
s_collect(const sn_record_t *rec, void *arg)
{
    got_t *g = arg;
    char want[32];
    int n = snprintf(want, sizeof want, "rec-%" PRIu64, rec->seq);
    if ((size_t)n != rec->len || memcmp(want, rec->data, rec->len) != 0) {
        g->bad_content++;
    }
    if (g->n == 0) {
        g->first = rec->seq;
    } else if (rec->seq != g->last + 1) {
        g->out_of_order++;
    }
    g->last = rec->seq;
    g->n++;
    return SN_OK;
}

static sn_spool_t *
s_spool(const char *name, uint64_t from, uint64_t n)
{
    sn_spool_opts_t o;
    sn_spool_opts_init(&o);
    char *dir = sn_strdup_printf("%s/%s", s_dir, name);
    o.dir = dir;
    o.fsync = SN_SPOOL_FSYNC_NEVER;
    o.segment_bytes = 1 << 16;
    sn_spool_t *sp = NULL;
    ck_assert_int_eq(sn_spool_open(&o, &sp, NULL), SN_OK);
    free(dir);
    for (uint64_t s = from; s < from + n; s++) {
        char rec[32];
        int len = snprintf(rec, sizeof rec, "rec-%" PRIu64, s);
        ck_assert_int_eq(sn_spool_append(sp, rec, (size_t)len, NULL, NULL),
                         SN_OK);
    }
    ck_assert_int_eq(sn_spool_flush(sp, NULL), SN_OK);
    return sp;
}

static sn_transport_opts_t
s_opts(const char *sender_id)
{
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.endpoint = s_ep;
    o.sender_id = sender_id;
    o.curve = false;
    o.batch_records = 100;
    o.window = 1000;
    o.heartbeat_ms = 50;
    o.timeout_ms = 300;
    return o;
}

static sn_sender_t *
s_sender(const sn_transport_opts_t *o, sn_spool_t *sp)
{
    sn_sender_t *tx = NULL;
    sn_err_t err;
    int rc = sn_sender_new(o, sp, NULL, NULL, &tx, &err);
    ck_assert_msg(rc == SN_OK, "sender: %s", err.msg);
    return tx;
}

static sn_receiver_t *
s_receiver(const sn_transport_opts_t *o)
{
    sn_receiver_t *rx = NULL;
    sn_err_t err;
    int rc = sn_receiver_new(o, &rx, &err);
    ck_assert_msg(rc == SN_OK, "receiver: %s", err.msg);
    return rx;
}

/* Drive both ends until the sender is drained or `rounds` pass; commit
 * after every receiver poll when `commit`. */
static void
s_run(sn_sender_t *tx, sn_receiver_t *rx, got_t *g, bool commit, int rounds)
{
    for (int i = 0; i < rounds && !sn_sender_drained(tx); i++) {
        sn_err_t err;
        int rc = sn_sender_poll(tx, 0, &err);
        ck_assert_msg(rc == SN_OK, "sender poll: %s", err.msg);
        ck_assert_int_ge(sn_receiver_poll(rx, 5, s_collect, g, NULL), 0);
        if (commit) {
            ck_assert_int_eq(sn_receiver_commit(rx, NULL), SN_OK);
        }
    }
}

START_TEST(test_transport_zmq_usage)
{
    sn_spool_t *sp = s_spool("spool", 1, 5000);
    sn_transport_opts_t o = s_opts("site-a");
    sn_receiver_t *rx = s_receiver(&o);
    sn_sender_t *tx = s_sender(&o, sp);
    got_t g = {0};
    s_run(tx, rx, &g, true, 20000);
    ck_assert(sn_sender_drained(tx));
    ck_assert(sn_sender_connected(tx));
    ck_assert_uint_eq(g.n, 5000);
    ck_assert_uint_eq(g.first, 1);
    ck_assert_int_eq(g.out_of_order, 0);
    ck_assert_int_eq(g.bad_content, 0);
    ck_assert_uint_eq(sn_spool_acked_seq(sp), 5000);
    ck_assert_uint_eq(sn_sender_acked(tx), 5000);
    ck_assert_uint_eq(sn_spool_segments(sp), 1);
    ck_assert_uint_eq(sn_receiver_position(rx, "site-a"), 5000);
    sn_sender_destroy(&tx);
    sn_receiver_destroy(&rx);
    ck_assert_ptr_null(rx);
    sn_spool_destroy(&sp);
}
END_TEST

START_TEST(test_transport_zmq_dedup_by_sender_seq)
{
    /* Two senders with overlapping numbers: each has its own position. */
    sn_spool_t *a = s_spool("a", 1, 300);
    sn_spool_t *b = s_spool("b", 1, 300);
    sn_transport_opts_t oa = s_opts("site-a"), ob = s_opts("site-b");
    sn_receiver_t *rx = s_receiver(&oa);
    ck_assert_int_eq(sn_receiver_set_position(rx, "site-a", 200), SN_OK);
    sn_sender_t *ta = s_sender(&oa, a), *tb = s_sender(&ob, b);
    got_t ga = {0}, gb = {0};
    s_run(ta, rx, &ga, true, 20000);
    s_run(tb, rx, &gb, true, 20000);
    ck_assert(sn_sender_drained(ta) && sn_sender_drained(tb));
    ck_assert_uint_eq(ga.n, 100); /* 1..200 were already delivered */
    ck_assert_uint_eq(ga.first, 201);
    ck_assert_uint_eq(gb.n, 300);
    ck_assert_uint_eq(sn_spool_acked_seq(a), 300);
    /* A restarted sender resends from its spool: nothing twice. */
    sn_sender_destroy(&ta);
    ck_assert_int_eq(sn_spool_append(a, "rec-301", 7, NULL, NULL), SN_OK);
    ck_assert_int_eq(sn_spool_flush(a, NULL), SN_OK);
    ta = s_sender(&oa, a);
    got_t g2 = {0};
    s_run(ta, rx, &g2, true, 20000);
    ck_assert_uint_eq(g2.n, 1);
    ck_assert_uint_eq(g2.first, 301);
    sn_sender_destroy(&ta);
    sn_sender_destroy(&tb);
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&a);
    sn_spool_destroy(&b);
}
END_TEST

START_TEST(test_transport_zmq_ack_only_after_commit)
{
    sn_spool_t *sp = s_spool("spool", 1, 500);
    sn_transport_opts_t o = s_opts("site-a");
    sn_receiver_t *rx = s_receiver(&o);
    sn_sender_t *tx = s_sender(&o, sp);
    got_t g = {0};
    s_run(tx, rx, &g, false, 400);
    ck_assert_uint_eq(g.n, 500);
    ck_assert_uint_eq(sn_spool_acked_seq(sp), 0);
    ck_assert_uint_eq(sn_sender_acked(tx), 0); /* delivered, not acked */
    ck_assert(!sn_sender_drained(tx));
    sn_err_t err;
    ck_assert_int_eq(sn_receiver_ack(rx, "site-a", 120, &err), SN_OK);
    s_run(tx, rx, &g, false, 100);
    ck_assert_uint_eq(sn_spool_acked_seq(sp), 120);
    ck_assert_uint_eq(sn_sender_acked(tx), 120);
    s_run(tx, rx, &g, true, 20000);
    ck_assert(sn_sender_drained(tx));
    ck_assert_uint_eq(sn_sender_acked(tx), 500);
    ck_assert_uint_eq(g.n, 500); /* resends after the timeout were dropped */
    sn_sender_destroy(&tx);
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
}
END_TEST

START_TEST(test_transport_zmq_resend_after_receiver_restart)
{
    sn_spool_t *sp = s_spool("spool", 1, 3000);
    sn_transport_opts_t o = s_opts("site-a");
    char *state = sn_strdup_printf("%s/state", s_dir);
    o.state_dir = state;
    sn_receiver_t *rx = s_receiver(&o);
    sn_sender_t *tx = s_sender(&o, sp);
    got_t g1 = {0};
    s_run(tx, rx, &g1, false, 200);
    ck_assert_uint_gt(g1.n, 600);
    ck_assert_int_eq(sn_receiver_ack(rx, "site-a", 600, NULL), SN_OK);
    /* The receiver dies having made only 1..600 durable. */
    sn_receiver_destroy(&rx);
    rx = s_receiver(&o);
    ck_assert_uint_eq(sn_receiver_position(rx, "site-a"), 600);
    got_t g2 = {0};
    s_run(tx, rx, &g2, true, 50000);
    ck_assert(sn_sender_drained(tx));
    ck_assert_uint_eq(g2.first, 601);
    ck_assert_uint_eq(g2.last, 3000);
    ck_assert_uint_eq(g2.n, 2400);
    ck_assert_int_eq(g2.out_of_order, 0);
    sn_sender_destroy(&tx);
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
    free(state);
}
END_TEST

START_TEST(test_transport_zmq_floor_for_a_fresh_receiver)
{
    /* The sender freed 1..100 long ago; a receiver with no state must not
     * wait for them. */
    sn_spool_t *sp = s_spool("spool", 1, 150);
    ck_assert_int_eq(sn_spool_ack(sp, 100, NULL), SN_OK);
    sn_transport_opts_t o = s_opts("site-a");
    sn_receiver_t *rx = s_receiver(&o);
    sn_sender_t *tx = s_sender(&o, sp);
    got_t g = {0};
    s_run(tx, rx, &g, true, 20000);
    ck_assert(sn_sender_drained(tx));
    ck_assert_uint_eq(g.first, 101);
    ck_assert_uint_eq(g.n, 50);
    sn_sender_destroy(&tx);
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
}
END_TEST

/* Write a key pair as `name`.key and `name`.pub, as sentinel keygen does. */
static void
s_keypair(const char *name, char pub[41])
{
    char sec[41];
    ck_assert_int_eq(zmq_curve_keypair(pub, sec), 0);
    char *t = sn_strdup_printf("# secret key\n%s\n", sec);
    char *f = sn_strdup_printf("%s.key", name);
    free(ts_write_file(s_dir, f, t));
    free(t);
    free(f);
    t = sn_strdup_printf("%s\n", pub);
    f = sn_strdup_printf("%s.pub", name);
    free(ts_write_file(s_dir, f, t));
    free(t);
    free(f);
}

/* A CURVE receiver with the authorised-keys file `authz` (a format with
 * the public keys of sites a and b, in that order, for its %s), its log
 * captured, and the options of a sender with key a as site-a and one with
 * key b as `b_sender`, each with a spool of 200 records. */
typedef struct curve_env {
    char rpub[41], apub[41], bpub[41]; /* public keys, Z85 */
    char *files[6];                    /* key files, authz, log */
    int log_fd;                        /* stderr goes there */
    sn_receiver_t *rx;                 /* the receiver */
    sn_spool_t *sa, *sb;               /* the two sites' spools */
    sn_transport_opts_t oa, ob;        /* their sender options */
} curve_env_t;

static void
s_curve_open(curve_env_t *c, const char *authz, const char *b_sender)
{
    s_keypair("rx", c->rpub);
    s_keypair("a", c->apub);
    s_keypair("b", c->bpub);
    char *text = sn_strdup_printf(authz, c->apub, c->bpub);
    c->files[0] = ts_write_file(s_dir, "authorized_keys", text);
    free(text);
    c->files[1] = sn_strdup_printf("%s/rx.key", s_dir);
    c->files[2] = sn_strdup_printf("%s/rx.pub", s_dir);
    c->files[3] = sn_strdup_printf("%s/a.key", s_dir);
    c->files[4] = sn_strdup_printf("%s/b.key", s_dir);
    c->files[5] = sn_strdup_printf("%s/log", s_dir);
    /* Capture the receiver's log to see the refusals. */
    c->log_fd = open(c->files[5], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(c->log_fd, 2);
    sn_transport_opts_t ro = s_opts(NULL);
    ro.curve = true;
    ro.secret_key = c->files[1];
    ro.authorized_keys = c->files[0];
    c->rx = s_receiver(&ro);
    c->sa = s_spool("a", 1, 200);
    c->sb = s_spool("b", 1, 200);
    c->oa = s_opts("site-a");
    c->ob = s_opts(b_sender);
    c->oa.curve = c->ob.curve = true;
    c->oa.server_key = c->ob.server_key = c->files[2];
    c->oa.secret_key = c->files[3];
    c->ob.secret_key = c->files[4];
}

/* @return the receiver's log so far. Caller frees. */
static char *
s_curve_log(const curve_env_t *c)
{
    return ts_read_file(c->files[5], NULL);
}

static void
s_curve_close(curve_env_t *c)
{
    sn_receiver_destroy(&c->rx);
    sn_spool_destroy(&c->sa);
    sn_spool_destroy(&c->sb);
    for (size_t i = 0; i < sizeof c->files / sizeof c->files[0]; i++) {
        free(c->files[i]);
    }
    close(c->log_fd);
}

START_TEST(test_transport_zmq_curve_refuses_unlisted_key)
{
    curve_env_t c;
    s_curve_open(&c, "# site a\n%s\n", "site-b");
    sn_sender_t *ta = s_sender(&c.oa, c.sa), *tb = s_sender(&c.ob, c.sb);
    got_t ga = {0}, gb = {0};
    s_run(ta, c.rx, &ga, true, 20000);
    ck_assert_uint_eq(ga.n, 200);
    sn_err_t err = {0, ""};
    int rc = SN_OK;
    for (int i = 0; i < 400 && rc == SN_OK; i++) {
        rc = sn_sender_poll(tb, 5, &err);
        sn_receiver_poll(c.rx, 5, s_collect, &gb, NULL);
    }
    ck_assert_int_eq(rc, SN_EAUTH);
    ck_assert_ptr_nonnull(strstr(err.msg, "refused this sender's CURVE key"));
    ck_assert_uint_eq(gb.n, 0);
    ck_assert_uint_eq(sn_spool_acked_seq(c.sb), 0);
    char *text = s_curve_log(&c);
    ck_assert_ptr_nonnull(strstr(text, "curve_refused"));
    ck_assert_ptr_nonnull(strstr(text, c.bpub));
    free(text);
    sn_sender_destroy(&ta);
    sn_sender_destroy(&tb);
    s_curve_close(&c);
}
END_TEST

START_TEST(test_transport_zmq_errors)
{
    sn_transport_opts_t o = s_opts("site-a");
    sn_err_t err;
    sn_receiver_t *rx = NULL;
    o.endpoint = NULL;
    ck_assert_int_eq(sn_receiver_new(&o, &rx, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "transport: no endpoint given");
    o.endpoint = "nonsense://x";
    ck_assert_int_eq(sn_receiver_new(&o, &rx, &err), SN_ETRANSPORT);
    ck_assert_ptr_nonnull(strstr(err.msg, "transport bind nonsense://x"));
    o = s_opts("site-a");
    o.curve = true;
    char *bad = ts_write_file(s_dir, "bad.key", "not a key\n");
    o.secret_key = bad;
    ck_assert_int_eq(sn_receiver_new(&o, &rx, &err), SN_ECONFIG);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad.key:1: expected a 40-char"));
    ck_assert_ptr_null(rx);
    o = s_opts("site-a");
    rx = s_receiver(&o);
    ck_assert_int_eq(sn_receiver_ack(rx, "nobody", 1, &err), SN_ENOTFOUND);
    ck_assert_str_eq(err.msg, "transport: unknown sender 'nobody'");
    sn_receiver_set_position(rx, "site-a", 7);
    ck_assert_int_eq(sn_receiver_ack(rx, "site-a", 9, &err), SN_ERANGE);
    ck_assert_str_eq(err.msg, "transport: ack of site-a seq 9 but only 7 were "
                              "delivered");
    sn_spool_t *sp = s_spool("spool", 1, 1);
    sn_sender_t *tx = NULL;
    o.sender_id = "";
    ck_assert_int_eq(sn_sender_new(&o, sp, NULL, NULL, &tx, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "transport: sender_id must be 1 to 64 bytes");
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
    free(bad);
}
END_TEST

START_TEST(test_transport_zmq_curve_binds_key_to_sender)
{
    /* Key a may speak as site-a only; key b as site-b only. b's collector
     * configured as site-a (a copied file, or a site sending as another)
     * is connected but every message of it is dropped and logged. */
    curve_env_t c;
    s_curve_open(&c, "%s site-a\n%s\tsite-b other\n", "site-a");
    sn_sender_t *tb = s_sender(&c.ob, c.sb);
    got_t gb = {0};
    for (int i = 0; i < 300; i++) {
        sn_sender_poll(tb, 5, NULL);
        sn_receiver_poll(c.rx, 5, s_collect, &gb, NULL);
    }
    ck_assert_uint_eq(gb.n, 0);
    ck_assert_uint_eq(sn_spool_acked_seq(c.sb), 0);
    sn_sender_destroy(&tb);
    /* The real site-a, with its own key, gets everything through. */
    sn_sender_t *ta = s_sender(&c.oa, c.sa);
    got_t ga = {0};
    s_run(ta, c.rx, &ga, true, 20000);
    ck_assert_uint_eq(ga.n, 200);
    char *text = s_curve_log(&c);
    ck_assert_ptr_nonnull(strstr(text, "event=sender_refused sender=site-a"));
    ck_assert_ptr_nonnull(strstr(text, c.bpub));
    free(text);
    sn_sender_destroy(&ta);
    s_curve_close(&c);
}
END_TEST

static Suite *
transport_zmq_suite(void)
{
    Suite *s = suite_create("transport_zmq");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_transport_zmq_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 60);
    tcase_add_test(edges, test_transport_zmq_dedup_by_sender_seq);
    tcase_add_test(edges, test_transport_zmq_ack_only_after_commit);
    tcase_add_test(edges, test_transport_zmq_resend_after_receiver_restart);
    tcase_add_test(edges, test_transport_zmq_floor_for_a_fresh_receiver);
    tcase_add_test(edges, test_transport_zmq_curve_refuses_unlisted_key);
    tcase_add_test(edges, test_transport_zmq_curve_binds_key_to_sender);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_transport_zmq_errors);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(transport_zmq_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
