/*  analyzer/analyzer_sinks.c - where the analyzer's pipeline output goes
 *
 *  Alerts are logged, archived and appended to the durable outbox (synced
 *  by analyzer.c before they are sent); closed days go into the archive,
 *  corrections of earlier days through its correction path. After a Kafka
 *  checkpoint is dropped at start (its commit never reached the group, see
 *  handoff.h), the archive days it wrote are put back to the state, and so
 *  are the days past the state after a kill or a fenced stop.
 */
#include "analyzer_int.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- sinks -------------------------------------------------------------- */

static void
s_archive_alert(ana_analyzer_t *self, const sn_alert_t *a)
{
    if (self->archive == NULL) {
        return;
    }
    char key[SN_ALERT_KEY_MAX];
    const sn_evidence_t *ev = a->n_evidence ? &a->evidence[0] : NULL;
    ana_archive_alert_t rec = {.time = a->raised,
                               .day = a->day,
                               .id = sn_alert_key(a, key),
                               .rule = a->rule,
                               .level = sn_level_name(a->level),
                               .state = "open",
                               .condition = a->condition,
                               .region = a->region,
                               .series = ev ? ev->series_key : NULL,
                               .observed = ev ? ev->observed : NAN,
                               .expected = ev ? ev->expected : NAN,
                               .upperbound = ev ? ev->upperbound : NAN,
                               .message = a->summary};
    sn_err_t err;
    self->archive_dirty = true;
    if (ana_archive_alert(self->archive, &rec, &err) != SN_OK) {
        sn_log(SN_LOG_ERROR, "analyzer", "archive_alert", "reason=\"%s\"",
               sn_err_text(&err));
    }
}

void
ana_analyzer_on_alert(const sn_alert_t *a, void *arg)
{
    ana_analyzer_t *self = arg;
    char day[SN_DAY_STR_MAX], q[600];
    sn_log(SN_LOG_INFO, "analyzer", "alert",
           "level=%s rule=%s condition=%s region=%s day=%s evidence=%zu "
           "summary=%s",
           sn_level_name(a->level), a->rule, a->condition, a->region,
           sn_day_format(a->day, day), a->n_evidence,
           sn_log_quote(q, sizeof q, a->summary));
    s_archive_alert(self, a);
    if (self->outbox == NULL) {
        return;
    }
    size_t len = sn_alert_encoded_size(a);
    uint8_t *buf = sn_malloc(len + 1);
    sn_err_t err;
    int n = sn_alert_encode(a, buf, len + 1);
    if (n < 0 ||
        sn_spool_append(self->outbox, buf, (size_t)n, NULL, &err) != SN_OK) {
        sn_log(SN_LOG_ERROR, "analyzer", "outbox", "reason=\"%s\"",
               n < 0 ? "encode" : sn_err_text(&err));
    }
    free(buf);
    self->outbox_dirty = true; /* synced before the sender or an ack */
}

/* The archive row of series `id`, registering it on first use. */
size_t
ana_analyzer_row(ana_analyzer_t *self, uint32_t id)
{
    if (id >= self->n_rows) {
        size_t n = self->n_rows ? self->n_rows : 1024;
        while (n <= id) {
            n *= 2;
        }
        self->rows = sn_reallocarray(self->rows, n, sizeof *self->rows);
        for (size_t i = self->n_rows; i < n; i++) {
            self->rows[i] = SIZE_MAX;
        }
        self->n_rows = n;
    }
    if (self->rows[id] == SIZE_MAX) {
        const ana_series_key_t *k =
            ana_series_key(ana_ingest_series(self->in), id);
        ana_archive_key_t ak = {k->condition, k->region,
                                sn_source_name((sn_source_t)k->source),
                                k->site[0] ? k->site : "*"};
        sn_err_t err;
        size_t row;
        if (ana_archive_series(self->archive, &ak, &row, &err) == SN_OK) {
            self->rows[id] = row;
        } else {
            sn_log(SN_LOG_ERROR, "analyzer", "archive_series", "reason=\"%s\"",
                   sn_err_text(&err));
        }
    }
    return self->rows[id];
}

void
ana_analyzer_on_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n,
                     bool correction, void *arg)
{
    ana_analyzer_t *self = arg;
    if (self->archive == NULL) {
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t row = ana_analyzer_row(self, rows[i].series);
        if (row != SIZE_MAX) {
            self->arows[k++] =
                (ana_archive_row_t){row, rows[i].observed, rows[i].det};
        }
    }
    sn_err_t err;
    self->archive_dirty = true;
    if (self->day_first > self->day_last) {
        self->day_first = self->day_last = day;
    } else {
        self->day_first = day < self->day_first ? day : self->day_first;
        self->day_last = day > self->day_last ? day : self->day_last;
    }
    /* A correction may reach back into a sealed block: the archive
     * rewrites it in place and records what changed. */
    int rc =
        correction
            ? ana_archive_correct_day(self->archive, day, self->arows, k,
                                      sn_time_now(), &err)
            : ana_archive_put_day(self->archive, day, self->arows, k, &err);
    if (rc != SN_OK) {
        char d[SN_DAY_STR_MAX];
        sn_log(SN_LOG_ERROR, "analyzer",
               correction ? "archive_correction" : "archive_day",
               "day=%s reason=\"%s\"", sn_day_format(day, d),
               sn_err_text(&err));
    }
}

/* The state's count of series `id` on `day`: 0 outside its window. */
static double
s_count(ana_analyzer_t *self, uint32_t id, sn_day_t day)
{
    ana_window_t *w = ana_series_window(ana_ingest_series(self->in), id);
    sn_day_t first = ana_window_today(w) - (sn_day_t)ana_window_span(w) + 1;
    if (day < first || day > ana_window_today(w)) {
        return 0;
    }
    return ana_window_counts(w)[day - first];
}

int
ana_analyzer_repair_days(ana_analyzer_t *self, sn_day_t first, sn_day_t last,
                         sn_err_t *err)
{
    if (self->archive == NULL) {
        return SN_OK;
    }
    /* Every row the archive has: series the state does not know (the
     * dropped checkpoint registered them) get a missing value. */
    ana_series_t *s = ana_ingest_series(self->in);
    size_t n_series = ana_series_size(s);
    for (uint32_t id = 0; id < n_series; id++) {
        (void)ana_analyzer_row(self, id);
    }
    size_t n = ana_archive_series_count(self->archive);
    ana_archive_row_t *rows = sn_calloc(n + 1, sizeof *rows);
    sn_day_t closed = ana_ingest_closed(self->in);
    int rc = SN_OK;
    for (sn_day_t d = first; rc == SN_OK && d <= last; d++) {
        for (size_t r = 0; r < n; r++) {
            rows[r] = (ana_archive_row_t){r, NAN, NULL};
        }
        for (uint32_t id = 0; d <= closed && id < n_series; id++) {
            size_t r = id < self->n_rows ? self->rows[id] : SIZE_MAX;
            if (r < n) {
                rows[r].observed = s_count(self, id, d);
            }
        }
        rc = ana_archive_restore_day(self->archive, d, rows, n, sn_time_now(),
                                     err);
    }
    free(rows);
    self->archive_dirty = true;
    return rc;
}

/* ---- settling at start ------------------------------------------------- */

/* After a kill, or a stop of a fenced analyzer (s_fence()), days the
 * archive flushed past the state's last closed day hold events another
 * analyzer now counts: put them back to missing. */
static int
s_repair_unconfirmed(ana_analyzer_t *self, bool fenced, sn_err_t *err)
{
    if (!self->kafka || self->archive == NULL ||
        !(fenced || ana_archive_recovered(self->archive))) {
        return SN_OK;
    }
    sn_day_t closed = ana_ingest_closed(self->in);
    sn_day_t last = ana_archive_last_day(self->archive);
    if (last == INT32_MIN || last <= closed) {
        return SN_OK;
    }
    return ana_analyzer_repair_days(
        self,
        closed == INT32_MIN ? ana_archive_first_day(self->archive) : closed + 1,
        last, err);
}

/* A Kafka checkpoint whose commit was never confirmed (a kill between its
 * journal frame and the commit's answer) is settled with the group
 * (handoff.h); if it was dropped, the next owner of its partitions has
 * counted its events, and the archive days it wrote go back to this
 * state. The drop is written to the journal only once that repair is
 * flushed: a kill during the repair leaves the frame unsettled, and the
 * next start asks and repairs again (a repair changes only what differs).
 */
int
ana_analyzer_settle(ana_analyzer_t *self, sn_err_t *err)
{
    const char *marker = self->fence_path;
    bool fenced = access(marker, F_OK) == 0;
    int rc = ana_handoff_resolve(self->hand, self->recv, self->journal, err);
    bool dropped = rc == 1;
    sn_day_t first, last;
    if (dropped && ana_handoff_dropped_days(self->hand, &first, &last)) {
        rc = ana_analyzer_repair_days(self, first, last, err);
    }
    if (rc >= 0) {
        rc = s_repair_unconfirmed(self, fenced, err);
    }
    if (rc >= 0 && self->archive != NULL) {
        rc = ana_archive_flush(self->archive, err);
    }
    if (rc >= 0 && dropped) {
        rc = ana_handoff_drop(self->hand, self->journal, err);
    }
    if (rc >= 0 && fenced && self->kafka && unlink(marker) != 0) {
        rc = sn_err_set(err, SN_EIO, "state '%s': %s", marker, strerror(errno));
    }
    return rc < 0 ? rc : SN_OK;
}
