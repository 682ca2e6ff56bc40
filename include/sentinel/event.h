/*  include/sentinel/event.h - the case event: build, validate, encode, decode
 *
 *  One case event is one report from one site (DESIGN.md, "Event model").
 *  Collectors build events from feeds, validate them and encode them as the
 *  protobuf message sentinel.v1.CaseEvent (proto/sentinel/v1/event.proto);
 *  the analyzer decodes them. The JSON mapping uses the same field names.
 *
 *  sn_event_t is a public value struct with fixed-size strings, because it
 *  sits on the hot path of every collector and analyzer: it is filled in
 *  place, copied by assignment and never allocates. Strings are always
 *  NUL-terminated.
 *
 *  Threading: all functions are reentrant; an event belongs to its caller.
 */
#ifndef SENTINEL_INCLUDE_EVENT_H
#define SENTINEL_INCLUDE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sentinel/date.h"
#include "sentinel/error.h"

#define SN_EVENT_ID_MAX 64    /* event_id: at most 64 bytes */
#define SN_SITE_ID_MAX 32     /* site_id */
#define SN_REGION_MAX 12      /* region code, GB/T 2260 uses 6 digits */
#define SN_CONDITION_MAX 32   /* condition code */
#define SN_AGE_NONE (-1)      /* age_years not given */
#define SN_DAY_NONE INT32_MIN /* onset_date not given */
/* The reason of a refusal for a personal identifier field: dead letters
 * recognise it and keep no raw bytes of such a record. */
#define SN_EVENT_PERSONAL_REASON "personal identifiers are not accepted"
#define SN_EVENT_MAX_COUNT 100000 /* count above this is refused */

/* Reporting channels named by the regional plans; the wire values. */
#define SN_SOURCE_MAP(X)                                                       \
    X(HOSPITAL, 1, "hospital")                                                 \
    X(FEVER_CLINIC, 2, "fever_clinic")                                         \
    X(PHARMACY, 3, "pharmacy")                                                 \
    X(LAB, 4, "lab")                                                           \
    X(SCHOOL, 5, "school")                                                     \
    X(DIRECT_REPORT, 6, "direct_report")                                       \
    X(CLINICIAN_REPORT, 7, "clinician_report")                                 \
    X(PUBLIC_REPORT, 8, "public_report")                                       \
    X(MEDIA, 9, "media")                                                       \
    X(ANIMAL_HEALTH, 10, "animal_health")                                      \
    X(FOOD_SAFETY, 11, "food_safety")

typedef enum {
    SN_SOURCE_UNKNOWN = 0,
#define SN_SOURCE_ENUM(name, value, text) SN_SOURCE_##name = (value),
    SN_SOURCE_MAP(SN_SOURCE_ENUM)
#undef SN_SOURCE_ENUM
        SN_SOURCE_COUNT
} sn_source_t;

typedef enum {
    SN_SEX_UNKNOWN = 0,
    SN_SEX_MALE = 1,
    SN_SEX_FEMALE = 2,
    SN_SEX_OTHER = 3,
} sn_sex_t;

typedef enum {
    SN_LAB_UNKNOWN = 0, /* not tested or not said */
    SN_LAB_CONFIRMED = 1,
    SN_LAB_NEGATIVE = 2,
} sn_lab_t;

/* One case event. Zero it with sn_event_init() before filling it. */
typedef struct sn_event {
    char event_id[SN_EVENT_ID_MAX + 1];   /* unique per site */
    uint32_t revision;                    /* a higher revision replaces */
    char site_id[SN_SITE_ID_MAX + 1];     /* sentinel site code */
    sn_source_t source;                   /* reporting channel */
    char region[SN_REGION_MAX + 1];       /* administrative code */
    char condition[SN_CONDITION_MAX + 1]; /* catalogue code */
    sn_day_t onset_date;                  /* SN_DAY_NONE when not given */
    sn_time_t report_time;                /* when the site reported it */
    uint32_t count;                       /* cases in this report, >= 1 */
    int32_t age_years;                    /* SN_AGE_NONE when not given */
    sn_sex_t sex;                         /* SN_SEX_UNKNOWN when not given */
    sn_lab_t lab_confirmed;               /* SN_LAB_UNKNOWN when not given */
} sn_event_t;

/** Reset `ev` to the empty event: no strings, revision 0, count 1,
 *  onset_date SN_DAY_NONE, age SN_AGE_NONE, unknown sex and lab. */
void sn_event_init(sn_event_t *ev);

/** @return the wire name of `source` ("fever_clinic"), or NULL if unknown. */
const char *sn_source_name(sn_source_t source);

/** Look up a source by its wire name. @return SN_OK or SN_ENOTFOUND. */
int sn_source_parse(const char *name, sn_source_t *out);

/** Check every field of `ev` against the event model. `now` is the wall
 *  clock used to refuse dates in the future (with a day of tolerance for
 *  time zones). The message names the field and the reason, e.g.
 *  "field 'onset_date': 2031-01-02 is in the future".
 *  @return SN_OK or SN_EVALIDATE. */
int sn_event_validate(const sn_event_t *ev, sn_time_t now, sn_err_t *err);

/** @return whether `err` refused a record for holding a personal
 *  identifier (its reason holds SN_EVENT_PERSONAL_REASON): a dead letter
 *  must then keep nothing of the record. */
bool sn_event_err_personal(const sn_err_t *err);

/** The Kafka message key of the encoded event `data` (`len` bytes): its
 *  prefecture, the first four digits of its region code, into `key` (at
 *  most `size` bytes, NUL-terminated), so one prefecture's events stay in
 *  order on one partition. Has the signature of sn_sender_key_fn; `arg` is
 *  not used. @return SN_OK or sn_event_decode()'s error. */
int sn_event_prefecture_key(const uint8_t *data, size_t len, char *key,
                            size_t size, void *arg);

/** Encode `ev` as a sentinel.v1.CaseEvent into `buf` of `size` bytes.
 *  @return the number of bytes written, or SN_EOVERFLOW when `size` is too
 *  small (sn_event_encoded_size() tells how much is needed). */
int sn_event_encode(const sn_event_t *ev, uint8_t *buf, size_t size);

/** @return the size of the protobuf encoding of `ev`. */
size_t sn_event_encoded_size(const sn_event_t *ev);

/** Decode a sentinel.v1.CaseEvent. Strings longer than the model allows and
 *  unknown enum values are refused. Does not validate (call
 *  sn_event_validate()). @return SN_OK or SN_EPARSE; *ev is written only on
 *  success. */
int sn_event_decode(const uint8_t *buf, size_t len, sn_event_t *ev,
                    sn_err_t *err);

/** Parse one JSON object (the JSON mapping of the event model) into `ev`.
 *  Unknown keys are refused, and so are personal identifiers (name, id
 *  numbers, address, phone): the message names the key.
 *  @return SN_OK, SN_EPARSE (not JSON, wrong type) or SN_EVALIDATE (a key
 *  that must not be sent); *ev is written only on success. */
int sn_event_from_json(const char *text, size_t len, sn_event_t *ev,
                       sn_err_t *err);

/** Render `ev` as one line of compact JSON (no newline).
 *  Caller owns the result (free()). */
char *sn_event_to_json(const sn_event_t *ev);

#endif
