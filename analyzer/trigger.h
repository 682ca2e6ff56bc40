/*  analyzer/trigger.h - multi-point trigger rules: signals in, alerts out
 *
 *  Rules are data from the configuration, so a new rule needs no rebuild.
 *  Each names its warning level (blue, yellow, orange, red) and one kind:
 *  - threshold: `min_count` cases of a listed condition (or class, such as
 *    class A: cholera, plague) in one region on one day raise an alert at
 *    once, from the event itself, without waiting for the day to close;
 *  - single: any detector alarm of a matching series;
 *  - multi-source: >= k distinct sources alarm for one condition in one
 *    region within `days` days;
 *  - multi-site: >= k distinct sites (per-site series) alarm for one
 *    condition in one region within `days` days;
 *  - spread: >= k distinct sub-regions (series of the finer level) of one
 *    region prefix alarm for one condition within `days` days.
 *  The engine hands every detector alarm of a closed day to
 *  ana_trigger_signal() and then calls ana_trigger_evaluate(); ingest hands
 *  every counted event to ana_trigger_count(). Alerts carry their evidence
 *  (each contributing series with its detector, observed count, expected
 *  value, bound and score) and go to the caller's callback. The signals of
 *  the rules' windows and today's threshold counts are state: saved with
 *  the analyzer's snapshot (ana_trigger_save()), and each change of the
 *  signals is handed to a log hook for its journal, so a restart neither
 *  forgets the alarm of yesterday that a multi-source rule needs today nor
 *  the cases counted toward a threshold.
 *
 *  Threading: not thread-safe; owned by the analyzer's ingest thread, which
 *  also runs the callback.
 */
#ifndef SENTINEL_ANALYZER_TRIGGER_H
#define SENTINEL_ANALYZER_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/alert.h"
#include "sentinel/date.h"
#include "sentinel/detector.h"
#include "sentinel/error.h"

#include "series.h"

#define ANA_RULE_MAX_CONDS 16 /* conditions one rule lists */

typedef enum {
    ANA_RULE_THRESHOLD = 0,
    ANA_RULE_SINGLE,
    ANA_RULE_MULTI_SOURCE,
    ANA_RULE_MULTI_SITE,
    ANA_RULE_SPREAD,
    ANA_RULE_KIND_COUNT
} ana_rule_kind_t;

/* One rule. `group` is the level whose region prefix groups signals (the
 * region the alert is about); `series` the level of the series it reads. */
typedef struct ana_rule {
    char name[SN_RULE_MAX + 1];                                /* its name */
    ana_rule_kind_t kind;                                      /* see above */
    sn_level_t level;                                          /* colour */
    char conditions[ANA_RULE_MAX_CONDS][SN_CONDITION_MAX + 1]; /* or none */
    size_t n_conditions;                /* 0: any condition (or `classes`) */
    char classes[8];                    /* condition classes ("A"); "" any */
    uint32_t sources;                   /* bit per sn_source_t; 0 any */
    char detector[SN_DETECTOR_MAX + 1]; /* method name; "" any */
    ana_level_t group;                  /* region level of the alert */
    ana_level_t series;                 /* level of the series read */
    uint32_t min_count;                 /* threshold: cases in a day (>= 1) */
    uint32_t k;                         /* multi-*, spread: distinct members */
    uint32_t days; /* multi-*, spread: within D days (>= 1) */
} ana_rule_t;

typedef struct ana_trigger ana_trigger_t; /* opaque; defined in trigger.c */

/* Receives each alert; the alert is borrowed for the call. */
typedef void (*ana_trigger_fn)(const sn_alert_t *alert, void *arg);

/** Create the rule set (rules are copied). `series` is borrowed for the
 *  condition catalogue and must outlive self. `fn` receives the alerts.
 *  Never returns NULL. Caller owns the result. */
ana_trigger_t *ana_trigger_new(const ana_rule_t *rules, size_t n_rules,
                               const ana_series_t *series, ana_trigger_fn fn,
                               void *arg);

/** Free the trigger and set *self_p to NULL. Safe on NULL. */
void ana_trigger_destroy(ana_trigger_t **self_p);

/** Count an event for the threshold rules; a rule whose count for the
 *  (condition, region, day) reaches its `min_count` raises its alert now,
 *  once per (rule, condition, region, day). `key` is the event's leaf key.
 *  @return the number of alerts raised. */
int ana_trigger_event(ana_trigger_t *self, const ana_series_key_t *key,
                      sn_day_t day, uint32_t count, sn_time_t now);

/** Change the threshold counts of (`key`, `day`) by `delta` cases, as
 *  ana_trigger_event() when `delta` > 0 and `raise`; a negative `delta`
 *  takes back a revised event's cases (a count never goes below zero, an
 *  alert raised stays raised). Without `raise` (a journal replay: the
 *  alerts were raised when the events first came) a counter that reaches
 *  its `min_count` is only marked as fired. @return alerts raised. */
int ana_trigger_count(ana_trigger_t *self, const ana_series_key_t *key,
                      sn_day_t day, int64_t delta, sn_time_t now, bool raise);

/** Record a detector alarm of series `key` on `day` by `detector`. */
void ana_trigger_signal(ana_trigger_t *self, const ana_series_key_t *key,
                        const char *detector, sn_day_t day,
                        const sn_det_point_t *point);

/** Take back the signals of `day` for series `key` (its day was corrected
 *  and is about to be evaluated again). */
void ana_trigger_retract(ana_trigger_t *self, const ana_series_key_t *key,
                         sn_day_t day);

/** Evaluate the signal rules for `day` (signals of day-D+1 .. day) and
 *  raise their alerts; signals older than every rule's window are
 *  forgotten. @return the number of alerts raised. */
int ana_trigger_evaluate(ana_trigger_t *self, sn_day_t day, sn_time_t now);

/** Start a new generation of signals: ana_trigger_reevaluate() raises
 *  only groups holding a signal handed over after this call (the signals
 *  of corrected days). */
void ana_trigger_mark(ana_trigger_t *self);

/** As ana_trigger_evaluate(), but raise only the groups that hold a signal
 *  of the current generation: after a correction, the alerts it changes,
 *  not again those raised before on the same evidence. */
int ana_trigger_reevaluate(ana_trigger_t *self, sn_day_t day, sn_time_t now);

/** @return the number of signals held. */
size_t ana_trigger_signals(const ana_trigger_t *self);

/** @return the longest window of the signal rules, in days (at least 1). */
uint32_t ana_trigger_window(const ana_trigger_t *self);

/* -- durability: the signals and counters survive a restart ------------ */

/* Receives each change of the signals as one journal operation: `op` is
 * ANA_TRIGGER_OP_SIGNAL or ANA_TRIGGER_OP_RETRACT and `rec` (borrowed for
 * the call) its `len` bytes, for ana_trigger_apply() at a replay. */
typedef void (*ana_trigger_log_fn)(void *arg, uint8_t op, const uint8_t *rec,
                                   size_t len);

#define ANA_TRIGGER_OP_SIGNAL 'S'  /* a signal added */
#define ANA_TRIGGER_OP_RETRACT 'R' /* a series' signals of a day taken back */

/** Call `fn` with every later change of the signals (NULL: none). */
void ana_trigger_set_log(ana_trigger_t *self, ana_trigger_log_fn fn, void *arg);

/** Apply one logged operation `op` from `rec` (at most `len` bytes).
 *  @return the bytes it used, or 0 when it does not parse. */
size_t ana_trigger_apply(ana_trigger_t *self, uint8_t op, const uint8_t *rec,
                         size_t len);

/** Write the signals and threshold counters to `f`. @return SN_OK or
 *  SN_EIO. */
int ana_trigger_save(const ana_trigger_t *self, FILE *f);

/** Replace the signals and counters with those saved in `f`.
 *  @return SN_OK, or SN_ECORRUPT with `err` set. */
int ana_trigger_load(ana_trigger_t *self, FILE *f, sn_err_t *err);

/** Parse a rule kind name ("threshold", "single", "multi-source",
 *  "multi-site", "spread"). @return SN_OK or SN_ENOTFOUND. */
int ana_rule_kind_parse(const char *name, ana_rule_kind_t *out);

/** @return the name of a rule kind. */
const char *ana_rule_kind_name(ana_rule_kind_t kind);

#endif
