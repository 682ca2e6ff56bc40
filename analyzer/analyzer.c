/*  analyzer/analyzer.c - the analyzer daemon: transport in, alerts out
 *
 *  Reading order: state file, journal, lifecycle (configuration, archive,
 *  outbox, receiver, metrics), the record callback, checkpoints, and the
 *  loop; the struct is in analyzer_int.h, the sinks the pipeline calls in
 *  analyzer_sinks.c.
 *
 *  Durable state is a snapshot plus a journal (group commit). The snapshot
 *  (analyzer.state) is the pipeline's saved state, the transport positions
 *  and a generation number; it is written to a temporary name, fsynced and
 *  renamed over the old one, then the folder is fsynced, so a kill -9
 *  leaves either the old or the new file, whole. A checkpoint appends one
 *  frame to the journal (analyzer.journal) instead: the pipeline's redo log
 *  since the last checkpoint and the positions, in one write and one
 *  fdatasync, so its cost follows what changed, not the size of the state.
 *  A snapshot is written again only when the journal has grown past both
 *  S_COMPACT_MIN and the last snapshot's size (and at a clean stop); the
 *  journal is then emptied under the next generation. At start the snapshot
 *  is loaded and the journal of its generation replayed; the positions of
 *  the last good frame win. A checkpoint is due every `checkpoint_ms` or
 *  after S_CKPT_RECORDS records, whichever comes first, and acknowledges
 *  everything it covers at once.
 *
 *  With Kafka a checkpoint is two-phase (handoff.h): its journal frame is
 *  pending until the group has the offsets, then a verdict confirms it; at
 *  start a pending frame is settled with the group before the first poll,
 *  and a dropped one's archive days are put back (analyzer_sinks.c). A
 *  checkpoint that fails where the group and this state may disagree
 *  fences the analyzer (s_fence()): it stops without checkpointing again.
 *
 *  Alerts are not held back for the checkpoint: each loop turn that raised
 *  alerts syncs the outbox (one fsync for all of them) before the sender
 *  runs and before any checkpoint, so an alert is durable before it leaves
 *  and before any event that caused it is acknowledged.
 */
#include "analyzer_int.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"
#include "sentinel/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_POS_MAGIC 0x504f5331u /* "POS1" */
#define S_POLL_MS 50            /* receiver wait per loop turn */
/* Records between two checkpoints at most: well under the transport's
 * default window (100000 unacknowledged records), so a sender never waits
 * for an ack while the checkpoint interval runs. */
#define S_CKPT_RECORDS 32768
#define S_COMPACT_MIN (64ull << 20) /* journal bytes before a snapshot */

/* ---- state file --------------------------------------------------------- */

static int
s_positions_save(const ana_analyzer_t *self, FILE *f)
{
    uint32_t magic = S_POS_MAGIC;
    uint64_t n = self->n_pos;
    if (fwrite(&magic, 4, 1, f) != 1 || fwrite(&n, 8, 1, f) != 1 ||
        (n > 0 && fwrite(self->pos, sizeof *self->pos, n, f) != n)) {
        return SN_EIO;
    }
    return SN_OK;
}

static int
s_positions_load(ana_analyzer_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic;
    uint64_t n;
    if (fread(&magic, 4, 1, f) != 1 || fread(&n, 8, 1, f) != 1 ||
        magic != S_POS_MAGIC || n > (1u << 20)) {
        return sn_err_set(err, SN_ECORRUPT, "state: bad transport positions");
    }
    self->pos = sn_calloc(n + 1, sizeof *self->pos);
    self->cap_pos = n + 1;
    if (fread(self->pos, sizeof *self->pos, n, f) != n) {
        return sn_err_set(err, SN_ECORRUPT, "state: truncated positions");
    }
    self->n_pos = n;
    return SN_OK;
}

static int
s_state_write(ana_analyzer_t *self, sn_err_t *err)
{
    char *tmp = sn_strdup_printf("%s.tmp", self->state_path);
    FILE *f = fopen(tmp, "wb");
    int rc = f == NULL ? SN_EIO : ana_ingest_save(self->in, f);
    if (rc == SN_OK) {
        rc = s_positions_save(self, f);
    }
    uint64_t gen = self->gen + 1;
    if (rc == SN_OK && fwrite(&gen, sizeof gen, 1, f) != 1) {
        rc = SN_EIO;
    }
    if (rc == SN_OK) {
        rc = ana_quota_save(ana_ingest_quota(self->in), f);
    }
    if (rc == SN_OK && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        rc = SN_EIO;
    }
    long bytes = f != NULL ? ftell(f) : 0;
    if (f != NULL && fclose(f) != 0) {
        rc = SN_EIO;
    }
    if (rc == SN_OK && rename(tmp, self->state_path) != 0) {
        rc = SN_EIO;
    }
    if (rc == SN_OK) {
        int dfd = open(self->cfg.state_dir, O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(tmp);
    if (rc != SN_OK) {
        return sn_err_set(err, rc, "state '%s': cannot write: %s",
                          self->state_path, strerror(errno));
    }
    self->gen = gen;
    self->snap_bytes = bytes > 0 ? (uint64_t)bytes : 0;
    return SN_OK;
}

/* Read the new-series quota saved after the positions, when there is one
 * (states and journal frames written before it was saved have none, and
 * a frame holds it only when it changed). */
static void
s_quota_read(ana_analyzer_t *self, FILE *f)
{
    int c = fgetc(f);
    if (c == EOF) {
        return;
    }
    ungetc(c, f);
    if (ana_quota_load(ana_ingest_quota(self->in), f) != SN_OK) {
        sn_log(SN_LOG_WARN, "analyzer", "quota",
               "reason=\"saved new-series counts unreadable: fresh quota\"");
    }
}

static int
s_state_read(ana_analyzer_t *self, sn_err_t *err)
{
    FILE *f = fopen(self->state_path, "rb");
    if (f == NULL) {
        return errno == ENOENT ? SN_OK
                               : sn_err_set(err, SN_EIO, "state '%s': %s",
                                            self->state_path, strerror(errno));
    }
    int rc = ana_ingest_load(self->in, f, err);
    if (rc == SN_OK) {
        rc = s_positions_load(self, f, err);
    }
    if (rc == SN_OK && fread(&self->gen, sizeof self->gen, 1, f) != 1) {
        self->gen = 0; /* a state written before the journal existed */
    }
    s_quota_read(self, f);
    long bytes = ftell(f);
    self->snap_bytes = bytes > 0 ? (uint64_t)bytes : 0;
    fclose(f);
    if (rc != SN_OK) {
        sn_err_prefix(err, "state '%s'", self->state_path);
    }
    return rc;
}

/* ---- journal ------------------------------------------------------------ */

/* One plain journal frame at start (handoff.c hands them over): the redo
 * log, then the positions. */
static int
s_on_frame(const uint8_t *p, size_t len, void *arg)
{
    ana_analyzer_t *self = arg;
    uint64_t n_ops;
    sn_err_t err;
    if (len < 8) {
        return SN_ECORRUPT;
    }
    memcpy(&n_ops, p, 8);
    if (n_ops > len - 8 ||
        ana_ingest_replay(self->in, p + 8, (size_t)n_ops, &err) != SN_OK) {
        sn_log(SN_LOG_ERROR, "analyzer", "journal", "reason=\"%s\"",
               n_ops > len - 8 ? "bad frame" : sn_err_text(&err));
        return SN_ECORRUPT;
    }
    size_t rest = len - 8 - (size_t)n_ops;
    FILE *f = rest > 0 ? fmemopen((void *)(p + 8 + n_ops), rest, "rb") : NULL;
    if (f == NULL) {
        return SN_ECORRUPT;
    }
    free(self->pos);
    self->pos = NULL;
    self->n_pos = self->cap_pos = 0;
    int rc = s_positions_load(self, f, NULL);
    if (rc == SN_OK) {
        s_quota_read(self, f);
    }
    fclose(f);
    return rc;
}

static int
s_open_journal(ana_analyzer_t *self, sn_err_t *err)
{
    self->journal_path =
        sn_strdup_printf("%s/analyzer.journal", self->cfg.state_dir);
    self->hand = ana_handoff_new(s_on_frame, self);
    int rc = ana_journal_open(self->journal_path, self->gen, ana_handoff_read,
                              self->hand, &self->journal, err);
    if (rc != SN_OK) {
        sn_err_prefix(err, "state '%s'", self->state_path);
        return rc;
    }
    ana_ingest_journal(self->in, true);
    return SN_OK;
}

/* Append the redo log since the last checkpoint and the positions as one
 * durable frame. */
static int
s_journal_write(ana_analyzer_t *self, const uint8_t *mark, size_t mark_len,
                sn_err_t *err)
{
    char *pos = NULL;
    size_t n_pos = 0;
    FILE *f = open_memstream(&pos, &n_pos);
    int rc = f != NULL && s_positions_save(self, f) == SN_OK ? SN_OK : SN_EIO;
    ana_quota_t *q = ana_ingest_quota(self->in);
    if (rc == SN_OK && ana_quota_changed(q)) {
        rc = ana_quota_save(q, f);
    }
    if (f != NULL && fclose(f) != 0) {
        rc = SN_EIO;
    }
    /* The redo log, prefixed by its length, straight from ingest's buffer:
     * a copy into fresh memory would cost a page fault per 4 KiB. */
    size_t n_frame;
    const uint8_t *frame = ana_ingest_delta_frame(self->in, &n_frame);
    if (rc == SN_OK && mark != NULL) {
        rc = ana_handoff_write(self->journal, mark, mark_len, self->day_first,
                               self->day_last, frame, n_frame, pos, n_pos, err);
    } else if (rc == SN_OK) {
        rc = ana_journal_append(self->journal, frame, n_frame, pos, n_pos, err);
    } else {
        sn_err_set(err, rc, "journal: cannot encode the positions");
    }
    free(pos);
    if (rc == SN_OK) {
        ana_ingest_delta_clear(self->in);
    }
    return rc;
}

/* Write a full snapshot of the next generation and start its journal. */
static int
s_compact(ana_analyzer_t *self, sn_err_t *err)
{
    int rc = s_state_write(self, err);
    if (rc == SN_OK) {
        ana_ingest_delta_clear(self->in);
        rc = ana_journal_reset(self->journal, self->gen, err);
    }
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int
s_open_archive(ana_analyzer_t *self, sn_err_t *err)
{
    if (self->cfg.archive == NULL) {
        return SN_OK;
    }
    ana_archive_opts_t o;
    ana_archive_opts_default(&o);
    const char *names[ANA_ENGINE_MAX_DETECTORS];
    for (size_t i = 0; i < self->cfg.n_dets; i++) {
        names[i] = self->cfg.dets[i].name;
    }
    o.detectors = names;
    o.n_detectors = self->cfg.n_dets;
    int rc = ana_archive_opts_load(self->cfg.archive, &o, err);
    if (rc == SN_OK) {
        rc = ana_archive_open(&o, &self->archive, err);
    }
    if (rc == SN_OK && ana_archive_recovered(self->archive)) {
        sn_log(SN_LOG_WARN, "analyzer", "archive_recovered", "path=\"%s\"",
               o.path);
    }
    if (rc == SN_OK && ana_archive_moved_aside(self->archive) != NULL) {
        sn_log(SN_LOG_ERROR, "analyzer", "archive_unreadable",
               "path=\"%s\" moved_to=\"%s\" (kept; a new archive starts)",
               o.path, ana_archive_moved_aside(self->archive));
    }
    self->arows = sn_calloc(ANA_ENGINE_BLOCK, sizeof *self->arows);
    return rc;
}

static int
s_open_outbox(ana_analyzer_t *self, sn_err_t *err)
{
    const sn_cfg_node_t *a = self->cfg.alerts;
    if (a == NULL) {
        return SN_OK;
    }
    sn_spool_opts_t so;
    sn_transport_opts_t to;
    int rc =
        sn_spool_opts_from_cfg(self->file, sn_cfg_get(a, "spool"), &so, err);
    if (rc == SN_OK) {
        rc = sn_transport_opts_from_cfg(self->file, sn_cfg_get(a, "transport"),
                                        &to, err);
    }
    if (rc == SN_OK) {
        rc = sn_spool_open(&so, &self->outbox, err);
    }
    if (rc == SN_OK) {
        if (to.sender_id == NULL) {
            to.sender_id = "analyzer";
        }
        rc = sn_sender_new(&to, self->outbox, NULL, NULL, &self->sender, err);
    }
    return rc;
}

static int s_checkpoint(ana_analyzer_t *self, bool full, sn_err_t *err);

/* The fence: after a checkpoint that may have left the group and this
 * analyzer disagreeing (a commit failed after its pending frame, or the
 * revoke hook failed), the events held in memory may be counted by the
 * partitions' next owner too. No checkpoint is written any more (not even
 * at destroy) and the daemon stops; the next start falls back to the last
 * confirmed checkpoint. The marker file tells that start to put the
 * archive days past its state back, as after a kill: they may hold events
 * flushed here that the next owner now counts. */
static void
s_fence(ana_analyzer_t *self)
{
    self->fenced = true;
    const char *path = self->fence_path;
    int fd = open(path, O_WRONLY | O_CREAT, 0600);
    int dfd = fd >= 0 && fsync(fd) == 0
                  ? open(self->cfg.state_dir, O_RDONLY | O_DIRECTORY)
                  : -1;
    if (dfd < 0 || fsync(dfd) != 0) {
        sn_log(SN_LOG_ERROR, "analyzer", "fence",
               "path=\"%s\" reason=\"cannot write the marker: %s; check "
               "the archive's days past the state at the next start\"",
               path, strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
    if (dfd >= 0) {
        close(dfd);
    }
}

/* The Kafka group takes partitions away: checkpoint now (flush the
 * archive, journal, commit), so their next owner, another analyzer,
 * starts at the first event not counted here. On failure the transport
 * forgets those offsets anyway (they are no longer ours to commit) and
 * the next owner counts the events again from the last commit, so this
 * analyzer must never make them durable: it is fenced. */
static int
s_on_revoke(void *arg)
{
    ana_analyzer_t *self = arg;
    sn_err_t err;
    int rc = s_checkpoint(self, false, &err);
    if (rc != SN_OK) {
        sn_log(SN_LOG_ERROR, "analyzer", "checkpoint", "reason=\"%s\"",
               sn_err_text(&err));
        s_fence(self);
    }
    return rc;
}

static int
s_open_receiver(ana_analyzer_t *self, sn_err_t *err)
{
    if (self->cfg.transport == NULL) {
        return SN_OK;
    }
    sn_transport_opts_t o;
    int rc =
        sn_transport_opts_from_cfg(self->file, self->cfg.transport, &o, err);
    if (rc != SN_OK) {
        return rc;
    }
    o.state_dir = NULL; /* the positions live in our own state file */
    self->kafka = o.kind == SN_TRANSPORT_KAFKA;
    rc = sn_receiver_new(&o, &self->recv, err);
    if (rc == SN_OK) {
        sn_receiver_on_revoke(self->recv, s_on_revoke, self);
    }
    for (size_t i = 0; rc == SN_OK && i < self->n_pos; i++) {
        rc = sn_receiver_set_position(self->recv, self->pos[i].id,
                                      self->pos[i].seq);
    }
    return rc;
}

static int
s_setup(ana_analyzer_t *self, const char *path, sn_err_t *err)
{
    int rc = sn_config_load(path, ana_config_schema, &self->file, err);
    if (rc == SN_OK) {
        rc = ana_config_read(self->file, &self->cfg, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    if (sn_cfg_get(sn_config_root(self->file), "log") != NULL) {
        sn_cfg_log_setup(self->file);
    }
    if (mkdir(self->cfg.state_dir, 0700) != 0 && errno != EEXIST) {
        return sn_err_set(err, SN_EIO, "state_dir '%s': %s",
                          self->cfg.state_dir, strerror(errno));
    }
    self->state_path =
        sn_strdup_printf("%s/analyzer.state", self->cfg.state_dir);
    self->fence_path =
        sn_strdup_printf("%s/analyzer.fenced", self->cfg.state_dir);
    ana_ingest_sinks_t sinks = {ana_analyzer_on_alert, self,
                                ana_analyzer_on_rows, self};
    rc = ana_ingest_new(&self->cfg, &sinks, &self->in, err);
    if (rc == SN_OK) {
        char *dl =
            self->cfg.dead_letter
                ? sn_strdup(self->cfg.dead_letter)
                : sn_strdup_printf("%s/dead-letter.jsonl", self->cfg.state_dir);
        rc = ana_ingest_dead_letter(self->in, dl, err);
        free(dl);
    }
    return rc;
}

int
ana_analyzer_new(const char *path, ana_analyzer_t **out, sn_err_t *err)
{
    ana_analyzer_t *self = sn_calloc(1, sizeof *self);
    self->metrics = ana_metrics_new();
    int rc = s_setup(self, path, err);
    if (rc == SN_OK) {
        rc = s_state_read(self, err);
    }
    if (rc == SN_OK) {
        rc = s_open_journal(self, err);
    }
    if (rc == SN_OK) {
        rc = s_open_archive(self, err);
    }
    if (rc == SN_OK) {
        rc = s_open_outbox(self, err);
    }
    if (rc == SN_OK) {
        rc = s_open_receiver(self, err);
    }
    if (rc == SN_OK) {
        rc = ana_analyzer_settle(self, err);
    }
    if (rc == SN_OK && self->cfg.metrics != NULL) {
        rc = sn_metrics_serve(ana_metrics_registry(self->metrics),
                              self->cfg.metrics, 10000, err);
    }
    if (rc != SN_OK) {
        self->dirty = false; /* nothing to save from a failed start */
        ana_analyzer_destroy(&self);
        return rc;
    }
    self->last_ckpt = sn_clock_ns();
    self->day_first = 1; /* no archive day written since the checkpoint */
    self->day_last = 0;
    *out = self;
    return SN_OK;
}

void
ana_analyzer_destroy(ana_analyzer_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_analyzer_t *self = *self_p;
    if (self->dirty && !self->fenced) {
        sn_err_t err;
        if (ana_analyzer_checkpoint(self, &err) != SN_OK) {
            sn_log(SN_LOG_ERROR, "analyzer", "checkpoint", "reason=\"%s\"",
                   sn_err_text(&err));
        }
    }
    if (self->recv != NULL) {
        sn_receiver_on_revoke(self->recv, NULL, NULL); /* checkpointed */
    }
    ana_journal_destroy(&self->journal);
    ana_handoff_destroy(&self->hand);
    sn_receiver_destroy(&self->recv);
    sn_sender_destroy(&self->sender);
    sn_spool_destroy(&self->outbox);
    ana_archive_destroy(&self->archive);
    ana_ingest_destroy(&self->in);
    ana_config_fini(&self->cfg);
    sn_config_destroy(&self->file);
    ana_metrics_destroy(&self->metrics);
    free(self->state_path);
    free(self->fence_path);
    free(self->journal_path);
    free(self->rows);
    free(self->arows);
    free(self->pos);
    free(self);
    *self_p = NULL;
}

/* ---- records ------------------------------------------------------------ */

static void
s_position(ana_analyzer_t *self, const char *sender, uint64_t seq)
{
    for (size_t i = 0; i < self->n_pos; i++) {
        if (strcmp(self->pos[i].id, sender) == 0) {
            self->pos[i].seq = seq;
            return;
        }
    }
    if (self->n_pos == self->cap_pos) {
        self->cap_pos = self->cap_pos ? self->cap_pos * 2 : 16;
        self->pos =
            sn_reallocarray(self->pos, self->cap_pos, sizeof *self->pos);
    }
    ana_pos_t *p = &self->pos[self->n_pos++];
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", sender);
    p->seq = seq;
}

/* Every record is handled here, a transport batch at a time (ingest
 * overlaps the records' memory accesses): bad ones are dead-lettered by
 * ingest and never stop the stream, so this always returns SN_OK. */
static int
s_on_records(const sn_record_t *recs, size_t n, void *arg)
{
    ana_analyzer_t *self = arg;
    ana_ingest_records(self->in, recs, n, sn_time_now());
    s_position(self, recs[n - 1].sender_id, recs[n - 1].seq);
    self->since_ckpt += n;
    self->dirty = true;
    return SN_OK;
}

/* ---- checkpoints and the loop ------------------------------------------- */

/* What a checkpoint covers must be on disk before its frame: the archive
 * flushed and the alerts synced. */
static int
s_sync_outputs(ana_analyzer_t *self, sn_err_t *err)
{
    int rc = SN_OK;
    if (self->archive != NULL && self->archive_dirty) {
        rc = ana_archive_flush(self->archive, err);
        self->archive_dirty = rc != SN_OK;
    }
    if (rc == SN_OK && self->outbox != NULL && self->outbox_dirty) {
        rc = sn_spool_sync(self->outbox, err);
        self->outbox_dirty = rc != SN_OK;
    }
    return rc;
}

/* Kafka: the mark of the commit this checkpoint makes; NULL with ZeroMQ
 * (its acknowledgements are idempotent) or when nothing is to commit. */
static int
s_mark(ana_analyzer_t *self, uint8_t **mark, size_t *len, sn_err_t *err)
{
    *mark = NULL;
    *len = 0;
    int rc = self->recv != NULL ? sn_receiver_mark(self->recv, mark, len, err)
                                : SN_OK;
    return rc == SN_ENODATA || rc == SN_EUNSUPPORTED ? SN_OK : rc;
}

/* Test hook, compiled only with SENTINEL_TEST_HOOKS (a CMake option for
 * test builds): when the environment names a file in
 * SENTINEL_TEST_EXIT_BEFORE_COMMIT and that file exists, the process ends
 * right after a pending Kafka checkpoint is on disk and before its commit,
 * the crash the two-phase checkpoint is for (tests/e2e/test_kafka_group.c).
 */
static void
s_test_exit_before_commit(void)
{
#ifdef SENTINEL_TEST_HOOKS
    const char *flag = getenv("SENTINEL_TEST_EXIT_BEFORE_COMMIT");
    if (flag != NULL && access(flag, F_OK) == 0) {
        sn_log(SN_LOG_WARN, "analyzer", "test_exit_before_commit",
               "reason=\"test hook: pending checkpoint written, no commit\"");
        _exit(99);
    }
#endif
}

/* The error of a fenced analyzer (s_fence()). */
static int
s_fenced_error(sn_err_t *err)
{
    return sn_err_set(err, SN_ESTATE,
                      "kafka: a checkpoint failed after its journal frame or "
                      "while the group took partitions away; restart to fall "
                      "back to the last confirmed checkpoint");
}

/* Make the state durable (a journal frame, or a snapshot when `full` or
 * when the journal has outgrown the snapshot), then acknowledge. With
 * Kafka the frame is pending until the commit returns (handoff.h): a
 * commit that fails after it leaves the daemon unable to go on, since only
 * the group knows whether it took effect (it is fenced); the next start
 * settles it. The snapshot of a Kafka checkpoint is written after its
 * commit. */
static int
s_checkpoint(ana_analyzer_t *self, bool full, sn_err_t *err)
{
    if (self->fenced) {
        return s_fenced_error(err);
    }
    uint8_t *mark = NULL;
    size_t n_mark = 0;
    int rc = s_sync_outputs(self, err);
    if (rc == SN_OK) {
        rc = s_mark(self, &mark, &n_mark, err);
    }
    uint64_t jb = ana_journal_bytes(self->journal);
    bool compact = full || (jb > S_COMPACT_MIN && jb > self->snap_bytes);
    if (rc == SN_OK && compact && mark == NULL) {
        rc = s_compact(self, err);
    } else if (rc == SN_OK) {
        rc = s_journal_write(self, mark, n_mark, err);
    }
    if (rc == SN_OK && mark != NULL) {
        s_test_exit_before_commit();
    }
    if (rc == SN_OK && self->recv != NULL) {
        rc = sn_receiver_commit(self->recv, err);
        if (rc != SN_OK && mark != NULL) {
            s_fence(self);
        }
    }
    if (rc == SN_OK && mark != NULL) {
        rc = ana_handoff_verdict(self->journal, mark, n_mark, true, false, err);
        if (rc == SN_OK && compact) {
            rc = s_compact(self, err);
        }
    }
    free(mark);
    if (rc == SN_OK) {
        self->dirty = false;
        self->since_ckpt = 0;
        self->last_ckpt = sn_clock_ns();
        self->day_first = 1;
        self->day_last = 0;
    }
    return rc;
}

int
ana_analyzer_checkpoint(ana_analyzer_t *self, sn_err_t *err)
{
    return s_checkpoint(self, false, err);
}

/* The counters for /metrics, and a warning (at most once a minute) while
 * events are refused because the dedup table is full: they are counted
 * nowhere until someone raises dedup_capacity and replays them. */
static void
s_publish(ana_analyzer_t *self)
{
    const ana_ingest_stats_t *st = ana_ingest_stats(self->in);
    size_t size, cap;
    ana_ingest_dedup_usage(self->in, &size, &cap);
    ana_metrics_publish(self->metrics, st,
                        ana_series_size(ana_ingest_series(self->in)), size,
                        cap);
    int64_t now = sn_clock_ns();
    if (st->dedup_full > self->full_logged &&
        now - self->full_log_ns >= 60 * (int64_t)1000000000) {
        sn_log(SN_LOG_ERROR, "analyzer", "dedup_full",
               "refused=%" PRIu64 " capacity=%zu reason=\"the dedup table is "
               "full: events are dead-lettered, not counted; raise "
               "analyzer.dedup_capacity; the dead letter names the events "
               "for their sites to send again\"",
               st->dedup_full, cap);
        self->full_logged = st->dedup_full;
        self->full_log_ns = now;
    }
}

/* One turn of the loop. @return SN_OK or an error that stops the daemon. */
static int
s_turn(ana_analyzer_t *self, sn_err_t *err)
{
    /* Wait for events, but only briefly while alerts wait to be sent: the
     * fixed-threshold rule promises an alert at once. */
    int wait = self->sender != NULL && !sn_sender_drained(self->sender)
                   ? 1
                   : S_POLL_MS;
    if (self->recv != NULL) {
        int n =
            sn_receiver_poll_batch(self->recv, wait, s_on_records, self, err);
        if (n < 0) {
            return n;
        }
        if (self->fenced) { /* the revoke hook failed during the poll */
            return s_fenced_error(err);
        }
    } else {
        poll(NULL, 0, wait);
    }
    if (ana_ingest_tick(self->in, sn_time_now()) > 0) {
        self->dirty = true;
    }
    if (self->outbox_dirty) { /* alerts of this turn: durable, then sent */
        int rc = sn_spool_sync(self->outbox, err);
        if (rc != SN_OK) {
            return rc;
        }
        self->outbox_dirty = false;
    }
    if (self->sender != NULL) {
        int rc = sn_sender_poll(self->sender, 0, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    if (self->archive != NULL) {
        int rc = ana_archive_tick(self->archive, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    int64_t due = self->last_ckpt + (int64_t)self->cfg.checkpoint_ms * 1000000;
    if (self->dirty &&
        (sn_clock_ns() >= due || self->since_ckpt >= S_CKPT_RECORDS)) {
        int rc = ana_analyzer_checkpoint(self, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    s_publish(self);
    return SN_OK;
}

int
ana_analyzer_run(ana_analyzer_t *self, int stop_fd, sn_err_t *err)
{
    sn_log(SN_LOG_INFO, "analyzer", "start", "series=%zu state=\"%s\"",
           ana_series_size(ana_ingest_series(self->in)), self->state_path);
    for (;;) {
        if (stop_fd >= 0) {
            struct pollfd p = {stop_fd, POLLIN, 0};
            if (poll(&p, 1, 0) > 0) {
                break;
            }
        }
        int rc = s_turn(self, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    int rc = s_checkpoint(self, true, err); /* a clean stop: a snapshot */
    const ana_ingest_stats_t *st = ana_ingest_stats(self->in);
    sn_log(SN_LOG_INFO, "analyzer", "stop",
           "events=%llu counted=%llu duplicates=%llu rejected=%llu "
           "alerts=%llu days=%llu",
           (unsigned long long)st->records, (unsigned long long)st->counted,
           (unsigned long long)st->duplicates, (unsigned long long)st->rejected,
           (unsigned long long)st->alerts, (unsigned long long)st->days);
    return rc;
}
