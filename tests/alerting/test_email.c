/*  tests/alerting/test_email.c - email delivery to a real SMTP server
 *
 *  Runs aiosmtpd (python3-aiosmtpd) on a loopback port with its Maildir
 *  handler, delivers a notification through the outbox and the SMTP sink
 *  and reads the mail back from the Maildir: subject, headers, the
 *  evidence table. Also renders the text of each message type.
 */
#include "fixture.h"

#include "outbox.h"
#include "sink.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *s_dir;
static alr_store_t *s_store;
static alr_lifecycle_t *s_life;
static alr_outbox_t *s_outbox;
static alr_lifecycle_opts_t s_opts;
static const char *const s_mail[] = {"mail"};
static int s_port;
static pid_t s_smtpd;

static int
s_can_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return ok;
}

/* Start aiosmtpd writing into <dir>/maildir and wait until it listens. */
static void
s_smtpd_start(void)
{
    char listen[64], maildir[512];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s_port);
    snprintf(maildir, sizeof maildir, "%s/maildir", s_dir);
    s_smtpd = fork();
    ck_assert_int_ge(s_smtpd, 0);
    if (s_smtpd == 0) {
        execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l",
              listen, "-c", "aiosmtpd.handlers.Mailbox", maildir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !s_can_connect(s_port); i++) {
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    ck_assert_msg(s_can_connect(s_port), "aiosmtpd did not start");
}

static void
s_setup(void)
{
    s_dir = ts_tmpdir();
    s_store = fx_store(s_dir);
    s_opts = fx_opts();
    s_opts.sinks = s_mail;
    s_opts.n_sinks = 1;
    s_life = alr_lifecycle_new(s_store, &s_opts);
    s_outbox = alr_outbox_new(s_store, NULL);
    s_port = ts_free_port();
    char url[64];
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", s_port);
    const char *to[] = {"duty@cdc.example", "lead@cdc.example"};
    alr_email_opts_t eo = {url,  "sentinel@cdc.example", to, 2, NULL, NULL,
                           10000};
    alr_sink_t *sink = NULL;
    ck_assert_int_eq(alr_sink_email_new("mail", &eo, &sink, NULL), SN_OK);
    alr_outbox_add_sink(s_outbox, &sink);
}

static void
s_teardown(void)
{
    fx_check_store_caps(s_dir, s_store);
    if (s_smtpd > 0) {
        kill(s_smtpd, SIGTERM);
        waitpid(s_smtpd, NULL, 0);
        s_smtpd = 0;
    }
    alr_outbox_destroy(&s_outbox);
    alr_lifecycle_destroy(&s_life);
    alr_store_destroy(&s_store);
    ts_rmtree(s_dir);
    free(s_dir);
}

static void
s_raise(sn_level_t level)
{
    const fx_row_t rows[] = {{"fever_clinic", "2026-11-20", 17},
                             {"pharmacy", "2026-11-20", 40}};
    sn_alert_t *a = fx_alert(level, "2026-11-20", rows, 2);
    ck_assert_int_eq(alr_lifecycle_intake(s_life, a, 1000, NULL, NULL), SN_OK);
    sn_alert_destroy(&a);
}

/* @return the one mail in <dir>/maildir/new, or NULL. */
static char *
s_read_mail(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/maildir/new", s_dir);
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    char *mail = NULL;
    int count = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            char file[2048];
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            free(mail);
            mail = ts_read_file(file, NULL);
            count++;
        }
    }
    closedir(d);
    ck_assert_int_eq(count, 1);
    return mail;
}

START_TEST(test_email_arrives_with_evidence_table)
{
    s_smtpd_start();
    s_raise(SN_LEVEL_ORANGE);
    ck_assert_int_eq(alr_outbox_run(s_outbox, 2000, NULL), 1);
    char *mail = s_read_mail();
    ck_assert_ptr_nonnull(strstr(mail, "Subject: [Sentinel] orange warning: "
                                       "ILI in 110105 (multi-source)"));
    ck_assert_ptr_nonnull(strstr(mail, "From: sentinel@cdc.example"));
    ck_assert_ptr_nonnull(strstr(mail, "<cdc.sentinel.test.alert.1.1@"
                                       "sentinel>"));
    ck_assert_ptr_nonnull(strstr(mail, "Condition: ILI"));
    ck_assert_msg(strstr(mail, "ILI/110105/pharmacy          "
                               "pharmacy       all        ears-c2 "
                               "     2026-11-20       40      5.5"
                               "    10.25       20"),
                  "%s", mail);
    ck_assert_ptr_nonnull(strstr(mail, "verify 1 --outcome"));
    free(mail);
}
END_TEST

START_TEST(test_email_text_of_each_type)
{
    s_raise(SN_LEVEL_BLUE);
    s_raise(SN_LEVEL_RED);
    ck_assert_int_eq(
        alr_lifecycle_tick(s_life, fx_day("2026-12-01"), 3000, NULL), 1);
    alr_notice_t *ns = NULL;
    size_t n = 0;
    alr_store_notices(s_store, 1, &ns, &n, NULL);
    ck_assert_uint_eq(n, 3);
    const char *want[] = {"[Sentinel] blue warning: ILI in 110105",
                          "[Sentinel] Update: red warning: ILI in 110105",
                          "[Sentinel] Closed: red warning: ILI in 110105"};
    for (size_t i = 0; i < n; i++) {
        char *subject = NULL;
        char *text = alr_sink_email_text(ns[i].json, &subject);
        ck_assert_ptr_nonnull(strstr(subject, want[i]));
        ck_assert_ptr_nonnull(strstr(text, "What changed: "));
        free(subject);
        free(text);
    }
    alr_notices_free(&ns, n);
    char *subject = NULL;
    ck_assert_ptr_null(alr_sink_email_text("{\"x\":1}", &subject));
}
END_TEST

START_TEST(test_email_server_down_is_retried)
{
    s_raise(SN_LEVEL_BLUE);
    ck_assert_int_eq(alr_outbox_run(s_outbox, 2000, NULL), 0);
    ck_assert_int_eq(alr_store_pending(s_store), 1);
    s_smtpd_start();
    ck_assert_int_eq(alr_outbox_run(s_outbox, 2000 + 3600000, NULL), 1);
    char *mail = s_read_mail();
    free(mail);
    alr_email_opts_t eo = {"smtp://127.0.0.1:1", "a@b", NULL, 0, NULL, NULL, 0};
    alr_sink_t *sink = NULL;
    sn_err_t err;
    ck_assert_int_eq(alr_sink_email_new("m", &eo, &sink, &err), SN_EINVAL);
    ck_assert_str_eq(err.msg, "sink 'm': email needs url, from and to");
}
END_TEST

static Suite *
email_suite(void)
{
    Suite *s = suite_create("email");
    TCase *tc = tcase_create("usage");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_email_arrives_with_evidence_table);
    suite_add_tcase(s, tc);
    tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_email_text_of_each_type);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_checked_fixture(tc, s_setup, s_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_email_server_down_is_retried);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(email_suite());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
