/*  alerting/store_json.h - the alert store rendered as JSON
 *
 *  The list and detail views returned by `sentinel alerts list|show --json`
 *  and the HTTP API.
 *
 *  Threading: as store.h.
 */
#ifndef SENTINEL_ALERTING_STORE_JSON_H
#define SENTINEL_ALERTING_STORE_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"
#include "store.h"

/** Render the alerts (newest first, at most `limit`) as a JSON array of
 *  summaries. Caller owns *out (free()). @return SN_OK or SN_EDB. */
int alr_store_list_json(alr_store_t *self, size_t limit, char **out,
                        sn_err_t *err);

/** Render alert `id` with its evidence, history, notifications and their
 *  deliveries as one JSON object. Caller owns *out (free()).
 *  @return SN_OK, SN_ENOTFOUND or SN_EDB. */
int alr_store_show_json(alr_store_t *self, int64_t id, char **out,
                        sn_err_t *err);

#endif
