/*  analyzer/journal.c - the analyzer's append-only checkpoint journal
 *
 *  Layout: a 16-byte file header (magic "AJN1", a reserved word, the
 *  generation) and then frames of a 12-byte header (magic "AJF1", payload
 *  length, zlib CRC-32 of the payload) followed by the payload. A frame is
 *  written with one writev() and made durable with fdatasync(); on a write
 *  error the file is cut back to its last good frame, so a later append
 *  never follows garbage. At open the frames are read back in order and the
 *  first one that is short or fails its CRC ends the journal.
 */
#include "journal.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define S_FILE_MAGIC 0x314e4a41u  /* "AJN1" */
#define S_FRAME_MAGIC 0x31464a41u /* "AJF1" */
#define S_FILE_HDR 16
#define S_FRAME_HDR 12
#define S_FRAME_MAX (1u << 30) /* a frame larger than this is corrupt */

struct ana_journal {
    char *path;    /* the file */
    int fd;        /* open for writing */
    uint64_t gen;  /* generation of the snapshot it continues */
    uint64_t size; /* bytes of good frames, header included */
};

/* Write the header of generation `gen` into an empty file, durably. */
static int
s_write_header(ana_journal_t *self, uint64_t gen)
{
    uint8_t h[S_FILE_HDR] = {0};
    uint32_t magic = S_FILE_MAGIC;
    memcpy(h, &magic, 4);
    memcpy(h + 8, &gen, 8);
    if (ftruncate(self->fd, 0) != 0 ||
        pwrite(self->fd, h, sizeof h, 0) != (ssize_t)sizeof h ||
        fsync(self->fd) != 0) {
        return SN_EIO;
    }
    self->gen = gen;
    self->size = S_FILE_HDR;
    return SN_OK;
}

/* Read the frames of the open file and hand each to `fn`; leaves
 * self->size at the end of the last good frame. */
static int
s_read_frames(ana_journal_t *self, ana_journal_fn fn, void *arg)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t at = S_FILE_HDR;
    int rc = SN_OK;
    for (;;) {
        uint32_t h[3];
        if (pread(self->fd, h, sizeof h, (off_t)at) != (ssize_t)sizeof h ||
            h[0] != S_FRAME_MAGIC || h[1] > S_FRAME_MAX) {
            break;
        }
        if (h[1] > cap) {
            cap = h[1];
            buf = sn_realloc(buf, cap);
        }
        if (pread(self->fd, buf, h[1], (off_t)(at + S_FRAME_HDR)) !=
                (ssize_t)h[1] ||
            (uint32_t)crc32(0L, buf, h[1]) != h[2]) {
            break;
        }
        rc = fn != NULL ? fn(buf, h[1], arg) : SN_OK;
        if (rc != SN_OK) {
            break;
        }
        at += S_FRAME_HDR + h[1];
    }
    free(buf);
    self->size = at;
    return rc;
}

/* Replay a journal of generation `gen`, or start an empty one. */
static int
s_recover(ana_journal_t *self, uint64_t gen, ana_journal_fn fn, void *arg,
          sn_err_t *err)
{
    uint8_t h[S_FILE_HDR];
    uint32_t magic = 0;
    uint64_t file_gen = 0;
    if (pread(self->fd, h, sizeof h, 0) == (ssize_t)sizeof h) {
        memcpy(&magic, h, 4);
        memcpy(&file_gen, h + 8, 8);
    }
    if (magic != S_FILE_MAGIC || file_gen != gen) {
        return s_write_header(self, gen) == SN_OK
                   ? SN_OK
                   : sn_err_set(err, SN_EIO, "journal '%s': %s", self->path,
                                strerror(errno));
    }
    self->gen = gen;
    int rc = s_read_frames(self, fn, arg);
    if (rc != SN_OK) {
        return rc;
    }
    struct stat st;
    if (fstat(self->fd, &st) == 0 && (uint64_t)st.st_size != self->size &&
        (ftruncate(self->fd, (off_t)self->size) != 0 || fsync(self->fd) != 0)) {
        return sn_err_set(err, SN_EIO,
                          "journal '%s': cannot cut the torn "
                          "tail: %s",
                          self->path, strerror(errno));
    }
    return SN_OK;
}

int
ana_journal_open(const char *path, uint64_t gen, ana_journal_fn fn, void *arg,
                 ana_journal_t **out, sn_err_t *err)
{
    ana_journal_t *self = sn_calloc(1, sizeof *self);
    self->path = sn_strdup(path);
    self->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->fd < 0) {
        int rc =
            sn_err_set(err, SN_EIO, "journal '%s': %s", path, strerror(errno));
        ana_journal_destroy(&self);
        return rc;
    }
    int rc = s_recover(self, gen, fn, arg, err);
    if (rc != SN_OK) {
        ana_journal_destroy(&self);
        return rc;
    }
    *out = self;
    return SN_OK;
}

void
ana_journal_destroy(ana_journal_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_journal_t *self = *self_p;
    if (self->fd >= 0) {
        close(self->fd);
    }
    free(self->path);
    free(self);
    *self_p = NULL;
}

int
ana_journal_append(ana_journal_t *self, const void *a, size_t alen,
                   const void *b, size_t blen, sn_err_t *err)
{
    struct iovec iov[2] = {{(void *)a, alen}, {(void *)b, blen}};
    return ana_journal_appendv(self, iov, 2, true, err);
}

int
ana_journal_appendv(ana_journal_t *self, const struct iovec *parts, int n,
                    bool sync, sn_err_t *err)
{
    struct iovec iov[ANA_JOURNAL_MAX_PARTS + 1];
    assert(n >= 1 && n <= ANA_JOURNAL_MAX_PARTS);
    size_t len = 0;
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    for (int i = 0; i < n; i++) {
        len += parts[i].iov_len;
        crc = (uint32_t)crc32(crc, parts[i].iov_base, (uInt)parts[i].iov_len);
        iov[i + 1] = parts[i];
    }
    if (len > S_FRAME_MAX) {
        return sn_err_set(err, SN_EIO,
                          "journal '%s': a frame of %zu bytes "
                          "is too large",
                          self->path, len);
    }
    uint32_t h[3] = {S_FRAME_MAGIC, (uint32_t)len, crc};
    iov[0] = (struct iovec){h, sizeof h};
    ssize_t want = (ssize_t)(sizeof h + len);
    if (pwritev(self->fd, iov, n + 1, (off_t)self->size) != want ||
        (sync && fdatasync(self->fd) != 0)) {
        int e = errno;
        if (ftruncate(self->fd, (off_t)self->size) != 0) {
            e = errno;
        }
        return sn_err_set(err, SN_EIO, "journal '%s': cannot append: %s",
                          self->path, strerror(e));
    }
    self->size += (uint64_t)want;
    return SN_OK;
}

int
ana_journal_reset(ana_journal_t *self, uint64_t gen, sn_err_t *err)
{
    if (s_write_header(self, gen) != SN_OK) {
        return sn_err_set(err, SN_EIO, "journal '%s': cannot reset: %s",
                          self->path, strerror(errno));
    }
    return SN_OK;
}

uint64_t
ana_journal_bytes(const ana_journal_t *self)
{
    return self->size;
}

uint64_t
ana_journal_gen(const ana_journal_t *self)
{
    return self->gen;
}
