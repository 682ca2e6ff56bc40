/*  common/jscan.h - one JSON object checked in place, without a tree
 *
 *  The JSON-lines feed parses one object per event, a million times a
 *  second, so sn_event_from_json() cannot afford a DOM. This module runs
 *  jsmn (a tokenizer that allocates nothing) over the text, checks what jsmn
 *  leaves to its caller so that exactly the documents jansson accepts are
 *  accepted (the separators between tokens, strict UTF-8, escapes and
 *  surrogate pairs, control characters, numbers, literals, the nesting
 *  limit, duplicate keys in any object), and lists the members of the top
 *  object as offsets into the text. String values are decoded on demand.
 *
 *  sn_jscan_t is a public struct embedded on the caller's stack (the libuv
 *  init/fini way, allowed on hot paths): a document of up to
 *  SN_JSCAN_INLINE members needs no allocation; larger ones take one.
 *
 *  Threading: reentrant; a scan belongs to its caller.
 */
#ifndef SENTINEL_COMMON_JSCAN_H
#define SENTINEL_COMMON_JSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"

#define SN_JSCAN_INLINE 32      /* top-level members held without allocation */
#define SN_JSCAN_MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

typedef enum {
    SN_JSCAN_STRING,
    SN_JSCAN_INTEGER, /* fits int64_t, as jansson requires */
    SN_JSCAN_REAL,
    SN_JSCAN_TRUE,
    SN_JSCAN_FALSE,
    SN_JSCAN_NULL,
    SN_JSCAN_OBJECT,
    SN_JSCAN_ARRAY,
} sn_jscan_kind_t;

/* A run of the text: a string's bytes between its quotes, or a value. */
typedef struct sn_jscan_span {
    uint32_t off; /* offset into the text */
    uint32_t len; /* bytes, still escaped for strings */
    bool escaped; /* a string that holds a backslash */
} sn_jscan_span_t;

/* One member of the top-level object, in document order. */
typedef struct sn_jscan_member {
    sn_jscan_span_t key;  /* the key's text */
    sn_jscan_span_t val;  /* the value's text */
    sn_jscan_kind_t kind; /* what the value is */
    int64_t ival;         /* the value when kind is SN_JSCAN_INTEGER */
} sn_jscan_member_t;

/* The members of one scanned object. Fields are read-only for callers. */
typedef struct sn_jscan {
    sn_jscan_member_t inline_m[SN_JSCAN_INLINE]; /* storage for small docs */
    sn_jscan_member_t *m; /* the members; inline_m or heap */
    size_t n;             /* how many */
} sn_jscan_t;

/** Check that `text` of `len` bytes is one JSON object, alone but for
 *  whitespace, that jansson would load with JSON_REJECT_DUPLICATES, and
 *  list its members into `self`. Call sn_jscan_fini() afterwards, whatever
 *  the result. @return SN_OK, or SN_EPARSE when the text is not such an
 *  object (no message: the caller asks jansson for its wording). */
int sn_jscan_parse(sn_jscan_t *self, const char *text, size_t len);

/** Release what sn_jscan_parse() allocated, if anything. */
void sn_jscan_fini(sn_jscan_t *self);

/** Decode the string `span` of `text` into `dst` of `size` bytes (size >=
 *  1): at most size - 1 bytes, then a NUL. The span must come from a
 *  successful scan. @return the full decoded length, which may be larger
 *  than what was written (never a NUL: the scan refuses "\u0000"). */
size_t sn_jscan_string(const char *text, const sn_jscan_span_t *span, char *dst,
                       size_t size);

#endif
