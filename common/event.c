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

/* Check one identifier field: present, NUL-terminated within its buffer of
 * `size` bytes, and made only of letters, digits and the characters in
 * `extra`. The message names the first offending byte by its offset. */
static int
s_check_ident(const char *field, const char *value, size_t size,
              const char *extra, sn_err_t *err)
{
    size_t len = strnlen(value, size);
    if (len == 0) {
        return sn_err_set(err, SN_EVALIDATE, "field '%s': missing", field);
    }
    if (len == size) {
        return sn_err_set(err, SN_EVALIDATE,
                          "field '%s': longer than %zu bytes", field, size - 1);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                  (c >= 'a' && c <= 'z') || (c != 0 && strchr(extra, c));
        if (!ok) {
            return sn_err_set(err, SN_EVALIDATE,
                              "field '%s': character 0x%02x at offset %zu "
                              "is not allowed (letters, digits and '%s')",
                              field, c, i, extra);
        }
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
sn_event_validate(const sn_event_t *ev, sn_time_t now, sn_err_t *err)
{
    int rc = s_check_ident("event_id", ev->event_id, sizeof ev->event_id,
                           "-_.:/", err);
    if (rc == SN_OK) {
        rc = s_check_ident("site_id", ev->site_id, sizeof ev->site_id, "-_.",
                           err);
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
                           "-_.", err);
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

/* Point a generated message at the fields of `ev`. The strings are borrowed:
 * protobuf-c only reads them while packing. */
static void
s_to_proto(const sn_event_t *ev, Sentinel__V1__CaseEvent *m)
{
    sentinel__v1__case_event__init(m);
    m->event_id = (char *)ev->event_id;
    m->revision = ev->revision;
    m->site_id = (char *)ev->site_id;
    m->source = (Sentinel__V1__Source)ev->source;
    m->region = (char *)ev->region;
    m->condition = (char *)ev->condition;
    m->has_onset_date = ev->onset_date != SN_DAY_NONE;
    m->onset_date = m->has_onset_date ? ev->onset_date : 0;
    m->report_time_ms = ev->report_time;
    m->count = ev->count;
    m->age_years = ev->age_years;
    m->sex = (Sentinel__V1__Sex)ev->sex;
    m->lab_confirmed = (Sentinel__V1__LabResult)ev->lab_confirmed;
}

size_t
sn_event_encoded_size(const sn_event_t *ev)
{
    Sentinel__V1__CaseEvent m;
    s_to_proto(ev, &m);
    return sentinel__v1__case_event__get_packed_size(&m);
}

/* An upper bound of the encoding of `ev`, cheaper than protobuf-c's exact
 * size (which walks the descriptor as long as packing does): each string
 * costs its bytes plus a tag and a one-byte length (all are shorter than
 * 128 bytes), and each of the nine scalar fields at most a tag and a
 * ten-byte varint. */
static size_t
s_size_bound(const sn_event_t *ev)
{
    size_t strings = strnlen(ev->event_id, sizeof ev->event_id) +
                     strnlen(ev->site_id, sizeof ev->site_id) +
                     strnlen(ev->region, sizeof ev->region) +
                     strnlen(ev->condition, sizeof ev->condition);
    return strings + 4 * 2 + 9 * 11;
}

int
sn_event_encode(const sn_event_t *ev, uint8_t *buf, size_t size)
{
    assert(memchr(ev->event_id, 0, sizeof ev->event_id) != NULL);
    assert(memchr(ev->site_id, 0, sizeof ev->site_id) != NULL);
    assert(memchr(ev->region, 0, sizeof ev->region) != NULL);
    assert(memchr(ev->condition, 0, sizeof ev->condition) != NULL);
    Sentinel__V1__CaseEvent m;
    s_to_proto(ev, &m);
    /* Measuring costs almost as much as packing (75 against 95 ns for a
     * typical event), so it is done only when the buffer might be short. */
    if (size < s_size_bound(ev) &&
        sentinel__v1__case_event__get_packed_size(&m) > size) {
        return SN_EOVERFLOW;
    }
    return (int)sentinel__v1__case_event__pack(&m, buf);
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

int
sn_event_decode(const uint8_t *buf, size_t len, sn_event_t *ev, sn_err_t *err)
{
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
