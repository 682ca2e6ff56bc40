/*  cli/cmd_keygen.c - `sentinel keygen`: write a CURVE key pair
 *
 *  Each collector and each receiver (analyzer, alerting) has its own key
 *  pair. `sentinel keygen -o NAME` writes NAME.key (the secret key, mode
 *  0600: it never leaves the machine) and NAME.pub (the public key, given
 *  to the other side: a receiver lists its senders' public keys in its
 *  authorized_keys file, a sender names the receiver's in server_key). Both
 *  hold the key as one line of Z85 text after a comment line. Existing
 *  files are never overwritten.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

static const char s_usage[] =
    "usage: sentinel keygen -o NAME\n"
    "\n"
    "Write a CURVE key pair for the ZeroMQ transport:\n"
    "  NAME.key  the secret key (mode 0600); keep it on this machine\n"
    "  NAME.pub  the public key; give it to the other side\n"
    "\n"
    "A receiver lists its senders' NAME.pub lines in its authorized_keys\n"
    "file; a sender names the receiver's NAME.pub as server_key.\n"
    "Existing files are not overwritten.\n";

/* Write `text` to a new file `path` with `mode`. @return 0 or errno. */
static int
s_write_new(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        return errno;
    }
    size_t n = strlen(text);
    int e = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0 ? 0 : errno;
    if (close(fd) != 0 && e == 0) {
        e = errno;
    }
    return e;
}

static int
s_keygen(const char *name)
{
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec) != 0) {
        fprintf(stderr, "sentinel keygen: %s\n", zmq_strerror(zmq_errno()));
        return CLI_EXIT_FAILURE;
    }
    char path[4096], text[256];
    snprintf(path, sizeof path, "%s.key", name);
    snprintf(text, sizeof text,
             "# Sentinel CURVE secret key of %s: keep it private\n%s\n", name,
             sec);
    int e = s_write_new(path, text, 0600);
    if (e == 0) {
        snprintf(path, sizeof path, "%s.pub", name);
        snprintf(text, sizeof text, "# Sentinel CURVE public key of %s\n%s\n",
                 name, pub);
        e = s_write_new(path, text, 0644);
    }
    explicit_bzero(sec, sizeof sec);
    explicit_bzero(text, sizeof text);
    if (e != 0) {
        fprintf(stderr, "sentinel keygen: %s: %s\n", path, strerror(e));
        return CLI_EXIT_FAILURE;
    }
    printf("%s.key (secret, 0600)\n%s.pub (public): %s\n", name, name, pub);
    return CLI_EXIT_OK;
}

int
cli_keygen(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        fputs(s_usage, stdout);
        return CLI_EXIT_OK;
    }
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else {
            return cli_usage("keygen", "unexpected argument '%s'", argv[i]);
        }
    }
    if (name == NULL || name[0] == '\0') {
        return cli_usage("keygen", "missing -o NAME");
    }
    return s_keygen(name);
}
