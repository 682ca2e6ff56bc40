/*  common/transport_state.c - the receiver's per-sender positions
 *
 *  A receiver remembers, for each sender, the highest sequence number it
 *  has handed to the application (delivered) and the highest the
 *  application has said is durable (acked). With a state_dir, the acked
 *  positions are written to <state_dir>/positions, one "sender_id seq" line
 *  each, through a temporary file, fsync and rename, so a crash leaves
 *  either the old file or the new one, never a mix.
 */
#include "transport_int.h"

#include "sentinel/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define POSITIONS_FILE "positions"

struct sn_positions {
    char *dir;        /* state_dir, or NULL */
    sn_peer_t *peers; /* the senders known */
    size_t n;         /* their number */
    size_t cap;       /* allocated */
};

sn_positions_t *
sn_positions_new(const char *state_dir)
{
    sn_positions_t *self = sn_calloc(1, sizeof *self);
    self->dir = sn_strdup(state_dir);
    return self;
}

void
sn_positions_destroy(sn_positions_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    free((*self_p)->peers);
    free((*self_p)->dir);
    free(*self_p);
    *self_p = NULL;
}

sn_peer_t *
sn_positions_get(sn_positions_t *self, const char *id, bool create)
{
    /* A linear scan: a receiver has tens to a few hundred senders, and the
     * caller keeps the peer of the batch in hand. */
    for (size_t i = 0; i < self->n; i++) {
        if (strcmp(self->peers[i].id, id) == 0) {
            return &self->peers[i];
        }
    }
    size_t len = id ? strlen(id) : 0;
    if (!create || len == 0 || len >= sizeof self->peers[0].id) {
        return NULL;
    }
    if (self->n == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 16;
        self->peers =
            sn_reallocarray(self->peers, self->cap, sizeof *self->peers);
    }
    sn_peer_t *p = &self->peers[self->n++];
    memset(p, 0, sizeof *p);
    memcpy(p->id, id, len + 1);
    return p;
}

size_t
sn_positions_size(const sn_positions_t *self)
{
    return self->n;
}

sn_peer_t *
sn_positions_at(sn_positions_t *self, size_t i)
{
    return i < self->n ? &self->peers[i] : NULL;
}

int
sn_positions_load(sn_positions_t *self, sn_err_t *err)
{
    if (self->dir == NULL) {
        return SN_OK;
    }
    char *path = sn_strdup_printf("%s/%s", self->dir, POSITIONS_FILE);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int rc = errno == ENOENT
                     ? SN_OK
                     : sn_err_set(err, SN_EIO, "%s: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    char line[256], id[SN_SENDER_ID_MAX + 16];
    int rc = SN_OK, lineno = 0;
    while (rc == SN_OK && fgets(line, sizeof line, f) != NULL) {
        uint64_t seq;
        lineno++;
        if (sscanf(line, "%79s %" SCNu64, id, &seq) != 2) {
            rc = sn_err_set(err, SN_ECORRUPT, "%s:%d: expected 'sender_id seq'",
                            path, lineno);
        } else {
            sn_peer_t *p = sn_positions_get(self, id, true);
            if (p != NULL) {
                p->delivered = p->acked = seq;
            }
        }
    }
    fclose(f);
    free(path);
    return rc;
}

static int
s_write_file(const char *tmp, const sn_positions_t *self)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        return -1;
    }
    for (size_t i = 0; i < self->n; i++) {
        fprintf(f, "%s %" PRIu64 "\n", self->peers[i].id, self->peers[i].acked);
    }
    int rc = fflush(f) == 0 && fsync(fd) == 0 ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

int
sn_positions_save(sn_positions_t *self, sn_err_t *err)
{
    if (self->dir == NULL) {
        return SN_OK;
    }
    if (mkdir(self->dir, 0700) != 0 && errno != EEXIST) {
        return sn_err_set(err, SN_EIO, "state_dir %s: %s", self->dir,
                          strerror(errno));
    }
    char *tmp = sn_strdup_printf("%s/%s.tmp", self->dir, POSITIONS_FILE);
    char *path = sn_strdup_printf("%s/%s", self->dir, POSITIONS_FILE);
    int rc = SN_OK;
    if (s_write_file(tmp, self) != 0 || rename(tmp, path) != 0) {
        rc = sn_err_set(err, SN_EIO, "%s: cannot write: %s", path,
                        strerror(errno));
    } else {
        int dfd = open(self->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    free(tmp);
    free(path);
    return rc;
}
