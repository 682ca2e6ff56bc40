/*  analyzer/quota.c - how many new series each sender may open per day
 *
 *  A flat array of senders searched linearly: it is consulted only when an
 *  event names a series the analyzer has not seen, which is rare once the
 *  series exist, and the number of senders is that of the sites.
 */
#include "quota.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"
#include "sentinel/transport.h"

#include <stdlib.h>
#include <string.h>

/* One sender's count on its current day. */
typedef struct s_entry {
    char who[SN_SENDER_ID_MAX + 1]; /* sender id (or site id) */
    sn_day_t day;                   /* the day `used` counts */
    uint32_t used;                  /* new series opened that day */
} s_entry_t;

#define S_MAGIC 0x51554f31u /* "QUO1": a saved table */

struct ana_quota {
    uint32_t limit; /* per sender and day; 0: none */
    s_entry_t *e;   /* the senders seen */
    size_t n, cap;  /* used and allocated entries */
    bool changed;   /* a count changed since the last save or load */
};

ana_quota_t *
ana_quota_new(uint32_t limit)
{
    ana_quota_t *self = sn_calloc(1, sizeof *self);
    self->limit = limit;
    return self;
}

void
ana_quota_destroy(ana_quota_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->e);
    free(*self_p);
    *self_p = NULL;
}

static s_entry_t *
s_find(ana_quota_t *self, const char *who)
{
    for (size_t i = 0; i < self->n; i++) {
        if (strcmp(self->e[i].who, who) == 0) {
            return &self->e[i];
        }
    }
    if (self->n == ANA_QUOTA_MAX_SENDERS) {
        return NULL;
    }
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->e = sn_reallocarray(self->e, self->cap, sizeof *self->e);
    }
    s_entry_t *e = &self->e[self->n++];
    memset(e, 0, sizeof *e);
    strncpy(e->who, who, SN_SENDER_ID_MAX);
    e->day = SN_DAY_NONE;
    return e;
}

bool
ana_quota_take(ana_quota_t *self, const char *who, sn_day_t day)
{
    if (self->limit == 0) {
        return true;
    }
    s_entry_t *e = s_find(self, who != NULL ? who : "");
    if (e == NULL) {
        return false;
    }
    if (e->day != day) {
        e->day = day;
        e->used = 0;
    }
    if (e->used >= self->limit) {
        return false;
    }
    e->used++;
    self->changed = true;
    return true;
}

uint32_t
ana_quota_limit(const ana_quota_t *self)
{
    return self->limit;
}

/* @return the newest day any sender used a quota on, or SN_DAY_NONE. */
static sn_day_t
s_newest(const ana_quota_t *self)
{
    sn_day_t d = SN_DAY_NONE;
    for (size_t i = 0; i < self->n; i++) {
        if (self->e[i].used > 0 && (d == SN_DAY_NONE || self->e[i].day > d)) {
            d = self->e[i].day;
        }
    }
    return d;
}

/* Format: magic, count (uint32), then the entries as stored. Only counts
 * of the newest two days are kept: older ones can never refuse again. */
int
ana_quota_save(ana_quota_t *self, FILE *f)
{
    sn_day_t d = s_newest(self);
    sn_day_t lo = d == SN_DAY_NONE ? d : d - 1;
    uint32_t magic = S_MAGIC, n = 0;
    for (size_t i = 0; i < self->n; i++) {
        n += self->e[i].used > 0 && self->e[i].day >= lo;
    }
    if (fwrite(&magic, 4, 1, f) != 1 || fwrite(&n, 4, 1, f) != 1) {
        return SN_EIO;
    }
    for (size_t i = 0; i < self->n; i++) {
        const s_entry_t *e = &self->e[i];
        if (e->used > 0 && e->day >= lo && fwrite(e, sizeof *e, 1, f) != 1) {
            return SN_EIO;
        }
    }
    self->changed = false;
    return SN_OK;
}

int
ana_quota_load(ana_quota_t *self, FILE *f)
{
    uint32_t magic = 0, n = 0;
    if (fread(&magic, 4, 1, f) != 1 || fread(&n, 4, 1, f) != 1 ||
        magic != S_MAGIC || n > ANA_QUOTA_MAX_SENDERS) {
        return SN_ECORRUPT;
    }
    s_entry_t *e = sn_calloc(n + 1, sizeof *e);
    if (fread(e, sizeof *e, n, f) != n) {
        free(e);
        return SN_ECORRUPT;
    }
    for (uint32_t i = 0; i < n; i++) {
        e[i].who[SN_SENDER_ID_MAX] = '\0';
    }
    free(self->e);
    self->e = e;
    self->n = n;
    self->cap = n + 1;
    self->changed = false;
    return SN_OK;
}

bool
ana_quota_changed(const ana_quota_t *self)
{
    return self->changed;
}
