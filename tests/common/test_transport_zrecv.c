/*  tests/common/test_transport_zrecv.c - the ZeroMQ receiver's batch path
 *
 *  The receiver reads batches straight from the wire format and can hand a
 *  whole batch to the application (sn_receiver_poll_batch()). A real
 *  sender checks the batch callback; a raw DEALER sends hand-made Envelopes
 *  (fields in another order, a field repeated, an unknown field, a sender
 *  id too long, cut-short bytes, tags and lengths in more bytes than they
 *  need) to check that the wire reader accepts and refuses what protobuf-c
 *  does; the last are checked against protobuf-c's own unpack.
 */
#include "sentinel/transport.h"

#include "sentinel/mem.h"
#include "support.h"

#include "sentinel/v1/event.pb-c.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static char *s_dir;
static char *s_ep;

/* What the batch callback saw. */
typedef struct got {
    uint64_t n;       /* records */
    uint64_t calls;   /* callback calls */
    uint64_t last;    /* last seq */
    int out_of_order; /* a seq that is not last + 1 */
    int bad_content;  /* bytes not "rec-<seq>" */
    char sender[80];  /* sender id of the last record */
    int fail;         /* return this error (0: none) */
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
s_batch(const sn_record_t *recs, size_t n, void *arg)
{
    got_t *g = arg;
    ck_assert_uint_gt(n, 0);
    if (g->fail != 0) {
        return g->fail;
    }
    g->calls++;
    for (size_t i = 0; i < n; i++) {
        char want[32];
        int len = snprintf(want, sizeof want, "rec-%" PRIu64, recs[i].seq);
        if ((size_t)len != recs[i].len ||
            memcmp(want, recs[i].data, recs[i].len) != 0) {
            g->bad_content++;
        }
        if (g->n > 0 && recs[i].seq != g->last + 1) {
            g->out_of_order++;
        }
        g->last = recs[i].seq;
        g->n++;
        snprintf(g->sender, sizeof g->sender, "%s", recs[i].sender_id);
    }
    return SN_OK;
}

static sn_transport_opts_t
s_opts(void)
{
    sn_transport_opts_t o;
    sn_transport_opts_init(&o);
    o.endpoint = s_ep;
    o.sender_id = "site-a";
    o.curve = false;
    o.batch_records = 100;
    o.window = 1000;
    o.heartbeat_ms = 50;
    o.timeout_ms = 300;
    return o;
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

START_TEST(test_transport_zrecv_usage)
{
    sn_spool_opts_t so;
    sn_spool_opts_init(&so);
    char *dir = sn_strdup_printf("%s/spool", s_dir);
    so.dir = dir;
    so.fsync = SN_SPOOL_FSYNC_NEVER;
    sn_spool_t *sp = NULL;
    ck_assert_int_eq(sn_spool_open(&so, &sp, NULL), SN_OK);
    for (uint64_t s = 1; s <= 3000; s++) {
        char rec[32];
        int len = snprintf(rec, sizeof rec, "rec-%" PRIu64, s);
        ck_assert_int_eq(sn_spool_append(sp, rec, (size_t)len, NULL, NULL),
                         SN_OK);
    }
    ck_assert_int_eq(sn_spool_flush(sp, NULL), SN_OK);
    sn_receiver_t *rx = s_receiver();
    sn_transport_opts_t o = s_opts();
    sn_sender_t *tx = NULL;
    ck_assert_int_eq(sn_sender_new(&o, sp, NULL, NULL, &tx, NULL), SN_OK);
    got_t g = {0};
    for (int i = 0; i < 20000 && !sn_sender_drained(tx); i++) {
        ck_assert_int_eq(sn_sender_poll(tx, 0, NULL), SN_OK);
        ck_assert_int_ge(sn_receiver_poll_batch(rx, 5, s_batch, &g, NULL), 0);
        ck_assert_int_eq(sn_receiver_commit(rx, NULL), SN_OK);
    }
    ck_assert(sn_sender_drained(tx));
    ck_assert_uint_eq(g.n, 3000);
    ck_assert_uint_lt(g.calls, g.n / 10); /* whole batches, not records */
    ck_assert_int_eq(g.out_of_order, 0);
    ck_assert_int_eq(g.bad_content, 0);
    ck_assert_str_eq(g.sender, "site-a");
    ck_assert_uint_eq(sn_receiver_position(rx, "site-a"), 3000);
    sn_sender_destroy(&tx);
    sn_receiver_destroy(&rx);
    sn_spool_destroy(&sp);
    free(dir);
}
END_TEST

/* ---- hand-made Envelopes ------------------------------------------------ */

/* A message being built. */
typedef struct msg {
    uint8_t b[4096]; /* bytes */
    size_t n;        /* used */
} msg_t;

static void
s_varint(msg_t *m, uint64_t v)
{
    while (v >= 0x80) {
        m->b[m->n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    m->b[m->n++] = (uint8_t)v;
}

static void
s_bytes(msg_t *m, unsigned field, const char *s, size_t len)
{
    s_varint(m, field << 3 | 2);
    s_varint(m, len);
    memcpy(m->b + m->n, s, len);
    m->n += len;
}

static void
s_uint(msg_t *m, unsigned field, uint64_t v)
{
    s_varint(m, field << 3);
    s_varint(m, v);
}

static void
s_record(msg_t *m, uint64_t seq)
{
    char rec[32];
    int len = snprintf(rec, sizeof rec, "rec-%" PRIu64, seq);
    s_bytes(m, 3, rec, (size_t)len);
}

/* Wrap Batch `b` in an Envelope. */
static msg_t
s_envelope(const msg_t *b)
{
    msg_t e = {.n = 0};
    s_bytes(&e, 1, (const char *)b->b, b->n);
    return e;
}

/* A DEALER connected to the receiver. */
typedef struct raw {
    void *ctx;  /* context */
    void *sock; /* DEALER */
} raw_t;

static raw_t
s_raw(void)
{
    raw_t r = {zmq_ctx_new(), NULL};
    r.sock = zmq_socket(r.ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(r.sock, ZMQ_LINGER, &linger, sizeof linger);
    ck_assert_int_eq(zmq_connect(r.sock, s_ep), 0);
    return r;
}

static void
s_raw_close(raw_t *r)
{
    zmq_close(r->sock);
    zmq_ctx_term(r->ctx);
}

/* Send `m` and poll until it is handled. @return records delivered. */
static int
s_send(raw_t *r, sn_receiver_t *rx, const msg_t *m, got_t *g)
{
    ck_assert_int_eq(zmq_send(r->sock, m->b, m->n, 0), (int)m->n);
    int n = 0;
    for (int i = 0; i < 50; i++) {
        int got = sn_receiver_poll_batch(rx, 10, s_batch, g, NULL);
        ck_assert_int_ge(got, 0);
        n += got;
    }
    return n;
}

/* Fields in another order, a field repeated (the last wins), an unknown
 * field (read by protobuf-c), a batch that overlaps what was delivered. */
START_TEST(test_transport_zrecv_reads_what_protobuf_reads)
{
    sn_receiver_t *rx = s_receiver();
    raw_t r = s_raw();
    got_t g = {0};
    msg_t b = {.n = 0};
    s_uint(&b, 4, 77); /* session first */
    s_record(&b, 1);
    s_record(&b, 2);
    s_bytes(&b, 1, "wrong", 5);
    s_uint(&b, 2, 1);            /* seq_first after records */
    s_bytes(&b, 1, "site-r", 6); /* the last sender_id wins */
    msg_t e = s_envelope(&b);
    ck_assert_int_eq(s_send(&r, rx, &e, &g), 2);
    ck_assert_str_eq(g.sender, "site-r");
    ck_assert_uint_eq(sn_receiver_position(rx, "wrong"), 0);
    b.n = 0;
    s_bytes(&b, 1, "site-r", 6);
    s_uint(&b, 2, 2); /* 2 again, then 3 and 4 */
    s_record(&b, 2);
    s_record(&b, 3);
    s_record(&b, 4);
    s_uint(&b, 9, 1); /* unknown field 9 */
    e = s_envelope(&b);
    ck_assert_int_eq(s_send(&r, rx, &e, &g), 2);
    ck_assert_uint_eq(g.n, 4);
    ck_assert_int_eq(g.out_of_order, 0);
    ck_assert_int_eq(g.bad_content, 0);
    ck_assert_uint_eq(sn_receiver_position(rx, "site-r"), 4);
    s_raw_close(&r);
    sn_receiver_destroy(&rx);
}
END_TEST

/* What protobuf-c refuses, the receiver refuses: nothing is delivered and
 * the receiver goes on. */
START_TEST(test_transport_zrecv_refuses_bad_batches)
{
    sn_receiver_t *rx = s_receiver();
    raw_t r = s_raw();
    got_t g = {0};
    char id[100];
    memset(id, 'x', sizeof id);
    msg_t b = {.n = 0};
    s_bytes(&b, 1, id, sizeof id); /* a sender id too long */
    s_uint(&b, 2, 1);
    s_record(&b, 1);
    msg_t e = s_envelope(&b);
    ck_assert_int_eq(s_send(&r, rx, &e, &g), 0);
    b.n = 0;
    s_bytes(&b, 1, "site-c", 6);
    s_uint(&b, 2, 1);
    s_record(&b, 1);
    e = s_envelope(&b);
    e.n -= 3; /* cut short */
    ck_assert_int_eq(s_send(&r, rx, &e, &g), 0);
    e.n += 3;
    e.b[0] = 1 << 3 | 0; /* batch as a varint: not an Envelope */
    ck_assert_int_eq(s_send(&r, rx, &e, &g), 0);
    e.b[0] = 1 << 3 | 2;
    ck_assert_int_eq(s_send(&r, rx, &e, &g), 1); /* intact: delivered */
    ck_assert_str_eq(g.sender, "site-c");
    s_raw_close(&r);
    sn_receiver_destroy(&rx);
}
END_TEST

/* The tags and lengths of a hand-made Envelope, one of which may be
 * written in more bytes than it needs. */
enum {
    P_ENV_TAG,     /* Envelope.batch */
    P_ENV_LEN,     /* its length */
    P_ID_TAG,      /* Batch.sender_id */
    P_ID_LEN,      /* its length */
    P_SEQ_TAG,     /* Batch.seq_first */
    P_REC_TAG,     /* Batch.records */
    P_REC_LEN,     /* its length */
    P_SESSION_TAG, /* Batch.session */
    P_COUNT,
};

/* `v` (below 128) as a varint of exactly `k` bytes: k - 1 bytes of
 * padding (continuation bits over zeros). */
static void
s_varint_in(msg_t *m, uint8_t v, unsigned k)
{
    for (unsigned i = 1; i < k; i++) {
        m->b[m->n++] = (uint8_t)(v | 0x80);
        v = 0;
    }
    m->b[m->n++] = v;
}

/* An Envelope from `id` of record 1 ("rec-1"), whose tag or length
 * `where` takes `k` bytes. */
static msg_t
s_padded(const char *id, int where, unsigned k)
{
    unsigned w[P_COUNT];
    for (int i = 0; i < P_COUNT; i++) {
        w[i] = i == where ? k : 1;
    }
    msg_t b = {.n = 0};
    s_varint_in(&b, 1 << 3 | 2, w[P_ID_TAG]);
    s_varint_in(&b, (uint8_t)strlen(id), w[P_ID_LEN]);
    memcpy(b.b + b.n, id, strlen(id));
    b.n += strlen(id);
    s_varint_in(&b, 2 << 3, w[P_SEQ_TAG]);
    s_varint(&b, 1);
    s_varint_in(&b, 3 << 3 | 2, w[P_REC_TAG]);
    s_varint_in(&b, 5, w[P_REC_LEN]);
    memcpy(b.b + b.n, "rec-1", 5);
    b.n += 5;
    s_varint_in(&b, 4 << 3, w[P_SESSION_TAG]);
    s_varint(&b, 7);
    msg_t e = {.n = 0};
    ck_assert_uint_lt(b.n, 128);
    s_varint_in(&e, 1 << 3 | 2, w[P_ENV_TAG]);
    s_varint_in(&e, (uint8_t)b.n, w[P_ENV_LEN]);
    memcpy(e.b + e.n, b.b, b.n);
    e.n += b.n;
    return e;
}

/* Whether protobuf-c's own unpack reads `m` as an Envelope with a Batch. */
static bool
s_protobuf_reads(const msg_t *m)
{
    Sentinel__V1__Envelope *env =
        sentinel__v1__envelope__unpack(NULL, m->n, m->b);
    bool ok =
        env != NULL && env->body_case == SENTINEL__V1__ENVELOPE__BODY_BATCH;
    sentinel__v1__envelope__free_unpacked(env, NULL);
    return ok;
}

/* Every tag and length prefix of a batch in 1 to 10 bytes, each from its
 * own sender: protobuf-c reads those of up to five bytes and refuses the
 * message when one is longer, and the receiver delivers exactly what
 * protobuf-c reads. */
START_TEST(test_transport_zrecv_overlong_tags_and_lengths_as_protobuf_c)
{
    sn_receiver_t *rx = s_receiver();
    raw_t r = s_raw();
    got_t g = {0};
    uint64_t want = 0;
    for (int where = 0; where < P_COUNT; where++) {
        for (unsigned k = 1; k <= 10; k++) {
            char id[32];
            snprintf(id, sizeof id, "ov-%d-%u", where, k);
            msg_t e = s_padded(id, where, k);
            ck_assert_int_eq(s_protobuf_reads(&e), k <= 5);
            want += k <= 5;
            ck_assert_int_eq(zmq_send(r.sock, e.b, e.n, 0), (int)e.n);
        }
    }
    msg_t last = s_padded("ov-last", 0, 1); /* sent last, read last */
    ck_assert_int_eq(zmq_send(r.sock, last.b, last.n, 0), (int)last.n);
    for (int i = 0; i < 500 && sn_receiver_position(rx, "ov-last") == 0; i++) {
        ck_assert_int_ge(sn_receiver_poll_batch(rx, 10, s_batch, &g, NULL), 0);
    }
    ck_assert_uint_eq(sn_receiver_position(rx, "ov-last"), 1);
    for (int where = 0; where < P_COUNT; where++) {
        for (unsigned k = 1; k <= 10; k++) {
            char id[32];
            snprintf(id, sizeof id, "ov-%d-%u", where, k);
            ck_assert_msg(sn_receiver_position(rx, id) == (k <= 5),
                          "%s: delivered %" PRIu64 ", protobuf-c reads %d", id,
                          sn_receiver_position(rx, id), k <= 5);
        }
    }
    ck_assert_uint_eq(g.n, want + 1);
    ck_assert_int_eq(g.bad_content, 0);
    s_raw_close(&r);
    sn_receiver_destroy(&rx);
}
END_TEST

/* A batch callback's error: none of the batch is delivered, it comes
 * again, and the poll returns the error with the message. */
START_TEST(test_transport_zrecv_errors)
{
    sn_receiver_t *rx = s_receiver();
    raw_t r = s_raw();
    got_t g = {.fail = SN_EIO};
    msg_t b = {.n = 0};
    s_bytes(&b, 1, "site-e", 6);
    s_uint(&b, 2, 1);
    s_record(&b, 1);
    s_record(&b, 2);
    msg_t e = s_envelope(&b);
    ck_assert_int_eq(zmq_send(r.sock, e.b, e.n, 0), (int)e.n);
    sn_err_t err;
    int rc = 0;
    for (int i = 0; i < 50 && rc == 0; i++) {
        rc = sn_receiver_poll_batch(rx, 10, s_batch, &g, &err);
    }
    ck_assert_int_eq(rc, SN_EIO);
    char *want = sn_strdup_printf("transport %s: delivery stopped by the "
                                  "application: %s",
                                  s_ep, sn_strerror(SN_EIO));
    ck_assert_str_eq(err.msg, want);
    free(want);
    ck_assert_uint_eq(sn_receiver_position(rx, "site-e"), 0);
    g.fail = 0;
    ck_assert_int_eq(s_send(&r, rx, &e, &g), 2);
    ck_assert_uint_eq(sn_receiver_position(rx, "site-e"), 2);
    s_raw_close(&r);
    sn_receiver_destroy(&rx);
}
END_TEST

static Suite *
transport_zrecv_suite(void)
{
    Suite *s = suite_create("transport_zrecv");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 60);
    tcase_add_test(usage, test_transport_zrecv_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 30);
    tcase_add_test(edges, test_transport_zrecv_reads_what_protobuf_reads);
    tcase_add_test(edges, test_transport_zrecv_refuses_bad_batches);
    tcase_add_test(
        edges, test_transport_zrecv_overlong_tags_and_lengths_as_protobuf_c);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_transport_zrecv_errors);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(transport_zrecv_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
