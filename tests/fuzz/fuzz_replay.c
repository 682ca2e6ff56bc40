/*  tests/fuzz/fuzz_replay.c - replay saved inputs through a fuzz entry point
 *
 *  The regression suites of the normal build (tests/common/
 *  test_fuzz_common.c, tests/collectors/test_fuzz_collectors.c) call
 *  fuzz_replay() for every target, over the seed corpus and over every
 *  input that once crashed a target, so CTest runs them on every build and
 *  under the sanitizers in `make asan`. Files are replayed in name order.
 */
#include "fuzz.h"

#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
s_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run one file through `entry` from a buffer of exactly its size. */
static void
s_replay_file(const char *path, fuzz_entry_fn entry)
{
    size_t len = 0;
    char *text = ts_read_file(path, &len);
    if (text == NULL) {
        fuzz_fail("replay", path);
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        abort();
    }
    memcpy(exact, text, len);
    free(text);
    fprintf(stderr, "fuzz replay: %s\n", path);
    entry(exact, len);
    free(exact);
}

int
fuzz_replay(const char *kind, const char *target, fuzz_entry_fn entry)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fuzz/%s/%s", kind, target);
    char *dir = ts_source_path(rel);
    DIR *d = opendir(dir);
    if (d == NULL) {
        free(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        names = realloc(names, (n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, s_cmp);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        s_replay_file(path, entry);
        free(names[i]);
    }
    free(names);
    free(dir);
    return (int)n;
}
