/*  collectors/hl7_charset.c - HL7 messages in the character set MSH-18 names
 *
 *  MSH-18 is read from the first segment by counting field separators (the
 *  byte after "MSH"); the fields before it are ASCII in practice, and a
 *  message whose MSH-18 cannot be read that way is taken as ASCII/UTF-8.
 *  One iconv descriptor is kept per converter and reused while messages
 *  keep naming the same set.
 */
#include "hl7_charset.h"

#include "sentinel/mem.h"

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define S_NAME_MAX 32 /* an MSH-18 value */

struct col_hl7_charset {
    iconv_t cd;            /* to UTF-8 from `from`, or (iconv_t)-1 */
    char from[S_NAME_MAX]; /* the iconv name cd converts from */
    uint8_t *buf;          /* the converted message */
    size_t cap;            /* its size */
};

col_hl7_charset_t *
col_hl7_charset_new(void)
{
    col_hl7_charset_t *self = sn_calloc(1, sizeof *self);
    self->cd = (iconv_t)-1;
    return self;
}

void
col_hl7_charset_destroy(col_hl7_charset_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    col_hl7_charset_t *self = *self_p;
    if (self->cd != (iconv_t)-1) {
        iconv_close(self->cd);
    }
    free(self->buf);
    free(self);
    *self_p = NULL;
}

/* MSH-18 of `msg` into name (at most S_NAME_MAX - 1 bytes, first component
 * only); "" when the message has none. */
static void
s_msh18(const uint8_t *msg, size_t len, char name[S_NAME_MAX])
{
    name[0] = '\0';
    if (len < 4 || memcmp(msg, "MSH", 3) != 0) {
        return;
    }
    uint8_t sep = msg[3];
    char comp = len > 4 ? (char)msg[4] : '^';
    int field = 2; /* msg[3] is MSH-1 itself, MSH-2 starts at msg[4] */
    size_t i = 4;
    for (; i < len && msg[i] != '\r' && msg[i] != '\n' && field < 18; i++) {
        field += msg[i] == sep;
    }
    size_t n = 0;
    while (field == 18 && i < len && msg[i] != sep && msg[i] != '\r' &&
           msg[i] != '\n' && msg[i] != (uint8_t)comp && n < S_NAME_MAX - 1) {
        name[n++] = (char)msg[i++];
    }
    name[n] = '\0';
}

/* The iconv name of an HL7 character set (table 0211 and common spellings),
 * "" for one that needs no conversion, NULL for one not handled. */
static const char *
s_iconv_name(const char *hl7)
{
    static const char *const none[] = {
        "", "ASCII", "UNICODE UTF-8", "UTF-8", "UTF8", "UNICODE", NULL};
    static const char *const gb[] = {
        "GB 18030-2000", "GB18030", "GB 18030", "GBK",
        "GB2312",        "GB 2312", NULL};
    for (int i = 0; none[i] != NULL; i++) {
        if (strcasecmp(hl7, none[i]) == 0) {
            return "";
        }
    }
    for (int i = 0; gb[i] != NULL; i++) {
        if (strcasecmp(hl7, gb[i]) == 0) {
            return "GB18030"; /* a superset of GBK and GB 2312 */
        }
    }
    return strcasecmp(hl7, "8859/1") == 0 ? "ISO-8859-1" : NULL;
}

static int
s_open(col_hl7_charset_t *self, const char *from, sn_err_t *err)
{
    if (self->cd != (iconv_t)-1 && strcmp(self->from, from) == 0) {
        iconv(self->cd, NULL, NULL, NULL, NULL); /* reset its state */
        return SN_OK;
    }
    if (self->cd != (iconv_t)-1) {
        iconv_close(self->cd);
    }
    self->cd = iconv_open("UTF-8", from);
    if (self->cd == (iconv_t)-1) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "MSH-18: character set '%s' cannot be converted "
                          "here: %s",
                          from, strerror(errno));
    }
    snprintf(self->from, sizeof self->from, "%s", from);
    return SN_OK;
}

int
col_hl7_charset_utf8(col_hl7_charset_t *self, const uint8_t *msg, size_t len,
                     const uint8_t **out, size_t *out_len, sn_err_t *err)
{
    char name[S_NAME_MAX];
    s_msh18(msg, len, name);
    const char *from = s_iconv_name(name);
    *out = msg;
    *out_len = len;
    if (from == NULL) {
        return sn_err_set(err, SN_EUNSUPPORTED,
                          "MSH-18: character set '%s' is not supported "
                          "(ASCII, UNICODE UTF-8, GB 18030-2000, 8859/1)",
                          name);
    }
    if (from[0] == '\0') {
        return SN_OK;
    }
    int rc = s_open(self, from, err);
    if (rc != SN_OK) {
        return rc;
    }
    size_t need = 4 * len + 1; /* UTF-8 takes at most 4 bytes a character */
    if (need > self->cap) {
        self->buf = sn_realloc(self->buf, need);
        self->cap = need;
    }
    char *in = (char *)msg, *o = (char *)self->buf;
    size_t left = len, room = self->cap;
    if (iconv(self->cd, &in, &left, &o, &room) == (size_t)-1) {
        return sn_err_set(err, SN_EPARSE,
                          "MSH-18: byte %zu is not %s (as MSH-18 '%s' says)",
                          len - left, from, name);
    }
    *out = self->buf;
    *out_len = self->cap - room;
    return SN_OK;
}
