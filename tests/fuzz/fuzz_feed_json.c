/*  tests/fuzz/fuzz_feed_json.c - fuzz the collectors' JSON lines feed
 *
 *  A site's JSON lines file or stream, read by col_feed_json_new() with
 *  site defaults, whole, in pieces and as one record (fuzz_feed.h).
 */
#include "fuzz.h"

#include "feed_json.h"
#include "fuzz_feed.h"

static col_feed_t *
s_make(void)
{
    static const col_site_t site = {"bj-h001", SN_SOURCE_FEVER_CLINIC,
                                    "110105"};
    return col_feed_json_new("fuzz.jsonl", &site, FUZZ_FEED_MAX_RECORD);
}

int
fuzz_feed_json(const uint8_t *data, size_t size)
{
    fuzz_feed_check("feed_json", s_make, data, size);
    return 0;
}

SN_FUZZ_TARGET(fuzz_feed_json)
