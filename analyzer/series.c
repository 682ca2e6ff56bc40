/*  analyzer/series.c - series keys, the series catalogue and their bins
 *
 *  Two tables share one open-addressing index type: leaves (what events carry)
 *  and series (what is binned and detected). Both keep their records in a
 *  growing array, indexed by a power-of-two array of ids (UINT32_MAX empty),
 *  so a lookup hashes the zero-padded key bytes once and compares whole
 *  keys. Records are added only when a new leaf or series appears: the
 *  per-event path allocates nothing.
 */
#include "series.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_MAGIC 0x53455231u /* "SER1" */

/* An id index over an array of keys. */
typedef struct s_index {
    uint32_t *ids; /* mask + 1 slots, UINT32_MAX when empty */
    size_t mask;   /* slots - 1 */
} s_index_t;

/* One leaf: an event's full key and the series it counts towards. */
typedef struct s_leaf {
    ana_series_key_t key;                   /* level SITE */
    uint32_t fanout[ANA_SERIES_MAX_FANOUT]; /* series ids */
    uint32_t n_fanout;                      /* how many */
} s_leaf_t;

/* One series: its key, its bins, its denominator. */
typedef struct s_series {
    ana_series_key_t key; /* what it counts */
    ana_window_t *window; /* its daily bins */
    uint32_t denom;       /* denominator series or ANA_SERIES_NONE */
} s_series_t;

struct ana_series {
    ana_condition_t *conds;   /* catalogue */
    size_t n_conds;           /* its size */
    ana_series_spec_t *specs; /* which series exist */
    size_t n_specs;           /* their number */
    size_t span;              /* window span of new series */
    sn_day_t today;           /* newest day of new windows */
    s_leaf_t *leaves;         /* leaf records */
    size_t n_leaves, cap_leaves;
    s_series_t *series; /* series records */
    size_t n_series, cap_series;
    s_index_t leaf_ix;   /* key -> leaf id */
    s_index_t series_ix; /* key -> series id */
};

static const char *const s_level_names[] = {"site", "county", "prefecture",
                                            "province"};
static const size_t s_level_digits[] = {6, 6, 4, 2};

/* ---- index ------------------------------------------------------------- */

/* The key's bytes as whole 64-bit words, then the few bytes left over
 * (zero-extended): every copy has a constant size, so none is a call. */
enum { S_KEY_WORDS = sizeof(ana_series_key_t) / 8 };

static uint64_t
s_key_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x100000001b3ull;
    return h ^ (h >> 29);
}

static uint64_t
s_key_hash(const ana_series_key_t *k)
{
    const unsigned char *p = (const unsigned char *)k;
    uint64_t h = 1469598103934665603ull, w;
    for (size_t i = 0; i < S_KEY_WORDS; i++) {
        memcpy(&w, p + 8 * i, 8);
        h = s_key_step(h, w);
    }
    if (sizeof *k % 8 != 0) {
        w = 0;
        memcpy(&w, p + 8 * S_KEY_WORDS, sizeof *k % 8);
        h = s_key_step(h, w);
    }
    return h * 0x9e3779b97f4a7c15ull;
}

static void
s_index_init(s_index_t *ix, size_t slots)
{
    ix->ids = sn_malloc(slots * sizeof *ix->ids);
    memset(ix->ids, 0xff, slots * sizeof *ix->ids);
    ix->mask = slots - 1;
}

/* The slot of `key` (holding its id) or the empty slot where it goes. The
 * `keys` callback-free form: records are read through a stride. */
static uint32_t *
s_index_slot(const s_index_t *ix, const ana_series_key_t *key,
             const void *records, size_t stride)
{
    size_t i = (size_t)(s_key_hash(key) >> 7) & ix->mask;
    for (;;) {
        uint32_t id = ix->ids[i];
        if (id == UINT32_MAX) {
            return &ix->ids[i];
        }
        const ana_series_key_t *k =
            (const void *)((const char *)records + (size_t)id * stride);
        if (memcmp(k, key, sizeof *key) == 0) {
            return &ix->ids[i];
        }
        i = (i + 1) & ix->mask;
    }
}

/* Double the index when it passes 1/2 full, reinserting every record. */
static void
s_index_grow(s_index_t *ix, size_t count, const void *records, size_t stride)
{
    if (count * 2 < ix->mask + 1) {
        return;
    }
    free(ix->ids);
    s_index_init(ix, (ix->mask + 1) * 2);
    for (size_t id = 0; id < count; id++) {
        const ana_series_key_t *k =
            (const void *)((const char *)records + id * stride);
        *s_index_slot(ix, k, records, stride) = (uint32_t)id;
    }
}

/* ---- lifecycle ---------------------------------------------------------- */

ana_series_t *
ana_series_new(const ana_condition_t *conds, size_t n_conds,
               const ana_series_spec_t *specs, size_t n_specs, size_t span,
               sn_day_t today)
{
    ana_series_t *self = sn_calloc(1, sizeof *self);
    self->conds = sn_calloc(n_conds + 1, sizeof *conds);
    if (n_conds > 0) {
        memcpy(self->conds, conds, n_conds * sizeof *conds);
    }
    self->n_conds = n_conds;
    self->specs = sn_calloc(n_specs + 1, sizeof *specs);
    if (n_specs > 0) {
        memcpy(self->specs, specs, n_specs * sizeof *specs);
    }
    self->n_specs = n_specs;
    self->span = span;
    self->today = today;
    s_index_init(&self->leaf_ix, 64);
    s_index_init(&self->series_ix, 64);
    return self;
}

void
ana_series_destroy(ana_series_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_series_t *self = *self_p;
    for (size_t i = 0; i < self->n_series; i++) {
        ana_window_destroy(&self->series[i].window);
    }
    free(self->series);
    free(self->leaves);
    free(self->leaf_ix.ids);
    free(self->series_ix.ids);
    free(self->conds);
    free(self->specs);
    free(self);
    *self_p = NULL;
}

/* ---- keys --------------------------------------------------------------- */

const ana_condition_t *
ana_series_condition(const ana_series_t *self, const char *code)
{
    for (size_t i = 0; i < self->n_conds; i++) {
        if (strcmp(self->conds[i].code, code) == 0) {
            return &self->conds[i];
        }
    }
    return NULL;
}

static void
s_key_make(ana_series_key_t *k, const char *condition, const char *region,
           size_t digits, sn_source_t source, const char *site, int level)
{
    /* The key is hashed and compared as bytes: zero it whole, then copy
     * only the strings' bytes (strncpy would zero the tails again). */
    memset(k, 0, sizeof *k);
    memcpy(k->condition, condition, strnlen(condition, SN_CONDITION_MAX));
    memcpy(k->region, region, strnlen(region, digits));
    if (site != NULL) {
        memcpy(k->site, site, strnlen(site, SN_SITE_ID_MAX));
    }
    k->source = (uint8_t)source;
    k->level = (uint8_t)level;
}

/* Find or create series `key`; creating it also creates its denominator. */
static uint32_t s_series_intern(ana_series_t *self, const ana_series_key_t *key,
                                const char *denominator);

static uint32_t
s_series_intern(ana_series_t *self, const ana_series_key_t *key,
                const char *denominator)
{
    uint32_t *slot =
        s_index_slot(&self->series_ix, key, self->series, sizeof *self->series);
    if (*slot != UINT32_MAX) {
        return *slot;
    }
    if (self->n_series == self->cap_series) {
        self->cap_series = self->cap_series ? self->cap_series * 2 : 64;
        self->series = sn_reallocarray(self->series, self->cap_series,
                                       sizeof *self->series);
    }
    uint32_t id = (uint32_t)self->n_series++;
    s_series_t *s = &self->series[id];
    s->key = *key;
    s->window = ana_window_new(self->span, self->today);
    s->denom = ANA_SERIES_NONE;
    *slot = id;
    s_index_grow(&self->series_ix, self->n_series, self->series,
                 sizeof *self->series);
    if (denominator != NULL && denominator[0] != '\0') {
        ana_series_key_t dk = *key;
        memset(dk.condition, 0, sizeof dk.condition);
        strncpy(dk.condition, denominator, SN_CONDITION_MAX);
        uint32_t d = s_series_intern(self, &dk, NULL);
        self->series[id].denom = d;
    }
    return id;
}

/* Work out the fan-out of a new leaf from the specs. */
static void
s_leaf_fanout(ana_series_t *self, s_leaf_t *leaf)
{
    const ana_series_key_t *lk = &leaf->key;
    for (size_t i = 0; i < self->n_specs; i++) {
        const ana_series_spec_t *sp = &self->specs[i];
        if (strcmp(sp->condition, lk->condition) != 0 ||
            (sp->sources != 0 && !(sp->sources & (1u << lk->source)))) {
            continue;
        }
        for (int lv = 0; lv < ANA_LEVEL_COUNT; lv++) {
            size_t digits = s_level_digits[lv];
            if (!(sp->levels & (1u << lv)) || strlen(lk->region) < digits ||
                leaf->n_fanout == ANA_SERIES_MAX_FANOUT) {
                continue;
            }
            ana_series_key_t k;
            s_key_make(&k, lk->condition, lk->region, digits, lk->source,
                       lv == ANA_LEVEL_SITE ? lk->site : NULL, lv);
            leaf->fanout[leaf->n_fanout++] =
                s_series_intern(self, &k, sp->denominator);
        }
    }
}

int
ana_series_leaf(ana_series_t *self, const char *condition, const char *region,
                sn_source_t source, const char *site, uint32_t *leaf,
                sn_err_t *err)
{
    ana_series_key_t k;
    s_key_make(&k, condition, region, SN_REGION_MAX, source, site,
               ANA_LEVEL_SITE);
    uint32_t *slot =
        s_index_slot(&self->leaf_ix, &k, self->leaves, sizeof *self->leaves);
    if (*slot != UINT32_MAX) {
        *leaf = *slot;
        return SN_OK;
    }
    if (ana_series_condition(self, condition) == NULL) {
        return sn_err_set(err, SN_ENOTFOUND,
                          "field 'condition': '%s' is not in the catalogue",
                          condition);
    }
    if (self->n_leaves == self->cap_leaves) {
        self->cap_leaves = self->cap_leaves ? self->cap_leaves * 2 : 64;
        self->leaves = sn_reallocarray(self->leaves, self->cap_leaves,
                                       sizeof *self->leaves);
    }
    uint32_t id = (uint32_t)self->n_leaves++;
    memset(&self->leaves[id], 0, sizeof self->leaves[id]);
    self->leaves[id].key = k;
    *slot = id;
    s_index_grow(&self->leaf_ix, self->n_leaves, self->leaves,
                 sizeof *self->leaves);
    s_leaf_fanout(self, &self->leaves[id]);
    *leaf = id;
    return SN_OK;
}

int
ana_series_leaf_find(const ana_series_t *self, const char *condition,
                     const char *region, sn_source_t source, const char *site,
                     uint32_t *leaf)
{
    ana_series_key_t k;
    s_key_make(&k, condition, region, SN_REGION_MAX, source, site,
               ANA_LEVEL_SITE);
    uint32_t id =
        *s_index_slot(&self->leaf_ix, &k, self->leaves, sizeof *self->leaves);
    if (id == UINT32_MAX) {
        return SN_ENOTFOUND;
    }
    *leaf = id;
    return SN_OK;
}

const uint32_t *
ana_series_fanout(const ana_series_t *self, uint32_t leaf, size_t *n)
{
    assert(leaf < self->n_leaves);
    *n = self->leaves[leaf].n_fanout;
    return self->leaves[leaf].fanout;
}

const ana_series_key_t *
ana_series_leaf_key(const ana_series_t *self, uint32_t leaf)
{
    assert(leaf < self->n_leaves);
    return &self->leaves[leaf].key;
}

int
ana_series_add(ana_series_t *self, uint32_t leaf, sn_day_t day, uint32_t count,
               int sign)
{
    const s_leaf_t *l = &self->leaves[leaf];
    for (uint32_t i = 0; i < l->n_fanout; i++) {
        ana_window_t *w = self->series[l->fanout[i]].window;
        if (day > ana_window_today(w)) {
            ana_window_advance(w, day);
        }
        int rc = sign < 0 ? ana_window_sub(w, day, count)
                          : ana_window_add(w, day, count);
        if (rc != SN_OK) {
            return rc; /* only the first can fail: all windows agree */
        }
    }
    if (day > self->today) {
        self->today = day;
    }
    return SN_OK;
}

size_t
ana_series_size(const ana_series_t *self)
{
    return self->n_series;
}

size_t
ana_series_leaves(const ana_series_t *self)
{
    return self->n_leaves;
}

const ana_series_key_t *
ana_series_key(const ana_series_t *self, uint32_t id)
{
    assert(id < self->n_series);
    return &self->series[id].key;
}

uint32_t
ana_series_find(const ana_series_t *self, const ana_series_key_t *key)
{
    return *s_index_slot(&self->series_ix, key, self->series,
                         sizeof *self->series);
}

ana_window_t *
ana_series_window(ana_series_t *self, uint32_t id)
{
    assert(id < self->n_series);
    return self->series[id].window;
}

uint32_t
ana_series_denominator(const ana_series_t *self, uint32_t id)
{
    assert(id < self->n_series);
    return self->series[id].denom;
}

void
ana_series_advance(ana_series_t *self, sn_day_t today)
{
    for (size_t i = 0; i < self->n_series; i++) {
        if (ana_window_today(self->series[i].window) < today) {
            ana_window_advance(self->series[i].window, today);
        }
    }
    if (today > self->today) {
        self->today = today;
    }
}

size_t
ana_series_weekly(ana_series_t *self, uint32_t id, sn_day_t last, double *out,
                  size_t max)
{
    /* The last complete ISO week ends on the Sunday on or before `last`. */
    sn_day_t sunday = last - (sn_day_weekday(last) % 7);
    return ana_window_aggregate(self->series[id].window, sunday, 7, 7, out,
                                max);
}

char *
ana_series_name(const ana_series_key_t *key, char *buf)
{
    const char *src = sn_source_name((sn_source_t)key->source);
    snprintf(buf, ANA_SERIES_NAME_MAX, "%s/%s/%s%s%s", key->condition,
             key->region, src ? src : "any", key->site[0] ? "/" : "",
             key->site);
    return buf;
}

int
ana_level_parse(const char *name, ana_level_t *out)
{
    for (int i = 0; i < ANA_LEVEL_COUNT; i++) {
        if (strcmp(name, s_level_names[i]) == 0) {
            *out = (ana_level_t)i;
            return SN_OK;
        }
    }
    return SN_ENOTFOUND;
}

const char *
ana_level_name(ana_level_t level)
{
    assert(level < ANA_LEVEL_COUNT);
    return s_level_names[level];
}

size_t
ana_level_digits(ana_level_t level)
{
    assert(level < ANA_LEVEL_COUNT);
    return s_level_digits[level];
}

/* ---- state -------------------------------------------------------------- */

int
ana_series_save(const ana_series_t *self, FILE *f)
{
    uint32_t magic = S_MAGIC, span = (uint32_t)self->span;
    uint64_t nl = self->n_leaves, ns = self->n_series;
    if (fwrite(&magic, 4, 1, f) != 1 || fwrite(&span, 4, 1, f) != 1 ||
        fwrite(&nl, 8, 1, f) != 1 || fwrite(&ns, 8, 1, f) != 1) {
        return SN_EIO;
    }
    for (size_t i = 0; i < self->n_leaves; i++) {
        if (fwrite(&self->leaves[i].key, sizeof(ana_series_key_t), 1, f) != 1) {
            return SN_EIO;
        }
    }
    for (size_t i = 0; i < self->n_series; i++) {
        const ana_window_t *w = self->series[i].window;
        int32_t today = ana_window_today(w);
        if (fwrite(&self->series[i].key, sizeof(ana_series_key_t), 1, f) != 1 ||
            fwrite(&today, 4, 1, f) != 1 ||
            fwrite(ana_window_counts(w), 4, self->span, f) != self->span) {
            return SN_EIO;
        }
    }
    return SN_OK;
}

/* Read one saved series into the table, creating it if the leaves did not. */
static int
s_load_one(ana_series_t *self, FILE *f, uint32_t *bins, size_t span)
{
    ana_series_key_t k;
    int32_t today;
    if (fread(&k, sizeof k, 1, f) != 1 || fread(&today, 4, 1, f) != 1 ||
        fread(bins, 4, span, f) != span) {
        return SN_EIO;
    }
    uint32_t id = ana_series_find(self, &k);
    if (id == ANA_SERIES_NONE) {
        id = s_series_intern(self, &k, NULL);
    }
    ana_window_t *w = self->series[id].window;
    ana_window_destroy(&w);
    w = ana_window_new(span, today);
    for (size_t d = 0; d < span; d++) {
        if (bins[d] != 0) {
            ana_window_add(w, today - (sn_day_t)(span - 1 - d), bins[d]);
        }
    }
    self->series[id].window = w;
    if (today > self->today) {
        self->today = today;
    }
    return SN_OK;
}

int
ana_series_load(ana_series_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic, span;
    uint64_t nl, ns;
    if (fread(&magic, 4, 1, f) != 1 || fread(&span, 4, 1, f) != 1 ||
        fread(&nl, 8, 1, f) != 1 || fread(&ns, 8, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "series state: truncated header");
    }
    if (magic != S_MAGIC || span != self->span) {
        return sn_err_set(err, SN_ECORRUPT,
                          "series state: bad header or window span %u "
                          "differs from the configured %zu",
                          span, self->span);
    }
    for (uint64_t i = 0; i < nl; i++) {
        ana_series_key_t k;
        uint32_t id;
        if (fread(&k, sizeof k, 1, f) != 1 ||
            ana_series_leaf(self, k.condition, k.region, k.source, k.site, &id,
                            err) != SN_OK ||
            id != i) {
            return sn_err_set(err, SN_ECORRUPT,
                              "series state: leaf %llu unreadable or no "
                              "longer in the catalogue",
                              (unsigned long long)i);
        }
    }
    uint32_t *bins = sn_calloc(span, sizeof *bins);
    int rc = SN_OK;
    for (uint64_t i = 0; i < ns && rc == SN_OK; i++) {
        rc = s_load_one(self, f, bins, span);
    }
    free(bins);
    if (rc != SN_OK) {
        return sn_err_set(err, SN_EIO, "series state: truncated series");
    }
    return SN_OK;
}
