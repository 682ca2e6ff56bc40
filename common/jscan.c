/*  common/jscan.c - one JSON object checked in place, without a tree
 *
 *  jsmn finds the tokens (strings, primitives, brackets) and matches the
 *  brackets; it is lenient about the rest, so this file walks its tokens
 *  once and checks every byte between them (only whitespace, and exactly
 *  one ':' or ',' where JSON wants it), every string (strict UTF-8 as
 *  jansson checks it, escapes, surrogate pairs, no control characters),
 *  every primitive (JSON numbers, integers within int64, reals that do not
 *  overflow, the three literals), the nesting depth and duplicate keys.
 *  The aim is the same accept/reject answer as jansson's json_loadb() with
 *  JSON_REJECT_DUPLICATES, which the event parser's differential test
 *  checks on thousands of mutated lines.
 */
#include "jscan.h"

#include "sentinel/mem.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#define INLINE_TOKENS 64 /* a flat event needs about 25 */
#define INLINE_DEPTH 32  /* nesting held on the stack */

/* One open container during the walk. */
typedef struct s_open {
    int tok;         /* its token index */
    int items;       /* members or elements seen so far */
    bool want_value; /* object: a key was read, its value is next */
} s_open_t;

/* The walk over jsmn's tokens. */
typedef struct s_walk {
    const char *text; /* the document */
    size_t len;       /* its length */
    jsmntok_t *tok;   /* the tokens */
    int ntok;         /* how many */
    size_t cursor;    /* first byte not yet checked */
    s_open_t *open;   /* stack of open containers */
    int depth;        /* how many are open */
    int open_cap;     /* capacity of `open` */
    s_open_t *heap;   /* `open` when it outgrew the inline array */
    int *keys;        /* (object, key token, escaped) triples */
    int nkeys;        /* triples in `keys` */
    sn_jscan_t *out;  /* where top-level members go */
    size_t out_cap;   /* capacity of out->m */
} s_walk_t;

/* ------------------------------------------------------------- strings */

/* Length of the UTF-8 sequence led by `u`, or 0 (jansson's
 * utf8_check_first: no continuation bytes, no C0/C1, nothing past F4). */
static int
s_utf8_width(unsigned char u)
{
    if (u < 0x80) {
        return 1;
    }
    if (u < 0xC2) {
        return 0;
    }
    if (u < 0xE0) {
        return 2;
    }
    if (u < 0xF0) {
        return 3;
    }
    return u < 0xF5 ? 4 : 0;
}

/* Check one multi-byte sequence of `w` bytes at p (inside the token):
 * continuation bytes, no overlong forms, no surrogates, <= U+10FFFF. */
static bool
s_utf8_ok(const unsigned char *p, int w)
{
    uint32_t v = p[0] & (w == 2 ? 0x1F : w == 3 ? 0x0F : 0x07);
    for (int i = 1; i < w; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return false;
        }
        v = (v << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    return v >= min[w] && v <= 0x10FFFF && (v < 0xD800 || v > 0xDFFF);
}

static int
s_hex(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Read \uXXXX at p (p[0] is the backslash); -1 when it is not one. */
static int32_t
s_u_escape(const char *p, const char *end)
{
    if (end - p < 6 || p[0] != '\\' || p[1] != 'u') {
        return -1;
    }
    int32_t v = 0;
    for (int i = 2; i < 6; i++) {
        int h = s_hex(p[i]);
        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

/* Check the escape at p (a backslash); @return its length in the text,
 * 0 when invalid. A \u high surrogate must pair with a low one, and a low
 * one must not stand alone. *nul is set for \u0000. */
static int
s_check_escape(const char *p, const char *end, bool *nul)
{
    if (end - p < 2) {
        return 0;
    }
    if (strchr("\"\\/bfnrt", p[1]) != NULL && p[1] != '\0') {
        return 2;
    }
    int32_t v = s_u_escape(p, end);
    if (v < 0 || (v >= 0xDC00 && v <= 0xDFFF)) {
        return 0;
    }
    if (v >= 0xD800 && v <= 0xDBFF) {
        int32_t lo = s_u_escape(p + 6, end);
        return lo >= 0xDC00 && lo <= 0xDFFF ? 12 : 0;
    }
    *nul = *nul || v == 0;
    return 6;
}

/* Check the bytes of a string token; note escapes and escaped NULs. */
static bool
s_check_string(const char *s, size_t len, bool *escaped, bool *nul)
{
    const char *end = s + len;
    *escaped = false;
    *nul = false;
    while (s < end) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            s++;
            continue;
        }
        int w = 0;
        if (c == '\\') {
            *escaped = true;
            w = s_check_escape(s, end, nul);
        } else if (c >= 0x80) {
            w = s_utf8_width(c);
            w = (w > 1 && end - s >= w &&
                 s_utf8_ok((const unsigned char *)s, w))
                    ? w
                    : 0;
        }
        if (w == 0) {
            return false; /* a control character or a bad sequence */
        }
        s += w;
    }
    return true;
}

/* Append code point `v` as UTF-8 to dst (room for `room` bytes);
 * @return its length, whether or not it fitted. */
static size_t
s_put_utf8(uint32_t v, char *dst, size_t room)
{
    char b[4];
    size_t n;
    if (v < 0x80) {
        b[0] = (char)v;
        n = 1;
    } else if (v < 0x800) {
        b[0] = (char)(0xC0 | (v >> 6));
        b[1] = (char)(0x80 | (v & 0x3F));
        n = 2;
    } else if (v < 0x10000) {
        b[0] = (char)(0xE0 | (v >> 12));
        b[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        b[2] = (char)(0x80 | (v & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (v >> 18));
        b[1] = (char)(0x80 | ((v >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((v >> 6) & 0x3F));
        b[3] = (char)(0x80 | (v & 0x3F));
        n = 4;
    }
    memcpy(dst, b, n < room ? n : room);
    return n;
}

/* Decode the escape at p into dst; *used gets its length in the text. */
static size_t
s_unescape(const char *p, const char *end, char *dst, size_t room, size_t *used)
{
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    const char *hit = strchr(from, p[1]);
    if (p[1] != 'u' && hit != NULL) {
        *used = 2;
        if (room > 0) {
            *dst = to[hit - from];
        }
        return 1;
    }
    uint32_t v = (uint32_t)s_u_escape(p, end);
    *used = 6;
    if (v >= 0xD800 && v <= 0xDBFF) {
        uint32_t lo = (uint32_t)s_u_escape(p + 6, end);
        v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
        *used = 12;
    }
    return s_put_utf8(v, dst, room);
}

size_t
sn_jscan_string(const char *text, const sn_jscan_span_t *span, char *dst,
                size_t size)
{
    const char *s = text + span->off;
    const char *end = s + span->len;
    size_t n = 0;
    if (!span->escaped) {
        size_t put = span->len < size ? span->len : size - 1;
        memcpy(dst, s, put);
        dst[put] = '\0';
        return span->len;
    }
    while (s < end) {
        size_t room = n < size - 1 ? size - 1 - n : 0;
        if (*s != '\\') {
            if (room > 0) {
                dst[n] = *s;
            }
            n++;
            s++;
            continue;
        }
        size_t used = 0;
        n += s_unescape(s, end, dst + (size - 1 - room), room, &used);
        s += used;
    }
    dst[n < size - 1 ? n : size - 1] = '\0';
    return n;
}

/* ------------------------------------------------------------- numbers */

/* Read the digits of an integer (sign first) into *out; false on int64
 * overflow, which jansson refuses ("too big integer"). */
static bool
s_int64(const char *s, const char *end, int64_t *out)
{
    bool neg = *s == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (s += neg; s < end; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (limit - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* A real overflows to infinity: jansson refuses it ("real number
 * overflow"). strtod reads the locale's decimal point, as jansson's own
 * conversion arranges, so the '.' is swapped for it on a copy. */
static bool
s_real_fits(const char *s, size_t len)
{
    char local[64];
    char *buf = len < sizeof local ? local : sn_malloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *dot = memchr(buf, '.', len);
    const char *point = localeconv()->decimal_point;
    if (dot != NULL && point != NULL && point[0] != '\0' && point[1] == '\0') {
        *dot = point[0];
    }
    errno = 0;
    double v = strtod(buf, NULL);
    bool ok = !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL));
    if (buf != local) {
        free(buf);
    }
    return ok;
}

static const char *
s_digits(const char *s, const char *end)
{
    while (s < end && *s >= '0' && *s <= '9') {
        s++;
    }
    return s;
}

/* Check a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool
s_check_number(const char *s, size_t len, sn_jscan_member_t *m)
{
    const char *end = s + len;
    const char *p = s + (*s == '-');
    const char *q = s_digits(p, end);
    if (q == p || (*p == '0' && q - p > 1)) {
        return false;
    }
    if (q == end) {
        m->kind = SN_JSCAN_INTEGER;
        return s_int64(s, end, &m->ival);
    }
    if (*q == '.') {
        p = q + 1;
        q = s_digits(p, end);
        if (q == p) {
            return false;
        }
    }
    if (q < end && (*q == 'e' || *q == 'E')) {
        p = q + 1 + (q + 1 < end && (q[1] == '+' || q[1] == '-'));
        q = s_digits(p, end);
        if (q == p) {
            return false;
        }
    }
    m->kind = SN_JSCAN_REAL;
    return q == end && s_real_fits(s, len);
}

/* Check a primitive token and classify it into m->kind. */
static bool
s_check_primitive(const char *s, size_t len, sn_jscan_member_t *m)
{
    switch (s[0]) {
    case 't':
        m->kind = SN_JSCAN_TRUE;
        return len == 4 && memcmp(s, "true", 4) == 0;
    case 'f':
        m->kind = SN_JSCAN_FALSE;
        return len == 5 && memcmp(s, "false", 5) == 0;
    case 'n':
        m->kind = SN_JSCAN_NULL;
        return len == 4 && memcmp(s, "null", 4) == 0;
    default:
        return s_check_number(s, len, m);
    }
}

/* ---------------------------------------------------------------- walk */

/* Check that text[from, to) is whitespace around at most one `sep` (which
 * must be there when `need`); sep 0 allows none. */
static bool
s_gap(const char *text, size_t from, size_t to, char sep, bool need)
{
    bool seen = false;
    for (size_t i = from; i < to; i++) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            continue;
        }
        if (c != sep || sep == 0 || seen) {
            return false;
        }
        seen = true;
    }
    return seen == need;
}

/* Close the innermost open container: only whitespace before its closing
 * bracket, and no key left without a value. */
static bool
s_close(s_walk_t *w)
{
    const s_open_t *o = &w->open[w->depth - 1];
    size_t end = (size_t)w->tok[o->tok].end;
    if (o->want_value || !s_gap(w->text, w->cursor, end - 1, 0, false)) {
        return false;
    }
    w->cursor = end;
    w->depth--;
    return true;
}

static bool
s_push(s_walk_t *w, int tok)
{
    if (w->depth == w->open_cap) {
        /* Deep nesting is rare and refused anyway; grow on the heap. */
        w->open_cap = SN_JSCAN_MAX_DEPTH + 1;
        w->heap = sn_malloc((size_t)w->open_cap * sizeof *w->heap);
        memcpy(w->heap, w->open, (size_t)w->depth * sizeof *w->heap);
        w->open = w->heap;
    }
    w->open[w->depth++] = (s_open_t){tok, 0, false};
    return true;
}

/* Record a member of the top object (its value fills in next). */
static void
s_add_member(s_walk_t *w, const jsmntok_t *key, bool escaped)
{
    sn_jscan_t *out = w->out;
    if (out->n == w->out_cap) {
        size_t cap = w->out_cap * 4;
        sn_jscan_member_t *m = sn_malloc(cap * sizeof *m);
        memcpy(m, out->m, out->n * sizeof *m);
        if (out->m != out->inline_m) {
            free(out->m);
        }
        out->m = m;
        w->out_cap = cap;
    }
    sn_jscan_member_t *m = &out->m[out->n++];
    m->key = (sn_jscan_span_t){(uint32_t)key->start,
                               (uint32_t)(key->end - key->start), escaped};
}

/* Note key token i of the innermost object for the duplicate check, and
 * as a member when that object is the top one. */
static void
s_add_key(s_walk_t *w, int i, bool escaped, bool top)
{
    int *k = &w->keys[3 * w->nkeys++];
    k[0] = w->open[w->depth - 1].tok;
    k[1] = i;
    k[2] = escaped;
    if (top) {
        s_add_member(w, &w->tok[i], escaped);
    }
}

/* Check the separator before token i and what the token must be there. */
static bool
s_place(s_walk_t *w, int i, size_t open_at)
{
    s_open_t *o = &w->open[w->depth - 1];
    const jsmntok_t *t = &w->tok[i];
    bool is_obj = w->tok[o->tok].type == JSMN_OBJECT;
    if (is_obj && o->want_value) {
        o->want_value = false;
        return s_gap(w->text, w->cursor, open_at, ':', true);
    }
    if (!s_gap(w->text, w->cursor, open_at, ',', o->items > 0)) {
        return false;
    }
    o->items++;
    if (is_obj) {
        o->want_value = true;
        return t->type == JSMN_STRING;
    }
    return true;
}

/* Check token i itself; members of the top object are recorded. */
static bool
s_visit(s_walk_t *w, int i)
{
    const jsmntok_t *t = &w->tok[i];
    bool is_key = w->tok[w->open[w->depth - 1].tok].type == JSMN_OBJECT &&
                  w->open[w->depth - 1].want_value;
    bool top = w->depth == 1;
    sn_jscan_member_t scratch;
    sn_jscan_member_t *m =
        top && !is_key ? &w->out->m[w->out->n - 1] : &scratch;
    const char *s = w->text + t->start;
    size_t len = (size_t)(t->end - t->start);
    if (w->depth + 1 > SN_JSCAN_MAX_DEPTH) {
        return false; /* jansson: "maximum parsing depth reached" */
    }
    m->val = (sn_jscan_span_t){(uint32_t)t->start, (uint32_t)len, false};
    switch (t->type) {
    case JSMN_STRING: {
        bool nul = false;
        m->kind = SN_JSCAN_STRING;
        w->cursor = (size_t)t->end + 1;
        if (!s_check_string(s, len, &m->val.escaped, &nul)) {
            return false;
        }
        if (is_key) {
            s_add_key(w, i, m->val.escaped, top);
        }
        return !nul; /* jansson refuses \u0000 without JSON_ALLOW_NUL */
    }
    case JSMN_PRIMITIVE:
        w->cursor = (size_t)t->end;
        return s_check_primitive(s, len, m);
    default:
        m->kind = t->type == JSMN_OBJECT ? SN_JSCAN_OBJECT : SN_JSCAN_ARRAY;
        w->cursor = (size_t)t->start + 1;
        return s_push(w, i);
    }
}

/* @return true when key tokens a and b (with their escape flags) decode
 * to the same bytes. */
static bool
s_same_key(const char *text, const jsmntok_t *a, bool ea, const jsmntok_t *b,
           bool eb)
{
    size_t la = (size_t)(a->end - a->start);
    size_t lb = (size_t)(b->end - b->start);
    if (!ea && !eb) {
        /* Most pairs differ in length or first byte: no call for those. */
        return la == lb && (la == 0 || text[a->start] == text[b->start]) &&
               memcmp(text + a->start, text + b->start, la) == 0;
    }
    /* Escaped keys are rare: decode both (never longer than the text). */
    char *da = sn_malloc(la + 1);
    char *db = sn_malloc(lb + 1);
    sn_jscan_span_t sa = {(uint32_t)a->start, (uint32_t)la, ea};
    sn_jscan_span_t sb = {(uint32_t)b->start, (uint32_t)lb, eb};
    size_t na = sn_jscan_string(text, &sa, da, la + 1);
    size_t nb = sn_jscan_string(text, &sb, db, lb + 1);
    bool same = na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return same;
}

/* jansson refuses a key seen twice in one object, at any depth. Keys are
 * (object, key token, escaped) triples; a flat event has about a dozen. */
static bool
s_no_duplicates(const s_walk_t *w)
{
    const int *k = w->keys;
    for (int i = 1; i < w->nkeys; i++) {
        for (int j = 0; j < i; j++) {
            if (k[3 * i] == k[3 * j] &&
                s_same_key(w->text, &w->tok[k[3 * i + 1]], k[3 * i + 2],
                           &w->tok[k[3 * j + 1]], k[3 * j + 2])) {
                return false;
            }
        }
    }
    return true;
}

/* Walk the tokens in order, closing containers as tokens leave them. */
static bool
s_walk(s_walk_t *w)
{
    const jsmntok_t *root = &w->tok[0];
    if (w->ntok < 1 || root->type != JSMN_OBJECT ||
        !s_gap(w->text, 0, (size_t)root->start, 0, false)) {
        return false;
    }
    w->cursor = (size_t)root->start + 1;
    s_push(w, 0);
    for (int i = 1; i < w->ntok; i++) {
        const jsmntok_t *t = &w->tok[i];
        size_t open_at = (size_t)t->start - (t->type == JSMN_STRING);
        while (w->depth > 0 &&
               (size_t)w->tok[w->open[w->depth - 1].tok].end <= open_at) {
            if (!s_close(w)) {
                return false;
            }
        }
        if (w->depth == 0 || !s_place(w, i, open_at) || !s_visit(w, i)) {
            return false;
        }
    }
    while (w->depth > 0) {
        if (!s_close(w)) {
            return false;
        }
    }
    return s_gap(w->text, w->cursor, w->len, 0, false) && s_no_duplicates(w);
}

/* ----------------------------------------------------------------- API */

/* Tokenize into `tok` of `cap`; @return the count or a JSMN_ERROR_*. */
static int
s_tokenize(const char *text, size_t len, jsmntok_t *tok, size_t cap)
{
    jsmn_parser p;
    jsmn_init(&p);
    return jsmn_parse(&p, text, len, tok, (unsigned)cap);
}

int
sn_jscan_parse(sn_jscan_t *self, const char *text, size_t len)
{
    jsmntok_t inline_tok[INLINE_TOKENS];
    int inline_keys[3 * INLINE_TOKENS];
    s_open_t inline_open[INLINE_DEPTH];
    self->m = self->inline_m;
    self->n = 0;
    if (len >= INT32_MAX) {
        return SN_EPARSE; /* jsmn's offsets are int */
    }
    s_walk_t w = {.text = text,
                  .len = len,
                  .tok = inline_tok,
                  .open = inline_open,
                  .open_cap = INLINE_DEPTH,
                  .keys = inline_keys,
                  .out = self,
                  .out_cap = SN_JSCAN_INLINE};
    w.ntok = s_tokenize(text, len, w.tok, INLINE_TOKENS);
    if (w.ntok == JSMN_ERROR_NOMEM) {
        /* Each token starts at its own byte, so len + 1 is enough. */
        w.tok = sn_malloc((len + 1) * sizeof *w.tok);
        w.keys = sn_malloc(3 * (len + 1) * sizeof *w.keys);
        w.ntok = s_tokenize(text, len, w.tok, len + 1);
    }
    bool ok = w.ntok > 0 && s_walk(&w);
    if (w.tok != inline_tok) {
        free(w.tok);
        free(w.keys);
    }
    free(w.heap);
    return ok ? SN_OK : SN_EPARSE;
}

void
sn_jscan_fini(sn_jscan_t *self)
{
    if (self->m != self->inline_m) {
        free(self->m);
    }
    self->m = self->inline_m;
    self->n = 0;
}
