/*  collectors/hl7_redact.h - blank the personal identifiers of a raw HL7 v2
 *  message before it is kept anywhere
 *
 *  A message the collector refuses goes to the site's dead letter with its
 *  raw bytes, so that the interface engine's team can see what was wrong.
 *  Those bytes must not carry who the patient is: the fields that name or
 *  identify a person (PID-2..6, 9, 11, 13, 14, 19..21; every field of NK1,
 *  GT1, IN1, IN2, IN3 and MRG) are emptied, their separators kept, so the
 *  message keeps its shape and every other field its position. It works on
 *  any bytes, broken messages included (that is when it is needed): the
 *  field separator is MSH-1 when an MSH segment is found, '|' otherwise;
 *  segments end at CR or LF.
 *
 *  Threading: pure functions.
 */
#ifndef SENTINEL_COLLECTORS_HL7_REDACT_H
#define SENTINEL_COLLECTORS_HL7_REDACT_H

#include <stddef.h>
#include <stdint.h>

/** Copy the message in[0..len) into out (room for `len` bytes) with the
 *  identifying fields emptied. @return the bytes written (<= len). */
size_t col_hl7_redact(const uint8_t *in, size_t len, uint8_t *out);

#endif
