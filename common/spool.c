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
#include "sentinel/spool.h"

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

#define SPOOL_FRAME_HDR 16            /* u32 len, u32 crc, u64 seq */
#define SPOOL_BUF_FLUSH (256u << 10)  /* write the buffer past this size */
#define SPOOL_READ_CHUNK (256u << 10) /* cursor read size */
#define SPOOL_ACKED_FILE "acked"      /* u64 seq, u32 crc */
#define SPOOL_LOCK_FILE "lock"        /* flock() held while open */
#define SPOOL_NAME_FMT "seg-%020" PRIu64 ".log"

/* One segment file. */
typedef struct spool_seg {
    uint64_t first; /* sequence number of its first record */
    uint64_t bytes; /* its size on disk (buffered bytes not included) */
} spool_seg_t;

/* A buffered reader over one segment file, used by recovery and cursors. */
typedef struct spool_reader {
    int fd;       /* the segment, or -1 */
    uint8_t *buf; /* read buffer */
    size_t cap;   /* its size */
    size_t len;   /* bytes held */
    size_t pos;   /* first unconsumed byte */
    uint64_t off; /* file offset of buf[0] */
} spool_reader_t;

struct sn_spool {
    char *dir;            /* the spool directory */
    sn_spool_opts_t opts; /* options, dir borrowed from `dir` */
    int lock_fd;          /* the lock file, flock()ed */
    int acked_fd;         /* the acked file */
    int fd;               /* newest segment, open for append */
    spool_seg_t *segs;    /* segments, oldest first; never empty */
    size_t nsegs;         /* their number */
    size_t segcap;        /* allocated */
    uint8_t *buf;         /* appended, not yet written */
    size_t buflen;        /* bytes in buf */
    size_t bufcap;        /* allocated */
    uint64_t last_seq;    /* last appended */
    uint64_t flushed_seq; /* last written to the file */
    uint64_t acked;       /* acknowledged position */
    uint64_t disk_bytes;  /* total of segs[].bytes */
    uint64_t unsynced;    /* records written since the last fsync */
    uint64_t synced_ms;   /* when the last fsync happened */
};

struct sn_spool_cursor {
    sn_spool_t *spool;  /* borrowed */
    uint64_t pos;       /* next sequence number to return */
    uint64_t seg_first; /* first seq of the open segment */
    spool_reader_t rd;  /* reader over that segment */
};

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

static uint32_t
s_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static uint64_t
s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* The CRC covers the sequence number and the payload, so a frame copied to
 * the wrong place or a stale frame from a reused block fails the check. */
static uint32_t
s_crc(const uint8_t *seq8, const uint8_t *data, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, seq8, 8);
    c = crc32_z(c, data, len);
    return (uint32_t)c;
}

static char *
s_seg_path(const sn_spool_t *self, uint64_t first)
{
    char name[64];
    snprintf(name, sizeof name, SPOOL_NAME_FMT, first);
    return sn_strdup_printf("%s/%s", self->dir, name);
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

/* -- reader ------------------------------------------------------------- */

static void
s_reader_open(spool_reader_t *rd, int fd)
{
    rd->fd = fd;
    rd->len = 0;
    rd->pos = 0;
    rd->off = 0;
}

static void
s_reader_close(spool_reader_t *rd)
{
    if (rd->fd >= 0) {
        close(rd->fd);
    }
    rd->fd = -1;
    rd->len = rd->pos = 0;
    rd->off = 0;
}

/* Make at least `need` unconsumed bytes available, reading more from the
 * file. @return 1 when they are there, 0 at end of file, -1 on error. */
static int
s_reader_fill(spool_reader_t *rd, size_t need)
{
    if (rd->len - rd->pos >= need) {
        return 1;
    }
    memmove(rd->buf, rd->buf + rd->pos, rd->len - rd->pos);
    rd->off += rd->pos;
    rd->len -= rd->pos;
    rd->pos = 0;
    if (need > rd->cap) {
        rd->cap = need > 2 * rd->cap ? need : 2 * rd->cap;
        rd->buf = sn_realloc(rd->buf, rd->cap);
    }
    while (rd->len < need) {
        ssize_t r = read(rd->fd, rd->buf + rd->len, rd->cap - rd->len);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            return -1;
        }
        if (r == 0) {
            return 0;
        }
        rd->len += (size_t)r;
    }
    return 1;
}

/* Read one frame. @return SN_OK; SN_ENODATA at a clean end of file;
 * SN_ECORRUPT for a torn or bad frame (*bad_off says where); SN_EIO. */
static int
s_reader_frame(spool_reader_t *rd, uint64_t *seq, const uint8_t **data,
               size_t *len, uint64_t *bad_off)
{
    *bad_off = rd->off + rd->pos;
    int f = s_reader_fill(rd, SPOOL_FRAME_HDR);
    if (f < 0) {
        return SN_EIO;
    }
    if (f == 0) {
        return rd->len == rd->pos ? SN_ENODATA : SN_ECORRUPT;
    }
    const uint8_t *h = rd->buf + rd->pos;
    uint32_t n = s_get32(h);
    if (n == 0 || n > SN_SPOOL_RECORD_MAX) {
        return SN_ECORRUPT;
    }
    f = s_reader_fill(rd, SPOOL_FRAME_HDR + n);
    if (f <= 0) {
        return f < 0 ? SN_EIO : SN_ECORRUPT;
    }
    h = rd->buf + rd->pos;
    if (s_crc(h + 8, h + SPOOL_FRAME_HDR, n) != s_get32(h + 4)) {
        return SN_ECORRUPT;
    }
    *seq = s_get64(h + 8);
    *data = h + SPOOL_FRAME_HDR;
    *len = n;
    rd->pos += SPOOL_FRAME_HDR + n;
    return SN_OK;
}

/* -- recovery ----------------------------------------------------------- */

static int
s_cmp_seg(const void *a, const void *b)
{
    const spool_seg_t *x = a, *y = b;
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
    self->segs[self->nsegs++] = (spool_seg_t){first, bytes};
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
s_scan_segment(sn_spool_t *self, size_t i, spool_reader_t *rd, sn_err_t *err)
{
    char *path = s_seg_path(self, self->segs[i].first);
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
    s_reader_open(rd, fd);
    uint64_t expect = self->segs[i].first, seq, bad = 0;
    const uint8_t *data;
    size_t len;
    int rc;
    while ((rc = s_reader_frame(rd, &seq, &data, &len, &bad)) == SN_OK &&
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
    s_reader_close(rd);
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
        s_get32(b + 8) == (uint32_t)crc32(0L, b, 8)) {
        self->acked = s_get64(b);
    }
    return SN_OK;
}

static int
s_open_newest(sn_spool_t *self, bool create, sn_err_t *err)
{
    uint64_t first = self->segs[self->nsegs - 1].first;
    char *path = s_seg_path(self, first);
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
    spool_reader_t rd = {.fd = -1, .cap = SPOOL_READ_CHUNK};
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
        .fsync_every = 1000,
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
    free(self->segs);
    free(self->buf);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

/* -- writing ------------------------------------------------------------ */

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
    s_put32(h, (uint32_t)len);
    s_put64(h + 8, s);
    memcpy(h + SPOOL_FRAME_HDR, data, len);
    s_put32(h + 4, s_crc(h + 8, h + SPOOL_FRAME_HDR, len));
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
        char *path = s_seg_path(self, self->segs[i].first);
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
    int rc =
        s_write_acked(self, self->opts.fsync == SN_SPOOL_FSYNC_ALWAYS, err);
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

/* -- cursor ------------------------------------------------------------- */

sn_spool_cursor_t *
sn_spool_cursor_new(sn_spool_t *spool, uint64_t from)
{
    assert(spool != NULL);
    sn_spool_cursor_t *self = sn_calloc(1, sizeof *self);
    self->spool = spool;
    self->rd.fd = -1;
    self->rd.cap = SPOOL_READ_CHUNK;
    self->rd.buf = sn_malloc(self->rd.cap);
    sn_spool_cursor_seek(self, from);
    return self;
}

void
sn_spool_cursor_destroy(sn_spool_cursor_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    s_reader_close(&(*self_p)->rd);
    free((*self_p)->rd.buf);
    free(*self_p);
    *self_p = NULL;
}

void
sn_spool_cursor_seek(sn_spool_cursor_t *self, uint64_t from)
{
    /* Moving forward within the open segment keeps reading; anything else
     * reopens the segment and skips to `from`. */
    if (from < self->pos || self->rd.fd < 0) {
        s_reader_close(&self->rd);
    }
    self->pos = from == 0 ? 1 : from;
}

/* @return the index of the segment that holds `seq`. */
static size_t
s_seg_for(const sn_spool_t *sp, uint64_t seq)
{
    size_t i = sp->nsegs - 1;
    while (i > 0 && sp->segs[i].first > seq) {
        i--;
    }
    return i;
}

static int
s_cursor_open(sn_spool_cursor_t *self, size_t i, sn_err_t *err)
{
    sn_spool_t *sp = self->spool;
    char *path = s_seg_path(sp, sp->segs[i].first);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = sn_err_set(err, SN_EIO, "spool segment %s: cannot open: %s",
                            path, strerror(errno));
        free(path);
        return rc;
    }
    free(path);
    s_reader_close(&self->rd);
    s_reader_open(&self->rd, fd);
    self->seg_first = sp->segs[i].first;
    return SN_OK;
}

int
sn_spool_cursor_next(sn_spool_cursor_t *self, uint64_t *seq,
                     const uint8_t **data, size_t *len, sn_err_t *err)
{
    sn_spool_t *sp = self->spool;
    if (self->pos < sp->segs[0].first) {
        s_reader_close(&self->rd);
        self->pos = sp->segs[0].first;
    }
    while (self->pos <= sp->flushed_seq) {
        size_t want = s_seg_for(sp, self->pos);
        if (self->rd.fd < 0 || self->seg_first != sp->segs[want].first) {
            int rc = s_cursor_open(self, want, err);
            if (rc != SN_OK) {
                return rc;
            }
        }
        uint64_t s, bad;
        int rc = s_reader_frame(&self->rd, &s, data, len, &bad);
        if (rc != SN_OK) {
            return sn_err_set(err, rc == SN_ENODATA ? SN_ECORRUPT : rc,
                              "spool %s: record %" PRIu64 " missing or bad "
                              "at offset %" PRIu64 " of segment %" PRIu64,
                              sp->dir, self->pos, bad, self->seg_first);
        }
        if (s == self->pos) {
            *seq = s;
            self->pos++;
            return SN_OK;
        }
        if (s > self->pos) {
            return sn_err_set(err, SN_ECORRUPT,
                              "spool %s: expected record %" PRIu64
                              ", found %" PRIu64,
                              sp->dir, self->pos, s);
        }
    }
    return SN_ENODATA;
}

uint64_t
sn_spool_cursor_pos(const sn_spool_cursor_t *self)
{
    return self->pos;
}
