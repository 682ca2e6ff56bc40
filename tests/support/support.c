/*  tests/support/support.c - helpers shared by the Check suites
 *
 *  See support.h. Child processes are run with fork/exec and read through
 *  poll() on two pipes, so a chatty child cannot deadlock the test, and each
 *  run is bounded by a timeout after which the child is killed. A daemon
 *  started with ts_spawn() runs until the test stops it; ts_wait_exit()
 *  bounds the wait for its end the same way.
 */
#include "support.h"

#include "sentinel/mem.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *
ts_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = sn_strdup_printf("%s/sentinel-test-XXXXXX",
                                  base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpl) != NULL, "mkdtemp: %s", strerror(errno));
    return tmpl;
}

static int
s_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
ts_rmtree(const char *path)
{
    if (path != NULL) {
        nftw(path, s_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    }
}

char *
ts_write_file(const char *dir, const char *name, const char *text)
{
    char *path = sn_strdup_printf("%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    return path;
}

char *
ts_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = sn_malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            cap *= 2;
            buf = sn_realloc(buf, cap);
        }
    }
    fclose(f);
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return buf;
}

static const char *
s_env(const char *name)
{
    const char *v = getenv(name);
    ck_assert_msg(v != NULL && *v, "%s is not set (run the tests with ctest)",
                  name);
    return v;
}

const char *
ts_sentinel_bin(void)
{
    return s_env("SENTINEL_BIN");
}

char *
ts_reference_path(const char *rel)
{
    return sn_strdup_printf("%s/%s", s_env("SENTINEL_REFERENCE_DIR"), rel);
}

char *
ts_source_path(const char *rel)
{
    return sn_strdup_printf("%s/%s", s_env("SENTINEL_SOURCE_DIR"), rel);
}

/* A growable capture buffer for one of the child's output pipes. */
typedef struct {
    char *data;
    size_t len, cap;
} s_buf_t;

static void
s_buf_append(s_buf_t *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = sn_realloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void
s_child(char *const argv[], int in[2], int out[2], int err[2])
{
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    close(in[0]);
    close(in[1]);
    close(out[0]);
    close(out[1]);
    close(err[0]);
    close(err[1]);
    execvp(argv[0], argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Feed `input` and drain both pipes until the child closes them or the
 * deadline passes. @return false on timeout. */
static bool
s_pump(int in_fd, const char *input, int out_fd, int err_fd, s_buf_t *out,
       s_buf_t *err, int timeout_s)
{
    size_t in_len = input ? strlen(input) : 0, in_off = 0;
    if (in_len == 0) {
        close(in_fd);
        in_fd = -1;
    }
    time_t deadline = time(NULL) + timeout_s;
    while (out_fd >= 0 || err_fd >= 0) {
        struct pollfd p[3] = {
            {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        int rc = poll(p, 3, 200);
        if (time(NULL) > deadline) {
            if (in_fd >= 0) {
                close(in_fd);
            }
            return false;
        }
        if (rc <= 0) {
            continue;
        }
        int *fds[2] = {&out_fd, &err_fd};
        s_buf_t *bufs[2] = {out, err};
        for (int i = 0; i < 2; i++) {
            if (p[i].revents) {
                char chunk[8192];
                ssize_t n = read(*fds[i], chunk, sizeof chunk);
                if (n <= 0) {
                    close(*fds[i]);
                    *fds[i] = -1;
                } else {
                    s_buf_append(bufs[i], chunk, (size_t)n);
                }
            }
        }
        if (in_fd >= 0 && p[2].revents) {
            ssize_t n = write(in_fd, input + in_off, in_len - in_off);
            in_off += n > 0 ? (size_t)n : 0;
            if (n <= 0 || in_off == in_len) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    if (in_fd >= 0) {
        close(in_fd);
    }
    return true;
}

ts_run_t
ts_run(char *const argv[], const char *input, int timeout_s)
{
    int in[2], out[2], err[2];
    ck_assert(pipe(in) == 0 && pipe(out) == 0 && pipe(err) == 0);
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    ck_assert(pid >= 0);
    if (pid == 0) {
        s_child(argv, in, out, err);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    s_buf_t o = {0}, e = {0};
    s_buf_append(&o, "", 0);
    s_buf_append(&e, "", 0);
    bool done = s_pump(in[1], input, out[0], err[0], &o, &e, timeout_s);
    if (!done) {
        kill(pid, SIGKILL);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ts_run_t run = {0, o.data, e.data};
    run.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    ck_assert_msg(done, "%s timed out after %d s", argv[0], timeout_s);
    return run;
}

ts_run_t
ts_sentinel(const char *input, int timeout_s, ...)
{
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)ts_sentinel_bin();
    va_list ap;
    va_start(ap, timeout_s);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && argc < 63) {
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    return ts_run(argv, input, timeout_s);
}

void
ts_run_free(ts_run_t *run)
{
    free(run->out);
    free(run->err);
    run->out = run->err = NULL;
}

pid_t
ts_spawn(char *const argv[], const char *log)
{
    return ts_spawn_in(argv, log, -1);
}

pid_t
ts_spawn_in(char *const argv[], const char *log, int in_fd)
{
    int gate[2];
    ck_assert_int_eq(pipe(gate), 0);
    fcntl(gate[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(gate[0]);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (in_fd >= 0) {
            dup2(in_fd, 0);
        }
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    close(gate[1]);
    char c;
    while (read(gate[0], &c, 1) < 0 && errno == EINTR) {
    }
    close(gate[0]);
    return pid;
}

int
ts_wait_exit(pid_t pid, int secs)
{
    int status;
    for (int i = 0; i < secs * 100; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return WIFEXITED(status) ? WEXITSTATUS(status)
                                     : 128 + WTERMSIG(status);
        }
        ts_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

void
ts_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The ports handed out so far by this process: the kernel may give a
 * closed port to the next bind(0) again, and two daemons of one test must
 * not be told the same port. */
static int s_ports_given[256];
static size_t s_n_ports_given;

static bool
s_port_given(int port)
{
    for (size_t i = 0; i < s_n_ports_given; i++) {
        if (s_ports_given[i] == port) {
            return true;
        }
    }
    return false;
}

int
ts_free_port(void)
{
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert(fd >= 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
        socklen_t len = sizeof a;
        ck_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
        close(fd);
        int port = ntohs(a.sin_port);
        if (!s_port_given(port)) {
            if (s_n_ports_given <
                sizeof s_ports_given / sizeof *s_ports_given) {
                s_ports_given[s_n_ports_given++] = port;
            }
            return port;
        }
    }
    ck_abort_msg("ts_free_port: the kernel gave only ports handed out before");
    return -1;
}
