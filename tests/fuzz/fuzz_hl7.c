/*  tests/fuzz/fuzz_hl7.c - fuzz the collectors' HL7 v2 ADT feed
 *
 *  HL7 messages as a hospital's interface engine sends them (the HL7
 *  suite's fixtures are the seeds), read with the default catalogue and
 *  hashed visit ids, whole, in pieces and as one message (fuzz_feed.h).
 *  The record bound is larger than the other feeds', since one ADT message
 *  is a few hundred bytes on its own.
 */
#include "fuzz.h"

#include "feed_hl7.h"
#include "fuzz_feed.h"

static col_feed_t *
s_make(void)
{
    static const col_site_t site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};
    col_hl7_opts_t o = {0};
    o.tz_offset_minutes = 480;
    col_cmap_t *cmap = col_cmap_new(true);
    return col_feed_hl7_new("fuzz.hl7", &site, &o, &cmap,
                            8 * FUZZ_FEED_MAX_RECORD);
}

int
fuzz_hl7(const uint8_t *data, size_t size)
{
    fuzz_feed_check("hl7", s_make, data, size);
    return 0;
}

SN_FUZZ_TARGET(fuzz_hl7)
