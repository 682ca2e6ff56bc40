/*  collectors/feed_json.c - JSON lines feed
 *
 *  Splits the input at newlines and parses each line with the event
 *  model's JSON mapping (sn_event_from_json(), which also refuses personal
 *  identifiers), then fills the site defaults. Blank lines are skipped but
 *  counted, so positions stay the line numbers an editor shows.
 */
#include "feed_json.h"
#include "feed_int.h"

#include <stdlib.h>
#include <string.h>

/* Lines end with LF; a CR before it is dropped. At the end of input the
 * last line needs no LF. */
static size_t
s_split(void *impl, const uint8_t *p, size_t n, bool end, size_t *rec_len,
        uint64_t *lines)
{
    (void)impl;
    const uint8_t *nl = memchr(p, '\n', n);
    size_t len;
    size_t used;
    if (nl) {
        len = (size_t)(nl - p);
        used = len + 1;
        *lines = 1;
    } else if (end) {
        len = n;
        used = n;
        *lines = 1;
    } else {
        return 0;
    }
    if (len > 0 && p[len - 1] == '\r') {
        len--;
    }
    *rec_len = len;
    return used;
}

static bool
s_blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
            return false;
        }
    }
    return true;
}

static int
s_parse(void *impl, const col_site_t *site, const uint8_t *rec, size_t len,
        col_record_t *out)
{
    (void)impl;
    if (s_blank(rec, len)) {
        return COL_FEED_AGAIN;
    }
    if (sn_event_from_json((const char *)rec, len, &out->event, &out->err) !=
        SN_OK) {
        return COL_FEED_REJECT;
    }
    col_feed_apply_site(site, &out->event);
    return COL_FEED_EVENT;
}

static void
s_destroy(void *impl)
{
    (void)impl;
}

static const col_feed_ops_t s_ops = {
    .kind = COL_FEED_JSON,
    .by_line = true,
    .split = s_split,
    .parse = s_parse,
    .destroy = s_destroy,
};

col_feed_t *
col_feed_json_new(const char *name, const col_site_t *site, size_t max_record)
{
    return col_feed_new_kind(&s_ops, NULL, name, site, max_record);
}
