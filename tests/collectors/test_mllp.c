/*  tests/collectors/test_mllp.c - MLLP framing, ACKs and the TCP listener
 *
 *  The deframer against split, glued, cut and oversize frames and garbage
 *  between them; the ACK's fields; and a real round trip on 127.0.0.1:
 *  an interface engine's socket sends ADT messages, the listener hands them
 *  to an HL7 feed and answers AA, AE or AR as each deserves.
 */
#include "feed_hl7.h"
#include "mllp.h"
#include "mllp_server.h"

#include "sentinel/mem.h"
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define T_2026 ((sn_time_t)sn_day_from_ymd(2026, 11, 25) * 86400000LL)

static const char s_msg[] =
    "MSH|^~\\&|EHR|HOSP^1.2.3^ISO|SENTINEL|CDC|20261121093000||ADT^A04^ADT_A01"
    "|CTL42|P|2.5.1\rEVN||20261121093000\r";

/* Frame `m` and push it into `d`, split into `pieces` parts. */
static void
s_push_split(col_mllp_t *d, const char *m, size_t pieces)
{
    size_t flen;
    uint8_t *f = col_mllp_frame(m, strlen(m), &flen);
    size_t step = (flen + pieces - 1) / pieces;
    for (size_t i = 0; i < flen; i += step) {
        col_mllp_push(d, f + i, i + step < flen ? step : flen - i);
    }
    free(f);
}

START_TEST(test_mllp_usage)
{
    col_mllp_t *d = col_mllp_new(0);
    s_push_split(d, s_msg, 1);
    const uint8_t *msg;
    size_t len;
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_MESSAGE);
    ck_assert_uint_eq(len, strlen(s_msg));
    ck_assert_int_eq(memcmp(msg, s_msg, len), 0);
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_AGAIN);
    size_t alen;
    char *ack = col_mllp_ack(msg, len, COL_ACK_AA, NULL, T_2026, &alen);
    ck_assert_str_eq(ack, "MSH|^~\\&|SENTINEL|CDC|EHR|HOSP^1.2.3^ISO|"
                          "20261125000000+0000||ACK^A04^ACK|ACTL42|P|2.5.1\r"
                          "MSA|AA|CTL42\r");
    ck_assert_uint_eq(alen, strlen(ack));
    free(ack);
    col_mllp_destroy(&d);
    ck_assert_ptr_null(d);
}
END_TEST

START_TEST(test_mllp_split_and_garbage)
{
    col_mllp_t *d = col_mllp_new(0);
    const uint8_t *msg;
    size_t len;
    /* Byte by byte: nothing until the frame's last byte. */
    size_t flen;
    uint8_t *f = col_mllp_frame("A", 1, &flen);
    for (size_t i = 0; i + 1 < flen; i++) {
        col_mllp_push(d, f + i, 1);
        ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_AGAIN);
    }
    col_mllp_push(d, f + flen - 1, 1);
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_MESSAGE);
    ck_assert_uint_eq(len, 1);
    free(f);
    /* Garbage, a frame cut short by a new <VT>, then two glued frames, the
     * second ended by <FS> alone. */
    col_mllp_push(d,
                  "junk\r\n\x0b"
                  "cut",
                  10);
    s_push_split(d, "B1", 3);
    col_mllp_push(d,
                  "\x0b"
                  "B2\x1c\x0b"
                  "B3\x1c\r",
                  9);
    const char *want[] = {"B1", "B2", "B3"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_MESSAGE);
        ck_assert_int_eq(memcmp(msg, want[i], 2), 0);
        ck_assert_uint_eq(len, 2);
    }
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_AGAIN);
    ck_assert_uint_eq(col_mllp_garbage(d), 4 + 4);
    col_mllp_destroy(&d);
}
END_TEST

START_TEST(test_mllp_oversize)
{
    col_mllp_t *d = col_mllp_new(16);
    const uint8_t *msg;
    size_t len;
    char big[40];
    memset(big, 'x', sizeof big);
    col_mllp_push(d, "\x0b", 1);
    col_mllp_push(d, big, sizeof big);
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_OVERSIZE);
    ck_assert_uint_eq(len, sizeof big); /* its head, to dead-letter */
    ck_assert_int_eq(memcmp(msg, big, len), 0);
    col_mllp_push(d, big, sizeof big);
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_AGAIN);
    col_mllp_push(d, "\x1c\r", 2);
    s_push_split(d, "small", 2);
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_MESSAGE);
    ck_assert_uint_eq(len, 5);
    col_mllp_destroy(&d);
}
END_TEST

/* A runaway frame cut off by the next <VT> (the sender gave up on it and
 * started again) loses only itself, however TCP split the bytes. */
START_TEST(test_mllp_oversize_then_new_frame)
{
    col_mllp_t *d = col_mllp_new(16);
    const uint8_t *msg;
    size_t len;
    char big[40];
    memset(big, 'x', sizeof big);
    col_mllp_push(d, "\x0b", 1);
    col_mllp_push(d, big, sizeof big);
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_OVERSIZE);
    col_mllp_push(d, big, 3);
    s_push_split(d, "next", 1);
    ck_assert_int_eq(col_mllp_next(d, &msg, &len), COL_MLLP_MESSAGE);
    ck_assert_uint_eq(len, 4);
    ck_assert_int_eq(memcmp(msg, "next", 4), 0);
    col_mllp_destroy(&d);
}
END_TEST

START_TEST(test_mllp_ack_errors)
{
    size_t alen;
    /* AE with a reason holding separators: escaped in MSA-3 and ERR-8. */
    char *ack =
        col_mllp_ack(s_msg, strlen(s_msg), COL_ACK_AE,
                     "PV1-19: missing visit number (a|b^c)", T_2026, &alen);
    ck_assert_ptr_nonnull(
        strstr(ack, "\rMSA|AE|CTL42|PV1-19: missing visit number "
                    "(a\\F\\b\\S\\c)\rERR|||101^Required field missing^"
                    "HL70357|E||||PV1-19: missing"));
    free(ack);
    /* No MSH: standard separators, no control id to echo. */
    ack = col_mllp_ack("garbage", 7, COL_ACK_AR, "no MSH segment at the start",
                       T_2026, &alen);
    ck_assert_ptr_nonnull(strstr(ack, "MSH|^~\\&|||||20261125000000+0000||"
                                      "ACK^^ACK|A|P|2.5.1\rMSA|AR||no MSH"));
    ck_assert_ptr_nonnull(strstr(ack, "ERR|||100^Segment sequence error^"));
    free(ack);
    /* Other separators are answered in kind. */
    const char *hash = "MSH#!*$&#APP#FAC#ME#CDC#20261121##ADT!A08#C9#T#2.5.1\r";
    ack =
        col_mllp_ack(hash, strlen(hash), COL_ACK_AR,
                     "MSH-9: message type 'X' is not supported", T_2026, &alen);
    ck_assert_ptr_nonnull(strstr(ack, "MSH#!*$&#ME#CDC#APP#FAC#"));
    ck_assert_ptr_nonnull(strstr(ack, "#ACK!A08!ACK#AC9#T#2.5.1\r"
                                      "MSA#AR#C9#"));
    ck_assert_ptr_nonnull(strstr(ack, "ERR###200!Unsupported message type!"));
    free(ack);
    ck_assert_int_eq(col_mllp_ack_code(SN_EFULL), COL_ACK_AR);
    ck_assert_int_eq(col_mllp_ack_code(SN_EVALIDATE), COL_ACK_AE);
    ck_assert_int_eq(col_mllp_ack_code(SN_OK), COL_ACK_AA);
}
END_TEST

/* ---------------------------------------------------------- round trip */

/* The collector side of the round trip: an HL7 feed, and a pretend spool
 * that can be made full. */
typedef struct t_sink {
    col_feed_t *feed; /* parses each message */
    int accepted;     /* events taken */
    bool full;        /* refuse as a full spool would */
} t_sink_t;

static col_ack_t
s_handler(void *arg, const char *peer, uint64_t msg_no, const uint8_t *msg,
          size_t len, sn_err_t *reason)
{
    t_sink_t *sink = arg;
    ck_assert_ptr_nonnull(strstr(peer, "127.0.0.1:"));
    ck_assert_uint_gt(msg_no, 0);
    col_record_t rec;
    if (col_feed_parse(sink->feed, msg, len, &rec) != COL_FEED_EVENT) {
        *reason = rec.err;
        return col_mllp_ack_code(rec.err.code);
    }
    if (sink->full) {
        sn_err_set(reason, SN_EFULL, "spool full: try again later");
        return COL_ACK_AR;
    }
    sink->accepted++;
    return COL_ACK_AA;
}

static int
s_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* Send fixture `name` framed, with its line ends turned into CR. */
static void
s_send_fixture(int fd, const char *name)
{
    char *rel = sn_strdup_printf("tests/collectors/hl7/%s", name);
    char *path = ts_source_path(rel);
    size_t len;
    char *text = ts_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < len; i++) {
        text[i] = text[i] == '\n' ? '\r' : text[i];
    }
    size_t flen;
    uint8_t *f = col_mllp_frame(text, len, &flen);
    ck_assert_int_eq(send(fd, f, flen, 0), (ssize_t)flen);
    free(f);
    free(text);
    free(path);
    free(rel);
}

/* Drive the server until `want` ACKs came back on fd; store their MSA. */
static int
s_collect_acks(col_mllp_server_t *srv, int fd, char msa[][32], int want)
{
    col_mllp_t *d = col_mllp_new(0);
    int got = 0;
    for (int round = 0; round < 500 && got < want; round++) {
        col_mllp_server_step(srv, 10);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1) {
            char buf[4096];
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            ck_assert_int_gt(n, 0);
            col_mllp_push(d, buf, (size_t)n);
        }
        const uint8_t *m;
        size_t len;
        while (col_mllp_next(d, &m, &len) == COL_MLLP_MESSAGE) {
            const char *s = strstr((const char *)m, "\rMSA|");
            ck_assert_ptr_nonnull(s);
            snprintf(msa[got++], 32, "%.*s", (int)strcspn(s + 5, "|\r"), s + 5);
            size_t k = strlen(msa[got - 1]);
            snprintf(msa[got - 1] + k, 32 - k, "|%.*s",
                     (int)strcspn(s + 8, "|\r"), s + 8);
        }
    }
    col_mllp_destroy(&d);
    return got;
}

START_TEST(test_mllp_tcp_round_trip)
{
    col_cmap_t *cmap = col_cmap_new(true);
    col_site_t site = {"H0001", SN_SOURCE_HOSPITAL, "110105"};
    t_sink_t sink = {col_feed_hl7_new("mllp", &site, NULL, &cmap, 0), 0, false};
    sn_err_t err;
    col_mllp_server_t *srv =
        col_mllp_server_new("127.0.0.1:0", 0, s_handler, &sink, &err);
    ck_assert_msg(srv != NULL, "%s", err.msg);
    int fd = s_connect(col_mllp_server_port(srv));
    const char *files[] = {"a04.hl7", "no_msh.hl7", "unsupported_type.hl7",
                           "missing_pv1_19.hl7", "a08.hl7"};
    for (int i = 0; i < 5; i++) {
        s_send_fixture(fd, files[i]);
    }
    char msa[6][32];
    ck_assert_int_eq(s_collect_acks(srv, fd, msa, 5), 5);
    ck_assert_str_eq(msa[0], "AA|MSG00003");
    ck_assert_str_eq(msa[1], "AR|");
    ck_assert_str_eq(msa[2], "AR|MSG00007");
    ck_assert_str_eq(msa[3], "AE|MSG00006");
    ck_assert_str_eq(msa[4], "AA|MSG00004");
    ck_assert_int_eq(sink.accepted, 2);
    /* The spool is full: the sender is told to come back. */
    sink.full = true;
    s_send_fixture(fd, "a01.hl7");
    ck_assert_int_eq(s_collect_acks(srv, fd, msa, 1), 1);
    ck_assert_str_eq(msa[0], "AR|MSG00001");
    ck_assert_uint_eq(col_mllp_server_connections(srv), 1);
    /* A peer that leaves mid-frame is forgotten without harm. */
    ck_assert_int_eq(send(fd, "\x0bMSH|^~", 7, 0), 7);
    close(fd);
    for (int i = 0; i < 100 && col_mllp_server_connections(srv) > 0; i++) {
        col_mllp_server_step(srv, 10);
    }
    ck_assert_uint_eq(col_mllp_server_connections(srv), 0);
    col_mllp_server_destroy(&srv);
    col_feed_destroy(&sink.feed);
}
END_TEST

START_TEST(test_mllp_server_bad_address)
{
    sn_err_t err;
    ck_assert_ptr_null(
        col_mllp_server_new("localhost", 0, s_handler, NULL, &err));
    ck_assert_int_eq(err.code, SN_EINVAL);
    ck_assert_str_eq(err.msg,
                     "mllp listen address 'localhost': expected host:port");
    col_mllp_server_t *srv =
        col_mllp_server_new("127.0.0.1:0", 0, s_handler, NULL, &err);
    ck_assert_ptr_nonnull(srv);
    char *addr = sn_strdup_printf("127.0.0.1:%d", col_mllp_server_port(srv));
    ck_assert_ptr_null(col_mllp_server_new(addr, 0, s_handler, NULL, &err));
    ck_assert_int_eq(err.code, SN_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "Address already in use"));
    free(addr);
    col_mllp_server_destroy(&srv);
}
END_TEST

static Suite *
mllp_suite(void)
{
    Suite *s = suite_create("mllp");
    TCase *usage = tcase_create("usage");
    tcase_add_test(usage, test_mllp_usage);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 20);
    tcase_add_test(edges, test_mllp_split_and_garbage);
    tcase_add_test(edges, test_mllp_oversize);
    tcase_add_test(edges, test_mllp_oversize_then_new_frame);
    tcase_add_test(edges, test_mllp_tcp_round_trip);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_set_timeout(errors, 10);
    tcase_add_test(errors, test_mllp_ack_errors);
    tcase_add_test(errors, test_mllp_server_bad_address);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(mllp_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
