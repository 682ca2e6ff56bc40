/*  analyzer/dedup.h - drop re-sent events, apply revisions, in bounded memory
 *
 *  The idempotency key of a case event is (site_id, event_id). Ingest offers
 *  each event here before binning it: a new key is remembered with where its
 *  count went (the leaf series, the day and the count); a higher revision of
 *  a known key replaces it and hands back the old placement so its count can
 *  move; the same or a lower revision is a duplicate.
 *
 *  Memory is bounded: an open-addressing table of fixed-size entries (a
 *  128-bit fingerprint of the key, never the strings) with a fixed capacity.
 *  An age horizon (a day) bounds what must be remembered: events binned
 *  before it are refused as too late (ingest dead-letters them), and entries
 *  before it are forgotten when the horizon moves. The table is saved and
 *  loaded with the analyzer's durable state, so it survives restarts.
 *
 *  Threading: not thread-safe; owned by the analyzer's ingest thread.
 */
#ifndef SENTINEL_ANALYZER_DEDUP_H
#define SENTINEL_ANALYZER_DEDUP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sentinel/date.h"
#include "sentinel/error.h"

typedef struct ana_dedup ana_dedup_t; /* opaque; defined in dedup.c */

/* The fingerprint of (site_id, event_id). */
typedef struct ana_dedup_key {
    uint64_t h1, h2; /* two independent 64-bit hashes; never both zero */
} ana_dedup_key_t;

/* Where an event's count went: what a later revision must take back. */
typedef struct ana_dedup_entry {
    uint32_t leaf;     /* the leaf series id (see series.h) */
    sn_day_t day;      /* the day bin */
    uint32_t count;    /* the cases counted */
    uint32_t revision; /* the revision that placed them */
} ana_dedup_entry_t;

/* What ana_dedup_offer() decided (non-negative results). */
enum {
    ANA_DEDUP_NEW = 0,     /* first time seen: stored */
    ANA_DEDUP_REVISED = 1, /* higher revision: stored, old placement given */
};

/** Create a table for at most `capacity` live events (rounded up so that
 *  the table stays at most 7/8 full). Never returns NULL. Caller owns it. */
ana_dedup_t *ana_dedup_new(size_t capacity);

/** Free the table and set *self_p to NULL. Safe on NULL. */
void ana_dedup_destroy(ana_dedup_t **self_p);

/** @return the fingerprint of (site, event_id). Thread-safe. */
ana_dedup_key_t ana_dedup_key(const char *site, const char *event_id);

/** Offer an event with its placement `placed`.
 *  @return ANA_DEDUP_NEW; ANA_DEDUP_REVISED with the previous placement in
 *  *old; SN_EDUP for the same or a lower revision (nothing changes);
 *  SN_ETOOOLD when placed->day is before the horizon; SN_EFULL when the
 *  table holds `capacity` live events. */
int ana_dedup_offer(ana_dedup_t *self, ana_dedup_key_t key,
                    const ana_dedup_entry_t *placed, ana_dedup_entry_t *old);

/** Start loading the slot where `key` would be found, so that a later
 *  ana_dedup_offer() or ana_dedup_find() of it does not wait for memory.
 *  A hint only: nothing changes. Batched callers prefetch the keys of a
 *  few events ahead of the one they offer. */
void ana_dedup_prefetch(const ana_dedup_t *self, ana_dedup_key_t key);

/** @return how many sweeps have reclaimed expired entries so far. A full
 *  table sweeps only when the horizon has moved since its last sweep;
 *  otherwise it refuses a new key at once. */
uint64_t ana_dedup_sweeps(const ana_dedup_t *self);

/** Look up a key. @return SN_OK with the entry in *out, or SN_ENOTFOUND. */
int ana_dedup_find(const ana_dedup_t *self, ana_dedup_key_t key,
                   ana_dedup_entry_t *out);

/** Move the horizon to `oldest`: later offers before it are refused and the
 *  entries before it are forgotten (their memory is reclaimed when the table
 *  fills up or at ana_dedup_purge()). The horizon never moves back. O(1). */
void ana_dedup_set_horizon(ana_dedup_t *self, sn_day_t oldest);

/** Reclaim the entries before the horizon now (rebuilds the table). */
void ana_dedup_purge(ana_dedup_t *self);

/** @return the current horizon (INT32_MIN when never set). */
sn_day_t ana_dedup_horizon(const ana_dedup_t *self);

/** @return the number of entries held (expired ones until reclaimed). */
size_t ana_dedup_size(const ana_dedup_t *self);

/** @return the number of live entries the table accepts. */
size_t ana_dedup_capacity(const ana_dedup_t *self);

/** Write the table to `f` (binary; part of the analyzer's state file).
 *  @return SN_OK or SN_EIO. */
int ana_dedup_save(const ana_dedup_t *self, FILE *f);

/** Read a table written by ana_dedup_save() into a new table of at least
 *  `capacity` (the saved capacity wins when larger).
 *  @return SN_OK with *out (caller owns it), SN_EIO or SN_ECORRUPT with a
 *  message in err. */
int ana_dedup_load(FILE *f, size_t capacity, ana_dedup_t **out, sn_err_t *err);

#endif
