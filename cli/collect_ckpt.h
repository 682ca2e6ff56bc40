/*  cli/collect_ckpt.h - the checkpoints of `sentinel collect`'s input files
 *
 *  A rerun after a crash must not spool a record twice, so the collector
 *  keeps a checkpoint per input file (device and inode, with size and
 *  mtime) in the spool directory: the position of the last record handled
 *  (spooled or dead-lettered) and the spool position after it, written
 *  after each spool flush, and which file is being read (from its first
 *  record to its last). Good records spooled after that file's last
 *  checkpoint belong to it (the process died while reading it), so they
 *  are skipped too when it is read again ("orphans" below). Records
 *  spooled while no file is being read (HL7 from MLLP, which the daemon
 *  takes between two files) belong to no file. A rerun with the same files
 *  therefore resumes exactly where the spool stopped.
 *
 *  Threading: main thread only.
 */
#ifndef SENTINEL_CLI_COLLECT_CKPT_H
#define SENTINEL_CLI_COLLECT_CKPT_H

#include "sentinel/error.h"

#include <stdint.h>
#include <sys/stat.h>

/* One input file's checkpoint. */
typedef struct cli_collect_pos {
    uint64_t dev, ino; /* the file's identity, with size and mtime: a */
    uint64_t size;     /* changed file, or a new one on a reused inode, */
    uint64_t mtime;    /* is read again from the start (ns) */
    uint64_t pos;      /* records of it handled (good and rejected) */
    uint64_t seq;      /* spool position after them */
} cli_collect_pos_t;

typedef struct cli_collect_ckpt cli_collect_ckpt_t; /* opaque */

/** Create an empty table kept in `spool_dir`/inputs. Never returns NULL.
 *  Caller owns the result. */
cli_collect_ckpt_t *cli_collect_ckpt_new(const char *spool_dir);

/** Free the table and set *self_p to NULL. Safe on NULL. */
void cli_collect_ckpt_destroy(cli_collect_ckpt_t **self_p);

/** Read the checkpoints a previous run saved (none when the file is
 *  missing). `last_seq` is the spool's last position: the records after
 *  the checkpoint of the file that was being read are that file's. */
void cli_collect_ckpt_load(cli_collect_ckpt_t *self, uint64_t last_seq);

/** Write every checkpoint to a temporary file, fsync it and rename it over
 *  the old. @return SN_OK or SN_EIO with the path and reason. */
int cli_collect_ckpt_save(cli_collect_ckpt_t *self, sn_err_t *err);

/** @return the checkpoint of the file `st`, created (at position 0) when
 *  new. Borrowed: valid until the next cli_collect_ckpt_for() or
 *  cli_collect_ckpt_forget(). */
cli_collect_pos_t *cli_collect_ckpt_for(cli_collect_ckpt_t *self,
                                        const struct stat *st);

/** Drop the checkpoint of the file `st` (published and gone from the
 *  inbox) and save, so the table does not grow for ever. */
void cli_collect_ckpt_forget(cli_collect_ckpt_t *self, const struct stat *st);

/** @return the good records a crashed run spooled after the checkpoint `k`
 *  while reading its file, once: the next call returns 0. */
uint64_t cli_collect_ckpt_orphans(cli_collect_ckpt_t *self,
                                  const cli_collect_pos_t *k);

/** Record that the file of `k` is being read (NULL: none); the next save
 *  writes it. */
void cli_collect_ckpt_reading(cli_collect_ckpt_t *self,
                              const cli_collect_pos_t *k);

#endif
