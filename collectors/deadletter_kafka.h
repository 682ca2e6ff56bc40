/*  collectors/deadletter_kafka.h - copies of dead letters to a Kafka topic
 *
 *  When the collector's transport is Kafka, every line written to the
 *  dead-letter file (deadletter.h) is also produced, without the record's
 *  raw bytes (deadletter.c keeps those at the site), to a dead-letter topic
 *  keyed by the site, so the central team sees rejections without a login
 *  to the site. The file stays the durable
 *  record: a copy that cannot be delivered is counted and reported, never
 *  retried from here, and never makes the write to the file fail. The
 *  producer is idempotent with acks=all, like the transport's own.
 *
 *  Threading: not thread-safe; one thread produces, polls and flushes.
 *  Delivery reports run in that thread, inside _poll() and _flush().
 */
#ifndef SENTINEL_COLLECTORS_DEADLETTER_KAFKA_H
#define SENTINEL_COLLECTORS_DEADLETTER_KAFKA_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"

#define COL_DEADLETTER_TOPIC_SUFFIX ".dead-letter" /* default: <topic>… */

typedef struct col_deadletter_kafka col_deadletter_kafka_t; /* opaque */

/** Create a producer to `topic` on the bootstrap list `brokers`; every
 *  message gets the key `key` (the site id). The strings are copied.
 *  @return the producer (caller owns it), or NULL with SN_ECONFIG (a bad
 *  setting) or SN_ETRANSPORT and the reason in err. */
col_deadletter_kafka_t *col_deadletter_kafka_new(const char *brokers,
                                                 const char *topic,
                                                 const char *key,
                                                 sn_err_t *err);

/** Drop the copies not yet delivered, close and set *self_p to NULL.
 *  Safe on NULL. Call col_deadletter_kafka_flush() first to wait for them. */
void col_deadletter_kafka_destroy(col_deadletter_kafka_t **self_p);

/** Queue one dead letter, `len` bytes of `line` (copied). Never fails: a
 *  copy the producer refuses now counts as failed, and is reported by the
 *  next _poll() or _flush(). Serves pending delivery reports. */
void col_deadletter_kafka_send(col_deadletter_kafka_t *self, const char *line,
                               size_t len);

/** Serve the delivery reports that have arrived, without waiting.
 *  @return SN_OK, or SN_ETRANSPORT with the number of copies that failed
 *  since the last report and the last reason. */
int col_deadletter_kafka_poll(col_deadletter_kafka_t *self, sn_err_t *err);

/** Wait at most `timeout_ms` for every queued copy to be delivered.
 *  @return SN_OK when all were; SN_ETIMEDOUT with the number still
 *  waiting; SN_ETRANSPORT as _poll(). */
int col_deadletter_kafka_flush(col_deadletter_kafka_t *self, int timeout_ms,
                               sn_err_t *err);

/** @return the topic (borrowed; valid until destroy). */
const char *col_deadletter_kafka_topic(const col_deadletter_kafka_t *self);

/** @return the copies the brokers have acknowledged so far. */
uint64_t col_deadletter_kafka_delivered(const col_deadletter_kafka_t *self);

#endif
