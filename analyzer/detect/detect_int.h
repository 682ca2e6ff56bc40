/*  analyzer/detect/detect_int.h - how a detector algorithm plugs in
 *
 *  Each algorithm file (ears.c, farrington.c, …) defines one or more
 *  det_method_t tables; detector.c lists them, parses parameters through the
 *  table's parameter list and dispatches sn_detector_eval() and the streaming
 *  form to the algorithm. Shared numerics (normal and t quantiles, discrete
 *  quantiles, sample quantiles) live in dmath.h.
 *
 *  Parameters reach an algorithm as `const double *p`: p[i] is the value of
 *  params[i] (an enum gives the index of its choice, a bool 0 or 1, NULL
 *  gives NAN); a DET_PARAM_PAIR also puts its second number in
 *  p[DET_MAX_PARAMS + i].
 *
 *  Threading: as include/sentinel/detector.h.
 */
#ifndef SENTINEL_ANALYZER_DETECT_INT_H
#define SENTINEL_ANALYZER_DETECT_INT_H

#include "sentinel/detector.h"

#define DET_MAX_PARAMS 24

typedef enum {
    DET_PARAM_DOUBLE, /* a number within [min, max]; "a/b" is a fraction */
    DET_PARAM_INT,    /* an integer within [min, max] */
    DET_PARAM_BOOL,   /* TRUE/FALSE, true/false, T/F, 1/0 */
    DET_PARAM_ENUM,   /* one of `choices` (stored as its index) */
    DET_PARAM_PAIR,   /* "a,b": two numbers within [min, max] */
} det_param_type_t;

/* One parameter a method accepts, with its default. */
typedef struct det_param_def {
    const char *name;           /* the reference's control name */
    det_param_type_t type;      /* how its text is parsed */
    double dflt;                /* default (enum: index; NAN: NULL) */
    double min, max;            /* inclusive range */
    const char *const *choices; /* ENUM: NULL-terminated */
    double dflt2;               /* PAIR: default second number */
    int nullable;               /* "NULL" or "NA" is accepted (as NAN) */
} det_param_def_t;

/* A method: its parameters, its output columns and its functions. Every
 * function reads parameters from `p` (see above). */
typedef struct det_method {
    const char *name;              /* --method value */
    const det_param_def_t *params; /* ends with name == NULL */
    const char *const *extra;      /* extra column names, NULL-terminated */
    const char *label;             /* label column name, or NULL */
    /* Optional check across parameters, after all are set; SN_EINVAL or
     * SN_ERANGE with "parameter 'x': …" in err. */
    int (*validate)(const double *p, sn_err_t *err);
    /* First evaluable 0-based index, or SN_ENODATA. */
    int64_t (*first)(const double *p, const sn_det_input_t *in);
    /* Batch evaluation of from..to into out (see sn_detector_eval); the
     * registry has checked from >= first() and to < n. */
    int (*eval)(const double *p, const sn_det_input_t *in, size_t from,
                size_t to, sn_det_point_t *out, sn_err_t *err);
    /* Streaming. `history`: how many of the newest values (and days) the
     * stream keeps in its ring, bounded whatever the series length. With
     * `step` NULL, each push evaluates `eval` at the newest point of the
     * ring (given as a series of the ring's length, from = to = the newest
     * index), so the method must not depend on absolute indices. With
     * `step`, the method carries its own state of `state_size` bytes
     * (zeroed, then state_init) and evaluates the newest point of `ring`;
     * `t` is its absolute 0-based index and `from` the stream's. */
    size_t (*history)(const double *p, int frequency);
    size_t state_size;
    void (*state_init)(const double *p, int frequency, void *state);
    void (*step)(const double *p, void *state, const sn_det_input_t *ring,
                 size_t t, size_t from, sn_det_point_t *out);
} det_method_t;

/* Every method of every algorithm file, as detector.c lists them. */
extern const det_method_t det_ears_c1, det_ears_c2, det_ears_c3;
extern const det_method_t det_cusum, det_bayes, det_rki, det_mpm, det_ewma;
extern const det_method_t det_farrington, det_farrington_flexible;
extern const det_method_t det_glrnb;

/** Fill *pt with NA everywhere: NAN numbers, alarm SN_DET_NA, no label. */
void det_point_na(sn_det_point_t *pt);

/** As det_point_na() but leaves extra[] alone: for hot loops of methods
 *  without extra columns (only extra[0 .. extra count - 1] are read). */
void det_point_init(sn_det_point_t *pt);

#endif
