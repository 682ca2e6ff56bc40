/*  collectors/hl7msg.c - read one HL7 v2 message
 *
 *  The reader keeps offsets, not copies: a segment is (start, length) into
 *  the caller's text, and a field is found by counting separators when it
 *  is asked for. ADT messages are a few kilobytes, so a linear scan per
 *  field costs less than building a tree.
 */
#include "hl7msg.h"

#include "sentinel/mem.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One segment: where it lies in the text. */
typedef struct s_seg {
    size_t off; /* first byte (the segment name) */
    size_t len; /* bytes up to the terminator */
} s_seg_t;

struct col_hl7msg {
    const char *text; /* the message, borrowed */
    size_t len;       /* its length */
    char fs;          /* field separator (MSH-1) */
    char enc[5];      /* component, repetition, escape, subcomponent */
    s_seg_t *segs;    /* the segments */
    size_t n_segs;    /* their number */
    size_t cap;       /* allocated entries */
};

col_hl7msg_t *
col_hl7msg_new(void)
{
    return sn_calloc(1, sizeof(col_hl7msg_t));
}

void
col_hl7msg_destroy(col_hl7msg_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    free((*self_p)->segs);
    free(*self_p);
    *self_p = NULL;
}

static bool
s_is_sep_char(char c)
{
    return c > ' ' && c < 0x7f && !isalnum((unsigned char)c);
}

/* Take MSH-1 and MSH-2 at text[at]; check that the five characters are
 * printable punctuation and all different. */
static int
s_separators(col_hl7msg_t *self, const char *m, size_t n, sn_err_t *err)
{
    if (n < 8 || !s_is_sep_char(m[3])) {
        return sn_err_set(err, SN_EPROTO,
                          "MSH-1: no usable field separator after 'MSH'");
    }
    self->fs = m[3];
    for (int i = 0; i < 4; i++) {
        char c = m[4 + i];
        if (!s_is_sep_char(c) || c == self->fs ||
            memchr(self->enc, c, (size_t)i)) {
            return sn_err_set(err, SN_EPROTO,
                              "MSH-2: encoding characters '%.4s' are not four "
                              "different separators",
                              m + 4);
        }
        self->enc[i] = c;
    }
    self->enc[4] = '\0';
    /* HL7 2.7 adds a truncation character; accept it, then MSH-3 starts. */
    size_t after = (8 < n && s_is_sep_char(m[8]) && m[8] != self->fs) ? 9 : 8;
    if (after < n && m[after] != self->fs && m[after] != '\r' &&
        m[after] != '\n') {
        return sn_err_set(err, SN_EPROTO,
                          "MSH-2: encoding characters not followed by the "
                          "field separator '%c'",
                          self->fs);
    }
    return SN_OK;
}

static void
s_push(col_hl7msg_t *self, size_t off, size_t len)
{
    if (self->n_segs == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 32;
        self->segs = sn_reallocarray(self->segs, self->cap, sizeof *self->segs);
    }
    self->segs[self->n_segs].off = off;
    self->segs[self->n_segs].len = len;
    self->n_segs++;
}

/* A segment starts with a three-character name of capitals and digits,
 * followed by the field separator or its end. */
static int
s_check_segment(const col_hl7msg_t *self, size_t i, sn_err_t *err)
{
    const char *s = self->text + self->segs[i].off;
    size_t n = self->segs[i].len;
    bool name_ok = n >= 3;
    for (size_t k = 0; k < 3 && k < n; k++) {
        name_ok = name_ok && (isupper((unsigned char)s[k]) ||
                              isdigit((unsigned char)s[k]));
    }
    if (name_ok && (n == 3 || s[3] == self->fs)) {
        return SN_OK;
    }
    if (name_ok && s_is_sep_char(s[3])) {
        return sn_err_set(err, SN_EPROTO,
                          "segment %zu (%.3s): fields separated by '%c', not "
                          "by the field separator '%c' of MSH-1",
                          i + 1, s, s[3], self->fs);
    }
    return sn_err_set(err, SN_EPARSE, "segment %zu: '%.*s' is not a segment",
                      i + 1, (int)(n < 8 ? n : 8), s);
}

int
col_hl7msg_read(col_hl7msg_t *self, const char *text, size_t len, sn_err_t *err)
{
    self->n_segs = 0;
    size_t at = 0;
    while (at < len && isspace((unsigned char)text[at])) {
        at++;
    }
    if (len - at < 3 || memcmp(text + at, "MSH", 3) != 0) {
        return sn_err_set(err, SN_EPROTO, "no MSH segment at the start");
    }
    self->text = text;
    self->len = len;
    int rc = s_separators(self, text + at, len - at, err);
    if (rc != SN_OK) {
        return rc;
    }
    while (at < len) {
        size_t end = at;
        while (end < len && text[end] != '\r' && text[end] != '\n') {
            end++;
        }
        if (end > at) {
            s_push(self, at, end - at);
            rc = s_check_segment(self, self->n_segs - 1, err);
            if (rc != SN_OK) {
                return rc;
            }
        }
        at = end + 1;
    }
    return SN_OK;
}

size_t
col_hl7msg_segments(const col_hl7msg_t *self)
{
    return self->n_segs;
}

int
col_hl7msg_find(const col_hl7msg_t *self, const char *name, size_t nth)
{
    for (size_t i = 0; i < self->n_segs; i++) {
        if (memcmp(self->text + self->segs[i].off, name, 3) == 0 &&
            nth-- == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Narrow [*p, *end) to piece `k` (0-based) between separators `sep`.
 * @return false when there are fewer pieces. */
static bool
s_piece(const char **p, const char **end, char sep, int k)
{
    for (; k > 0; k--) {
        const char *next = memchr(*p, sep, (size_t)(*end - *p));
        if (!next) {
            return false;
        }
        *p = next + 1;
    }
    const char *stop = memchr(*p, sep, (size_t)(*end - *p));
    if (stop) {
        *end = stop;
    }
    return true;
}

/* Append the unescaped form of p[0..n) to out, at most size - 1 bytes. */
static size_t
s_unescape(const col_hl7msg_t *self, const char *p, size_t n, char *out,
           size_t size)
{
    static const char codes[] = "FSTRE";
    const char map[] = {self->fs, self->enc[0], self->enc[3], self->enc[1],
                        self->enc[2]};
    char esc = self->enc[2];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < size; i++) {
        const char *close =
            p[i] == esc && i + 2 < n ? memchr(p + i + 1, esc, n - i - 1) : NULL;
        if (!close) {
            out[o++] = p[i];
            continue;
        }
        const char *code = p + i + 1;
        size_t clen = (size_t)(close - code);
        const char *hit = clen == 1 ? strchr(codes, *code) : NULL;
        if (hit && *code) {
            out[o++] = map[hit - codes];
        } else if (clen == 3 && *code == 'X') {
            out[o++] = (char)strtol((char[]){code[1], code[2], 0}, NULL, 16);
        }
        i += clen + 1; /* other escapes (\H\, \.br\) are dropped */
    }
    out[o] = '\0';
    return o;
}

size_t
col_hl7msg_get(const col_hl7msg_t *self, int seg, int field, int rep, int comp,
               char *out, size_t size)
{
    out[0] = '\0';
    if (seg < 0 || (size_t)seg >= self->n_segs || field < 1) {
        return 0;
    }
    const char *p = self->text + self->segs[seg].off;
    const char *end = p + self->segs[seg].len;
    bool msh = memcmp(p, "MSH", 3) == 0;
    if (msh && field == 1) {
        snprintf(out, size, "%c", self->fs);
        return strlen(out);
    }
    if (msh && field == 2) {
        snprintf(out, size, "%s", self->enc);
        return strlen(out);
    }
    int piece = msh ? field - 1 : field;
    if (!s_piece(&p, &end, self->fs, piece) ||
        !s_piece(&p, &end, self->enc[1], rep) ||
        (comp > 0 && !s_piece(&p, &end, self->enc[0], comp - 1))) {
        return 0;
    }
    if (comp > 0) {
        s_piece(&p, &end, self->enc[3], 0); /* first subcomponent */
    }
    return s_unescape(self, p, (size_t)(end - p), out, size);
}

size_t
col_hl7msg_raw(const col_hl7msg_t *self, int seg, int field, const char **p)
{
    *p = "";
    if (seg < 0 || (size_t)seg >= self->n_segs || field < 3) {
        return 0;
    }
    const char *s = self->text + self->segs[seg].off;
    const char *end = s + self->segs[seg].len;
    bool msh = memcmp(s, "MSH", 3) == 0;
    if (!s_piece(&s, &end, self->fs, msh ? field - 1 : field)) {
        return 0;
    }
    *p = s;
    return (size_t)(end - s);
}

char
col_hl7msg_fs(const col_hl7msg_t *self)
{
    return self->fs;
}

const char *
col_hl7msg_encoding(const col_hl7msg_t *self)
{
    return self->enc;
}
