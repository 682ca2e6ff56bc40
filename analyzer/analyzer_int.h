/*  analyzer/analyzer_int.h - what analyzer.c and analyzer_sinks.c share
 *
 *  The daemon's state, and the sinks the pipeline calls (alerts to the
 *  outbox and the archive, closed days to the archive) that live in
 *  analyzer_sinks.c so analyzer.c keeps to its lifecycle and checkpoints.
 *  Nothing here leaves analyzer.c and analyzer_sinks.c.
 *
 *  Threading: as analyzer.h; everything runs in the analyzer's thread.
 */
#ifndef SENTINEL_ANALYZER_ANALYZER_INT_H
#define SENTINEL_ANALYZER_ANALYZER_INT_H

#include "analyzer.h"

#include "ana_config.h"
#include "ana_metrics.h"
#include "archive.h"
#include "handoff.h"
#include "ingest.h"
#include "journal.h"
#include "sentinel/alert.h"
#include "sentinel/transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The position of one sender: the highest sequence ingested. */
typedef struct ana_pos {
    char id[SN_SENDER_ID_MAX + 1]; /* sender id */
    uint64_t seq;                  /* highest sequence ingested */
} ana_pos_t;

struct ana_analyzer {
    sn_config_t *file;      /* the loaded file */
    ana_config_t cfg;       /* what it says */
    char *state_path;       /* state_dir/analyzer.state */
    char *fence_path;       /* state_dir/analyzer.fenced */
    ana_ingest_t *in;       /* the pipeline */
    ana_archive_t *archive; /* the archive, or NULL */
    size_t *rows;           /* series id -> archive row (SIZE_MAX) */
    size_t n_rows;
    ana_archive_row_t *arows; /* scratch rows for put_day */
    sn_receiver_t *recv;      /* case events in */
    sn_spool_t *outbox;       /* alerts out, durable */
    sn_sender_t *sender;      /* delivers the outbox */
    ana_pos_t *pos;           /* transport positions */
    size_t n_pos, cap_pos;
    char *journal_path;     /* state_dir/analyzer.journal */
    ana_journal_t *journal; /* checkpoints between snapshots */
    uint64_t gen;           /* generation of the snapshot */
    uint64_t snap_bytes;    /* size of the last snapshot */
    size_t since_ckpt;      /* records since the last checkpoint */
    bool archive_dirty;     /* archive written since the last flush */
    bool outbox_dirty;      /* alerts appended but not synced */
    bool dirty;             /* something since the last checkpoint */
    int64_t last_ckpt;      /* monotonic ns of the last checkpoint */
    ana_metrics_t *metrics; /* counters */
    ana_handoff_t *hand;    /* reads the journal's Kafka checkpoints */
    bool fenced;            /* no more checkpoints: see s_fence() */
    bool kafka;             /* the receiver is a Kafka consumer */
    sn_day_t day_first;     /* archive days put since the checkpoint */
    sn_day_t day_last;      /* (first > last: none) */
    uint64_t full_logged;   /* dedup-full refusals told in the log */
    int64_t full_log_ns;    /* monotonic ns of that warning */
};

/** The alert sink: log it, archive it, append it to the outbox. */
void ana_analyzer_on_alert(const sn_alert_t *a, void *arg);

/** @return the archive row of series `id`, registering it on first use;
 *  SIZE_MAX when the archive refused it (logged). */
size_t ana_analyzer_row(ana_analyzer_t *self, uint32_t id);

/** The closed-day sink: put (or correct) day `day` in the archive, and
 *  note the day among those written since the last checkpoint. */
void ana_analyzer_on_rows(sn_day_t day, const ana_engine_row_t *rows, size_t n,
                          bool correction, void *arg);

/** Put the archive days [first, last] back to the state's counts: closed
 *  days get the state's count of every series (0 when it has none), days
 *  the state has not closed become missing again. Only rows whose count
 *  changes are written (their detector outputs become missing: they were
 *  computed on the count undone), each change recorded in the archive's
 *  corrections table; so a repair done twice changes nothing the second
 *  time. @return SN_OK or the archive's error. */
int ana_analyzer_repair_days(ana_analyzer_t *self, sn_day_t first,
                             sn_day_t last, sn_err_t *err);

/** At start, before the first poll: settle a Kafka checkpoint left
 *  unconfirmed (handoff.h) and put back the archive days of a dropped one;
 *  on Kafka, after a kill or a fenced stop (fence_path exists), put back
 *  the archive days past the state's last closed day; flush the archive;
 *  only then write the drop's verdict and remove the fence marker.
 *  @return SN_OK or the first error (the start fails; nothing is lost). */
int ana_analyzer_settle(ana_analyzer_t *self, sn_err_t *err);

#endif
