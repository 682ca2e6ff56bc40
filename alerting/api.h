/*  alerting/api.h - the HTTP API for duty epidemiologists' tools
 *
 *  A small JSON API served by libmicrohttpd:
 *    GET  /alerts              newest first (?limit=N, default 100)
 *    GET  /alerts/ID           one alert: evidence, history, deliveries
 *    POST /alerts/ID/ack       {"by": "li.wei", "note": "…"}
 *    POST /alerts/ID/verify    {"by": "li.wei", "outcome": "confirmed",
 *                               "grade": "II", "note": "…"}
 *  Every request needs "Authorization: Bearer <token>"; a missing or wrong
 *  token gets 401 and changes nothing. Errors answer {"error": "…"} with
 *  400 (bad body), 404 (no such alert or route), 405 (method), 409 (already
 *  acknowledged).
 *
 *  Threading: the server runs in a thread of its own (libmicrohttpd's
 *  internal polling thread, one connection at a time) with its own store
 *  connection and lifecycle, made at start and used only by that thread.
 */
#ifndef SENTINEL_ALERTING_API_H
#define SENTINEL_ALERTING_API_H

#include "lifecycle.h"
#include "sentinel/error.h"

typedef struct alr_api alr_api_t; /* opaque */

/** Serve the store at `store_path` on `listen` ("127.0.0.1:8470"; port 0
 *  picks a free one) with bearer `token` (copied). `opts` is kept by
 *  reference and must outlive the server. @return SN_OK, SN_EINVAL (bad
 *  address or empty token), SN_EIO (cannot listen) or the store's error;
 *  *out only on success, caller owns it. */
int alr_api_start(const char *store_path, const alr_lifecycle_opts_t *opts,
                  const char *listen, const char *token, alr_api_t **out,
                  sn_err_t *err);

/** Stop the server and set *self_p to NULL. Safe on NULL. */
void alr_api_destroy(alr_api_t **self_p);

/** @return the TCP port the server listens on. */
int alr_api_port(const alr_api_t *self);

#endif
