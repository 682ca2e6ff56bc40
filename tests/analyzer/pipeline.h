/*  tests/analyzer/pipeline.h - an ingest pipeline from YAML for the suites
 *  that drive days and rules through it (test_engine.c, test_trigger.c)
 *
 *  A configuration of two ILI sources (fever clinic, pharmacy) at site and
 *  county level and cholera, EARS C2, a class-A threshold rule and a
 *  multi-source rule; the sinks count what comes out; events are made and
 *  fed a day at a time. Single-threaded test code; what pl_pipeline()
 *  returns is the caller's (ana_ingest_destroy, sn_config_destroy).
 */
#ifndef SENTINEL_TESTS_ANALYZER_PIPELINE_H
#define SENTINEL_TESTS_ANALYZER_PIPELINE_H

#include "ana_config.h"
#include "ingest.h"

/* The configuration most cases use. */
extern const char pl_yaml[];

/* What the sinks saw. */
typedef struct pl_seen {
    int alerts;                      /* alerts */
    char rules[16][SN_RULE_MAX + 1]; /* their rules, in order */
    sn_day_t days[16];               /* their days */
    int corrections;                 /* correction rows */
    double corrected_observed;       /* last correction's count */
    int rows;                        /* rows of regular closes */
} pl_seen_t;

/** The alert sink: counts into the pl_seen_t `arg`. */
void pl_alert(const sn_alert_t *a, void *arg);

/** The rows sink: counts into the pl_seen_t `arg`. */
void pl_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n, bool corr,
             void *arg);

/** A pipeline from `yaml` whose sinks count into `seen`; *cfg_out gets the
 *  parsed file (the caller destroys both). Fails the test on an error. */
ana_ingest_t *pl_pipeline(const char *yaml, pl_seen_t *seen,
                          sn_config_t **cfg_out);

/** An event of `count` cases of `cond` in county 330106 on `day`. */
sn_event_t pl_ev(const char *site, const char *id, sn_source_t src,
                 const char *cond, sn_day_t day, uint32_t count);

/** One aggregated event per source per day over [from, to]: a steady
 *  baseline, then a spike in both sources on day `spike` (0 for none). */
void pl_feed(ana_ingest_t *in, sn_day_t from, sn_day_t to, sn_day_t spike);

/** One event per source per day over [from, to]: the baseline, 40 cases at
 *  the fever clinic on `fc_spike` and at the pharmacy on `ph_spike` (0:
 *  none), and no fever-clinic event on `fc_skip` (0: none). */
void pl_feed2(ana_ingest_t *in, sn_day_t from, sn_day_t to, sn_day_t fc_spike,
              sn_day_t ph_spike, sn_day_t fc_skip);

#endif
