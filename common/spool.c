/*  common/spool.c - crash-safe disk spool of numbered records
 *
 *  Collectors put every accepted event here before telling the site it is
 *  taken, and the analyzer every alert before handing it on; the transport
 *  reads the records back and frees them once acknowledged (spool.h has the
 *  on-disk format and the durability contract). Appends go to a user-space
 *  buffer that sn_spool_flush() writes with one write(2), so a million small
 *  records a second cost a few hundred system calls, and fsync is applied per
 *  flush according to the policy: group commit, the way databases do it.
 *
 *  Recovery trusts nothing: every frame's length, CRC and sequence number is
 *  checked at open. The newest segment is the only one a crash can tear, so a
 *  bad frame there is cut off; a bad frame in an older, closed segment means
 *  the disk lost data and open fails with the file and offset.
 */
#include "spool_int.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* -- helpers ------------------------------------------------------------ */

static uint64_t
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
s_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void
s_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static int
s_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
s_sync_dir(const sn_spool_t *self)
{
    int fd = open(self->dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return -1;
    }
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* -- recovery ----------------------------------------------------------- */

static int
s_cmp_seg(const void *a, const void *b)
{
    const sn_spool_seg_t *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static void
s_push_seg(sn_spool_t *self, uint64_t first, uint64_t bytes)
{
    if (self->nsegs == self->segcap) {
        self->segcap = self->segcap ? 2 * self->segcap : 8;
        self->segs =
            sn_reallocarray(self->segs, self->segcap, sizeof *self->segs);
    }
    self->segs[self->nsegs++] = (sn_spool_seg_t){first, bytes};
}

static int
s_list_segments(sn_spool_t *self, sn_err_t *err)
{
    DIR *d = opendir(self->dir);
    if (d == NULL) {
        return sn_err_set(err, SN_EIO, "spool %s: cannot list: %s", self->dir,
                          strerror(errno));
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t first;
        char tail[8];
        if (sscanf(e->d_name, "seg-%20" SCNu64 "%7s", &first, tail) == 2 &&
            strcmp(tail, ".log") == 0 && first > 0) {
            s_push_seg(self, first, 0);
        }
    }
    closedir(d);
    if (self->nsegs > 1) {
        qsort(self->segs, self->nsegs, sizeof *self->segs, s_cmp_seg);
    }
    return SN_OK;
}

/* Scan segment `i`: check every frame and find its last record. A bad frame
 * in the newest segment is a torn tail and is cut off; anywhere else it is
 * corruption. */
static int
s_scan_segment(sn_spool_t *self, size_t i, sn_spool_reader_t *rd, sn_err_t *err)
{
    char *path = sn_spool_seg_path(self, self->segs[i].first);
    if (i > 0 && self->segs[i].first != self->last_seq + 1) {
        int rc = sn_err_set(err, SN_ECORRUPT,
                            "spool segment %s: records %" PRIu64
                            " onwards are missing",
                            path, self->last_seq + 1);
        free(path);
        return rc;
    }
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int rc = sn_err_set(err, SN_EIO, "spool segment %s: cannot open: %s",
                            path, strerror(errno));
        free(path);
        return rc;
    }
    sn_spool_reader_open(rd, fd);
    uint64_t expect = self->segs[i].first, seq, bad = 0;
    const uint8_t *data;
    size_t len;
    int rc;
    while ((rc = sn_spool_reader_frame(rd, &seq, &data, &len, &bad)) == SN_OK &&
           seq == expect) {
        expect++;
    }
    uint64_t good =
        rc == SN_OK ? bad : (rc == SN_ENODATA ? rd->off + rd->pos : bad);
    if (rc == SN_OK || rc == SN_ECORRUPT) {
        if (i + 1 < self->nsegs) {
            rc = sn_err_set(err, SN_ECORRUPT,
                            "spool segment %s: bad record at offset %" PRIu64
                            " (seq %" PRIu64 "); a closed segment is damaged",
                            path, good, expect);
        } else if (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
            rc = sn_err_set(err, SN_EIO, "spool segment %s: truncate: %s", path,
                            strerror(errno));
        } else {
            rc = SN_OK;
        }
    } else if (rc == SN_ENODATA) {
        rc = SN_OK;
    } else {
        sn_err_set(err, rc, "spool segment %s: read: %s", path,
                   strerror(errno));
    }
    sn_spool_reader_close(rd);
    free(path);
    self->segs[i].bytes = good;
    self->disk_bytes += good;
    self->last_seq = expect - 1;
    return rc;
}

static int
s_read_acked(sn_spool_t *self, sn_err_t *err)
{
    char *path = sn_strdup_printf("%s/%s", self->dir, SPOOL_ACKED_FILE);
    self->acked_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (self->acked_fd < 0) {
        return sn_err_set(err, SN_EIO, "spool %s: cannot open %s: %s",
                          self->dir, SPOOL_ACKED_FILE, strerror(errno));
    }
    uint8_t b[12];
    /* A short or damaged file means "nothing known acknowledged": the only
     * cost is resending records the receiver will drop as duplicates. */
    if (pread(self->acked_fd, b, sizeof b, 0) == (ssize_t)sizeof b &&
        sn_spool_get32(b + 8) == (uint32_t)crc32(0L, b, 8)) {
        self->acked = sn_spool_get64(b);
    }
    return SN_OK;
}

static int
s_open_newest(sn_spool_t *self, bool create, sn_err_t *err)
{
    uint64_t first = self->segs[self->nsegs - 1].first;
    char *path = sn_spool_seg_path(self, first);
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0);
    self->fd = open(path, flags, 0600);
    int rc = SN_OK;
    if (self->fd < 0) {
        rc = sn_err_set(err, SN_EIO, "spool segment %s: cannot open: %s", path,
                        strerror(errno));
    } else if (create && self->opts.fsync != SN_SPOOL_FSYNC_NEVER &&
               s_sync_dir(self) != 0) {
        rc = sn_err_set(err, SN_EIO, "spool %s: fsync: %s", self->dir,
                        strerror(errno));
    }
    free(path);
    return rc;
}

static int
s_recover(sn_spool_t *self, sn_err_t *err)
{
    int rc = s_read_acked(self, err);
    if (rc == SN_OK) {
        rc = s_list_segments(self, err);
    }
    sn_spool_reader_t rd = {.fd = -1, .cap = SPOOL_READ_CHUNK};
    rd.buf = sn_malloc(rd.cap);
    for (size_t i = 0; rc == SN_OK && i < self->nsegs; i++) {
        rc = s_scan_segment(self, i, &rd, err);
    }
    free(rd.buf);
    if (rc != SN_OK) {
        return rc;
    }
    /* With fsync=never a power cut can lose a tail that was acknowledged;
     * numbering then resumes past the acknowledged position, never below. */
    bool create = self->nsegs == 0 || self->acked > self->last_seq;
    if (create) {
        uint64_t next =
            (self->acked > self->last_seq ? self->acked : self->last_seq) + 1;
        s_push_seg(self, next, 0);
        self->last_seq = next - 1;
    }
    if (self->acked > self->last_seq) {
        self->acked = self->last_seq;
    }
    self->flushed_seq = self->last_seq;
    return s_open_newest(self, create, err);
}

/* -- lifecycle ---------------------------------------------------------- */

void
sn_spool_opts_init(sn_spool_opts_t *opts)
{
    *opts = (sn_spool_opts_t){
        .dir = NULL,
        .fsync = SN_SPOOL_FSYNC_BATCH,
        .fsync_every = 100000,
        .fsync_ms = 50,
        .max_bytes = 1ull << 30,
        .segment_bytes = 64ull << 20,
    };
}

const char *
sn_spool_fsync_name(sn_spool_fsync_t policy)
{
    switch (policy) {
    case SN_SPOOL_FSYNC_ALWAYS:
        return "always";
    case SN_SPOOL_FSYNC_BATCH:
        return "batch";
    case SN_SPOOL_FSYNC_NEVER:
        return "never";
    }
    return "?";
}

int
sn_spool_fsync_parse(const char *name, sn_spool_fsync_t *out)
{
    for (int p = SN_SPOOL_FSYNC_ALWAYS; p <= SN_SPOOL_FSYNC_NEVER; p++) {
        if (name != NULL && strcmp(name, sn_spool_fsync_name(p)) == 0) {
            *out = (sn_spool_fsync_t)p;
            return SN_OK;
        }
    }
    return SN_EINVAL;
}

static int
s_check_opts(const sn_spool_opts_t *o, sn_err_t *err)
{
    if (o->dir == NULL || o->dir[0] == '\0') {
        return sn_err_set(err, SN_EINVAL, "spool: no directory given");
    }
    if (o->segment_bytes < 4096 || o->max_bytes < o->segment_bytes) {
        return sn_err_set(err, SN_EINVAL,
                          "spool %s: segment_bytes must be >= 4096 and <= "
                          "max_bytes",
                          o->dir);
    }
    return SN_OK;
}

static int
s_lock(sn_spool_t *self, sn_err_t *err)
{
    if (mkdir(self->dir, 0700) != 0 && errno != EEXIST) {
        return sn_err_set(err, SN_EIO, "spool %s: cannot create: %s", self->dir,
                          strerror(errno));
    }
    char *path = sn_strdup_printf("%s/%s", self->dir, SPOOL_LOCK_FILE);
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    free(path);
    if (self->lock_fd < 0) {
        return sn_err_set(err, SN_EIO, "spool %s: cannot open lock: %s",
                          self->dir, strerror(errno));
    }
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        return sn_err_set(err, SN_ESTATE, "spool %s: in use by another process",
                          self->dir);
    }
    return SN_OK;
}

int
sn_spool_open(const sn_spool_opts_t *opts, sn_spool_t **out, sn_err_t *err)
{
    int rc = s_check_opts(opts, err);
    if (rc != SN_OK) {
        return rc;
    }
    sn_spool_t *self = sn_calloc(1, sizeof *self);
    self->dir = sn_strdup(opts->dir);
    self->opts = *opts;
    self->opts.dir = self->dir;
    self->lock_fd = self->acked_fd = self->fd = -1;
    self->bufcap = SPOOL_BUF_FLUSH + SPOOL_FRAME_HDR + 64;
    self->buf = sn_malloc(self->bufcap);
    rc = s_lock(self, err);
    if (rc == SN_OK) {
        rc = s_recover(self, err);
    }
    if (rc != SN_OK) {
        sn_spool_destroy(&self);
        return rc;
    }
    self->synced_ms = s_now_ms();
    *out = self;
    return SN_OK;
}

void
sn_spool_destroy(sn_spool_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    sn_spool_t *self = *self_p;
    if (self->fd >= 0) {
        sn_spool_flush(self, NULL);
        if (self->opts.fsync != SN_SPOOL_FSYNC_NEVER) {
            fdatasync(self->fd);
        }
        close(self->fd);
    }
    if (self->acked_fd >= 0) {
        close(self->acked_fd);
    }
    if (self->lock_fd >= 0) {
        close(self->lock_fd);
    }
    for (size_t i = 0; i < SPOOL_TAIL; i++) {
        free(self->tail[i].data);
    }
    free(self->segs);
    free(self->buf);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

/* -- writing ------------------------------------------------------------ */

/* Keep the buffer just written as the newest chunk of the tail and take
 * the oldest chunk's memory as the next buffer: no copy either way. */
static void
s_keep_tail(sn_spool_t *self)
{
    sn_spool_chunk_t *ch = &self->tail[self->tail_next];
    self->tail_next = (self->tail_next + 1) % SPOOL_TAIL;
    uint8_t *spare = ch->data;
    size_t spare_cap = ch->cap;
    *ch = (sn_spool_chunk_t){self->buf, self->buflen, self->bufcap,
                             self->flushed_seq + 1, self->last_seq};
    if (spare == NULL) {
        spare_cap = SPOOL_BUF_FLUSH + SPOOL_FRAME_HDR + 64;
        spare = sn_malloc(spare_cap);
    }
    self->buf = spare;
    self->bufcap = spare_cap;
}

static int
s_write_buf(sn_spool_t *self, sn_err_t *err)
{
    if (self->buflen == 0) {
        return SN_OK;
    }
    if (s_write_all(self->fd, self->buf, self->buflen) != 0) {
        return sn_err_set(err, SN_EIO, "spool %s: write: %s", self->dir,
                          strerror(errno));
    }
    self->segs[self->nsegs - 1].bytes += self->buflen;
    self->disk_bytes += self->buflen;
    s_keep_tail(self);
    self->unsynced += self->last_seq - self->flushed_seq;
    self->flushed_seq = self->last_seq;
    self->buflen = 0;
    return SN_OK;
}

static int
s_fsync(sn_spool_t *self, sn_err_t *err)
{
    if (fdatasync(self->fd) != 0) {
        return sn_err_set(err, SN_EIO, "spool %s: fsync: %s", self->dir,
                          strerror(errno));
    }
    self->unsynced = 0;
    self->synced_ms = s_now_ms();
    return SN_OK;
}

/* Close the newest segment and start a new one at the next sequence. */
static int
s_rotate(sn_spool_t *self, sn_err_t *err)
{
    int rc = s_write_buf(self, err);
    if (rc == SN_OK && self->opts.fsync != SN_SPOOL_FSYNC_NEVER) {
        rc = s_fsync(self, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    close(self->fd);
    self->fd = -1;
    s_push_seg(self, self->last_seq + 1, 0);
    return s_open_newest(self, true, err);
}

static uint64_t
s_total_bytes(const sn_spool_t *self)
{
    return self->disk_bytes + self->buflen;
}

int
sn_spool_append(sn_spool_t *self, const void *data, size_t len, uint64_t *seq,
                sn_err_t *err)
{
    assert(self != NULL);
    if (len == 0 || len > SN_SPOOL_RECORD_MAX) {
        return sn_err_set(err, SN_EINVAL,
                          "spool %s: record of %zu bytes: must be 1 to %u",
                          self->dir, len, SN_SPOOL_RECORD_MAX);
    }
    size_t frame = SPOOL_FRAME_HDR + len;
    if (s_total_bytes(self) + frame > self->opts.max_bytes) {
        return sn_err_set(err, SN_EFULL,
                          "spool %s full: %" PRIu64 " of max_bytes %" PRIu64
                          " bytes hold records not yet acknowledged (last "
                          "acknowledged seq %" PRIu64 " of %" PRIu64 ")",
                          self->dir, s_total_bytes(self), self->opts.max_bytes,
                          self->acked, self->last_seq);
    }
    uint64_t seg_bytes = self->segs[self->nsegs - 1].bytes + self->buflen;
    int rc = SN_OK;
    if (seg_bytes > 0 && seg_bytes + frame > self->opts.segment_bytes) {
        rc = s_rotate(self, err);
    } else if (self->buflen + frame > SPOOL_BUF_FLUSH) {
        rc = s_write_buf(self, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    if (self->buflen + frame > self->bufcap) {
        self->bufcap = self->buflen + frame;
        self->buf = sn_realloc(self->buf, self->bufcap);
    }
    uint8_t *h = self->buf + self->buflen;
    uint64_t s = self->last_seq + 1;
    s_put32(h, (uint32_t)len | SPOOL_FRAME_C);
    s_put64(h + 8, s);
    memcpy(h + SPOOL_FRAME_HDR, data, len);
    s_put32(h + 4, sn_spool_crc32c(h + 8, 8 + len));
    self->buflen += frame;
    self->last_seq = s;
    if (seq != NULL) {
        *seq = s;
    }
    return SN_OK;
}

int
sn_spool_flush(sn_spool_t *self, sn_err_t *err)
{
    assert(self != NULL);
    int rc = s_write_buf(self, err);
    if (rc != SN_OK || self->unsynced == 0) {
        return rc;
    }
    switch (self->opts.fsync) {
    case SN_SPOOL_FSYNC_ALWAYS:
        return s_fsync(self, err);
    case SN_SPOOL_FSYNC_BATCH:
        if (self->unsynced >= self->opts.fsync_every ||
            s_now_ms() - self->synced_ms >= self->opts.fsync_ms) {
            return s_fsync(self, err);
        }
        return SN_OK;
    case SN_SPOOL_FSYNC_NEVER:
        return SN_OK;
    }
    return SN_OK;
}

int
sn_spool_sync(sn_spool_t *self, sn_err_t *err)
{
    int rc = s_write_buf(self, err);
    return rc == SN_OK ? s_fsync(self, err) : rc;
}

/* -- acknowledgement ---------------------------------------------------- */

static int
s_write_acked(sn_spool_t *self, bool sync, sn_err_t *err)
{
    uint8_t b[12];
    s_put64(b, self->acked);
    s_put32(b + 8, (uint32_t)crc32(0L, b, 8));
    /* Twelve bytes at offset 0 never straddle a sector, so the write is
     * atomic in practice; the CRC catches the case where it was not. */
    if (pwrite(self->acked_fd, b, sizeof b, 0) != (ssize_t)sizeof b ||
        (sync && fdatasync(self->acked_fd) != 0)) {
        return sn_err_set(err, SN_EIO, "spool %s: write %s: %s", self->dir,
                          SPOOL_ACKED_FILE, strerror(errno));
    }
    return SN_OK;
}

/* Delete every segment whose records are all acknowledged, except the
 * newest, whose name carries the numbering. */
static int
s_free_segments(sn_spool_t *self, sn_err_t *err)
{
    size_t n = 0;
    while (n + 1 < self->nsegs && self->segs[n + 1].first - 1 <= self->acked) {
        n++;
    }
    if (n == 0) {
        return SN_OK;
    }
    bool sync = self->opts.fsync != SN_SPOOL_FSYNC_NEVER;
    int rc = s_write_acked(self, sync, err);
    for (size_t i = 0; rc == SN_OK && i < n; i++) {
        char *path = sn_spool_seg_path(self, self->segs[i].first);
        if (unlink(path) != 0 && errno != ENOENT) {
            rc = sn_err_set(err, SN_EIO, "spool segment %s: unlink: %s", path,
                            strerror(errno));
        }
        free(path);
    }
    if (rc != SN_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        self->disk_bytes -= self->segs[i].bytes;
    }
    memmove(self->segs, self->segs + n, (self->nsegs - n) * sizeof *self->segs);
    self->nsegs -= n;
    if (sync && s_sync_dir(self) != 0) {
        return sn_err_set(err, SN_EIO, "spool %s: fsync: %s", self->dir,
                          strerror(errno));
    }
    return SN_OK;
}

int
sn_spool_ack(sn_spool_t *self, uint64_t seq, sn_err_t *err)
{
    assert(self != NULL);
    if (seq <= self->acked) {
        return SN_OK;
    }
    if (seq > self->last_seq) {
        return sn_err_set(err, SN_ERANGE,
                          "spool %s: ack of seq %" PRIu64
                          " but the last record is %" PRIu64,
                          self->dir, seq, self->last_seq);
    }
    self->acked = seq;
    /* The position is written at once but fsynced only before segments are
     * deleted (s_free_segments), whatever the policy: after a power cut an
     * older position only makes the sender resend records the receiver
     * drops as duplicates, while an fsync per acknowledgement would cost
     * the strict policy one disk wait per batch. */
    int rc = s_write_acked(self, false, err);
    return rc == SN_OK ? s_free_segments(self, err) : rc;
}

uint64_t
sn_spool_last_seq(const sn_spool_t *self)
{
    return self->last_seq;
}

uint64_t
sn_spool_flushed_seq(const sn_spool_t *self)
{
    return self->flushed_seq;
}

uint64_t
sn_spool_acked_seq(const sn_spool_t *self)
{
    return self->acked;
}

uint64_t
sn_spool_bytes(const sn_spool_t *self)
{
    return s_total_bytes(self);
}

size_t
sn_spool_segments(const sn_spool_t *self)
{
    return self->nsegs;
}
