/*  alerting/lifecycle.h - from incoming alerts to notifications
 *
 *  Every alert the analyzer hands over goes through alr_lifecycle_intake().
 *  There is one open alert per key (rule, condition, region):
 *  - the first alert of a key opens it and makes an Alert notification;
 *  - a higher level escalates it: an Update notification that says
 *    "escalated from blue to yellow";
 *  - evidence that matters (a series or day not seen before, or a changed
 *    observed count) updates it: an Update notification that lists what is
 *    new; re-sent evidence with only refreshed baselines or scores is
 *    recorded in the history but notifies nobody, and an identical alert
 *    changes nothing;
 *  - a quiet period of `quiet_days` days without new evidence closes it: a
 *    Cancel notification, made by alr_lifecycle_tick() or by the next alert
 *    of the key, which then opens a new alert.
 *  Acknowledgements and verifications are recorded (who, when, outcome,
 *  response grade). Each change, its history row and its outbox rows (one
 *  per configured sink) are written in one transaction.
 *
 *  Threading: a lifecycle belongs to the thread that owns its store.
 */
#ifndef SENTINEL_ALERTING_LIFECYCLE_H
#define SENTINEL_ALERTING_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "cap.h"
#include "sentinel/alert.h"
#include "store.h"

#define ALR_QUIET_DAYS_DEFAULT 7 /* days without evidence before closing */

/* Settings; strings and arrays are borrowed and must outlive the
 * lifecycle. */
typedef struct alr_lifecycle_opts {
    int quiet_days;           /* >= 1 */
    alr_cap_opts_t cap;       /* CAP sender, status, restriction */
    const char *const *sinks; /* sink names that get every notification */
    size_t n_sinks;           /* entries in sinks */
} alr_lifecycle_opts_t;

typedef struct alr_lifecycle alr_lifecycle_t; /* opaque */

/** Create a lifecycle over `store`. Keeps references to store and opts'
 *  strings; both must outlive it. Never returns NULL. Caller owns it. */
alr_lifecycle_t *alr_lifecycle_new(alr_store_t *store,
                                   const alr_lifecycle_opts_t *opts);

/** Free the lifecycle and set *self_p to NULL. Safe on NULL. */
void alr_lifecycle_destroy(alr_lifecycle_t **self_p);

/** Take one alert from the analyzer at wall time `now`. *alert_id (may be
 *  NULL) gets the id of the open alert it went to. Returns only after the
 *  transaction committed, so the caller may then acknowledge the record.
 *  @return SN_OK; SN_EVALIDATE (the alert is refused, message names the
 *  field); SN_EDB. Nothing is written on error. */
int alr_lifecycle_intake(alr_lifecycle_t *self, const sn_alert_t *alert,
                         sn_time_t now, int64_t *alert_id, sn_err_t *err);

/** Take one encoded sentinel.v1.Alert record from the transport: decode,
 *  validate and take it as alr_lifecycle_intake() does, and store
 *  `sender`'s position `seq` in the same transaction, so a record is
 *  applied exactly once across crashes. A record that does not decode or
 *  validate is stored as rejected (with the reason), its position still
 *  advances, and its error is returned; the daemon logs it and goes on.
 *  @return SN_OK, SN_EPARSE / SN_EVALIDATE (rejected and recorded), or
 *  SN_EDB (nothing written; the record will come again). */
int alr_lifecycle_intake_record(alr_lifecycle_t *self, const uint8_t *data,
                                size_t len, const char *sender, uint64_t seq,
                                sn_time_t now, int64_t *alert_id,
                                sn_err_t *err);

/** Close every open alert whose newest evidence is at least quiet_days
 *  before `today`. @return the number closed, or SN_EDB. */
int alr_lifecycle_tick(alr_lifecycle_t *self, sn_day_t today, sn_time_t now,
                       sn_err_t *err);

/** Record that `by` acknowledged alert `id`. @return SN_OK, SN_EINVAL
 *  (empty name), SN_ENOTFOUND, SN_ESTATE ("alert 3: already acknowledged
 *  by li.wei") or SN_EDB. */
int alr_lifecycle_ack(alr_lifecycle_t *self, int64_t id, const char *by,
                      const char *note, sn_time_t now, sn_err_t *err);

/** Record the verification outcome of alert `id`; `grade` (1..4 for
 *  I..IV, 0 for none) is allowed only with ALR_OUTCOME_CONFIRMED. A later
 *  verification replaces the outcome (monitoring, then confirmed) and keeps
 *  the time of the first. @return SN_OK, SN_EINVAL, SN_ENOTFOUND or
 *  SN_EDB. */
int alr_lifecycle_verify(alr_lifecycle_t *self, int64_t id,
                         alr_outcome_t outcome, int grade, const char *by,
                         const char *note, sn_time_t now, sn_err_t *err);

/** Parse "discarded", "monitoring" or "confirmed". @return SN_OK or
 *  SN_EINVAL. */
int alr_outcome_parse(const char *name, alr_outcome_t *out);

/** Parse a response grade "I", "II", "III" or "IV" into 1..4. @return SN_OK
 *  or SN_EINVAL. */
int alr_grade_parse(const char *name, int *out);

/** @return "I".."IV" for 1..4, "" otherwise. Static. */
const char *alr_grade_name(int grade);

#endif
