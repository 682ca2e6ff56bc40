/*  collectors/feed_int.h - what the feed kinds share with feed.c
 *
 *  feed.c owns the input buffer, the record counters and the position
 *  bookkeeping; each kind (feed_json.c, feed_csv.c, feed_hl7.c) supplies a
 *  splitter that finds where the next record ends and a parser that turns
 *  one record into an event or a rejection.
 *
 *  Threading: as feed.h.
 */
#ifndef SENTINEL_COLLECTORS_FEED_INT_H
#define SENTINEL_COLLECTORS_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"

/* The operations of one kind. */
typedef struct col_feed_ops {
    col_feed_kind_t kind; /* the kind these ops read */
    bool by_line;         /* positions are lines (else records) */
    /* Find the end of the next record in p[0..n). Return the bytes it
     * takes with its terminator, or 0 when it is not whole yet (`end` says
     * no more input follows). *rec_len gets the record without its
     * terminator and *lines the line breaks consumed. */
    size_t (*split)(void *impl, const uint8_t *p, size_t n, bool end,
                    size_t *rec_len, uint64_t *lines);
    /* Parse one record into out->event or out->err. Return COL_FEED_EVENT,
     * COL_FEED_REJECT, or COL_FEED_AGAIN for a record that carries no
     * event (blank line, header row, batch segment). */
    int (*parse)(void *impl, const col_site_t *site, const uint8_t *rec,
                 size_t len, col_record_t *out);
    void (*destroy)(void *impl); /* free impl */
    /* Or NULL. Copy a refused record's bytes in[0..len) into out (room for
     * len bytes) without what may identify a person, before anything
     * keeps them (dead letters). Return the bytes written (<= len). */
    size_t (*redact)(const uint8_t *in, size_t len, uint8_t *out);
} col_feed_ops_t;

/** Create a feed over `ops`, taking over `impl` (freed with ops->destroy).
 *  Never returns NULL. */
col_feed_t *col_feed_new_kind(const col_feed_ops_t *ops, void *impl,
                              const char *name, const col_site_t *site,
                              size_t max_record);

/** Copy the site defaults into the event's empty fields. */
void col_feed_apply_site(const col_site_t *site, sn_event_t *ev);

/** Copy at most `size - 1` bytes of p[0..n) into dst (NUL-terminated).
 *  @return SN_OK, or SN_EOVERFLOW when it did not fit (dst unchanged). */
int col_feed_copy(char *dst, size_t size, const char *p, size_t n);

#endif
