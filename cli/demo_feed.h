/*  cli/demo_feed.h - the demo's sites: simulated feeds, delivered for real
 *
 *  The scenario (years of seasonal baseline for the nine demo sites, then
 *  an outbreak in prefecture 3301 that fever clinics and pharmacies see
 *  first and the hospitals four days later) is drawn once with the
 *  simulator (analyzer/simulate.h, what `sentinel simulate` runs) from a
 *  fixed seed and kept in memory. cli_demo_feed_days() then delivers a span
 *  of days the way each site would: fever clinics drop JSON-lines files and
 *  pharmacies CSV files into their collector's inbox folder; hospitals
 *  drop their history as HL7 batch files, then, once the replay reaches the
 *  weeks around the outbreak, the demo plays each hospital's interface
 *  engine and sends one HL7 ADT message per visit over MLLP (TCP) to the
 *  hospital's collector, reading each ACK.
 *
 *  Threading: main thread only.
 */
#ifndef SENTINEL_CLI_DEMO_FEED_H
#define SENTINEL_CLI_DEMO_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "demo_conf.h"
#include "sentinel/date.h"
#include "sentinel/error.h"

typedef struct cli_demo_feed cli_demo_feed_t; /* opaque */

/* The scenario's dates. */
typedef struct cli_demo_plan {
    sn_day_t start;    /* first day of the baseline */
    sn_day_t outbreak; /* first outbreak day (fever clinics, pharmacies) */
    sn_day_t hospital; /* first day the hospitals see it */
    sn_day_t end;      /* last day replayed */
} cli_demo_plan_t;

/** Draw the scenario: `years` of baseline ending before `today` and the
 *  outbreak with `seed`. Keeps a reference to `conf` (must outlive self).
 *  @return the feed, or NULL with the reason in err. Caller owns it. */
cli_demo_feed_t *cli_demo_feed_new(const cli_demo_conf_t *conf, int years,
                                   uint64_t seed, sn_day_t today,
                                   sn_err_t *err);

/** Close the MLLP connections and free the feed; sets *self_p to NULL. */
void cli_demo_feed_destroy(cli_demo_feed_t **self_p);

/** @return the scenario's dates. */
const cli_demo_plan_t *cli_demo_feed_plan(const cli_demo_feed_t *self);

/** Deliver every record up to day `to` not delivered yet. Fever clinics
 *  and pharmacies drop a file into their inbox (renamed into place whole);
 *  hospitals too (a batch export of their HL7 messages) unless `live`,
 *  when the demo sends each message over MLLP and requires the ACK AA.
 *  @return SN_OK, or SN_EIO / SN_ETRANSPORT with the site and reason. */
int cli_demo_feed_days(cli_demo_feed_t *self, sn_day_t to, bool live,
                       sn_err_t *err);

/** @return the records delivered so far (events, one per HL7 message). */
uint64_t cli_demo_feed_sent(const cli_demo_feed_t *self);

/** @return the HL7 messages sent over MLLP so far. */
uint64_t cli_demo_feed_hl7(const cli_demo_feed_t *self);

#endif
