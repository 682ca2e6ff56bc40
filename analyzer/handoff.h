/*  analyzer/handoff.h - two-phase Kafka checkpoints in the journal
 *
 *  With Kafka, a checkpoint is durable in two places: the analyzer's
 *  journal and the consumer group's committed offsets. A kill between the
 *  two would leave events counted here whose offsets the group never
 *  received, and the partitions' next owner would count them again. So a
 *  Kafka checkpoint is written as *pending* (the journal frame carries the
 *  transport's commit mark, see sn_receiver_mark(), and the days it put
 *  into the archive), then committed, then a *verdict* frame says it
 *  landed. At start a pending frame without a verdict is held back until
 *  the group coordinator says whether its commit took effect
 *  (sn_receiver_landed()): if so it is applied, otherwise it is dropped,
 *  the state stays at the last confirmed checkpoint, and the analyzer puts
 *  the archive days the dropped frame wrote back to that state before the
 *  drop itself is written.
 *
 *  Frames: a plain frame (the pipeline's redo log and positions) is handed
 *  to the apply callback as it is read. A pending frame starts with the
 *  word ANA_HANDOFF_PENDING, a verdict frame with ANA_HANDOFF_VERDICT;
 *  neither can start a plain frame (its first word is a length that fits
 *  the frame).
 *
 *  Threading: not thread-safe; owned by the analyzer's thread.
 */
#ifndef SENTINEL_ANALYZER_HANDOFF_H
#define SENTINEL_ANALYZER_HANDOFF_H

#include "journal.h"

#include "sentinel/date.h"
#include "sentinel/error.h"
#include "sentinel/transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ANA_HANDOFF_PENDING (UINT64_MAX - 1) /* first word: pending frame */
#define ANA_HANDOFF_VERDICT UINT64_MAX       /* first word: verdict frame */

typedef struct ana_handoff ana_handoff_t; /* opaque; defined in handoff.c */

/* Apply one plain frame (redo log and positions) to the state. */
typedef int (*ana_handoff_apply_fn)(const uint8_t *frame, size_t len,
                                    void *arg);

/** Create the reader of a journal at start; `apply` (with `arg`) gets the
 *  plain frames and the confirmed pending ones. Never returns NULL; caller
 *  owns it (ana_handoff_destroy()). */
ana_handoff_t *ana_handoff_new(ana_handoff_apply_fn apply, void *arg);

/** Free it and set *self_p to NULL. Safe on NULL. */
void ana_handoff_destroy(ana_handoff_t **self_p);

/** One journal frame at start, oldest first (an ana_journal_fn). A
 *  pending frame is held until its verdict; one followed by a later
 *  checkpoint without a verdict (written before verdicts existed) is
 *  taken as committed. @return SN_OK or the apply callback's error. */
int ana_handoff_read(const uint8_t *frame, size_t len, void *self);

/** @return true when the journal ended with an unresolved pending frame. */
bool ana_handoff_held(const ana_handoff_t *self);

/** Resolve the held pending frame, if any, by asking `recv` (Kafka)
 *  whether its commit landed. When it landed, append the verdict to
 *  `journal` (durably) and apply the frame. When it did not, write
 *  nothing yet: the caller puts the frame's archive days back
 *  (ana_handoff_dropped_days()), flushes the archive, then calls
 *  ana_handoff_drop(); a kill before that leaves the frame held, to be
 *  asked about again at the next start. @return 1 when the frame is to be
 *  dropped, 0 when there was none or it was applied; SN_ESTATE (no
 *  receiver to ask, or a partial commit), SN_ETRANSPORT, SN_EIO or the
 *  apply callback's error. */
int ana_handoff_resolve(ana_handoff_t *self, sn_receiver_t *recv,
                        ana_journal_t *journal, sn_err_t *err);

/** Append the "dropped" verdict (durably) on the frame that
 *  ana_handoff_resolve() found lost, and forget the frame. @return SN_OK,
 *  SN_EIO, or SN_ESTATE when resolve found no frame lost. */
int ana_handoff_drop(ana_handoff_t *self, ana_journal_t *journal,
                     sn_err_t *err);

/** The first and last day a dropped frame's checkpoint put into the
 *  archive (the frame resolve found lost, or the last one read with a
 *  "dropped" verdict). @return false when it put none. */
bool ana_handoff_dropped_days(const ana_handoff_t *self, sn_day_t *first,
                              sn_day_t *last);

/** Append a pending frame: `mark` (from sn_receiver_mark()), the archive
 *  days [first, last] written since the last checkpoint (first > last:
 *  none), then the plain frame made of `a` and `b`; durable on return.
 *  @return SN_OK or SN_EIO. */
int ana_handoff_write(ana_journal_t *journal, const uint8_t *mark,
                      size_t mark_len, sn_day_t first, sn_day_t last,
                      const void *a, size_t alen, const void *b, size_t blen,
                      sn_err_t *err);

/** Append the verdict on the pending frame of `mark`: landed or dropped.
 *  Not synced when `sync` is false (a lost verdict is asked again at the
 *  next start). @return SN_OK or SN_EIO. */
int ana_handoff_verdict(ana_journal_t *journal, const uint8_t *mark,
                        size_t mark_len, bool landed, bool sync, sn_err_t *err);

#endif
