/*  common/transport_zrecv.c - the receiving end of the ZeroMQ transport
 *
 *  A ROUTER socket that the collectors' (or the analyzer's) DEALERs connect
 *  to. The protocol is described in transport_zmq.c; this file keeps one
 *  position per sender, drops what it has already delivered, asks for a
 *  resend when a batch skips ahead, answers heartbeats, and sends Acks only
 *  when the application says its state is durable (transport.h).
 *
 *  Batches are the hot path: a thousand records a message, a million a
 *  second. They are read straight from the wire format (an Envelope whose
 *  only field is one Batch) into views of the ZeroMQ message, so a record
 *  reaches the application without being copied or allocated. Anything
 *  else, or a batch with a field this reader does not expect (or a tag or
 *  length prefix longer than the five bytes protobuf-c reads), goes
 *  through protobuf-c as before, so both readers accept the same messages.
 */
#include "transport_int.h"

#include "sentinel/date.h"
#include "sentinel/log.h"
#include "sentinel/mem.h"

#include "sentinel/v1/event.pb-c.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ZMQ_RECV_BURST 256 /* messages handled per receiver poll */

/* Where delivered records go: one callback per record, or per batch. */
typedef struct s_sink {
    sn_receiver_fn one;        /* per record, or NULL */
    sn_receiver_batch_fn many; /* per batch, or NULL */
    void *arg;                 /* their argument */
} s_sink_t;

/* One Batch as the receiver reads it; every pointer is borrowed from the
 * message (or the unpacked Envelope) being handled. */
typedef struct s_batch {
    const char *sender_id;              /* NUL-terminated */
    uint64_t seq_first;                 /* seq of records[0] */
    uint64_t session;                   /* the sender's session */
    size_t n_records;                   /* records in the message */
    const ProtobufCBinaryData *records; /* their bytes (n_records, or
                                           none when too many to keep) */
} s_batch_t;

struct sn_zreceiver {
    sn_transport_opts_t opts;           /* options; strings borrowed */
    void *ctx;                          /* own ZeroMQ context */
    void *sock;                         /* ROUTER */
    sn_zap_t *zap;                      /* ZAP handler, with CURVE */
    int64_t refused_log_ns;             /* last sender_refused logged */
    sn_positions_t *pos;                /* per-sender positions */
    uint8_t *out;                       /* packed replies */
    size_t outcap;                      /* its size */
    sn_zarena_t arena;                  /* for unpacking */
    char sender[SN_SENDER_ID_MAX + 16]; /* sender_id of the batch read */
    ProtobufCBinaryData *views;         /* its records, in the message */
    size_t cap_views;                   /* size of views */
    sn_record_t *recs;                  /* records for a batch callback */
    size_t cap_recs;                    /* size of recs */
};

/* -- receiver: lifecycle ------------------------------------------------ */

static int
s_receiver_curve(sn_zreceiver_t *self, sn_err_t *err)
{
    char secret[SN_CURVE_KEY_Z85 + 1];
    int rc = sn_curve_read_key(self->opts.secret_key, secret, err);
    if (rc == SN_OK) {
        rc = sn_zap_new(self->ctx, self->opts.authorized_keys, &self->zap, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    sn_zmq_setopt_int(self->sock, ZMQ_CURVE_SERVER, 1);
    zmq_setsockopt(self->sock, ZMQ_CURVE_SECRETKEY, secret, 41);
    zmq_setsockopt(self->sock, ZMQ_ZAP_DOMAIN, "sentinel", 8);
    return SN_OK;
}

int
sn_zreceiver_new(const sn_transport_opts_t *opts, sn_zreceiver_t **out,
                 sn_err_t *err)
{
    sn_zreceiver_t *self = sn_calloc(1, sizeof *self);
    self->opts = *opts;
    self->pos = sn_positions_new(opts->state_dir);
    self->ctx = zmq_ctx_new();
    self->sock = zmq_socket(self->ctx, ZMQ_ROUTER);
    sn_zmq_setopt_int(self->sock, ZMQ_LINGER, 200);
    sn_zmq_setopt_int(self->sock, ZMQ_RCVHWM, 10000);
    if (opts->max_message > 0) {
        /* ZeroMQ drops the connection of a peer whose message announces
         * more: the receiver never allocates for it. */
        int64_t max = (int64_t)opts->max_message;
        zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &max, sizeof max);
    }
    sn_zmq_setopt_int(self->sock, ZMQ_HEARTBEAT_IVL, (int)opts->heartbeat_ms);
    sn_zmq_setopt_int(self->sock, ZMQ_HEARTBEAT_TIMEOUT,
                      3 * (int)opts->heartbeat_ms);
    int rc = sn_positions_load(self->pos, err);
    if (rc == SN_OK && opts->curve) {
        rc = s_receiver_curve(self, err);
    }
    if (rc == SN_OK && zmq_bind(self->sock, opts->endpoint) != 0) {
        rc = sn_zmq_error(err, "bind", opts->endpoint);
    }
    if (rc != SN_OK) {
        sn_zreceiver_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
sn_zreceiver_destroy(sn_zreceiver_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_zreceiver_t *self = *self_p;
    if (self->sock != NULL) {
        zmq_close(self->sock);
    }
    sn_zap_destroy(&self->zap);
    if (self->ctx != NULL) {
        zmq_ctx_term(self->ctx);
    }
    sn_positions_destroy(&self->pos);
    free(self->out);
    free(self->arena.buf);
    free(self->views);
    free(self->recs);
    free(self);
    *self_p = NULL;
}

sn_positions_t *
sn_zreceiver_positions(sn_zreceiver_t *self)
{
    return self->pos;
}

/* -- receiver: replies -------------------------------------------------- */

/* Send `env` to the connection `peer` last wrote from. A peer that is gone
 * simply misses it: acks and gap notices are repeated on its next
 * heartbeat. */
static void
s_reply(sn_zreceiver_t *self, const sn_peer_t *peer,
        const Sentinel__V1__Envelope *env)
{
    if (peer->rid_len == 0) {
        return;
    }
    size_t n = sn_zmq_pack(env, &self->out, &self->outcap);
    if (zmq_send(self->sock, peer->rid, peer->rid_len,
                 ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
        zmq_send(self->sock, self->out, n, ZMQ_DONTWAIT);
    }
}

static void
s_reply_ack(sn_zreceiver_t *self, const sn_peer_t *peer)
{
    Sentinel__V1__Ack a = SENTINEL__V1__ACK__INIT;
    a.sender_id = (char *)peer->id;
    a.seq_acked = peer->acked;
    Sentinel__V1__Envelope env = SENTINEL__V1__ENVELOPE__INIT;
    env.body_case = SENTINEL__V1__ENVELOPE__BODY_ACK;
    env.ack = &a;
    s_reply(self, peer, &env);
}

static void
s_reply_heartbeat(sn_zreceiver_t *self, const sn_peer_t *peer, int64_t echo)
{
    Sentinel__V1__Heartbeat h = SENTINEL__V1__HEARTBEAT__INIT;
    h.sender_id = (char *)peer->id;
    h.seq_last = peer->delivered;
    h.time_ms = echo;
    Sentinel__V1__Envelope env = SENTINEL__V1__ENVELOPE__INIT;
    env.body_case = SENTINEL__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &h;
    s_reply(self, peer, &env);
}

/* -- receiver: reading a Batch straight from the wire ------------------ */

/* The longest varints protobuf-c reads: a tag or a length prefix takes at
 * most five bytes (it refuses the message otherwise), a value ten. */
enum {
    S_KEY_MAX = 5,    /* tags and lengths */
    S_VALUE_MAX = 10, /* field values */
};

/* The varint at `p` of two bytes or more and at most `max`, before `end`.
 * @return the byte after it, or NULL when it is cut short or longer. */
static const uint8_t *
s_varint_long(const uint8_t *p, const uint8_t *end, unsigned max, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < max && p < end; i++) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            *out = v;
            return p;
        }
    }
    return NULL;
}

/* The base-128 varint at `p` of at most `max` bytes (S_KEY_MAX or
 * S_VALUE_MAX): tags and the lengths of short records take one byte, and
 * that case stays inline. @return the byte after it, or NULL. */
static inline const uint8_t *
s_varint(const uint8_t *p, const uint8_t *end, unsigned max, uint64_t *out)
{
    if (p < end && *p < 0x80) {
        *out = *p;
        return p + 1;
    }
    return s_varint_long(p, end, max, out);
}

/* The length of a length-delimited field at `p`, checked against what is
 * left. @return the first byte of the field's bytes, or NULL. */
static const uint8_t *
s_length(const uint8_t *p, const uint8_t *end, size_t *out)
{
    uint64_t n;
    p = s_varint(p, end, S_KEY_MAX, &n);
    if (p == NULL || n > (uint64_t)(end - p)) {
        return NULL;
    }
    *out = (size_t)n;
    return p;
}

/* Keep one record's view. Past max_batch_records the records are only
 * counted: such a batch is refused whole, so there is no need to keep
 * them (and a hostile message cannot make the array huge). */
static void
s_view_add(sn_zreceiver_t *self, size_t i, const uint8_t *data, size_t len)
{
    uint32_t max = self->opts.max_batch_records;
    if (max > 0 && i >= max) {
        return;
    }
    if (i == self->cap_views) {
        self->cap_views = self->cap_views ? 2 * self->cap_views : 1024;
        self->views =
            sn_reallocarray(self->views, self->cap_views, sizeof *self->views);
    }
    self->views[i] = (ProtobufCBinaryData){len, (uint8_t *)data};
}

/* One field of a Batch at `p`. @return the byte after it, or NULL on
 * anything but the four fields of the schema with their wire types, or
 * bytes that do not parse: the caller then leaves the message to
 * protobuf-c. */
static const uint8_t *
s_batch_field(sn_zreceiver_t *self, const uint8_t *p, const uint8_t *end,
              s_batch_t *b)
{
    uint64_t tag;
    size_t n;
    if ((p = s_varint(p, end, S_KEY_MAX, &tag)) == NULL) {
        return NULL;
    }
    switch (tag) {
    case (1 << 3) | 2: /* sender_id */
        if ((p = s_length(p, end, &n)) == NULL || n >= sizeof self->sender) {
            return NULL;
        }
        memcpy(self->sender, p, n);
        self->sender[n] = '\0';
        return p + n;
    case (2 << 3) | 0: /* seq_first */
        return s_varint(p, end, S_VALUE_MAX, &b->seq_first);
    case (3 << 3) | 2: /* records */
        if ((p = s_length(p, end, &n)) == NULL) {
            return NULL;
        }
        s_view_add(self, b->n_records++, p, n);
        return p + n;
    case (4 << 3) | 0: /* session */
        return s_varint(p, end, S_VALUE_MAX, &b->session);
    default:
        return NULL;
    }
}

/* Read `data` as an Envelope holding one Batch, the message every batch
 * is. @return false when it is anything else (an Ack, a Heartbeat, an
 * unknown field, malformed bytes). */
static bool
s_read_batch(sn_zreceiver_t *self, const uint8_t *data, size_t len,
             s_batch_t *b)
{
    const uint8_t *p = data, *end = len > 0 ? data + len : data;
    uint64_t tag;
    size_t n;
    p = s_varint(p, end, S_KEY_MAX, &tag);
    if (p == NULL || tag != ((1 << 3) | 2) ||
        (p = s_length(p, end, &n)) == NULL || p + n != end) {
        return false;
    }
    *b = (s_batch_t){.sender_id = self->sender};
    self->sender[0] = '\0';
    while (p < end) {
        if ((p = s_batch_field(self, p, end, b)) == NULL) {
            return false;
        }
    }
    b->records = self->views;
    return true;
}

/* -- receiver: incoming ------------------------------------------------- */

/* Hand records [skip, n) of `b` to the batch callback in one call. */
static int
s_deliver_many(sn_zreceiver_t *self, sn_peer_t *peer, const s_batch_t *b,
               size_t skip, const s_sink_t *sink, int *delivered)
{
    size_t n = b->n_records - skip;
    if (n > self->cap_recs) {
        self->recs = sn_reallocarray(self->recs, n, sizeof *self->recs);
        self->cap_recs = n;
    }
    for (size_t i = 0; i < n; i++) {
        const ProtobufCBinaryData *r = &b->records[skip + i];
        self->recs[i] =
            (sn_record_t){peer->id, b->seq_first + skip + i, r->data, r->len};
    }
    int rc = sink->many(self->recs, n, sink->arg);
    if (rc != SN_OK) {
        return rc;
    }
    peer->delivered = b->seq_first + b->n_records - 1;
    *delivered += (int)n;
    return SN_OK;
}

/* Hand records [skip, n) of `b` to the per-record callback. */
static int
s_deliver_one(sn_peer_t *peer, const s_batch_t *b, size_t skip,
              const s_sink_t *sink, int *delivered)
{
    for (size_t i = skip; i < b->n_records; i++) {
        sn_record_t rec = {peer->id, b->seq_first + i, b->records[i].data,
                           b->records[i].len};
        int rc = sink->one(&rec, sink->arg);
        if (rc != SN_OK) {
            return rc;
        }
        peer->delivered = rec.seq;
        (*delivered)++;
    }
    return SN_OK;
}

static int
s_on_batch(sn_zreceiver_t *self, sn_peer_t *peer, const s_batch_t *b,
           const s_sink_t *sink, int *delivered)
{
    if (b->session != peer->session) {
        sn_log(SN_LOG_INFO, "transport", "sender_session",
               "sender=%s session=%016" PRIx64 " position=%" PRIu64, peer->id,
               b->session, peer->delivered);
        peer->session = b->session;
    }
    if (b->n_records == 0) {
        return SN_OK;
    }
    if (self->opts.max_batch_records > 0 &&
        b->n_records > self->opts.max_batch_records) {
        sn_log(SN_LOG_WARN, "transport", "batch_refused",
               "sender=%s seq_first=%" PRIu64 " records=%zu reason=\"batch "
               "of %zu records is larger than max_batch_records %" PRIu32 "\"",
               peer->id, b->seq_first, b->n_records, b->n_records,
               self->opts.max_batch_records);
        return SN_OK;
    }
    if (b->seq_first > peer->delivered + 1) {
        s_reply_heartbeat(self, peer, 0); /* gap: resend from delivered + 1 */
        return SN_OK;
    }
    size_t skip = (size_t)(peer->delivered + 1 - b->seq_first);
    if (skip < b->n_records) {
        int rc = sink->many != NULL
                     ? s_deliver_many(self, peer, b, skip, sink, delivered)
                     : s_deliver_one(peer, b, skip, sink, delivered);
        if (rc != SN_OK) {
            return rc;
        }
    }
    if (skip > 0) {
        s_reply_ack(self, peer); /* duplicates: tell the sender where it is */
    }
    return SN_OK;
}

/* A sender's floor: records below it are acknowledged and gone from its
 * spool, so waiting for them would wait for ever. */
static void
s_on_floor(sn_zreceiver_t *self, sn_peer_t *peer, uint64_t floor)
{
    (void)self;
    if (floor > peer->delivered) {
        sn_log(SN_LOG_WARN, "transport", "sender_floor",
               "sender=%s position=%" PRIu64 " floor=%" PRIu64
               " reason=\"the sender freed records this receiver has no "
               "record of: its state was lost or reset\"",
               peer->id, peer->delivered, floor);
        peer->delivered = peer->acked = floor;
    }
}

static const char *
s_env_sender(const Sentinel__V1__Envelope *env)
{
    switch (env->body_case) {
    case SENTINEL__V1__ENVELOPE__BODY_BATCH:
        return env->batch->sender_id;
    case SENTINEL__V1__ENVELOPE__BODY_ACK:
        return env->ack->sender_id;
    case SENTINEL__V1__ENVELOPE__BODY_HEARTBEAT:
        return env->heartbeat->sender_id;
    default:
        return NULL;
    }
}

/* Whether the connection `body` came on may speak as `id`: with CURVE,
 * its key must be bound to that sender id (or to none). A refusal is
 * logged, at most once a second. */
static bool
s_may_speak(sn_zreceiver_t *self, zmq_msg_t *body, const char *id)
{
    if (self->zap == NULL || id == NULL) {
        return true;
    }
    const char *user = zmq_msg_gets(body, "User-Id");
    if (sn_zap_allows(self->zap, user, id)) {
        return true;
    }
    int64_t now = sn_clock_ns();
    if (now - self->refused_log_ns >= 1000000000) {
        self->refused_log_ns = now;
        sn_log(SN_LOG_WARN, "transport", "sender_refused",
               "sender=%s key=%s reason=\"this CURVE key is not bound to "
               "this sender_id in authorized_keys\"",
               id, user != NULL ? user : "?");
    }
    return false;
}

/* The peer named `id`, which the connection `rid` speaks for now; NULL
 * (logged) when the message names no valid sender, or one its key may not
 * speak for. */
static sn_peer_t *
s_peer(sn_zreceiver_t *self, const char *id, const zmq_msg_t *rid,
       zmq_msg_t *body, size_t bytes)
{
    if (!s_may_speak(self, body, id)) {
        return NULL;
    }
    sn_peer_t *peer = id ? sn_positions_get(self->pos, id, true) : NULL;
    if (peer == NULL) {
        sn_log(SN_LOG_WARN, "transport", "bad_message",
               "bytes=%zu reason=\"not an Envelope with a valid sender_id\"",
               bytes);
        return NULL;
    }
    size_t rl = zmq_msg_size((zmq_msg_t *)rid);
    peer->rid_len = rl <= sizeof peer->rid ? rl : 0;
    memcpy(peer->rid, zmq_msg_data((zmq_msg_t *)rid), peer->rid_len);
    return peer;
}

/* Everything but a plain batch: protobuf-c unpacks it into the arena. */
static int
s_handle_unpacked(sn_zreceiver_t *self, const zmq_msg_t *rid, zmq_msg_t *body,
                  const uint8_t *data, size_t len, const s_sink_t *sink,
                  int *delivered)
{
    Sentinel__V1__Envelope *env = sn_zmq_unpack(&self->arena, data, len);
    sn_peer_t *peer =
        s_peer(self, env ? s_env_sender(env) : NULL, rid, body, len);
    if (peer == NULL) {
        return SN_OK;
    }
    switch (env->body_case) {
    case SENTINEL__V1__ENVELOPE__BODY_BATCH: {
        const Sentinel__V1__Batch *pb = env->batch;
        s_batch_t b = {pb->sender_id, pb->seq_first, pb->session, pb->n_records,
                       pb->records};
        return s_on_batch(self, peer, &b, sink, delivered);
    }
    case SENTINEL__V1__ENVELOPE__BODY_ACK:
        s_on_floor(self, peer, env->ack->seq_acked);
        return SN_OK;
    case SENTINEL__V1__ENVELOPE__BODY_HEARTBEAT:
        s_reply_ack(self, peer);
        s_reply_heartbeat(
            self, peer, env->heartbeat->time_ms ? env->heartbeat->time_ms : 1);
        return SN_OK;
    default:
        return SN_OK;
    }
}

static int
s_receiver_handle(sn_zreceiver_t *self, const zmq_msg_t *rid, zmq_msg_t *body,
                  const s_sink_t *sink, int *delivered)
{
    const uint8_t *data = zmq_msg_data(body);
    size_t len = zmq_msg_size(body);
    s_batch_t b;
    if (!s_read_batch(self, data, len, &b)) {
        return s_handle_unpacked(self, rid, body, data, len, sink, delivered);
    }
    sn_peer_t *peer = s_peer(self, b.sender_id, rid, body, len);
    return peer != NULL ? s_on_batch(self, peer, &b, sink, delivered) : SN_OK;
}

/* Receive one [routing id, body] message without waiting.
 * @return 1 when one was handled, 0 when none was waiting, or an error. */
static int
s_receive_one(sn_zreceiver_t *self, const s_sink_t *sink, int *delivered)
{
    zmq_msg_t rid, body;
    zmq_msg_init(&rid);
    zmq_msg_init(&body);
    int rc = 0;
    if (zmq_msg_recv(&rid, self->sock, ZMQ_DONTWAIT) >= 0) {
        rc = 1;
        if (zmq_msg_more(&rid) && zmq_msg_recv(&body, self->sock, 0) >= 0) {
            int r = s_receiver_handle(self, &rid, &body, sink, delivered);
            rc = r == SN_OK ? 1 : r;
        }
        while (rc == 1 && zmq_msg_more(&body)) {
            zmq_msg_recv(&body, self->sock, 0); /* drop extra frames */
        }
    }
    zmq_msg_close(&rid);
    zmq_msg_close(&body);
    return rc;
}

static int
s_poll(sn_zreceiver_t *self, int timeout_ms, const s_sink_t *sink,
       sn_err_t *err)
{
    zmq_pollitem_t item = {self->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) < 0 && zmq_errno() != EINTR) {
        return sn_zmq_error(err, "poll", self->opts.endpoint);
    }
    int delivered = 0;
    for (int i = 0; i < ZMQ_RECV_BURST; i++) {
        int rc = s_receive_one(self, sink, &delivered);
        if (rc < 0) {
            return sn_err_set(err, rc,
                              "transport %s: delivery stopped by "
                              "the application: %s",
                              self->opts.endpoint, sn_strerror(rc));
        }
        if (rc == 0) {
            break;
        }
    }
    return delivered;
}

int
sn_zreceiver_poll(sn_zreceiver_t *self, int timeout_ms, sn_receiver_fn fn,
                  void *arg, sn_err_t *err)
{
    s_sink_t sink = {fn, NULL, arg};
    return s_poll(self, timeout_ms, &sink, err);
}

int
sn_zreceiver_poll_batch(sn_zreceiver_t *self, int timeout_ms,
                        sn_receiver_batch_fn fn, void *arg, sn_err_t *err)
{
    s_sink_t sink = {NULL, fn, arg};
    return s_poll(self, timeout_ms, &sink, err);
}

/* -- receiver: acknowledgements ---------------------------------------- */

int
sn_zreceiver_ack(sn_zreceiver_t *self, const char *sender_id, uint64_t seq,
                 sn_err_t *err)
{
    sn_peer_t *peer = sn_positions_get(self->pos, sender_id, false);
    if (peer == NULL) {
        return sn_err_set(err, SN_ENOTFOUND, "transport: unknown sender '%s'",
                          sender_id ? sender_id : "");
    }
    if (seq > peer->delivered) {
        return sn_err_set(err, SN_ERANGE,
                          "transport: ack of %s seq %" PRIu64
                          " but only %" PRIu64 " were delivered",
                          sender_id, seq, peer->delivered);
    }
    if (seq > peer->acked) {
        peer->acked = seq;
        int rc = sn_positions_save(self->pos, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    s_reply_ack(self, peer);
    return SN_OK;
}

int
sn_zreceiver_commit(sn_zreceiver_t *self, sn_err_t *err)
{
    bool moved = false;
    for (size_t i = 0; i < sn_positions_size(self->pos); i++) {
        sn_peer_t *p = sn_positions_at(self->pos, i);
        moved |= p->delivered > p->acked;
    }
    if (!moved) {
        return SN_OK;
    }
    for (size_t i = 0; i < sn_positions_size(self->pos); i++) {
        sn_peer_t *p = sn_positions_at(self->pos, i);
        p->acked = p->delivered;
    }
    int rc = sn_positions_save(self->pos, err);
    for (size_t i = 0; rc == SN_OK && i < sn_positions_size(self->pos); i++) {
        s_reply_ack(self, sn_positions_at(self->pos, i));
    }
    return rc;
}
