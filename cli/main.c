/*  cli/main.c - the `sentinel` executable: dispatch to a subcommand
 *
 *  `sentinel NAME [ARGS…]` runs the subcommand NAME (see cli.h for the exit
 *  codes). `sentinel --help` lists them; an unknown one exits 2.
 *
 *  SIGTERM and SIGINT are blocked before anything else happens, so a stop
 *  that comes while a daemon is still starting (loading its configuration,
 *  opening its spool or store) stays pending instead of killing it with
 *  the default action; the daemon takes it once its handler is in place and
 *  exits cleanly. The commands that are not daemons get the signals back
 *  (unblocked) before they run, so Ctrl-C stops them as usual.
 */
#include "cli.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

static const cli_command_t s_commands[] = {
    {"collect", "publish feeds from a site (or run the site daemon)",
     cli_collect},
    {"analyze", "run the analyzer daemon", cli_analyze},
    {"detect", "run one detector over a CSV series", cli_detect},
    {"query", "read the HDF5 archive: series, alerts, plots", cli_query},
    {"alerts", "list, acknowledge, verify and report alerts", cli_alerts},
    {"simulate", "write reproducible synthetic feeds with outbreaks",
     cli_simulate},
    {"demo", "run the whole pipeline on embedded defaults", cli_demo},
    {"keygen", "write a CURVE key pair", cli_keygen},
    {"version", "print the version", cli_version},
};

/* The commands that set up their own stop handling and release (or read)
 * the blocked signals themselves: the daemons. */
static const char *const s_daemons[] = {"collect", "analyze", "alerts"};

#define N_COMMANDS (sizeof s_commands / sizeof s_commands[0])

static void
s_print_help(FILE *out)
{
    fprintf(out, "usage: sentinel COMMAND [ARGS…]\n\n"
                 "Sentinel: an infectious-disease early-warning pipeline.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        fprintf(out, "  %-10s %s\n", s_commands[i].name, s_commands[i].summary);
    }
    fprintf(out, "\nRun 'sentinel COMMAND --help' for the flags of one.\n");
}

int
cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sentinel %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'sentinel %s --help'.\n", cmd);
    return CLI_EXIT_USAGE;
}

int
cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            return 0;
        }
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            return 1;
        }
    }
    return 0;
}

int
cli_not_built(int argc, char **argv, const char *usage, const char *component)
{
    if (cli_wants_help(argc, argv)) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    fprintf(stderr,
            "sentinel %s: not available in this build: %s is not built yet\n",
            argv[0], component);
    return CLI_EXIT_USAGE;
}

static void
s_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
}

void
cli_signals_block(void)
{
    sigset_t set;
    s_stop_signals(&set);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

void
cli_signals_release(void)
{
    sigset_t set;
    s_stop_signals(&set);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
}

void
cli_signals_catch(void (*fn)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    cli_signals_release();
}

static bool
s_is_daemon(const char *name)
{
    for (size_t i = 0; i < sizeof s_daemons / sizeof s_daemons[0]; i++) {
        if (strcmp(name, s_daemons[i]) == 0) {
            return true;
        }
    }
    return false;
}

int
main(int argc, char **argv)
{
    cli_signals_block(); /* first: see the file comment */
    if (argc < 2 || !s_is_daemon(argv[1])) {
        cli_signals_release();
    }
    if (argc < 2) {
        s_print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        s_print_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        return cli_version(1, argv + 1);
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(argv[1], s_commands[i].name) == 0) {
            return s_commands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "sentinel: unknown command '%s'\n", argv[1]);
    fprintf(stderr, "Try 'sentinel --help'.\n");
    return CLI_EXIT_USAGE;
}
