/*  analyzer/handoff.c - two-phase Kafka checkpoints in the journal
 *
 *  Pending frame: [u64 ANA_HANDOFF_PENDING][u32 mark length][mark]
 *  [i32 first day][i32 last day][plain frame]. Verdict frame:
 *  [u64 ANA_HANDOFF_VERDICT][u8 landed][u32 mark length][mark]. The
 *  verdict names its pending frame by the whole mark (its token is random
 *  and unique). Only the newest pending frame can lack a verdict: the
 *  analyzer writes no checkpoint after a commit that failed (it stops).
 *  A "dropped" verdict is written last, once the caller has put the
 *  frame's archive days back (ana_handoff_drop()).
 */
#include "handoff.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include <stdlib.h>
#include <string.h>

struct ana_handoff {
    ana_handoff_apply_fn apply; /* applies a plain frame */
    void *arg;                  /* its argument */
    uint8_t *held;              /* a pending frame awaiting its verdict */
    size_t held_len;            /* its length; 0: none */
    sn_day_t first, last;       /* days a dropped frame archived */
    bool lost;                  /* held's commit never landed: to drop */
};

/* The parts of a pending frame. */
typedef struct s_pending {
    const uint8_t *mark; /* the commit mark */
    uint32_t mark_len;   /* its length */
    sn_day_t first;      /* first archive day written */
    sn_day_t last;       /* last one */
    const uint8_t *body; /* the plain frame */
    size_t body_len;     /* its length */
} s_pending_t;

static uint64_t
s_word(const uint8_t *p, size_t len)
{
    uint64_t w = 0;
    if (len >= 8) {
        memcpy(&w, p, 8);
    }
    return w;
}

/* @return false when `p` is not a whole pending frame. */
static bool
s_parse_pending(const uint8_t *p, size_t len, s_pending_t *out)
{
    if (len < 12 || s_word(p, len) != ANA_HANDOFF_PENDING) {
        return false;
    }
    memcpy(&out->mark_len, p + 8, 4);
    if (out->mark_len > len - 12 || len - 12 - out->mark_len < 8) {
        return false;
    }
    out->mark = p + 12;
    memcpy(&out->first, p + 12 + out->mark_len, 4);
    memcpy(&out->last, p + 16 + out->mark_len, 4);
    out->body = p + 20 + out->mark_len;
    out->body_len = len - 20 - out->mark_len;
    return true;
}

ana_handoff_t *
ana_handoff_new(ana_handoff_apply_fn apply, void *arg)
{
    ana_handoff_t *self = sn_calloc(1, sizeof *self);
    self->apply = apply;
    self->arg = arg;
    self->first = 1;
    self->last = 0;
    return self;
}

void
ana_handoff_destroy(ana_handoff_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->held);
    free(*self_p);
    *self_p = NULL;
}

/* Apply the held frame (its commit landed) and forget it. */
static int
s_apply_held(ana_handoff_t *self)
{
    s_pending_t pf;
    int rc = SN_OK;
    if (self->held_len > 0 &&
        s_parse_pending(self->held, self->held_len, &pf)) {
        rc = self->apply(pf.body, pf.body_len, self->arg);
    }
    free(self->held);
    self->held = NULL;
    self->held_len = 0;
    return rc;
}

/* A verdict frame: settle the held frame when it names it. */
static int
s_read_verdict(ana_handoff_t *self, const uint8_t *p, size_t len)
{
    s_pending_t pf;
    uint32_t n = 0;
    if (len >= 13) {
        memcpy(&n, p + 9, 4);
    }
    if (len < 13 || n != len - 13 || self->held_len == 0 ||
        !s_parse_pending(self->held, self->held_len, &pf) || pf.mark_len != n ||
        memcmp(pf.mark, p + 13, n) != 0) {
        return SN_OK; /* about a frame already settled */
    }
    if (p[8] != 0) {
        return s_apply_held(self);
    }
    self->first = pf.first;
    self->last = pf.last;
    free(self->held);
    self->held = NULL;
    self->held_len = 0;
    return SN_OK;
}

int
ana_handoff_read(const uint8_t *p, size_t len, void *arg)
{
    ana_handoff_t *self = arg;
    uint64_t w = s_word(p, len);
    if (w == ANA_HANDOFF_VERDICT) {
        return s_read_verdict(self, p, len);
    }
    int rc = SN_OK;
    if (self->held_len > 0) {
        sn_log(SN_LOG_WARN, "analyzer", "checkpoint_pending",
               "reason=\"a pending checkpoint without a verdict is followed "
               "by another: taken as committed\"");
        rc = s_apply_held(self);
    }
    if (rc != SN_OK) {
        return rc;
    }
    if (w != ANA_HANDOFF_PENDING) {
        return self->apply(p, len, self->arg);
    }
    s_pending_t pf;
    if (!s_parse_pending(p, len, &pf)) {
        return SN_ECORRUPT;
    }
    self->held = sn_malloc(len);
    memcpy(self->held, p, len);
    self->held_len = len;
    return SN_OK;
}

bool
ana_handoff_held(const ana_handoff_t *self)
{
    return self->held_len > 0;
}

int
ana_handoff_resolve(ana_handoff_t *self, sn_receiver_t *recv,
                    ana_journal_t *journal, sn_err_t *err)
{
    s_pending_t pf;
    if (self->held_len == 0) {
        return 0;
    }
    if (recv == NULL || !s_parse_pending(self->held, self->held_len, &pf)) {
        return sn_err_set(err, SN_ESTATE,
                          "journal: the last checkpoint waits for its Kafka "
                          "commit to be confirmed; start with the Kafka "
                          "transport configured to settle it");
    }
    int landed = sn_receiver_landed(recv, pf.mark, pf.mark_len, err);
    if (landed < 0) {
        sn_err_prefix(err, "journal: cannot settle the last checkpoint");
        return landed;
    }
    sn_log(SN_LOG_WARN, "analyzer", "checkpoint_settled",
           "commit=%s first_day=%d last_day=%d reason=\"%s\"",
           landed == 1 ? "landed" : "lost", (int)pf.first, (int)pf.last,
           landed == 1 ? "the group has the last checkpoint's offsets"
                       : "the last checkpoint's offsets never reached the "
                         "group: it is dropped, its events count elsewhere");
    if (landed == 0) {
        /* The verdict waits for ana_handoff_drop(), after the repair. */
        self->first = pf.first;
        self->last = pf.last;
        self->lost = true;
        return 1;
    }
    int rc =
        ana_handoff_verdict(journal, pf.mark, pf.mark_len, true, true, err);
    return rc != SN_OK ? rc : s_apply_held(self);
}

int
ana_handoff_drop(ana_handoff_t *self, ana_journal_t *journal, sn_err_t *err)
{
    s_pending_t pf;
    if (!self->lost || self->held_len == 0 ||
        !s_parse_pending(self->held, self->held_len, &pf)) {
        return sn_err_set(err, SN_ESTATE,
                          "journal: no checkpoint found lost to drop");
    }
    int rc =
        ana_handoff_verdict(journal, pf.mark, pf.mark_len, false, true, err);
    if (rc != SN_OK) {
        return rc;
    }
    free(self->held);
    self->held = NULL;
    self->held_len = 0;
    self->lost = false;
    return SN_OK;
}

bool
ana_handoff_dropped_days(const ana_handoff_t *self, sn_day_t *first,
                         sn_day_t *last)
{
    if (self->first > self->last) {
        return false;
    }
    *first = self->first;
    *last = self->last;
    return true;
}

int
ana_handoff_write(ana_journal_t *journal, const uint8_t *mark, size_t mark_len,
                  sn_day_t first, sn_day_t last, const void *a, size_t alen,
                  const void *b, size_t blen, sn_err_t *err)
{
    uint64_t w = ANA_HANDOFF_PENDING;
    uint32_t n = (uint32_t)mark_len;
    struct iovec iov[7] = {
        {&w, 8},    {&n, 4},           {(void *)mark, mark_len}, {&first, 4},
        {&last, 4}, {(void *)a, alen}, {(void *)b, blen}};
    return ana_journal_appendv(journal, iov, 7, true, err);
}

int
ana_handoff_verdict(ana_journal_t *journal, const uint8_t *mark,
                    size_t mark_len, bool landed, bool sync, sn_err_t *err)
{
    uint64_t w = ANA_HANDOFF_VERDICT;
    uint8_t v = landed ? 1 : 0;
    uint32_t n = (uint32_t)mark_len;
    struct iovec iov[4] = {{&w, 8}, {&v, 1}, {&n, 4}, {(void *)mark, mark_len}};
    return ana_journal_appendv(journal, iov, 4, sync, err);
}
