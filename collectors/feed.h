/*  collectors/feed.h - one interface for every site feed parser
 *
 *  A feed reader turns the bytes a site sends (a JSON lines file, a CSV
 *  export, HL7 v2 ADT messages from a file or an MLLP connection) into case
 *  events. It is created for one input kind from the collector
 *  configuration (col_config.h: col_feed_from_config()) or directly through
 *  the constructor of its kind (feed_json.h, feed_csv.h, feed_hl7.h). It is
 *  fed bytes as they arrive and yields one record at a time: either an event
 *  (parsed, not yet validated) or a rejection naming the input, the position
 *  (1-based line for JSON and CSV, 1-based message number for HL7) and the
 *  reason. Records never depend on each other: a broken record is rejected
 *  and the ones around it go on.
 *
 *  The collect loop is the same for every input kind:
 *
 *      col_feed_push(feed, buf, n);               (as bytes arrive)
 *      while ((r = col_feed_next(feed, &rec)) > 0) {
 *          if (r == COL_FEED_EVENT &&
 *              sn_event_validate(&rec.event, now, &rec.err) != SN_OK) {
 *              r = COL_FEED_REJECT;
 *          }
 *          r == COL_FEED_EVENT ? spool(&rec.event)
 *                              : col_deadletter_write(dl, &rec);
 *      }
 *      col_feed_end(feed);                        (at end of input)
 *      … the same while loop again, to drain the last record …
 *
 *  A transport that receives whole records (an MLLP message, one Kafka
 *  message) calls col_feed_parse() instead of push/next.
 *
 *  Threading: not thread-safe. A feed belongs to the thread that created it.
 */
#ifndef SENTINEL_COLLECTORS_FEED_H
#define SENTINEL_COLLECTORS_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"
#include "sentinel/event.h"

#define COL_FEED_MAX_RECORD_DEFAULT (1u << 20) /* 1 MiB per record */

typedef struct col_feed col_feed_t; /* opaque; defined in feed.c */

/* The input kinds. */
typedef enum {
    COL_FEED_JSON = 1, /* JSON lines, one event object per line */
    COL_FEED_CSV = 2,  /* CSV with a header row and a column mapping */
    COL_FEED_HL7 = 3,  /* HL7 v2.5.1 ADT A01/A03/A04/A08 messages */
} col_feed_kind_t;

/* What col_feed_next() and col_feed_parse() return (>= 0), besides the
 * negative SN_E* codes for misuse. */
typedef enum {
    COL_FEED_AGAIN = 0,  /* no whole record buffered: push more, or end */
    COL_FEED_EVENT = 1,  /* rec->event holds a parsed event */
    COL_FEED_REJECT = 2, /* rec->err holds the reason; dead-letter rec */
} col_feed_result_t;

/* Site-level defaults that a feed fills in when a record leaves them out.
 * The strings are copied by the constructors. */
typedef struct col_site {
    const char *site_id; /* sentinel site code, or NULL */
    sn_source_t source;  /* reporting channel, or SN_SOURCE_UNKNOWN */
    const char *region;  /* administrative code, or NULL */
} col_site_t;

/* One record out of a feed. */
typedef struct col_record {
    sn_event_t event;   /* COL_FEED_EVENT: the event, not yet validated */
    sn_err_t err;       /* COL_FEED_REJECT: the code and the reason */
    const char *source; /* the feed's name; valid while the feed lives */
    uint64_t position;  /* 1-based line (JSON, CSV) or message (HL7) */
    const uint8_t *raw; /* the record's bytes, valid until the next call
                           (of a refused HL7 message: with the fields that
                           identify a person emptied, hl7_redact.h) */
    size_t raw_len;     /* their length */
} col_record_t;

/** Free the feed and set *self_p to NULL. Safe on NULL. */
void col_feed_destroy(col_feed_t **self_p);

/** Append `len` bytes of input. The feed keeps its own copy.
 *  @return SN_OK, or SN_ESTATE after col_feed_end(). */
int col_feed_push(col_feed_t *self, const void *data, size_t len);

/** Say that no more input follows, so a last record without its newline
 *  (or an HL7 message at the end of a file) is released by col_feed_next(). */
void col_feed_end(col_feed_t *self);

/** Take the next whole record out of the buffered input into *rec.
 *  A record longer than the configured bound is rejected (SN_EOVERFLOW)
 *  and skipped. @return COL_FEED_EVENT, COL_FEED_REJECT or COL_FEED_AGAIN
 *  (nothing more until more input is pushed or, after col_feed_end(),
 *  the input is exhausted). */
int col_feed_next(col_feed_t *self, col_record_t *rec);

/** Parse `len` bytes holding exactly one record (one line, one HL7
 *  message), independently of the push buffer; the position counter
 *  advances by one record. rec->raw points at `data`. An HL7 message
 *  with no MSH segment is rejected (SN_EPROTO).
 *  @return COL_FEED_EVENT, COL_FEED_REJECT, or COL_FEED_AGAIN when the
 *  record carries no event (a blank line, a CSV header row). */
int col_feed_parse(col_feed_t *self, const void *data, size_t len,
                   col_record_t *rec);

/** @return the input kind of the feed. */
col_feed_kind_t col_feed_kind(const col_feed_t *self);

/** @return the name given at creation (a file name, "-" or "mllp"). */
const char *col_feed_name(const col_feed_t *self);

/** @return the number of records (events and rejections) yielded. */
uint64_t col_feed_records(const col_feed_t *self);

/** @return the number of rejections yielded. */
uint64_t col_feed_rejected(const col_feed_t *self);

/** Look up a kind by name: "json" (also "jsonl", "ndjson"), "csv", "hl7".
 *  @return SN_OK or SN_ENOTFOUND. */
int col_feed_kind_parse(const char *name, col_feed_kind_t *out);

/** Guess the kind of `path` from its extension: .json, .jsonl, .ndjson;
 *  .csv; .hl7. @return SN_OK or SN_ENOTFOUND. */
int col_feed_kind_for_path(const char *path, col_feed_kind_t *out);

/** @return the name of `kind` ("json", "csv", "hl7"), static. */
const char *col_feed_kind_name(col_feed_kind_t kind);

#endif
