/*  collectors/condition_map.c - the condition catalogue and mapping rules
 *
 *  The default catalogue is data: the notifiable diseases (classes A, B, C,
 *  with their reporting deadlines and the single-case alerting flag, as the
 *  national notifiable disease rules set them) and the syndromes under
 *  surveillance. Each default rule lists ICD-10 prefixes and complaint
 *  keywords; configured rules are kept in a list of their own, tried first.
 *  Matching is two passes, codes then keywords, each in rule order.
 */
#include "condition_map.h"

#include "sentinel/event.h"
#include "sentinel/mem.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_TERMS 16 /* prefixes or keywords of one default rule */

/* One rule: prefixes and keywords mapping to a code. */
typedef struct s_rule {
    char *code;      /* condition code */
    char **icd10;    /* NULL-terminated upper-case prefixes */
    char **keywords; /* NULL-terminated lower-case keywords */
} s_rule_t;

struct col_cmap {
    col_condition_t *conds; /* catalogue, strings owned */
    size_t n_conds;         /* its size */
    s_rule_t *rules;        /* configured rules first, then defaults */
    size_t n_rules;         /* their number */
    size_t n_configured;    /* rules[0..n_configured) came from config */
};

/* One default entry: the condition and its rule. */
typedef struct s_default {
    col_condition_t cond;              /* catalogue entry */
    const char *icd10[S_MAX_TERMS];    /* ICD-10 prefixes */
    const char *keywords[S_MAX_TERMS]; /* complaint keywords */
} s_default_t;

/* Class A and the class B diseases managed as class A are reported within
 * 2 hours and alert on one case; the rest within 24 hours. */
static const s_default_t s_defaults[] = {
    {{"plague", "plague", COL_CLASS_A, 2, true}, {"A20"}, {"plague"}},
    {{"cholera", "cholera", COL_CLASS_A, 2, true}, {"A00"}, {"cholera"}},
    {{"sars", "SARS", COL_CLASS_B, 2, true}, {"U04"}, {"sars"}},
    {{"covid19", "COVID-19", COL_CLASS_B, 24, false},
     {"U07.1", "U07.2"},
     {"covid"}},
    {{"hiv_aids", "HIV/AIDS", COL_CLASS_B, 24, false},
     {"B20", "B21", "B22", "B23", "B24", "Z21"},
     {"aids"}},
    {{"hepatitis", "viral hepatitis", COL_CLASS_B, 24, false},
     {"B15", "B16", "B17", "B18", "B19"},
     {"hepatitis"}},
    {{"polio", "poliomyelitis", COL_CLASS_B, 2, true}, {"A80"}, {"polio"}},
    {{"avian_influenza", "human infection with avian influenza", COL_CLASS_B, 2,
      true},
     {"J09"},
     {"avian influenza", "h7n9", "h5n1"}},
    {{"measles", "measles", COL_CLASS_B, 24, false}, {"B05"}, {"measles"}},
    {{"hfrs", "epidemic haemorrhagic fever", COL_CLASS_B, 24, false},
     {"A98.5"},
     {"haemorrhagic fever", "hemorrhagic fever"}},
    {{"rabies", "rabies", COL_CLASS_B, 24, false}, {"A82"}, {"rabies"}},
    {{"japanese_encephalitis", "Japanese encephalitis", COL_CLASS_B, 24, false},
     {"A83.0"},
     {"japanese encephalitis"}},
    {{"dengue", "dengue", COL_CLASS_B, 24, false},
     {"A90", "A91", "A97"},
     {"dengue"}},
    {{"anthrax", "anthrax", COL_CLASS_B, 2, true}, {"A22"}, {"anthrax"}},
    {{"dysentery", "bacillary and amoebic dysentery", COL_CLASS_B, 24, false},
     {"A03", "A06"},
     {"dysentery"}},
    {{"tuberculosis", "pulmonary tuberculosis", COL_CLASS_B, 24, false},
     {"A15", "A16", "A19"},
     {"tuberculosis"}},
    {{"typhoid", "typhoid and paratyphoid", COL_CLASS_B, 24, false},
     {"A01"},
     {"typhoid"}},
    {{"meningococcal", "epidemic cerebrospinal meningitis", COL_CLASS_B, 24,
      false},
     {"A39"},
     {"meningococcal"}},
    {{"pertussis", "pertussis", COL_CLASS_B, 24, false},
     {"A37"},
     {"pertussis", "whooping cough"}},
    {{"diphtheria", "diphtheria", COL_CLASS_B, 24, true},
     {"A36"},
     {"diphtheria"}},
    {{"neonatal_tetanus", "neonatal tetanus", COL_CLASS_B, 24, false},
     {"A33"},
     {"neonatal tetanus"}},
    {{"scarlet_fever", "scarlet fever", COL_CLASS_B, 24, false},
     {"A38"},
     {"scarlet fever"}},
    {{"brucellosis", "brucellosis", COL_CLASS_B, 24, false},
     {"A23"},
     {"brucellosis"}},
    {{"gonorrhoea", "gonorrhoea", COL_CLASS_B, 24, false}, {"A54"}, {NULL}},
    {{"syphilis", "syphilis", COL_CLASS_B, 24, false},
     {"A50", "A51", "A52", "A53"},
     {NULL}},
    {{"leptospirosis", "leptospirosis", COL_CLASS_B, 24, false},
     {"A27"},
     {"leptospirosis"}},
    {{"schistosomiasis", "schistosomiasis", COL_CLASS_B, 24, false},
     {"B65"},
     {"schistosomiasis"}},
    {{"malaria", "malaria", COL_CLASS_B, 24, false},
     {"B50", "B51", "B52", "B53", "B54"},
     {"malaria"}},
    {{"mpox", "mpox", COL_CLASS_B, 24, false}, {"B04"}, {"mpox", "monkeypox"}},
    {{"influenza", "influenza", COL_CLASS_C, 24, false},
     {"J10", "J11"},
     {"influenza a", "influenza b"}},
    {{"mumps", "mumps", COL_CLASS_C, 24, false}, {"B26"}, {"mumps"}},
    {{"rubella", "rubella", COL_CLASS_C, 24, false}, {"B06"}, {"rubella"}},
    {{"haemorrhagic_conjunctivitis", "acute haemorrhagic conjunctivitis",
      COL_CLASS_C, 24, false},
     {"B30.3"},
     {"haemorrhagic conjunctivitis"}},
    {{"leprosy", "leprosy", COL_CLASS_C, 24, false}, {"A30"}, {"leprosy"}},
    {{"typhus", "epidemic and endemic typhus", COL_CLASS_C, 24, false},
     {"A75"},
     {"typhus"}},
    {{"kala_azar", "kala-azar", COL_CLASS_C, 24, false},
     {"B55.0"},
     {"kala-azar"}},
    {{"echinococcosis", "echinococcosis", COL_CLASS_C, 24, false},
     {"B67"},
     {"echinococc"}},
    {{"filariasis", "filariasis", COL_CLASS_C, 24, false},
     {"B74"},
     {"filariasis"}},
    {{"hfmd", "hand, foot and mouth disease", COL_CLASS_C, 24, false},
     {"B08.4"},
     {"hand foot mouth", "hand, foot", "hfmd", "手足口"}},
    {{"infectious_diarrhoea", "other infectious diarrhoea", COL_CLASS_C, 24,
      false},
     {"A02", "A04", "A05", "A07", "A08", "A09"},
     {NULL}},
    {{"ili", "influenza-like illness", COL_CLASS_SYNDROME, 0, false},
     {"J06.9"},
     {"influenza-like", "fever+cough", "fever+sore throat", "发热+咳嗽"}},
    {{"rash", "fever with rash", COL_CLASS_SYNDROME, 0, false},
     {"R21"},
     {"rash", "皮疹"}},
    {{"diarrhoea", "acute diarrhoea", COL_CLASS_SYNDROME, 0, false},
     {"R19.7"},
     {"diarrh", "loose stool", "腹泻"}},
    {{"fever", "fever of unknown origin", COL_CLASS_SYNDROME, 0, false},
     {"R50"},
     {"fever", "febrile", "发热"}},
    {{"unexplained", "unexplained illness or cluster", COL_CLASS_SYNDROME, 0,
      false},
     {NULL},
     {NULL}},
};

#define S_N_DEFAULTS (sizeof s_defaults / sizeof s_defaults[0])

static char **
s_terms_dup(const char *const *terms, bool upper)
{
    size_t n = 0;
    while (terms && terms[n]) {
        n++;
    }
    char **out = sn_calloc(n + 1, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i] = sn_strdup(terms[i]);
        for (char *c = out[i]; *c; c++) {
            *c = (char)(upper ? toupper((unsigned char)*c)
                              : tolower((unsigned char)*c));
        }
    }
    return out;
}

static void
s_terms_free(char **terms)
{
    for (size_t i = 0; terms && terms[i]; i++) {
        free(terms[i]);
    }
    free(terms);
}

static void
s_rule_push(col_cmap_t *self, const char *code, const char *const *icd10,
            const char *const *keywords, bool configured)
{
    self->rules =
        sn_reallocarray(self->rules, self->n_rules + 1, sizeof *self->rules);
    size_t at = configured ? self->n_configured : self->n_rules;
    memmove(self->rules + at + 1, self->rules + at,
            (self->n_rules - at) * sizeof *self->rules);
    self->rules[at].code = sn_strdup(code);
    self->rules[at].icd10 = s_terms_dup(icd10, true);
    self->rules[at].keywords = s_terms_dup(keywords, false);
    self->n_rules++;
    if (configured) {
        self->n_configured++;
    }
}

col_cmap_t *
col_cmap_new(bool with_default)
{
    col_cmap_t *self = sn_calloc(1, sizeof *self);
    for (size_t i = 0; with_default && i < S_N_DEFAULTS; i++) {
        col_cmap_define(self, &s_defaults[i].cond, NULL);
        if (s_defaults[i].icd10[0] || s_defaults[i].keywords[0]) {
            s_rule_push(self, s_defaults[i].cond.code, s_defaults[i].icd10,
                        s_defaults[i].keywords, false);
        }
    }
    return self;
}

static void
s_cond_free(col_condition_t *c)
{
    free((char *)c->code);
    free((char *)c->name);
}

void
col_cmap_destroy(col_cmap_t **self_p)
{
    if (!self_p || !*self_p) {
        return;
    }
    col_cmap_t *self = *self_p;
    for (size_t i = 0; i < self->n_conds; i++) {
        s_cond_free(&self->conds[i]);
    }
    for (size_t i = 0; i < self->n_rules; i++) {
        free(self->rules[i].code);
        s_terms_free(self->rules[i].icd10);
        s_terms_free(self->rules[i].keywords);
    }
    free(self->conds);
    free(self->rules);
    free(self);
    *self_p = NULL;
}

int
col_cmap_define(col_cmap_t *self, const col_condition_t *cond, sn_err_t *err)
{
    if (!cond->code || !cond->code[0] ||
        strlen(cond->code) > SN_CONDITION_MAX) {
        return sn_err_set(err, SN_EINVAL,
                          "condition code '%s': empty or longer than %d bytes",
                          cond->code ? cond->code : "", SN_CONDITION_MAX);
    }
    col_condition_t *slot = (col_condition_t *)col_cmap_find(self, cond->code);
    if (slot) {
        s_cond_free(slot);
    } else {
        self->conds = sn_reallocarray(self->conds, self->n_conds + 1,
                                      sizeof *self->conds);
        slot = &self->conds[self->n_conds++];
    }
    *slot = *cond;
    slot->code = sn_strdup(cond->code);
    slot->name = sn_strdup(cond->name ? cond->name : cond->code);
    return SN_OK;
}

int
col_cmap_add_rule(col_cmap_t *self, const char *code, const char *const *icd10,
                  const char *const *keywords, sn_err_t *err)
{
    if ((!icd10 || !icd10[0]) && (!keywords || !keywords[0])) {
        return sn_err_set(err, SN_EINVAL,
                          "rule for '%s': no icd10 prefix and no keyword",
                          code ? code : "");
    }
    if (!col_cmap_find(self, code)) {
        col_condition_t c = {code, code, COL_CLASS_OTHER, 0, false};
        int rc = col_cmap_define(self, &c, err);
        if (rc != SN_OK) {
            return rc;
        }
    }
    s_rule_push(self, code, icd10, keywords, true);
    return SN_OK;
}

const col_condition_t *
col_cmap_find(const col_cmap_t *self, const char *code)
{
    for (size_t i = 0; code && i < self->n_conds; i++) {
        if (strcmp(self->conds[i].code, code) == 0) {
            return &self->conds[i];
        }
    }
    return NULL;
}

/* An ICD-10 code matches a prefix ignoring case and the dot: "a001" and
 * "A00.1" both match "A00.1" and "A00". */
static bool
s_icd_match(const char *code, const char *prefix)
{
    const char *c = code;
    for (const char *p = prefix; *p; p++) {
        if (*p == '.') {
            continue;
        }
        while (*c == '.') {
            c++;
        }
        if (toupper((unsigned char)*c) != *p) {
            return false;
        }
        c++;
    }
    return true;
}

/* Case-insensitive (ASCII) substring search; other bytes compare as is,
 * so UTF-8 keywords work. */
static bool
s_contains(const char *hay, const char *needle, size_t n)
{
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] &&
               tolower((unsigned char)hay[i]) == (unsigned char)needle[i]) {
            i++;
        }
        if (i == n) {
            return true;
        }
    }
    return false;
}

/* A keyword "a+b" matches when every '+'-separated term appears. */
static bool
s_keyword_match(const char *text, const char *keyword)
{
    const char *t = keyword;
    while (*t) {
        const char *plus = strchr(t, '+');
        size_t n = plus ? (size_t)(plus - t) : strlen(t);
        if (n > 0 && !s_contains(text, t, n)) {
            return false;
        }
        t += n + (plus ? 1 : 0);
    }
    return true;
}

const char *
col_cmap_match(const col_cmap_t *self, const char *const *icd10, size_t n,
               const char *complaint)
{
    for (size_t r = 0; r < self->n_rules; r++) {
        for (char **p = self->rules[r].icd10; *p; p++) {
            for (size_t i = 0; i < n; i++) {
                if (icd10[i] && s_icd_match(icd10[i], *p)) {
                    return self->rules[r].code;
                }
            }
        }
    }
    for (size_t r = 0; complaint && r < self->n_rules; r++) {
        for (char **k = self->rules[r].keywords; *k; k++) {
            if (s_keyword_match(complaint, *k)) {
                return self->rules[r].code;
            }
        }
    }
    return NULL;
}

size_t
col_cmap_size(const col_cmap_t *self)
{
    return self->n_conds;
}

const col_condition_t *
col_cmap_at(const col_cmap_t *self, size_t i)
{
    return i < self->n_conds ? &self->conds[i] : NULL;
}

const char *
col_class_name(col_class_t klass)
{
    switch (klass) {
    case COL_CLASS_A:
        return "A";
    case COL_CLASS_B:
        return "B";
    case COL_CLASS_C:
        return "C";
    case COL_CLASS_SYNDROME:
        return "syndrome";
    default:
        return "other";
    }
}
