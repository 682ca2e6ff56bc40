/*  tests/fuzz/fuzz_util.c - what every fuzz entry point shares
 *
 *  The failure report and the exact-size copy of the input (fuzz.h). Linked
 *  into every libFuzzer target and into the regression suites.
 */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fuzz_fail(const char *target, const char *what)
{
    fprintf(stderr, "fuzz %s: invariant broken: %s\n", target, what);
    abort();
}

char *
fuzz_dup(const uint8_t *data, size_t size)
{
    char *p = malloc(size + 1);
    if (p == NULL) {
        abort();
    }
    if (size > 0) {
        memcpy(p, data, size);
    }
    p[size] = '\0';
    return p;
}
