/*  collectors/feed.c - the input buffer and record loop of every feed
 *
 *  Bytes pushed into a feed are appended to one buffer. col_feed_next()
 *  asks the kind's splitter where the next record ends, hands the record to
 *  the kind's parser and keeps the position (line or message number) that
 *  rejections carry. A record that grows past the bound is rejected once
 *  and its bytes skipped up to its end, so one runaway line cannot eat the
 *  collector's memory or stop the records after it.
 */
#include "feed.h"
#include "feed_int.h"

#include "sentinel/mem.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct col_feed {
    const col_feed_ops_t *ops;        /* the kind's splitter and parser */
    void *impl;                       /* the kind's state, owned */
    char *name;                       /* input name for rejections */
    char site_id[SN_SITE_ID_MAX + 1]; /* default site_id */
    char region[SN_REGION_MAX + 1];   /* default region */
    col_site_t site;                  /* defaults; strings point above */
    uint8_t *buf;                     /* buffered input */
    size_t off;                       /* start of unread bytes in buf */
    size_t len;                       /* end of buffered bytes */
    size_t cap;                       /* allocated size of buf */
    size_t max_record;                /* longest record accepted */
    bool ended;                       /* col_feed_end() was called */
    bool skipping;     /* dropping the rest of an oversize record */
    uint64_t line;     /* 1-based line where the next record starts */
    uint64_t message;  /* records split so far */
    uint64_t records;  /* records yielded */
    uint64_t rejected; /* rejections yielded */
    uint8_t *clean;    /* a refused record's bytes, redacted */
    size_t clean_cap;  /* allocated size of clean */
};

static const char *const s_kind_names[] = {NULL, "json", "csv", "hl7"};

col_feed_t *
col_feed_new_kind(const col_feed_ops_t *ops, void *impl, const char *name,
                  const col_site_t *site, size_t max_record)
{
    col_feed_t *self = sn_calloc(1, sizeof *self);
    self->ops = ops;
    self->impl = impl;
    self->name = sn_strdup(name ? name : "-");
    if (site && site->site_id) {
        col_feed_copy(self->site_id, sizeof self->site_id, site->site_id,
                      strlen(site->site_id));
    }
    if (site && site->region) {
        col_feed_copy(self->region, sizeof self->region, site->region,
                      strlen(site->region));
    }
    self->site.site_id = self->site_id;
    self->site.region = self->region;
    self->site.source = site ? site->source : SN_SOURCE_UNKNOWN;
    self->max_record = max_record ? max_record : COL_FEED_MAX_RECORD_DEFAULT;
    self->line = 1;
    return self;
}

void
col_feed_destroy(col_feed_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    col_feed_t *self = *self_p;
    self->ops->destroy(self->impl);
    free(self->name);
    free(self->buf);
    free(self->clean);
    free(self);
    *self_p = NULL;
}

int
col_feed_push(col_feed_t *self, const void *data, size_t len)
{
    if (self->ended) {
        return SN_ESTATE;
    }
    if (len == 0) {
        return SN_OK; /* nothing to copy; buf may still be NULL */
    }
    /* Compact before growing: records already read are never looked at
     * again, and rec->raw is only valid until this call. */
    if (self->off > 0) {
        memmove(self->buf, self->buf + self->off, self->len - self->off);
        self->len -= self->off;
        self->off = 0;
    }
    if (self->len + len > self->cap) {
        size_t cap = self->cap ? self->cap : 65536;
        while (cap < self->len + len) {
            cap *= 2;
        }
        self->buf = sn_realloc(self->buf, cap);
        self->cap = cap;
    }
    memcpy(self->buf + self->len, data, len);
    self->len += len;
    return SN_OK;
}

void
col_feed_end(col_feed_t *self)
{
    self->ended = true;
}

static void
s_record_init(col_feed_t *self, col_record_t *rec, const uint8_t *raw,
              size_t len, uint64_t position)
{
    sn_event_init(&rec->event);
    sn_err_clear(&rec->err);
    rec->source = self->name;
    rec->position = position;
    rec->raw = raw;
    rec->raw_len = len;
}

/* Count what a call yields; a refused record's bytes are handed out
 * redacted where the kind says how (ops->redact). */
static int
s_count(col_feed_t *self, col_record_t *rec, int r)
{
    if (r == COL_FEED_EVENT || r == COL_FEED_REJECT) {
        self->records++;
    }
    if (r == COL_FEED_REJECT) {
        self->rejected++;
    }
    if (r == COL_FEED_REJECT && self->ops->redact && rec->raw_len > 0) {
        if (rec->raw_len > self->clean_cap) {
            self->clean = sn_realloc(self->clean, rec->raw_len);
            self->clean_cap = rec->raw_len;
        }
        rec->raw_len = self->ops->redact(rec->raw, rec->raw_len, self->clean);
        rec->raw = self->clean;
    }
    return r;
}

/* Reject the record that grew past the bound without an end in sight and
 * drop what is buffered of it; the splitter then finds its end later. */
static int
s_reject_oversize(col_feed_t *self, col_record_t *rec)
{
    uint64_t pos = self->ops->by_line ? self->line : self->message + 1;
    size_t n = self->len - self->off;
    s_record_init(self, rec, self->buf + self->off, n, pos);
    rec->raw_len = n < 4096 ? n : 4096;
    sn_err_set(&rec->err, SN_EOVERFLOW, "record longer than %zu bytes",
               self->max_record);
    self->skipping = true;
    if (!self->ops->by_line) {
        self->message++;
    }
    /* Keep a few bytes: an HL7 "MSH" may straddle two pushes. */
    self->off = self->len - (n < 3 ? n : 3);
    return s_count(self, rec, COL_FEED_REJECT);
}

int
col_feed_next(col_feed_t *self, col_record_t *rec)
{
    for (;;) {
        size_t n = self->len - self->off;
        if (n == 0) {
            return COL_FEED_AGAIN;
        }
        const uint8_t *p = self->buf + self->off;
        size_t rec_len = 0;
        uint64_t lines = 0;
        size_t used =
            self->ops->split(self->impl, p, n, self->ended, &rec_len, &lines);
        if (used == 0) {
            if (self->skipping) {
                self->off = self->len - (n < 3 ? n : 3);
                return COL_FEED_AGAIN;
            }
            if (n > self->max_record) {
                return s_reject_oversize(self, rec);
            }
            return COL_FEED_AGAIN;
        }
        uint64_t line = self->line;
        self->line += lines;
        self->off += used;
        if (self->skipping) {
            self->skipping = false;
            continue;
        }
        uint64_t pos = self->ops->by_line ? line : ++self->message;
        s_record_init(self, rec, p, rec_len, pos);
        if (rec_len > self->max_record) {
            sn_err_set(&rec->err, SN_EOVERFLOW, "record longer than %zu bytes",
                       self->max_record);
            return s_count(self, rec, COL_FEED_REJECT);
        }
        int r = self->ops->parse(self->impl, &self->site, p, rec_len, rec);
        if (r == COL_FEED_AGAIN) {
            if (!self->ops->by_line) {
                self->message--;
            }
            continue;
        }
        return s_count(self, rec, r);
    }
}

int
col_feed_parse(col_feed_t *self, const void *data, size_t len,
               col_record_t *rec)
{
    const uint8_t *p = data;
    uint64_t pos = self->ops->by_line ? self->line++ : ++self->message;
    s_record_init(self, rec, p, len, pos);
    if (len > self->max_record) {
        sn_err_set(&rec->err, SN_EOVERFLOW, "record longer than %zu bytes",
                   self->max_record);
        return s_count(self, rec, COL_FEED_REJECT);
    }
    int r = self->ops->parse(self->impl, &self->site, p, len, rec);
    if (r == COL_FEED_AGAIN && self->ops->kind == COL_FEED_HL7) {
        sn_err_set(&rec->err, SN_EPROTO, "no MSH segment");
        r = COL_FEED_REJECT;
    }
    return s_count(self, rec, r);
}

col_feed_kind_t
col_feed_kind(const col_feed_t *self)
{
    return self->ops->kind;
}

const char *
col_feed_name(const col_feed_t *self)
{
    return self->name;
}

uint64_t
col_feed_records(const col_feed_t *self)
{
    return self->records;
}

uint64_t
col_feed_rejected(const col_feed_t *self)
{
    return self->rejected;
}

int
col_feed_kind_parse(const char *name, col_feed_kind_t *out)
{
    static const struct {
        const char *name;
        col_feed_kind_t kind;
    } names[] = {{"json", COL_FEED_JSON},
                 {"jsonl", COL_FEED_JSON},
                 {"ndjson", COL_FEED_JSON},
                 {"csv", COL_FEED_CSV},
                 {"hl7", COL_FEED_HL7}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].kind;
            return SN_OK;
        }
    }
    return SN_ENOTFOUND;
}

int
col_feed_kind_for_path(const char *path, col_feed_kind_t *out)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!dot || (slash && dot < slash)) {
        return SN_ENOTFOUND;
    }
    return col_feed_kind_parse(dot + 1, out);
}

const char *
col_feed_kind_name(col_feed_kind_t kind)
{
    if (kind < COL_FEED_JSON || kind > COL_FEED_HL7) {
        return "unknown";
    }
    return s_kind_names[kind];
}

void
col_feed_apply_site(const col_site_t *site, sn_event_t *ev)
{
    if (ev->site_id[0] == '\0' && site->site_id) {
        col_feed_copy(ev->site_id, sizeof ev->site_id, site->site_id,
                      strlen(site->site_id));
    }
    if (ev->region[0] == '\0' && site->region) {
        col_feed_copy(ev->region, sizeof ev->region, site->region,
                      strlen(site->region));
    }
    if (ev->source == SN_SOURCE_UNKNOWN) {
        ev->source = site->source;
    }
}

int
col_feed_copy(char *dst, size_t size, const char *p, size_t n)
{
    if (n >= size) {
        return SN_EOVERFLOW;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return SN_OK;
}
