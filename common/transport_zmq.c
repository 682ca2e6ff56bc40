/*  common/transport_zmq.c - the reliable transport over ZeroMQ
 *
 *  Sender: a DEALER socket reading the disk spool through a cursor and
 *  sending Batch envelopes of up to batch_records records, never more than
 *  `window` records past the acknowledged position. Acks move the spool's
 *  acknowledged position (which frees whole segments). Before every
 *  heartbeat the sender also sends an Ack of its own: its floor, the position
 *  below which it no longer holds records, so a receiver that lost its state
 *  does not wait forever for them.
 *
 *  Receiver (transport_zrecv.c): a ROUTER socket; one position per sender. A
 * batch that starts at or below the position has its known records dropped and
 * the rest delivered; a batch that starts past position + 1 means earlier
 * messages were lost (the receiver restarted, a connection broke), so it is
 * dropped and a Heartbeat with time_ms 0 asks the sender to resend from
 * position + 1. A sender's Heartbeat is answered with an Ack (durable position)
 * and a Heartbeat echoing its time_ms and carrying the delivered position;
 * since ZeroMQ keeps order on a connection, a reply whose position is below
 * what the sender had sent before that heartbeat also means a loss.
 *
 *  Resend therefore happens on a gap notice, on such a heartbeat reply, on
 *  reconnect (the receiver heard again after a silence) and after
 *  timeout_ms without progress; duplicates are dropped by (sender, seq).
 */
#include "transport_int.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include "sentinel/v1/event.pb-c.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>
#include <zmq.h>

/* Room before a batch's records for the Envelope and Batch headers: tag and
 * length of each (1 + 10 bytes), sender_id (1 + 1 + 64), seq_first
 * (1 + 10). */
#define ZBATCH_HDR 96
#define ZBATCH_TAIL 11 /* the session field after the records */

struct sn_zsender {
    sn_transport_opts_t opts; /* options; strings borrowed */
    sn_spool_t *spool;        /* borrowed */
    sn_spool_cursor_t *cur;   /* next record to send */
    void *ctx;                /* own ZeroMQ context */
    void *sock;               /* DEALER */
    void *mon;                /* PAIR receiving socket monitor events */
    uint64_t session;         /* random, per process */
    bool connected;           /* heard from the receiver lately */
    uint64_t heard_ms;        /* when we last heard from it */
    uint64_t hb_ms;           /* when we last sent a heartbeat */
    uint64_t hb_seq;          /* last seq sent before that heartbeat */
    uint64_t hb_stamp;        /* its time_ms, echoed in the reply */
    uint64_t progress_ms;     /* when the ack position last moved */
    uint64_t rewind_seq;      /* target of the last rewind */
    uint64_t rewind_ms;       /* and when */
    uint64_t batch_first;     /* seq of the pending batch's first record */
    uint64_t batch_ms;        /* when it got its first record */
    size_t nrecs;             /* records in the pending batch */
    bool blocked;             /* the last send would have blocked */
    uint8_t *batch;           /* ZBATCH_HDR bytes, then its records */
    size_t blen;              /* bytes of records after the header room */
    size_t bcap;              /* allocated */
    uint8_t *out;             /* packed envelope (acks, heartbeats) */
    size_t outcap;            /* its size */
    sn_zarena_t arena;        /* for unpacking replies */
};

/* -- helpers ------------------------------------------------------------ */

static uint8_t *
s_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static void *
s_arena_alloc(void *a, size_t n)
{
    sn_zarena_t *ar = a;
    n = (n + 15) & ~(size_t)15;
    if (ar->used + n > ar->cap) {
        return NULL;
    }
    void *p = ar->buf + ar->used;
    ar->used += n;
    return p;
}

static void
s_arena_free(void *a, void *p)
{
    (void)a;
    (void)p;
}

/* Unpack one envelope into the arena, sized for the worst case of tiny
 * records (each needs a view and an aligned copy). @return NULL if it is
 * not an Envelope. */
Sentinel__V1__Envelope *
sn_zmq_unpack(sn_zarena_t *ar, const uint8_t *data, size_t len)
{
    size_t need = 17 * len + 4096;
    if (need > ar->cap) {
        ar->cap = need;
        ar->buf = sn_realloc(ar->buf, ar->cap);
    }
    ar->used = 0;
    ProtobufCAllocator alloc = {s_arena_alloc, s_arena_free, ar};
    return sentinel__v1__envelope__unpack(&alloc, len, data);
}

/* Pack `env` into *out (grown as needed). @return its length. */
size_t
sn_zmq_pack(const Sentinel__V1__Envelope *env, uint8_t **out, size_t *cap)
{
    size_t n = sentinel__v1__envelope__get_packed_size(env);
    if (n > *cap) {
        *cap = n + n / 2;
        *out = sn_realloc(*out, *cap);
    }
    return sentinel__v1__envelope__pack(env, *out);
}

void
sn_zmq_setopt_int(void *sock, int opt, int v)
{
    zmq_setsockopt(sock, opt, &v, sizeof v);
}

int
sn_zmq_error(sn_err_t *err, const char *what, const char *endpoint)
{
    return sn_err_set(err, SN_ETRANSPORT, "transport %s %s: %s", what, endpoint,
                      zmq_strerror(zmq_errno()));
}

/* -- sender: lifecycle -------------------------------------------------- */

static int
s_sender_curve(sn_zsender_t *self, sn_err_t *err)
{
    char secret[SN_CURVE_KEY_Z85 + 1], server[SN_CURVE_KEY_Z85 + 1];
    char public[SN_CURVE_KEY_Z85 + 1];
    int rc = sn_curve_read_key(self->opts.secret_key, secret, err);
    if (rc == SN_OK) {
        rc = sn_curve_read_key(self->opts.server_key, server, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    if (zmq_curve_public(public, secret) != 0) {
        return sn_err_set(err, SN_ECONFIG, "key file %s: not a secret key",
                          self->opts.secret_key);
    }
    zmq_setsockopt(self->sock, ZMQ_CURVE_SERVERKEY, server, 41);
    zmq_setsockopt(self->sock, ZMQ_CURVE_PUBLICKEY, public, 41);
    zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, secret, 41);
    return SN_OK;
}

/* Watch the socket for refused handshakes, so a collector whose key is not
 * authorised says so instead of timing out in silence. */
static void
s_sender_monitor(sn_zsender_t *self)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://sn-mon-%p", (void *)self);
    int events =
        ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;
    if (zmq_socket_monitor(self->sock, ep, events) == 0) {
        self->mon = zmq_socket(self->ctx, ZMQ_PAIR);
        sn_zmq_setopt_int(self->mon, ZMQ_LINGER, 0);
        zmq_connect(self->mon, ep);
    }
}

static int
s_sender_socket(sn_zsender_t *self, sn_err_t *err)
{
    self->ctx = zmq_ctx_new();
    self->sock = zmq_socket(self->ctx, ZMQ_DEALER);
    int hb = (int)self->opts.heartbeat_ms;
    sn_zmq_setopt_int(self->sock, ZMQ_LINGER, 0);
    sn_zmq_setopt_int(self->sock, ZMQ_IMMEDIATE, 1);
    sn_zmq_setopt_int(self->sock, ZMQ_RECONNECT_IVL, 100);
    sn_zmq_setopt_int(self->sock, ZMQ_RECONNECT_IVL_MAX, 2000);
    sn_zmq_setopt_int(self->sock, ZMQ_HEARTBEAT_IVL, hb);
    sn_zmq_setopt_int(self->sock, ZMQ_HEARTBEAT_TIMEOUT, 3 * hb);
    sn_zmq_setopt_int(self->sock, ZMQ_SNDHWM, 1000);
    int rc = self->opts.curve ? s_sender_curve(self, err) : SN_OK;
    if (rc != SN_OK) {
        return rc;
    }
    s_sender_monitor(self);
    if (zmq_connect(self->sock, self->opts.endpoint) != 0) {
        return sn_zmq_error(err, "connect", self->opts.endpoint);
    }
    return SN_OK;
}

int
sn_zsender_new(const sn_transport_opts_t *opts, sn_spool_t *spool,
               sn_zsender_t **out, sn_err_t *err)
{
    sn_zsender_t *self = sn_calloc(1, sizeof *self);
    self->opts = *opts;
    self->spool = spool;
    if (getrandom(&self->session, sizeof self->session, 0) !=
        (ssize_t)sizeof self->session) {
        self->session = sn_transport_now_ms() ^ (uint64_t)getpid() << 32;
    }
    self->bcap = ZBATCH_HDR + ZBATCH_TAIL + 64 * 1024;
    self->batch = sn_malloc(self->bcap);
    self->cur = sn_spool_cursor_new(spool, sn_spool_acked_seq(spool) + 1);
    self->progress_ms = sn_transport_now_ms();
    int rc = s_sender_socket(self, err);
    if (rc != SN_OK) {
        sn_zsender_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
sn_zsender_destroy(sn_zsender_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_zsender_t *self = *self_p;
    if (self->mon != NULL) {
        zmq_socket_monitor(self->sock, NULL, 0);
        zmq_close(self->mon);
    }
    if (self->sock != NULL) {
        zmq_close(self->sock);
    }
    if (self->ctx != NULL) {
        zmq_ctx_term(self->ctx);
    }
    sn_spool_cursor_destroy(&self->cur);
    free(self->batch);
    free(self->out);
    free(self->arena.buf);
    free(self);
    *self_p = NULL;
}

/* -- sender: sending ---------------------------------------------------- */

/* @return the next sequence number that has not been sent. */
static uint64_t
s_next_unsent(const sn_zsender_t *self)
{
    return self->nrecs > 0 ? self->batch_first : sn_spool_cursor_pos(self->cur);
}

static void
s_rewind(sn_zsender_t *self, uint64_t to, const char *why)
{
    uint64_t floor = sn_spool_acked_seq(self->spool) + 1;
    if (to < floor) {
        to = floor;
    }
    uint64_t now = sn_transport_now_ms();
    if (to >= s_next_unsent(self) ||
        (to == self->rewind_seq &&
         now - self->rewind_ms < self->opts.timeout_ms)) {
        return;
    }
    sn_log(SN_LOG_INFO, "transport", "resend",
           "sender=%s from=%" PRIu64 " to=%" PRIu64 " reason=%s",
           self->opts.sender_id, to, s_next_unsent(self) - 1, why);
    self->nrecs = 0;
    self->blen = 0;
    sn_spool_cursor_seek(self->cur, to);
    self->rewind_seq = to;
    self->rewind_ms = now;
    self->progress_ms = now;
}

static int
s_send_env(sn_zsender_t *self, const Sentinel__V1__Envelope *env)
{
    size_t n = sn_zmq_pack(env, &self->out, &self->outcap);
    return zmq_send(self->sock, self->out, n, ZMQ_DONTWAIT) < 0 ? -1 : 0;
}

/* Append one record to the pending batch as protobuf-c would write a
 * `repeated bytes records = 3` element: tag, varint length, bytes. */
static void
s_add_record(sn_zsender_t *self, uint64_t seq, const uint8_t *d, size_t len)
{
    size_t need = ZBATCH_HDR + self->blen + 4 + len + ZBATCH_TAIL;
    if (need > self->bcap) {
        self->bcap = 2 * need;
        self->batch = sn_realloc(self->batch, self->bcap);
    }
    if (self->nrecs == 0) {
        self->batch_first = seq;
        self->batch_ms = sn_transport_now_ms();
    }
    uint8_t *p = self->batch + ZBATCH_HDR + self->blen;
    uint8_t *start = p;
    *p++ = 3 << 3 | 2;
    p = s_put_varint(p, len);
    memcpy(p, d, len);
    self->blen += (size_t)(p - start) + len;
    self->nrecs++;
}

/* Read records straight into the pending batch while the window allows.
 * @return SN_OK, SN_ENODATA when the spool has no more flushed records
 * for now, or an error. */
static int
s_fill_batch(sn_zsender_t *self, sn_err_t *err)
{
    uint64_t acked = sn_spool_acked_seq(self->spool);
    while (self->nrecs < self->opts.batch_records &&
           sn_spool_cursor_pos(self->cur) - 1 - acked < self->opts.window) {
        uint64_t seq;
        const uint8_t *d;
        size_t len;
        int rc = sn_spool_cursor_next(self->cur, &seq, &d, &len, err);
        if (rc != SN_OK) {
            return rc;
        }
        s_add_record(self, seq, d, len);
    }
    return SN_OK;
}

/* Put the Envelope and Batch headers in front of the records and the
 * session after them: the bytes sentinel__v1__envelope__pack() writes for
 * the same Batch (fields in number order, proto3 zero values left out),
 * without copying the records again. @return the message's first byte. */
static uint8_t *
s_frame_batch(sn_zsender_t *self, size_t *len)
{
    uint8_t *tail = self->batch + ZBATCH_HDR + self->blen;
    uint8_t *end = tail;
    if (self->session != 0) {
        *end++ = 4 << 3;
        end = s_put_varint(end, self->session);
    }
    uint8_t hdr[ZBATCH_HDR];
    uint8_t *h = hdr;
    size_t id_len = strlen(self->opts.sender_id);
    if (id_len > 0) {
        *h++ = 1 << 3 | 2;
        *h++ = (uint8_t)id_len;
        memcpy(h, self->opts.sender_id, id_len);
        h += id_len;
    }
    if (self->batch_first != 0) {
        *h++ = 2 << 3;
        h = s_put_varint(h, self->batch_first);
    }
    size_t body = (size_t)(h - hdr) + (size_t)(end - tail) + self->blen;
    uint8_t env[11];
    uint8_t *e = env;
    *e++ = 1 << 3 | 2;
    e = s_put_varint(e, body);
    size_t front = (size_t)(e - env) + (size_t)(h - hdr);
    uint8_t *start = self->batch + ZBATCH_HDR - front;
    memcpy(start, env, (size_t)(e - env));
    memcpy(start + (e - env), hdr, (size_t)(h - hdr));
    *len = (size_t)(end - start);
    return start;
}

/* Send batches until the spool has nothing more, the window is full or the
 * socket would block (no connection, or its queue is full). A batch that
 * is not full waits up to batch_ms for more records, so a feed that flushes
 * the spool in small steps still travels in full batches. */
static int
s_pump(sn_zsender_t *self, sn_err_t *err)
{
    for (;;) {
        int rc = s_fill_batch(self, err);
        if ((rc != SN_OK && rc != SN_ENODATA) || self->nrecs == 0) {
            return rc == SN_ENODATA ? SN_OK : rc;
        }
        if (self->nrecs < self->opts.batch_records &&
            sn_transport_now_ms() - self->batch_ms < self->opts.batch_ms) {
            return SN_OK;
        }
        size_t len;
        uint8_t *msg = s_frame_batch(self, &len);
        self->blocked = zmq_send(self->sock, msg, len, ZMQ_DONTWAIT) < 0;
        if (self->blocked) {
            return SN_OK; /* keep the batch; try again when writable */
        }
        self->nrecs = 0;
        self->blen = 0;
    }
}

/* Tell the receiver our floor (an Ack from the sender), then a heartbeat
 * carrying the last sequence sent. */
static void
s_heartbeat(sn_zsender_t *self, uint64_t now)
{
    Sentinel__V1__Ack a = SENTINEL__V1__ACK__INIT;
    a.sender_id = (char *)self->opts.sender_id;
    a.seq_acked = sn_spool_acked_seq(self->spool);
    Sentinel__V1__Envelope env = SENTINEL__V1__ENVELOPE__INIT;
    env.body_case = SENTINEL__V1__ENVELOPE__BODY_ACK;
    env.ack = &a;
    self->hb_ms = now;
    if (s_send_env(self, &env) != 0) {
        return;
    }
    Sentinel__V1__Heartbeat h = SENTINEL__V1__HEARTBEAT__INIT;
    h.sender_id = (char *)self->opts.sender_id;
    h.seq_last = s_next_unsent(self) - 1;
    h.time_ms = (int64_t)now;
    env.body_case = SENTINEL__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &h;
    if (s_send_env(self, &env) == 0) {
        self->hb_seq = h.seq_last;
        self->hb_stamp = now;
    }
}

/* -- sender: receiving -------------------------------------------------- */

static int
s_on_ack(sn_zsender_t *self, uint64_t seq, sn_err_t *err)
{
    if (seq > sn_spool_flushed_seq(self->spool)) {
        sn_log(SN_LOG_ERROR, "transport", "ack_beyond_spool",
               "sender=%s acked=%" PRIu64 " last=%" PRIu64
               " reason=\"the receiver knows records this spool never "
               "held: is sender_id reused with a new spool?\"",
               self->opts.sender_id, seq, sn_spool_flushed_seq(self->spool));
        return SN_OK;
    }
    if (seq <= sn_spool_acked_seq(self->spool)) {
        return SN_OK;
    }
    int rc = sn_spool_ack(self->spool, seq, err);
    self->progress_ms = sn_transport_now_ms();
    if (rc == SN_OK && seq + 1 > s_next_unsent(self)) {
        self->nrecs = 0;
        self->blen = 0;
        sn_spool_cursor_seek(self->cur, seq + 1);
    }
    return rc;
}

static void
s_on_heartbeat(sn_zsender_t *self, const Sentinel__V1__Heartbeat *h)
{
    uint64_t stamp = (uint64_t)h->time_ms;
    if (stamp == 0) {
        s_rewind(self, h->seq_last + 1, "gap");
    } else if (stamp == self->hb_stamp && h->seq_last < self->hb_seq) {
        s_rewind(self, h->seq_last + 1, "lost");
    }
}

static int
s_sender_handle(sn_zsender_t *self, const uint8_t *data, size_t len,
                sn_err_t *err)
{
    Sentinel__V1__Envelope *env = sn_zmq_unpack(&self->arena, data, len);
    if (env == NULL) {
        sn_log(SN_LOG_WARN, "transport", "bad_message",
               "sender=%s bytes=%zu reason=\"not an Envelope\"",
               self->opts.sender_id, len);
        return SN_OK;
    }
    uint64_t now = sn_transport_now_ms();
    if (!self->connected) {
        /* Heard again after a silence: whatever was in flight may be lost
         * with the old connection. The first contact is no reconnect. */
        self->connected = true;
        if (self->heard_ms != 0) {
            s_rewind(self, sn_spool_acked_seq(self->spool) + 1, "reconnect");
        }
    }
    self->heard_ms = now;
    if (env->body_case == SENTINEL__V1__ENVELOPE__BODY_ACK) {
        return s_on_ack(self, env->ack->seq_acked, err);
    }
    if (env->body_case == SENTINEL__V1__ENVELOPE__BODY_HEARTBEAT) {
        s_on_heartbeat(self, env->heartbeat);
    }
    return SN_OK;
}

static int
s_on_monitor(sn_zsender_t *self, sn_err_t *err)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    int rc = SN_OK;
    if (zmq_msg_recv(&ev, self->mon, ZMQ_DONTWAIT) >= 0 &&
        zmq_msg_recv(&addr, self->mon, 0) >= 0 && zmq_msg_size(&ev) >= 6) {
        const uint8_t *p = zmq_msg_data(&ev);
        uint16_t event = (uint16_t)(p[0] | p[1] << 8);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
            rc = sn_err_set(err, SN_EAUTH,
                            "transport %s: the receiver refused this "
                            "sender's CURVE key: add its public key to the "
                            "receiver's authorized_keys",
                            self->opts.endpoint);
        } else {
            rc = sn_err_set(err, SN_EAUTH,
                            "transport %s: CURVE handshake failed: is "
                            "server_key the receiver's public key?",
                            self->opts.endpoint);
        }
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
    return rc;
}

static int
s_sender_drain(sn_zsender_t *self, sn_err_t *err)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    int rc = SN_OK;
    while (rc == SN_OK && zmq_msg_recv(&m, self->sock, ZMQ_DONTWAIT) >= 0) {
        rc = s_sender_handle(self, zmq_msg_data(&m), zmq_msg_size(&m), err);
    }
    zmq_msg_close(&m);
    return rc;
}

/* -- sender: the loop --------------------------------------------------- */

static void
s_timers(sn_zsender_t *self, uint64_t now)
{
    if (now - self->hb_ms >= self->opts.heartbeat_ms) {
        s_heartbeat(self, now);
    }
    if (self->connected && now - self->heard_ms > 3 * self->opts.heartbeat_ms) {
        self->connected = false;
        sn_log(SN_LOG_WARN, "transport", "receiver_silent",
               "sender=%s endpoint=%s", self->opts.sender_id,
               self->opts.endpoint);
    }
    uint64_t acked = sn_spool_acked_seq(self->spool);
    if (s_next_unsent(self) - 1 > acked &&
        now - self->progress_ms >= self->opts.timeout_ms) {
        s_rewind(self, acked + 1, "timeout");
    }
}

int
sn_zsender_poll(sn_zsender_t *self, int timeout_ms, sn_err_t *err)
{
    uint64_t deadline =
        sn_transport_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        /* Timers before the pump, so a new sender's floor and heartbeat
         * reach the receiver ahead of its first batch. */
        int rc = s_sender_drain(self, err);
        uint64_t now = sn_transport_now_ms();
        if (rc == SN_OK) {
            s_timers(self, now);
            rc = s_pump(self, err);
        }
        if (rc != SN_OK) {
            return rc;
        }
        if (sn_zsender_drained(self) || now >= deadline) {
            return SN_OK;
        }
        uint64_t wait = deadline - now;
        uint64_t hb_due = self->hb_ms + self->opts.heartbeat_ms;
        if (hb_due > now && hb_due - now < wait) {
            wait = hb_due - now;
        }
        uint64_t batch_due = self->batch_ms + self->opts.batch_ms;
        if (self->nrecs > 0 && !self->blocked && batch_due - now < wait) {
            wait = batch_due > now ? batch_due - now : 0;
        }
        zmq_pollitem_t items[] = {
            {self->sock, 0, ZMQ_POLLIN | (self->blocked ? ZMQ_POLLOUT : 0), 0},
            {self->mon, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, self->mon ? 2 : 1, (long)wait) < 0 &&
            zmq_errno() != EINTR) {
            return sn_zmq_error(err, "poll", self->opts.endpoint);
        }
        if (self->mon && (items[1].revents & ZMQ_POLLIN)) {
            return s_on_monitor(self, err);
        }
    }
}

bool
sn_zsender_drained(const sn_zsender_t *self)
{
    return sn_spool_acked_seq(self->spool) == sn_spool_flushed_seq(self->spool);
}

bool
sn_zsender_connected(const sn_zsender_t *self)
{
    return self->connected;
}
