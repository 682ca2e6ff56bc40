/*  common/spool_int.h - what spool.c and spool_read.c share
 *
 *  The spool's struct and on-disk framing, for the writer (spool.c: open,
 *  recovery, append, ack) and the readers (spool_read.c: the frame reader
 *  used by recovery, and cursors). Nothing here leaves common/.
 *
 *  Threading: as sentinel/spool.h.
 */
#ifndef SENTINEL_COMMON_SPOOL_INT_H
#define SENTINEL_COMMON_SPOOL_INT_H

#include "sentinel/spool.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_FRAME_HDR 16 /* u32 len, u32 crc, u64 seq */
/* Set in a frame's length word when its CRC is CRC-32C (every frame
 * written now); clear in frames written with zlib's CRC-32 before. A
 * length is at most SN_SPOOL_RECORD_MAX, so the bit is free. */
#define SPOOL_FRAME_C 0x80000000u
#define SPOOL_BUF_FLUSH (256u << 10)  /* write the buffer past this size */
#define SPOOL_READ_CHUNK (256u << 10) /* cursor read size */
#define SPOOL_TAIL 8                  /* written buffers kept for cursors */
#define SPOOL_ACKED_FILE "acked"      /* u64 seq, u32 crc */
#define SPOOL_LOCK_FILE "lock"        /* flock() held while open */
#define SPOOL_NAME_FMT "seg-%020" PRIu64 ".log"

/* One segment file. */
typedef struct sn_spool_seg {
    uint64_t first; /* sequence number of its first record */
    uint64_t bytes; /* its size on disk (buffered bytes not included) */
} sn_spool_seg_t;

/* A buffer of frames as it was written to the newest segment, kept after
 * the write so that cursors read the records just flushed from memory
 * instead of reading them back from the file (the sender follows close
 * behind the writer). Its bytes are the ones this process framed. */
typedef struct sn_spool_chunk {
    uint8_t *data;  /* the frames */
    size_t len;     /* their bytes */
    size_t cap;     /* allocated */
    uint64_t first; /* seq of the first frame; 0 while empty */
    uint64_t last;  /* seq of the last frame */
} sn_spool_chunk_t;

/* A buffered reader over one segment file, used by recovery and cursors. */
typedef struct sn_spool_reader {
    int fd;       /* the segment, or -1 */
    uint8_t *buf; /* read buffer */
    size_t cap;   /* its size */
    size_t len;   /* bytes held */
    size_t pos;   /* first unconsumed byte */
    uint64_t off; /* file offset of buf[0] */
} sn_spool_reader_t;

struct sn_spool {
    char *dir;            /* the spool directory */
    sn_spool_opts_t opts; /* options, dir borrowed from `dir` */
    int lock_fd;          /* the lock file, flock()ed */
    int acked_fd;         /* the acked file */
    int fd;               /* newest segment, open for append */
    sn_spool_seg_t *segs; /* segments, oldest first; never empty */
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
    sn_spool_chunk_t tail[SPOOL_TAIL]; /* the last buffers written */
    size_t tail_next;                  /* the slot the next write takes */
};

/** @return the little-endian u32 / u64 at p. */
uint32_t sn_spool_get32(const uint8_t *p);
uint64_t sn_spool_get64(const uint8_t *p);

/** @return zlib's CRC-32 of a frame: over its 8 sequence bytes, then the
 *  payload (frames without SPOOL_FRAME_C). */
uint32_t sn_spool_crc(const uint8_t *seq8, const uint8_t *data, size_t len);

/** @return the CRC-32C (Castagnoli) of `n` bytes: for a frame, its 8
 *  sequence bytes and the payload that follows them. */
uint32_t sn_spool_crc32c(const uint8_t *p, size_t n);

/** @return the path of the segment whose first record is `first`. Caller
 *  owns the result. */
char *sn_spool_seg_path(const sn_spool_t *self, uint64_t first);

/** Start reading the segment file `fd` (the reader owns it). */
void sn_spool_reader_open(sn_spool_reader_t *rd, int fd);

/** Close the file; the buffer is kept. */
void sn_spool_reader_close(sn_spool_reader_t *rd);

/** Read one frame. @return SN_OK; SN_ENODATA at a clean end of file;
 *  SN_ECORRUPT for a torn or bad frame (*bad_off says where); SN_EIO.
 *  *data stays valid until the next call. */
int sn_spool_reader_frame(sn_spool_reader_t *rd, uint64_t *seq,
                          const uint8_t **data, size_t *len, uint64_t *bad_off);

#endif
