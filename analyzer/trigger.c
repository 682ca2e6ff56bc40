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
 *
 *  Durability: a signal travels as a packed record (the series key's
 *  strings NUL-terminated, its source and level, the detector, the day,
 *  four doubles), the same bytes in the snapshot and in the journal
 *  operations the log hook receives, so a replay applies exactly what was
 *  done live.
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
#define S_SAVE_MAGIC 0x54524732u /* "TRG2": counters by rule name */
#define S_REC_MAX                                                              \
    (SN_RULE_MAX + SN_CONDITION_MAX + SN_REGION_MAX + SN_SITE_ID_MAX +         \
     SN_DETECTOR_MAX + 64) /* any packed signal or counter fits */

/* One detector alarm. */
typedef struct s_signal {
    ana_series_key_t key;                    /* the series */
    char detector[SN_DETECTOR_MAX + 1];      /* method name */
    sn_day_t day;                            /* the day it is about */
    double observed, expected, upper, score; /* the detector's numbers */
    uint32_t gen; /* ana_trigger_mark() generation it came in (not saved) */
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
    uint32_t keep;             /* days of signals kept */
    uint32_t gen;              /* current generation (ana_trigger_mark()) */
    uint32_t window;           /* the longest rule window, days */
    ana_trigger_log_fn log_fn; /* journal hook, or NULL */
    void *log_arg;             /* its argument */
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
    self->window = 1;
    for (size_t i = 0; i < n_rules; i++) {
        if (rules[i].days + S_KEEP_EXTRA > self->keep) {
            self->keep = rules[i].days + S_KEEP_EXTRA;
        }
        if (rules[i].kind != ANA_RULE_THRESHOLD &&
            rules[i].days > self->window) {
            self->window = rules[i].days;
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
    /* Every condition, but not a denominator (class '-', such as all
     * visits): a rise in visits is not an outbreak. */
    const ana_condition_t *c = ana_series_condition(self->series, condition);
    return c == NULL || c->klass != '-';
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
ana_trigger_count(ana_trigger_t *self, const ana_series_key_t *key,
                  sn_day_t day, int64_t delta, sn_time_t now, bool raise)
{
    int raised = 0;
    for (size_t r = 0; r < self->n_rules && delta != 0; r++) {
        const ana_rule_t *rule = &self->rules[r];
        if (rule->kind != ANA_RULE_THRESHOLD ||
            (rule->sources != 0 && !(rule->sources & (1u << key->source))) ||
            !s_rule_condition(self, rule, key->condition)) {
            continue;
        }
        char region[SN_REGION_MAX + 1];
        s_prefix(region, key->region, rule->group);
        s_counter_t *c = s_counter(self, r, key->condition, region, day);
        c->count = delta < 0 && (uint64_t)-delta > c->count
                       ? 0
                       : (uint64_t)((int64_t)c->count + delta);
        if (!c->fired && c->count >= rule->min_count) {
            c->fired = 1;
            if (raise) {
                s_raise_threshold(self, rule, c, key, now);
                raised++;
            }
        }
    }
    return raised;
}

int
ana_trigger_event(ana_trigger_t *self, const ana_series_key_t *key,
                  sn_day_t day, uint32_t count, sn_time_t now)
{
    return ana_trigger_count(self, key, day, count, now, true);
}

/* -- packed records ------------------------------------------------------ */

/* Append string `str` and its NUL to buf at *at (room checked by the
 * callers: S_REC_MAX holds every field at its longest). */
static void
s_put_str(uint8_t *buf, size_t *at, const char *str)
{
    size_t n = strlen(str) + 1;
    memcpy(buf + *at, str, n);
    *at += n;
}

/* Read a NUL-terminated string of at most `cap` - 1 bytes into `out`.
 * @return false when it does not fit or is not terminated within `len`. */
static bool
s_get_str(const uint8_t *p, size_t len, size_t *at, char *out, size_t cap)
{
    const uint8_t *z = *at < len ? memchr(p + *at, 0, len - *at) : NULL;
    if (z == NULL || (size_t)(z - (p + *at)) >= cap) {
        return false;
    }
    memcpy(out, p + *at, (size_t)(z - (p + *at)) + 1);
    *at = (size_t)(z - p) + 1;
    return true;
}

static size_t
s_pack_key(uint8_t *buf, const ana_series_key_t *key, sn_day_t day)
{
    size_t at = 0;
    s_put_str(buf, &at, key->condition);
    s_put_str(buf, &at, key->region);
    s_put_str(buf, &at, key->site);
    buf[at++] = key->source;
    buf[at++] = key->level;
    int32_t d = day;
    memcpy(buf + at, &d, 4);
    return at + 4;
}

static size_t
s_unpack_key(const uint8_t *p, size_t len, ana_series_key_t *key, sn_day_t *day)
{
    size_t at = 0;
    memset(key, 0, sizeof *key);
    if (!s_get_str(p, len, &at, key->condition, sizeof key->condition) ||
        !s_get_str(p, len, &at, key->region, sizeof key->region) ||
        !s_get_str(p, len, &at, key->site, sizeof key->site) || len - at < 6 ||
        p[at + 1] >= ANA_LEVEL_COUNT) {
        return 0;
    }
    key->source = p[at];
    key->level = p[at + 1];
    int32_t d;
    memcpy(&d, p + at + 2, 4);
    *day = d;
    return at + 6;
}

static size_t
s_pack_signal(uint8_t *buf, const s_signal_t *sig)
{
    size_t at = s_pack_key(buf, &sig->key, sig->day);
    s_put_str(buf, &at, sig->detector);
    double num[4] = {sig->observed, sig->expected, sig->upper, sig->score};
    memcpy(buf + at, num, sizeof num);
    return at + sizeof num;
}

static size_t
s_unpack_signal(const uint8_t *p, size_t len, s_signal_t *sig)
{
    memset(sig, 0, sizeof *sig);
    size_t at = s_unpack_key(p, len, &sig->key, &sig->day);
    double num[4];
    if (at == 0 ||
        !s_get_str(p, len, &at, sig->detector, sizeof sig->detector) ||
        len - at < sizeof num) {
        return 0;
    }
    memcpy(num, p + at, sizeof num);
    sig->observed = num[0];
    sig->expected = num[1];
    sig->upper = num[2];
    sig->score = num[3];
    return at + sizeof num;
}

/* -- signals ------------------------------------------------------------- */

static void
s_add_signal(ana_trigger_t *self, const s_signal_t *sig)
{
    if (self->n_sig == self->cap_sig) {
        self->cap_sig = self->cap_sig ? self->cap_sig * 2 : 256;
        self->sig =
            sn_reallocarray(self->sig, self->cap_sig, sizeof *self->sig);
    }
    self->sig[self->n_sig++] = *sig;
}

static void
s_retract(ana_trigger_t *self, const ana_series_key_t *key, sn_day_t day)
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

void
ana_trigger_signal(ana_trigger_t *self, const ana_series_key_t *key,
                   const char *detector, sn_day_t day,
                   const sn_det_point_t *point)
{
    s_signal_t sig;
    memset(&sig, 0, sizeof sig);
    snprintf(sig.key.condition, sizeof sig.key.condition, "%s", key->condition);
    snprintf(sig.key.region, sizeof sig.key.region, "%s", key->region);
    snprintf(sig.key.site, sizeof sig.key.site, "%s", key->site);
    sig.key.source = key->source;
    sig.key.level = key->level;
    snprintf(sig.detector, sizeof sig.detector, "%s", detector);
    sig.day = day;
    sig.observed = point->observed;
    sig.expected = point->expected;
    sig.upper = point->upperbound;
    sig.score = point->score;
    sig.gen = self->gen;
    s_add_signal(self, &sig);
    if (self->log_fn != NULL) {
        uint8_t rec[S_REC_MAX];
        size_t n = s_pack_signal(rec, &sig);
        self->log_fn(self->log_arg, ANA_TRIGGER_OP_SIGNAL, rec, n);
    }
}

void
ana_trigger_retract(ana_trigger_t *self, const ana_series_key_t *key,
                    sn_day_t day)
{
    ana_series_key_t k;
    memset(&k, 0, sizeof k);
    snprintf(k.condition, sizeof k.condition, "%s", key->condition);
    snprintf(k.region, sizeof k.region, "%s", key->region);
    snprintf(k.site, sizeof k.site, "%s", key->site);
    k.source = key->source;
    k.level = key->level;
    s_retract(self, &k, day);
    if (self->log_fn != NULL) {
        uint8_t rec[S_REC_MAX];
        size_t n = s_pack_key(rec, &k, day);
        self->log_fn(self->log_arg, ANA_TRIGGER_OP_RETRACT, rec, n);
    }
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

/* Evaluate one signal rule for `day` (with `only_new`, only the groups
 * holding a signal of the current generation). @return alerts raised. */
static int
s_evaluate_rule(ana_trigger_t *self, const ana_rule_t *rule, sn_day_t day,
                sn_time_t now, s_pick_t *picks, bool only_new)
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
        bool fresh = false, is_new = !only_new;
        while (hi < n && strcmp(picks[hi].group, picks[lo].group) == 0) {
            if (hi == lo ||
                strcmp(picks[hi].member, picks[hi - 1].member) != 0) {
                distinct++;
            }
            fresh = fresh || self->sig[picks[hi].sig].day == day;
            is_new = is_new || self->sig[picks[hi].sig].gen == self->gen;
            hi++;
        }
        if (distinct >= k && fresh && is_new) {
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

static int
s_evaluate(ana_trigger_t *self, sn_day_t day, sn_time_t now, bool only_new)
{
    s_pick_t *picks = sn_calloc(self->n_sig + 1, sizeof *picks);
    int raised = 0;
    for (size_t r = 0; r < self->n_rules; r++) {
        if (self->rules[r].kind != ANA_RULE_THRESHOLD) {
            raised += s_evaluate_rule(self, &self->rules[r], day, now, picks,
                                      only_new);
        }
    }
    free(picks);
    s_expire(self, day);
    return raised;
}

int
ana_trigger_evaluate(ana_trigger_t *self, sn_day_t day, sn_time_t now)
{
    return s_evaluate(self, day, now, false);
}

void
ana_trigger_mark(ana_trigger_t *self)
{
    self->gen++;
}

int
ana_trigger_reevaluate(ana_trigger_t *self, sn_day_t day, sn_time_t now)
{
    return s_evaluate(self, day, now, true);
}

size_t
ana_trigger_signals(const ana_trigger_t *self)
{
    return self->n_sig;
}

uint32_t
ana_trigger_window(const ana_trigger_t *self)
{
    return self->window;
}

void
ana_trigger_set_log(ana_trigger_t *self, ana_trigger_log_fn fn, void *arg)
{
    self->log_fn = fn;
    self->log_arg = arg;
}

size_t
ana_trigger_apply(ana_trigger_t *self, uint8_t op, const uint8_t *rec,
                  size_t len)
{
    if (op == ANA_TRIGGER_OP_SIGNAL) {
        s_signal_t sig;
        size_t used = s_unpack_signal(rec, len, &sig);
        if (used > 0) {
            s_add_signal(self, &sig);
        }
        return used;
    }
    if (op == ANA_TRIGGER_OP_RETRACT) {
        ana_series_key_t key;
        sn_day_t day;
        size_t used = s_unpack_key(rec, len, &key, &day);
        if (used > 0) {
            s_retract(self, &key, day);
        }
        return used;
    }
    return 0;
}

/* -- snapshot -------------------------------------------------------------- */

/* A counter: its rule's name, condition and region NUL-terminated, i32
 * day, u64 count, u8 fired. By name, so a rule inserted before it in the
 * configuration does not take its count over. */
static size_t
s_pack_counter(const ana_trigger_t *self, uint8_t *buf, const s_counter_t *c)
{
    size_t at = 0;
    s_put_str(buf, &at, self->rules[c->rule].name);
    s_put_str(buf, &at, c->condition);
    s_put_str(buf, &at, c->region);
    int32_t d = c->day;
    memcpy(buf + at, &d, 4);
    memcpy(buf + at + 4, &c->count, 8);
    buf[at + 12] = (uint8_t)c->fired;
    return at + 13;
}

/* Unpack a counter into *c; c->rule is the index of the threshold rule of
 * that name, or SIZE_MAX when the configuration has none any more.
 * @return the bytes used, 0 when it does not parse. */
static size_t
s_unpack_counter(const ana_trigger_t *self, const uint8_t *p, size_t len,
                 s_counter_t *c)
{
    memset(c, 0, sizeof *c);
    char rule[SN_RULE_MAX + 1];
    size_t at = 0;
    if (!s_get_str(p, len, &at, rule, sizeof rule) ||
        !s_get_str(p, len, &at, c->condition, sizeof c->condition) ||
        !s_get_str(p, len, &at, c->region, sizeof c->region) || len - at < 13) {
        return 0;
    }
    c->rule = SIZE_MAX;
    for (size_t r = 0; r < self->n_rules; r++) {
        if (self->rules[r].kind == ANA_RULE_THRESHOLD &&
            strcmp(self->rules[r].name, rule) == 0) {
            c->rule = r;
        }
    }
    int32_t d;
    memcpy(&d, p + at, 4);
    memcpy(&c->count, p + at + 4, 8);
    c->day = d;
    c->fired = p[at + 12] != 0;
    return at + 13;
}

/* Write `n` bytes of `rec` with their u32 length. */
static bool
s_write_rec(FILE *f, const uint8_t *rec, size_t n)
{
    uint32_t len = (uint32_t)n;
    return fwrite(&len, 4, 1, f) == 1 && fwrite(rec, 1, n, f) == n;
}

/* Read one length-prefixed record into rec. @return its length, 0 on a
 * short or oversized one. */
static size_t
s_read_rec(FILE *f, uint8_t *rec)
{
    uint32_t len;
    if (fread(&len, 4, 1, f) != 1 || len == 0 || len > S_REC_MAX ||
        fread(rec, 1, len, f) != len) {
        return 0;
    }
    return len;
}

int
ana_trigger_save(const ana_trigger_t *self, FILE *f)
{
    uint32_t magic = S_SAVE_MAGIC;
    uint64_t n_sig = self->n_sig, n_ctr = self->n_ctr;
    uint8_t rec[S_REC_MAX];
    bool ok = fwrite(&magic, 4, 1, f) == 1 && fwrite(&n_sig, 8, 1, f) == 1;
    for (size_t i = 0; ok && i < self->n_sig; i++) {
        ok = s_write_rec(f, rec, s_pack_signal(rec, &self->sig[i]));
    }
    ok = ok && fwrite(&n_ctr, 8, 1, f) == 1;
    for (size_t i = 0; ok && i < self->n_ctr; i++) {
        ok = s_write_rec(f, rec, s_pack_counter(self, rec, &self->ctr[i]));
    }
    return ok ? SN_OK : SN_EIO;
}

int
ana_trigger_load(ana_trigger_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic;
    uint64_t n;
    uint8_t rec[S_REC_MAX];
    if (fread(&magic, 4, 1, f) != 1 || magic != S_SAVE_MAGIC ||
        fread(&n, 8, 1, f) != 1) {
        return sn_err_set(err, SN_ECORRUPT, "state: bad trigger section");
    }
    self->n_sig = 0;
    self->n_ctr = 0;
    for (uint64_t i = 0; i < n; i++) {
        s_signal_t sig;
        size_t len = s_read_rec(f, rec);
        if (len == 0 || s_unpack_signal(rec, len, &sig) != len) {
            return sn_err_set(err, SN_ECORRUPT,
                              "state: trigger signal %llu of %llu unreadable",
                              (unsigned long long)i, (unsigned long long)n);
        }
        s_add_signal(self, &sig);
    }
    if (fread(&n, 8, 1, f) != 1) {
        return sn_err_set(err, SN_ECORRUPT, "state: no trigger counters");
    }
    for (uint64_t i = 0; i < n; i++) {
        s_counter_t c;
        size_t len = s_read_rec(f, rec);
        if (len == 0 || s_unpack_counter(self, rec, len, &c) != len) {
            return sn_err_set(err, SN_ECORRUPT,
                              "state: trigger counter %llu of %llu unreadable",
                              (unsigned long long)i, (unsigned long long)n);
        }
        /* A rule removed from the configuration since: its count goes. */
        if (c.rule != SIZE_MAX) {
            *s_counter(self, c.rule, c.condition, c.region, c.day) = c;
        }
    }
    return SN_OK;
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
