/*  analyzer/clock.c - event time: watermarks, closing days, late events
 *
 *  The state is a handful of days: a watermark per source, the first day
 *  seen and the last day closed. Everything is O(number of sources).
 */
#include "clock.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <stdlib.h>

#define S_MAGIC 0x434c4b31u /* "CLK1" */

struct ana_clock {
    int lateness;                        /* days a day waits for late events */
    int idle;                            /* days before a source is idle */
    int horizon;                         /* days late events still count */
    bool wall;                           /* wall clock closes days too */
    sn_day_t watermark[SN_SOURCE_COUNT]; /* newest day per source */
    sn_day_t first;                      /* first day seen */
    sn_day_t closed;                     /* last closed day */
};

ana_clock_t *
ana_clock_new(int lateness_days, int idle_days, int horizon_days, bool wall)
{
    assert(lateness_days >= 0 && idle_days >= 1 && horizon_days >= 1);
    ana_clock_t *self = sn_calloc(1, sizeof *self);
    self->lateness = lateness_days;
    self->idle = idle_days;
    self->horizon = horizon_days;
    self->wall = wall;
    for (int i = 0; i < SN_SOURCE_COUNT; i++) {
        self->watermark[i] = ANA_CLOCK_NONE;
    }
    self->first = ANA_CLOCK_NONE;
    self->closed = ANA_CLOCK_NONE;
    return self;
}

void
ana_clock_destroy(ana_clock_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free(*self_p);
    *self_p = NULL;
}

sn_day_t
ana_clock_horizon(const ana_clock_t *self)
{
    if (self->closed == ANA_CLOCK_NONE) {
        return ANA_CLOCK_NONE;
    }
    return self->closed - self->horizon + 1;
}

int
ana_clock_classify(const ana_clock_t *self, sn_day_t day)
{
    if (self->closed == ANA_CLOCK_NONE || day > self->closed) {
        return ANA_CLOCK_OPEN;
    }
    return day >= ana_clock_horizon(self) ? ANA_CLOCK_LATE : SN_ETOOOLD;
}

void
ana_clock_observe(ana_clock_t *self, sn_source_t source, sn_day_t day)
{
    assert(source < SN_SOURCE_COUNT);
    if (self->watermark[source] == ANA_CLOCK_NONE ||
        day > self->watermark[source]) {
        self->watermark[source] = day;
    }
    if (self->first == ANA_CLOCK_NONE || day < self->first) {
        if (self->closed == ANA_CLOCK_NONE) {
            self->first = day;
        }
    }
}

/* The event-time due day: the slowest active source decides. */
static sn_day_t
s_event_due(const ana_clock_t *self)
{
    sn_day_t newest = ANA_CLOCK_NONE;
    for (int i = 0; i < SN_SOURCE_COUNT; i++) {
        if (self->watermark[i] > newest) {
            newest = self->watermark[i];
        }
    }
    if (newest == ANA_CLOCK_NONE) {
        return ANA_CLOCK_NONE;
    }
    sn_day_t slowest = newest;
    for (int i = 0; i < SN_SOURCE_COUNT; i++) {
        sn_day_t w = self->watermark[i];
        if (w != ANA_CLOCK_NONE && w >= newest - self->idle && w < slowest) {
            slowest = w;
        }
    }
    return slowest - self->lateness - 1;
}

sn_day_t
ana_clock_due(const ana_clock_t *self, sn_time_t now)
{
    sn_day_t due = s_event_due(self);
    if (self->wall && now > 0) {
        sn_day_t wall_due = sn_time_day(now) - self->lateness - 1;
        if (wall_due > due) {
            due = wall_due;
        }
    }
    sn_day_t next = ana_clock_next(self);
    if (next == ANA_CLOCK_NONE || due < next) {
        return ANA_CLOCK_NONE;
    }
    return due;
}

sn_day_t
ana_clock_next(const ana_clock_t *self)
{
    if (self->closed != ANA_CLOCK_NONE) {
        return self->closed + 1;
    }
    return self->first;
}

sn_day_t
ana_clock_closed(const ana_clock_t *self)
{
    return self->closed;
}

void
ana_clock_close(ana_clock_t *self, sn_day_t day)
{
    assert(day == ana_clock_next(self));
    self->closed = day;
}

sn_day_t
ana_clock_watermark(const ana_clock_t *self, sn_source_t source)
{
    assert(source < SN_SOURCE_COUNT);
    return self->watermark[source];
}

int
ana_clock_save(const ana_clock_t *self, FILE *f)
{
    uint32_t magic = S_MAGIC, n = SN_SOURCE_COUNT;
    if (fwrite(&magic, 4, 1, f) != 1 || fwrite(&n, 4, 1, f) != 1 ||
        fwrite(self->watermark, sizeof(sn_day_t), n, f) != n ||
        fwrite(&self->first, sizeof self->first, 1, f) != 1 ||
        fwrite(&self->closed, sizeof self->closed, 1, f) != 1) {
        return SN_EIO;
    }
    return SN_OK;
}

int
ana_clock_load(ana_clock_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic, n;
    sn_day_t wm[SN_SOURCE_COUNT], first, closed;
    if (fread(&magic, 4, 1, f) != 1 || fread(&n, 4, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "clock state: truncated");
    }
    if (magic != S_MAGIC || n != SN_SOURCE_COUNT) {
        return sn_err_set(err, SN_ECORRUPT, "clock state: bad header");
    }
    if (fread(wm, sizeof(sn_day_t), n, f) != n ||
        fread(&first, sizeof first, 1, f) != 1 ||
        fread(&closed, sizeof closed, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "clock state: truncated");
    }
    for (uint32_t i = 0; i < n; i++) {
        self->watermark[i] = wm[i];
    }
    self->first = first;
    self->closed = closed;
    return SN_OK;
}
