/*  cli/collect_ckpt.c - the checkpoints of `sentinel collect`'s input files
 *
 *  The file holds one line per input, "DEV INO SIZE MTIME POS SEQ", and
 *  while a file is being read a line "0 0 DEV INO SIZE MTIME" naming it. It
 *  is small and rewritten whole (temporary file, fsync, rename) after each
 *  spool flush, so a crash leaves the old table or the new one.
 */
#include "collect_ckpt.h"

#include "sentinel/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CKPT_FILE "inputs" /* in the spool directory */

struct cli_collect_ckpt {
    char *path;             /* the file of checkpoints */
    cli_collect_pos_t *v;   /* checkpoints of the inputs */
    size_t n;               /* their number */
    cli_collect_pos_t cur;  /* the file being read (dev 0: none) */
    cli_collect_pos_t orph; /* the file a crashed run was reading */
    uint64_t orph_n;        /* its records spooled after its checkpoint */
};

cli_collect_ckpt_t *
cli_collect_ckpt_new(const char *spool_dir)
{
    cli_collect_ckpt_t *self = sn_calloc(1, sizeof *self);
    self->path = sn_strdup_printf("%s/%s", spool_dir, CKPT_FILE);
    return self;
}

void
cli_collect_ckpt_destroy(cli_collect_ckpt_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    cli_collect_ckpt_t *self = *self_p;
    free(self->path);
    free(self->v);
    free(self);
    *self_p = NULL;
}

static cli_collect_pos_t *
s_find(cli_collect_ckpt_t *self, const cli_collect_pos_t *id)
{
    for (size_t i = 0; i < self->n; i++) {
        cli_collect_pos_t *k = &self->v[i];
        if (k->dev == id->dev && k->ino == id->ino && k->size == id->size &&
            k->mtime == id->mtime) {
            return k;
        }
    }
    return NULL;
}

void
cli_collect_ckpt_load(cli_collect_ckpt_t *self, uint64_t last_seq)
{
    FILE *f = fopen(self->path, "r");
    if (f == NULL) {
        return;
    }
    cli_collect_pos_t k;
    while (fscanf(f,
                  "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                  " %" SCNu64,
                  &k.dev, &k.ino, &k.size, &k.mtime, &k.pos, &k.seq) == 6) {
        if (k.dev == 0 && k.ino == 0) { /* "0 0 DEV INO SIZE MTIME" */
            self->orph =
                (cli_collect_pos_t){k.size, k.mtime, k.pos, k.seq, 0, 0};
            continue;
        }
        self->v = sn_reallocarray(self->v, self->n + 1, sizeof k);
        self->v[self->n++] = k;
    }
    fclose(f);
    /* The records in the spool after the last checkpoint of the file that
     * was being read are that file's. */
    const cli_collect_pos_t *p =
        self->orph.dev != 0 ? s_find(self, &self->orph) : NULL;
    if (p != NULL && last_seq > p->seq) {
        self->orph_n = last_seq - p->seq;
    }
}

static void
s_write(const cli_collect_ckpt_t *self, FILE *f)
{
    const cli_collect_pos_t *c = &self->cur;
    if (c->dev != 0) {
        fprintf(f, "0 0 %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                c->dev, c->ino, c->size, c->mtime);
    }
    for (size_t i = 0; i < self->n; i++) {
        const cli_collect_pos_t *k = &self->v[i];
        fprintf(f,
                "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                " %" PRIu64 "\n",
                k->dev, k->ino, k->size, k->mtime, k->pos, k->seq);
    }
}

int
cli_collect_ckpt_save(cli_collect_ckpt_t *self, sn_err_t *err)
{
    char *tmp = sn_strdup_printf("%s.tmp", self->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int rc = SN_OK;
    if (f == NULL) {
        rc = sn_err_set(err, SN_EIO, "%s: %s", tmp, strerror(errno));
    } else {
        s_write(self, f);
        if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
            rename(tmp, self->path) != 0) {
            rc = sn_err_set(err, SN_EIO, "%s: %s", self->path, strerror(errno));
        }
    }
    free(tmp);
    return rc;
}

static cli_collect_pos_t
s_id(const struct stat *st)
{
    return (cli_collect_pos_t){(uint64_t)st->st_dev,
                               (uint64_t)st->st_ino,
                               (uint64_t)st->st_size,
                               (uint64_t)st->st_mtim.tv_sec * 1000000000u +
                                   (uint64_t)st->st_mtim.tv_nsec,
                               0,
                               0};
}

cli_collect_pos_t *
cli_collect_ckpt_for(cli_collect_ckpt_t *self, const struct stat *st)
{
    cli_collect_pos_t id = s_id(st);
    cli_collect_pos_t *k = s_find(self, &id);
    if (k == NULL) {
        self->v = sn_reallocarray(self->v, self->n + 1, sizeof *self->v);
        k = &self->v[self->n++];
        *k = id;
    }
    return k;
}

void
cli_collect_ckpt_forget(cli_collect_ckpt_t *self, const struct stat *st)
{
    cli_collect_pos_t id = s_id(st);
    cli_collect_pos_t *k = s_find(self, &id);
    if (k != NULL) {
        *k = self->v[--self->n];
        cli_collect_ckpt_save(self, NULL);
    }
}

uint64_t
cli_collect_ckpt_orphans(cli_collect_ckpt_t *self, const cli_collect_pos_t *k)
{
    uint64_t n = 0;
    if (self->orph_n > 0 && s_find(self, &self->orph) == k) {
        n = self->orph_n;
        self->orph_n = 0;
    }
    return n;
}

void
cli_collect_ckpt_reading(cli_collect_ckpt_t *self, const cli_collect_pos_t *k)
{
    if (k != NULL) {
        self->cur = *k;
    } else {
        self->cur.dev = 0;
    }
}
