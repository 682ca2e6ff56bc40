/*  tests/fuzz/fuzz_event_common.h - compare two case events field by field
 *
 *  The event targets check round trips (decode, encode, decode again; JSON
 *  in, JSON out, JSON in again): the two events must agree on every field.
 *  Strings are compared as strings, so bytes after the NUL do not count.
 *
 *  Threading: reentrant.
 */
#ifndef SENTINEL_TESTS_FUZZ_EVENT_COMMON_H
#define SENTINEL_TESTS_FUZZ_EVENT_COMMON_H

#include "sentinel/event.h"

#include <stdbool.h>
#include <string.h>

static inline bool
fuzz_event_same(const sn_event_t *a, const sn_event_t *b)
{
    return strcmp(a->event_id, b->event_id) == 0 &&
           a->revision == b->revision && strcmp(a->site_id, b->site_id) == 0 &&
           a->source == b->source && strcmp(a->region, b->region) == 0 &&
           strcmp(a->condition, b->condition) == 0 &&
           a->onset_date == b->onset_date && a->report_time == b->report_time &&
           a->count == b->count && a->age_years == b->age_years &&
           a->sex == b->sex && a->lab_confirmed == b->lab_confirmed;
}

/* Every string of an accepted event must end inside its field. */
static inline bool
fuzz_event_terminated(const sn_event_t *ev)
{
    return memchr(ev->event_id, 0, sizeof ev->event_id) != NULL &&
           memchr(ev->site_id, 0, sizeof ev->site_id) != NULL &&
           memchr(ev->region, 0, sizeof ev->region) != NULL &&
           memchr(ev->condition, 0, sizeof ev->condition) != NULL;
}

#endif
