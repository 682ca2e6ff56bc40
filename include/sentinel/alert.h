/*  include/sentinel/alert.h - the graded alert as the analyzer hands it over
 *
 *  A trigger rule that fires produces one alert: a warning level (blue,
 *  yellow, orange, red), the rule, the condition and region it is about, the
 *  day the evidence is about, when it was raised, a one-line summary and the
 *  evidence rows (each contributing series with its detector, observed
 *  count, expected value, upper bound and score). The analyzer builds it with
 *  sn_alert_new() and sn_alert_add_evidence(), encodes it as the protobuf
 *  message sentinel.v1.Alert (proto/sentinel/v1/event.proto) and sends it as
 *  one opaque record over the transport; alerting decodes it and runs the
 *  lifecycle (one open alert per (rule, condition, region)).
 *
 *  The alert is a public record, like sn_event_t: the lifecycle, the CAP
 *  renderer and every sink read its fields directly, so accessors would add
 *  nothing. Strings are fixed-size and always NUL-terminated. The evidence
 *  array belongs to the alert and grows only through sn_alert_add_evidence().
 *
 *  JSON mapping (sn_alert_to_json / sn_alert_from_json), one object:
 *    {"alert_key":"R|C|REGION","level":"yellow","rule":"multi-source",
 *     "condition":"ILI","region":"110105","day":"2026-11-24",
 *     "raised":"2026-11-25T13:51:39.000Z","summary":"…",
 *     "evidence":[{"series_key":"…","condition":"ILI","region":"110105",
 *       "source":"fever_clinic","site_id":"","detector":"ears-c2",
 *       "day":"2026-11-24","observed":17,"expected":6.2,"upperbound":11.3,
 *       "score":4.1}]}
 *  A NAN number is written as null and read back as NAN. "alert_key" is
 *  computed on output and ignored on input.
 *
 *  Threading: all functions are reentrant; an alert belongs to one thread.
 */
#ifndef SENTINEL_INCLUDE_ALERT_H
#define SENTINEL_INCLUDE_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/date.h"  /* sn_day_t, sn_time_t */
#include "sentinel/error.h" /* SN_OK and the negative SN_E* codes */
#include "sentinel/event.h" /* sn_source_t, SN_REGION_MAX, … */

#define SN_RULE_MAX 64             /* rule name */
#define SN_SERIES_KEY_MAX 128      /* evidence series key */
#define SN_DETECTOR_MAX 32         /* detector method name ("ears-c2") */
#define SN_SUMMARY_MAX 512         /* summary, bytes */
#define SN_ALERT_KEY_MAX 128       /* "rule|condition|region" and NUL */
#define SN_ALERT_MAX_EVIDENCE 1024 /* evidence rows per alert */

/* The warning levels of the regional plans; the wire values of
 * sentinel.v1.Level. Higher is more severe. */
typedef enum {
    SN_LEVEL_NONE = 0, /* not a level: refused by validation */
    SN_LEVEL_BLUE = 1,
    SN_LEVEL_YELLOW = 2,
    SN_LEVEL_ORANGE = 3,
    SN_LEVEL_RED = 4,
} sn_level_t;

/* One contributing series. Zero it with sn_evidence_init() before filling. */
typedef struct sn_evidence {
    char series_key[SN_SERIES_KEY_MAX + 1]; /* the series, as the analyzer
                                               names it */
    char condition[SN_CONDITION_MAX + 1];   /* condition of the series */
    char region[SN_REGION_MAX + 1];         /* region of the series */
    sn_source_t source;                     /* reporting channel */
    char site_id[SN_SITE_ID_MAX + 1];       /* "" for all-site series */
    char detector[SN_DETECTOR_MAX + 1];     /* detector method */
    sn_day_t day;                           /* day of the signal */
    double observed;                        /* count on that day */
    double expected;                        /* baseline; NAN when NA */
    double upperbound;                      /* threshold; NAN when NA */
    double score;                           /* statistic; NAN when NA */
} sn_evidence_t;

/* One alert. Create with sn_alert_new(), free with sn_alert_destroy(). */
typedef struct sn_alert {
    sn_level_t level;                     /* warning level */
    char rule[SN_RULE_MAX + 1];           /* trigger rule name */
    char condition[SN_CONDITION_MAX + 1]; /* condition code */
    char region[SN_REGION_MAX + 1];       /* GB/T 2260 region code */
    sn_day_t day;                         /* the day the evidence is about */
    sn_time_t raised;                     /* when the rule fired (ms) */
    char summary[SN_SUMMARY_MAX + 1];     /* one line for humans; may be "" */
    size_t n_evidence;                    /* rows in `evidence` */
    sn_evidence_t *evidence;              /* owned; n_evidence rows */
    size_t cap_evidence;                  /* allocated rows */
} sn_alert_t;

/** @return the name of `level`: "blue", "yellow", "orange", "red", or
 *  "none" for SN_LEVEL_NONE and any unknown value. Static. Thread-safe. */
const char *sn_level_name(sn_level_t level);

/** Look up a level by its name (case-insensitive).
 *  @return SN_OK or SN_ENOTFOUND; *out is written only on success. */
int sn_level_parse(const char *name, sn_level_t *out);

/** Reset `ev` to the empty row: no strings, SN_SOURCE_UNKNOWN, day
 *  SN_DAY_NONE, observed 0 and expected, upperbound, score NAN. */
void sn_evidence_init(sn_evidence_t *ev);

/** Create an alert without evidence. `summary` may be NULL.
 *  @return the alert (caller owns it; sn_alert_destroy()), or NULL with
 *  SN_EINVAL in err when a string is empty (rule, condition, region) or
 *  longer than its field, or the level is not blue..red. */
sn_alert_t *sn_alert_new(sn_level_t level, const char *rule,
                         const char *condition, const char *region,
                         sn_day_t day, sn_time_t raised, const char *summary,
                         sn_err_t *err);

/** Free the alert and its evidence and set *self_p to NULL. Safe on NULL. */
void sn_alert_destroy(sn_alert_t **self_p);

/** @return a deep copy of `self`. Never returns NULL. Caller owns it. */
sn_alert_t *sn_alert_dup(const sn_alert_t *self);

/** Set the summary; text longer than SN_SUMMARY_MAX bytes is cut at a
 *  UTF-8 character boundary. NULL gives "". */
void sn_alert_set_summary(sn_alert_t *self, const char *summary);

/** Append a copy of `ev` to the evidence.
 *  @return SN_OK; SN_EINVAL with "evidence: field 'series_key': empty" when
 *  series_key or detector is empty; SN_EFULL past SN_ALERT_MAX_EVIDENCE. */
int sn_alert_add_evidence(sn_alert_t *self, const sn_evidence_t *ev,
                          sn_err_t *err);

/** Write the alert key "rule|condition|region" (the lifecycle's one open
 *  alert per key) into buf of at least SN_ALERT_KEY_MAX bytes. @return buf. */
char *sn_alert_key(const sn_alert_t *self, char *buf);

/** Check the alert: level blue..red, non-empty rule, condition and region,
 *  a valid day, every evidence row with a series key, a detector, a known
 *  source and a day. The message names the field (and row), e.g.
 *  "evidence[2]: field 'detector': empty". @return SN_OK or SN_EVALIDATE. */
int sn_alert_validate(const sn_alert_t *self, sn_err_t *err);

/** @return the size of the protobuf encoding of `self`. */
size_t sn_alert_encoded_size(const sn_alert_t *self);

/** Encode `self` as a sentinel.v1.Alert into `buf` of `size` bytes.
 *  @return the number of bytes written, or SN_EOVERFLOW when `size` is too
 *  small (sn_alert_encoded_size() tells how much is needed). */
int sn_alert_encode(const sn_alert_t *self, uint8_t *buf, size_t size);

/** Decode a sentinel.v1.Alert. Strings longer than their field or not
 *  UTF-8, unknown levels or sources and more than SN_ALERT_MAX_EVIDENCE rows
 *  are refused with SN_EPARSE and a message naming the field. Does not
 *  validate (call sn_alert_validate()). *out is written only on success; caller
 * owns it. */
int sn_alert_decode(const uint8_t *buf, size_t len, sn_alert_t **out,
                    sn_err_t *err);

/** Render `self` as one line of compact JSON (the mapping above, no
 *  newline). Caller owns the result (free()). */
char *sn_alert_to_json(const sn_alert_t *self);

/** Parse one JSON object of the mapping above. Unknown keys are refused.
 *  @return SN_OK, SN_EPARSE (not JSON, wrong type, bad date, unknown level
 *  or source: the message names the key) or SN_EINVAL (a string too long);
 *  *out is written only on success and the caller owns it. */
int sn_alert_from_json(const char *text, size_t len, sn_alert_t **out,
                       sn_err_t *err);

#endif
