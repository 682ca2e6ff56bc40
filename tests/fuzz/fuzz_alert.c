/*  tests/fuzz/fuzz_alert.c - fuzz the alert codecs (protobuf and JSON)
 *
 *  Alerting decodes every alert the analyzer sends with sn_alert_decode(),
 *  and reads alerts back from its store and from operators' files with
 *  sn_alert_from_json(). Each input goes through both. Refusals must carry
 *  a code and a message; an accepted alert must survive its own encoder
 *  (protobuf exactly, JSON to ten significant digits, the precision the
 *  JSON mapping writes) and be safe to validate, key and render.
 */
#include "fuzz.h"

#include "sentinel/alert.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_TARGET "alert"

/* Two numbers agree: both NAN, or equal to `rel` relative precision. */
static bool
s_num_same(double a, double b, double rel)
{
    if (isnan(a) || isnan(b)) {
        return isnan(a) && isnan(b);
    }
    return a == b || fabs(a - b) <= rel * fmax(fabs(a), fabs(b));
}

static bool
s_evidence_same(const sn_evidence_t *a, const sn_evidence_t *b, double rel)
{
    return strcmp(a->series_key, b->series_key) == 0 &&
           strcmp(a->condition, b->condition) == 0 &&
           strcmp(a->region, b->region) == 0 && a->source == b->source &&
           strcmp(a->site_id, b->site_id) == 0 &&
           strcmp(a->detector, b->detector) == 0 && a->day == b->day &&
           s_num_same(a->observed, b->observed, rel) &&
           s_num_same(a->expected, b->expected, rel) &&
           s_num_same(a->upperbound, b->upperbound, rel) &&
           s_num_same(a->score, b->score, rel);
}

static bool
s_alert_same(const sn_alert_t *a, const sn_alert_t *b, double rel)
{
    if (a->level != b->level || strcmp(a->rule, b->rule) != 0 ||
        strcmp(a->condition, b->condition) != 0 ||
        strcmp(a->region, b->region) != 0 || a->day != b->day ||
        a->raised != b->raised || strcmp(a->summary, b->summary) != 0 ||
        a->n_evidence != b->n_evidence) {
        return false;
    }
    for (size_t i = 0; i < a->n_evidence; i++) {
        if (!s_evidence_same(&a->evidence[i], &b->evidence[i], rel)) {
            return false;
        }
    }
    return true;
}

/* What every accepted alert must survive, whichever decoder made it. */
static void
s_exercise(const sn_alert_t *a)
{
    char key[SN_ALERT_KEY_MAX];
    sn_err_t err;
    (void)sn_alert_key(a, key);
    (void)sn_alert_validate(a, &err);
    sn_alert_t *copy = sn_alert_dup(a);
    if (!s_alert_same(a, copy, 0.0)) {
        fuzz_fail(FUZZ_TARGET, "dup changed the alert");
    }
    sn_alert_destroy(&copy);
    size_t need = sn_alert_encoded_size(a);
    uint8_t *buf = malloc(need + 1);
    int n = sn_alert_encode(a, buf, need);
    if (n < 0 || (size_t)n != need) {
        fuzz_fail(FUZZ_TARGET, "encode did not fill encoded_size bytes");
    }
    sn_alert_t *back = NULL;
    if (sn_alert_decode(buf, (size_t)n, &back, &err) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, "re-encoded alert does not decode");
    }
    if (!s_alert_same(a, back, 0.0)) {
        fuzz_fail(FUZZ_TARGET, "protobuf round trip changed the alert");
    }
    sn_alert_destroy(&back);
    free(buf);
}

static void
s_check_refusal(int rc, const sn_err_t *err, int also)
{
    if ((rc != SN_EPARSE && rc != also) || err->code != rc ||
        err->msg[0] == '\0') {
        fuzz_fail(FUZZ_TARGET, "refusal without a code and a message");
    }
}

static void
s_from_proto(const uint8_t *data, size_t size)
{
    sn_alert_t *a = NULL;
    sn_err_t err;
    sn_err_clear(&err);
    int rc = sn_alert_decode(data, size, &a, &err);
    if (rc != SN_OK) {
        s_check_refusal(rc, &err, SN_EPARSE);
        return;
    }
    s_exercise(a);
    char *json = sn_alert_to_json(a);
    free(json);
    sn_alert_destroy(&a);
}

static void
s_from_json(const uint8_t *data, size_t size)
{
    sn_alert_t *a = NULL;
    sn_err_t err;
    sn_err_clear(&err);
    int rc = sn_alert_from_json((const char *)data, size, &a, &err);
    if (rc != SN_OK) {
        s_check_refusal(rc, &err, SN_EINVAL);
        return;
    }
    s_exercise(a);
    char *json = sn_alert_to_json(a);
    sn_alert_t *back = NULL;
    if (sn_alert_from_json(json, strlen(json), &back, &err) != SN_OK) {
        fuzz_fail(FUZZ_TARGET, "rendered JSON does not read back");
    }
    if (!s_alert_same(a, back, 1e-9)) {
        fuzz_fail(FUZZ_TARGET, "JSON round trip changed the alert");
    }
    sn_alert_destroy(&back);
    free(json);
    sn_alert_destroy(&a);
}

int
fuzz_alert(const uint8_t *data, size_t size)
{
    s_from_proto(data, size);
    s_from_json(data, size);
    return 0;
}

SN_FUZZ_TARGET(fuzz_alert)
