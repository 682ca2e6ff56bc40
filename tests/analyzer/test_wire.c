/*  tests/analyzer/test_wire.c - the fast event reader agrees with the codec
 *
 *  ana_wire_event() must give the event sn_event_decode() gives for every
 *  record it accepts, and leave the rest to it. Besides hand-made records,
 *  the edges case mutates real encodings at random (flipped, cut, inserted
 *  bytes, appended fields) and compares the two readers on each. The codec
 *  has a fast path of its own, so every comparison is also made with
 *  protobuf-c's own unpack, which reads a tag or a length prefix in at
 *  most five bytes and refuses a longer one.
 */
#include "wire.h"

#include "refevent.h"
#include "support.h"

#include "sentinel/v1/event.pb-c.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A full event of every field. */
static void
s_event(sn_event_t *ev, unsigned i)
{
    sn_event_init(ev);
    snprintf(ev->event_id, sizeof ev->event_id, "visit-%u", i);
    snprintf(ev->site_id, sizeof ev->site_id, "h-%u", i % 7);
    snprintf(ev->region, sizeof ev->region, "3301%02u", i % 30 + 1);
    snprintf(ev->condition, sizeof ev->condition, "%s", i % 2 ? "ili" : "J10");
    ev->revision = i % 3;
    ev->source = (sn_source_t)(i % 11 + 1);
    ev->onset_date = i % 4 ? 20000 + (sn_day_t)i % 50 : SN_DAY_NONE;
    ev->report_time = 1735689600000LL + (sn_time_t)i * 1000;
    ev->count = i % 5 + 1;
    ev->age_years = i % 6 ? (int32_t)(i % 90) : SN_AGE_NONE;
    ev->sex = (sn_sex_t)(i % 4);
    ev->lab_confirmed = (sn_lab_t)(i % 3);
}

static void
s_assert_same(const sn_event_t *a, const sn_event_t *b)
{
    ck_assert_str_eq(a->event_id, b->event_id);
    ck_assert_str_eq(a->site_id, b->site_id);
    ck_assert_str_eq(a->region, b->region);
    ck_assert_str_eq(a->condition, b->condition);
    ck_assert_uint_eq(a->revision, b->revision);
    ck_assert_int_eq(a->source, b->source);
    ck_assert_int_eq(a->onset_date, b->onset_date);
    ck_assert_int_eq(a->report_time, b->report_time);
    ck_assert_uint_eq(a->count, b->count);
    ck_assert_int_eq(a->age_years, b->age_years);
    ck_assert_int_eq(a->sex, b->sex);
    ck_assert_int_eq(a->lab_confirmed, b->lab_confirmed);
}

/* Both readers on `buf`: when the fast one accepts, the codec accepts the
 * same event; the combined decode always gives the codec's result, and
 * accepts and refuses what protobuf-c does, with the same event. */
static bool
s_compare(const uint8_t *buf, size_t len)
{
    sn_event_t fast, slow, both, ref;
    sn_err_t e1, e2;
    bool took = ana_wire_event(buf, len, &fast);
    int rc = sn_event_decode(buf, len, &slow, &e1);
    if (took) {
        ck_assert_int_eq(rc, SN_OK);
        s_assert_same(&fast, &slow);
    }
    ck_assert_int_eq(ana_wire_decode(buf, len, &both, &e2), rc);
    if (rc == SN_OK) {
        s_assert_same(&both, &slow);
    } else {
        ck_assert_str_eq(e2.msg, e1.msg);
    }
    ck_assert_int_eq(ts_ref_event_unpack(buf, len, &ref), rc);
    if (rc == SN_OK) {
        s_assert_same(&both, &ref);
    }
    return took;
}

START_TEST(test_wire_usage)
{
    sn_event_t ev, got;
    uint8_t buf[256];
    s_event(&ev, 5);
    int n = sn_event_encode(&ev, buf, sizeof buf);
    ck_assert_int_gt(n, 0);
    ck_assert(ana_wire_event(buf, (size_t)n, &got));
    s_assert_same(&got, &ev);
    sn_err_t err;
    ck_assert_int_eq(ana_wire_decode(buf, (size_t)n, &got, &err), SN_OK);
    s_assert_same(&got, &ev);
}
END_TEST

/* Every encoding the codec makes is read on the fast path. */
START_TEST(test_wire_reads_every_encoding)
{
    for (unsigned i = 0; i < 2000; i++) {
        sn_event_t ev;
        uint8_t buf[256];
        s_event(&ev, i);
        if (i % 9 == 0) {
            sn_event_init(&ev); /* an empty event: every field absent */
            ev.count = 0;
            ev.age_years = 0;
        }
        int n = sn_event_encode(&ev, buf, sizeof buf);
        ck_assert_int_ge(n, 0); /* the empty event is no bytes at all */
        ck_assert_msg(s_compare(buf, (size_t)n), "event %u not read", i);
    }
}
END_TEST

/* The last occurrence of a field wins, as in protobuf-c; a string with a
 * NUL is left to the codec, which cuts it there. */
START_TEST(test_wire_repeated_fields_and_nul)
{
    const uint8_t twice[] = {0x0a, 3,    'a', 'b', 'c',  0x50,
                             2,    0x0a, 1,   'z', 0x50, 7};
    sn_event_t ev;
    ck_assert(s_compare(twice, sizeof twice));
    ck_assert(ana_wire_event(twice, sizeof twice, &ev));
    ck_assert_str_eq(ev.event_id, "z");
    ck_assert_uint_eq(ev.count, 7);
    const uint8_t nul[] = {0x0a, 3, 'a', 0, 'c', 0x50, 1};
    ck_assert(!s_compare(nul, sizeof nul));
    const uint8_t big[] = {0x58, 0xff, 0xff, 0xff, 0xff, 0xff,
                           0xff, 0xff, 0xff, 0xff, 0x01}; /* age -1 */
    ck_assert(s_compare(big, sizeof big));
    const uint8_t bool_hi[] = {0x40, 0x80, 0x80, 0x80, 0x80, 0x80,
                               0x80, 0x80, 0x80, 0x80, 0x02};
    ck_assert(!ana_wire_event(bool_hi, sizeof bool_hi, &ev));
    s_compare(bool_hi, sizeof bool_hi);
}
END_TEST

/* `v` (below 128) as a varint of exactly `k` bytes: k - 1 bytes of
 * padding (continuation bits over zeros). @return the bytes written. */
static size_t
s_put_padded(uint8_t *p, uint8_t v, unsigned k)
{
    p[0] = k > 1 ? (uint8_t)(v | 0x80) : v;
    for (unsigned i = 1; i < k; i++) {
        p[i] = i + 1 < k ? 0x80 : 0x00;
    }
    return k;
}

/* A record of event_id "abc" (tag and length in `tag_k` and `len_k`
 * bytes) and count 1 (tag in `count_k` bytes). */
static size_t
s_padded_record(uint8_t *buf, unsigned tag_k, unsigned len_k, unsigned count_k)
{
    size_t n = s_put_padded(buf, 1 << 3 | 2, tag_k);
    n += s_put_padded(buf + n, 3, len_k);
    memcpy(buf + n, "abc", 3);
    n += 3;
    n += s_put_padded(buf + n, 10 << 3, count_k);
    buf[n++] = 1;
    return n;
}

/* Tags and length prefixes in 1 to 10 bytes: protobuf-c reads those of up
 * to five bytes and refuses the message when one is longer; the fast
 * reader, the codec and the combined decode do the same. */
START_TEST(test_wire_overlong_tags_and_lengths_as_protobuf_c)
{
    for (unsigned k = 1; k <= 10; k++) {
        const unsigned ks[3][3] = {{k, 1, 1}, {1, k, 1}, {1, 1, k}};
        for (int which = 0; which < 3; which++) {
            uint8_t buf[64];
            size_t n =
                s_padded_record(buf, ks[which][0], ks[which][1], ks[which][2]);
            sn_event_t ref, ev;
            sn_err_t err;
            int want = k <= 5 ? SN_OK : SN_EPARSE;
            ck_assert_int_eq(ts_ref_event_unpack(buf, n, &ref), want);
            ck_assert_msg(ana_wire_decode(buf, n, &ev, &err) == want,
                          "%u-byte %s: protobuf-c says %d", k,
                          which == 0   ? "event_id tag"
                          : which == 1 ? "event_id length"
                                       : "count tag",
                          want);
            ck_assert_int_eq(ana_wire_event(buf, n, &ev), k <= 5);
            s_compare(buf, n);
            if (want == SN_OK) {
                ck_assert_str_eq(ev.event_id, "abc");
                ck_assert_uint_eq(ev.count, 1);
            }
        }
    }
}
END_TEST

/* Random damage to real encodings: the readers never disagree. */
START_TEST(test_wire_agrees_on_mutated_records)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    unsigned fast = 0;
    for (unsigned i = 0; i < 20000; i++) {
        sn_event_t ev;
        uint8_t buf[300];
        s_event(&ev, i);
        size_t n = (size_t)sn_event_encode(&ev, buf, 256);
        for (int k = 0; k < 1 + (int)(i % 3); k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t at = (size_t)(x >> 8) % n;
            switch ((x >> 40) % 4) {
            case 0: /* flip a byte */
                buf[at] ^= (uint8_t)(x >> 16 | 1);
                break;
            case 1: /* cut short */
                n = at;
                break;
            case 2: /* insert a byte */
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = (uint8_t)(x >> 24);
                n++;
                break;
            default: /* append a field */
                buf[n++] = (uint8_t)(x >> 32);
                buf[n++] = (uint8_t)(x >> 48 & 0x7f);
                break;
            }
            if (n == 0 || n > 290) {
                break;
            }
        }
        fast += s_compare(buf, n);
    }
    ck_assert_uint_gt(fast, 1000); /* the comparison saw both readers */
}
END_TEST

/* Refusals come from the codec, with its messages. */
START_TEST(test_wire_errors_are_the_codecs)
{
    uint8_t buf[128];
    size_t n = 0;
    buf[n++] = 0x0a;
    buf[n++] = 70;
    memset(buf + n, 'x', 70);
    n += 70;
    sn_event_t ev;
    sn_err_t err;
    ck_assert(!ana_wire_event(buf, n, &ev));
    ck_assert_int_eq(ana_wire_decode(buf, n, &ev, &err), SN_EPARSE);
    ck_assert_str_eq(err.msg, "field 'event_id': longer than 64 bytes");
    const uint8_t src[] = {0x20, 99};
    ck_assert_int_eq(ana_wire_decode(src, sizeof src, &ev, &err), SN_EPARSE);
    ck_assert_str_eq(err.msg, "field 'source': unknown value 99");
    const uint8_t cut[] = {0x0a, 5, 'a'};
    ck_assert_int_eq(ana_wire_decode(cut, sizeof cut, &ev, &err), SN_EPARSE);
    ck_assert_str_eq(err.msg, "not a sentinel.v1.CaseEvent (3 bytes of "
                              "malformed protobuf)");
    const uint8_t unknown[] = {0x50, 1, 0x78, 5}; /* field 15: skipped */
    ck_assert(!ana_wire_event(unknown, sizeof unknown, &ev));
    ck_assert_int_eq(ana_wire_decode(unknown, sizeof unknown, &ev, &err),
                     SN_OK);
    ck_assert_uint_eq(ev.count, 1);
}
END_TEST

static Suite *
wire_suite(void)
{
    Suite *s = suite_create("wire");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_wire_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 30);
    tcase_add_test(edges, test_wire_reads_every_encoding);
    tcase_add_test(edges, test_wire_repeated_fields_and_nul);
    tcase_add_test(edges, test_wire_agrees_on_mutated_records);
    tcase_add_test(edges, test_wire_overlong_tags_and_lengths_as_protobuf_c);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_wire_errors_are_the_codecs);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(wire_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
