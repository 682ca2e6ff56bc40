/*  tests/fuzz/fuzz_mllp.c - fuzz the MLLP deframer and the HL7 ACK builder
 *
 *  The collector's MLLP listener takes whatever a TCP peer sends, cuts it
 *  into frames with col_mllp_new()/col_mllp_push()/col_mllp_next(), parses
 *  each message with the HL7 feed's col_feed_parse() and answers with
 *  col_mllp_ack() framed by col_mllp_frame(). This target does the same
 *  with a small frame bound (so oversize frames happen), pushing the input
 *  whole into one deframer and in pieces into another: both must yield the
 *  same messages (unless a frame went over the bound, see s_compare()). Every
 * message gets all three ACK codes, and every ACK must itself be a message that
 * starts with MSH and reads back as HL7.
 */
#include "fuzz.h"

#include "feed_hl7.h"
#include "hl7msg.h"
#include "mllp.h"

#include <stdlib.h>
#include <string.h>

#define FUZZ_TARGET "mllp"
#define FUZZ_MLLP_MAX                                                          \
    1024                  /* frame bound: small, to reach the oversize path    \
                           */
#define FUZZ_MLLP_KEEP 64 /* messages compared between the two reads */

/* A message (or an oversize report) as the deframer yielded it. */
typedef struct {
    int result;   /* COL_MLLP_MESSAGE or COL_MLLP_OVERSIZE */
    uint8_t *msg; /* a copy of the message */
    size_t len;   /* its length */
} s_frame_t;

typedef struct {
    s_frame_t items[FUZZ_MLLP_KEEP]; /* the first ones */
    size_t n;                        /* yielded in all */
    size_t oversize;                 /* of which oversize reports */
} s_frames_t;

/* Answer `msg` the way the listener does, with `code`, and read the ACK. */
static void
s_ack(const uint8_t *msg, size_t len, col_ack_t code, col_hl7msg_t *reader)
{
    size_t alen = 0, flen = 0;
    char *ack = col_mllp_ack(msg, len, code,
                             code == COL_ACK_AA ? NULL : "bad | ^~\\& reason",
                             FUZZ_NOW, &alen);
    if (ack == NULL || alen < 3 || strncmp(ack, "MSH", 3) != 0) {
        fuzz_fail(FUZZ_TARGET, "ACK does not start with MSH");
    }
    if (memchr(ack, COL_MLLP_VT, alen) || memchr(ack, COL_MLLP_FS, alen)) {
        fuzz_fail(FUZZ_TARGET, "ACK carries MLLP framing bytes");
    }
    if (col_hl7msg_read(reader, ack, alen, NULL) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, "ACK is not a readable HL7 message");
    }
    uint8_t *framed = col_mllp_frame(ack, alen, &flen);
    if (flen != alen + 3 || framed[0] != COL_MLLP_VT) {
        fuzz_fail(FUZZ_TARGET, "framed ACK has the wrong shape");
    }
    free(framed);
    free(ack);
}

/* What the listener does with one message. */
static void
s_handle(const uint8_t *msg, size_t len, col_feed_t *feed, col_hl7msg_t *reader)
{
    col_record_t rec;
    int r = col_feed_parse(feed, msg, len, &rec);
    int code = r == COL_FEED_REJECT ? rec.err.code : SN_OK;
    (void)col_mllp_ack_code(code);
    s_ack(msg, len, COL_ACK_AA, reader);
    s_ack(msg, len, COL_ACK_AE, reader);
    s_ack(msg, len, COL_ACK_AR, reader);
}

static void
s_keep(s_frames_t *f, int r, const uint8_t *msg, size_t len)
{
    if (f->n < FUZZ_MLLP_KEEP) {
        s_frame_t *it = &f->items[f->n];
        it->result = r;
        it->len = r == COL_MLLP_MESSAGE ? len : 0;
        it->msg = malloc(it->len + 1);
        if (it->len > 0) {
            memcpy(it->msg, msg, it->len);
        }
    }
    f->n++;
    f->oversize += r == COL_MLLP_OVERSIZE;
}

/* Take every frame the deframer has now; handle them when `handle`. */
static void
s_drain(col_mllp_t *d, s_frames_t *f, col_feed_t *feed, col_hl7msg_t *reader)
{
    const uint8_t *msg;
    size_t len;
    int r;
    while ((r = col_mllp_next(d, &msg, &len)) != COL_MLLP_AGAIN) {
        if (r != COL_MLLP_MESSAGE && r != COL_MLLP_OVERSIZE) {
            fuzz_fail(FUZZ_TARGET, "col_mllp_next returned an unknown result");
        }
        if (r == COL_MLLP_MESSAGE && len > FUZZ_MLLP_MAX) {
            fuzz_fail(FUZZ_TARGET, "message longer than the bound");
        }
        if (r == COL_MLLP_MESSAGE && feed != NULL) {
            s_handle(msg, len, feed, reader);
        }
        s_keep(f, r, msg, len);
    }
}

/* @return the index of the next delivered message in f at or after i (an
 * oversize report is not a message), or f->n when there is none. */
static size_t
s_next_message(const s_frames_t *f, size_t i)
{
    size_t n = f->n < FUZZ_MLLP_KEEP ? f->n : FUZZ_MLLP_KEEP;
    while (i < n && f->items[i].result == COL_MLLP_OVERSIZE) {
        i++;
    }
    return i < n ? i : f->n;
}

/* The two reads must deliver the same messages. Oversize reports may
 * differ: a runaway frame seen growing is reported oversize, the same frame
 * seen whole up to a <VT> is a dropped stub; either way the frame after it
 * arrives. */
static void
s_compare(const s_frames_t *a, const s_frames_t *b)
{
    size_t i = s_next_message(a, 0), j = s_next_message(b, 0);
    while (i < a->n && j < b->n) {
        const s_frame_t *x = &a->items[i], *y = &b->items[j];
        if (x->len != y->len || memcmp(x->msg, y->msg, x->len) != 0) {
            fuzz_fail(FUZZ_TARGET, "pieces gave a different frame");
        }
        i = s_next_message(a, i + 1);
        j = s_next_message(b, j + 1);
    }
    if ((i < a->n) != (j < b->n) &&
        a->n <= FUZZ_MLLP_KEEP && b->n <= FUZZ_MLLP_KEEP) {
        fuzz_fail(FUZZ_TARGET, "pieces gave a different number of frames");
    }
}

static void
s_free(s_frames_t *f)
{
    for (size_t i = 0; i < f->n && i < FUZZ_MLLP_KEEP; i++) {
        free(f->items[i].msg);
    }
}

int
fuzz_mllp(const uint8_t *data, size_t size)
{
    static const col_site_t site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};
    col_hl7_opts_t o = {0};
    col_cmap_t *cmap = col_cmap_new(true);
    col_feed_t *feed = col_feed_hl7_new("mllp", &site, &o, &cmap, 0);
    col_hl7msg_t *reader = col_hl7msg_new();
    s_frames_t *whole = calloc(2, sizeof *whole), *pieces = whole + 1;
    col_mllp_t *d = col_mllp_new(FUZZ_MLLP_MAX);
    col_mllp_push(d, data, size);
    s_drain(d, whole, feed, reader);
    col_mllp_destroy(&d);
    d = col_mllp_new(FUZZ_MLLP_MAX);
    size_t piece = size ? 1 + data[size / 2] % 32 : 1;
    for (size_t off = 0; off < size; off += piece) {
        col_mllp_push(d, data + off, size - off < piece ? size - off : piece);
        s_drain(d, pieces, NULL, NULL);
    }
    s_compare(whole, pieces);
    s_ack(NULL, 0, COL_ACK_AR, reader);
    col_mllp_destroy(&d);
    s_free(whole);
    s_free(pieces);
    free(whole);
    col_hl7msg_destroy(&reader);
    col_feed_destroy(&feed);
    return 0;
}

SN_FUZZ_TARGET(fuzz_mllp)
