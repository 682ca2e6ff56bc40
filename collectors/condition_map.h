/*  collectors/condition_map.h - conditions from diagnoses and complaints
 *
 *  A condition map holds the condition catalogue (each condition's code,
 *  name, notifiable class, reporting deadline and single-case alerting
 *  flag) and the rules that map what a visit says to a condition code:
 *  ICD-10 code prefixes ("A00" matches A00.1) and chief-complaint keywords
 *  (case-insensitive substrings; "fever+cough" needs both words). The
 *  default catalogue ships as data: the notifiable diseases of classes A, B
 *  and C plus the syndromes ILI, fever, diarrhoea, rash, HFMD and
 *  `unexplained`. Rules added from the collector configuration are tried
 *  before the catalogue's own.
 *
 *  Matching: a diagnosis code match beats a keyword match; among rules of
 *  the same kind, the first rule in order wins.
 *
 *  Threading: not thread-safe while rules are added; once built, matching
 *  only reads and may run from several threads.
 */
#ifndef SENTINEL_COLLECTORS_CONDITION_MAP_H
#define SENTINEL_COLLECTORS_CONDITION_MAP_H

#include <stdbool.h>
#include <stddef.h>

#include "sentinel/error.h"

#define COL_CMAP_UNEXPLAINED "unexplained" /* the code of no match */

typedef struct col_cmap col_cmap_t; /* opaque; defined in condition_map.c */

/* The notifiable class of a condition. */
typedef enum {
    COL_CLASS_A = 1,        /* class A notifiable disease */
    COL_CLASS_B = 2,        /* class B */
    COL_CLASS_C = 3,        /* class C */
    COL_CLASS_SYNDROME = 4, /* a syndrome under surveillance */
    COL_CLASS_OTHER = 5,    /* configured by the site or the CDC */
} col_class_t;

/* One condition of the catalogue. */
typedef struct col_condition {
    const char *code;   /* the event's condition code */
    const char *name;   /* English name */
    col_class_t klass;  /* notifiable class */
    int deadline_hours; /* reporting deadline: 2, 24, or 0 for none */
    bool single_case;   /* one case alone raises an alert */
} col_condition_t;

/** Create a map with the default catalogue and its rules when `with_default`
 *  is true, else an empty one. Never returns NULL. Caller owns the result. */
col_cmap_t *col_cmap_new(bool with_default);

/** Free the map and set *self_p to NULL. Safe on NULL. */
void col_cmap_destroy(col_cmap_t **self_p);

/** Add (or replace, by code) a condition of the catalogue.
 *  @return SN_OK, or SN_EINVAL with the reason when the code is empty or
 *  longer than the event model allows. */
int col_cmap_define(col_cmap_t *self, const col_condition_t *cond,
                    sn_err_t *err);

/** Add a rule mapping `icd10` prefixes and `keywords` (NULL-terminated
 *  lists, either may be NULL) to `code`. Configured rules go before the
 *  catalogue's own, in the order they are added. An unknown `code` is
 *  defined as class "other".
 *  @return SN_OK, or SN_EINVAL with the reason (empty code, empty rule). */
int col_cmap_add_rule(col_cmap_t *self, const char *code,
                      const char *const *icd10, const char *const *keywords,
                      sn_err_t *err);

/** @return the condition whose code is `code`, or NULL. Borrowed from the
 *  map; valid while it lives. */
const col_condition_t *col_cmap_find(const col_cmap_t *self, const char *code);

/** Map the diagnoses `icd10[0..n)` and the free-text `complaint` (may be
 *  NULL) to a condition code.
 *  @return the code, borrowed from the map, or NULL when no rule matches. */
const char *col_cmap_match(const col_cmap_t *self, const char *const *icd10,
                           size_t n, const char *complaint);

/** @return the number of conditions in the catalogue. */
size_t col_cmap_size(const col_cmap_t *self);

/** @return condition `i` of the catalogue (0 <= i < size), borrowed. */
const col_condition_t *col_cmap_at(const col_cmap_t *self, size_t i);

/** @return "A", "B", "C", "syndrome" or "other". Static. */
const char *col_class_name(col_class_t klass);

#endif
