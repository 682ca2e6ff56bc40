/*  tests/common/test_spool.c - the crash-safe disk spool
 *
 *  Append, read back, reopen; torn tails cut at recovery; acknowledged
 *  segments freed without losing the numbering; the size bound refusing
 *  with SN_EFULL; permissions; and every error code with its message.
 */
#include "sentinel/spool.h"
#include "spool_int.h"

#include "sentinel/mem.h"
#include "support.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char *s_dir;

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

static sn_spool_t *
s_open(sn_spool_fsync_t fsync, uint64_t seg, uint64_t max)
{
    sn_spool_opts_t o;
    sn_spool_opts_init(&o);
    char *dir = sn_strdup_printf("%s/spool", s_dir);
    o.dir = dir;
    o.fsync = fsync;
    o.segment_bytes = seg;
    o.max_bytes = max;
    sn_spool_t *sp = NULL;
    sn_err_t err;
    int rc = sn_spool_open(&o, &sp, &err);
    ck_assert_msg(rc == SN_OK, "open: %s", err.msg);
    free(dir);
    return sp;
}

static void
s_append_n(sn_spool_t *sp, int from, int n)
{
    for (int i = from; i < from + n; i++) {
        char rec[64];
        int len = snprintf(rec, sizeof rec, "record-%06d", i);
        uint64_t seq;
        ck_assert_int_eq(sn_spool_append(sp, rec, (size_t)len, &seq, NULL),
                         SN_OK);
        ck_assert_uint_eq(seq, (uint64_t)i);
    }
    ck_assert_int_eq(sn_spool_flush(sp, NULL), SN_OK);
}

/* Read every record from `from` and check their numbers and contents. */
static uint64_t
s_read_all(sn_spool_t *sp, uint64_t from)
{
    sn_spool_cursor_t *cur = sn_spool_cursor_new(sp, from);
    uint64_t seq, n = 0;
    const uint8_t *data;
    size_t len;
    int rc;
    while ((rc = sn_spool_cursor_next(cur, &seq, &data, &len, NULL)) == SN_OK) {
        char want[64];
        snprintf(want, sizeof want, "record-%06d", (int)seq);
        ck_assert_uint_eq(len, strlen(want));
        ck_assert(memcmp(data, want, len) == 0);
        ck_assert_uint_eq(seq, from + n);
        n++;
    }
    ck_assert_int_eq(rc, SN_ENODATA);
    sn_spool_cursor_destroy(&cur);
    ck_assert_ptr_null(cur);
    return n;
}

static char *
s_seg_path(uint64_t first)
{
    return sn_strdup_printf("%s/spool/seg-%020llu.log", s_dir,
                            (unsigned long long)first);
}

START_TEST(test_spool_usage)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 1 << 20, 1 << 24);
    s_append_n(sp, 1, 100);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 100);
    ck_assert_uint_eq(s_read_all(sp, 1), 100);
    ck_assert_uint_eq(s_read_all(sp, 41), 60);
    ck_assert_int_eq(sn_spool_ack(sp, 40, NULL), SN_OK);
    sn_spool_destroy(&sp);
    ck_assert_ptr_null(sp);
    sn_spool_destroy(&sp);

    sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 1 << 20, 1 << 24);
    ck_assert_uint_eq(sn_spool_acked_seq(sp), 40);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 100);
    s_append_n(sp, 101, 5);
    ck_assert_uint_eq(s_read_all(sp, sn_spool_acked_seq(sp) + 1), 65);
    sn_spool_destroy(&sp);
}
END_TEST

START_TEST(test_spool_cursor_follows_appends)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_NEVER, 4096, 1 << 24);
    sn_spool_cursor_t *cur = sn_spool_cursor_new(sp, 1);
    uint64_t seq;
    const uint8_t *d;
    size_t len;
    uint64_t got = 0;
    for (int round = 0; round < 20; round++) {
        s_append_n(sp, round * 50 + 1, 50);
        while (sn_spool_cursor_next(cur, &seq, &d, &len, NULL) == SN_OK) {
            ck_assert_uint_eq(seq, ++got);
        }
    }
    ck_assert_uint_eq(got, 1000);
    ck_assert_uint_gt(sn_spool_segments(sp), 3);
    /* Not yet flushed: invisible to readers. */
    ck_assert_int_eq(sn_spool_append(sp, "x", 1, NULL, NULL), SN_OK);
    ck_assert_int_eq(sn_spool_cursor_next(cur, &seq, &d, &len, NULL),
                     SN_ENODATA);
    sn_spool_cursor_seek(cur, 990);
    ck_assert_int_eq(sn_spool_cursor_next(cur, &seq, &d, &len, NULL), SN_OK);
    ck_assert_uint_eq(seq, 990);
    sn_spool_cursor_destroy(&cur);
    sn_spool_destroy(&sp);
}
END_TEST

START_TEST(test_spool_torn_tail_is_cut)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 1 << 20, 1 << 24);
    s_append_n(sp, 1, 10);
    sn_spool_destroy(&sp);
    char *path = s_seg_path(1);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    /* A half-written record: cut in the middle of the tenth record. */
    ck_assert_int_eq(truncate(path, st.st_size - 5), 0);
    sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 1 << 20, 1 << 24);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 9);
    ck_assert_uint_eq(s_read_all(sp, 1), 9);
    s_append_n(sp, 10, 3);
    ck_assert_uint_eq(s_read_all(sp, 1), 12);
    sn_spool_destroy(&sp);

    /* Garbage after the last good record (a torn header). */
    int fd = open(path, O_WRONLY | O_APPEND);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "\x07\x00\x00", 3), 3);
    close(fd);
    sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 1 << 20, 1 << 24);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 12);
    sn_spool_destroy(&sp);
    free(path);
}
END_TEST

START_TEST(test_spool_flipped_byte_is_cut)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 1 << 20, 1 << 24);
    s_append_n(sp, 1, 10);
    sn_spool_destroy(&sp);
    char *path = s_seg_path(1);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    /* Damage the payload of the last record: its CRC no longer matches. */
    int fd = open(path, O_WRONLY);
    ck_assert_int_eq(pwrite(fd, "#", 1, st.st_size - 2), 1);
    close(fd);
    sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 1 << 20, 1 << 24);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 9);
    sn_spool_destroy(&sp);
    free(path);
}
END_TEST

static int
s_count_segments(void)
{
    char *d = sn_strdup_printf("%s/spool", s_dir);
    DIR *dir = opendir(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        n += strncmp(e->d_name, "seg-", 4) == 0;
    }
    closedir(dir);
    free(d);
    return n;
}

START_TEST(test_spool_ack_frees_segments)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_BATCH, 4096, 1 << 24);
    s_append_n(sp, 1, 1000);
    size_t segs = sn_spool_segments(sp);
    ck_assert_uint_gt(segs, 4);
    ck_assert_int_eq(s_count_segments(), (int)segs);
    uint64_t before = sn_spool_bytes(sp);
    ck_assert_int_eq(sn_spool_ack(sp, 500, NULL), SN_OK);
    ck_assert_uint_lt(sn_spool_segments(sp), segs);
    ck_assert_uint_lt(sn_spool_bytes(sp), before);
    ck_assert_int_eq(s_count_segments(), (int)sn_spool_segments(sp));
    ck_assert_uint_eq(s_read_all(sp, 501), 500);
    /* All acknowledged: only the newest segment stays, and the numbering
     * goes on after a reopen. */
    ck_assert_int_eq(sn_spool_ack(sp, 1000, NULL), SN_OK);
    ck_assert_uint_eq(sn_spool_segments(sp), 1);
    sn_spool_destroy(&sp);
    sp = s_open(SN_SPOOL_FSYNC_BATCH, 4096, 1 << 24);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 1000);
    uint64_t seq;
    ck_assert_int_eq(sn_spool_append(sp, "a", 1, &seq, NULL), SN_OK);
    ck_assert_uint_eq(seq, 1001);
    ck_assert_int_eq(sn_spool_ack(sp, 10, NULL), SN_OK); /* no-op */
    sn_spool_destroy(&sp);
}
END_TEST

START_TEST(test_spool_permissions)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_NEVER, 4096, 1 << 24);
    s_append_n(sp, 1, 3);
    sn_spool_destroy(&sp);
    struct stat st;
    char *d = sn_strdup_printf("%s/spool", s_dir);
    ck_assert_int_eq(stat(d, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    char *path = s_seg_path(1);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    free(path);
    path = sn_strdup_printf("%s/acked", d);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    free(path);
    free(d);
}
END_TEST

/* A cursor reads the records flushed last from the writer's buffers and
 * older ones from the files: the same records either way, in order, and
 * from any position it is moved to. */
START_TEST(test_spool_cursor_reads_tail_and_files)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_NEVER, 1 << 20, 1 << 28);
    for (int i = 0; i < 30; i++) {
        s_append_n(sp, 1 + 1000 * i, 1000); /* one flush each */
    }
    ck_assert_uint_eq(s_read_all(sp, 1), 30000);
    ck_assert_uint_eq(s_read_all(sp, 29500), 501);
    ck_assert_uint_eq(s_read_all(sp, 12345), 30000 - 12344);
    sn_spool_cursor_t *cur = sn_spool_cursor_new(sp, 29990);
    uint64_t seq;
    const uint8_t *d;
    size_t len;
    ck_assert_int_eq(sn_spool_cursor_next(cur, &seq, &d, &len, NULL), SN_OK);
    ck_assert_uint_eq(seq, 29990);
    sn_spool_cursor_seek(cur, 5);
    ck_assert_int_eq(sn_spool_cursor_next(cur, &seq, &d, &len, NULL), SN_OK);
    ck_assert_uint_eq(seq, 5);
    ck_assert(memcmp(d, "record-000005", len) == 0);
    sn_spool_cursor_seek(cur, 29999);
    ck_assert_int_eq(sn_spool_cursor_next(cur, &seq, &d, &len, NULL), SN_OK);
    ck_assert(memcmp(d, "record-029999", len) == 0);
    sn_spool_cursor_destroy(&cur);
    sn_spool_destroy(&sp);
}
END_TEST

/* Frames are written as spool.h describes them, with a CRC-32C flagged in
 * the length word (the standard check value included). */
START_TEST(test_spool_frames_carry_crc32c)
{
    ck_assert_uint_eq(sn_spool_crc32c((const uint8_t *)"123456789", 9),
                      0xE3069283u);
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_NEVER, 1 << 20, 1 << 24);
    s_append_n(sp, 1, 50);
    sn_spool_destroy(&sp);
    char *path = s_seg_path(1);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t b[16 + 64];
    for (uint64_t seq = 1; seq <= 50; seq++) {
        ck_assert_uint_eq(fread(b, 1, 16, f), 16);
        uint32_t word = sn_spool_get32(b);
        ck_assert_uint_eq(word, 13u | SPOOL_FRAME_C);
        ck_assert_uint_eq(sn_spool_get64(b + 8), seq);
        ck_assert_uint_eq(fread(b + 16, 1, 13, f), 13);
        ck_assert_uint_eq(sn_spool_get32(b + 4), sn_spool_crc32c(b + 8, 21));
    }
    fclose(f);
    free(path);
}
END_TEST

/* A segment written with zlib's CRC-32 (the frames of earlier versions)
 * opens, is read back, and new records follow it with CRC-32C. */
START_TEST(test_spool_reads_zlib_frames)
{
    char *d = sn_strdup_printf("%s/spool", s_dir);
    ck_assert_int_eq(mkdir(d, 0700), 0);
    char *path = s_seg_path(1);
    FILE *f = fopen(path, "wb");
    for (uint64_t seq = 1; seq <= 20; seq++) {
        uint8_t b[16 + 64];
        int len = snprintf((char *)b + 16, 64, "record-%06d", (int)seq);
        for (int i = 0; i < 8; i++) {
            b[8 + i] = (uint8_t)(seq >> (8 * i));
        }
        uint32_t crc = (uint32_t)crc32(0L, b + 8, 8 + (uInt)len);
        for (int i = 0; i < 4; i++) {
            b[i] = (uint8_t)((uint32_t)len >> (8 * i));
            b[4 + i] = (uint8_t)(crc >> (8 * i));
        }
        ck_assert_uint_eq(fwrite(b, 1, 16 + (size_t)len, f), 16 + (size_t)len);
    }
    fclose(f);
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_NEVER, 1 << 20, 1 << 24);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 20);
    s_append_n(sp, 21, 10);
    ck_assert_uint_eq(s_read_all(sp, 1), 30);
    sn_spool_destroy(&sp);
    sp = s_open(SN_SPOOL_FSYNC_NEVER, 1 << 20, 1 << 24);
    ck_assert_uint_eq(sn_spool_last_seq(sp), 30);
    ck_assert_uint_eq(s_read_all(sp, 1), 30);
    sn_spool_destroy(&sp);
    free(path);
    free(d);
}
END_TEST

START_TEST(test_spool_full_refuses)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_NEVER, 4096, 8192);
    sn_err_t err;
    int rc;
    uint64_t n = 0;
    char rec[100];
    memset(rec, 'x', sizeof rec);
    while ((rc = sn_spool_append(sp, rec, sizeof rec, NULL, &err)) == SN_OK) {
        n++;
    }
    ck_assert_int_eq(rc, SN_EFULL);
    ck_assert_uint_eq(n, 8192 / 116);
    ck_assert_ptr_nonnull(strstr(err.msg, "full"));
    ck_assert_ptr_nonnull(strstr(err.msg, "max_bytes 8192"));
    ck_assert_uint_eq(sn_spool_last_seq(sp), n);
    /* Acknowledging frees room again. */
    ck_assert_int_eq(sn_spool_flush(sp, NULL), SN_OK);
    ck_assert_int_eq(sn_spool_ack(sp, n, NULL), SN_OK);
    ck_assert_int_eq(sn_spool_append(sp, rec, sizeof rec, NULL, NULL), SN_OK);
    sn_spool_destroy(&sp);
}
END_TEST

START_TEST(test_spool_bad_arguments)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_NEVER, 4096, 1 << 20);
    sn_err_t err;
    ck_assert_int_eq(sn_spool_append(sp, "", 0, NULL, &err), SN_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "record of 0 bytes"));
    ck_assert_int_eq(sn_spool_ack(sp, 5, &err), SN_ERANGE);
    ck_assert_ptr_nonnull(strstr(err.msg, "ack of seq 5"));
    sn_spool_fsync_t p;
    ck_assert_int_eq(sn_spool_fsync_parse("sometimes", &p), SN_EINVAL);
    ck_assert_int_eq(sn_spool_fsync_parse("batch", &p), SN_OK);
    ck_assert_str_eq(sn_spool_fsync_name(p), "batch");

    sn_spool_opts_t o;
    sn_spool_opts_init(&o);
    sn_spool_t *other = NULL;
    ck_assert_int_eq(sn_spool_open(&o, &other, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "spool: no directory given");
    char *d = sn_strdup_printf("%s/spool", s_dir);
    o.dir = d;
    ck_assert_int_eq(sn_spool_open(&o, &other, &err), SN_ESTATE);
    ck_assert_ptr_nonnull(strstr(err.msg, "in use by another process"));
    ck_assert_ptr_null(other);
    sn_spool_destroy(&sp);
    free(d);
}
END_TEST

START_TEST(test_spool_closed_segment_damage_is_refused)
{
    sn_spool_t *sp = s_open(SN_SPOOL_FSYNC_ALWAYS, 4096, 1 << 24);
    s_append_n(sp, 1, 200);
    ck_assert_uint_gt(sn_spool_segments(sp), 1);
    sn_spool_destroy(&sp);
    char *path = s_seg_path(1);
    int fd = open(path, O_WRONLY);
    ck_assert_int_eq(pwrite(fd, "#", 1, 20), 1);
    close(fd);
    sn_spool_opts_t o;
    sn_spool_opts_init(&o);
    char *d = sn_strdup_printf("%s/spool", s_dir);
    o.dir = d;
    o.segment_bytes = 4096;
    sn_err_t err;
    ck_assert_int_eq(sn_spool_open(&o, &sp, &err), SN_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad record at offset 0"));
    ck_assert_ptr_nonnull(strstr(err.msg, "closed segment is damaged"));
    free(d);
    free(path);
}
END_TEST

static Suite *
spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 30);
    tcase_add_test(usage, test_spool_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 30);
    tcase_add_test(edges, test_spool_cursor_follows_appends);
    tcase_add_test(edges, test_spool_torn_tail_is_cut);
    tcase_add_test(edges, test_spool_flipped_byte_is_cut);
    tcase_add_test(edges, test_spool_ack_frees_segments);
    tcase_add_test(edges, test_spool_permissions);
    tcase_add_test(edges, test_spool_cursor_reads_tail_and_files);
    tcase_add_test(edges, test_spool_frames_carry_crc32c);
    tcase_add_test(edges, test_spool_reads_zlib_frames);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 30);
    tcase_add_test(errors, test_spool_full_refuses);
    tcase_add_test(errors, test_spool_bad_arguments);
    tcase_add_test(errors, test_spool_closed_segment_damage_is_refused);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(spool_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
