/*  common/transport_kmeta.c - the Kafka receiver's commit metadata
 *
 *  Every commit of the Kafka receiver (transport_krecv.c) carries, in each
 *  partition's metadata, a token of its own ("t="), the committing
 *  consumer ("i=") and the tokens of the partition's earlier owners ("h="):
 *  a consumer assigned a partition reads the committed metadata and, when
 *  another consumer wrote it, puts that one's token in front of the list
 *  it carries on. So after a kill between "state written" and "commit
 *  confirmed", a restarted analyzer can tell whether its commit reached
 *  the group even when the next owner has committed since: its token is
 *  then "t=" or in the next owner's "h=". Plain strings, no librdkafka.
 */
#include "transport_int.h"

#include "sentinel/mem.h"

#define S_MARK_MAGIC 0x314b4e53u /* "SNK1": a commit mark */
#define S_MARK_HDR 16            /* magic, count, token */
#define S_MARK_PART 12           /* partition (4), offset (8) */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

uint64_t
sn_kmeta_random(void)
{
    uint64_t v = 0;
    while (v == 0) {
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
            v = sn_transport_now_ms() ^ ((uint64_t)getpid() << 32);
        }
    }
    return v;
}

bool
sn_kmeta_parse(const void *md, size_t n, uint64_t *t, uint64_t *i, char *h,
               size_t hcap)
{
    char buf[SN_KMETA_HANDOFFS_LEN + 64];
    if (md == NULL || n == 0 || n >= sizeof buf) {
        return false;
    }
    memcpy(buf, md, n);
    buf[n] = '\0';
    unsigned long long tt, ii;
    int used = 0;
    if (sscanf(buf, "sn1 t=%16llx i=%16llx h=%n", &tt, &ii, &used) != 2 ||
        used == 0) {
        return false;
    }
    *t = tt;
    *i = ii;
    snprintf(h, hcap, "%s", buf + used);
    return true;
}

bool
sn_kmeta_has(const char *h, uint64_t token)
{
    char want[17];
    snprintf(want, sizeof want, "%016" PRIx64, token);
    for (const char *p = h; p != NULL && *p != '\0';) {
        if (strncmp(p, want, 16) == 0) {
            return true;
        }
        p = strchr(p, ',');
        p = p != NULL ? p + 1 : NULL;
    }
    return false;
}

void
sn_kmeta_carry(const void *md, size_t n, uint64_t instance, char *out,
               size_t cap)
{
    uint64_t t, i;
    char h[SN_KMETA_HANDOFFS_LEN];
    if (!sn_kmeta_parse(md, n, &t, &i, h, sizeof h)) {
        snprintf(out, cap, "%s", ""); /* no Sentinel commit yet */
        return;
    }
    if (i == instance) {
        snprintf(out, cap, "%s", h); /* our own commit: nothing handed */
        return;
    }
    /* The previous owner's token first; the oldest falls off. */
    char *cut = h;
    for (int k = 0; cut != NULL && k < SN_KMETA_HANDOFFS - 1; k++) {
        cut = strchr(cut + (k > 0), ',');
    }
    if (cut != NULL) {
        *cut = '\0';
    }
    snprintf(out, cap, "%016" PRIx64 "%s%.*s", t, h[0] ? "," : "",
             (SN_KMETA_HANDOFFS - 1) * 17, h);
}

char *
sn_kmeta_format(uint64_t token, uint64_t instance, const char *h)
{
    return sn_strdup_printf("sn1 t=%016" PRIx64 " i=%016" PRIx64 " h=%s", token,
                            instance, h != NULL ? h : "");
}

/* A commit mark: [u32 magic][u32 n][u64 token], then n times
 * [i32 partition][i64 offset], in the host's byte order (it is read back
 * by the same machine's analyzer). */
uint8_t *
sn_kmeta_mark_new(uint64_t token, uint32_t n, size_t *len)
{
    uint32_t magic = S_MARK_MAGIC;
    *len = S_MARK_HDR + (size_t)n * S_MARK_PART;
    uint8_t *m = sn_calloc(1, *len);
    memcpy(m, &magic, 4);
    memcpy(m + 4, &n, 4);
    memcpy(m + 8, &token, 8);
    return m;
}

void
sn_kmeta_mark_set(uint8_t *mark, uint32_t k, int32_t partition, int64_t offset)
{
    memcpy(mark + S_MARK_HDR + S_MARK_PART * k, &partition, 4);
    memcpy(mark + S_MARK_HDR + S_MARK_PART * k + 4, &offset, 8);
}

bool
sn_kmeta_mark_parse(const uint8_t *mark, size_t len, uint64_t *token,
                    uint32_t *n)
{
    uint32_t magic = 0, count = 0;
    if (len < S_MARK_HDR) {
        return false;
    }
    memcpy(&magic, mark, 4);
    memcpy(&count, mark + 4, 4);
    if (magic != S_MARK_MAGIC ||
        len != S_MARK_HDR + (size_t)count * S_MARK_PART) {
        return false;
    }
    memcpy(token, mark + 8, 8);
    *n = count;
    return true;
}

int32_t
sn_kmeta_mark_partition(const uint8_t *mark, uint32_t k)
{
    int32_t part;
    memcpy(&part, mark + S_MARK_HDR + S_MARK_PART * k, 4);
    return part;
}
