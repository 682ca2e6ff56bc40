/*  analyzer/health.c - feed health: silent sites and backlog resubmissions
 *
 *  Each feed keeps a ring of the last ANA_HEALTH_MAX_DAYS days it reported
 *  on (slot d % N holds d when it did), so "did it report on d" is one
 *  comparison. Events reach their feed through a leaf -> feed array, so the
 *  per-event cost is an index and a store; feeds are looked up by name only
 *  when a leaf is first seen.
 */
#include "health.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define S_MAGIC 0x484c5431u /* "HLT1" */
#define S_NONE UINT32_MAX

/* One (site, source) feed. */
typedef struct s_feed {
    char site[SN_SITE_ID_MAX + 1];      /* site id */
    char region[SN_REGION_MAX + 1];     /* its region */
    uint8_t source;                     /* sn_source_t */
    uint8_t silent_raised;              /* silence already signalled */
    sn_day_t seen[ANA_HEALTH_MAX_DAYS]; /* slot d % N == d: reported on d */
    sn_day_t last;                      /* newest day reported */
    uint32_t backlog;                   /* backlog events since last close */
} s_feed_t;

struct ana_health {
    ana_health_opts_t opts; /* thresholds */
    ana_trigger_fn fn;      /* signal callback */
    void *arg;              /* its argument */
    s_feed_t *feeds;        /* the feeds */
    size_t n_feeds, cap_feeds;
    uint32_t *leaf_feed; /* leaf id -> feed index, S_NONE unknown */
    size_t n_leaf;       /* entries in leaf_feed */
};

void
ana_health_opts_default(ana_health_opts_t *opts)
{
    opts->silent_days = 3;
    opts->baseline_days = 28;
    opts->usual_fraction = 0.5;
    opts->backlog_days = 7;
    opts->backlog_min = 100;
    opts->level = SN_LEVEL_BLUE;
}

ana_health_t *
ana_health_new(const ana_health_opts_t *opts, ana_trigger_fn fn, void *arg)
{
    assert(opts->silent_days >= 1 && opts->baseline_days >= 1 &&
           opts->silent_days + opts->baseline_days <= ANA_HEALTH_MAX_DAYS);
    ana_health_t *self = sn_calloc(1, sizeof *self);
    self->opts = *opts;
    self->fn = fn;
    self->arg = arg;
    return self;
}

void
ana_health_destroy(ana_health_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->feeds);
    free((*self_p)->leaf_feed);
    free(*self_p);
    *self_p = NULL;
}

static uint32_t
s_feed_find(ana_health_t *self, const ana_series_key_t *key)
{
    for (size_t i = 0; i < self->n_feeds; i++) {
        if (self->feeds[i].source == key->source &&
            strcmp(self->feeds[i].site, key->site) == 0) {
            return (uint32_t)i;
        }
    }
    if (self->n_feeds == self->cap_feeds) {
        self->cap_feeds = self->cap_feeds ? self->cap_feeds * 2 : 16;
        self->feeds =
            sn_reallocarray(self->feeds, self->cap_feeds, sizeof *self->feeds);
    }
    s_feed_t *f = &self->feeds[self->n_feeds];
    memset(f, 0, sizeof *f);
    snprintf(f->site, sizeof f->site, "%s", key->site);
    snprintf(f->region, sizeof f->region, "%s", key->region);
    f->source = key->source;
    for (int d = 0; d < ANA_HEALTH_MAX_DAYS; d++) {
        f->seen[d] = INT32_MIN;
    }
    f->last = INT32_MIN;
    return (uint32_t)self->n_feeds++;
}

static size_t
s_slot(sn_day_t day)
{
    int64_t m = (int64_t)day % ANA_HEALTH_MAX_DAYS;
    return (size_t)(m < 0 ? m + ANA_HEALTH_MAX_DAYS : m);
}

void
ana_health_event(ana_health_t *self, uint32_t leaf, const ana_series_key_t *key,
                 sn_day_t day, sn_day_t closed)
{
    if (leaf >= self->n_leaf) {
        size_t n = self->n_leaf ? self->n_leaf : 64;
        while (n <= leaf) {
            n *= 2;
        }
        self->leaf_feed = sn_reallocarray(self->leaf_feed, n, sizeof(uint32_t));
        memset(self->leaf_feed + self->n_leaf, 0xff,
               (n - self->n_leaf) * sizeof(uint32_t));
        self->n_leaf = n;
    }
    if (self->leaf_feed[leaf] == S_NONE) {
        self->leaf_feed[leaf] = s_feed_find(self, key);
    }
    s_feed_t *f = &self->feeds[self->leaf_feed[leaf]];
    if (f->last == INT32_MIN || day > f->last - ANA_HEALTH_MAX_DAYS) {
        f->seen[s_slot(day)] = day;
    }
    if (day > f->last) {
        f->last = day;
        f->silent_raised = 0;
    }
    if (closed != INT32_MIN && day < closed - self->opts.backlog_days) {
        f->backlog++;
    }
}

static void
s_raise(ana_health_t *self, const s_feed_t *f, const char *what, sn_day_t day,
        sn_time_t now, double observed, double expected)
{
    char summary[256];
    const char *src = sn_source_name((sn_source_t)f->source);
    if (strcmp(what, "silence") == 0) {
        snprintf(summary, sizeof summary,
                 "feed-health: %s feed of site %s has sent nothing for %.0f "
                 "day(s) though it usually reports",
                 src, f->site, observed);
    } else {
        snprintf(summary, sizeof summary,
                 "feed-health: %s feed of site %s resubmitted a backlog of "
                 "%.0f old event(s)",
                 src, f->site, observed);
    }
    sn_alert_t *a = sn_alert_new(self->opts.level, "feed-health", "feed",
                                 f->region[0] ? f->region : "unknown", day, now,
                                 summary, NULL);
    if (a == NULL) {
        return;
    }
    sn_evidence_t ev;
    sn_evidence_init(&ev);
    snprintf(ev.series_key, sizeof ev.series_key, "feed/%s/%s", f->site, src);
    snprintf(ev.condition, sizeof ev.condition, "feed");
    snprintf(ev.region, sizeof ev.region, "%s", f->region);
    ev.source = (sn_source_t)f->source;
    snprintf(ev.site_id, sizeof ev.site_id, "%s", f->site);
    snprintf(ev.detector, sizeof ev.detector, "%s", what);
    ev.day = day;
    ev.observed = observed;
    ev.expected = expected;
    sn_alert_add_evidence(a, &ev, NULL);
    self->fn(a, self->arg);
    sn_alert_destroy(&a);
}

/* Days of [from, to] the feed reported on. */
static int
s_days_seen(const s_feed_t *f, sn_day_t from, sn_day_t to)
{
    int n = 0;
    for (sn_day_t d = from; d <= to; d++) {
        n += f->seen[s_slot(d)] == d;
    }
    return n;
}

int
ana_health_close(ana_health_t *self, sn_day_t day, sn_time_t now)
{
    const ana_health_opts_t *o = &self->opts;
    int raised = 0;
    for (size_t i = 0; i < self->n_feeds; i++) {
        s_feed_t *f = &self->feeds[i];
        if (f->backlog >= o->backlog_min) {
            s_raise(self, f, "backlog", day, now, f->backlog, NAN);
            raised++;
        }
        f->backlog = 0;
        sn_day_t quiet_from = day - o->silent_days + 1;
        if (f->silent_raised || f->last >= quiet_from) {
            continue;
        }
        int usual =
            s_days_seen(f, quiet_from - o->baseline_days, quiet_from - 1);
        if (usual >= o->usual_fraction * o->baseline_days) {
            f->silent_raised = 1;
            s_raise(self, f, "silence", day, now, day - f->last,
                    (double)usual / o->baseline_days);
            raised++;
        }
    }
    return raised;
}

size_t
ana_health_feeds(const ana_health_t *self)
{
    return self->n_feeds;
}

int
ana_health_save(const ana_health_t *self, FILE *f)
{
    uint32_t magic = S_MAGIC;
    uint64_t n = self->n_feeds;
    if (fwrite(&magic, 4, 1, f) != 1 || fwrite(&n, 8, 1, f) != 1 ||
        (n > 0 && fwrite(self->feeds, sizeof *self->feeds, n, f) != n)) {
        return SN_EIO;
    }
    return SN_OK;
}

int
ana_health_load(ana_health_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic;
    uint64_t n;
    if (fread(&magic, 4, 1, f) != 1 || fread(&n, 8, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "health state: truncated");
    }
    if (magic != S_MAGIC || n > (1u << 24)) {
        return sn_err_set(err, SN_ECORRUPT, "health state: bad header");
    }
    s_feed_t *feeds = sn_calloc(n + 1, sizeof *feeds);
    if (fread(feeds, sizeof *feeds, n, f) != n) {
        free(feeds);
        return sn_err_set(err, SN_EIO, "health state: truncated feeds");
    }
    free(self->feeds);
    self->feeds = feeds;
    self->n_feeds = self->cap_feeds = n + 1;
    self->n_feeds = n;
    if (self->leaf_feed != NULL) {
        memset(self->leaf_feed, 0xff, self->n_leaf * sizeof(uint32_t));
    }
    return SN_OK;
}
