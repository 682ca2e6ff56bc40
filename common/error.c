/*  common/error.c - error codes, their messages and the error record
 *
 *  The messages come from SN_ERRNO_MAP in include/sentinel/error.h, so a new
 *  code needs one line there and nothing here.
 */
#include "sentinel/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
sn_strerror(int code)
{
    switch (code) {
    case SN_OK:
        return "success";
#define SN_ERR_CASE(name, value, msg)                                          \
    case SN_##name:                                                            \
        return msg;
        SN_ERRNO_MAP(SN_ERR_CASE)
#undef SN_ERR_CASE
    default:
        return "unknown error";
    }
}

const char *
sn_err_name(int code)
{
    switch (code) {
    case SN_OK:
        return "SN_OK";
#define SN_ERR_NAME(name, value, msg)                                          \
    case SN_##name:                                                            \
        return "SN_" #name;
        SN_ERRNO_MAP(SN_ERR_NAME)
#undef SN_ERR_NAME
    default:
        return "SN_E?";
    }
}

int
sn_err_set(sn_err_t *err, int code, const char *fmt, ...)
{
    if (err == NULL) {
        return code;
    }
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int
sn_err_prefix(sn_err_t *err, const char *fmt, ...)
{
    if (err == NULL) {
        return SN_OK;
    }
    char prefix[SN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Twice the room, so the compiler can see the join never truncates;
     * the message is then cut to the record's size. */
    char joined[2 * SN_ERR_MSG_MAX + 3];
    snprintf(joined, sizeof joined, "%s: %s", prefix, sn_err_text(err));
    size_t len = strnlen(joined, sizeof err->msg - 1);
    memcpy(err->msg, joined, len);
    err->msg[len] = '\0';
    return err->code;
}

void
sn_err_clear(sn_err_t *err)
{
    if (err != NULL) {
        err->code = SN_OK;
        err->msg[0] = '\0';
    }
}

const char *
sn_err_text(const sn_err_t *err)
{
    if (err == NULL) {
        return "";
    }
    return err->msg[0] != '\0' ? err->msg : sn_strerror(err->code);
}
