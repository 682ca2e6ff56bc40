/*  include/sentinel/spool.h - crash-safe disk spool of numbered records
 *
 *  The spool is where a record lives between "accepted" and "acknowledged
 *  by the receiver". A collector appends each validated event (the analyzer
 *  each alert) and only then tells its source that the record is taken; the
 *  sender reads the records back to publish them and frees them once the
 *  receiver acknowledges them. Nothing is ever dropped: a full spool refuses
 *  new records with SN_EFULL and says why.
 *
 *  On disk, a spool is a directory (mode 0700) of append-only segment files
 *  (mode 0600) named seg-<first seq, 20 digits>.log, plus a small file
 *  "acked" holding the acknowledged position. Each record is framed as
 *      u32 length | u32 CRC(seq, payload) | u64 seq | payload
 *  (little-endian). The CRC is CRC-32C (Castagnoli, computed in hardware
 *  where the CPU has it), and bit 31 of the length word says so; frames
 *  without that bit, written by earlier versions, carry zlib's CRC-32 and
 *  are read as before. Sequence numbers start at 1, are
 *  consecutive and are never reused, even after every segment has been freed:
 * the newest segment is never deleted, so its name keeps the numbering.
 * sn_spool_open() scans the segments, truncates a torn or corrupt tail of the
 * newest one (a crash in the middle of a write) at the last good record and
 * carries on.
 *
 *  Durability. sn_spool_append() buffers; sn_spool_flush() writes the buffer
 *  to the segment file (after which the records survive kill -9) and then
 *  fsyncs according to the policy: ALWAYS at every flush, BATCH once
 *  `fsync_every` records or `fsync_ms` milliseconds have gone by since the
 *  last fsync, NEVER not at all (the page cache survives a process crash, not
 *  a power cut). Readers see only flushed records. A caller acknowledges its
 *  source only after sn_spool_flush() has returned SN_OK.
 *
 *  Threading: not thread-safe. A spool and its cursors belong to one thread.
 *  Two processes must not open the same directory: sn_spool_open() takes an
 *  exclusive lock and fails with SN_ESTATE when another process holds it.
 */
#ifndef SENTINEL_INCLUDE_SPOOL_H
#define SENTINEL_INCLUDE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"

#define SN_SPOOL_RECORD_MAX (1u << 20) /* largest record payload: 1 MiB */

typedef enum {
    SN_SPOOL_FSYNC_ALWAYS = 0, /* fsync at every sn_spool_flush() */
    SN_SPOOL_FSYNC_BATCH = 1,  /* fsync every N records or T ms */
    SN_SPOOL_FSYNC_NEVER = 2,  /* leave it to the kernel */
} sn_spool_fsync_t;

/* How to open a spool. Fill with sn_spool_opts_init(), then override. */
typedef struct sn_spool_opts {
    const char *dir;        /* the spool directory; created 0700 */
    sn_spool_fsync_t fsync; /* durability policy, default BATCH */
    uint32_t fsync_every;   /* BATCH: records between fsyncs (100000) */
    uint32_t fsync_ms;      /* BATCH: milliseconds between fsyncs (50) */
    uint64_t max_bytes;     /* bound on the segments' total (1 GiB) */
    uint64_t segment_bytes; /* a segment is closed past this (64 MiB) */
} sn_spool_opts_t;

typedef struct sn_spool sn_spool_t;               /* opaque */
typedef struct sn_spool_cursor sn_spool_cursor_t; /* opaque reader */

/** Fill `opts` with the defaults above and dir = NULL. */
void sn_spool_opts_init(sn_spool_opts_t *opts);

/** @return the policy's name ("always", "batch", "never"). */
const char *sn_spool_fsync_name(sn_spool_fsync_t policy);

/** Parse "always", "batch" or "never". @return SN_OK or SN_EINVAL. */
int sn_spool_fsync_parse(const char *name, sn_spool_fsync_t *out);

/** Open (creating if needed) the spool in opts->dir and recover it: a torn
 *  tail of the newest segment is truncated at the last good record.
 *  @return SN_OK; SN_EINVAL (bad options); SN_EIO (cannot create, read or
 *  lock); SN_ESTATE (another process has it open); SN_ECORRUPT (a bad record
 *  in a segment that is not the newest: the message names file and offset).
 *  *out is written only on success; caller owns it. */
int sn_spool_open(const sn_spool_opts_t *opts, sn_spool_t **out, sn_err_t *err);

/** Flush, fsync (unless the policy is NEVER), close and free the spool; set
 *  *self_p to NULL. Safe on NULL. Open cursors must be destroyed first. */
void sn_spool_destroy(sn_spool_t **self_p);

/** Append one record of `len` bytes (1 <= len <= SN_SPOOL_RECORD_MAX) and
 *  give it the next sequence number in *seq (may be NULL). The record is
 *  buffered: call sn_spool_flush() before acknowledging it to anyone.
 *  @return SN_OK; SN_EINVAL (empty or too large); SN_EFULL when the record
 *  would take the segments past max_bytes (the message gives the bytes used,
 *  the bound and the acknowledged position; nothing was written); SN_EIO. */
int sn_spool_append(sn_spool_t *self, const void *data, size_t len,
                    uint64_t *seq, sn_err_t *err);

/** Write the buffered records to the segment file and fsync by the policy.
 *  @return SN_OK or SN_EIO. */
int sn_spool_flush(sn_spool_t *self, sn_err_t *err);

/** Write and fsync now, whatever the policy. @return SN_OK or SN_EIO. */
int sn_spool_sync(sn_spool_t *self, sn_err_t *err);

/** Record that every record up to and including `seq` is acknowledged:
 *  write the position and delete the segments all of whose records are
 *  acknowledged, except the newest; the position is fsynced before any
 *  segment is deleted (unless the policy is NEVER). An older position after
 *  a power cut only means records sent again, which receivers drop.
 *  A `seq` at or below the current position is a no-op.
 *  @return SN_OK; SN_ERANGE when `seq` is above the last appended record;
 *  SN_EIO. */
int sn_spool_ack(sn_spool_t *self, uint64_t seq, sn_err_t *err);

/** @return the sequence number of the last appended record (0: none yet). */
uint64_t sn_spool_last_seq(const sn_spool_t *self);

/** @return the sequence number of the last flushed record (readable). */
uint64_t sn_spool_flushed_seq(const sn_spool_t *self);

/** @return the acknowledged position (0: nothing acknowledged yet). */
uint64_t sn_spool_acked_seq(const sn_spool_t *self);

/** @return the bytes held by the segment files, buffered bytes included. */
uint64_t sn_spool_bytes(const sn_spool_t *self);

/** @return the number of segment files. */
size_t sn_spool_segments(const sn_spool_t *self);

/** Create a reader positioned at record `from` (records below the first
 *  one kept are skipped, so sn_spool_acked_seq() + 1 resends every
 *  unacknowledged record). Keeps a reference to `spool`, which must outlive
 *  the cursor. Never returns NULL. Caller owns the result. */
sn_spool_cursor_t *sn_spool_cursor_new(sn_spool_t *spool, uint64_t from);

/** Free the cursor and set *self_p to NULL. Safe on NULL. */
void sn_spool_cursor_destroy(sn_spool_cursor_t **self_p);

/** Move the cursor to record `from` (see sn_spool_cursor_new()). */
void sn_spool_cursor_seek(sn_spool_cursor_t *self, uint64_t from);

/** Read the next flushed record: its sequence number, bytes and length.
 *  *data points into the cursor or the spool and stays valid until the next
 *  call on the cursor or on the spool. @return SN_OK; SN_ENODATA when every
 *  flushed record has been
 *  read (more may come later); SN_ECORRUPT or SN_EIO. */
int sn_spool_cursor_next(sn_spool_cursor_t *self, uint64_t *seq,
                         const uint8_t **data, size_t *len, sn_err_t *err);

/** @return the sequence number the next sn_spool_cursor_next() returns. */
uint64_t sn_spool_cursor_pos(const sn_spool_cursor_t *self);

#endif
