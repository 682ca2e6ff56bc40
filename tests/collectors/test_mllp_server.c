/*  tests/collectors/test_mllp_server.c - the listener's connection limits
 *
 *  Over real loopback TCP: a connection that goes silent is closed after
 *  the idle timeout while one that keeps talking stays; with every slot
 *  taken by silent connections, a new one closes the longest-idle and is
 *  served; a frame over the bound is handed to the oversize callback with
 *  its first bytes and answered AR. (The message path itself is in
 *  test_mllp.c.)
 */
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

#define T_MSG "MSH|^~\\&|EHR|H|S|C|20261120083000||ADT^A01|C1|P|2.5.1\r"

/* Counts the handler's and the oversize callback's calls. */
typedef struct calls {
    int messages;    /* handler calls */
    int oversize;    /* oversize calls */
    size_t head_len; /* the last oversize head's length */
    char head[8];    /* its first bytes */
} calls_t;

static col_ack_t
s_handler(void *arg, const char *peer, uint64_t msg_no, const uint8_t *msg,
          size_t len, sn_err_t *reason)
{
    (void)peer;
    (void)msg_no;
    (void)msg;
    (void)len;
    (void)reason;
    ((calls_t *)arg)->messages++;
    return COL_ACK_AA;
}

static void
s_on_oversize(void *arg, const char *peer, uint64_t msg_no, const uint8_t *head,
              size_t len, const char *reason)
{
    (void)peer;
    (void)msg_no;
    ck_assert_str_eq(reason, "message longer than 1024 bytes");
    calls_t *k = arg;
    k->oversize++;
    k->head_len = len;
    memcpy(k->head, head, sizeof k->head - 1);
}

static col_mllp_server_t *
s_server(calls_t *k)
{
    sn_err_t err;
    col_mllp_server_t *srv =
        col_mllp_server_new("127.0.0.1:0", 1024, s_handler, k, &err);
    ck_assert_msg(srv != NULL, "%s", err.msg);
    col_mllp_server_on_oversize(srv, s_on_oversize);
    return srv;
}

static int
s_connect(const col_mllp_server_t *srv)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port =
                                htons((uint16_t)col_mllp_server_port(srv))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void
s_send(int fd, const char *msg, size_t len)
{
    size_t flen;
    uint8_t *f = col_mllp_frame(msg, len, &flen);
    ck_assert_int_eq(send(fd, f, flen, MSG_NOSIGNAL), (ssize_t)flen);
    free(f);
}

/* Step the server until `fd` has bytes to read or was closed (at most
 * 5 s). @return what recv() then says: > 0 bytes, 0 closed. */
static ssize_t
s_step_until_readable(col_mllp_server_t *srv, int fd)
{
    char buf[4096];
    for (int i = 0; i < 500; i++) {
        col_mllp_server_step(srv, 10);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) == 1) {
            return recv(fd, buf, sizeof buf, 0);
        }
    }
    ck_abort_msg("nothing came back on the connection");
    return -1;
}

START_TEST(test_mllp_server_idle_timeout)
{
    calls_t k = {0};
    col_mllp_server_t *srv = s_server(&k);
    col_mllp_server_set_idle_timeout(srv, 300);
    int silent = s_connect(srv);
    int talker = s_connect(srv);
    /* The talker sends a message every 100 ms for 1.5 s and is answered;
     * the silent one is closed (the peer reads end of stream). */
    for (int i = 0; i < 15; i++) {
        s_send(talker, T_MSG, strlen(T_MSG));
        ck_assert_int_gt(s_step_until_readable(srv, talker), 0);
        ts_sleep_ms(100);
    }
    ck_assert_int_eq(s_step_until_readable(srv, silent), 0);
    ck_assert_uint_eq(col_mllp_server_idle_closed(srv), 1);
    ck_assert_uint_eq(col_mllp_server_connections(srv), 1);
    ck_assert_int_eq(k.messages, 15);
    close(silent);
    close(talker);
    col_mllp_server_destroy(&srv);
}
END_TEST

START_TEST(test_mllp_server_full_evicts_longest_idle)
{
    calls_t k = {0};
    col_mllp_server_t *srv = s_server(&k);
    col_mllp_server_set_evict_idle(srv, 60000);
    int fds[COL_MLLP_SERVER_MAX_CONN];
    for (int i = 0; i < COL_MLLP_SERVER_MAX_CONN; i++) {
        fds[i] = s_connect(srv);
        col_mllp_server_step(srv, 10); /* accepted in this order */
        ts_sleep_ms(2);
    }
    ck_assert_uint_eq(col_mllp_server_connections(srv),
                      COL_MLLP_SERVER_MAX_CONN);
    /* While none has been idle a minute: a new connection is refused, no
     * engine's connection is cut. */
    int early = s_connect(srv);
    for (int i = 0; i < 5 && col_mllp_server_refused(srv) == 0; i++) {
        col_mllp_server_step(srv, 10);
    }
    ck_assert_uint_eq(col_mllp_server_refused(srv), 1);
    ck_assert_uint_eq(col_mllp_server_evicted(srv), 0);
    close(early);
    col_mllp_server_set_evict_idle(srv, 100);
    for (int i = 0; i < 50; i++) {
        col_mllp_server_step(srv, 10);
    }
    /* One more: the first (idle the longest) is closed, the new one is
     * served. */
    int late = s_connect(srv);
    s_send(late, T_MSG, strlen(T_MSG));
    ck_assert_int_gt(s_step_until_readable(srv, late), 0);
    ck_assert_int_eq(k.messages, 1);
    ck_assert_uint_eq(col_mllp_server_evicted(srv), 1);
    ck_assert_uint_eq(col_mllp_server_connections(srv),
                      COL_MLLP_SERVER_MAX_CONN);
    ck_assert_int_eq(s_step_until_readable(srv, fds[0]), 0);
    for (int i = 0; i < COL_MLLP_SERVER_MAX_CONN; i++) {
        close(fds[i]);
    }
    close(late);
    col_mllp_server_destroy(&srv);
}
END_TEST

START_TEST(test_mllp_server_oversize_callback)
{
    calls_t k = {0};
    col_mllp_server_t *srv = s_server(&k);
    int fd = s_connect(srv);
    char big[2000];
    memset(big, 'x', sizeof big);
    memcpy(big, "MSH|^~", 6);
    s_send(fd, big, sizeof big);
    ck_assert_int_gt(s_step_until_readable(srv, fd), 0); /* its AR */
    ck_assert_int_eq(k.oversize, 1);
    ck_assert_int_eq(k.messages, 0);
    ck_assert_uint_gt(k.head_len, 1024);
    ck_assert_str_eq(k.head, "MSH|^~x");
    close(fd);
    col_mllp_server_destroy(&srv);
}
END_TEST

static Suite *
mllp_server_suite(void)
{
    Suite *s = suite_create("mllp_server");
    TCase *usage = tcase_create("usage");
    tcase_set_timeout(usage, 30);
    tcase_add_test(usage, test_mllp_server_idle_timeout);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 30);
    tcase_add_test(edges, test_mllp_server_full_evicts_longest_idle);
    tcase_add_test(edges, test_mllp_server_oversize_callback);
    suite_add_tcase(s, edges);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(mllp_server_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
