/*  collectors/mllp.h - MLLP framing and HL7 acknowledgements
 *
 *  Hospitals' interface engines push HL7 v2 over MLLP: each message is
 *  framed as <VT> message <FS><CR> (0x0B … 0x1C 0x0D) on a TCP stream and
 *  answered with an HL7 ACK in the same framing. The deframer takes the
 *  stream in whatever pieces TCP delivers and yields whole messages; bytes
 *  outside a frame and frames cut short by a new <VT> are counted as
 *  garbage and skipped, a frame longer than the bound is dropped and
 *  reported. The ACK builder answers with MSA-1 AA (accepted), AE
 *  (application error: the message was understood but refused, reason in
 *  MSA-3 and ERR) or AR (rejected: no MSH, wrong separators, unsupported
 *  message type, or the collector cannot take records now). The ACK echoes
 *  MSH-10 as MSA-2 and swaps sender and receiver.
 *
 *  Threading: a deframer belongs to one thread; col_mllp_ack() and the
 *  other functions are reentrant.
 */
#ifndef SENTINEL_COLLECTORS_MLLP_H
#define SENTINEL_COLLECTORS_MLLP_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/date.h"
#include "sentinel/error.h"

#define COL_MLLP_VT 0x0b
#define COL_MLLP_FS 0x1c
#define COL_MLLP_CR 0x0d
#define COL_MLLP_MAX_DEFAULT (1u << 20) /* 1 MiB per message */

typedef struct col_mllp col_mllp_t; /* opaque; defined in mllp.c */

/* The acknowledgement codes of MSA-1 (original mode). */
typedef enum {
    COL_ACK_AA = 0, /* application accept: the record is durable */
    COL_ACK_AE = 1, /* application error: refused for its content */
    COL_ACK_AR = 2, /* application reject: not processable, or try later */
} col_ack_t;

/* What col_mllp_next() returns. */
typedef enum {
    COL_MLLP_AGAIN = 0,    /* no whole frame buffered */
    COL_MLLP_MESSAGE = 1,  /* *msg, *len hold one message */
    COL_MLLP_OVERSIZE = 2, /* a frame over the bound is dropped; *msg and
                            *len hold its first bytes */
} col_mllp_result_t;

/** Create a deframer for messages of at most `max_message` bytes
 *  (0: COL_MLLP_MAX_DEFAULT). Never returns NULL. Caller owns the result. */
col_mllp_t *col_mllp_new(size_t max_message);

/** Free the deframer and set *self_p to NULL. Safe on NULL. */
void col_mllp_destroy(col_mllp_t **self_p);

/** Append `len` bytes read from the stream. */
void col_mllp_push(col_mllp_t *self, const void *data, size_t len);

/** Take the next whole message. On COL_MLLP_MESSAGE, *msg and *len point
 *  into the deframer, valid until the next push or next call. On
 *  COL_MLLP_OVERSIZE they point, as long, to the first bytes of the frame
 *  being dropped (more than `max_message` of them), so that they can be
 *  dead-lettered; the rest of that frame is skipped without a copy.
 *  @return a col_mllp_result_t. */
int col_mllp_next(col_mllp_t *self, const uint8_t **msg, size_t *len);

/** @return the number of bytes skipped as garbage so far. */
uint64_t col_mllp_garbage(const col_mllp_t *self);

/** Frame `len` bytes of `msg` into a new buffer (<VT> msg <FS><CR>).
 *  *out_len gets its length. Caller owns the result (free()). */
uint8_t *col_mllp_frame(const void *msg, size_t len, size_t *out_len);

/** Build the HL7 ACK of `msg` (the message as received, or NULL when there
 *  is none) with `code` and `reason` (NULL for AA), stamped `now`. The ACK
 *  uses the message's own separators when its MSH is readable, else the
 *  standard |^~\&. Segments end with CR. The reason is escaped for HL7.
 *  *out_len gets the length. Caller owns the result (free()). */
char *col_mllp_ack(const void *msg, size_t len, col_ack_t code,
                   const char *reason, sn_time_t now, size_t *out_len);

/** @return the ACK code for a record refused with error `code`: AR for
 *  SN_EPROTO, SN_EUNSUPPORTED, SN_EFULL, SN_EIO and SN_ESYS (the message
 *  cannot be processed, or the collector cannot take it now); AE for every
 *  other code; AA for SN_OK. */
col_ack_t col_mllp_ack_code(int code);

/** @return "AA", "AE" or "AR", static. */
const char *col_ack_name(col_ack_t code);

#endif
