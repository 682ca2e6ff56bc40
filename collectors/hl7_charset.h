/*  collectors/hl7_charset.h - HL7 messages in the character set MSH-18 names
 *
 *  HL7 v2 messages are ASCII unless MSH-18 names another character set, and
 *  Chinese hospitals' engines often send GB 18030 (HL7 table 0211: "GB
 *  18030-2000"). Its two-byte characters can hold the bytes of '|', '^' or
 *  '~', so a message must be converted before it is split into fields, or a
 *  chief complaint in GB 18030 would neither split right nor match the
 *  condition rules' keywords. This module reads MSH-18 and converts a
 *  message to UTF-8 with iconv.
 *
 *  Ownership: the converter owns its buffer; a converted message is valid
 *  until the next call. Threading: not thread-safe; one per feed.
 */
#ifndef SENTINEL_COLLECTORS_HL7_CHARSET_H
#define SENTINEL_COLLECTORS_HL7_CHARSET_H

#include <stddef.h>
#include <stdint.h>

#include "sentinel/error.h"

typedef struct col_hl7_charset col_hl7_charset_t; /* opaque */

/** @return a converter (caller owns it; never NULL). */
col_hl7_charset_t *col_hl7_charset_new(void);

/** Free it and set *self_p to NULL. Safe on NULL. */
void col_hl7_charset_destroy(col_hl7_charset_t **self_p);

/** Make message `msg` (`len` bytes) UTF-8: when its MSH-18 names ASCII,
 *  UTF-8 or nothing, *out is `msg` itself; for GB 18030 (or GBK, GB 2312)
 *  and ISO 8859-1, *out is the converted copy, valid until the next call.
 *  @return SN_OK, or SN_EUNSUPPORTED (a character set not handled) or
 *  SN_EPARSE (bytes that are not of that set) with the reason naming
 *  MSH-18 in err. */
int col_hl7_charset_utf8(col_hl7_charset_t *self, const uint8_t *msg,
                         size_t len, const uint8_t **out, size_t *out_len,
                         sn_err_t *err);

#endif
