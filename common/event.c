/*  common/event.c - the case event: validation and the protobuf codec
 *
 *  Collectors validate every event they build from a feed before it is
 *  spooled, and the analyzer decodes every event it ingests, so both paths
 *  here run once per case report: a million times a second at full load.
 *  Encoding packs the generated sentinel.v1.CaseEvent straight into the
 *  caller's buffer; its strings point into the sn_event_t, so nothing is
 *  allocated. Decoding hands protobuf-c a small arena on the stack, so a
 *  normal event is decoded without touching the heap either.
 */
#include "sentinel/event.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"

#include "sentinel/v1/event.pb-c.h"

#include <assert.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_DAY_MS 86400000LL /* tolerance for time zones: one day */
#define EVENT_AGE_MAX 150       /* the oldest age accepted */
#define EVENT_ARENA_SIZE 1024   /* stack arena for protobuf-c's unpack */

/* GB/T 2260 province-level codes (the first two digits of a region code):
 * north 11-15, north-east 21-23, east 31-37, south-central 41-46, south-west
 * 50-54, north-west 61-65, Taiwan 71, Hong Kong and Macao 81-82. */
static const struct {
    int lo, hi; /* inclusive range of province codes */
} s_provinces[] = {{11, 15}, {21, 23}, {31, 37}, {41, 46},
                   {50, 54}, {61, 65}, {71, 71}, {81, 82}};

static const char *const s_source_names[SN_SOURCE_COUNT] = {
#define SN_SOURCE_NAME(name, value, text) [value] = text,
    SN_SOURCE_MAP(SN_SOURCE_NAME)
#undef SN_SOURCE_NAME
};

/* ---------------------------------------------------------------- basics */

void
sn_event_init(sn_event_t *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->revision = 0;
    ev->source = SN_SOURCE_UNKNOWN;
    ev->onset_date = SN_DAY_NONE;
    ev->report_time = 0;
    ev->count = 1;
    ev->age_years = SN_AGE_NONE;
    ev->sex = SN_SEX_UNKNOWN;
    ev->lab_confirmed = SN_LAB_UNKNOWN;
}

const char *
sn_source_name(sn_source_t source)
{
    if ((int)source <= SN_SOURCE_UNKNOWN || source >= SN_SOURCE_COUNT) {
        return NULL;
    }
    return s_source_names[source];
}

int
sn_source_parse(const char *name, sn_source_t *out)
{
    for (int i = SN_SOURCE_UNKNOWN + 1; name != NULL && i < SN_SOURCE_COUNT;
         i++) {
        if (strcmp(name, s_source_names[i]) == 0) {
            *out = (sn_source_t)i;
            return SN_OK;
        }
    }
    return SN_ENOTFOUND;
}

/* ------------------------------------------------------------ validation */

/* Whether p[0..18) is a resident ID number (GB 11643): 17 digits and a
 * check character (ISO 7064 MOD 11-2, 'X' for 10) with a birth date
 * YYYYMMDD at offset 6. */
static bool
s_resident_id(const char *p)
{
    static const int w[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                              3, 7, 9,  10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        sum += (p[i] - '0') * w[i];
    }
    static const char check[] = "10X98765432";
    char c = p[17] == 'x' ? 'X' : p[17];
    int year = (p[6] - '0') * 1000 + (p[7] - '0') * 100 + (p[8] - '0') * 10 +
               (p[9] - '0');
    int month = (p[10] - '0') * 10 + (p[11] - '0');
    int day = (p[12] - '0') * 10 + (p[13] - '0');
    return c == check[sum % 11] && year >= 1900 && year <= 2100 && month >= 1 &&
           month <= 12 && day >= 1 && day <= 31;
}

/* The reason for an identifier holding a personal identifier; it holds
 * SN_EVENT_PERSONAL_REASON, so the record's dead letter keeps no raw
 * bytes. */
static int
s_personal(const char *field, const char *what, sn_err_t *err)
{
    return sn_err_set(err, SN_EVALIDATE,
                      "field '%s': " SN_EVENT_PERSONAL_REASON " (%s)", field,
                      what);
}

/* Whether the digits value[i - run .. i) end a resident ID number: 18
 * digits, or 17 and an 'X' at value[i] not followed by a digit. */
static bool
s_ends_resident_id(const char *value, size_t i, size_t run)
{
    char c = value[i];
    bool x = run == 17 && (c == 'X' || c == 'x') &&
             !(value[i + 1] >= '0' && value[i + 1] <= '9');
    return (run == 18 || x) && s_resident_id(value + i - run);
}

/* Whether all of value (`len` digits) is a mobile number: 11 digits from
 * "13" to "19", with "86" before them or not. */
static bool
s_mobile(const char *value, size_t len)
{
    const char *m =
        len == 13 && value[0] == '8' && value[1] == '6' ? value + 2 : value;
    return len - (size_t)(m - value) == 11 && m[0] == '1' && m[1] >= '3';
}

/* Check one identifier field: present, NUL-terminated within its buffer of
 * `size` bytes, and made only of letters, digits and the characters in
 * `extra`. The message names the first offending byte by its offset. */
static int
s_check_ident(const char *field, const char *value, size_t size,
              const char *extra, bool personal, sn_err_t *err)
{
    size_t len = strnlen(value, size);
    if (len == 0) {
        return sn_err_set(err, SN_EVALIDATE, "field '%s': missing", field);
    }
    if (len == size) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field '%s': longer than %zu bytes", field, size - 1);
    }
    size_t run = 0; /* digits just before value[i] */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c >= '0' && c <= '9') {
            run++;
            continue;
        }
        if (personal && run >= 17 && s_ends_resident_id(value, i, run)) {
            return s_personal(field, "it holds a resident ID number", err);
        }
        run = 0;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (c != 0 && strchr(extra, c));
        if (!ok) {
            return sn_err_set(err, SN_EVALIDATE,
                              "field '%s': character 0x%02x at offset %zu "
                              "is not allowed (letters, digits and '%s')",
                              field, c, i, extra);
        }
    }
    if (personal && run >= 17 && s_ends_resident_id(value, len, run)) {
        return s_personal(field, "it holds a resident ID number", err);
    }
    if (personal && run == len && s_mobile(value, len)) {
        return s_personal(field, "it is a mobile phone number", err);
    }
    return SN_OK;
}

/* The region must be a GB/T 2260 code: six digits whose first two name a
 * province. */
static int
s_check_region(const char *region, sn_err_t *err)
{
    size_t len = strnlen(region, SN_REGION_MAX + 1);
    if (len == 0) {
        return sn_err_set(err, SN_EVALIDATE, "field 'region': missing");
    }
    bool digits = (len == 6);
    for (size_t i = 0; digits && i < len; i++) {
        digits = region[i] >= '0' && region[i] <= '9';
    }
    if (!digits) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'region': '%.*s' is not 6 digits (GB/T 2260)",
                          (int)len, region);
    }
    int province = (region[0] - '0') * 10 + (region[1] - '0');
    for (size_t i = 0; i < sizeof s_provinces / sizeof s_provinces[0]; i++) {
        if (province >= s_provinces[i].lo && province <= s_provinces[i].hi) {
            return SN_OK;
        }
    }
    return sn_err_set(err, SN_EVALIDATE,
                      "field 'region': '%s' has no province %02d (GB/T 2260)",
                      region, province);
}

/* Dates: not before 1900, not after tomorrow (time zones), onset no later
 * than the day after the report (the report time is UTC, the onset date is
 * the site's local date). */
static int
s_check_dates(const sn_event_t *ev, sn_time_t now, sn_err_t *err)
{
    char a[SN_TIME_STR_MAX];
    char b[SN_TIME_STR_MAX];
    sn_time_t latest = now + EVENT_DAY_MS;
    if (ev->report_time == 0) {
        return sn_err_set(err, SN_EVALIDATE, "field 'report_time': missing");
    }
    if (ev->report_time < 0) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'report_time': %s is before 1970",
                          sn_time_format(ev->report_time, a));
    }
    if (ev->report_time > latest) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'report_time': %s is in the future",
                          sn_time_format(ev->report_time, a));
    }
    if (ev->onset_date == SN_DAY_NONE) {
        return SN_OK;
    }
    if (ev->onset_date < sn_day_from_ymd(1900, 1, 1)) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'onset_date': %s is before 1900",
                          sn_day_format(ev->onset_date, a));
    }
    if (ev->onset_date > sn_time_day(latest)) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'onset_date': %s is in the future",
                          sn_day_format(ev->onset_date, a));
    }
    if (ev->onset_date > sn_time_day(ev->report_time + EVENT_DAY_MS)) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'onset_date': %s is after report_time %s",
                          sn_day_format(ev->onset_date, a),
                          sn_time_format(ev->report_time, b));
    }
    return SN_OK;
}

/* Count, age and the enumerations. */
static int
s_check_numbers(const sn_event_t *ev, sn_err_t *err)
{
    if (ev->count == 0) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'count': must be at least 1");
    }
    if (ev->count > SN_EVENT_MAX_COUNT) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'count': %u is more than %d", ev->count,
                          SN_EVENT_MAX_COUNT);
    }
    if (ev->age_years != SN_AGE_NONE &&
        (ev->age_years < 0 || ev->age_years > EVENT_AGE_MAX)) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'age_years': %d is outside 0..%d",
                          (int)ev->age_years, EVENT_AGE_MAX);
    }
    if ((int)ev->sex < SN_SEX_UNKNOWN || ev->sex > SN_SEX_OTHER) {
        return sn_err_set(err, SN_EVALIDATE, "field 'sex': unknown value %d",
                          (int)ev->sex);
    }
    if ((int)ev->lab_confirmed < SN_LAB_UNKNOWN ||
        ev->lab_confirmed > SN_LAB_NEGATIVE) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field 'lab_confirmed': unknown value %d",
                          (int)ev->lab_confirmed);
    }
    return SN_OK;
}

int
sn_event_prefecture_key(const uint8_t *data, size_t len, char *key, size_t size,
                        void *arg)
{
    (void)arg;
    sn_event_t ev;
    int rc = sn_event_decode(data, len, &ev, NULL);
    if (rc == SN_OK) {
        snprintf(key, size, "%.4s", ev.region);
    }
    return rc;
}

bool
sn_event_err_personal(const sn_err_t *err)
{
    return err != NULL && strstr(err->msg, SN_EVENT_PERSONAL_REASON) != NULL;
}

int
sn_event_validate(const sn_event_t *ev, sn_time_t now, sn_err_t *err)
{
    int rc = s_check_ident("event_id", ev->event_id, sizeof ev->event_id,
                           "-_.:/", true, err);
    if (rc == SN_OK) {
        rc = s_check_ident("site_id", ev->site_id, sizeof ev->site_id, "-_.",
                           true, err);
    }
    if (rc == SN_OK && sn_source_name(ev->source) == NULL) {
        rc = sn_err_set(err, SN_EVALIDATE,
                        ev->source == SN_SOURCE_UNKNOWN
                            ? "field 'source': missing"
                            : "field 'source': unknown value %d",
                        (int)ev->source);
    }
    if (rc == SN_OK) {
        rc = s_check_region(ev->region, err);
    }
    if (rc == SN_OK) {
        rc = s_check_ident("condition", ev->condition, sizeof ev->condition,
                           "-_.", false, err);
    }
    if (rc == SN_OK) {
        rc = s_check_dates(ev, now, err);
    }
    if (rc == SN_OK) {
        rc = s_check_numbers(ev, err);
    }
    return rc;
}

/* ---------------------------------------------------------------- encode */

/* The encoding is written by hand, byte for byte what protobuf-c's
 * sentinel__v1__case_event__pack() writes (fields in number order, proto3
 * zero values left out, negative int32 as ten-byte varints), without its
 * walk over the descriptor: the collector encodes every event it spools.
 * tests/common/test_event.c compares the two on varied events. */

/* Wire tags: field number << 3 | wire type (0 varint, 2 length-delimited). */
enum {
    T_EVENT_ID = 1 << 3 | 2,
    T_REVISION = 2 << 3,
    T_SITE_ID = 3 << 3 | 2,
    T_SOURCE = 4 << 3,
    T_REGION = 5 << 3 | 2,
    T_CONDITION = 6 << 3 | 2,
    T_ONSET_DATE = 7 << 3,
    T_HAS_ONSET = 8 << 3,
    T_REPORT_TIME = 9 << 3,
    T_COUNT = 10 << 3,
    T_AGE_YEARS = 11 << 3,
    T_SEX = 12 << 3,
    T_LAB = 13 << 3,
};

/* The scalar fields, in number order, as the varints protobuf-c writes:
 * int32 and enums are sign-extended to 64 bits. */
static size_t
s_scalars(const sn_event_t *ev, uint8_t tags[9], uint64_t vals[9])
{
    bool has_onset = ev->onset_date != SN_DAY_NONE;
    const struct {
        uint8_t tag;
        uint64_t v;
    } f[] = {
        {T_REVISION, ev->revision},
        {T_SOURCE, (uint64_t)(int64_t)(int32_t)ev->source},
        {T_ONSET_DATE, has_onset ? (uint64_t)(int64_t)ev->onset_date : 0},
        {T_HAS_ONSET, has_onset},
        {T_REPORT_TIME, (uint64_t)ev->report_time},
        {T_COUNT, ev->count},
        {T_AGE_YEARS, (uint64_t)(int64_t)ev->age_years},
        {T_SEX, (uint64_t)(int64_t)(int32_t)ev->sex},
        {T_LAB, (uint64_t)(int64_t)(int32_t)ev->lab_confirmed},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (f[i].v != 0) {
            tags[n] = f[i].tag;
            vals[n++] = f[i].v;
        }
    }
    return n;
}

static size_t
s_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *
s_put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* A string field; empty strings are left out. The fixed-size fields are
 * shorter than 128 bytes, so the length is one byte (s_str_lens() counts
 * it so too). */
static_assert(SN_EVENT_ID_MAX < 128 && SN_SITE_ID_MAX < 128 &&
                  SN_REGION_MAX < 128 && SN_CONDITION_MAX < 128,
              "s_put_str() writes a string's length in one byte");
static uint8_t *
s_put_str(uint8_t *p, uint8_t tag, const char *s, size_t len)
{
    if (len == 0) {
        return p;
    }
    *p++ = tag;
    *p++ = (uint8_t)len;
    memcpy(p, s, len);
    return p + len;
}

/* The lengths of the four strings, in field order. */
static size_t
s_str_lens(const sn_event_t *ev, size_t len[4])
{
    len[0] = strnlen(ev->event_id, sizeof ev->event_id);
    len[1] = strnlen(ev->site_id, sizeof ev->site_id);
    len[2] = strnlen(ev->region, sizeof ev->region);
    len[3] = strnlen(ev->condition, sizeof ev->condition);
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        total += len[i] > 0 ? 2 + len[i] : 0;
    }
    return total;
}

size_t
sn_event_encoded_size(const sn_event_t *ev)
{
    size_t len[4];
    uint8_t tags[9];
    uint64_t vals[9];
    size_t total = s_str_lens(ev, len);
    size_t n = s_scalars(ev, tags, vals);
    for (size_t i = 0; i < n; i++) {
        total += 1 + s_varint_size(vals[i]);
    }
    return total;
}

int
sn_event_encode(const sn_event_t *ev, uint8_t *buf, size_t size)
{
    assert(memchr(ev->event_id, 0, sizeof ev->event_id) != NULL);
    assert(memchr(ev->site_id, 0, sizeof ev->site_id) != NULL);
    assert(memchr(ev->region, 0, sizeof ev->region) != NULL);
    assert(memchr(ev->condition, 0, sizeof ev->condition) != NULL);
    size_t len[4];
    uint8_t tags[9];
    uint64_t vals[9];
    size_t total = s_str_lens(ev, len);
    size_t n = s_scalars(ev, tags, vals);
    /* Each varint takes at most ten bytes: measure exactly only when the
     * buffer might be short. */
    if (size < total + 11 * n && sn_event_encoded_size(ev) > size) {
        return SN_EOVERFLOW;
    }
    /* Field order: 1 event_id, 2 revision, 3 site_id, 4 source, 5 region,
     * 6 condition, then the scalars 7 to 13. */
    uint8_t *p = s_put_str(buf, T_EVENT_ID, ev->event_id, len[0]);
    size_t i = 0;
    if (i < n && tags[i] == T_REVISION) {
        *p++ = tags[i];
        p = s_put_varint(p, vals[i++]);
    }
    p = s_put_str(p, T_SITE_ID, ev->site_id, len[1]);
    if (i < n && tags[i] == T_SOURCE) {
        *p++ = tags[i];
        p = s_put_varint(p, vals[i++]);
    }
    p = s_put_str(p, T_REGION, ev->region, len[2]);
    p = s_put_str(p, T_CONDITION, ev->condition, len[3]);
    for (; i < n; i++) {
        *p++ = tags[i];
        p = s_put_varint(p, vals[i]);
    }
    return (int)(p - buf);
}

/* ---------------------------------------------------------------- decode */

/* A bump allocator over a stack buffer for protobuf-c's unpack. An event
 * needs a few hundred bytes; whatever does not fit (a hostile message with
 * long strings) falls back to the heap, and free() tells the two apart by
 * address. */
typedef struct {
    alignas(max_align_t) unsigned char mem[EVENT_ARENA_SIZE]; /* storage */
    size_t used;                                              /* bytes */
} s_arena_t;

static void *
s_arena_alloc(void *data, size_t size)
{
    s_arena_t *a = data;
    size_t align = alignof(max_align_t);
    size_t rounded = (size + align - 1) & ~(align - 1);
    if (rounded >= size && rounded <= sizeof a->mem - a->used) {
        void *p = a->mem + a->used;
        a->used += rounded;
        return p;
    }
    return malloc(size);
}

static void
s_arena_free(void *data, void *p)
{
    s_arena_t *a = data;
    unsigned char *c = p;
    if (c < a->mem || c >= a->mem + sizeof a->mem) {
        free(p);
    }
}

/* Copy one decoded string into its fixed-size field, refusing it when it
 * does not fit. */
static int
s_copy_str(const char *field, const char *src, char *dst, size_t size,
           sn_err_t *err)
{
    size_t len = strlen(src);
    if (len >= size) {
        return sn_err_set(err, SN_EPARSE, "field '%s': longer than %zu bytes",
                          field, size - 1);
    }
    memcpy(dst, src, len + 1);
    return SN_OK;
}

/* Refuse enum values this build does not know (proto3 enums are open, so
 * protobuf-c keeps whatever number was sent). */
static int
s_check_enums(const Sentinel__V1__CaseEvent *m, sn_err_t *err)
{
    if ((int)m->source < 0 || (int)m->source >= SN_SOURCE_COUNT) {
        return sn_err_set(err, SN_EPARSE, "field 'source': unknown value %d",
                          (int)m->source);
    }
    if ((int)m->sex < SN_SEX_UNKNOWN || (int)m->sex > SN_SEX_OTHER) {
        return sn_err_set(err, SN_EPARSE, "field 'sex': unknown value %d",
                          (int)m->sex);
    }
    if ((int)m->lab_confirmed < SN_LAB_UNKNOWN ||
        (int)m->lab_confirmed > SN_LAB_NEGATIVE) {
        return sn_err_set(err, SN_EPARSE,
                          "field 'lab_confirmed': unknown value %d",
                          (int)m->lab_confirmed);
    }
    return SN_OK;
}

/* Fill `ev` from a decoded message; `ev` may be partly written on error. */
static int
s_from_proto(const Sentinel__V1__CaseEvent *m, sn_event_t *ev, sn_err_t *err)
{
    int rc = s_check_enums(m, err);
    if (rc == SN_OK) {
        rc = s_copy_str("event_id", m->event_id, ev->event_id,
                        sizeof ev->event_id, err);
    }
    if (rc == SN_OK) {
        rc = s_copy_str("site_id", m->site_id, ev->site_id, sizeof ev->site_id,
                        err);
    }
    if (rc == SN_OK) {
        rc =
            s_copy_str("region", m->region, ev->region, sizeof ev->region, err);
    }
    if (rc == SN_OK) {
        rc = s_copy_str("condition", m->condition, ev->condition,
                        sizeof ev->condition, err);
    }
    if (rc != SN_OK) {
        return rc;
    }
    ev->revision = m->revision;
    ev->source = (sn_source_t)m->source;
    ev->onset_date = m->has_onset_date ? m->onset_date : SN_DAY_NONE;
    ev->report_time = m->report_time_ms;
    ev->count = m->count;
    ev->age_years = m->age_years;
    ev->sex = (sn_sex_t)m->sex;
    ev->lab_confirmed = (sn_lab_t)m->lab_confirmed;
    return SN_OK;
}

/* The decoding fast path: the encodings sn_event_encode() writes (known
 * fields with their own wire types, varints in range, strings that fit
 * their field and hold no NUL), in any order, later fields replacing
 * earlier ones as protobuf-c does. Anything else (unknown fields, other
 * varint forms, bad enums, truncation) returns false and protobuf-c
 * decides, with its message. The analyzer decodes every event. */

/* Read a varint of at most `max` bytes. @return the byte after it. */
static const uint8_t *
s_get_varint(const uint8_t *p, const uint8_t *end, size_t max, uint64_t *v)
{
    uint64_t r = 0;
    for (size_t i = 0; i < max && p + i < end; i++) {
        r |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if ((p[i] & 0x80) == 0) {
            if (i == 9 && p[i] > 1) {
                return NULL;
            }
            *v = r;
            return p + i + 1;
        }
    }
    return NULL;
}

static bool
s_fast_str(const uint8_t **pp, const uint8_t *end, char *dst, size_t size)
{
    uint64_t n;
    const uint8_t *p = s_get_varint(*pp, end, 2, &n);
    if (p == NULL || n >= size || n > (uint64_t)(end - p) ||
        memchr(p, 0, (size_t)n) != NULL) {
        return false;
    }
    memcpy(dst, p, (size_t)n);
    dst[n] = '\0';
    *pp = p + n;
    return true;
}

/* An int32 or enum: the value, or its ten-byte sign extension. */
static bool
s_fast_i32(uint64_t v, int32_t lo, int32_t hi, int32_t *out)
{
    int64_t s = (int64_t)v;
    if (s < lo || s > hi) {
        return false;
    }
    *out = (int32_t)s;
    return true;
}

static bool
s_fast_scalar(uint8_t tag, uint64_t v, sn_event_t *ev, bool *has_onset)
{
    int32_t i;
    switch (tag) {
    case T_REVISION:
    case T_COUNT:
        *(tag == T_REVISION ? &ev->revision : &ev->count) = (uint32_t)v;
        return v <= UINT32_MAX;
    case T_SOURCE:
        ev->source = (sn_source_t)(int32_t)v;
        return v < SN_SOURCE_COUNT;
    case T_ONSET_DATE:
        return s_fast_i32(v, INT32_MIN, INT32_MAX, &ev->onset_date);
    case T_HAS_ONSET:
        *has_onset = v == 1;
        return v <= 1;
    case T_REPORT_TIME:
        ev->report_time = (sn_time_t)v;
        return true;
    case T_AGE_YEARS:
        return s_fast_i32(v, INT32_MIN, INT32_MAX, &ev->age_years);
    case T_SEX:
        ev->sex = (sn_sex_t)(int32_t)v;
        return v <= SN_SEX_OTHER;
    case T_LAB:
        i = (int32_t)v;
        ev->lab_confirmed = (sn_lab_t)i;
        return v <= SN_LAB_NEGATIVE;
    default:
        return false;
    }
}

static char *
s_fast_field(sn_event_t *ev, uint8_t tag, size_t *size)
{
    switch (tag) {
    case T_EVENT_ID:
        *size = sizeof ev->event_id;
        return ev->event_id;
    case T_SITE_ID:
        *size = sizeof ev->site_id;
        return ev->site_id;
    case T_REGION:
        *size = sizeof ev->region;
        return ev->region;
    case T_CONDITION:
        *size = sizeof ev->condition;
        return ev->condition;
    default:
        return NULL;
    }
}

static bool
s_decode_fast(const uint8_t *p, size_t len, sn_event_t *ev)
{
    const uint8_t *end = len > 0 ? p + len : p; /* p may be NULL when empty */
    bool has_onset = false;
    memset(ev, 0, sizeof *ev);
    while (p < end) {
        uint8_t tag = *p++;
        size_t size = 0;
        char *dst = s_fast_field(ev, tag, &size);
        uint64_t v;
        if (dst != NULL) {
            if (!s_fast_str(&p, end, dst, size)) {
                return false;
            }
        } else if ((p = s_get_varint(p, end, 10, &v)) == NULL ||
                   !s_fast_scalar(tag, v, ev, &has_onset)) {
            return false;
        }
    }
    if (!has_onset) {
        ev->onset_date = SN_DAY_NONE;
    }
    return true;
}

int
sn_event_decode(const uint8_t *buf, size_t len, sn_event_t *ev, sn_err_t *err)
{
    sn_event_t quick;
    if (s_decode_fast(buf, len, &quick)) {
        *ev = quick;
        return SN_OK;
    }
    s_arena_t arena;
    arena.used = 0;
    ProtobufCAllocator alloc = {s_arena_alloc, s_arena_free, &arena};
    Sentinel__V1__CaseEvent *m =
        sentinel__v1__case_event__unpack(&alloc, len, buf);
    if (m == NULL) {
        return sn_err_set(err, SN_EPARSE,
                          "not a sentinel.v1.CaseEvent (%zu bytes of "
                          "malformed protobuf)",
                          len);
    }
    sn_event_t tmp;
    sn_event_init(&tmp);
    int rc = s_from_proto(m, &tmp, err);
    sentinel__v1__case_event__free_unpacked(m, &alloc);
    if (rc == SN_OK) {
        *ev = tmp;
    }
    return rc;
}
