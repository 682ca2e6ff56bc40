/*  common/transport_int.h - what the transport's files share inside common/
 *
 *  transport.c dispatches the public sn_sender_* and sn_receiver_* calls to
 *  the ZeroMQ (transport_zmq.c, transport_zrecv.c) or Kafka
 *  (transport_kafka.c, transport_krecv.c) implementation;
 *  transport_zap.c holds the CURVE key files and the ZAP handler thread;
 *  transport_state.c the receiver's per-sender positions and their file.
 *  Nothing here leaves common/.
 *
 *  Threading: as transport.h; the ZAP handler runs in its own thread and
 *  shares nothing mutable with its creator.
 */
#ifndef SENTINEL_COMMON_TRANSPORT_INT_H
#define SENTINEL_COMMON_TRANSPORT_INT_H

#include "sentinel/transport.h"

#include "sentinel/v1/event.pb-c.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SN_CURVE_KEY_Z85 40 /* a CURVE key in Z85 text */

typedef struct sn_zsender sn_zsender_t;     /* ZeroMQ sender */
typedef struct sn_zreceiver sn_zreceiver_t; /* ZeroMQ receiver */
typedef struct sn_ksender sn_ksender_t;     /* Kafka sender */
typedef struct sn_kreceiver sn_kreceiver_t; /* Kafka receiver */
typedef struct sn_zap sn_zap_t;             /* ZAP handler thread */
typedef struct sn_positions sn_positions_t; /* per-sender positions */

/* One sender as the receiver knows it. */
typedef struct sn_peer {
    char id[SN_SENDER_ID_MAX + 16]; /* sender_id (Kafka: "id/partition") */
    uint64_t delivered;             /* highest seq handed to the app */
    uint64_t acked;                 /* highest seq the app said durable */
    uint64_t session;               /* the sender's session, last seen */
    uint8_t rid[256];               /* ZeroMQ routing id of its connection */
    size_t rid_len;                 /* its length; 0 before any message */
} sn_peer_t;

/** @return the monotonic clock in milliseconds. */
uint64_t sn_transport_now_ms(void);

/** Check the options every kind needs. @return SN_OK or SN_EINVAL. */
int sn_transport_check(const sn_transport_opts_t *o, bool sender,
                       sn_err_t *err);

/* -- positions (transport_state.c) -------------------------------------- */

/** Create an empty table; `state_dir` (may be NULL) is where
 *  sn_positions_save() writes. Never returns NULL. */
sn_positions_t *sn_positions_new(const char *state_dir);
void sn_positions_destroy(sn_positions_t **self_p);
/** Load <state_dir>/positions if it exists. @return SN_OK, SN_EIO or
 *  SN_ECORRUPT. */
int sn_positions_load(sn_positions_t *self, sn_err_t *err);
/** Write <state_dir>/positions atomically and fsync it (no-op without a
 *  state_dir). @return SN_OK or SN_EIO. */
int sn_positions_save(sn_positions_t *self, sn_err_t *err);
/** @return the peer `id`, created when `create`; NULL when absent or when
 *  the id is empty or too long. Valid until the next create. */
sn_peer_t *sn_positions_get(sn_positions_t *self, const char *id, bool create);
/** @return the number of peers; sn_positions_at() gives each. */
size_t sn_positions_size(const sn_positions_t *self);
sn_peer_t *sn_positions_at(sn_positions_t *self, size_t i);

/* -- CURVE keys and ZAP (transport_zap.c) ------------------------------- */

/** Read a Z85 key (40 characters) from the first line of `path` that is
 *  not a '#' comment. @return SN_OK, SN_EIO or SN_ECONFIG. */
int sn_curve_read_key(const char *path, char out[SN_CURVE_KEY_Z85 + 1],
                      sn_err_t *err);

/** Start the ZAP handler in ZeroMQ context `ctx`, accepting the public keys
 *  listed in `authorized_keys`. @return SN_OK, SN_EIO, SN_ECONFIG (a bad
 *  line, named) or SN_ETRANSPORT. */
int sn_zap_new(void *ctx, const char *authorized_keys, sn_zap_t **out,
               sn_err_t *err);
/** Stop the thread and free it. Safe on NULL. */
void sn_zap_destroy(sn_zap_t **self_p);

/** @return whether the connection whose ZAP user id is `user_id` (the
 *  Z85 key, ZeroMQ's "User-Id" message property; NULL: none) may speak as
 *  sender `sender`: its key is listed, bound to `sender` or to no sender
 *  id. Read-only: safe from the receiver's thread. */
bool sn_zap_allows(const sn_zap_t *self, const char *user_id,
                   const char *sender);

/* -- ZeroMQ (transport_zmq.c: sender; transport_zrecv.c: receiver) ----- */

/* A bump allocator for protobuf-c's unpack: a batch of a thousand records
 * decodes without a thousand mallocs, and is freed by resetting `used`. */
typedef struct sn_zarena {
    uint8_t *buf; /* the block */
    size_t cap;   /* its size */
    size_t used;  /* bytes handed out */
} sn_zarena_t;

/** Unpack one sentinel.v1.Envelope into the arena (grown to the worst
 *  case). @return it, or NULL when the bytes are not an Envelope; valid
 *  until the next unpack into the same arena. */
Sentinel__V1__Envelope *sn_zmq_unpack(sn_zarena_t *ar, const uint8_t *data,
                                      size_t len);
/** Pack `env` into *out, grown as needed. @return its length. */
size_t sn_zmq_pack(const Sentinel__V1__Envelope *env, uint8_t **out,
                   size_t *cap);
/** Set an int socket option. */
void sn_zmq_setopt_int(void *sock, int opt, int v);
/** Fill err with SN_ETRANSPORT, the action, endpoint and zmq_strerror. */
int sn_zmq_error(sn_err_t *err, const char *what, const char *endpoint);

int sn_zsender_new(const sn_transport_opts_t *opts, sn_spool_t *spool,
                   sn_zsender_t **out, sn_err_t *err);
void sn_zsender_destroy(sn_zsender_t **self_p);
int sn_zsender_poll(sn_zsender_t *self, int timeout_ms, sn_err_t *err);
bool sn_zsender_drained(const sn_zsender_t *self);
bool sn_zsender_connected(const sn_zsender_t *self);

int sn_zreceiver_new(const sn_transport_opts_t *opts, sn_zreceiver_t **out,
                     sn_err_t *err);
void sn_zreceiver_destroy(sn_zreceiver_t **self_p);
int sn_zreceiver_poll(sn_zreceiver_t *self, int timeout_ms, sn_receiver_fn fn,
                      void *arg, sn_err_t *err);
int sn_zreceiver_poll_batch(sn_zreceiver_t *self, int timeout_ms,
                            sn_receiver_batch_fn fn, void *arg, sn_err_t *err);
int sn_zreceiver_ack(sn_zreceiver_t *self, const char *sender_id, uint64_t seq,
                     sn_err_t *err);
int sn_zreceiver_commit(sn_zreceiver_t *self, sn_err_t *err);
sn_positions_t *sn_zreceiver_positions(sn_zreceiver_t *self);

/* -- Kafka (transport_kafka.c: sender; transport_krecv.c: receiver) ---- */

#define SN_KAFKA_HDR_SENDER "sn-sender" /* header: the sender's id */
#define SN_KAFKA_HDR_SEQ "sn-seq" /* header: its seq, 8 bytes little-endian */

struct rd_kafka_conf_s; /* librdkafka's rd_kafka_conf_t */

/** Set librdkafka option `k` to `v` in `conf`.
 *  @return SN_OK or SN_ECONFIG naming the option and librdkafka's reason. */
int sn_kafka_conf_set(struct rd_kafka_conf_s *conf, const char *k,
                      const char *v, sn_err_t *err);

int sn_ksender_new(const sn_transport_opts_t *opts, sn_spool_t *spool,
                   sn_sender_key_fn key_fn, void *key_arg, sn_ksender_t **out,
                   sn_err_t *err);
void sn_ksender_destroy(sn_ksender_t **self_p);
int sn_ksender_poll(sn_ksender_t *self, int timeout_ms, sn_err_t *err);
bool sn_ksender_drained(const sn_ksender_t *self);
bool sn_ksender_connected(const sn_ksender_t *self);

int sn_kreceiver_new(const sn_transport_opts_t *opts, sn_kreceiver_t **out,
                     sn_err_t *err);
void sn_kreceiver_destroy(sn_kreceiver_t **self_p);
int sn_kreceiver_poll(sn_kreceiver_t *self, int timeout_ms, sn_receiver_fn fn,
                      void *arg, sn_err_t *err);
int sn_kreceiver_commit(sn_kreceiver_t *self, sn_err_t *err);
sn_positions_t *sn_kreceiver_positions(sn_kreceiver_t *self);
void sn_kreceiver_on_revoke(sn_kreceiver_t *self, sn_receiver_revoke_fn fn,
                            void *arg);
/* -- Kafka commit metadata (transport_kmeta.c) -------------------------- */

#define SN_KMETA_HANDOFFS 8 /* earlier owners' tokens kept per partition */
#define SN_KMETA_HANDOFFS_LEN (SN_KMETA_HANDOFFS * 17 + 1) /* "hex16,..." */
#define SN_KMETA_UNKNOWN "?" /* a handoff whose metadata could not be read */

/** @return a random non-zero 64-bit value (tokens, consumer ids). */
uint64_t sn_kmeta_random(void);
/** Read committed metadata "sn1 t=T i=I h=H" (`n` bytes, not terminated)
 *  into *t, *i and `h`. @return false when it is not Sentinel's. */
bool sn_kmeta_parse(const void *md, size_t n, uint64_t *t, uint64_t *i, char *h,
                    size_t hcap);
/** @return whether `token` is one of the comma-separated tokens of `h`. */
bool sn_kmeta_has(const char *h, uint64_t token);
/** The handoff list a consumer `instance` assigned a partition carries on,
 *  from the partition's committed metadata: another consumer's token goes
 *  in front (the oldest falls off past SN_KMETA_HANDOFFS). */
void sn_kmeta_carry(const void *md, size_t n, uint64_t instance, char *out,
                    size_t cap);
/** @return the metadata of a commit; caller owns it (free()). */
char *sn_kmeta_format(uint64_t token, uint64_t instance, const char *h);
/** @return a commit mark of `token` with room for `n` partitions (set
 *  each with sn_kmeta_mark_set()), `*len` bytes; caller owns it (free()). */
uint8_t *sn_kmeta_mark_new(uint64_t token, uint32_t n, size_t *len);
void sn_kmeta_mark_set(uint8_t *mark, uint32_t k, int32_t partition,
                       int64_t offset);
/** Check a mark's framing and read its token and partition count.
 *  @return false when `len` bytes at `mark` are not a mark. */
bool sn_kmeta_mark_parse(const uint8_t *mark, size_t len, uint64_t *token,
                         uint32_t *n);
/** @return the partition of entry `k` of a parsed mark. */
int32_t sn_kmeta_mark_partition(const uint8_t *mark, uint32_t k);

int sn_kreceiver_mark(sn_kreceiver_t *self, uint8_t **out, size_t *len,
                      sn_err_t *err);
int sn_kreceiver_landed(sn_kreceiver_t *self, const uint8_t *mark, size_t len,
                        sn_err_t *err);

#endif
