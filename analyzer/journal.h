/*  analyzer/journal.h - the analyzer's append-only checkpoint journal
 *
 *  Between two full snapshots of its state the analyzer makes each
 *  checkpoint durable by appending one frame (what changed since the last
 *  checkpoint, and the transport positions) to this file with a single
 *  write and an fdatasync, instead of rewriting the whole state. A frame is
 *  a header (magic, length, CRC-32) and the payload; a torn or corrupt tail
 *  left by a kill -9 fails its check and is cut off at open. The file
 *  starts with a generation number: a snapshot names the generation of the
 *  journal that continues it, so a journal older than the snapshot (a crash
 *  between writing a snapshot and resetting the journal) is ignored.
 *
 *  Threading: not thread-safe; owned by the analyzer's thread.
 */
#ifndef SENTINEL_ANALYZER_JOURNAL_H
#define SENTINEL_ANALYZER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "sentinel/error.h"

typedef struct ana_journal ana_journal_t; /* opaque; defined in journal.c */

/* Called for each good frame at open, oldest first. Return SN_OK to go
 * on; an error stops the open, which returns it. */
typedef int (*ana_journal_fn)(const uint8_t *payload, size_t len, void *arg);

/** Open (creating if needed) the journal at `path` for generation `gen`.
 *  When the file holds generation `gen`, `fn` is called for each good
 *  frame and a torn tail is truncated; otherwise the file is reset to an
 *  empty journal of `gen`. @return SN_OK with *out (caller owns it);
 *  SN_EIO naming the file; or the callback's error. */
int ana_journal_open(const char *path, uint64_t gen, ana_journal_fn fn,
                     void *arg, ana_journal_t **out, sn_err_t *err);

/** Close the journal and set *self_p to NULL. Safe on NULL. */
void ana_journal_destroy(ana_journal_t **self_p);

/** Append one frame made of `a` (`alen` bytes) then `b` (`blen` bytes),
 *  and make it durable (fdatasync) before returning.
 *  @return SN_OK or SN_EIO (the file is cut back to its last good frame). */
int ana_journal_append(ana_journal_t *self, const void *a, size_t alen,
                       const void *b, size_t blen, sn_err_t *err);

#define ANA_JOURNAL_MAX_PARTS 8 /* pieces of one frame */

/** Append one frame made of the `n` (1..ANA_JOURNAL_MAX_PARTS) pieces of
 *  `parts`, in order, with one write; with `sync`, durable (fdatasync)
 *  before returning, otherwise durable with the next synced append.
 *  @return SN_OK or SN_EIO (the file is cut back to its last good frame). */
int ana_journal_appendv(ana_journal_t *self, const struct iovec *parts, int n,
                        bool sync, sn_err_t *err);

/** Empty the journal and start generation `gen` (durable on return).
 *  @return SN_OK or SN_EIO. */
int ana_journal_reset(ana_journal_t *self, uint64_t gen, sn_err_t *err);

/** @return the journal's size in bytes (header included). */
uint64_t ana_journal_bytes(const ana_journal_t *self);

/** @return the journal's generation. */
uint64_t ana_journal_gen(const ana_journal_t *self);

#endif
