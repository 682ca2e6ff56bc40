/*  cli/demo_proc.c - the demo's child processes: start, watch, stop
 *
 *  Children are the same executable, found through /proc/self/exe, so the
 *  demo runs exactly the daemons an operator would run. Each child runs in
 *  its own process group and dies with its parent (PR_SET_PDEATHSIG).
 */
#include "demo_proc.h"

#include "sentinel/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_EXE "/proc/self/exe"

/* One child. */
typedef struct s_proc {
    char name[64]; /* what the demo calls it */
    pid_t pid;     /* 0 once reaped */
} s_proc_t;

struct cli_demo_procs {
    s_proc_t procs[CLI_DEMO_MAX_PROCS]; /* in start order */
    int n;                              /* used entries */
};

static volatile sig_atomic_t s_stop; /* SIGINT or SIGTERM seen */

static void
s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

void
cli_demo_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool
cli_demo_stopping(void)
{
    return s_stop != 0;
}

void
cli_demo_nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    if (!s_stop) {
        nanosleep(&ts, NULL); /* a signal cuts it short */
    }
}

cli_demo_procs_t *
cli_demo_procs_new(void)
{
    return sn_calloc(1, sizeof(cli_demo_procs_t));
}

void
cli_demo_procs_destroy(cli_demo_procs_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    cli_demo_procs_stop(*self_p, 5000);
    free(*self_p);
    *self_p = NULL;
}

/* In the child: output to the log, die with the parent, exec ourselves.
 * Only async-signal-safe calls happen here: the demo has threads (the CAP
 * receiver, ZeroMQ's I/O), so everything exec needs is prepared before
 * fork. */
static void
s_exec_child(const char *exe, int out_fd, int err_fd, char *const full[])
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() == 1) {
        _exit(127); /* the demo is already gone */
    }
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_IGN); /* Ctrl-C goes to the demo, which stops us */
    setpgid(0, 0);
    if (out_fd >= 0) {
        dup2(out_fd, STDOUT_FILENO);
    }
    if (err_fd >= 0) {
        dup2(err_fd, STDERR_FILENO);
    }
    execv(exe, full);
    _exit(127);
}

/* @return "sentinel" followed by argv, NULL-terminated; caller frees the
 * array (not the strings). */
static char **
s_full_argv(char *const argv[])
{
    int argc = 0;
    while (argv[argc] != NULL) {
        argc++;
    }
    char **full = sn_calloc((size_t)argc + 2, sizeof *full);
    full[0] = "sentinel";
    memcpy(full + 1, argv, (size_t)argc * sizeof *full);
    return full;
}

static pid_t
s_spawn(const char *log_path, bool stdout_too, char *const argv[])
{
    char exe[4096];
    ssize_t n = readlink(S_EXE, exe, sizeof exe - 1);
    if (n <= 0) {
        return -1;
    }
    exe[n] = '\0';
    int fd = -1;
    if (log_path != NULL) {
        fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
            return -1;
        }
    }
    char **full = s_full_argv(argv);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        s_exec_child(exe, stdout_too ? fd : -1, fd, full);
    }
    free(full);
    if (fd >= 0) {
        close(fd);
    }
    return pid;
}

pid_t
cli_demo_procs_start(cli_demo_procs_t *self, const char *name,
                     const char *log_path, char *const argv[])
{
    if (self->n == CLI_DEMO_MAX_PROCS) {
        errno = EMFILE;
        return -1;
    }
    pid_t pid = s_spawn(log_path, true, argv);
    if (pid > 0) {
        s_proc_t *p = &self->procs[self->n++];
        snprintf(p->name, sizeof p->name, "%s", name);
        p->pid = pid;
    }
    return pid;
}

static int
s_status(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Wait for `pid` at most `ms`; @return its status or -1 while running. */
static int
s_wait_for(pid_t pid, int ms)
{
    for (int waited = 0;; waited += 10) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) {
            return s_status(st);
        }
        if (r < 0) {
            return errno == ECHILD ? 0 : -1;
        }
        if (waited >= ms) {
            return -1;
        }
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
}

int
cli_demo_run(const char *log_path, char *const argv[], int timeout_s)
{
    pid_t pid = s_spawn(log_path, false, argv);
    if (pid < 0) {
        return -1;
    }
    int st = -1;
    for (int ms = 0; st < 0 && ms < timeout_s * 1000 && !s_stop; ms += 100) {
        st = s_wait_for(pid, 100);
    }
    if (st < 0) {
        kill(pid, SIGKILL);
        st = s_wait_for(pid, 5000);
        return st < 0 ? 128 + SIGKILL : st;
    }
    return st;
}

const char *
cli_demo_procs_dead(cli_demo_procs_t *self, int *status)
{
    for (int i = 0; i < self->n; i++) {
        s_proc_t *p = &self->procs[i];
        int st;
        if (p->pid > 0 && waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            *status = s_status(st);
            return p->name;
        }
    }
    return NULL;
}

int
cli_demo_procs_stop(cli_demo_procs_t *self, int grace_ms)
{
    int killed = 0;
    for (int i = self->n - 1; i >= 0; i--) {
        s_proc_t *p = &self->procs[i];
        if (p->pid <= 0) {
            continue;
        }
        kill(p->pid, SIGTERM);
        if (s_wait_for(p->pid, grace_ms) < 0) {
            fprintf(stderr, "demo: %s did not stop in %d ms: SIGKILL\n",
                    p->name, grace_ms);
            kill(-p->pid, SIGKILL);
            kill(p->pid, SIGKILL);
            s_wait_for(p->pid, 5000);
            killed++;
        }
        p->pid = 0;
    }
    return killed;
}
