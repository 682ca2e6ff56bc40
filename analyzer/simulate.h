/*  analyzer/simulate.h - reproducible synthetic feeds with injected outbreaks
 *
 *  `sentinel simulate` and the scenario tests make case events here: for
 *  each site and day, a baseline count drawn from a Poisson law whose mean
 *  follows the season (a cosine with its peak on a given day of the year)
 *  and the day of the week (fewer visits at weekends); plus outbreaks of a
 *  given size in a given region prefix, seen by given sources, spread over
 *  given days along a triangular epidemic curve. Everything is drawn from
 *  one seeded generator (xoshiro256**), so a seed gives the same events on
 *  every machine. Events come out day by day, site by site; writers turn
 *  them into the feeds the collectors read: JSON lines, CSV (one column per
 *  event field, headed by its name) and HL7 v2.5.1 ADT^A04 messages.
 *
 *  Threading: reentrant; a run belongs to its caller.
 */
#ifndef SENTINEL_ANALYZER_SIMULATE_H
#define SENTINEL_ANALYZER_SIMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/event.h"

#define ANA_SIM_MAX_SITES 1024
#define ANA_SIM_MAX_OUTBREAKS 64

/* One reporting site. */
typedef struct ana_sim_site {
    char site_id[SN_SITE_ID_MAX + 1]; /* site code */
    char region[SN_REGION_MAX + 1];   /* its county (6 digits) */
    sn_source_t source;               /* its channel */
    double mean;                      /* baseline cases per day */
    sn_day_t first;                   /* first day it reports (0: start) */
    sn_day_t silent_from;             /* stops reporting (0: never) */
} ana_sim_site_t;

/* One injected outbreak. */
typedef struct ana_sim_outbreak {
    char condition[SN_CONDITION_MAX + 1]; /* "" : the baseline condition */
    char region[SN_REGION_MAX + 1];       /* region prefix it strikes */
    uint32_t sources;                     /* bit per sn_source_t; 0 all */
    sn_day_t start;                       /* first day */
    int days;                             /* duration, 1..365 */
    uint32_t size;                        /* extra cases in total */
} ana_sim_outbreak_t;

/* A scenario. */
typedef struct ana_sim_opts {
    uint64_t seed;                        /* the generator's seed */
    sn_day_t start;                       /* first day */
    int days;                             /* number of days */
    char condition[SN_CONDITION_MAX + 1]; /* baseline condition ("ili") */
    double amplitude;                     /* seasonal swing, 0..1 (0.3) */
    int peak_doy;                         /* day of year of the peak (20) */
    double dow[7];                        /* Monday..Sunday factors */
    bool aggregate;                       /* one event with a count per
                                             site and day, not per case */
    const ana_sim_site_t *sites;          /* the sites; borrowed */
    size_t n_sites;
    const ana_sim_outbreak_t *outbreaks; /* the outbreaks; borrowed */
    size_t n_outbreaks;
} ana_sim_opts_t;

/* Receives each event (borrowed); a non-zero return stops the run. */
typedef int (*ana_sim_fn)(const sn_event_t *ev, void *arg);

/** Fill `opts` with the defaults (ili, amplitude 0.3, peak on day 20,
 *  weekend factors 0.7 and 0.6, per-case events, no sites). */
void ana_sim_opts_default(ana_sim_opts_t *opts);

/** Run the scenario, calling `fn` for every event in day order.
 *  @return SN_OK, the callback's code, or SN_EINVAL naming the bad option
 *  (no site, days outside 1..36600, an outbreak of 0 days). */
int ana_sim_run(const ana_sim_opts_t *opts, ana_sim_fn fn, void *arg,
                sn_err_t *err);

/** Parse a site "ID:REGION:SOURCE:MEAN" into *out. @return SN_OK or
 *  SN_EINVAL with the reason. */
int ana_sim_site_parse(const char *text, ana_sim_site_t *out, sn_err_t *err);

/** Parse an outbreak "REGION:START:DAYS:SIZE[:SOURCE,SOURCE…][:CONDITION]"
 *  (START as YYYY-MM-DD). @return SN_OK or SN_EINVAL with the reason. */
int ana_sim_outbreak_parse(const char *text, ana_sim_outbreak_t *out,
                           sn_err_t *err);

/* Feed formats. */
typedef enum {
    ANA_SIM_JSONL = 0, /* one JSON object per line */
    ANA_SIM_CSV = 1,   /* header row of field names, one row per event */
    ANA_SIM_HL7 = 2,   /* ADT^A04 messages, one per case */
} ana_sim_format_t;

/** Parse "jsonl", "csv" or "hl7". @return SN_OK or SN_ENOTFOUND. */
int ana_sim_format_parse(const char *name, ana_sim_format_t *out);

/** @return the file extension of a format ("jsonl", "csv", "hl7"). */
const char *ana_sim_format_ext(ana_sim_format_t fmt);

/** Write the CSV header row. @return SN_OK or SN_EIO. */
int ana_sim_write_header(FILE *f, ana_sim_format_t fmt);

/** Write one event in `fmt` (HL7 writes one message per case of `count`).
 *  @return SN_OK or SN_EIO. */
int ana_sim_write(FILE *f, ana_sim_format_t fmt, const sn_event_t *ev);

#endif
