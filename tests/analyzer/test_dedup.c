/*  tests/analyzer/test_dedup.c - re-sent events, revisions, bounded memory */
#include "dedup.h"

#include "support.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ana_dedup_entry_t
s_at(uint32_t leaf, sn_day_t day, uint32_t count, uint32_t rev)
{
    ana_dedup_entry_t e = {leaf, day, count, rev};
    return e;
}

START_TEST(test_dedup_usage)
{
    ana_dedup_t *d = ana_dedup_new(100);
    ana_dedup_key_t k = ana_dedup_key("site-1", "ev-42");
    ana_dedup_entry_t e = s_at(3, 1000, 2, 0), old;
    ck_assert_int_eq(ana_dedup_offer(d, k, &e, &old), ANA_DEDUP_NEW);
    ck_assert_int_eq(ana_dedup_offer(d, k, &e, &old), SN_EDUP);
    /* A correction moves the count: the old placement comes back. */
    ana_dedup_entry_t e2 = s_at(4, 1001, 1, 2);
    ck_assert_int_eq(ana_dedup_offer(d, k, &e2, &old), ANA_DEDUP_REVISED);
    ck_assert_uint_eq(old.leaf, 3);
    ck_assert_int_eq(old.day, 1000);
    ck_assert_uint_eq(old.count, 2);
    /* A lower revision arriving late is a duplicate. */
    ana_dedup_entry_t e1 = s_at(5, 1002, 9, 1);
    ck_assert_int_eq(ana_dedup_offer(d, k, &e1, &old), SN_EDUP);
    ana_dedup_entry_t got;
    ck_assert_int_eq(ana_dedup_find(d, k, &got), SN_OK);
    ck_assert_uint_eq(got.leaf, 4);
    ck_assert_uint_eq(ana_dedup_size(d), 1);
    ana_dedup_destroy(&d);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(test_dedup_keys_differ_by_site)
{
    ana_dedup_key_t a = ana_dedup_key("s1", "e1");
    ana_dedup_key_t b = ana_dedup_key("s2", "e1");
    ana_dedup_key_t c = ana_dedup_key("s1e", "1"); /* no concatenation clash */
    ck_assert(a.h1 != b.h1 || a.h2 != b.h2);
    ck_assert(a.h1 != c.h1 || a.h2 != c.h2);
    ck_assert(a.h1 != 0);
    /* Saved states hold fingerprints: the function must never change. */
    ana_dedup_key_t pin = ana_dedup_key("site-1", "ev-42");
    ck_assert_uint_eq(pin.h1, 0x1df5aecdd024abefull);
    ck_assert_uint_eq(pin.h2, 0x9b12c5a10ba2f835ull);
}
END_TEST

START_TEST(test_dedup_horizon_purges_and_refuses)
{
    ana_dedup_t *d = ana_dedup_new(1000);
    char id[32];
    ana_dedup_entry_t old;
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "e%d", i);
        ana_dedup_entry_t e = s_at(0, 100 + i % 10, 1, 0);
        ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", id), &e, &old),
                         ANA_DEDUP_NEW);
    }
    ana_dedup_set_horizon(d, 105);
    ck_assert_uint_eq(ana_dedup_size(d), 500); /* reclaimed lazily */
    ana_dedup_entry_t got;
    ck_assert_int_eq(ana_dedup_find(d, ana_dedup_key("s", "e0"), &got),
                     SN_ENOTFOUND);
    ana_dedup_purge(d);
    ck_assert_uint_eq(ana_dedup_size(d), 250);
    ck_assert_int_eq(ana_dedup_horizon(d), 105);
    ana_dedup_set_horizon(d, 90); /* never moves back */
    ck_assert_int_eq(ana_dedup_horizon(d), 105);
    ana_dedup_entry_t late = s_at(0, 104, 1, 0);
    ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", "x"), &late, &old),
                     SN_ETOOOLD);
    /* Survivors are still known after the rebuild. */
    ana_dedup_entry_t e9 = s_at(0, 109, 1, 0);
    ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", "e9"), &e9, &old),
                     SN_EDUP);
    ana_dedup_destroy(&d);
}
END_TEST

/* A full table (7/8 of its slots) has long probe runs that wrap around
 * the end: the in-place purge must keep every live entry reachable. */
START_TEST(test_dedup_purge_in_place_keeps_every_live_entry)
{
    ana_dedup_t *d = ana_dedup_new(1792); /* 2048 slots, 7/8 full */
    char id[32];
    ana_dedup_entry_t old, got;
    for (int i = 0; i < 1792; i++) {
        snprintf(id, sizeof id, "e%d", i);
        ana_dedup_entry_t e = s_at((uint32_t)i, 200 + i % 7, 1, 0);
        ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", id), &e, &old),
                         ANA_DEDUP_NEW);
    }
    ana_dedup_set_horizon(d, 203); /* days 200..202 expire: 3 of 7 */
    ana_dedup_purge(d);
    ck_assert_uint_eq(ana_dedup_size(d), 1792 / 7 * 4);
    for (int i = 0; i < 1792; i++) {
        snprintf(id, sizeof id, "e%d", i);
        int rc = ana_dedup_find(d, ana_dedup_key("s", id), &got);
        if (i % 7 < 3) {
            ck_assert_int_eq(rc, SN_ENOTFOUND);
        } else {
            ck_assert_msg(rc == SN_OK && got.leaf == (uint32_t)i,
                          "live entry %d lost by the purge", i);
        }
    }
    /* The freed room takes new keys, and nothing live is counted twice. */
    for (int i = 0; i < 768; i++) {
        snprintf(id, sizeof id, "n%d", i);
        ana_dedup_entry_t e = s_at(0, 210, 1, 0);
        ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", id), &e, &old),
                         ANA_DEDUP_NEW);
    }
    ana_dedup_entry_t again = s_at(0, 206, 1, 0);
    ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", "e6"), &again, &old),
                     SN_EDUP);
    ana_dedup_destroy(&d);
}
END_TEST

START_TEST(test_dedup_survives_save_and_load)
{
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "state", "");
    ana_dedup_t *d = ana_dedup_new(64);
    ana_dedup_entry_t e = s_at(7, 300, 5, 3), old;
    ana_dedup_offer(d, ana_dedup_key("a", "b"), &e, &old);
    ana_dedup_set_horizon(d, 200);
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_dedup_save(d, f), SN_OK);
    fclose(f);
    ana_dedup_destroy(&d);
    f = fopen(path, "rb");
    sn_err_t err;
    ck_assert_int_eq(ana_dedup_load(f, 10, &d, &err), SN_OK);
    fclose(f);
    ck_assert_uint_eq(ana_dedup_capacity(d), 64);
    ck_assert_int_eq(ana_dedup_horizon(d), 200);
    ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("a", "b"), &e, &old),
                     SN_EDUP);
    ana_dedup_destroy(&d);
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

/* A table of several megabytes (mapped on its own, prefetched into) holds
 * what a small one holds, and comes back from its saved state. */
START_TEST(test_dedup_large_table_with_prefetch)
{
    ana_dedup_t *d = ana_dedup_new(200000);
    char id[32];
    ana_dedup_entry_t old;
    for (uint32_t i = 0; i < 150000; i++) {
        snprintf(id, sizeof id, "e%u", i);
        ana_dedup_key_t k = ana_dedup_key("s", id);
        ana_dedup_prefetch(d, k);
        ana_dedup_entry_t e = s_at(i, 10, 1, 0);
        ck_assert_int_eq(ana_dedup_offer(d, k, &e, &old), ANA_DEDUP_NEW);
    }
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "state", "");
    FILE *f = fopen(path, "wb");
    ck_assert_int_eq(ana_dedup_save(d, f), SN_OK);
    fclose(f);
    ana_dedup_destroy(&d);
    f = fopen(path, "rb");
    ck_assert_int_eq(ana_dedup_load(f, 10, &d, NULL), SN_OK);
    fclose(f);
    ck_assert_uint_eq(ana_dedup_size(d), 150000);
    for (uint32_t i = 0; i < 150000; i += 7) {
        snprintf(id, sizeof id, "e%u", i);
        ana_dedup_entry_t got;
        ck_assert_int_eq(ana_dedup_find(d, ana_dedup_key("s", id), &got),
                         SN_OK);
        ck_assert_uint_eq(got.leaf, i);
    }
    ana_dedup_destroy(&d);
    ana_dedup_destroy(&d); /* twice: safe */
    ts_rmtree(dir);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_dedup_full_table)
{
    ana_dedup_t *d = ana_dedup_new(8);
    char id[16];
    ana_dedup_entry_t e = s_at(0, 1, 1, 0), old;
    for (int i = 0; i < 8; i++) {
        snprintf(id, sizeof id, "%d", i);
        ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", id), &e, &old),
                         ANA_DEDUP_NEW);
    }
    ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", "new"), &e, &old),
                     SN_EFULL);
    /* Known keys are still answered when full. */
    ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", "3"), &e, &old),
                     SN_EDUP);
    /* With the horizon where it was, nothing can have expired: a full
     * table refuses new keys without sweeping (a sweep per offer stalls). */
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "x%d", i);
        ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", id), &e, &old),
                         SN_EFULL);
    }
    ck_assert_uint_eq(ana_dedup_sweeps(d), 0);
    /* Once the horizon passes them, a full table makes room by itself. */
    ana_dedup_set_horizon(d, 2);
    ana_dedup_entry_t e2 = s_at(0, 2, 1, 0);
    ck_assert_int_eq(ana_dedup_offer(d, ana_dedup_key("s", "new"), &e2, &old),
                     ANA_DEDUP_NEW);
    ck_assert_uint_eq(ana_dedup_size(d), 1);
    ck_assert_uint_eq(ana_dedup_sweeps(d), 1);
    ana_dedup_destroy(&d);
}
END_TEST

START_TEST(test_dedup_load_rejects_garbage)
{
    char *dir = ts_tmpdir();
    char *path = ts_write_file(dir, "bad", "this is not a dedup table at all");
    FILE *f = fopen(path, "rb");
    ana_dedup_t *d = NULL;
    sn_err_t err;
    ck_assert_int_eq(ana_dedup_load(f, 10, &d, &err), SN_ECORRUPT);
    ck_assert_str_eq(err.msg, "dedup state: bad header");
    ck_assert_ptr_null(d);
    fclose(f);
    char *empty = ts_write_file(dir, "empty", "");
    f = fopen(empty, "rb");
    ck_assert_int_eq(ana_dedup_load(f, 10, &d, &err), SN_EIO);
    ck_assert_str_eq(err.msg, "dedup state: truncated header");
    fclose(f);
    ts_rmtree(dir);
    free(path);
    free(empty);
    free(dir);
}
END_TEST

static Suite *
dedup_suite(void)
{
    Suite *s = suite_create("dedup");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_dedup_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 20);
    tcase_add_test(edges, test_dedup_keys_differ_by_site);
    tcase_add_test(edges, test_dedup_horizon_purges_and_refuses);
    tcase_add_test(edges, test_dedup_purge_in_place_keeps_every_live_entry);
    tcase_add_test(edges, test_dedup_survives_save_and_load);
    tcase_add_test(edges, test_dedup_large_table_with_prefetch);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 20);
    tcase_add_test(errors, test_dedup_full_table);
    tcase_add_test(errors, test_dedup_load_rejects_garbage);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(dedup_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
