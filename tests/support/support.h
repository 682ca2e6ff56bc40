/*  tests/support/support.h - helpers shared by the Check suites
 *
 *  Temporary directories, whole-file reads and writes, running the sentinel
 *  executable as a child process and capturing what it prints, and free
 *  loopback ports. Paths of the build come from the environment CTest sets:
 *  SENTINEL_BIN, SENTINEL_REFERENCE_DIR and SENTINEL_SOURCE_DIR.
 *
 *  Threading: test process main thread only.
 */
#ifndef SENTINEL_TESTS_SUPPORT_H
#define SENTINEL_TESTS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

/* The result of running a child process. */
typedef struct ts_run {
    int status;   /* exit status, or 128 + signal when killed */
    char *out;    /* everything written to stdout; caller frees */
    char *err;    /* everything written to stderr; caller frees */
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

/** @return a TCP port on 127.0.0.1 that was free a moment ago. */
int ts_free_port(void);

#endif
