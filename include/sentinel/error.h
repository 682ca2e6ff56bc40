/*  include/sentinel/error.h - error codes and the error record
 *
 *  Every Sentinel function that can fail returns int: SN_OK (0) or one of the
 *  negative SN_E* codes below. Where the reason matters to a user (parse,
 *  validate, config, open), the function also takes a trailing `sn_err_t *err`
 *  (which may be NULL) and fills it with the code and a message such as
 *  "collector.yaml:12: key 'fsync': expected one of always, batch, never".
 *  The codes and their messages come from one X-macro list, SN_ERRNO_MAP, the
 *  way libuv's UV_ERRNO_MAP does it.
 *
 *  Threading: sn_strerror() is thread-safe. An sn_err_t belongs to its caller.
 */
#ifndef SENTINEL_INCLUDE_ERROR_H
#define SENTINEL_INCLUDE_ERROR_H

#include <stddef.h>

#define SN_ERRNO_MAP(X)                                                        \
    X(EINVAL, -1, "invalid argument")                                          \
    X(EPARSE, -2, "malformed input")                                           \
    X(EVALIDATE, -3, "invalid record")                                         \
    X(ECONFIG, -4, "invalid configuration")                                    \
    X(EIO, -5, "input/output error")                                           \
    X(ENOTFOUND, -6, "not found")                                              \
    X(EEXIST, -7, "already exists")                                            \
    X(EFULL, -8, "full")                                                       \
    X(ETOOOLD, -9, "too old")                                                  \
    X(EFUTURE, -10, "in the future")                                           \
    X(EOVERFLOW, -11, "value too large")                                       \
    X(ERANGE, -12, "out of range")                                             \
    X(ETIMEDOUT, -13, "timed out")                                             \
    X(EAGAIN, -14, "try again")                                                \
    X(EPROTO, -15, "protocol error")                                           \
    X(EAUTH, -16, "not authorised")                                            \
    X(ECORRUPT, -17, "corrupt data")                                           \
    X(EDUP, -18, "duplicate")                                                  \
    X(EUNSUPPORTED, -19, "not supported")                                      \
    X(ESTATE, -20, "wrong state")                                              \
    X(EDB, -21, "database error")                                              \
    X(EARCHIVE, -22, "archive error")                                          \
    X(ETRANSPORT, -23, "transport error")                                      \
    X(ENODATA, -24, "not enough data")                                         \
    X(ESYS, -25, "system error")

enum {
    SN_OK = 0,
#define SN_ERR_ENUM(name, code, msg) SN_##name = (code),
    SN_ERRNO_MAP(SN_ERR_ENUM)
#undef SN_ERR_ENUM
};

#define SN_ERR_MSG_MAX 512

/* The error record: a public struct, because callers keep it on the stack. */
typedef struct sn_err {
    int code;                  /* SN_OK or a negative SN_E* code */
    char msg[SN_ERR_MSG_MAX];  /* a full sentence naming the record and reason */
} sn_err_t;

/** @return the fixed message of `code` ("invalid argument"); a generic text
 *  for an unknown code. The string is static. Thread-safe. */
const char *sn_strerror(int code);

/** @return the symbolic name of `code` ("SN_EPARSE"), static. Thread-safe. */
const char *sn_err_name(int code);

/** Fill `err` (when not NULL) with `code` and the printf-style message.
 *  @return `code`, so a failure reads `return sn_err_set(err, SN_EPARSE, …);` */
int sn_err_set(sn_err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Prefix the message in `err` (when not NULL) with the printf-style context
 *  and ": ", e.g. the file and line. @return err's code (SN_OK when err is
 *  NULL). */
int sn_err_prefix(sn_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Reset `err` to SN_OK with an empty message. Safe on NULL. */
void sn_err_clear(sn_err_t *err);

/** @return the message of `err`, or sn_strerror(code) when it is empty. */
const char *sn_err_text(const sn_err_t *err);

#endif
