/*  analyzer/wire.c - the analyzer's fast reader of encoded case events
 *
 *  One pass over the bytes: each field's tag selects where its value goes,
 *  strings are copied once, from the record into the event. The values are
 *  converted as protobuf-c converts them (a uint32 or int32 field keeps the
 *  low 32 bits of its varint, a bool is true when the varint is not zero,
 *  the last occurrence of a field wins) and mapped as sn_event_decode()
 *  maps them (onset_date only with has_onset_date, proto3 defaults of zero
 *  for what is absent), so the two readers agree on everything this one
 *  accepts; tests/analyzer/test_wire.c checks that on mutated records and
 *  against protobuf-c's own unpack. protobuf-c refuses a message with a
 *  tag or a length prefix longer than five bytes: this reader leaves such
 *  a message to the codec, which refuses it too.
 */
#include "wire.h"

#include <string.h>

/* The wire types of the schema's fields. */
enum {
    S_VARINT = 0, /* int32, uint32, int64, bool, enums */
    S_LEN = 2,    /* strings */
};

/* The longest varints protobuf-c reads: a tag or a length prefix takes at
 * most five bytes (it refuses the message otherwise), a value ten. */
enum {
    S_KEY_MAX = 5,    /* tags and lengths */
    S_VALUE_MAX = 10, /* field values */
};

/* The numeric fields as read, before they are mapped into the event. */
typedef struct s_nums {
    uint64_t v[14]; /* by field number; 0 when absent (proto3) */
} s_nums_t;

/* The varint at `p` of two bytes or more and at most `max`, before `end`.
 * A tenth byte may only carry bit 63: protobuf-c would see the rest (a
 * bool of them is true), so such a varint is left to it. @return the byte
 * after it, or NULL when it is cut short or too long. */
static const uint8_t *
s_varint_long(const uint8_t *p, const uint8_t *end, unsigned max, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < max && p < end; i++) {
        uint8_t b = *p++;
        if (i == 9 && b > 1) {
            return NULL;
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            *out = v;
            return p;
        }
    }
    return NULL;
}

/* The varint at `p` of at most `max` bytes (S_KEY_MAX or S_VALUE_MAX):
 * tags, lengths and small numbers take one byte, and that case stays
 * inline. @return the byte after it, or NULL. */
static inline const uint8_t *
s_varint(const uint8_t *p, const uint8_t *end, unsigned max, uint64_t *out)
{
    if (p < end && *p < 0x80) {
        *out = *p;
        return p + 1;
    }
    return s_varint_long(p, end, max, out);
}

/* The string field `num` of the event, and its size; NULL for fields
 * that are not strings. */
static char *
s_string_field(sn_event_t *ev, unsigned num, size_t *size)
{
    switch (num) {
    case 1:
        *size = sizeof ev->event_id;
        return ev->event_id;
    case 3:
        *size = sizeof ev->site_id;
        return ev->site_id;
    case 5:
        *size = sizeof ev->region;
        return ev->region;
    case 6:
        *size = sizeof ev->condition;
        return ev->condition;
    default:
        return NULL;
    }
}

/* Copy a string of `n` bytes at `src` into its field. A string that does
 * not fit or holds a NUL (protobuf-c would cut it there) is left to the
 * codec. */
static bool
s_string(char *dst, size_t size, const uint8_t *src, size_t n)
{
    if (n >= size || memchr(src, 0, n) != NULL) {
        return false;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

/* One field at `p`. @return the byte after it, or NULL on anything but
 * a field of the schema with its wire type, or bytes that do not parse. */
static const uint8_t *
s_field(const uint8_t *p, const uint8_t *end, sn_event_t *ev, s_nums_t *nums)
{
    uint64_t tag, v;
    p = s_varint(p, end, S_KEY_MAX, &tag);
    if (p == NULL || tag > UINT32_MAX) {
        return NULL;
    }
    unsigned num = (unsigned)(tag >> 3), type = (unsigned)(tag & 7);
    size_t size;
    char *str = s_string_field(ev, num, &size);
    if (str != NULL) {
        if (type != S_LEN || (p = s_varint(p, end, S_KEY_MAX, &v)) == NULL ||
            v > (uint64_t)(end - p) || !s_string(str, size, p, (size_t)v)) {
            return NULL;
        }
        return p + v;
    }
    if (num == 0 || num >= 14 || type != S_VARINT ||
        (p = s_varint(p, end, S_VALUE_MAX, &v)) == NULL) {
        return NULL;
    }
    nums->v[num] = v;
    return p;
}

/* Map the numeric fields into the event, refusing the enum values the
 * codec refuses (it gives the message). */
static bool
s_map(const s_nums_t *n, sn_event_t *ev)
{
    int32_t source = (int32_t)(uint32_t)n->v[4];
    int32_t sex = (int32_t)(uint32_t)n->v[12];
    int32_t lab = (int32_t)(uint32_t)n->v[13];
    if (source < 0 || source >= SN_SOURCE_COUNT || sex < SN_SEX_UNKNOWN ||
        sex > SN_SEX_OTHER || lab < SN_LAB_UNKNOWN || lab > SN_LAB_NEGATIVE) {
        return false;
    }
    ev->revision = (uint32_t)n->v[2];
    ev->source = (sn_source_t)source;
    ev->onset_date =
        n->v[8] != 0 ? (sn_day_t)(int32_t)(uint32_t)n->v[7] : SN_DAY_NONE;
    ev->report_time = (sn_time_t)n->v[9];
    ev->count = (uint32_t)n->v[10];
    ev->age_years = (int32_t)(uint32_t)n->v[11];
    ev->sex = (sn_sex_t)sex;
    ev->lab_confirmed = (sn_lab_t)lab;
    return true;
}

bool
ana_wire_event(const uint8_t *buf, size_t len, sn_event_t *ev)
{
    /* buf may be NULL when len is 0 */
    const uint8_t *p = buf, *end = len > 0 ? buf + len : buf;
    s_nums_t nums;
    memset(&nums, 0, sizeof nums);
    sn_event_init(ev);
    while (p < end) {
        p = s_field(p, end, ev, &nums);
        if (p == NULL) {
            return false;
        }
    }
    return s_map(&nums, ev);
}

int
ana_wire_decode(const uint8_t *buf, size_t len, sn_event_t *ev, sn_err_t *err)
{
    if (ana_wire_event(buf, len, ev)) {
        return SN_OK;
    }
    return sn_event_decode(buf, len, ev, err);
}
