/*  analyzer/dedup.c - drop re-sent events, apply revisions, in bounded memory
 *
 *  Linear probing over a power-of-two array of 32-byte entries. An entry is
 *  empty when both fingerprint words are zero (the key function never makes
 *  that). The table is kept at most 7/8 full. Moving the horizon is O(1):
 *  an expired entry is treated as absent and its slot reused by the same
 *  key. Expired entries are reclaimed only when the table fills up after
 *  the horizon has moved (a full table whose horizon has not moved since
 *  its last sweep refuses new keys at once) or the owner purges it (the
 *  analyzer does at a day close when it is over 3/4 full), by one
 *  sequential sweep that deletes them in place with backward shifting
 *  (Knuth's Algorithm R for linear probing): no tombstones, no second
 *  table, no re-hashing of the live entries. Nothing on the offer path
 *  allocates.
 *
 *  The table is tens of megabytes and every offer lands on a random slot,
 *  so an offer costs one cache miss (two slots share a 64-byte line, and a
 *  probe rarely leaves it). Two things keep that miss cheap: a large table
 *  is backed by transparent huge pages where the kernel allows it, so the
 *  miss is not also a TLB miss (and the kernel populates the whole table
 *  at creation, instead of a page fault per page), and ana_dedup_prefetch()
 *  lets a caller that holds a batch start the misses of later events while
 *  it handles the current one.
 */
#include "dedup.h"

#include "sentinel/mem.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define S_MAGIC 0x53444431u /* "SDD1" */
#define S_HUGE (2u << 20)   /* a transparent huge page on x86-64 */
#ifdef MADV_POPULATE_WRITE
#define S_POPULATE_WRITE MADV_POPULATE_WRITE
#else
#define S_POPULATE_WRITE 23 /* Linux 5.14; older headers lack the name */
#endif

/* One stored event: its fingerprint and its placement. */
typedef struct s_slot {
    uint64_t h1, h2;         /* fingerprint; both zero when empty */
    ana_dedup_entry_t entry; /* placement of the stored revision */
} s_slot_t;

struct ana_dedup {
    s_slot_t *slots;  /* `mask + 1` slots */
    size_t mask;      /* slots - 1 (a power of two minus one) */
    size_t capacity;  /* live entries accepted */
    size_t size;      /* live entries */
    sn_day_t horizon; /* oldest day accepted */
    sn_day_t swept;   /* horizon of the last sweep: none expired since */
    uint64_t sweeps;  /* sweeps done (a figure for tests and metrics) */
    bool mapped;      /* slots from mmap() (else malloc()) */
};

static size_t
s_slots_for(size_t capacity)
{
    size_t want = capacity + capacity / 7 + 1;
    size_t n = 16;
    while (n < want) {
        n <<= 1;
    }
    return n;
}

/* Zeroed slots for `n` entries, all of them in memory now: a table filled
 * at random would otherwise take its page faults one by one on the hot
 * path, and a page fault costs tens of microseconds on a virtual machine.
 * A table of at least one huge page is mapped on its own, asked for huge
 * pages (a hint the kernel may refuse) and populated by the kernel in one
 * call (MADV_POPULATE_WRITE, Linux 5.14), which is an order of magnitude
 * cheaper than faulting it in by writing it. *mapped says which of
 * munmap() and free() gives it back. */
static s_slot_t *
s_slots_alloc(size_t n, bool *mapped)
{
    size_t bytes = n * sizeof(s_slot_t);
    void *p = MAP_FAILED;
    if (bytes >= S_HUGE) {
        p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    *mapped = p != MAP_FAILED;
    if (!*mapped) {
        p = sn_malloc(bytes);
        memset(p, 0, bytes);
        return p;
    }
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    if (madvise(p, bytes, S_POPULATE_WRITE) != 0) {
        memset(p, 0, bytes); /* an older kernel: fault it in ourselves */
    }
    return p;
}

ana_dedup_t *
ana_dedup_new(size_t capacity)
{
    if (capacity < 8) {
        capacity = 8;
    }
    ana_dedup_t *self = sn_calloc(1, sizeof *self);
    size_t n = s_slots_for(capacity);
    self->slots = s_slots_alloc(n, &self->mapped);
    self->mask = n - 1;
    self->capacity = capacity;
    self->horizon = INT32_MIN;
    self->swept = INT32_MIN;
    return self;
}

void
ana_dedup_destroy(ana_dedup_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    ana_dedup_t *self = *self_p;
    if (self->mapped) {
        munmap(self->slots, (self->mask + 1) * sizeof *self->slots);
    } else {
        free(self->slots);
    }
    free(*self_p);
    *self_p = NULL;
}

/* A 64-bit multiply-mix hash over 8-byte words (in the spirit of wyhash's
 * folding): fast on short strings and good enough that two seeds give an
 * effectively collision-free 128-bit fingerprint. */
static uint64_t
s_mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* Both hashes of one string at once, h[0] and h[1] from their seeds: the
 * two multiply chains are independent, so they run side by side, and each
 * word (and the tail) is loaded once for both. */
static void
s_hash2(uint64_t h[2], const char *s, size_t len)
{
    const uint64_t k = 0x9e3779b97f4a7c15ull;
    const uint64_t kw = k ^ 0xe7037ed1a0b428dbull,
                   kt = k ^ 0x8ebc6af09c88c6e3ull;
    h[0] = s_mix(h[0] ^ len, k);
    h[1] = s_mix(h[1] ^ len, k);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h[0] = s_mix(h[0] ^ w, kw);
        h[1] = s_mix(h[1] ^ w, kw);
        s += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, len);
    h[0] = s_mix(h[0] ^ w, kt);
    h[1] = s_mix(h[1] ^ w, kt);
}

ana_dedup_key_t
ana_dedup_key(const char *site, const char *event_id)
{
    uint64_t h[2] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull};
    s_hash2(h, site, strlen(site));
    s_hash2(h, event_id, strlen(event_id));
    ana_dedup_key_t key = {h[0] | 1, h[1]}; /* never both zero: zero marks
                                               an empty slot */
    return key;
}

/* The home slot of a fingerprint (where its probe starts). */
static size_t
s_home(const ana_dedup_t *self, uint64_t h1, uint64_t h2)
{
    return (size_t)(h2 ^ (h1 >> 29)) & self->mask;
}

/* The slot holding `key`, or the empty slot where it would go. */
static s_slot_t *
s_probe(const ana_dedup_t *self, ana_dedup_key_t key)
{
    size_t i = s_home(self, key.h1, key.h2);
    for (;;) {
        s_slot_t *s = &self->slots[i];
        if ((s->h1 == key.h1 && s->h2 == key.h2) || s->h1 == 0) {
            return s;
        }
        i = (i + 1) & self->mask;
    }
}

/* Delete the entries before the horizon, in place. */
static void s_sweep(ana_dedup_t *self);

void
ana_dedup_prefetch(const ana_dedup_t *self, ana_dedup_key_t key)
{
    __builtin_prefetch(&self->slots[s_home(self, key.h1, key.h2)], 1, 3);
}

int
ana_dedup_offer(ana_dedup_t *self, ana_dedup_key_t key,
                const ana_dedup_entry_t *placed, ana_dedup_entry_t *old)
{
    if (placed->day < self->horizon) {
        return SN_ETOOOLD;
    }
    s_slot_t *s = s_probe(self, key);
    if (s->h1 != 0 && s->entry.day >= self->horizon) {
        if (placed->revision <= s->entry.revision) {
            return SN_EDUP;
        }
        *old = s->entry;
        s->entry = *placed;
        return ANA_DEDUP_REVISED;
    }
    if (s->h1 != 0) { /* expired: forgotten, its slot reused */
        s->entry = *placed;
        return ANA_DEDUP_NEW;
    }
    if (self->size >= self->capacity) {
        /* Sweep only when the horizon has moved since the last sweep:
         * otherwise nothing has expired and a full table refuses at once
         * (a sweep per offer would stall the analyzer). */
        if (self->horizon > self->swept) {
            s_sweep(self);
        }
        if (self->size >= self->capacity) {
            return SN_EFULL;
        }
        s = s_probe(self, key);
    }
    s->h1 = key.h1;
    s->h2 = key.h2;
    s->entry = *placed;
    self->size++;
    return ANA_DEDUP_NEW;
}

int
ana_dedup_find(const ana_dedup_t *self, ana_dedup_key_t key,
               ana_dedup_entry_t *out)
{
    const s_slot_t *s = s_probe(self, key);
    if (s->h1 == 0 || s->entry.day < self->horizon) {
        return SN_ENOTFOUND;
    }
    *out = s->entry;
    return SN_OK;
}

/* Put a slot known to be absent into a fresh table (rebuilds, loads). */
static void
s_insert_slot(ana_dedup_t *self, const s_slot_t *from)
{
    ana_dedup_key_t key = {from->h1, from->h2};
    s_slot_t *s = s_probe(self, key);
    if (s->h1 == 0) {
        self->size++;
    }
    *s = *from;
}

/* Empty slot `hole` by backward shifting: each later entry of its probe
 * run whose home is not cyclically in (hole, j] moves into the hole, which
 * moves on to where the entry was, so every entry stays reachable from its
 * home without tombstones. */
static void
s_delete_at(ana_dedup_t *self, size_t hole)
{
    size_t j = hole;
    for (;;) {
        j = (j + 1) & self->mask;
        const s_slot_t *s = &self->slots[j];
        if (s->h1 == 0) {
            break;
        }
        size_t k = s_home(self, s->h1, s->h2);
        bool stays = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
        if (!stays) {
            self->slots[hole] = *s;
            hole = j;
        }
    }
    memset(&self->slots[hole], 0, sizeof self->slots[hole]);
    self->size--;
}

/* One pass over the slots. After a deletion the same index is looked at
 * again, since an entry may have moved into it. Holes only move forward
 * from the cursor (or wrap into slots already swept, which hold live
 * entries), so no expired entry is left behind the cursor. */
static void
s_sweep(ana_dedup_t *self)
{
    self->swept = self->horizon;
    self->sweeps++;
    size_t i = 0;
    while (i <= self->mask) {
        const s_slot_t *s = &self->slots[i];
        if (s->h1 != 0 && s->entry.day < self->horizon) {
            s_delete_at(self, i);
        } else {
            i++;
        }
    }
}

void
ana_dedup_set_horizon(ana_dedup_t *self, sn_day_t oldest)
{
    if (oldest > self->horizon) {
        self->horizon = oldest;
    }
}

void
ana_dedup_purge(ana_dedup_t *self)
{
    s_sweep(self);
}

uint64_t
ana_dedup_sweeps(const ana_dedup_t *self)
{
    return self->sweeps;
}

sn_day_t
ana_dedup_horizon(const ana_dedup_t *self)
{
    return self->horizon;
}

size_t
ana_dedup_size(const ana_dedup_t *self)
{
    return self->size;
}

size_t
ana_dedup_capacity(const ana_dedup_t *self)
{
    return self->capacity;
}

int
ana_dedup_save(const ana_dedup_t *self, FILE *f)
{
    uint32_t magic = S_MAGIC;
    uint64_t cap = self->capacity, size = self->size;
    int32_t horizon = self->horizon;
    if (fwrite(&magic, sizeof magic, 1, f) != 1 ||
        fwrite(&cap, sizeof cap, 1, f) != 1 ||
        fwrite(&size, sizeof size, 1, f) != 1 ||
        fwrite(&horizon, sizeof horizon, 1, f) != 1) {
        return SN_EIO;
    }
    for (size_t i = 0; i <= self->mask; i++) {
        if (self->slots[i].h1 != 0 &&
            fwrite(&self->slots[i], sizeof self->slots[i], 1, f) != 1) {
            return SN_EIO;
        }
    }
    return SN_OK;
}

int
ana_dedup_load(FILE *f, size_t capacity, ana_dedup_t **out, sn_err_t *err)
{
    uint32_t magic;
    uint64_t cap, size;
    int32_t horizon;
    if (fread(&magic, sizeof magic, 1, f) != 1 ||
        fread(&cap, sizeof cap, 1, f) != 1 ||
        fread(&size, sizeof size, 1, f) != 1 ||
        fread(&horizon, sizeof horizon, 1, f) != 1) {
        return sn_err_set(err, SN_EIO, "dedup state: truncated header");
    }
    if (magic != S_MAGIC || size > cap) {
        return sn_err_set(err, SN_ECORRUPT, "dedup state: bad header");
    }
    ana_dedup_t *self = ana_dedup_new(cap > capacity ? (size_t)cap : capacity);
    self->horizon = horizon;
    for (uint64_t i = 0; i < size; i++) {
        s_slot_t s;
        if (fread(&s, sizeof s, 1, f) != 1 || s.h1 == 0) {
            ana_dedup_destroy(&self);
            return sn_err_set(err, SN_ECORRUPT,
                              "dedup state: entry %llu of %llu unreadable",
                              (unsigned long long)i, (unsigned long long)size);
        }
        s_insert_slot(self, &s);
    }
    *out = self;
    return SN_OK;
}
