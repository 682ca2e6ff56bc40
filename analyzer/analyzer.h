/*  analyzer/analyzer.h - the analyzer daemon: transport in, alerts out
 *
 *  Ties the pipeline (ingest.h) to the outside: case-event records arrive
 *  from the transport's receiver (ZeroMQ or Kafka), every closed day goes
 *  to the HDF5 archive, every alert goes to the archive's alert table and,
 *  encoded as a record, into a durable outbox spool that a transport sender
 *  delivers to the alerting daemon. Every `checkpoint_ms` (or sooner, after
 *  a number of records) the daemon makes its state durable in this order:
 *  flush the archive, sync the outbox, append what changed and the
 *  transport positions to the journal (or, now and then, replace the whole
 *  state file), and only then acknowledge everything received. After a
 *  kill -9 the state file, the journal and the positions come back
 *  together, the senders resend what was not acknowledged, and dedup drops
 *  anything seen twice: nothing lost, nothing counted twice. Alerts are
 *  synced to the outbox in the loop turn that raised them, before they are
 *  sent and before anything that caused them is acknowledged.
 *
 *  Threading: one analyzer per process, on the thread that created it; the
 *  transport and the metrics server run helper threads of their own.
 */
#ifndef SENTINEL_ANALYZER_ANALYZER_H
#define SENTINEL_ANALYZER_ANALYZER_H

#include <stdint.h>

#include "sentinel/error.h"

typedef struct ana_analyzer ana_analyzer_t; /* opaque; in analyzer.c */

/** Load the configuration file `path`, restore the state from its
 *  state_dir, open the archive, the receiver and the alert sender.
 *  @return SN_OK with *out (caller owns it); SN_ECONFIG or SN_EIO for the
 *  file; SN_ECORRUPT for an unreadable state; the transport's or the
 *  archive's error. The message names the file or section. */
int ana_analyzer_new(const char *path, ana_analyzer_t **out, sn_err_t *err);

/** Checkpoint, close everything and set *self_p to NULL. Safe on NULL. */
void ana_analyzer_destroy(ana_analyzer_t **self_p);

/** Run the loop until `stop_fd` (a signalfd or pipe, or -1 for none)
 *  becomes readable: receive, ingest, close days, send alerts, checkpoint.
 *  @return SN_OK after a clean stop, or the error that stopped it. */
int ana_analyzer_run(ana_analyzer_t *self, int stop_fd, sn_err_t *err);

/** Make the state durable and acknowledge the transport now.
 *  @return SN_OK, SN_EIO or the archive's error. */
int ana_analyzer_checkpoint(ana_analyzer_t *self, sn_err_t *err);

#endif
