/*  cli/main.c - the `sentinel` executable: dispatch to a subcommand
 *
 *  `sentinel NAME [ARGS…]` runs the subcommand NAME (see cli.h for the exit
 *  codes). `sentinel --help` lists them; an unknown one exits 2.
 */
#include "cli.h"

#include <stdarg.h>
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

int
main(int argc, char **argv)
{
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
