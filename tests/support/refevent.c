/*  tests/support/refevent.c - the reference decoding of a CaseEvent (see
 *  refevent.h)
 */
#include "refevent.h"

#include "sentinel/v1/event.pb-c.h"

#include <stdbool.h>
#include <string.h>

static bool
s_str(const char *src, char *dst, size_t size)
{
    if (strlen(src) >= size) {
        return false;
    }
    strcpy(dst, src);
    return true;
}

int
ts_ref_event_unpack(const uint8_t *buf, size_t len, sn_event_t *ev)
{
    Sentinel__V1__CaseEvent *m =
        sentinel__v1__case_event__unpack(NULL, len, buf);
    if (m == NULL) {
        return SN_EPARSE;
    }
    sn_event_init(ev);
    bool ok = (int)m->source >= 0 && (int)m->source < SN_SOURCE_COUNT &&
              (int)m->sex >= 0 && (int)m->sex <= SN_SEX_OTHER &&
              (int)m->lab_confirmed >= 0 &&
              (int)m->lab_confirmed <= SN_LAB_NEGATIVE &&
              s_str(m->event_id, ev->event_id, sizeof ev->event_id) &&
              s_str(m->site_id, ev->site_id, sizeof ev->site_id) &&
              s_str(m->region, ev->region, sizeof ev->region) &&
              s_str(m->condition, ev->condition, sizeof ev->condition);
    ev->revision = m->revision;
    ev->source = (sn_source_t)m->source;
    ev->onset_date = m->has_onset_date ? m->onset_date : SN_DAY_NONE;
    ev->report_time = m->report_time_ms;
    ev->count = m->count;
    ev->age_years = m->age_years;
    ev->sex = (sn_sex_t)m->sex;
    ev->lab_confirmed = (sn_lab_t)m->lab_confirmed;
    sentinel__v1__case_event__free_unpacked(m, NULL);
    return ok ? SN_OK : SN_EPARSE;
}
