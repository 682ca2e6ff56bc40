/*  collectors/mllp.c - MLLP framing and HL7 acknowledgements
 *
 *  The deframer keeps what TCP delivered in one buffer and looks for
 *  <VT> … <FS><CR>. It remembers how far it has scanned, so a large message
 *  arriving in many small reads is scanned once. Interface engines differ in
 *  how they end a frame: <FS> not followed by <CR> is taken as the end too.
 *
 *  The ACK echoes the message's own separators, so an engine that uses
 *  unusual ones can still read the answer, and puts the reason both in
 *  MSA-3 (cut to the 80 characters of the 2.5 ST type) and in full in ERR-8,
 *  with an HL7 table 0357 code in ERR-3.
 */
#include "mllp.h"

#include "hl7msg.h"
#include "sentinel/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_FIELD_MAX 256  /* an echoed MSH field */
#define S_REASON_MAX 400 /* reason text kept in ERR-8 */
#define S_MSA3_MAX 80    /* MSA-3 is ST(80) in HL7 2.5 */

struct col_mllp {
    uint8_t *buf;     /* received bytes */
    size_t off;       /* first byte not yet consumed */
    size_t len;       /* end of received bytes */
    size_t cap;       /* allocated size */
    size_t scan;      /* bytes after a <VT> already searched for <FS> */
    size_t max;       /* longest message */
    bool dropping;    /* skipping the rest of an oversize frame */
    uint64_t garbage; /* bytes skipped outside frames */
};

col_mllp_t *
col_mllp_new(size_t max_message)
{
    col_mllp_t *self = sn_calloc(1, sizeof *self);
    self->max = max_message ? max_message : COL_MLLP_MAX_DEFAULT;
    return self;
}

void
col_mllp_destroy(col_mllp_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

void
col_mllp_push(col_mllp_t *self, const void *data, size_t len)
{
    if (len == 0) {
        return; /* nothing to copy; buf may still be NULL */
    }
    if (self->off > 0) {
        memmove(self->buf, self->buf + self->off, self->len - self->off);
        self->len -= self->off;
        self->off = 0;
    }
    if (self->len + len > self->cap) {
        size_t cap = self->cap ? self->cap : 4096;
        while (cap < self->len + len) {
            cap *= 2;
        }
        self->buf = sn_realloc(self->buf, cap);
        self->cap = cap;
    }
    memcpy(self->buf + self->len, data, len);
    self->len += len;
}

/* Skip to the end of an oversize frame: its <FS>, or a <VT> that starts
 * the next frame (left in place for s_find_start()). Stopping at a <VT> too
 * makes the result independent of how TCP cut the stream: a runaway frame
 * arriving whole is cut at the same <VT>. @return true when found. */
static bool
s_drop(col_mllp_t *self)
{
    for (size_t i = self->off; i < self->len; i++) {
        if (self->buf[i] == COL_MLLP_VT) {
            self->off = i;
            self->dropping = false;
            return true;
        }
        if (self->buf[i] == COL_MLLP_FS) {
            self->off = i + 1;
            if (self->off < self->len && self->buf[self->off] == COL_MLLP_CR) {
                self->off++;
            }
            self->dropping = false;
            return true;
        }
    }
    self->off = self->len;
    return false;
}

/* Move off to the next <VT>, counting what lies before it as garbage. */
static bool
s_find_start(col_mllp_t *self)
{
    uint8_t *p = self->buf + self->off;
    size_t n = self->len - self->off;
    uint8_t *vt = memchr(p, COL_MLLP_VT, n);
    size_t skip = vt ? (size_t)(vt - p) : n;
    for (size_t i = 0; i < skip; i++) {
        /* Line ends between frames are common and harmless. */
        self->garbage += (p[i] != '\r' && p[i] != '\n');
    }
    self->off += skip;
    self->scan = 0;
    return vt != NULL;
}

int
col_mllp_next(col_mllp_t *self, const uint8_t **msg, size_t *len)
{
    for (;;) {
        if (self->off == self->len) {
            return COL_MLLP_AGAIN; /* nothing buffered (buf may be NULL) */
        }
        if (self->dropping && !s_drop(self)) {
            return COL_MLLP_AGAIN;
        }
        if (self->scan == 0 && !s_find_start(self)) {
            return COL_MLLP_AGAIN;
        }
        uint8_t *body = self->buf + self->off + 1;
        size_t have = self->len - self->off - 1;
        size_t i = self->scan;
        while (i < have && body[i] != COL_MLLP_FS && body[i] != COL_MLLP_VT) {
            i++;
        }
        if (i < have && body[i] == COL_MLLP_VT) {
            /* A new frame starts before this one ended: drop the stub. */
            self->garbage += i + 1;
            self->off += i + 1;
            self->scan = 0;
            continue;
        }
        if (i == have || (i + 1 == have && i < self->max)) {
            self->scan = i; /* <FS> not seen, or its <CR> may follow */
            if (i > self->max) {
                self->dropping = true;
                self->off = self->len;
                self->scan = 0;
                *msg = body; /* still in buf until the next push */
                *len = i;
                return COL_MLLP_OVERSIZE;
            }
            return COL_MLLP_AGAIN;
        }
        self->scan = 0;
        self->off += 1 + i + 1 + (body[i + 1] == COL_MLLP_CR ? 1 : 0);
        *msg = body;
        *len = i;
        return i > self->max ? COL_MLLP_OVERSIZE : COL_MLLP_MESSAGE;
    }
}

uint64_t
col_mllp_garbage(const col_mllp_t *self)
{
    return self->garbage;
}

uint8_t *
col_mllp_frame(const void *msg, size_t len, size_t *out_len)
{
    uint8_t *out = sn_malloc(len + 3);
    out[0] = COL_MLLP_VT;
    memcpy(out + 1, msg, len);
    out[len + 1] = COL_MLLP_FS;
    out[len + 2] = COL_MLLP_CR;
    *out_len = len + 3;
    return out;
}

/* ------------------------------------------------------------------ ACKs */

/* A growing string. */
typedef struct s_buf {
    char *p;    /* text */
    size_t n;   /* length */
    size_t cap; /* allocated */
} s_buf_t;

static void
s_put(s_buf_t *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = sn_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

/* Append `s` (at most `max` bytes of it) escaped for HL7 with the
 * separators fs and enc; line breaks become spaces. */
static void
s_put_escaped(s_buf_t *b, const char *s, size_t max, char fs, const char *enc)
{
    static const char codes[] = "SRET"; /* order of enc[] */
    for (size_t i = 0; s && s[i] && i < max; i++) {
        const char *hit = strchr(enc, s[i]);
        char c = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
        if (s[i] == fs || (hit && s[i])) {
            char e[3] = {s[i] == fs ? 'F' : codes[hit - enc], enc[2], 0};
            s_put(b, &enc[2], 1);
            s_put(b, e, 2);
        } else {
            s_put(b, &c, 1);
        }
    }
}

/* An HL7 table 0357 error condition. */
typedef struct s_cond {
    int code;         /* the table's code */
    const char *text; /* its text */
} s_cond_t;

/* Pick the table 0357 condition that best names the refusal. */
static s_cond_t
s_condition(col_ack_t code, const char *reason)
{
    static const s_cond_t seq = {100, "Segment sequence error"};
    static const s_cond_t missing = {101, "Required field missing"};
    static const s_cond_t table = {103, "Table value not found"};
    static const s_cond_t type = {200, "Unsupported message type"};
    static const s_cond_t internal = {207, "Application internal error"};
    if (code == COL_ACK_AR) {
        if (reason && strstr(reason, "not supported")) {
            return type;
        }
        return (reason && (strstr(reason, "MSH") || strstr(reason, "segment")))
                   ? seq
                   : internal;
    }
    if (reason && strstr(reason, "missing")) {
        return missing;
    }
    if (reason && (strstr(reason, "no condition rule") ||
                   strstr(reason, "not collected"))) {
        return table;
    }
    return internal;
}

/* Append field `field` of the original MSH: component `comp` unescaped
 * and escaped again, or the whole field (comp 0) as it was sent. */
static void
s_echo(s_buf_t *b, const col_hl7msg_t *m, bool ok, int field, int comp,
       const char *enc)
{
    char f[S_FIELD_MAX];
    const char *raw;
    if (ok && comp == 0) {
        size_t n = col_hl7msg_raw(m, 0, field, &raw);
        s_put(b, raw, n < S_FIELD_MAX ? n : S_FIELD_MAX);
    } else if (ok) {
        col_hl7msg_get(m, 0, field, 0, comp, f, sizeof f);
        s_put_escaped(b, f, sizeof f, col_hl7msg_fs(m), enc);
    }
}

/* MSH of the ACK: sender and receiver swapped, same version. */
static void
s_ack_msh(s_buf_t *b, const col_hl7msg_t *m, bool ok, sn_time_t now)
{
    char fs = ok ? col_hl7msg_fs(m) : '|';
    const char *enc = ok ? col_hl7msg_encoding(m) : "^~\\&";
    char sep[2] = {fs, 0};
    char t[SN_TIME_STR_MAX], f[S_FIELD_MAX];
    sn_time_format(now, t);
    s_put(b, "MSH", 3);
    s_put(b, sep, 1);
    s_put(b, enc, strlen(enc));
    static const int swap[] = {5, 6, 3, 4};
    for (int i = 0; i < 4; i++) {
        s_put(b, sep, 1);
        s_echo(b, m, ok, swap[i], 0, enc);
    }
    /* YYYYMMDDHHMMSS+0000 from YYYY-MM-DDTHH:MM:SS */
    snprintf(f, sizeof f, "%c%.4s%.2s%.2s%.2s%.2s%.2s+0000%c%cACK%c", fs, t,
             t + 5, t + 8, t + 11, t + 14, t + 17, fs, fs, enc[0]);
    s_put(b, f, strlen(f));
    s_echo(b, m, ok, 9, 2, enc);
    s_put(b, &enc[0], 1);
    s_put(b, "ACK", 3);
    s_put(b, sep, 1);
    s_put(b, "A", 1);
    s_echo(b, m, ok, 10, 0, enc);
    s_put(b, sep, 1);
    if (!ok || col_hl7msg_get(m, 0, 11, 0, 0, f, sizeof f) == 0) {
        s_put(b, "P", 1);
    } else {
        s_echo(b, m, ok, 11, 0, enc);
    }
    s_put(b, sep, 1);
    s_put(b, "2.5.1\r", 6);
}

char *
col_mllp_ack(const void *msg, size_t len, col_ack_t code, const char *reason,
             sn_time_t now, size_t *out_len)
{
    col_hl7msg_t *m = col_hl7msg_new();
    bool ok = msg && col_hl7msg_read(m, msg, len, NULL) == SN_OK;
    char fs = ok ? col_hl7msg_fs(m) : '|';
    const char *enc = ok ? col_hl7msg_encoding(m) : "^~\\&";
    char sep[2] = {fs, 0};
    s_buf_t b = {0};
    s_ack_msh(&b, m, ok, now);
    s_put(&b, "MSA", 3);
    s_put(&b, sep, 1);
    s_put(&b, col_ack_name(code), 2);
    s_put(&b, sep, 1);
    s_echo(&b, m, ok, 10, 0, enc);
    if (code != COL_ACK_AA && reason) {
        char f[64];
        s_put(&b, sep, 1);
        s_put_escaped(&b, reason, S_MSA3_MAX, fs, enc);
        s_cond_t c = s_condition(code, reason);
        snprintf(f, sizeof f, "\rERR%c%c%c%d%c", fs, fs, fs, c.code, enc[0]);
        s_put(&b, f, strlen(f));
        s_put(&b, c.text, strlen(c.text));
        snprintf(f, sizeof f, "%cHL70357%cE%c%c%c%c", enc[0], fs, fs, fs, fs,
                 fs);
        s_put(&b, f, strlen(f));
        s_put_escaped(&b, reason, S_REASON_MAX, fs, enc);
    }
    s_put(&b, "\r", 1);
    col_hl7msg_destroy(&m);
    *out_len = b.n;
    return b.p;
}

col_ack_t
col_mllp_ack_code(int code)
{
    switch (code) {
    case SN_OK:
        return COL_ACK_AA;
    case SN_EPROTO:
    case SN_EUNSUPPORTED:
    case SN_EFULL:
    case SN_EIO:
    case SN_ESYS:
        return COL_ACK_AR;
    default:
        return COL_ACK_AE;
    }
}

const char *
col_ack_name(col_ack_t code)
{
    return code == COL_ACK_AA ? "AA" : code == COL_ACK_AE ? "AE" : "AR";
}
