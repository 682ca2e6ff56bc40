/*  analyzer/trigger.c - multi-point trigger rules: signals in, alerts out
 *
 *  Signals are kept in one array for as long as any rule's window (plus a
 *  margin for late corrections of older days) may read them. Evaluating a
 *  rule selects the matching signals in its window, labels each with its
 *  group ("condition|region prefix") and member (source, site or
 *  sub-region), sorts by group and counts distinct members per group; a
 *  group raises its alert on a day only when one of its signals is of that
 *  day (new evidence), not again for old evidence still in the window. A
 *  closed day holds at most a few thousand alarms, so this is cheap; the
 *  per-event threshold path is a short scan of today's counters.
 */
#include "trigger.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_KEEP_EXTRA 60 /* days of signals kept beyond the longest window */
#define S_GROUP_MAX (SN_CONDITION_MAX + SN_REGION_MAX + 2)
#define S_MEMBER_MAX (SN_SITE_ID_MAX + 1)

/* One detector alarm. */
typedef struct s_signal {
    ana_series_key_t key;                    /* the series */
    char detector[SN_DETECTOR_MAX + 1];      /* method name */
    sn_day_t day;                            /* the day it is about */
    double observed, expected, upper, score; /* the detector's numbers */
} s_signal_t;

/* A threshold counter: cases of one (rule, condition, region) on one day. */
typedef struct s_counter {
    size_t rule;                          /* rule index */
    char condition[SN_CONDITION_MAX + 1]; /* condition code */
    char region[SN_REGION_MAX + 1];       /* region prefix */
    sn_day_t day;                         /* the day */
    uint64_t count;                       /* cases so far */
    int fired;                            /* alert raised already */
} s_counter_t;

/* A selected signal with its group and member labels. */
typedef struct s_pick {
    char group[S_GROUP_MAX];   /* "condition|region prefix" */
    char member[S_MEMBER_MAX]; /* what is counted distinct */
    size_t sig;                /* signal index */
} s_pick_t;

struct ana_trigger {
    ana_rule_t *rules;          /* the rules */
    size_t n_rules;             /* their number */
    const ana_series_t *series; /* the catalogue; borrowed */
    ana_trigger_fn fn;          /* alert callback */
    void *arg;                  /* its argument */
    s_signal_t *sig;            /* signals */
    size_t n_sig, cap_sig;
    s_counter_t *ctr; /* threshold counters */
    size_t n_ctr, cap_ctr;
    uint32_t keep; /* days of signals kept */
};

static const char *const s_kind_names[] = {
    "threshold", "single", "multi-source", "multi-site", "spread"};

ana_trigger_t *
ana_trigger_new(const ana_rule_t *rules, size_t n_rules,
                const ana_series_t *series, ana_trigger_fn fn, void *arg)
{
    ana_trigger_t *self = sn_calloc(1, sizeof *self);
    self->rules = sn_calloc(n_rules + 1, sizeof *rules);
    if (n_rules > 0) {
        memcpy(self->rules, rules, n_rules * sizeof *rules);
    }
    self->n_rules = n_rules;
    self->series = series;
    self->fn = fn;
    self->arg = arg;
    self->keep = S_KEEP_EXTRA;
    for (size_t i = 0; i < n_rules; i++) {
        if (rules[i].days + S_KEEP_EXTRA > self->keep) {
            self->keep = rules[i].days + S_KEEP_EXTRA;
        }
    }
    return self;
}

void
ana_trigger_destroy(ana_trigger_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->rules);
    free((*self_p)->sig);
    free((*self_p)->ctr);
    free(*self_p);
    *self_p = NULL;
}

/* Whether `rule` covers `condition` (by list, by class, or any). */
static int
s_rule_condition(const ana_trigger_t *self, const ana_rule_t *rule,
                 const char *condition)
{
    if (rule->n_conditions > 0) {
        for (size_t i = 0; i < rule->n_conditions; i++) {
            if (strcmp(rule->conditions[i], condition) == 0) {
                return 1;
            }
        }
        return 0;
    }
    if (rule->classes[0] != '\0') {
        const ana_condition_t *c =
            ana_series_condition(self->series, condition);
        return c != NULL && c->klass != '\0' &&
               strchr(rule->classes, c->klass) != NULL;
    }
    return 1;
}

static void
s_prefix(char *out, const char *region, ana_level_t level)
{
    size_t d = ana_level_digits(level), n = strlen(region);
    n = n < d ? n : d;
    memcpy(out, region, n);
    out[n] = '\0';
}

/* Fill an evidence row from a series key and numbers. */
static void
s_evidence(sn_evidence_t *ev, const ana_series_key_t *key, const char *detector,
           sn_day_t day, const double num[4])
{
    sn_evidence_init(ev);
    char name[ANA_SERIES_NAME_MAX];
    snprintf(ev->series_key, sizeof ev->series_key, "%s",
             ana_series_name(key, name));
    snprintf(ev->condition, sizeof ev->condition, "%s", key->condition);
    snprintf(ev->region, sizeof ev->region, "%s", key->region);
    ev->source = (sn_source_t)key->source;
    snprintf(ev->site_id, sizeof ev->site_id, "%s", key->site);
    snprintf(ev->detector, sizeof ev->detector, "%s", detector);
    ev->day = day;
    ev->observed = num[0];
    ev->expected = num[1];
    ev->upperbound = num[2];
    ev->score = num[3];
}

/* Find or add the counter of (rule, condition, region, day). */
static s_counter_t *
s_counter(ana_trigger_t *self, size_t rule, const char *condition,
          const char *region, sn_day_t day)
{
    for (size_t i = 0; i < self->n_ctr; i++) {
        s_counter_t *c = &self->ctr[i];
        if (c->rule == rule && c->day == day &&
            strcmp(c->condition, condition) == 0 &&
            strcmp(c->region, region) == 0) {
            return c;
        }
    }
    if (self->n_ctr == self->cap_ctr) {
        self->cap_ctr = self->cap_ctr ? self->cap_ctr * 2 : 16;
        self->ctr =
            sn_reallocarray(self->ctr, self->cap_ctr, sizeof *self->ctr);
    }
    s_counter_t *c = &self->ctr[self->n_ctr++];
    memset(c, 0, sizeof *c);
    c->rule = rule;
    snprintf(c->condition, sizeof c->condition, "%s", condition);
    snprintf(c->region, sizeof c->region, "%s", region);
    c->day = day;
    return c;
}

static void
s_raise_threshold(ana_trigger_t *self, const ana_rule_t *rule,
                  const s_counter_t *c, const ana_series_key_t *key,
                  sn_time_t now)
{
    char summary[256];
    snprintf(summary, sizeof summary,
             "%s: %llu case(s) of %s in %s on one day (threshold %u)",
             rule->name, (unsigned long long)c->count, c->condition, c->region,
             rule->min_count);
    sn_alert_t *a = sn_alert_new(rule->level, rule->name, c->condition,
                                 c->region, c->day, now, summary, NULL);
    if (a == NULL) {
        return; /* a rule name the config loader let through too long */
    }
    sn_evidence_t ev;
    double num[4] = {(double)c->count, NAN, (double)rule->min_count, NAN};
    s_evidence(&ev, key, "threshold", c->day, num);
    sn_alert_add_evidence(a, &ev, NULL);
    self->fn(a, self->arg);
    sn_alert_destroy(&a);
}

int
ana_trigger_event(ana_trigger_t *self, const ana_series_key_t *key,
                  sn_day_t day, uint32_t count, sn_time_t now)
{
    int raised = 0;
    for (size_t r = 0; r < self->n_rules; r++) {
        const ana_rule_t *rule = &self->rules[r];
        if (rule->kind != ANA_RULE_THRESHOLD ||
            (rule->sources != 0 && !(rule->sources & (1u << key->source))) ||
            !s_rule_condition(self, rule, key->condition)) {
            continue;
        }
        char region[SN_REGION_MAX + 1];
        s_prefix(region, key->region, rule->group);
        s_counter_t *c = s_counter(self, r, key->condition, region, day);
        c->count += count;
        if (!c->fired && c->count >= rule->min_count) {
            c->fired = 1;
            s_raise_threshold(self, rule, c, key, now);
            raised++;
        }
    }
    return raised;
}

void
ana_trigger_signal(ana_trigger_t *self, const ana_series_key_t *key,
                   const char *detector, sn_day_t day,
                   const sn_det_point_t *point)
{
    if (self->n_sig == self->cap_sig) {
        self->cap_sig = self->cap_sig ? self->cap_sig * 2 : 256;
        self->sig =
            sn_reallocarray(self->sig, self->cap_sig, sizeof *self->sig);
    }
    s_signal_t *s = &self->sig[self->n_sig++];
    s->key = *key;
    snprintf(s->detector, sizeof s->detector, "%s", detector);
    s->day = day;
    s->observed = point->observed;
    s->expected = point->expected;
    s->upper = point->upperbound;
    s->score = point->score;
}

void
ana_trigger_retract(ana_trigger_t *self, const ana_series_key_t *key,
                    sn_day_t day)
{
    size_t out = 0;
    for (size_t i = 0; i < self->n_sig; i++) {
        if (self->sig[i].day == day &&
            memcmp(&self->sig[i].key, key, sizeof *key) == 0) {
            continue;
        }
        self->sig[out++] = self->sig[i];
    }
    self->n_sig = out;
}

/* Whether signal `s` is one rule `rule` reads for `day`. */
static int
s_rule_reads(const ana_trigger_t *self, const ana_rule_t *rule,
             const s_signal_t *s, sn_day_t day)
{
    uint32_t days = rule->days > 0 ? rule->days : 1;
    return s->day <= day && s->day > day - (sn_day_t)days &&
           s->key.level == rule->series &&
           (rule->sources == 0 || (rule->sources & (1u << s->key.source))) &&
           (rule->detector[0] == '\0' ||
            strcmp(rule->detector, s->detector) == 0) &&
           s_rule_condition(self, rule, s->key.condition);
}

static void
s_member(const ana_rule_t *rule, const s_signal_t *s, char *out)
{
    switch (rule->kind) {
    case ANA_RULE_MULTI_SOURCE:
        snprintf(out, S_MEMBER_MAX, "%s",
                 sn_source_name((sn_source_t)s->key.source));
        break;
    case ANA_RULE_MULTI_SITE:
        snprintf(out, S_MEMBER_MAX, "%s", s->key.site);
        break;
    case ANA_RULE_SPREAD:
        snprintf(out, S_MEMBER_MAX, "%s", s->key.region);
        break;
    default: /* single: every signal is its own member */
        snprintf(out, S_MEMBER_MAX, "%s", s->detector);
        break;
    }
}

static int
s_pick_cmp(const void *a, const void *b)
{
    const s_pick_t *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    if (c == 0) {
        c = strcmp(x->member, y->member);
    }
    return c != 0 ? c : (x->sig > y->sig) - (x->sig < y->sig);
}

/* Raise the alert of one group picks[lo..hi) that met its rule. */
static void
s_raise_group(ana_trigger_t *self, const ana_rule_t *rule,
              const s_pick_t *picks, size_t lo, size_t hi, size_t distinct,
              sn_day_t day, sn_time_t now)
{
    const s_signal_t *first = &self->sig[picks[lo].sig];
    char region[SN_REGION_MAX + 1], summary[SN_SUMMARY_MAX];
    s_prefix(region, first->key.region, rule->group);
    int len = snprintf(
        summary, sizeof summary,
        "%s: %zu %s alarmed for %s in %s within %u day(s):", rule->name,
        distinct,
        rule->kind == ANA_RULE_MULTI_SOURCE ? "source(s)"
        : rule->kind == ANA_RULE_MULTI_SITE ? "site(s)"
        : rule->kind == ANA_RULE_SPREAD     ? "sub-region(s)"
                                            : "series",
        first->key.condition, region, rule->days > 0 ? rule->days : 1);
    for (size_t i = lo; i < hi && len > 0 && (size_t)len < sizeof summary;
         i++) {
        if (i == lo || strcmp(picks[i].member, picks[i - 1].member) != 0) {
            len += snprintf(summary + len, sizeof summary - (size_t)len, " %s",
                            picks[i].member);
        }
    }
    sn_alert_t *a = sn_alert_new(rule->level, rule->name, first->key.condition,
                                 region, day, now, summary, NULL);
    if (a == NULL) {
        return;
    }
    for (size_t i = lo; i < hi; i++) {
        const s_signal_t *s = &self->sig[picks[i].sig];
        double num[4] = {s->observed, s->expected, s->upper, s->score};
        sn_evidence_t ev;
        s_evidence(&ev, &s->key, s->detector, s->day, num);
        sn_alert_add_evidence(a, &ev, NULL);
    }
    self->fn(a, self->arg);
    sn_alert_destroy(&a);
}

/* Evaluate one signal rule for `day`. @return alerts raised. */
static int
s_evaluate_rule(ana_trigger_t *self, const ana_rule_t *rule, sn_day_t day,
                sn_time_t now, s_pick_t *picks)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n_sig; i++) {
        const s_signal_t *s = &self->sig[i];
        if (!s_rule_reads(self, rule, s, day)) {
            continue;
        }
        char region[SN_REGION_MAX + 1];
        s_prefix(region, s->key.region, rule->group);
        snprintf(picks[n].group, S_GROUP_MAX, "%s|%s", s->key.condition,
                 region);
        s_member(rule, s, picks[n].member);
        picks[n++].sig = i;
    }
    qsort(picks, n, sizeof *picks, s_pick_cmp);
    int raised = 0;
    uint32_t k = rule->kind == ANA_RULE_SINGLE ? 1 : rule->k;
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo, distinct = 0;
        bool fresh = false;
        while (hi < n && strcmp(picks[hi].group, picks[lo].group) == 0) {
            if (hi == lo ||
                strcmp(picks[hi].member, picks[hi - 1].member) != 0) {
                distinct++;
            }
            fresh = fresh || self->sig[picks[hi].sig].day == day;
            hi++;
        }
        if (distinct >= k && fresh) {
            s_raise_group(self, rule, picks, lo, hi, distinct, day, now);
            raised++;
        }
        lo = hi;
    }
    return raised;
}

/* Forget signals and counters no rule will read again. */
static void
s_expire(ana_trigger_t *self, sn_day_t day)
{
    size_t out = 0;
    for (size_t i = 0; i < self->n_sig; i++) {
        if (self->sig[i].day > day - (sn_day_t)self->keep) {
            self->sig[out++] = self->sig[i];
        }
    }
    self->n_sig = out;
    out = 0;
    for (size_t i = 0; i < self->n_ctr; i++) {
        if (self->ctr[i].day >= day - 1) {
            self->ctr[out++] = self->ctr[i];
        }
    }
    self->n_ctr = out;
}

int
ana_trigger_evaluate(ana_trigger_t *self, sn_day_t day, sn_time_t now)
{
    s_pick_t *picks = sn_calloc(self->n_sig + 1, sizeof *picks);
    int raised = 0;
    for (size_t r = 0; r < self->n_rules; r++) {
        if (self->rules[r].kind != ANA_RULE_THRESHOLD) {
            raised += s_evaluate_rule(self, &self->rules[r], day, now, picks);
        }
    }
    free(picks);
    s_expire(self, day);
    return raised;
}

size_t
ana_trigger_signals(const ana_trigger_t *self)
{
    return self->n_sig;
}

int
ana_rule_kind_parse(const char *name, ana_rule_kind_t *out)
{
    for (int i = 0; i < ANA_RULE_KIND_COUNT; i++) {
        if (strcmp(name, s_kind_names[i]) == 0) {
            *out = (ana_rule_kind_t)i;
            return SN_OK;
        }
    }
    return SN_ENOTFOUND;
}

const char *
ana_rule_kind_name(ana_rule_kind_t kind)
{
    assert(kind < ANA_RULE_KIND_COUNT);
    return s_kind_names[kind];
}
