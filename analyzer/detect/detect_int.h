/*  analyzer/detect/detect_int.h - how a detector algorithm plugs in
 *
 *  Each algorithm file (ears.c, farrington.c, …) defines one or more
 *  det_method_t tables; detector.c lists them, parses parameters through the
 *  table's parameter list and dispatches sn_detector_eval() and the streaming
 *  form to the algorithm. Shared numerics (normal and t quantiles, the IRLS
 *  GLM, quantiles) live in their own files of this folder.
 *
 *  Threading: as include/sentinel/detector.h.
 */
#ifndef SENTINEL_ANALYZER_DETECT_INT_H
#define SENTINEL_ANALYZER_DETECT_INT_H

#include "sentinel/detector.h"

#define DET_MAX_PARAMS 24

typedef enum {
    DET_PARAM_DOUBLE, /* any number within [min, max] */
    DET_PARAM_INT,    /* an integer within [min, max] */
    DET_PARAM_BOOL,   /* TRUE/FALSE, true/false, 1/0 */
    DET_PARAM_ENUM,   /* one of `choices` (stored as its index) */
} det_param_type_t;

/* One parameter a method accepts, with its default. */
typedef struct det_param_def {
    const char *name;           /* the reference's control name */
    det_param_type_t type;      /* how its text is parsed */
    double dflt;                /* default value (enum: index) */
    double min, max;            /* inclusive range */
    const char *const *choices; /* ENUM: NULL-terminated */
} det_param_def_t;

/* A method: its parameters, its output columns and its functions. Every
 * function reads parameters from `p`, the values in the order of `params`. */
typedef struct det_method {
    const char *name;                /* --method value */
    const det_param_def_t *params;   /* ends with name == NULL */
    const char *const *extra;        /* extra column names, NULL-terminated */
    /* First evaluable 0-based index, or SN_ENODATA. */
    int64_t (*first)(const double *p, const sn_det_input_t *in);
    /* Batch evaluation of from..to into out (see sn_detector_eval). */
    int (*eval)(const double *p, const sn_det_input_t *in, size_t from,
                size_t to, sn_det_point_t *out, sn_err_t *err);
    /* Streaming: size of the ring of past values it needs (0 = whole
     * series is not allowed: streaming state is bounded), and an optional
     * step that carries state across pushes (CUSUM, EWMA, GLR). When `step`
     * is NULL the stream evaluates `eval` at the newest point of its ring. */
    size_t (*history)(const double *p, int frequency);
    size_t state_size;
    void (*state_init)(const double *p, void *state);
    void (*step)(const double *p, void *state, const sn_det_input_t *ring,
                 sn_det_point_t *out);
} det_method_t;

/* The methods of each algorithm file. */
extern const det_method_t det_ears_c1, det_ears_c2, det_ears_c3;

#endif
