/*  alerting/cap.h - render notifications as CAP 1.2 XML
 *
 *  The Common Alerting Protocol (OASIS CAP 1.2) is how emergency systems
 *  exchange warnings. Each notification about an alert becomes one <alert>
 *  message: the first is msgType Alert, later ones Update (new evidence,
 *  escalation) or Cancel (closed after the quiet period), and each later one
 *  lists every earlier message of the same alert in <references>. The
 *  identifier "<sender>.alert.<id>.<seq>" is stable: a retry sends the same
 *  bytes, so receivers can drop repeats. scope is Restricted (CDC
 *  recipients), status Exercise in demos and tests and Actual when the
 *  config says so.
 *
 *  Level mapping (docs/alerts.md explains it to users):
 *    level   urgency    severity  certainty
 *    blue    Future     Minor     Possible
 *    yellow  Expected   Moderate  Possible
 *    orange  Expected   Severe    Likely
 *    red     Immediate  Extreme   Likely
 *  A Cancel keeps severity and certainty and says urgency Past.
 *
 *  Threading: pure functions; reentrant.
 */
#ifndef SENTINEL_ALERTING_CAP_H
#define SENTINEL_ALERTING_CAP_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/alert.h"
#include "store.h"

/* What the configuration sets for every message. Strings are borrowed. */
typedef struct alr_cap_opts {
    const char *sender;      /* CAP sender, e.g. "cdc.sentinel.example" */
    const char *status;      /* "Exercise" (default) or "Actual" */
    const char *restriction; /* text of <restriction> */
    const char *language;    /* RFC 3066 language; "en-US" when NULL */
} alr_cap_opts_t;

/** @return the CAP urgency, severity or certainty of `level` (the table
 *  above); static strings. */
const char *alr_cap_urgency(sn_level_t level);
const char *alr_cap_severity(sn_level_t level);
const char *alr_cap_certainty(sn_level_t level);

/** Write the identifier of message `seq` of alert `id` into buf (at least
 *  ALR_IDENT_MAX + 1 bytes). @return buf. */
char *alr_cap_identifier(const char *sender, int64_t id, int seq, char *buf);

/** Write `t` as a CAP dateTime ("2026-11-25T13:51:39+00:00") into buf of at
 *  least 26 bytes. @return buf. */
char *alr_cap_time(sn_time_t t, char *buf);

/** Render notice `n` about alert `rec` as a CAP 1.2 <alert> document.
 *  `earlier` are the previous messages of the same alert (n_earlier of
 *  them), listed in <references>. Caller owns the result (free()). */
char *alr_cap_render(const alr_cap_opts_t *opts, const alr_notice_t *n,
                     const alr_record_t *rec, const alr_notice_t *earlier,
                     size_t n_earlier);

#endif
