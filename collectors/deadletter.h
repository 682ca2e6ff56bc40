/*  collectors/deadletter.h - the dead-letter file of rejected records
 *
 *  Every record a feed or the validator refuses is appended to the site's
 *  dead-letter file as one JSON line: when, from which input and position,
 *  the error code and reason, and the raw record bytes (escaped, truncated
 *  to a bound), so the site can fix and resend it. The file is created with
 *  mode 0600 because the raw bytes of a refused record may hold personal
 *  data the collector would never forward. Durability follows the fsync
 *  policy: after every record, at col_deadletter_sync() (batch), or never.
 *  With a Kafka transport each line written is also produced to a
 *  dead-letter topic (deadletter_kafka.h, attached with
 *  col_deadletter_set_topic()).
 *
 *  Threading: not thread-safe; one writer per file.
 */
#ifndef SENTINEL_COLLECTORS_DEADLETTER_H
#define SENTINEL_COLLECTORS_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "deadletter_kafka.h"
#include "feed.h"
#include "sentinel/date.h"
#include "sentinel/error.h"

#define COL_DEADLETTER_RAW_MAX_DEFAULT 4096 /* raw bytes kept per record */

typedef struct col_deadletter col_deadletter_t; /* opaque */

/* When the file is fsync()ed. */
typedef enum {
    COL_DL_FSYNC_ALWAYS = 0, /* after every record */
    COL_DL_FSYNC_BATCH = 1,  /* at col_deadletter_sync() and destroy */
    COL_DL_FSYNC_NEVER = 2,  /* left to the kernel */
} col_dl_fsync_t;

/** Open (create or append to) the dead-letter file `path`, keeping at most
 *  `raw_max` raw bytes per record (0: the default).
 *  @return the writer, or NULL with SN_EIO and the path and reason in err.
 *  Caller owns the result. */
col_deadletter_t *col_deadletter_new(const char *path, col_dl_fsync_t policy,
                                     size_t raw_max, sn_err_t *err);

/** Sync (policy batch) and close, drop the copies to the topic not yet
 *  delivered (see col_deadletter_flush_topic()); set *self_p to NULL.
 *  Safe on NULL. */
void col_deadletter_destroy(col_deadletter_t **self_p);

/** Also produce every line written from now on to `*topic_p`, which the
 *  writer takes over (*topic_p becomes NULL). */
void col_deadletter_set_topic(col_deadletter_t *self,
                              col_deadletter_kafka_t **topic_p);

/** @return the dead-letter topic, or NULL when there is none. Borrowed:
 *  valid until destroy. */
const char *col_deadletter_topic(const col_deadletter_t *self);

/** Append the rejected record `rec` (its source, position, rec->err and raw
 *  bytes) stamped `now`, and once it is in the file queue the same line to
 *  the topic, if any (a copy that fails is reported by
 *  col_deadletter_poll_topic(), not here).
 *  @return SN_OK or SN_EIO with the reason. */
int col_deadletter_write(col_deadletter_t *self, const col_record_t *rec,
                         sn_time_t now, sn_err_t *err);

/** fsync() the file now. @return SN_OK or SN_EIO. */
int col_deadletter_sync(col_deadletter_t *self, sn_err_t *err);

/** Serve the topic's delivery reports (SN_OK without a topic).
 *  @return SN_OK, or SN_ETRANSPORT with the copies that failed since the
 *  last report. */
int col_deadletter_poll_topic(col_deadletter_t *self, sn_err_t *err);

/** Wait at most `timeout_ms` until the topic has every copy (SN_OK at once
 *  without a topic). @return SN_OK, SN_ETIMEDOUT or SN_ETRANSPORT with the
 *  number of copies missing; the file has them all the same. */
int col_deadletter_flush_topic(col_deadletter_t *self, int timeout_ms,
                               sn_err_t *err);

/** @return the number of records written since opening. */
uint64_t col_deadletter_count(const col_deadletter_t *self);

/** Parse "always", "batch" or "never". @return SN_OK or SN_ENOTFOUND. */
int col_dl_fsync_parse(const char *name, col_dl_fsync_t *out);

#endif
