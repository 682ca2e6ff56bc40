/*  cli/cli.h - the subcommands of the `sentinel` executable
 *
 *  main.c dispatches `sentinel NAME …` to the function of that name; each
 *  lives in cli/cmd_NAME.c, parses its own flags and calls the components
 *  through their headers in include/sentinel/. Exit codes are shared:
 *  0 success, 1 a runtime failure, 2 a usage or configuration error,
 *  3 some input records were rejected (and dead-lettered).
 *
 *  Threading: main thread only.
 */
#ifndef SENTINEL_CLI_CLI_H
#define SENTINEL_CLI_CLI_H

#include <stdio.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_REJECTED 3

/* One subcommand: its name, one line for `sentinel --help`, its entry. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command_t;

int cli_collect(int argc, char **argv);
int cli_analyze(int argc, char **argv);
int cli_detect(int argc, char **argv);
int cli_query(int argc, char **argv);
int cli_alerts(int argc, char **argv);
int cli_simulate(int argc, char **argv);
int cli_demo(int argc, char **argv);
int cli_keygen(int argc, char **argv);
int cli_version(int argc, char **argv);

/** Print "sentinel CMD: REASON" and the --help hint to stderr.
 *  @return CLI_EXIT_USAGE, so callers write `return cli_usage(…);`. */
int cli_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Handle a command whose component is not built yet: print its usage on
 *  --help (exit 0), otherwise say plainly that it is not available and
 *  @return CLI_EXIT_USAGE. */
int cli_not_built(int argc, char **argv, const char *usage,
                  const char *component);

/** @return true when argv holds -h or --help before any "--". */
int cli_wants_help(int argc, char **argv);

/** Block SIGTERM and SIGINT in the calling thread. main() does it before
 *  anything else, so a daemon stopped while it starts keeps the signal
 *  pending; the commands that are not daemons get them back at once. */
void cli_signals_block(void);

/** Unblock SIGTERM and SIGINT in the calling thread: a daemon calls it once
 *  its handler is installed (a pending stop is delivered then). */
void cli_signals_release(void);

/** Install `fn` for SIGTERM and SIGINT (with SA_RESTART, so file reads are
 *  not cut short), ignore SIGPIPE, then cli_signals_release(): a stop that
 *  came while the command started is delivered to `fn` at once. */
void cli_signals_catch(void (*fn)(int));

#endif
