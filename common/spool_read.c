/*  common/spool_read.c - reading the spool: frames and cursors
 *
 *  Recovery reads every frame of every segment once at open; the sender
 *  reads them again through a cursor to publish them, and again from the
 *  acknowledged position after a reconnect. Both go through one buffered
 *  frame reader that checks each frame's length and CRC, so a record read
 *  from a file is never handed on unchecked. The records flushed last are
 *  still in the writer's buffers (the tail, spool_int.h), which is where a
 *  sender keeping up finds them: no read, no second CRC. A cursor only
 *  ever reads flushed records.
 */
#include "spool_int.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

struct sn_spool_cursor {
    sn_spool_t *spool;    /* borrowed */
    uint64_t pos;         /* next sequence number to return */
    uint64_t seg_first;   /* first seq of the open segment */
    sn_spool_reader_t rd; /* reader over that segment */
    size_t tail_slot;     /* the tail chunk last read: its slot */
    uint64_t tail_first;  /* and its first seq */
    uint64_t tail_pos;    /* the record at tail_off in it */
    size_t tail_off;      /* offset of that record's frame */
};

/* -- framing ------------------------------------------------------------ */

uint32_t
sn_spool_get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

uint64_t
sn_spool_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* The CRC covers the sequence number and the payload, so a frame copied to
 * the wrong place or a stale frame from a reused block fails the check.
 * Frames are written with CRC-32C, which x86-64 computes in hardware
 * (SSE 4.2) in a few nanoseconds per record, where a table-driven CRC-32
 * took a few hundred on records of a few dozen bytes: every record is
 * summed when appended and again when read. Frames written before carry
 * zlib's CRC-32 and are still read (spool_int.h: SPOOL_FRAME_C). */
#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t
s_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
    }
    uint32_t c32 = (uint32_t)c;
    for (; n > 0; p++, n--) {
        c32 = _mm_crc32_u8(c32, *p);
    }
    return c32;
}
#endif

/* Bit by bit: only for machines without the instruction. */
static uint32_t
s_crc32c_sw(uint32_t crc, const uint8_t *p, size_t n)
{
    for (; n > 0; p++, n--) {
        crc ^= *p;
        for (int k = 0; k < 8; k++) {
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
    }
    return crc;
}

uint32_t
sn_spool_crc32c(const uint8_t *p, size_t n)
{
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) {
        return ~s_crc32c_hw(0xFFFFFFFFu, p, n);
    }
#endif
    return ~s_crc32c_sw(0xFFFFFFFFu, p, n);
}

uint32_t
sn_spool_crc(const uint8_t *seq8, const uint8_t *data, size_t len)
{
    uLong c = crc32(0L, seq8, 8);
    return (uint32_t)crc32_z(c, data, len);
}

char *
sn_spool_seg_path(const sn_spool_t *self, uint64_t first)
{
    char name[64];
    snprintf(name, sizeof name, SPOOL_NAME_FMT, first);
    return sn_strdup_printf("%s/%s", self->dir, name);
}

/* -- reader ------------------------------------------------------------- */

void
sn_spool_reader_open(sn_spool_reader_t *rd, int fd)
{
    rd->fd = fd;
    rd->len = 0;
    rd->pos = 0;
    rd->off = 0;
}

void
sn_spool_reader_close(sn_spool_reader_t *rd)
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
s_reader_fill(sn_spool_reader_t *rd, size_t need)
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
int
sn_spool_reader_frame(sn_spool_reader_t *rd, uint64_t *seq,
                      const uint8_t **data, size_t *len, uint64_t *bad_off)
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
    uint32_t word = sn_spool_get32(h);
    uint32_t n = word & ~SPOOL_FRAME_C;
    if (n == 0 || n > SN_SPOOL_RECORD_MAX) {
        return SN_ECORRUPT;
    }
    f = s_reader_fill(rd, SPOOL_FRAME_HDR + n);
    if (f <= 0) {
        return f < 0 ? SN_EIO : SN_ECORRUPT;
    }
    h = rd->buf + rd->pos;
    uint32_t crc = (word & SPOOL_FRAME_C)
                       ? sn_spool_crc32c(h + 8, 8 + (size_t)n)
                       : sn_spool_crc(h + 8, h + SPOOL_FRAME_HDR, n);
    if (crc != sn_spool_get32(h + 4)) {
        return SN_ECORRUPT;
    }
    *seq = sn_spool_get64(h + 8);
    *data = h + SPOOL_FRAME_HDR;
    *len = n;
    rd->pos += SPOOL_FRAME_HDR + n;
    return SN_OK;
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
    sn_spool_reader_close(&(*self_p)->rd);
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
        sn_spool_reader_close(&self->rd);
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
    char *path = sn_spool_seg_path(sp, sp->segs[i].first);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = sn_err_set(err, SN_EIO, "spool segment %s: cannot open: %s",
                            path, strerror(errno));
        free(path);
        return rc;
    }
    free(path);
    sn_spool_reader_close(&self->rd);
    sn_spool_reader_open(&self->rd, fd);
    self->seg_first = sp->segs[i].first;
    return SN_OK;
}

/* @return the kept chunk that holds record `seq`, or NULL; the one read
 * last is tried first, then the one written after it. */
static const sn_spool_chunk_t *
s_tail_find(sn_spool_cursor_t *self, uint64_t seq)
{
    const sn_spool_t *sp = self->spool;
    for (size_t k = 0; k < SPOOL_TAIL; k++) {
        size_t i = (self->tail_slot + k) % SPOOL_TAIL;
        const sn_spool_chunk_t *ch = &sp->tail[i];
        if (ch->first != 0 && seq >= ch->first && seq <= ch->last) {
            self->tail_slot = i;
            return ch;
        }
    }
    return NULL;
}

/* Read the next record from the tail when it is there. Its frame was
 * checked when it was made, in this process's memory, so no CRC is needed.
 * @return false when the record is not in the tail. */
static bool
s_tail_next(sn_spool_cursor_t *self, uint64_t *seq, const uint8_t **data,
            size_t *len)
{
    const sn_spool_chunk_t *ch = s_tail_find(self, self->pos);
    if (ch == NULL) {
        return false;
    }
    if (self->tail_first != ch->first || self->tail_pos != self->pos) {
        size_t off = 0;
        for (uint64_t s = ch->first; s < self->pos; s++) {
            off += SPOOL_FRAME_HDR +
                   (sn_spool_get32(ch->data + off) & ~SPOOL_FRAME_C);
        }
        self->tail_first = ch->first;
        self->tail_off = off;
    }
    const uint8_t *h = ch->data + self->tail_off;
    size_t n = sn_spool_get32(h) & ~SPOOL_FRAME_C;
    assert(sn_spool_get64(h + 8) == self->pos);
    *seq = self->pos;
    *data = h + SPOOL_FRAME_HDR;
    *len = n;
    self->tail_off += SPOOL_FRAME_HDR + n;
    self->tail_pos = ++self->pos;
    return true;
}

int
sn_spool_cursor_next(sn_spool_cursor_t *self, uint64_t *seq,
                     const uint8_t **data, size_t *len, sn_err_t *err)
{
    sn_spool_t *sp = self->spool;
    if (self->pos < sp->segs[0].first) {
        sn_spool_reader_close(&self->rd);
        self->pos = sp->segs[0].first;
    }
    if (self->pos <= sp->flushed_seq && s_tail_next(self, seq, data, len)) {
        return SN_OK;
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
        int rc = sn_spool_reader_frame(&self->rd, &s, data, len, &bad);
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
