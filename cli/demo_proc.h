/*  cli/demo_proc.h - the demo's child processes: start, watch, stop
 *
 *  `sentinel demo` runs the real daemons as child processes of the same
 *  executable (/proc/self/exe), each with its stdout and stderr in a log
 *  file of the demo folder. A child gets SIGTERM when the demo dies
 *  (PR_SET_PDEATHSIG), so not even a kill -9 of the demo leaves a daemon
 *  running. cli_demo_procs_stop() stops them in the reverse order of their
 *  start: SIGTERM, a bounded wait, then SIGKILL.
 *
 *  Threading: main thread only. The signal flag is set from a handler.
 */
#ifndef SENTINEL_CLI_DEMO_PROC_H
#define SENTINEL_CLI_DEMO_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#define CLI_DEMO_MAX_PROCS 32

typedef struct cli_demo_procs cli_demo_procs_t; /* opaque */

/** Create an empty process table. Never returns NULL; caller owns it. */
cli_demo_procs_t *cli_demo_procs_new(void);

/** Stop every child still running (see cli_demo_procs_stop()) and free the
 *  table; sets *self_p to NULL. Safe on NULL. */
void cli_demo_procs_destroy(cli_demo_procs_t **self_p);

/** Start `sentinel ARGS…` (argv NULL-terminated, argv[0] the subcommand)
 *  as a child named `name`, its output appended to `log_path`.
 *  @return the child's pid, or -1 (errno set) when fork or the log fails. */
pid_t cli_demo_procs_start(cli_demo_procs_t *self, const char *name,
                           const char *log_path, char *const argv[]);

/** Run `sentinel ARGS…` to its end with its stdout on ours (stderr to
 *  `log_path` when not NULL) and wait at most `timeout_s` seconds.
 *  @return its exit status, 128 + signal, or -1 when it could not start. */
int cli_demo_run(const char *log_path, char *const argv[], int timeout_s);

/** @return the name of a child that has exited since it started, or NULL
 *  while all are running. Reaps it. */
const char *cli_demo_procs_dead(cli_demo_procs_t *self, int *status);

/** Stop the children, newest first: SIGTERM, wait up to `grace_ms` for each,
 *  then SIGKILL and reap. @return the number that needed SIGKILL. */
int cli_demo_procs_stop(cli_demo_procs_t *self, int grace_ms);

/** Install SIGINT/SIGTERM handlers that set the stop flag; ignore SIGPIPE. */
void cli_demo_signals(void);

/** @return true once SIGINT or SIGTERM has arrived. */
bool cli_demo_stopping(void);

/** Sleep `ms` milliseconds unless a stop signal arrives first. */
void cli_demo_nap(int ms);

#endif
