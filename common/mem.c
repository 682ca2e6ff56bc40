/*  common/mem.c - allocation that aborts instead of returning NULL
 *
 *  See include/sentinel/mem.h for why out-of-memory is fatal.
 */
#include "sentinel/mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_oom(size_t size)
{
    fprintf(stderr, "sentinel: out of memory allocating %zu bytes\n", size);
    abort();
}

void *
sn_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL) {
        s_oom(size);
    }
    return p;
}

void *
sn_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL) {
        s_oom(n * size);
    }
    return p;
}

void *
sn_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL) {
        s_oom(size);
    }
    return p;
}

void *
sn_reallocarray(void *ptr, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        s_oom(SIZE_MAX);
    }
    return sn_realloc(ptr, n * size);
}

char *
sn_strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    return sn_strndup(s, strlen(s));
}

char *
sn_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = sn_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
sn_strdup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        len = 0;
    }
    char *p = sn_malloc((size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return p;
}
