/*  alerting/report.h - response times and outcomes, per level and rule
 *
 *  The CIDARS-style response report: for the alerts opened since a date,
 *  grouped by warning level and rule, how many there were, the median time
 *  from the first notification to acknowledgement and to verification,
 *  the share acknowledged within 2 hours, the share verified within 24
 *  hours and the share confirmed as events (of all alerts in the group).
 *  Used by `sentinel alerts report` to tune thresholds from outcomes.
 *
 *  Threading: pure functions over a store owned by the calling thread.
 */
#ifndef SENTINEL_ALERTING_REPORT_H
#define SENTINEL_ALERTING_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "sentinel/alert.h"
#include "store.h"

#define ALR_REPORT_ACK_MS (2 * 3600 * 1000LL)     /* "acknowledged in 2 h" */
#define ALR_REPORT_VERIFY_MS (24 * 3600 * 1000LL) /* "verified in 24 h" */

/* One group. Medians are NAN when no alert of the group has that step. */
typedef struct alr_report_row {
    sn_level_t level;           /* warning level */
    char rule[SN_RULE_MAX + 1]; /* rule name */
    size_t count;               /* alerts opened */
    size_t acked;               /* of which acknowledged */
    size_t verified;            /* of which verified */
    size_t confirmed;           /* of which confirmed events */
    size_t acked_2h;            /* acknowledged within 2 h */
    size_t verified_24h;        /* verified within 24 h */
    double median_ack_ms;       /* median time to acknowledgement */
    double median_verify_ms;    /* median time to verification */
} alr_report_row_t;

/** Build the report over the alerts opened at or after `since`, ordered by
 *  level (red first) then rule. Caller frees *rows (free()).
 *  @return SN_OK or SN_EDB. */
int alr_report_build(alr_store_t *store, sn_time_t since,
                     alr_report_row_t **rows, size_t *n, sn_err_t *err);

/** Print the report as an aligned text table with a header line. */
void alr_report_print(FILE *out, const alr_report_row_t *rows, size_t n);

/** @return the report as a JSON array. Caller owns it (free()). */
char *alr_report_json(const alr_report_row_t *rows, size_t n);

#endif
