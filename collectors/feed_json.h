/*  collectors/feed_json.h - JSON lines feed: one event object per line
 *
 *  Each non-blank line is one JSON object in the event model's JSON mapping
 *  (sn_event_from_json()); personal identifiers are refused there. Fields
 *  the line leaves out that the site sets once (site_id, source, region)
 *  come from the site defaults. See feed.h for the reading loop.
 *
 *  Threading: as feed.h.
 */
#ifndef SENTINEL_COLLECTORS_FEED_JSON_H
#define SENTINEL_COLLECTORS_FEED_JSON_H

#include "feed.h"

/** Create a JSON lines feed named `name` (for rejections) with the site
 *  defaults `site` (copied; may be NULL) and records of at most
 *  `max_record` bytes (0: COL_FEED_MAX_RECORD_DEFAULT).
 *  Never returns NULL. Caller owns the result (col_feed_destroy()). */
col_feed_t *col_feed_json_new(const char *name, const col_site_t *site,
                              size_t max_record);

#endif
