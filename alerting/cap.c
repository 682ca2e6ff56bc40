/*  alerting/cap.c - CAP 1.2 XML rendering of alert notifications
 *
 *  The lifecycle renders each notification once, when the state changes,
 *  and stores the XML with it, so every retry and every sink sends the same
 *  bytes. The document follows the element order of the CAP 1.2 standard
 *  (OASIS, 2010, section 3.2); tests/alerting/cap12.xsd checks it. Text is
 *  escaped for XML; the detector figures go into <parameter> elements.
 */
#include "cap.h"

#include "sentinel/date.h"
#include "sentinel/mem.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_NS "urn:oasis:names:tc:emergency:cap:1.2"

static const char *const s_urgency[] = {"Unknown", "Future", "Expected",
                                        "Expected", "Immediate"};
static const char *const s_severity[] = {"Unknown", "Minor", "Moderate",
                                         "Severe", "Extreme"};
static const char *const s_certainty[] = {"Unknown", "Possible", "Possible",
                                          "Likely", "Likely"};

static int
s_level_index(sn_level_t level)
{
    return level >= SN_LEVEL_BLUE && level <= SN_LEVEL_RED ? (int)level : 0;
}

const char *
alr_cap_urgency(sn_level_t level)
{
    return s_urgency[s_level_index(level)];
}

const char *
alr_cap_severity(sn_level_t level)
{
    return s_severity[s_level_index(level)];
}

const char *
alr_cap_certainty(sn_level_t level)
{
    return s_certainty[s_level_index(level)];
}

char *
alr_cap_identifier(const char *sender, int64_t id, int seq, char *buf)
{
    snprintf(buf, ALR_IDENT_MAX + 1, "%s.alert.%lld.%d", sender, (long long)id,
             seq);
    return buf;
}

char *
alr_cap_time(sn_time_t t, char *buf)
{
    char full[SN_TIME_STR_MAX];
    sn_time_format(t, full); /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
    snprintf(buf, 26, "%.19s+00:00", full);
    return buf;
}

/* --------------------------------------------------------------- writing */

/* Write `s` escaped for XML text and attribute content. */
static void
s_escape(FILE *f, const char *s)
{
    for (; s != NULL && *s != '\0'; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t') {
                fputc(*s, f);
            }
        }
    }
}

static void
s_elem(FILE *f, int indent, const char *name, const char *text)
{
    fprintf(f, "%*s<%s>", indent, "", name);
    s_escape(f, text);
    fprintf(f, "</%s>\n", name);
}

static void
s_pair(FILE *f, const char *outer, const char *name, const char *value)
{
    fprintf(f, "    <%s>\n", outer);
    s_elem(f, 6, "valueName", name);
    s_elem(f, 6, "value", value);
    fprintf(f, "    </%s>\n", outer);
}

/* The evidence row with the highest score: the one that names the detector,
 * statistic and threshold parameters. */
static const sn_evidence_t *
s_lead_evidence(const sn_alert_t *a)
{
    const sn_evidence_t *best = NULL;
    for (size_t i = 0; i < a->n_evidence; i++) {
        const sn_evidence_t *ev = &a->evidence[i];
        if (best == NULL || (!isnan(ev->score) &&
                             (isnan(best->score) || ev->score > best->score))) {
            best = ev;
        }
    }
    return best;
}

static void
s_fmt_num(char *buf, size_t size, double v)
{
    if (isnan(v)) {
        snprintf(buf, size, "NA");
    } else {
        snprintf(buf, size, "%.6g", v);
    }
}

static void
s_parameters(FILE *f, const alr_record_t *rec)
{
    const sn_alert_t *a = rec->alert;
    char buf[128], x[32], y[32], d1[SN_DAY_STR_MAX], d2[SN_DAY_STR_MAX];
    s_pair(f, "parameter", "level", sn_level_name(a->level));
    s_pair(f, "parameter", "rule", a->rule);
    const sn_evidence_t *lead = s_lead_evidence(a);
    if (lead != NULL) {
        s_pair(f, "parameter", "detector", lead->detector);
        s_fmt_num(x, sizeof x, lead->score);
        s_fmt_num(y, sizeof y, lead->observed);
        snprintf(buf, sizeof buf, "score=%s observed=%s", x, y);
        s_pair(f, "parameter", "statistic", buf);
        s_fmt_num(x, sizeof x, lead->upperbound);
        s_fmt_num(y, sizeof y, lead->expected);
        snprintf(buf, sizeof buf, "upperbound=%s expected=%s", x, y);
        s_pair(f, "parameter", "threshold", buf);
    }
    sn_day_t lo = a->day, hi = a->day;
    for (size_t i = 0; i < a->n_evidence; i++) {
        lo = a->evidence[i].day < lo ? a->evidence[i].day : lo;
        hi = a->evidence[i].day > hi ? a->evidence[i].day : hi;
    }
    snprintf(buf, sizeof buf, "%s/%s", sn_day_format(lo, d1),
             sn_day_format(hi, d2));
    s_pair(f, "parameter", "window", buf);
    snprintf(buf, sizeof buf, "%lld", (long long)rec->id);
    s_pair(f, "parameter", "alertId", buf);
}

/* The description: the summary, what changed, then one line per row. */
static void
s_description(FILE *f, const alr_notice_t *n, const alr_record_t *rec)
{
    const sn_alert_t *a = rec->alert;
    fprintf(f, "    <description>");
    s_escape(f, a->summary);
    fputs(a->summary[0] ? "\n" : "", f);
    s_escape(f, n->reason);
    fputs("\nEvidence (series, source, site, detector, day, observed,"
          " expected, upper bound, score):",
          f);
    for (size_t i = 0; i < a->n_evidence; i++) {
        const sn_evidence_t *ev = &a->evidence[i];
        char day[SN_DAY_STR_MAX], e[32], u[32], s[32];
        const char *src = sn_source_name(ev->source);
        s_fmt_num(e, sizeof e, ev->expected);
        s_fmt_num(u, sizeof u, ev->upperbound);
        s_fmt_num(s, sizeof s, ev->score);
        fputs("\n", f);
        s_escape(f, ev->series_key);
        fprintf(f, ", %s, ", src ? src : "unknown");
        s_escape(f, ev->site_id[0] ? ev->site_id : "all sites");
        fputs(", ", f);
        s_escape(f, ev->detector);
        fprintf(f, ", %s, %g, %s, %s, %s", sn_day_format(ev->day, day),
                ev->observed, e, u, s);
    }
    fprintf(f, "</description>\n");
}

static void
s_info(FILE *f, const alr_cap_opts_t *o, const alr_notice_t *n,
       const alr_record_t *rec)
{
    const sn_alert_t *a = rec->alert;
    char buf[256];
    sn_level_t lvl = n->level;
    fprintf(f, "  <info>\n");
    s_elem(f, 4, "language", o->language ? o->language : "en-US");
    s_elem(f, 4, "category", "Health");
    snprintf(buf, sizeof buf, "%s early warning", a->condition);
    s_elem(f, 4, "event", buf);
    s_elem(f, 4, "responseType",
           n->type == ALR_MSG_CANCEL ? "AllClear" : "Monitor");
    s_elem(f, 4, "urgency",
           n->type == ALR_MSG_CANCEL ? "Past" : alr_cap_urgency(lvl));
    s_elem(f, 4, "severity", alr_cap_severity(lvl));
    s_elem(f, 4, "certainty", alr_cap_certainty(lvl));
    s_elem(f, 4, "audience", "CDC duty epidemiologists");
    s_pair(f, "eventCode", "sentinel-level", sn_level_name(lvl));
    s_elem(f, 4, "senderName", "Sentinel early warning");
    snprintf(buf, sizeof buf, "%s%s warning: %s in %s (%s)",
             n->type == ALR_MSG_CANCEL ? "Closed: " : "", sn_level_name(lvl),
             a->condition, a->region, a->rule);
    s_elem(f, 4, "headline", buf);
    s_description(f, n, rec);
    s_elem(f, 4, "instruction",
           n->type == ALR_MSG_CANCEL
               ? "No new evidence in the quiet period; record the "
                 "verification outcome if not done."
               : "Acknowledge, verify the signal with the reporting "
                 "sites and record the outcome.");
    s_parameters(f, rec);
    fprintf(f, "    <area>\n");
    snprintf(buf, sizeof buf, "Administrative region %s (GB/T 2260)",
             a->region);
    s_elem(f, 6, "areaDesc", buf);
    fprintf(f, "      <geocode>\n");
    s_elem(f, 8, "valueName", "GB/T 2260");
    s_elem(f, 8, "value", a->region);
    fprintf(f, "      </geocode>\n    </area>\n  </info>\n");
}

char *
alr_cap_render(const alr_cap_opts_t *opts, const alr_notice_t *n,
               const alr_record_t *rec, const alr_notice_t *earlier,
               size_t n_earlier)
{
    char *text = NULL, sent[32];
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL) {
        abort(); /* out of memory, mem.h's policy */
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<alert xmlns=\"" CAP_NS "\">\n");
    s_elem(f, 2, "identifier", n->identifier);
    s_elem(f, 2, "sender", opts->sender);
    s_elem(f, 2, "sent", alr_cap_time(n->created, sent));
    s_elem(f, 2, "status", opts->status ? opts->status : "Exercise");
    s_elem(f, 2, "msgType", alr_msg_type_name(n->type));
    s_elem(f, 2, "source", "Sentinel multi-point trigger early warning");
    s_elem(f, 2, "scope", "Restricted");
    s_elem(f, 2, "restriction",
           opts->restriction ? opts->restriction
                             : "CDC recipients only; not for public release");
    s_elem(f, 2, "note", n->reason);
    if (n_earlier > 0) {
        fprintf(f, "  <references>");
        for (size_t i = 0; i < n_earlier; i++) {
            fputs(i ? " " : "", f);
            s_escape(f, opts->sender);
            fputc(',', f);
            s_escape(f, earlier[i].identifier);
            fprintf(f, ",%s", alr_cap_time(earlier[i].created, sent));
        }
        fprintf(f, "</references>\n");
    }
    char inc[ALR_IDENT_MAX + 1];
    snprintf(inc, sizeof inc, "%s.alert.%lld", opts->sender,
             (long long)rec->id);
    s_elem(f, 2, "incidents", inc);
    s_info(f, opts, n, rec);
    fprintf(f, "</alert>\n");
    fclose(f);
    return text;
}
