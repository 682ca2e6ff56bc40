/*  analyzer/ana_config.h - the analyzer's configuration (sentinel.yaml)
 *
 *  The root schema of the analyzer's file: the `analyzer:` section (state,
 *  lateness, date basis, windows, dedup), the `transport:` section of the
 *  event receiver and the `alerts:` section of the alert sender (the
 *  transport module's schemas), the `archive:` section (the archive
 *  writer's schema), and the data that says what Sentinel watches:
 *  `conditions`, `series`, `detectors`, `rules` and `health`, and the
 *  `log` section every daemon accepts. Reading a
 *  loaded file fills ana_config_t, refusing what a schema cannot express
 *  (a rule naming an unknown detector, a series of an unknown condition)
 *  with "file:line: reason". deploy/sentinel.yaml is a commented example.
 *
 *  Threading: the schema is immutable; ana_config_read() is reentrant.
 */
#ifndef SENTINEL_ANALYZER_ANA_CONFIG_H
#define SENTINEL_ANALYZER_ANA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "sentinel/config.h"
#include "sentinel/error.h"

#include "engine.h"
#include "health.h"
#include "series.h"
#include "trigger.h"

/* The root schema of the analyzer's configuration file. */
extern const sn_cfg_schema_t ana_config_schema[];

/* A read configuration. Strings are borrowed from the sn_config_t, which
 * must outlive it; arrays are owned (ana_config_fini()). */
#define ANA_MAX_NEW_SERIES_DEFAULT 10000 /* new series per sender per day */

typedef struct ana_config {
    const char *state_dir;   /* durable state (required) */
    const char *dead_letter; /* rejected records file */
    const char *metrics;     /* "127.0.0.1:9464" or NULL */
    int checkpoint_ms;       /* state write + ack interval */
    bool onset;              /* bin by onset date (else report) */
    int lateness_days;       /* a day waits this long */
    int idle_days;           /* a quiet source stops holding days */
    int horizon_days;        /* late events counted this far back */
    bool wall_clock;         /* the wall clock closes days too */
    size_t window_days;      /* daily bins kept per series */
    size_t dedup_capacity;   /* events remembered */
    uint32_t max_new_series; /* per sender and day; 0: no limit */
    ana_condition_t *conds;  /* catalogue */
    size_t n_conds;
    ana_series_spec_t *specs; /* which series exist */
    size_t n_specs;
    ana_detector_spec_t *dets; /* detectors */
    size_t n_dets;
    ana_rule_t *rules; /* trigger rules */
    size_t n_rules;
    ana_health_opts_t health;       /* feed health thresholds */
    const sn_cfg_node_t *transport; /* event receiver section, or NULL */
    const sn_cfg_node_t *alerts;    /* alert sender: transport + spool */
    const sn_cfg_node_t *archive;   /* archive section, or NULL */
} ana_config_t;

/** Read the loaded file `cfg` (validated by ana_config_schema) into *out.
 *  @return SN_OK, or SN_ECONFIG with "file:line: reason". *out must be
 *  freed with ana_config_fini() on success only. */
int ana_config_read(const sn_config_t *cfg, ana_config_t *out, sn_err_t *err);

/** Free the arrays of a read configuration. Safe on a zeroed struct. */
void ana_config_fini(ana_config_t *self);

#endif
