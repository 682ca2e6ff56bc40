/*  tests/analyzer/pipeline.c - an ingest pipeline from YAML for the suites
 *  (see pipeline.h)
 */
#include "pipeline.h"

#include "sentinel/mem.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char pl_yaml[] =
    "analyzer:\n"
    "  state_dir: /nonexistent\n"
    "  lateness_days: 0\n"
    "  wall_clock: false\n"
    "  horizon_days: 20\n"
    "  window_days: 120\n"
    "  dedup_capacity: 100000\n"
    "series:\n"
    "  - condition: ili\n"
    "    sources: [fever_clinic, pharmacy]\n"
    "    levels: [site, county]\n"
    "  - condition: cholera\n"
    "detectors:\n"
    "  - name: ears-c2\n"
    "rules:\n"
    "  - {name: class-a, kind: threshold, level: red, classes: A}\n"
    "  - {name: multi-source, kind: multi-source, level: yellow, k: 2,\n"
    "     days: 3, detector: ears-c2}\n";

void
pl_alert(const sn_alert_t *a, void *arg)
{
    pl_seen_t *s = arg;
    if (s->alerts < 16) {
        snprintf(s->rules[s->alerts], sizeof s->rules[0], "%s", a->rule);
        s->days[s->alerts] = a->day;
    }
    s->alerts++;
}

void
pl_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n, bool corr,
        void *arg)
{
    (void)day;
    pl_seen_t *s = arg;
    if (corr) {
        s->corrections += (int)n;
        s->corrected_observed = rows[n - 1].observed;
    } else {
        s->rows += (int)n;
    }
}

ana_ingest_t *
pl_pipeline(const char *yaml, pl_seen_t *seen, sn_config_t **cfg_out)
{
    sn_err_t err;
    sn_config_t *cfg = NULL;
    ck_assert_msg(sn_config_parse(yaml, strlen(yaml), "t.yaml",
                                  ana_config_schema, &cfg, &err) == SN_OK,
                  "%s", err.msg);
    ana_config_t c;
    ck_assert_msg(ana_config_read(cfg, &c, &err) == SN_OK, "%s", err.msg);
    ana_ingest_sinks_t sinks = {pl_alert, seen, pl_rows, seen};
    ana_ingest_t *in = NULL;
    ck_assert_msg(ana_ingest_new(&c, &sinks, &in, &err) == SN_OK, "%s",
                  err.msg);
    ana_config_fini(&c);
    *cfg_out = cfg;
    return in;
}

sn_event_t
pl_ev(const char *site, const char *id, sn_source_t src, const char *cond,
      sn_day_t day, uint32_t count)
{
    sn_event_t ev;
    sn_event_init(&ev);
    snprintf(ev.site_id, sizeof ev.site_id, "%s", site);
    snprintf(ev.event_id, sizeof ev.event_id, "%s", id);
    snprintf(ev.region, sizeof ev.region, "330106");
    snprintf(ev.condition, sizeof ev.condition, "%s", cond);
    ev.source = src;
    ev.report_time = (sn_time_t)day * 86400000 + 3600000;
    ev.count = count;
    return ev;
}

/* One aggregated event per source per day: a steady baseline, then a spike
 * in both sources on day `spike` (0 for none). */
void
pl_feed(ana_ingest_t *in, sn_day_t from, sn_day_t to, sn_day_t spike)
{
    static const uint32_t base[] = {5, 6, 4, 5, 7, 5, 6};
    char id[32];
    for (sn_day_t d = from; d <= to; d++) {
        uint32_t c = d == spike ? 40 : base[d % 7];
        snprintf(id, sizeof id, "fc-%d", d);
        sn_event_t a = pl_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d, c);
        snprintf(id, sizeof id, "ph-%d", d);
        sn_event_t b = pl_ev("ph1", id, SN_SOURCE_PHARMACY, "ili", d, c);
        int ra = ana_ingest_event(in, &a, sn_time_now(), NULL);
        int rb = ana_ingest_event(in, &b, sn_time_now(), NULL);
        ck_assert(ra >= 0 || ra == SN_EDUP);
        ck_assert(rb >= 0 || rb == SN_EDUP);
        ana_ingest_tick(in, sn_time_now());
    }
}

/* One event per source per day over [from, to]: the baseline, 40 cases at
 * the fever clinic on `fc_spike` and at the pharmacy on `ph_spike` (0:
 * none), and no fever-clinic event on `fc_skip` (0: none). */
void
pl_feed2(ana_ingest_t *in, sn_day_t from, sn_day_t to, sn_day_t fc_spike,
         sn_day_t ph_spike, sn_day_t fc_skip)
{
    static const uint32_t base[] = {5, 6, 4, 5, 7, 5, 6};
    char id[32];
    for (sn_day_t d = from; d <= to; d++) {
        snprintf(id, sizeof id, "fc-%d", d);
        sn_event_t a = pl_ev("fc1", id, SN_SOURCE_FEVER_CLINIC, "ili", d,
                             d == fc_spike ? 40 : base[d % 7]);
        snprintf(id, sizeof id, "ph-%d", d);
        sn_event_t b = pl_ev("ph1", id, SN_SOURCE_PHARMACY, "ili", d,
                             d == ph_spike ? 40 : base[d % 7]);
        if (d != fc_skip) {
            ck_assert_int_ge(ana_ingest_event(in, &a, sn_time_now(), NULL), 0);
        }
        ck_assert_int_ge(ana_ingest_event(in, &b, sn_time_now(), NULL), 0);
        ana_ingest_tick(in, sn_time_now());
    }
}
