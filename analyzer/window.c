/*  analyzer/window.c - rolling window of daily counts for one series
 *
 *  The bins are one flat array, oldest first, so detectors and the archive
 *  read them without copying. Advancing by k days moves the array down by k
 *  with one memmove: the window advances once per series per closed day,
 *  while counts are added millions of times a second, so the add path stays
 *  a subtraction and an index.
 */
#include "window.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct ana_window {
    size_t span;    /* number of bins */
    sn_day_t today; /* day of the newest bin, bins[span - 1] */
    uint32_t *bins; /* span counts, oldest first */
};

ana_window_t *
ana_window_new(size_t span, sn_day_t today)
{
    assert(span >= 2 && span <= ANA_WINDOW_MAX_SPAN);
    ana_window_t *self = sn_malloc(sizeof *self);
    self->span = span;
    self->today = today;
    self->bins = sn_calloc(span, sizeof *self->bins);
    return self;
}

void
ana_window_destroy(ana_window_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->bins);
    free(*self_p);
    *self_p = NULL;
}

/* Index of `day` in the bins, or a negative code when outside. */
static int
s_index(const ana_window_t *self, sn_day_t day, size_t *idx)
{
    if (day > self->today) {
        return SN_EFUTURE;
    }
    int64_t back = (int64_t)self->today - day;
    if (back >= (int64_t)self->span) {
        return SN_ETOOOLD;
    }
    *idx = self->span - 1 - (size_t)back;
    return SN_OK;
}

int
ana_window_add(ana_window_t *self, sn_day_t day, uint32_t count)
{
    size_t i;
    int rc = s_index(self, day, &i);
    if (rc != SN_OK) {
        return rc;
    }
    if (self->bins[i] > UINT32_MAX - count) {
        return SN_EOVERFLOW;
    }
    self->bins[i] += count;
    return SN_OK;
}

int
ana_window_sub(ana_window_t *self, sn_day_t day, uint32_t count)
{
    size_t i;
    int rc = s_index(self, day, &i);
    if (rc != SN_OK) {
        return rc;
    }
    if (self->bins[i] < count) {
        return SN_ERANGE;
    }
    self->bins[i] -= count;
    return SN_OK;
}

void
ana_window_advance(ana_window_t *self, sn_day_t today)
{
    assert(today >= self->today);
    int64_t k = (int64_t)today - self->today;
    if (k == 0) {
        return;
    }
    if (k >= (int64_t)self->span) {
        memset(self->bins, 0, self->span * sizeof *self->bins);
    } else {
        size_t keep = self->span - (size_t)k;
        memmove(self->bins, self->bins + k, keep * sizeof *self->bins);
        memset(self->bins + keep, 0, (size_t)k * sizeof *self->bins);
    }
    self->today = today;
}

size_t
ana_window_span(const ana_window_t *self)
{
    return self->span;
}

sn_day_t
ana_window_today(const ana_window_t *self)
{
    return self->today;
}

sn_day_t
ana_window_oldest(const ana_window_t *self)
{
    return self->today - (sn_day_t)self->span + 1;
}

int
ana_window_get(const ana_window_t *self, sn_day_t day, uint32_t *count)
{
    size_t i;
    int rc = s_index(self, day, &i);
    if (rc == SN_OK) {
        *count = self->bins[i];
    }
    return rc;
}

const uint32_t *
ana_window_counts(const ana_window_t *self)
{
    return self->bins;
}

int
ana_window_sum(const ana_window_t *self, sn_day_t last, size_t width,
               uint64_t *sum)
{
    size_t hi, lo;
    int rc = s_index(self, last, &hi);
    if (rc != SN_OK) {
        return rc;
    }
    if (width == 0 || width > hi + 1) {
        return width == 0 ? SN_EINVAL : SN_ETOOOLD;
    }
    lo = hi + 1 - width;
    uint64_t s = 0;
    for (size_t i = lo; i <= hi; i++) {
        s += self->bins[i];
    }
    *sum = s;
    return SN_OK;
}

size_t
ana_window_aggregate(const ana_window_t *self, sn_day_t last, size_t width,
                     size_t step, double *out, size_t max)
{
    size_t hi;
    if (width == 0 || step == 0 || max == 0 ||
        s_index(self, last, &hi) != SN_OK || hi + 1 < width) {
        return 0;
    }
    size_t n = (hi + 1 - width) / step + 1;
    if (n > max) {
        n = max;
    }
    for (size_t i = 0; i < n; i++) {
        size_t end = hi - (n - 1 - i) * step;
        uint64_t s = 0;
        for (size_t j = end + 1 - width; j <= end; j++) {
            s += self->bins[j];
        }
        out[i] = (double)s;
    }
    return n;
}
