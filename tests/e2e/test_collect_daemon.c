/*  tests/e2e/test_collect_daemon.c - the site daemon: MLLP and the inbox
 *
 *  Real processes: `sentinel collect -c collector.yaml` without files (the
 *  site daemon, with an MLLP listener on 127.0.0.1 and an inbox folder)
 *  publishing over ZeroMQ (ipc://) to sentinel-test-sink, which writes one
 *  line per record (sender, seq, site, event id, revision) durably before
 *  acknowledging. This test is the hospital's interface engine: it speaks
 *  MLLP over a real TCP connection and reads each ACK; and it is the site's
 *  export job, moving JSON lines and CSV files into the inbox. It checks
 *  the ACK codes (AA, AE and AR with their reason), that exactly the right
 *  events arrive (an A08 is the same event as its visit's A01, with a
 *  higher revision), that inbox files are consumed once and their bad rows
 *  dead-lettered, and that a collector killed with SIGKILL and restarted
 *  loses nothing and sends nothing twice. The random seed is printed, and
 *  taken from SENTINEL_E2E_SEED when set.
 */
#include "sentinel/mem.h"
#include "support.h"

#include <arpa/inet.h>
#include <check.h>
#include <libgen.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 120      /* bound on any wait for the daemons */
#define MAX_LINES 70000 /* records the sink file may hold in a test */
#define N_FILE 30000    /* events in the big inbox file of the kill test */

static char *s_dir;
static int s_port;

/* ------------------------------------------------------------ fixture */

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_port = ts_free_port();
    const char *env = getenv("SENTINEL_E2E_SEED");
    unsigned seed = env ? (unsigned)atoi(env) : (unsigned)time(NULL);
    fprintf(stderr, "collect_daemon: seed %u (SENTINEL_E2E_SEED)\n", seed);
    srand(seed);
    char *yaml = sn_strdup_printf(
        "site: {id: \"H1\", source: hospital, region: \"110105\"}\n"
        "inputs:\n"
        "  csv:\n"
        "    columns: {event_id: case, condition: dx, report_time: at}\n"
        "  hl7: {event_id: plain, patient_classes: \"EO\"}\n"
        "mllp: {listen: \"127.0.0.1:%d\"}\n"
        "inbox: {path: \"%s/inbox\", done: \"%s/done\", poll_ms: 100}\n"
        "dead_letter: {path: \"%s/dead.jsonl\"}\n"
        "log: {level: info}\n"
        "spool: {dir: \"%s/spool\", fsync: batch}\n"
        "transport: {endpoint: \"ipc://%s/rx.sock\", curve: false,\n"
        "            heartbeat_ms: 200, timeout_ms: 2000}\n",
        s_port, s_dir, s_dir, s_dir, s_dir, s_dir);
    free(ts_write_file(s_dir, "collector.yaml", yaml));
    free(yaml);
    char *inbox = sn_strdup_printf("%s/inbox", s_dir);
    ck_assert_int_eq(mkdir(inbox, 0700), 0);
    free(inbox);
}

static void
s_teardown(void)
{
    ts_rmtree(s_dir);
    free(s_dir);
}

/* ---------------------------------------------------------- processes */

static pid_t
s_start_sink(void)
{
    char *bin = sn_strdup(ts_sentinel_bin());
    char *sink =
        sn_strdup_printf("%s/../tests/sentinel-test-sink", dirname(bin));
    char *ep = sn_strdup_printf("ipc://%s/rx.sock", s_dir);
    char *out = sn_strdup_printf("%s/received.txt", s_dir);
    char *log = sn_strdup_printf("%s/sink.log", s_dir);
    char *argv[] = {sink, "--endpoint", ep, "--out", out, NULL};
    pid_t pid = ts_spawn(argv, log);
    free(bin);
    free(sink);
    free(ep);
    free(out);
    free(log);
    return pid;
}

static pid_t
s_start_collector(void)
{
    char *conf = sn_strdup_printf("%s/collector.yaml", s_dir);
    char *log = sn_strdup_printf("%s/collector.log", s_dir);
    char *argv[] = {(char *)ts_sentinel_bin(), "collect", "-c", conf, NULL};
    pid_t pid = ts_spawn(argv, log);
    free(conf);
    free(log);
    return pid;
}

/* SIGTERM and wait: a daemon must exit 0. */
static void
s_stop(pid_t pid, const char *what)
{
    kill(pid, SIGTERM);
    int st = ts_wait_exit(pid, 60);
    ck_assert_msg(st == 0, "%s ended with %d", what, st);
}

static void
s_kill9(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* --------------------------------------------------------------- MLLP */

/* Connect to the listener, retrying while the daemon starts. */
static int
s_connect(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (int i = 0; i < WAIT_S * 20; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
            return fd;
        }
        close(fd);
        ts_sleep_ms(50);
    }
    ck_abort_msg("no MLLP listener on 127.0.0.1:%d", s_port);
    return -1;
}

/* An ADT message of visit `visit` at `when` (HL7 DTM) from facility
 * HOSP1, with `dx` as its diagnosis, segments ended by CR. */
static char *
s_adt(const char *event, const char *ctrl, const char *when, const char *visit,
      const char *dx)
{
    return sn_strdup_printf(
        "MSH|^~\\&|EHR|HOSP1|SENTINEL|CDC|%s+0800||ADT^%s^ADT_A01|%s|P|"
        "2.5.1\r"
        "EVN||%s+0800\r"
        "PID|1||||||20190502|F\r"
        "PV1|1|E|||||||||||||||||%s|||||||||||||||||||||||||%s+0800\r"
        "DG1|1||%s|||F\r",
        when, event, ctrl, when, visit, when, dx);
}

/* Send `msg` in one MLLP frame and read its ACK. @return the ACK (caller
 * frees), or NULL when the connection closed first. */
static char *
s_send(int fd, const char *msg)
{
    char *frame = sn_strdup_printf("\x0b%s\x1c\r", msg);
    size_t n = strlen(frame);
    ssize_t w = send(fd, frame, n, MSG_NOSIGNAL);
    free(frame);
    if (w != (ssize_t)n) {
        return NULL;
    }
    char buf[8192];
    size_t got = 0;
    while (got < sizeof buf - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, WAIT_S * 1000) != 1) {
            break;
        }
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0) {
            return NULL;
        }
        got += (size_t)r;
        buf[got] = '\0';
        if (got >= 2 && memcmp(buf + got - 2, "\x1c\r", 2) == 0) {
            return sn_strdup(buf);
        }
    }
    return NULL;
}

/* @return the MSA segment of `ack` up to its CR ("MSA|AA|CTL1"); caller
 * frees. */
static char *
s_msa(const char *ack)
{
    ck_assert_ptr_nonnull(ack);
    const char *m = strstr(ack, "\rMSA|");
    ck_assert_msg(m != NULL, "no MSA in the ACK: %s", ack);
    m++;
    return sn_strndup(m, strcspn(m, "\r"));
}

/* Send `msg` and check its MSA starts with `want` ("MSA|AA|CTL1"). */
static void
s_send_expect(int fd, const char *msg, const char *want)
{
    char *ack = s_send(fd, msg);
    char *msa = s_msa(ack);
    ck_assert_msg(strncmp(msa, want, strlen(want)) == 0,
                  "ACK '%s', expected '%s…'", msa, want);
    free(msa);
    free(ack);
}

/* --------------------------------------------------------- the sink file */

/* One received record. */
typedef struct rec {
    char site[32];          /* site_id */
    char id[80];            /* event_id */
    unsigned rev;           /* revision */
    unsigned long long seq; /* transport sequence */
} rec_t;

/* Read the sink's file into `out` (at most MAX_LINES). @return lines. */
static int
s_received(rec_t *out)
{
    char *path = sn_strdup_printf("%s/received.txt", s_dir);
    FILE *f = fopen(path, "r");
    free(path);
    int n = 0;
    char sender[64];
    while (f != NULL && n < MAX_LINES &&
           fscanf(f, "%63s %llu %31s %79s %u", sender, &out[n].seq, out[n].site,
                  out[n].id, &out[n].rev) == 5) {
        ck_assert_str_eq(sender, "H1");
        n++;
    }
    if (f != NULL) {
        fclose(f);
    }
    return n;
}

/* Wait (bounded) until the sink holds at least `want` records. */
static int
s_wait_received(rec_t *out, int want)
{
    int n = 0;
    for (int i = 0; i < WAIT_S * 10 && (n = s_received(out)) < want; i++) {
        ts_sleep_ms(100);
    }
    return n;
}

/* Wait (bounded) until `path` exists. */
static bool
s_wait_file(const char *path)
{
    for (int i = 0; i < WAIT_S * 10; i++) {
        if (access(path, F_OK) == 0) {
            return true;
        }
        ts_sleep_ms(100);
    }
    return false;
}

/* Drop `text` into the inbox as `name`: written beside it under a dot name
 * (which the daemon skips), then renamed in, as an export job should. */
static void
s_drop(const char *name, const char *text)
{
    char *dot = sn_strdup_printf(".%s", name);
    char *tmp = ts_write_file(s_dir, dot, text);
    char *to = sn_strdup_printf("%s/inbox/%s", s_dir, name);
    ck_assert_int_eq(rename(tmp, to), 0);
    free(to);
    free(tmp);
    free(dot);
}

/* @return the number of lines of `path` holding `what`. */
static int
s_count_lines(const char *path, const char *what)
{
    char *text = ts_read_file(path, NULL);
    int n = 0;
    for (char *p = text; p != NULL && *p != '\0';) {
        char *nl = strchr(p, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
        n += strstr(p, what) != NULL;
        p = nl ? nl + 1 : NULL;
    }
    free(text);
    return n;
}

/* ---------------------------------------------------------------- tests */

/* A01 then A08 of one visit, then three messages that cannot be taken:
 * AA, AA, AE, AR, AR, and the sink gets the visit twice, the A08 with the
 * higher revision. */
START_TEST(test_collect_daemon_mllp_acks)
{
    pid_t sink = s_start_sink();
    pid_t col = s_start_collector();
    int fd = s_connect();
    char *m = s_adt("A01", "C1", "20261120083000", "V1", "J11.1^Influenza^I10");
    s_send_expect(fd, m, "MSA|AA|C1");
    free(m);
    m = s_adt("A08", "C2", "20261121090000", "V1", "A00.1^Cholera^I10");
    s_send_expect(fd, m, "MSA|AA|C2");
    free(m);
    m = s_adt("A04", "C3", "20261121090000", "", "J11.1^Influenza^I10");
    s_send_expect(fd, m, "MSA|AE|C3|PV1-19");
    free(m);
    s_send_expect(fd, "EVN||20261121090000\rPV1|1|E\r", "MSA|AR||");
    m = s_adt("A04", "C5", "20261121090000", "V5", "J11.1^Influenza^I10");
    memcpy(strstr(m, "ADT^A04"), "ORU^R01", 7);
    s_send_expect(fd, m, "MSA|AR|C5|MSH-9");
    free(m);
    close(fd);
    rec_t *r = sn_calloc(MAX_LINES, sizeof *r);
    ck_assert_int_eq(s_wait_received(r, 2), 2);
    s_stop(col, "collector");
    s_stop(sink, "sink");
    ck_assert_int_eq(s_received(r), 2); /* nothing else came */
    ck_assert_str_eq(r[0].site, "H1");
    ck_assert_str_eq(r[0].id, "HOSP1/V1");
    ck_assert_str_eq(r[1].id, "HOSP1/V1");
    ck_assert_uint_gt(r[1].rev, r[0].rev);
    free(r);
    char *dl = sn_strdup_printf("%s/dead.jsonl", s_dir);
    ck_assert_int_eq(s_count_lines(dl, "\"reason\""), 3);
    ck_assert_int_eq(s_count_lines(dl, "PV1-19"), 1);
    ck_assert_int_eq(s_count_lines(dl, "MSH-9"), 1);
    free(dl);
}
END_TEST

/* JSON lines and CSV files dropped into the inbox: consumed (moved to
 * done/), each good record sent once, each bad one dead-lettered with its
 * file, position and reason. */
START_TEST(test_collect_daemon_inbox)
{
    pid_t sink = s_start_sink();
    pid_t col = s_start_collector();
    const char *ev = "\"condition\":\"ILI\",\"report_time\":"
                     "\"2026-11-20T08:00:00Z\"";
    char *json = sn_strdup_printf(
        "{\"event_id\":\"j1\",%s}\n{\"event_id\":\"j2\",%s}\nnot json\n"
        "{\"event_id\":\"j3\",\"id_number\":\"110105\",%s}\n"
        "{\"event_id\":\"j4\",%s}\n",
        ev, ev, ev, ev);
    s_drop("clinic.jsonl", json);
    free(json);
    s_drop("lab.csv", "case,dx,at\n"
                      "c1,ILI,2026-11-20T08:00:00Z\n"
                      "c2,ILI,yesterday\n"
                      "c3,ILI,2026-11-21T09:30:00Z\n");
    char *done1 = sn_strdup_printf("%s/done/clinic.jsonl", s_dir);
    char *done2 = sn_strdup_printf("%s/done/lab.csv", s_dir);
    ck_assert(s_wait_file(done1) && s_wait_file(done2));
    rec_t *r = sn_calloc(MAX_LINES, sizeof *r);
    ck_assert_int_eq(s_wait_received(r, 5), 5);
    s_stop(col, "collector");
    s_stop(sink, "sink");
    ck_assert_int_eq(s_received(r), 5);
    const char *want[] = {"j1", "j2", "j4", "c1", "c3"};
    for (int i = 0; i < 5; i++) {
        int seen = 0;
        for (int k = 0; k < 5; k++) {
            seen += strcmp(r[k].id, want[i]) == 0;
        }
        ck_assert_msg(seen == 1, "%s arrived %d times", want[i], seen);
    }
    char *inbox = sn_strdup_printf("%s/inbox/clinic.jsonl", s_dir);
    ck_assert_int_ne(access(inbox, F_OK), 0);
    char *dl = sn_strdup_printf("%s/dead.jsonl", s_dir);
    ck_assert_int_eq(s_count_lines(dl, "\"reason\""), 3);
    ck_assert_int_eq(s_count_lines(dl, "clinic.jsonl"), 2);
    ck_assert_int_eq(s_count_lines(dl, "id_number"), 1);
    ck_assert_int_eq(s_count_lines(dl, "lab.csv"), 1);
    free(dl);
    free(inbox);
    free(r);
    free(done1);
    free(done2);
}
END_TEST

/* Write inbox file `round` of the kill test: N_FILE / 3 events f<i>. */
static void
s_drop_big(int round)
{
    int per = N_FILE / 3;
    size_t cap = (size_t)per * 120, len = 0;
    char *text = sn_malloc(cap);
    for (int i = round * per; i < (round + 1) * per; i++) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"event_id\":\"f%d\",\"condition\":\"ILI\","
                                "\"report_time\":\"2026-11-20T08:00:00Z\"}\n",
                                i);
    }
    char name[32];
    snprintf(name, sizeof name, "big%d.jsonl", round);
    s_drop(name, text);
    free(text);
}

/* The MLLP side of one round of the kill test: `n` visits acknowledged AA,
 * then one more sent whose ACK is never read (the kill comes first).
 * @return the visit number after them. */
static int
s_mllp_round(int fd, int visit, int n)
{
    for (int i = 0; i <= n; i++, visit++) {
        char v[16], ctrl[16];
        snprintf(v, sizeof v, "V%d", visit);
        snprintf(ctrl, sizeof ctrl, "K%d", visit);
        char *m =
            s_adt("A04", ctrl, "20261121090000", v, "J11.1^Influenza^I10");
        if (i < n) {
            char *want = sn_strdup_printf("MSA|AA|%s", ctrl);
            s_send_expect(fd, m, want);
            free(want);
        } else {
            char *f = sn_strdup_printf("\x0b%s\x1c\r", m);
            ck_assert_int_gt(send(fd, f, strlen(f), MSG_NOSIGNAL), 0);
            free(f);
        }
        free(m);
    }
    return visit;
}

/* Resend the visit whose ACK the kill cut off, as an interface engine
 * does when no ACK came: now it must be AA. */
static void
s_mllp_resend(int fd, int visit)
{
    char v[16], ctrl[16];
    snprintf(v, sizeof v, "V%d", visit);
    snprintf(ctrl, sizeof ctrl, "K%d", visit);
    char *m = s_adt("A04", ctrl, "20261121090000", v, "J11.1^Influenza^I10");
    char *want = sn_strdup_printf("MSA|AA|%s", ctrl);
    s_send_expect(fd, m, want);
    free(want);
    free(m);
}

/* Every file event once; every visit at least once, and twice only when
 * it is a resent one with the same revision (the analyzer drops such a
 * repeat by site, event id and revision); no transport seq twice. */
static void
s_check_kill_received(const rec_t *r, int n, int visits, int resent)
{
    uint8_t *file = sn_calloc(N_FILE, 1);
    int *mllp = sn_calloc((size_t)visits, sizeof *mllp);
    uint8_t *seqs = sn_calloc(MAX_LINES + 1, 1);
    int extra = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_uint_le(r[i].seq, MAX_LINES);
        ck_assert_msg(seqs[r[i].seq]++ == 0, "seq %llu twice", r[i].seq);
        int k;
        if (sscanf(r[i].id, "f%d", &k) == 1) {
            ck_assert(k >= 0 && k < N_FILE);
            ck_assert_msg(file[k]++ == 0, "file event %s twice", r[i].id);
        } else {
            ck_assert_int_eq(sscanf(r[i].id, "HOSP1/V%d", &k), 1);
            ck_assert(k >= 0 && k < visits);
            extra += mllp[k]++ > 0;
        }
    }
    for (int k = 0; k < N_FILE; k++) {
        ck_assert_msg(file[k] == 1, "file event f%d missing", k);
    }
    for (int k = 0; k < visits; k++) {
        ck_assert_msg(mllp[k] >= 1, "visit V%d missing", k);
    }
    ck_assert_int_le(extra, resent);
    fprintf(stderr,
            "collect_daemon: %d records, %d visits resent, %d of "
            "them repeated\n",
            n, resent, extra);
    free(seqs);
    free(mllp);
    free(file);
}

START_TEST(test_collect_daemon_kill9_restart)
{
    pid_t sink = s_start_sink();
    pid_t col = s_start_collector();
    int visit = 0, resent = 0;
    for (int round = 0; round < 3; round++) {
        int fd = s_connect();
        if (round > 0) {
            s_mllp_resend(fd, visit - 1);
            resent++;
        }
        s_drop_big(round);
        visit = s_mllp_round(fd, visit, 5 + rand() % 20);
        ts_sleep_ms(rand() % 300);
        s_kill9(col);
        close(fd);
        col = s_start_collector();
    }
    int fd = s_connect();
    s_mllp_resend(fd, visit - 1);
    resent++;
    close(fd);
    for (int round = 0; round < 3; round++) {
        char *done = sn_strdup_printf("%s/done/big%d.jsonl", s_dir, round);
        ck_assert_msg(s_wait_file(done), "%s never consumed", done);
        free(done);
    }
    rec_t *r = sn_calloc(MAX_LINES, sizeof *r);
    int n = s_wait_received(r, N_FILE + visit);
    ts_sleep_ms(500); /* a repeat would come now */
    s_stop(col, "collector");
    s_stop(sink, "sink");
    n = s_received(r);
    s_check_kill_received(r, n, visit, resent);
    free(r);
}
END_TEST

/* A file of no known type stays in the inbox, with a reason in the log;
 * a daemon with neither listener nor inbox refuses to start (exit 2). */
START_TEST(test_collect_daemon_refusals)
{
    pid_t col = s_start_collector();
    s_drop("notes.txt", "hello\n");
    char *log = sn_strdup_printf("%s/collector.log", s_dir);
    int found = 0;
    for (int i = 0; i < WAIT_S * 10 && !found; i++) {
        found = s_count_lines(log, "unknown feed type") > 0;
        ts_sleep_ms(100);
    }
    ck_assert_msg(found, "no 'unknown feed type' in the collector's log");
    s_stop(col, "collector");
    char *kept = sn_strdup_printf("%s/inbox/notes.txt", s_dir);
    ck_assert_int_eq(access(kept, F_OK), 0);
    char *conf = ts_write_file(
        s_dir, "bare.yaml",
        "site: {id: \"H1\", source: hospital, region: \"110105\"}\n"
        "dead_letter: {path: \"dead.jsonl\"}\n"
        "spool: {dir: \"spool2\"}\n"
        "transport: {endpoint: \"ipc://rx2.sock\", curve: false}\n");
    ts_run_t r = ts_sentinel(NULL, 60, "collect", "-c", conf, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(
        strstr(r.err, "neither mllp.listen nor inbox.path is configured"));
    ts_run_free(&r);
    free(conf);
    free(kept);
    free(log);
}
END_TEST

static Suite *
collect_daemon_suite(void)
{
    Suite *s = suite_create("collect_daemon");
    TCase *usage = tcase_create("usage");
    tcase_add_checked_fixture(usage, s_setup, s_teardown);
    tcase_set_timeout(usage, 300);
    tcase_add_test(usage, test_collect_daemon_mllp_acks);
    tcase_add_test(usage, test_collect_daemon_inbox);
    suite_add_tcase(s, usage);
    TCase *edges = tcase_create("edges");
    tcase_add_checked_fixture(edges, s_setup, s_teardown);
    tcase_set_timeout(edges, 600);
    tcase_add_test(edges, test_collect_daemon_kill9_restart);
    suite_add_tcase(s, edges);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, s_setup, s_teardown);
    tcase_set_timeout(errors, 300);
    tcase_add_test(errors, test_collect_daemon_refusals);
    suite_add_tcase(s, errors);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(collect_daemon_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
