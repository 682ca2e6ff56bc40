/*  analyzer/series.h - series keys, the series catalogue and their bins
 *
 *  A series is one daily count of (condition, region, source[, site]). The
 *  configuration says which exist: for each catalogued condition, which
 *  sources, which administrative levels (the region code's prefixes: county
 *  6 digits, prefecture 4, province 2) and whether per site, and optionally
 *  a denominator condition (all visits, for a proportion of ILI visits).
 *
 *  Ingest sees events by their *leaf*, the full (condition, region, source,
 *  site) of the event. The first time a leaf is seen, its fan-out (every
 *  series it counts towards) is worked out from the specs and cached, so an
 *  event costs one hash lookup and a few bin increments. Series are created
 *  when first needed; each owns a window of daily bins (window.h).
 *
 *  Threading: not thread-safe; owned by the analyzer's ingest thread.
 */
#ifndef SENTINEL_ANALYZER_SERIES_H
#define SENTINEL_ANALYZER_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/date.h"
#include "sentinel/error.h"
#include "sentinel/event.h"

#include "window.h"

#define ANA_SERIES_MAX_FANOUT 12 /* series one event may count towards */
#define ANA_SERIES_NONE UINT32_MAX

/* Administrative levels, from the finest. */
typedef enum {
    ANA_LEVEL_SITE = 0,       /* one site (its county's full code) */
    ANA_LEVEL_COUNTY = 1,     /* 6-digit prefix */
    ANA_LEVEL_PREFECTURE = 2, /* 4-digit prefix */
    ANA_LEVEL_PROVINCE = 3,   /* 2-digit prefix */
    ANA_LEVEL_COUNT
} ana_level_t;

/* The key of one series. Strings are zero-padded so keys compare as bytes. */
typedef struct ana_series_key {
    char condition[SN_CONDITION_MAX + 1]; /* catalogue code */
    char region[SN_REGION_MAX + 1];       /* region prefix of the level */
    char site[SN_SITE_ID_MAX + 1];        /* "" unless level is SITE */
    uint8_t source;                       /* sn_source_t */
    uint8_t level;                        /* ana_level_t */
} ana_series_key_t;

/* One catalogued condition. */
typedef struct ana_condition {
    char code[SN_CONDITION_MAX + 1]; /* "cholera", "ILI", "A00" */
    char klass;                      /* 'A', 'B', 'C', 'S'yndrome, '-' */
} ana_condition_t;

/* Which series exist for one condition. */
typedef struct ana_series_spec {
    char condition[SN_CONDITION_MAX + 1];   /* catalogue code */
    uint32_t sources;                       /* bit per sn_source_t; 0 all */
    uint32_t levels;                        /* bit per ana_level_t */
    char denominator[SN_CONDITION_MAX + 1]; /* "" or a condition code */
} ana_series_spec_t;

typedef struct ana_series ana_series_t; /* opaque; defined in series.c */

/** Create the table from the catalogue and specs (copied). New windows have
 *  `span` days and start at `today`. Never returns NULL. Caller owns it. */
ana_series_t *ana_series_new(const ana_condition_t *conds, size_t n_conds,
                             const ana_series_spec_t *specs, size_t n_specs,
                             size_t span, sn_day_t today);

/** Free the table, its windows and leaves; sets *self_p to NULL. */
void ana_series_destroy(ana_series_t **self_p);

/** @return the catalogued condition `code`, or NULL. */
const ana_condition_t *ana_series_condition(const ana_series_t *self,
                                            const char *code);

/** Find or create the leaf of an event.
 *  @return SN_OK with the leaf id in *leaf; SN_ENOTFOUND with "condition
 *  'x' is not in the catalogue" in err. */
int ana_series_leaf(ana_series_t *self, const char *condition,
                    const char *region, sn_source_t source, const char *site,
                    uint32_t *leaf, sn_err_t *err);

/** Find the leaf of an event without creating it (the new-series limit
 *  asks before ana_series_leaf() would allocate).
 *  @return SN_OK with *leaf set, or SN_ENOTFOUND. */
int ana_series_leaf_find(const ana_series_t *self, const char *condition,
                         const char *region, sn_source_t source,
                         const char *site, uint32_t *leaf);

/** @return the series ids leaf `leaf` counts towards; *n gets how many.
 *  Valid until the next ana_series_leaf(). */
const uint32_t *ana_series_fanout(const ana_series_t *self, uint32_t leaf,
                                  size_t *n);

/** @return the (condition, region, source, site) of a leaf, as a key of
 *  level SITE. */
const ana_series_key_t *ana_series_leaf_key(const ana_series_t *self,
                                            uint32_t leaf);

/** Add (or, with `sign` < 0, take away) `count` cases on `day` to every
 *  series of `leaf`, advancing their windows when `day` is newer.
 *  @return SN_OK or SN_ETOOOLD when `day` is older than the windows. */
int ana_series_add(ana_series_t *self, uint32_t leaf, sn_day_t day,
                   uint32_t count, int sign);

/** @return the number of series. Ids run 0 .. size-1. */
size_t ana_series_size(const ana_series_t *self);

/** @return the number of leaves. */
size_t ana_series_leaves(const ana_series_t *self);

/** @return the key of series `id`; valid while self lives. */
const ana_series_key_t *ana_series_key(const ana_series_t *self, uint32_t id);

/** Find a series by key. @return its id or ANA_SERIES_NONE. */
uint32_t ana_series_find(const ana_series_t *self, const ana_series_key_t *key);

/** @return the window of series `id`; borrowed, valid while self lives. */
ana_window_t *ana_series_window(ana_series_t *self, uint32_t id);

/** @return the denominator series of `id`, or ANA_SERIES_NONE. */
uint32_t ana_series_denominator(const ana_series_t *self, uint32_t id);

/** Bring every window's newest day up to `today` (no-op where newer). */
void ana_series_advance(ana_series_t *self, sn_day_t today);

/** Weekly totals (ISO weeks, Monday to Sunday) of series `id` for the
 *  complete weeks up to the one ending on or before `last`, oldest first,
 *  into out[0..max-1]. @return the number written. */
size_t ana_series_weekly(ana_series_t *self, uint32_t id, sn_day_t last,
                         double *out, size_t max);

/** Write `key` as "condition/region/source[/site]" into buf (at least
 *  ANA_SERIES_NAME_MAX bytes). @return buf. */
char *ana_series_name(const ana_series_key_t *key, char *buf);
#define ANA_SERIES_NAME_MAX 128

/** Parse a level name ("site", "county", "prefecture", "province").
 *  @return SN_OK or SN_ENOTFOUND. */
int ana_level_parse(const char *name, ana_level_t *out);

/** @return the name of a level ("county"). */
const char *ana_level_name(ana_level_t level);

/** @return the region-prefix length of a level (SITE and COUNTY: 6). */
size_t ana_level_digits(ana_level_t level);

/** Save every series key and window to `f`. @return SN_OK or SN_EIO. */
int ana_series_save(const ana_series_t *self, FILE *f);

/** Restore the series saved by ana_series_save() into a table that has just
 *  been created with the same catalogue. Leaves are rebuilt on demand.
 *  @return SN_OK, SN_EIO or SN_ECORRUPT with a message. */
int ana_series_load(ana_series_t *self, FILE *f, sn_err_t *err);

#endif
