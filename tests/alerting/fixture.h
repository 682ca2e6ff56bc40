/*  tests/alerting/fixture.h - alerts, stores and CAP checks for the suites
 *
 *  Header-only helpers shared by the alerting suites: build an alert with
 *  evidence rows in one call, open a store in a fresh temporary directory,
 *  and validate a CAP document with xmllint against tests/alerting/cap12.xsd.
 *
 *  Threading: test process main thread only.
 */
#ifndef SENTINEL_TESTS_ALERTING_FIXTURE_H
#define SENTINEL_TESTS_ALERTING_FIXTURE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "sentinel/alert.h"
#include "store.h"
#include "store_intake.h"
#include "store_json.h"
#include "support.h"

/* One evidence row: source name, day "YYYY-MM-DD", observed count. */
typedef struct fx_row {
    const char *source;
    const char *day;
    double observed;
} fx_row_t;

static inline sn_day_t
fx_day(const char *s)
{
    sn_day_t d = 0;
    ck_assert_int_eq(sn_day_parse(s, &d), SN_OK);
    return d;
}

/* An alert of rule "multi-source" about ILI in 110105 on `day` with the
 * rows given; each row's series key is "ILI/110105/<source>". */
static inline sn_alert_t *
fx_alert(sn_level_t level, const char *day, const fx_row_t *rows, size_t n)
{
    sn_err_t err;
    sn_alert_t *a =
        sn_alert_new(level, "multi-source", "ILI", "110105", fx_day(day),
                     1764000000000, "ILI rising", &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    for (size_t i = 0; i < n; i++) {
        sn_evidence_t ev;
        sn_evidence_init(&ev);
        snprintf(ev.series_key, sizeof ev.series_key, "ILI/110105/%s",
                 rows[i].source);
        strcpy(ev.condition, "ILI");
        strcpy(ev.region, "110105");
        ck_assert_int_eq(sn_source_parse(rows[i].source, &ev.source), SN_OK);
        strcpy(ev.detector, "ears-c2");
        ev.day = fx_day(rows[i].day);
        ev.observed = rows[i].observed;
        ev.expected = 5.5;
        ev.upperbound = 10.25;
        ev.score = rows[i].observed / 2;
        ck_assert_int_eq(sn_alert_add_evidence(a, &ev, &err), SN_OK);
    }
    return a;
}

/* Open a store in `dir`/alerts.db. */
static inline alr_store_t *
fx_store(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/alerts.db", dir);
    alr_store_t *st = NULL;
    sn_err_t err;
    ck_assert_msg(alr_store_open(path, &st, &err) == SN_OK, "%s", err.msg);
    return st;
}

static const char *const fx_sinks[] = {"hook", "log"};

static inline alr_lifecycle_opts_t
fx_opts(void)
{
    alr_lifecycle_opts_t o = {0};
    o.quiet_days = 3;
    o.cap.sender = "cdc.sentinel.test";
    o.cap.status = "Exercise";
    o.cap.restriction = "CDC recipients only";
    o.sinks = fx_sinks;
    o.n_sinks = 2;
    return o;
}

/* Run xmllint on `xml` against cap12.xsd. @return its exit status; *out
 * (when not NULL) gets its stderr, which the caller frees. */
static inline int
fx_xmllint(const char *dir, const char *xml, char **out)
{
    static int count;
    char name[64];
    snprintf(name, sizeof name, "cap-%d.xml", ++count);
    char *path = ts_write_file(dir, name, xml);
    char *xsd = ts_source_path("tests/alerting/cap12.xsd");
    char *argv[] = {"xmllint", "--noout", "--schema", xsd, path, NULL};
    ts_run_t r = ts_run(argv, NULL, 30);
    int status = r.status;
    if (out != NULL) {
        *out = r.err;
        r.err = NULL;
    }
    ts_run_free(&r);
    free(xsd);
    free(path);
    return status;
}

/* Validate `xml` against cap12.xsd; fails the test with xmllint's output
 * when it is not valid. Also checks what the schema cannot: a Restricted
 * scope comes with a <restriction>. */
static inline void
fx_check_cap(const char *dir, const char *xml)
{
    char *msg = NULL;
    int status = fx_xmllint(dir, xml, &msg);
    ck_assert_msg(status == 0 && strstr(msg, "validates") != NULL,
                  "xmllint: %s\n%s", msg, xml);
    free(msg);
    if (strstr(xml, "<scope>Restricted</scope>") != NULL) {
        ck_assert_ptr_nonnull(strstr(xml, "<restriction>"));
    }
}

/* Validate every CAP message in `store` (the suites call it in teardown,
 * so every CAP message a test produces is checked against the schema). */
static inline void
fx_check_store_caps(const char *dir, alr_store_t *store)
{
    alr_notice_t *ns = NULL;
    size_t n = 0;
    if (store == NULL) {
        return;
    }
    ck_assert_int_eq(alr_store_notices(store, 0, &ns, &n, NULL), SN_OK);
    for (size_t i = 0; i < n; i++) {
        fx_check_cap(dir, ns[i].cap);
    }
    alr_notices_free(&ns, n);
}

#endif
