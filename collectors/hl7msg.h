/*  collectors/hl7msg.h - read one HL7 v2 message: separators, segments, fields
 *
 *  The HL7 feed and the MLLP ACK builder both read messages through this
 *  small reader. It takes the separators from the message itself (MSH-1 the
 *  field separator, MSH-2 the component, repetition, escape and
 *  subcomponent characters), never assuming |^~\&, splits segments at CR,
 *  LF or CRLF, and returns field values with HL7 escapes (\F\ \S\ \T\ \R\
 *  \E\ \Xhh\) undone. Fields are numbered as the standard numbers them, so
 *  MSH-3 is the sending application and PID-8 the sex.
 *
 *  Threading: a reader belongs to one thread.
 */
#ifndef SENTINEL_COLLECTORS_HL7MSG_H
#define SENTINEL_COLLECTORS_HL7MSG_H

#include <stddef.h>

#include "sentinel/error.h"

typedef struct col_hl7msg col_hl7msg_t; /* opaque; defined in hl7msg.c */

/** Create a reader. Never returns NULL. Caller owns the result. */
col_hl7msg_t *col_hl7msg_new(void);

/** Free the reader and set *self_p to NULL. Safe on NULL. */
void col_hl7msg_destroy(col_hl7msg_t **self_p);

/** Read the message text[0..len) (borrowed until the next call): find MSH,
 *  take the separators, split the segments and check each segment's name.
 *  @return SN_OK; SN_EPROTO with the reason when there is no MSH segment or
 *  the separators are unusable or not the ones the segments use; SN_EPARSE
 *  for a segment that is not one. */
int col_hl7msg_read(col_hl7msg_t *self, const char *text, size_t len,
                    sn_err_t *err);

/** @return the number of segments read. */
size_t col_hl7msg_segments(const col_hl7msg_t *self);

/** @return the index of the `nth` (0-based) segment named `name`, or -1. */
int col_hl7msg_find(const col_hl7msg_t *self, const char *name, size_t nth);

/** Copy the value of field `field`, repetition `rep` (0-based), component
 *  `comp` (1-based; 0 for the whole repetition) of segment `seg` into
 *  out[size], unescaped and NUL-terminated (an empty string when absent).
 *  MSH-1 and MSH-2 give the separators themselves.
 *  @return the length of the value; a value too long for `out` is cut. */
size_t col_hl7msg_get(const col_hl7msg_t *self, int seg, int field, int rep,
                      int comp, char *out, size_t size);

/** Point *p at the raw bytes (escapes left as sent) of field `field` of
 *  segment `seg`, all repetitions. @return their length (0 when absent). */
size_t col_hl7msg_raw(const col_hl7msg_t *self, int seg, int field,
                      const char **p);

/** @return the field separator of the message read. */
char col_hl7msg_fs(const col_hl7msg_t *self);

/** @return the encoding characters (component, repetition, escape,
 *  subcomponent) of the message read, as a NUL-terminated string. */
const char *col_hl7msg_encoding(const col_hl7msg_t *self);

#endif
