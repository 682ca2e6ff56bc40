/*  tests/fuzz/fuzz_feed.c - the driver shared by the feed targets
 *
 *  See fuzz_feed.h. Outcomes of the whole read are kept in a list and the
 *  piecewise read is compared with it record by record.
 */
#include "fuzz_feed.h"

#include "fuzz.h"
#include "fuzz_event_common.h"
#include "sentinel/event.h"

#include <stdlib.h>
#include <string.h>

/* What one col_feed_next() call yielded. */
typedef struct {
    int result;        /* COL_FEED_EVENT or COL_FEED_REJECT */
    uint64_t position; /* line or message */
    int code;          /* the rejection's code */
    sn_event_t event;  /* the event */
} s_outcome_t;

typedef struct {
    s_outcome_t *items; /* outcomes in order */
    size_t n, cap;      /* used and allocated */
} s_outcomes_t;

/* Check one record the way the collect loop would use it. */
static void
s_check_record(const char *target, int r, col_record_t *rec)
{
    if (r == COL_FEED_REJECT) {
        if (rec->err.code >= 0 || rec->err.msg[0] == '\0') {
            fuzz_fail(target, "rejection without a code and a message");
        }
        return;
    }
    if (r != COL_FEED_EVENT) {
        fuzz_fail(target, "col_feed_next returned an unknown result");
    }
    if (!fuzz_event_terminated(&rec->event)) {
        fuzz_fail(target, "event string not NUL-terminated");
    }
    uint8_t buf[512];
    int n = sn_event_encode(&rec->event, buf, sizeof buf);
    sn_event_t back;
    if (n < 0 || sn_event_decode(buf, (size_t)n, &back, NULL) != SN_OK ||
        !fuzz_event_same(&rec->event, &back)) {
        fuzz_fail(target, "feed event does not survive protobuf");
    }
    sn_err_t err;
    (void)sn_event_validate(&rec->event, FUZZ_NOW, &err);
}

static void
s_add(s_outcomes_t *o, int r, const col_record_t *rec)
{
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 16;
        o->items = realloc(o->items, o->cap * sizeof *o->items);
        if (o->items == NULL) {
            abort();
        }
    }
    s_outcome_t *it = &o->items[o->n++];
    it->result = r;
    it->position = rec->position;
    it->code = r == COL_FEED_REJECT ? rec->err.code : 0;
    if (r == COL_FEED_EVENT) {
        it->event = rec->event;
    }
}

/* Take every record the feed has now. */
static void
s_drain(const char *target, col_feed_t *feed, s_outcomes_t *o)
{
    col_record_t rec;
    int r;
    while ((r = col_feed_next(feed, &rec)) > 0) {
        s_check_record(target, r, &rec);
        s_add(o, r, &rec);
    }
    if (r != COL_FEED_AGAIN) {
        fuzz_fail(target, "col_feed_next returned an error");
    }
}

static bool
s_same(const s_outcome_t *a, const s_outcome_t *b)
{
    if (a->result != b->result || a->position != b->position ||
        a->code != b->code) {
        return false;
    }
    return a->result != COL_FEED_EVENT || fuzz_event_same(&a->event, &b->event);
}

/* Push `data` in pieces of 1..32 bytes chosen from the input itself. */
static void
s_read_pieces(const char *target, col_feed_t *feed, const uint8_t *data,
              size_t size, s_outcomes_t *o)
{
    size_t piece = size ? 1 + data[size / 2] % 32 : 1;
    for (size_t off = 0; off < size; off += piece) {
        size_t n = size - off < piece ? size - off : piece;
        if (col_feed_push(feed, data + off, n) != SN_OK) {
            fuzz_fail(target, "col_feed_push refused before the end");
        }
        s_drain(target, feed, o);
    }
    col_feed_end(feed);
    s_drain(target, feed, o);
}

/* One record through col_feed_parse(). */
static void
s_read_parse(const char *target, col_feed_t *feed, const uint8_t *data,
             size_t size)
{
    col_record_t rec;
    int r = col_feed_parse(feed, data, size, &rec);
    if (r == COL_FEED_EVENT || r == COL_FEED_REJECT) {
        s_check_record(target, r, &rec);
    } else if (r != COL_FEED_AGAIN) {
        fuzz_fail(target, "col_feed_parse returned an unknown result");
    }
}

void
fuzz_feed_check(const char *target, fuzz_feed_make_fn make, const uint8_t *data,
                size_t size)
{
    s_outcomes_t whole = {0}, pieces = {0};
    col_feed_t *feed = make();
    col_feed_push(feed, data, size);
    col_feed_end(feed);
    s_drain(target, feed, &whole);
    if (col_feed_records(feed) != whole.n) {
        fuzz_fail(target, "col_feed_records disagrees with the records");
    }
    col_feed_destroy(&feed);
    feed = make();
    s_read_pieces(target, feed, data, size, &pieces);
    col_feed_destroy(&feed);
    if (whole.n != pieces.n) {
        fuzz_fail(target, "pieces gave a different number of records");
    }
    for (size_t i = 0; i < whole.n; i++) {
        if (!s_same(&whole.items[i], &pieces.items[i])) {
            fuzz_fail(target, "pieces gave a different record");
        }
    }
    feed = make();
    s_read_parse(target, feed, data, size);
    col_feed_destroy(&feed);
    free(whole.items);
    free(pieces.items);
}
