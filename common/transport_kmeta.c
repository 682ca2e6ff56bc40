/*  common/transport_kmeta.c - the Kafka receiver's commit metadata
 *
 *  Every commit of the Kafka receiver (transport_kafka.c) carries, in each
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

#include <inttypes.h>
#include <stdio.h>
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
