/*  analyzer/rejects.h - the analyzer's dead-letter file of refused records
 *
 *  A record that ingest refuses (bytes that are no event, an invalid event,
 *  an unknown condition, a day before the horizon, a full dedup table) is
 *  appended here as one JSON line: the time, the transport sender and
 *  sequence, the reason, and the event, or the record's first 256 bytes in
 *  hex when it is no event. Strings that are not valid UTF-8 (a sender id
 *  is not checked) have their bytes above 0x7f written as '?', and the
 *  sender's bytes are then also given in hex ("sender_hex"), so no refused
 *  record is left out. The file is created 0600 (a refused record is
 *  still a site's data) and written through at every line. Refused records
 *  are rare, so none of this is on the hot path.
 *
 *  Threading: owned by the thread of the ingest that writes it.
 */
#ifndef SENTINEL_ANALYZER_REJECTS_H
#define SENTINEL_ANALYZER_REJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/date.h"
#include "sentinel/error.h"
#include "sentinel/event.h"

typedef struct ana_rejects ana_rejects_t; /* opaque; defined in rejects.c */

/** Open `path` for appending (created 0600 when missing).
 *  @return SN_OK with *out (caller owns it), or SN_EIO naming the file. */
int ana_rejects_open(const char *path, ana_rejects_t **out, sn_err_t *err);

/** Close the file and set *self_p to NULL. Safe on NULL. */
void ana_rejects_destroy(ana_rejects_t **self_p);

/** Append one refused record: `ev` when it decoded (else `data`, `len`
 *  bytes of it), sent by `sender` as `seq`, refused for `err` at `now`. */
void ana_rejects_write(ana_rejects_t *self, sn_time_t now, const char *sender,
                       uint64_t seq, const sn_event_t *ev, const uint8_t *data,
                       size_t len, const sn_err_t *err);

#endif
