/*  cli/cmd_analyze.c - `sentinel analyze`: the analyzer daemon
 *
 *  Loads the configuration, restores the state and runs the analyzer loop
 *  until SIGTERM or SIGINT. The signals are blocked and read from a
 *  signalfd that the loop watches, so a stop is handled between two turns
 *  of the loop, after which the state is checkpointed and the transport
 *  acknowledged: a clean stop loses nothing and a restart resumes.
 */
#include "cli.h"

#include "analyzer.h"
#include "sentinel/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const char s_usage[] =
    "usage: sentinel analyze -c sentinel.yaml [--log-level LEVEL]\n"
    "\n"
    "Run the analyzer daemon: receive case events from the collectors,\n"
    "deduplicate them, bin them into daily series, run the configured\n"
    "detectors as days close, raise alerts with the trigger rules, archive\n"
    "everything in HDF5 and send alerts to the alerting daemon. SIGTERM or\n"
    "SIGINT stops it cleanly. deploy/sentinel.yaml is a commented example.\n"
    "\n"
    "  -c, --config FILE    the configuration (required)\n"
    "  --log-level LEVEL    debug, info, warn, error or off (overrides the\n"
    "                       file's log section; default info)\n";

static int
s_args(int argc, char **argv, const char **config, const char **level)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) &&
            i + 1 < argc) {
            *config = argv[++i];
        } else if (strcmp(a, "--log-level") == 0 && i + 1 < argc) {
            sn_log_level_t lv;
            if (sn_log_level_parse(argv[++i], &lv) != SN_OK) {
                return cli_usage("analyze", "unknown log level '%s'", argv[i]);
            }
            *level = argv[i];
        } else {
            return cli_usage("analyze", "unexpected argument '%s'", a);
        }
    }
    if (*config == NULL) {
        return cli_usage("analyze", "-c FILE is required");
    }
    return 0;
}

int
cli_analyze(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    const char *config = NULL, *level = NULL;
    int rc = s_args(argc, argv, &config, &level);
    if (rc != 0) {
        return rc;
    }
    /* main() blocked these before anything else (a stop during the start
     * stays pending); block them again here all the same, since the
     * signalfd only sees signals that are blocked. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    sn_err_t err;
    ana_analyzer_t *an = NULL;
    if (ana_analyzer_new(config, &an, &err) != SN_OK) {
        fprintf(stderr, "sentinel analyze: %s\n", sn_err_text(&err));
        close(sfd);
        return err.code == SN_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    if (level != NULL) { /* the flag wins over the file's log section */
        sn_log_level_t lv = SN_LOG_INFO;
        sn_log_level_parse(level, &lv);
        sn_log_setup(lv, SN_LOG_LOGFMT);
    }
    rc = ana_analyzer_run(an, sfd, &err);
    if (rc != SN_OK) {
        fprintf(stderr, "sentinel analyze: %s\n", sn_err_text(&err));
    }
    ana_analyzer_destroy(&an);
    close(sfd);
    return rc == SN_OK ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
