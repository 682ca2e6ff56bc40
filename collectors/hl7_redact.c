/*  collectors/hl7_redact.c - blank the personal identifiers of a raw HL7 v2
 *  message (see hl7_redact.h)
 */
#include "hl7_redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

/* Segments whose every field describes a person other than by the visit:
 * next of kin, guarantor, insurance, merged patient identifiers. */
static const char *const s_whole[] = {"NK1", "GT1", "IN1", "IN2",
                                      "IN3", "MRG", NULL};

/* PID fields that identify the patient: external, internal and alternate
 * ids, name, mother's maiden name, alias, address, phones, SSN, driver's
 * licence, mother's identifier. PID-7 (birth date) and PID-8 (sex) stay:
 * the collector reads them, and the refusal's reason may be about them. */
#define S_PID_FIELDS                                                           \
    ((1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 9) |   \
     (1u << 11) | (1u << 13) | (1u << 14) | (1u << 19) | (1u << 20) |          \
     (1u << 21))

static bool
s_pid_field(int field)
{
    return field < 32 && (S_PID_FIELDS & (1u << field)) != 0;
}

/* MSH-1 of the first MSH segment, or '|'. */
static uint8_t
s_field_separator(const uint8_t *in, size_t len)
{
    for (size_t i = 0; i + 3 < len; i++) {
        bool start = i == 0 || in[i - 1] == '\r' || in[i - 1] == '\n';
        if (start && memcmp(in + i, "MSH", 3) == 0) {
            return in[i + 3];
        }
    }
    return '|';
}

/* How the fields of a segment named name[0..3) are kept. */
typedef enum { S_KEEP, S_PID, S_BLANK } s_rule_t;

static s_rule_t
s_rule(const uint8_t *seg, size_t n)
{
    if (n < 3) {
        return S_KEEP;
    }
    if (memcmp(seg, "PID", 3) == 0) {
        return S_PID;
    }
    for (size_t k = 0; s_whole[k]; k++) {
        if (memcmp(seg, s_whole[k], 3) == 0) {
            return S_BLANK;
        }
    }
    return S_KEEP;
}

/* Whether seg[0..n) is ASCII or valid UTF-8. In GB 18030, GBK or Big5 the
 * second byte of a character can be '|' or '^', so the fields of such a
 * segment cannot be counted byte by byte. */
static bool
s_utf8(const uint8_t *seg, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint8_t c = seg[i];
        size_t k = c < 0x80             ? 0
                   : (c & 0xe0) == 0xc0 ? 1
                   : (c & 0xf0) == 0xe0 ? 2
                   : (c & 0xf8) == 0xf0 ? 3
                                        : 9;
        if (k == 9 || i + k >= n) { /* not a lead byte, or cut short */
            return false;
        }
        for (size_t j = 1; j <= k; j++) {
            if ((seg[i + j] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += k + 1;
    }
    return true;
}

/* Copy one segment seg[0..n) (no terminator) into out. Its fields are
 * separated by the character after its name when that is not a letter or
 * digit (a broken message may use another than MSH-1), else by fs.
 * @return bytes. */
static size_t
s_segment(const uint8_t *seg, size_t n, uint8_t fs, uint8_t *out)
{
    s_rule_t rule = s_rule(seg, n);
    if (rule == S_PID && !s_utf8(seg, n)) {
        rule = S_BLANK; /* fields not countable: keep none of them */
    }
    if (n > 3 && !isalnum(seg[3])) {
        fs = seg[3];
    }
    size_t w = 0;
    int field = 0; /* the name is field 0 */
    for (size_t i = 0; i < n; i++) {
        if (seg[i] == fs) {
            field++;
            out[w++] = fs;
            continue;
        }
        bool blank = field > 0 &&
                     (rule == S_BLANK || (rule == S_PID && s_pid_field(field)));
        if (!blank) {
            out[w++] = seg[i];
        }
    }
    return w;
}

size_t
col_hl7_redact(const uint8_t *in, size_t len, uint8_t *out)
{
    uint8_t fs = s_field_separator(in, len);
    size_t w = 0, i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && in[j] != '\r' && in[j] != '\n') {
            j++;
        }
        w += s_segment(in + i, j - i, fs, out + w);
        for (; j < len && (in[j] == '\r' || in[j] == '\n'); j++) {
            out[w++] = in[j];
        }
        i = j;
    }
    return w;
}
