/*  collectors/feed_hl7.h - HL7 v2.5.1 ADT feed (syndromic surveillance)
 *
 *  Reads ADT^A01/A03/A04/A08 messages as the PHIN syndromic surveillance
 *  messaging guide uses them and builds one event per visit: facility from
 *  EVN-7 or MSH-4, age from PID-7 against the visit date (or an OBX age
 *  observation), sex from PID-8, visit date from PV1-44, patient class from
 *  PV1-2, visit number from PV1-19, chief complaint from PV2-3 or OBX
 *  8661-1, diagnoses from DG1-3; the condition comes from the condition map.
 *  Separators are read from MSH-1 and MSH-2 of each message. Names (PID-5),
 *  identifiers (PID-3), addresses (PID-11) and phones are never read.
 *
 *  Identity: all messages of one visit share event_id, derived from
 *  (facility, visit number). Revision: the message time MSH-7 as seconds
 *  since 2000-01-01T00:00:00Z, so a later message of the visit replaces the
 *  earlier one. This needs no state, so it survives a collector restart and
 *  a resend of old messages (an old A01 resent after an A08 keeps its lower
 *  revision and cannot undo the update), which a per-visit counter kept by
 *  the collector could not promise.
 *
 *  Rejections carry codes that mllp.h maps to ACK codes: SN_EPROTO (no MSH,
 *  bad separators) and SN_EUNSUPPORTED (message type) mean AR; every other
 *  code means AE.
 *
 *  Threading: as feed.h.
 */
#ifndef SENTINEL_COLLECTORS_FEED_HL7_H
#define SENTINEL_COLLECTORS_FEED_HL7_H

#include <stdbool.h>

#include "condition_map.h"
#include "feed.h"

/* How event_id is made from (facility, visit number). */
typedef enum {
    COL_HL7_ID_HASH = 0,  /* keyed BLAKE2b of both, 32 hex digits */
    COL_HL7_ID_PLAIN = 1, /* "facility/visit", refused when over 64 bytes */
} col_hl7_id_t;

/* Options. Strings are copied by col_feed_hl7_new(). */
typedef struct col_hl7_opts {
    col_hl7_id_t event_id; /* hash by default */
    const char *id_key;    /* hash key; NULL: the site_id */
    bool reject_unmatched; /* refuse (AE) instead of `unexplained` */
    const char *classes;   /* accepted PV1-2 classes ("EO"); NULL: all */
    int tz_offset_minutes; /* zone of HL7 times that carry none */
} col_hl7_opts_t;

/** Create an HL7 feed; takes over *cmap_p (required) and sets it to NULL.
 *  A file may hold several messages: each starts with an MSH segment;
 *  FHS/BHS/BTS/FTS batch segments are skipped. Segments end with CR, LF or
 *  CRLF. Never returns NULL. Caller owns the result. */
col_feed_t *col_feed_hl7_new(const char *name, const col_site_t *site,
                             const col_hl7_opts_t *opts, col_cmap_t **cmap_p,
                             size_t max_record);

#endif
