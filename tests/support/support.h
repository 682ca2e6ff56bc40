/*  tests/support/support.h - helpers shared by the Check suites
 *
 *  Temporary directories, whole-file reads and writes, running the sentinel
 *  executable as a child process and capturing what it prints, starting a
 *  daemon in the background and waiting (bounded) for it to end, sleeping,
 *  and free loopback ports. Paths of the build come from the environment
 *  CTest sets: SENTINEL_BIN, SENTINEL_REFERENCE_DIR and SENTINEL_SOURCE_DIR.
 *
 *  Threading: test process main thread only.
 */
#ifndef SENTINEL_TESTS_SUPPORT_H
#define SENTINEL_TESTS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The result of running a child process. */
typedef struct ts_run {
    int status; /* exit status, or 128 + signal when killed */
    char *out;  /* everything written to stdout; caller frees */
    char *err;  /* everything written to stderr; caller frees */
} ts_run_t;

/** Make a fresh directory under $TMPDIR (or /tmp). Caller owns the path
 *  (free()); ts_rmtree() removes it. Aborts the test on failure. */
char *ts_tmpdir(void);

/** Remove `path` and everything under it. */
void ts_rmtree(const char *path);

/** Write `text` to `dir`/`name`. @return the full path, caller frees. */
char *ts_write_file(const char *dir, const char *name, const char *text);

/** @return the whole content of `path` (NUL-terminated), or NULL. Caller
 *  frees. *len, when not NULL, gets the byte count. */
char *ts_read_file(const char *path, size_t *len);

/** @return the sentinel executable ($SENTINEL_BIN). */
const char *ts_sentinel_bin(void);

/** @return $SENTINEL_REFERENCE_DIR joined with `rel`; caller frees. */
char *ts_reference_path(const char *rel);

/** @return $SENTINEL_SOURCE_DIR joined with `rel`; caller frees. */
char *ts_source_path(const char *rel);

/** Run argv[0] (a NULL-terminated vector) with `input` (may be NULL) on its
 *  stdin, wait for it at most `timeout_s` seconds (then kill it) and
 *  capture stdout and stderr. Free with ts_run_free(). */
ts_run_t ts_run(char *const argv[], const char *input, int timeout_s);

/** Run the sentinel executable with the NULL-terminated arguments after it. */
ts_run_t ts_sentinel(const char *input, int timeout_s, ...);

/** Free what ts_run() captured. */
void ts_run_free(ts_run_t *run);

/** Start argv[0] (a NULL-terminated vector, run as given, not searched in
 *  $PATH) in the background with stdout and stderr appended to `log` and
 *  stdin inherited. Returns once the child has exec'd (a close-on-exec pipe
 *  reaches EOF then), so a signal sent right away reaches the program, not
 *  a copy of the test process. @return the child's pid; the caller reaps it
 *  (ts_wait_exit()). */
pid_t ts_spawn(char *const argv[], const char *log);

/** As ts_spawn(), with stdin from `in_fd` (the caller's; it stays open in
 *  the caller), or inherited when in_fd is -1. */
pid_t ts_spawn_in(char *const argv[], const char *log, int in_fd);

/** Wait for child `pid` to end, polling every 10 ms for at most `secs`
 *  seconds; when it has not ended by then, SIGKILL and reap it.
 *  @return its exit status, 128 + signal when a signal ended it, or -1
 *  when it did not end within `secs` (it is killed and reaped then). */
int ts_wait_exit(pid_t pid, int secs);

/** Sleep `ms` milliseconds, resuming after a signal interrupts it. */
void ts_sleep_ms(long ms);

/** @return a TCP port on 127.0.0.1 that was free a moment ago and that
 *  this process has not been given before. */
int ts_free_port(void);

#endif
