/*  collectors/mllp_server.h - the MLLP TCP listener of the collector daemon
 *
 *  Listens on a configured address (loopback or any), accepts connections,
 *  deframes each one's MLLP stream and hands every message to the owner's
 *  callback, which parses, validates and spools it and answers only once
 *  the record is durable (or refused). The server then writes the HL7 ACK
 *  built from the callback's answer. One thread drives everything with
 *  poll(): no threads, no locks; a slow sender cannot block the others
 *  because every socket is non-blocking and ACKs are queued per connection.
 *  A connection with no traffic for the idle timeout is closed, and when
 *  all COL_MLLP_SERVER_MAX_CONN slots are taken a new connection closes
 *  the longest-idle one if it has been idle a while (else the new one is
 *  refused), so half-open connections (an engine that vanished without a
 *  FIN) cannot lock the site out, nor a flood of connections cut the
 *  engines that are sending.
 *
 *  Threading: not thread-safe. The callback runs in the thread that calls
 *  col_mllp_server_step().
 */
#ifndef SENTINEL_COLLECTORS_MLLP_SERVER_H
#define SENTINEL_COLLECTORS_MLLP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "mllp.h"
#include "sentinel/error.h"

#define COL_MLLP_SERVER_MAX_CONN 64    /* connections served at once */
#define COL_MLLP_SERVER_IDLE_MS 300000 /* default idle timeout (5 min) */
#define COL_MLLP_SERVER_EVICT_MS 10000 /* idle before a full server evicts */

typedef struct col_mllp_server col_mllp_server_t; /* opaque */

/** Handle one message from `peer` ("127.0.0.1:40112"); `msg_no` counts the
 *  messages of the server from 1. Fill `reason` when refusing.
 *  Runs in the thread calling col_mllp_server_step().
 *  @return the ACK code: COL_ACK_AA only once the record is durable. */
typedef col_ack_t (*col_mllp_handler_fn)(void *arg, const char *peer,
                                         uint64_t msg_no, const uint8_t *msg,
                                         size_t len, sn_err_t *reason);

/** Told of a frame over the bound, which the server answers AR: `head`
 *  holds its first `len` bytes (more than max_message), `reason` says why.
 *  Runs in the thread calling col_mllp_server_step(). */
typedef void (*col_mllp_oversize_fn)(void *arg, const char *peer,
                                     uint64_t msg_no, const uint8_t *head,
                                     size_t len, const char *reason);

/** Listen on `address` ("127.0.0.1:2575", "0.0.0.0:2575", ":2575" for any,
 *  port 0 for a free port) and call `handler` with `arg` for each message;
 *  frames over `max_message` bytes (0: default) are answered AR.
 *  @return the server, or NULL with SN_EINVAL (bad address) or SN_EIO
 *  (cannot listen) in err. Caller owns the result. */
col_mllp_server_t *col_mllp_server_new(const char *address, size_t max_message,
                                       col_mllp_handler_fn handler, void *arg,
                                       sn_err_t *err);

/** Call `fn` (with the handler's `arg`) for each frame over the bound,
 *  before its AR is queued, so the owner can dead-letter it. */
void col_mllp_server_on_oversize(col_mllp_server_t *self,
                                 col_mllp_oversize_fn fn);

/** Close connections that have had no traffic (bytes in or out) for
 *  `idle_ms` (0: never); COL_MLLP_SERVER_IDLE_MS until set. */
void col_mllp_server_set_idle_timeout(col_mllp_server_t *self,
                                      uint64_t idle_ms);

/** With every connection slot taken, a new connection closes the one idle
 *  the longest only if it has been idle at least `min_idle_ms`
 *  (COL_MLLP_SERVER_EVICT_MS until set); otherwise the new connection is
 *  refused, so a flood of connections cannot cut engines that are sending. */
void col_mllp_server_set_evict_idle(col_mllp_server_t *self,
                                    uint64_t min_idle_ms);

/** @return connections refused because every slot was busy. */
uint64_t col_mllp_server_refused(const col_mllp_server_t *self);

/** Close every connection and the listener; set *self_p to NULL. */
void col_mllp_server_destroy(col_mllp_server_t **self_p);

/** @return the port the server listens on (useful after port 0). */
int col_mllp_server_port(const col_mllp_server_t *self);

/** Wait up to `timeout_ms` (-1: forever, 0: not at all) for activity, then
 *  accept, read, call the handler and write ACKs for what is ready.
 *  @return the number of messages handled, or SN_ESYS when poll() fails. */
int col_mllp_server_step(col_mllp_server_t *self, int timeout_ms);

/** @return the number of open connections. */
size_t col_mllp_server_connections(const col_mllp_server_t *self);

/** @return the connections closed so far for the idle timeout. */
uint64_t col_mllp_server_idle_closed(const col_mllp_server_t *self);

/** @return the connections closed so far, the longest-idle first, to make
 *  room for a new one at the connection limit. */
uint64_t col_mllp_server_evicted(const col_mllp_server_t *self);

#endif
