/*  analyzer/ingest_state.c - the redo log, its replay and the saved state
 *
 *  The part of ingest (ingest.h) that makes its state durable: the
 *  writers of the redo log, the API that hands it to the daemon, the
 *  replay of a journal on a loaded state, and the save and load of the
 *  whole state as one stream. Split from ingest.c, whose live path calls
 *  the writers; both share the struct through ingest_int.h.
 *
 *  The redo log: with the journal on, every change to the saved state is
 *  also recorded as a small operation (a new leaf, an accepted placement,
 *  a day close) in a buffer the daemon appends to its journal file at each
 *  checkpoint. Replaying the operations on the state they were recorded
 *  against runs the same code as the live path (the dedup offer, the bins,
 *  the watermark, feed health), with the alerts and the detectors left
 *  out: their effects were made durable before the operations were.
 */
#include "ingest.h"
#include "ingest_int.h"

#include "clock.h"
#include "dedup.h"
#include "health.h"
#include "sentinel/mem.h"

#include <string.h>

#define S_MAGIC 0x414e4731u  /* "ANG1": a state without the trigger's */
#define S_MAGIC2 0x414e4732u /* "ANG2": with the trigger's signals */
#define S_LOG_HEAD 8         /* bytes before the redo log: its length */

/* Redo-log operation tags. */
enum {
    S_OP_LEAF = 'L',   /* u32 id, u8 source, condition, region, site (NUL) */
    S_OP_EVENT = 'E',  /* dedup key (2 x u64), placement (4 x u32) */
    S_OP_EVENT2 = 'F', /* the same and i32 report day (feed health) */
    S_OP_CLOSE = 'C',  /* i32 day, i64 now */
    /* ANA_TRIGGER_OP_SIGNAL 'S' and ANA_TRIGGER_OP_RETRACT 'R': u32 length
     * and the trigger's packed record (trigger.c) */
};

/* ---- redo log ----------------------------------------------------------- */

/* The redo log lives at self->log + S_LOG_HEAD: the head is kept free for
 * the length that ana_ingest_delta_frame() writes there, so a journal frame
 * is the buffer itself, not a copy of it. */
static void
s_log_put(ana_ingest_t *self, const void *p, size_t n)
{
    size_t need = S_LOG_HEAD + self->n_log + n;
    if (need > self->cap_log) {
        size_t cap = self->cap_log ? self->cap_log : 1u << 16;
        while (cap < need) {
            cap *= 2;
        }
        self->log = sn_realloc(self->log, cap);
        self->cap_log = cap;
    }
    memcpy(self->log + S_LOG_HEAD + self->n_log, p, n);
    self->n_log += n;
}

void
ana_ingest_log_event(ana_ingest_t *self, ana_dedup_key_t dk,
                     const ana_dedup_entry_t *placed, sn_day_t reported)
{
    if (!self->journal) {
        return;
    }
    uint8_t op[1 + sizeof dk + sizeof *placed + 4];
    int32_t r = reported;
    op[0] = S_OP_EVENT2;
    memcpy(op + 1, &dk, sizeof dk);
    memcpy(op + 1 + sizeof dk, placed, sizeof *placed);
    memcpy(op + 1 + sizeof dk + sizeof *placed, &r, 4);
    s_log_put(self, op, sizeof op);
}

void
ana_ingest_log_leaf(ana_ingest_t *self, uint32_t id, const sn_event_t *ev)
{
    if (!self->journal) {
        return;
    }
    uint8_t op[6];
    op[0] = S_OP_LEAF;
    memcpy(op + 1, &id, 4);
    op[5] = (uint8_t)ev->source;
    s_log_put(self, op, sizeof op);
    s_log_put(self, ev->condition, strlen(ev->condition) + 1);
    s_log_put(self, ev->region, strlen(ev->region) + 1);
    s_log_put(self, ev->site_id, strlen(ev->site_id) + 1);
}

/* The trigger's hook: a change of its signals goes to the redo log. */
void
ana_ingest_log_trigger(void *arg, uint8_t op, const uint8_t *rec, size_t len)
{
    ana_ingest_t *self = arg;
    if (!self->journal) {
        return;
    }
    uint32_t n = (uint32_t)len;
    s_log_put(self, &op, 1);
    s_log_put(self, &n, 4);
    s_log_put(self, rec, len);
}

void
ana_ingest_log_close(ana_ingest_t *self, sn_day_t day)
{
    if (!self->journal) {
        return;
    }
    uint8_t op[1 + 4 + 8];
    int32_t d = day;
    int64_t now = self->now;
    op[0] = S_OP_CLOSE;
    memcpy(op + 1, &d, 4);
    memcpy(op + 5, &now, 8);
    s_log_put(self, op, sizeof op);
}

/* ---- redo log: the API --------------------------------------------------- */

void
ana_ingest_journal(ana_ingest_t *self, bool on)
{
    self->journal = on;
}

const uint8_t *
ana_ingest_delta(const ana_ingest_t *self, size_t *len)
{
    *len = self->n_log;
    return self->log != NULL ? self->log + S_LOG_HEAD : NULL;
}

const uint8_t *
ana_ingest_delta_frame(ana_ingest_t *self, size_t *len)
{
    if (self->log == NULL) {
        s_log_put(self, "", 0);
    }
    uint64_t n = self->n_log;
    memcpy(self->log, &n, S_LOG_HEAD);
    *len = S_LOG_HEAD + self->n_log;
    return self->log;
}

void
ana_ingest_delta_clear(ana_ingest_t *self)
{
    self->n_log = 0;
}

/* Replay one leaf operation at `p` (at most `n` bytes).
 * @return the bytes used, or 0 when it does not parse or apply. */
static size_t
s_replay_leaf(ana_ingest_t *self, const uint8_t *p, size_t n)
{
    uint32_t want, got;
    const char *str[3];
    size_t used = 6;
    if (n < used) {
        return 0;
    }
    memcpy(&want, p + 1, 4);
    for (int i = 0; i < 3; i++) {
        const uint8_t *z = memchr(p + used, 0, n - used);
        if (z == NULL) {
            return 0;
        }
        str[i] = (const char *)(p + used);
        used = (size_t)(z - p) + 1;
    }
    if (ana_series_leaf(self->series, str[0], str[1], (sn_source_t)p[5], str[2],
                        &got, NULL) != SN_OK ||
        got != want) {
        return 0;
    }
    return used;
}

/* Replay one operation. @return the bytes used, or 0 on a bad one. */
static size_t
s_replay_op(ana_ingest_t *self, const uint8_t *p, size_t n)
{
    if (p[0] == S_OP_LEAF) {
        return s_replay_leaf(self, p, n);
    }
    if (p[0] == S_OP_EVENT || p[0] == S_OP_EVENT2) {
        ana_dedup_key_t dk;
        ana_dedup_entry_t placed;
        size_t len = 1 + sizeof dk + sizeof placed;
        int32_t reported;
        if (n < len + (p[0] == S_OP_EVENT2 ? 4 : 0)) {
            return 0;
        }
        memcpy(&dk, p + 1, sizeof dk);
        memcpy(&placed, p + 1 + sizeof dk, sizeof placed);
        reported = placed.day; /* a journal written before 'F' */
        if (p[0] == S_OP_EVENT2) {
            memcpy(&reported, p + len, 4);
            len += 4;
        }
        if (placed.leaf >= ana_series_leaves(self->series) ||
            ana_ingest_place(self, dk, &placed,
                             ana_clock_classify(self->clock, placed.day),
                             reported) < 0) {
            return 0;
        }
        return len;
    }
    if ((p[0] == ANA_TRIGGER_OP_SIGNAL || p[0] == ANA_TRIGGER_OP_RETRACT) &&
        n >= 5) {
        uint32_t len;
        memcpy(&len, p + 1, 4);
        if (len > n - 5 ||
            ana_trigger_apply(self->trigger, p[0], p + 5, len) != len) {
            return 0;
        }
        return 5 + (size_t)len;
    }
    if (p[0] == S_OP_CLOSE && n >= 13) {
        int32_t day;
        int64_t now;
        memcpy(&day, p + 1, 4);
        memcpy(&now, p + 5, 8);
        if (day != ana_clock_next(self->clock)) {
            return 0;
        }
        self->now = now;
        ana_ingest_close_state(self, day);
        return 13;
    }
    return 0;
}

int
ana_ingest_replay(ana_ingest_t *self, const uint8_t *ops, size_t len,
                  sn_err_t *err)
{
    bool journal = self->journal;
    self->journal = false;
    self->replaying = true;
    size_t at = 0;
    while (at < len) {
        size_t used = s_replay_op(self, ops + at, len - at);
        if (used == 0) {
            break;
        }
        at += used;
    }
    self->replaying = false;
    self->journal = journal;
    ana_engine_resume(self->engine, ana_clock_closed(self->clock));
    if (at < len) {
        return sn_err_set(err, SN_ECORRUPT,
                          "journal: operation at byte %zu of %zu does not "
                          "apply (tag 0x%02x)",
                          at, len, ops[at]);
    }
    return SN_OK;
}

/* ---- state -------------------------------------------------------------- */

int
ana_ingest_save(const ana_ingest_t *self, FILE *f)
{
    uint32_t magic = S_MAGIC2;
    if (fwrite(&magic, 4, 1, f) != 1) {
        return SN_EIO;
    }
    int rc = ana_clock_save(self->clock, f);
    if (rc == SN_OK) {
        rc = ana_dedup_save(self->dedup, f);
    }
    if (rc == SN_OK) {
        rc = ana_series_save(self->series, f);
    }
    if (rc == SN_OK) {
        rc = ana_health_save(self->health, f);
    }
    if (rc == SN_OK) {
        rc = ana_trigger_save(self->trigger, f);
    }
    return rc;
}

int
ana_ingest_load(ana_ingest_t *self, FILE *f, sn_err_t *err)
{
    uint32_t magic;
    if (fread(&magic, 4, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "state: empty");
    }
    if (magic != S_MAGIC && magic != S_MAGIC2) {
        return sn_err_set(err, SN_ECORRUPT, "state: not an analyzer state");
    }
    ana_dedup_t *dedup = NULL;
    int rc = ana_clock_load(self->clock, f, err);
    if (rc == SN_OK) {
        rc = ana_dedup_load(f, self->dedup_capacity, &dedup, err);
    }
    if (rc == SN_OK) {
        ana_dedup_destroy(&self->dedup);
        self->dedup = dedup;
        rc = ana_series_load(self->series, f, err);
    }
    if (rc == SN_OK) {
        rc = ana_health_load(self->health, f, err);
    }
    if (rc == SN_OK && magic == S_MAGIC2) {
        rc = ana_trigger_load(self->trigger, f, err);
    }
    if (rc == SN_OK) {
        ana_engine_resume(self->engine, ana_clock_closed(self->clock));
    }
    return rc;
}
