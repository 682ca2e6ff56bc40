/*  include/sentinel/mem.h - allocation that never returns NULL
 *
 *  Out of memory aborts the process with a message, as czmq, Redis, libuv and
 *  SQLite do in practice; so a pure constructor never returns NULL and callers
 *  do not test every allocation.
 *
 *  Threading: thread-safe.
 */
#ifndef SENTINEL_INCLUDE_MEM_H
#define SENTINEL_INCLUDE_MEM_H

#include <stddef.h>

/** malloc() that aborts on failure. Caller owns the result (free()). */
void *sn_malloc(size_t size);

/** calloc() that aborts on failure or overflow of n * size. */
void *sn_calloc(size_t n, size_t size);

/** realloc() that aborts on failure. */
void *sn_realloc(void *ptr, size_t size);

/** realloc() of an array of `n` items of `size`; aborts on overflow. */
void *sn_reallocarray(void *ptr, size_t n, size_t size);

/** strdup() that aborts on failure; NULL gives NULL. Caller owns the result. */
char *sn_strdup(const char *s);

/** strndup() that aborts on failure. Caller owns the result. */
char *sn_strndup(const char *s, size_t n);

/** printf into a new string. Caller owns the result. */
char *sn_strdup_printf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
