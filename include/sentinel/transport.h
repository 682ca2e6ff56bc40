/*  include/sentinel/transport.h - reliable numbered records: sender, receiver
 *
 *  One transport carries case events from collectors to the analyzer and
 *  alerts from the analyzer to alerting. A record is opaque bytes. The sender
 *  publishes what its disk spool (sentinel/spool.h) holds, numbered by the
 *  spool's sequence numbers, and frees spool segments as the receiver
 *  acknowledges them; the receiver hands each new record to the application
 *  once, and acknowledges only what the application says is durable.
 *
 *  ZeroMQ (kind "zmq", the default): the sender's DEALER connects to the
 *  receiver's ROUTER; messages are sentinel.v1.Envelope (Batch, Ack,
 *  Heartbeat). The sender keeps at most `window` unacknowledged records in
 *  flight and sends everything unacknowledged again after a reconnect, a
 *  restart or `timeout_ms` without progress. The receiver keeps one position
 *  per sender (the highest sequence delivered) and drops records at or below
 *  it, so resends are harmless. CURVE encryption and authentication are on
 *  unless `curve` is false (the demo): the receiver accepts only public keys
 *  listed in `authorized_keys` (one Z85 key per line, '#' comments) and logs
 *  each refusal. Keys are made by `sentinel keygen`.
 *
 *  Kafka (kind "kafka"): the sender is an idempotent producer (acks=all)
 *  whose message key is given per record by the caller's key function (the
 *  collector passes the prefecture, the first four digits of the region);
 *  a record leaves the spool on its delivery report. The receiver is a
 *  consumer in group `group`; sn_receiver_commit() commits the offsets of
 *  what was delivered. Duplicates a producer restart puts on the topic are
 *  dropped by (sender, seq) within a partition (the message headers carry
 *  both); the analyzer's (site_id, event_id) dedup is the backstop.
 *
 *  The receiver's positions and kill -9. The positions must move with the
 *  application's durable state, or a crash between "state written" and
 *  "position written" delivers records twice. Two ways, pick one:
 *   1. The application stores the positions with its own state, in the same
 *      atomic write, and at start calls sn_receiver_set_position() for each
 *      sender from that state. Leave `state_dir` NULL. Exactly once.
 *   2. Set `state_dir`: sn_receiver_ack() writes the positions to
 *      <state_dir>/positions (fsynced, replaced atomically) before sending
 *      the Ack and reloads them at start. At least once: a crash between the
 *      application's write and the ack redelivers those records, so the
 *      application must be idempotent (the analyzer dedups by event id).
 *
 *  Threading: a sender or receiver belongs to the thread that created it;
 *  the callbacks run in that thread, inside sn_sender_poll() or
 *  sn_receiver_poll(). The ZeroMQ receiver runs one ZAP handler thread of
 *  its own, which only reads the authorised keys loaded at creation.
 */
#ifndef SENTINEL_INCLUDE_TRANSPORT_H
#define SENTINEL_INCLUDE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/config.h"
#include "sentinel/error.h"
#include "sentinel/spool.h"

#define SN_SENDER_ID_MAX 64                  /* sender_id: at most 64 bytes */
#define SN_TRANSPORT_KEY_MAX 64              /* a Kafka message key */
#define SN_TRANSPORT_MAX_MESSAGE (16u << 20) /* receiver: bytes per message */
#define SN_TRANSPORT_MAX_BATCH 100000        /* receiver: records per batch */
#define SN_TRANSPORT_LOOKBACK 100000 /* kafka receiver: read-back records */

typedef enum {
    SN_TRANSPORT_ZMQ = 0,   /* ZeroMQ DEALER -> ROUTER, no broker */
    SN_TRANSPORT_KAFKA = 1, /* a Kafka topic */
} sn_transport_kind_t;

/* Both ends' settings. Fill with sn_transport_opts_init(), then override.
 * Strings are borrowed and must outlive the sender or receiver made. */
typedef struct sn_transport_opts {
    sn_transport_kind_t kind; /* zmq (default) or kafka */
    const char *endpoint;     /* zmq: tcp://… or ipc://…; kafka: brokers */
    const char *sender_id;    /* sender: stable name (the collector id) */
    bool curve;               /* zmq: CURVE on (default true) */
    const char *secret_key;   /* zmq: own secret key file (keygen's .key) */
    const char *server_key;   /* zmq sender: receiver's public key file */
    const char *authorized_keys; /* zmq receiver: allowed public keys file */
    const char *topic;           /* kafka: the topic */
    const char *group;           /* kafka receiver: the consumer group */
    const char *state_dir;       /* receiver: positions file dir, or NULL */
    uint32_t batch_records;      /* records per batch (1000) */
    uint32_t batch_ms;           /* a partial batch waits this long (5) */
    uint32_t window;             /* unacknowledged records in flight (100000) */
    uint32_t heartbeat_ms;       /* heartbeat interval (1000) */
    uint32_t timeout_ms;         /* no progress this long: resend (5000) */
    uint64_t max_message;        /* receiver: bytes per message; a larger
                                    one drops the connection (zmq) or is
                                    logged and skipped (kafka) (16 MiB) */
    uint32_t max_batch_records;  /* receiver: records per batch; a larger
                                    batch is refused (zmq); records per
                                    poll (kafka: one per message) (100000) */
    uint32_t lookback;           /* kafka receiver: records per partition
                                    read back before the committed offset on
                                    an assignment, to learn each sender's
                                    position there (100000; 0: none) */
} sn_transport_opts_t;

typedef struct sn_sender sn_sender_t;     /* opaque */
typedef struct sn_receiver sn_receiver_t; /* opaque */

/* One record handed to the receiving application. Borrowed: valid only
 * during the callback. */
typedef struct sn_record {
    const char *sender_id; /* who sent it */
    uint64_t seq;          /* its sequence number at that sender */
    const uint8_t *data;   /* the record's bytes */
    size_t len;            /* their number */
} sn_record_t;

/* Called once per new record, in order per sender. Return SN_OK to go on;
 * an error stops the poll, which returns it, and the record and the rest of
 * its batch are not delivered (they come again after a resend). */
typedef int (*sn_receiver_fn)(const sn_record_t *rec, void *arg);

/* Called with `n` (>= 1) consecutive new records of one sender, in order:
 * a whole batch at once, so the application can work through it without a
 * call per record. Return SN_OK once all are taken. An error stops the
 * poll, which returns it, and none of the `n` records is delivered (they
 * come again after a resend): the application must not have kept any. */
typedef int (*sn_receiver_batch_fn)(const sn_record_t *recs, size_t n,
                                    void *arg);

/* Kafka sender: write the message key of record `data` into `key` (at most
 * `size` bytes, NUL-terminated). Return SN_OK or an error. */
typedef int (*sn_sender_key_fn)(const uint8_t *data, size_t len, char *key,
                                size_t size, void *arg);

/** Fill `opts` with the defaults above (all strings NULL). */
void sn_transport_opts_init(sn_transport_opts_t *opts);

/* -- configuration: the `transport:` and `spool:` sections ------------ */

/** The keys of a `transport:` section: kind, endpoint, sender_id, curve
 *  (bool), secret_key, server_key, authorized_keys, topic, group,
 *  state_dir, batch_records, batch_ms, window, heartbeat_ms, timeout_ms,
 *  max_message, max_batch_records, lookback. */
extern const sn_cfg_schema_t sn_transport_cfg_schema[];

/** The keys of a `spool:` section: dir (required), fsync
 *  (always|batch|never), fsync_every, fsync_ms, max_bytes, segment_bytes. */
extern const sn_cfg_schema_t sn_spool_cfg_schema[];

/** Read a loaded `transport:` section (may be NULL: all defaults) into
 *  `opts`, which borrows its strings from the configuration. CURVE on
 *  without its key files is refused. @return SN_OK or SN_ECONFIG. */
int sn_transport_opts_from_cfg(const sn_config_t *cfg,
                               const sn_cfg_node_t *node,
                               sn_transport_opts_t *opts, sn_err_t *err);

/** Read a loaded `spool:` section into `opts`. @return SN_OK or
 *  SN_ECONFIG. */
int sn_spool_opts_from_cfg(const sn_config_t *cfg, const sn_cfg_node_t *node,
                           sn_spool_opts_t *opts, sn_err_t *err);

/* -- sender ------------------------------------------------------------ */

/** Create a sender that publishes the records of `spool` from its
 *  acknowledged position on. Keeps a reference to `spool`, which must
 *  outlive the sender. `key_fn` (with `key_arg`) is required for Kafka and
 *  ignored for ZeroMQ. @return SN_OK; SN_EINVAL / SN_ECONFIG (options, key
 *  files); SN_ETRANSPORT (socket or client). *out written only on success. */
int sn_sender_new(const sn_transport_opts_t *opts, sn_spool_t *spool,
                  sn_sender_key_fn key_fn, void *key_arg, sn_sender_t **out,
                  sn_err_t *err);

/** Free the sender (unsent records stay in the spool); set *self_p NULL. */
void sn_sender_destroy(sn_sender_t **self_p);

/** Do the sender's work for up to `timeout_ms` (0: what is ready now):
 *  send flushed spool records in batches within the window, read acks and
 *  free the spool up to them, send heartbeats, resend after a silence or a
 *  reconnect. Returns early once every flushed record is acknowledged.
 *  @return SN_OK, or SN_EIO / SN_ETRANSPORT on a failure that will not
 *  heal (the message says what failed). */
int sn_sender_poll(sn_sender_t *self, int timeout_ms, sn_err_t *err);

/** @return true when every record flushed to the spool is acknowledged. */
bool sn_sender_drained(const sn_sender_t *self);

/** @return true while the receiver has answered within the timeout. */
bool sn_sender_connected(const sn_sender_t *self);

/** @return the acknowledged position (the spool's). */
uint64_t sn_sender_acked(const sn_sender_t *self);

/* -- receiver ---------------------------------------------------------- */

/** Create a receiver: ZeroMQ binds a ROUTER on opts->endpoint (and starts
 *  the ZAP handler when CURVE is on); Kafka joins opts->group on
 *  opts->topic. Loads <state_dir>/positions when state_dir is set.
 *  @return SN_OK; SN_EINVAL / SN_ECONFIG; SN_EIO (state file);
 *  SN_ETRANSPORT (bind, client). *out is written only on success. */
int sn_receiver_new(const sn_transport_opts_t *opts, sn_receiver_t **out,
                    sn_err_t *err);

/** Stop and free the receiver; set *self_p to NULL. Safe on NULL. */
void sn_receiver_destroy(sn_receiver_t **self_p);

/** Wait up to `timeout_ms` for traffic, then handle what has arrived: call
 *  `fn` for every record above its sender's position (in order) and answer
 *  heartbeats. Records at or below the position are dropped as duplicates;
 *  a batch that skips ahead is dropped and the sender told to resend.
 *  @return the number of records delivered (>= 0), the callback's error, or
 *  SN_ETRANSPORT. */
int sn_receiver_poll(sn_receiver_t *self, int timeout_ms, sn_receiver_fn fn,
                     void *arg, sn_err_t *err);

/** As sn_receiver_poll(), but `fn` gets the new records of each batch in
 *  one call (ZeroMQ; Kafka hands them over one at a time). */
int sn_receiver_poll_batch(sn_receiver_t *self, int timeout_ms,
                           sn_receiver_batch_fn fn, void *arg, sn_err_t *err);

/** The application says: every record of `sender_id` up to `seq` is durable
 *  on its side. Persists the position (state_dir set) and sends the Ack.
 *  @return SN_OK; SN_ENOTFOUND (unknown sender); SN_ERANGE (`seq` above what
 *  was delivered); SN_EIO; SN_EUNSUPPORTED on Kafka (use commit). */
int sn_receiver_ack(sn_receiver_t *self, const char *sender_id, uint64_t seq,
                    sn_err_t *err);

/** Acknowledge everything delivered so far, for every sender (ZeroMQ), or
 *  commit the offsets of everything delivered (Kafka). Call it only once
 *  the application's state holding those records is durable.
 *  @return SN_OK, SN_EIO or SN_ETRANSPORT. */
int sn_receiver_commit(sn_receiver_t *self, sn_err_t *err);

/* Kafka receiver: called from inside sn_receiver_poll() (or destroy) when
 * the consumer group is about to take this receiver's partitions away
 * (another consumer joined or left). Make the state holding the delivered
 * records durable and call sn_receiver_commit() before returning, so the
 * next owner starts exactly where this one stopped. Return SN_OK or an
 * error (logged; the uncommitted records then go to the next owner). */
typedef int (*sn_receiver_revoke_fn)(void *arg);

/** Set (or, with NULL, clear) the revoke hook. Kafka only; a ZeroMQ
 *  receiver has no group and never calls it. Without a hook, records
 *  delivered but not committed when partitions go are delivered again to
 *  their next owner. */
void sn_receiver_on_revoke(sn_receiver_t *self, sn_receiver_revoke_fn fn,
                           void *arg);

/** Kafka: fix the token the next sn_receiver_commit() writes into the
 *  group's commit metadata and describe that commit (token, partitions,
 *  offsets) in *out (`*len` bytes; caller owns it, free()). Store the mark
 *  with the state before committing; after a crash, sn_receiver_landed()
 *  tells whether the commit reached the group.
 *  @return SN_OK; SN_ENODATA (nothing to commit); SN_EUNSUPPORTED (ZeroMQ:
 *  its acknowledgements are idempotent and need no mark). */
int sn_receiver_mark(sn_receiver_t *self, uint8_t **out, size_t *len,
                     sn_err_t *err);

/** Kafka: ask the group coordinator whether the commit described by `mark`
 *  (from sn_receiver_mark(), in this process or an earlier one) took
 *  effect: its token is in the committed metadata, or in the list of
 *  earlier owners' tokens that the partitions' next owners carry on (the
 *  last 8 handoffs per partition). Call it before the first poll.
 *  @return 1 (committed), 0 (not committed); SN_ECORRUPT (not a mark);
 *  SN_ESTATE (committed on some of its partitions only, or a later owner
 *  could not read the group's offsets when it took them: cannot tell);
 *  SN_ETRANSPORT;
 *  SN_EUNSUPPORTED (ZeroMQ). */
int sn_receiver_landed(sn_receiver_t *self, const uint8_t *mark, size_t len,
                       sn_err_t *err);

/** Restore `sender_id`'s position from the application's own state, before
 *  the first poll. @return SN_OK or SN_EINVAL (empty or too long id). */
int sn_receiver_set_position(sn_receiver_t *self, const char *sender_id,
                             uint64_t seq);

/** @return the highest sequence of `sender_id` delivered so far (0 when
 *  the sender is unknown). */
uint64_t sn_receiver_position(const sn_receiver_t *self, const char *sender_id);

#endif
