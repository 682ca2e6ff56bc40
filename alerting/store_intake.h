/*  alerting/store_intake.h - transport positions and refused records
 *
 *  The part of the store the daemon's intake uses: each analyzer's
 *  transport position, written in the same transaction as the alert it
 *  delivered (so a record is applied exactly once across crashes), every
 *  refused record with its reason, and the newest evidence day (the data
 *  clock of a replay).
 *
 *  Threading: as store.h.
 */
#ifndef SENTINEL_ALERTING_STORE_INTAKE_H
#define SENTINEL_ALERTING_STORE_INTAKE_H

#include <stdint.h>

#include "sentinel/date.h"
#include "sentinel/error.h"
#include "store.h"

/* Called with each stored transport position; return SN_OK to go on. */
typedef int (*alr_position_fn)(const char *sender, uint64_t seq, void *arg);

/** Store the transport position of `sender` (the last record taken), in
 *  the caller's transaction. @return SN_OK or SN_EDB. */
int alr_store_set_position(alr_store_t *self, const char *sender, uint64_t seq,
                           sn_err_t *err);

/** Call `fn` for every stored position. @return SN_OK, SN_EDB or fn's. */
int alr_store_positions(alr_store_t *self, alr_position_fn fn, void *arg,
                        sn_err_t *err);

/** Record a refused incoming record (sender may be NULL) and why.
 *  @return SN_OK or SN_EDB. */
int alr_store_add_reject(alr_store_t *self, sn_time_t at, const char *sender,
                         uint64_t seq, const char *reason, sn_err_t *err);

/** The newest evidence day of any alert: the data clock of a replay.
 *  @return SN_OK, SN_ENOTFOUND (no alerts) or SN_EDB. */
int alr_store_newest_day(alr_store_t *self, sn_day_t *out, sn_err_t *err);

#endif
