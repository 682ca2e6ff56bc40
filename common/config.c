/*  common/config.c - YAML configuration files, checked against a schema
 *
 *  Every daemon reads one YAML file at start-up. libyaml's event parser
 *  turns it into a small tree of mappings, lists and scalars that remembers
 *  the line of every key and value; the tree is then checked against the
 *  daemon's schema table before anything starts, so a typo in a key, a
 *  number out of range or a misspelt choice stops the daemon with
 *  "file:line: reason" instead of being ignored. YAML features that make a
 *  file mean something other than it reads (anchors, aliases and merge
 *  keys, several documents) are refused.
 */
#include "sentinel/config.h"

#include "sentinel/log.h"
#include "sentinel/mem.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define CFG_DEPTH_MAX 32               /* deepest nesting accepted */
#define CFG_FILE_MAX (4 * 1024 * 1024) /* largest file read */
#define CFG_PATH_MAX 256               /* dotted path in messages */

/* ----------------------------------------------------------------- types */

typedef enum {
    CFG_SCALAR, /* text */
    CFG_MAP,    /* entries with keys */
    CFG_SEQ,    /* items */
} s_kind_t;

struct sn_cfg_node {
    s_kind_t kind;              /* scalar, mapping or list */
    char *text;                 /* scalar text; NULL otherwise */
    bool plain;                 /* scalar written without quotes */
    char *key;                  /* key, when the value of a mapping entry */
    int key_line;               /* line of that key */
    int line;                   /* 1-based line where the node starts */
    struct sn_cfg_node **items; /* children, in file order */
    size_t n, cap;              /* children used and allocated */
};

struct sn_config {
    char *file;          /* name used in messages */
    sn_cfg_node_t *root; /* the top-level mapping */
};

/* The parse state: the stack of open containers and, per open mapping, the
 * key whose value comes next. */
typedef struct {
    const char *file;                    /* name for messages */
    sn_cfg_node_t *root;                 /* first node of the document */
    sn_cfg_node_t *stack[CFG_DEPTH_MAX]; /* open mappings and lists */
    char *key[CFG_DEPTH_MAX];            /* pending key per level */
    int key_line[CFG_DEPTH_MAX];         /* its line */
    int depth;                           /* open containers */
    int documents;                       /* documents seen */
    sn_err_t *err;                       /* where failures go */
} s_parse_t;

/* ------------------------------------------------------------------ tree */

static sn_cfg_node_t *
s_node_new(s_kind_t kind, int line)
{
    sn_cfg_node_t *n = sn_calloc(1, sizeof *n);
    n->kind = kind;
    n->line = line;
    return n;
}

static void
s_node_free(sn_cfg_node_t *n)
{
    if (n == NULL) {
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        s_node_free(n->items[i]);
    }
    free(n->items);
    free(n->text);
    free(n->key);
    free(n);
}

static void
s_node_append(sn_cfg_node_t *parent, sn_cfg_node_t *child)
{
    if (parent->n == parent->cap) {
        parent->cap = parent->cap ? 2 * parent->cap : 8;
        parent->items =
            sn_reallocarray(parent->items, parent->cap, sizeof *parent->items);
    }
    parent->items[parent->n++] = child;
}

static const sn_cfg_node_t *
s_map_find(const sn_cfg_node_t *map, const char *key, size_t len)
{
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->items[i]->key;
        if (strncmp(k, key, len) == 0 && k[len] == '\0') {
            return map->items[i];
        }
    }
    return NULL;
}

/* A scalar that YAML reads as null: empty, "~" or "null", unquoted. */
static bool
s_is_null(const sn_cfg_node_t *n)
{
    return n->kind == CFG_SCALAR && n->plain &&
           (n->text[0] == '\0' || strcmp(n->text, "~") == 0 ||
            strcasecmp(n->text, "null") == 0);
}

/* --------------------------------------------------------------- parsing */

static int s_fail(s_parse_t *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
s_fail(s_parse_t *p, int line, const char *fmt, ...)
{
    char msg[SN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sn_err_set(p->err, SN_ECONFIG, "%s:%d: %s", p->file, line, msg);
}

/* The dotted path of the innermost open container, for messages. */
static void
s_stack_path(const s_parse_t *p, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 1; i < p->depth && o < size; i++) {
        const sn_cfg_node_t *n = p->stack[i];
        int w =
            n->key != NULL
                ? snprintf(buf + o, size - o, "%s%s", o ? "." : "", n->key)
                : snprintf(buf + o, size - o, "[%zu]", p->stack[i - 1]->n - 1);
        o += w > 0 ? (size_t)w : 0;
    }
}

/* Attach a new node where the parser stands: as the next item of a list,
 * as the key of a mapping entry (scalars only; the node is then consumed),
 * or as the value of the pending key. Containers are pushed. The node is
 * owned by the tree (or freed) whatever happens. */
static int
s_attach(s_parse_t *p, sn_cfg_node_t *node)
{
    if (p->depth == 0) {
        p->root = node;
    } else {
        int top = p->depth - 1;
        sn_cfg_node_t *parent = p->stack[top];
        if (parent->kind == CFG_MAP && p->key[top] == NULL) {
            if (node->kind != CFG_SCALAR) {
                int line = node->line;
                s_node_free(node);
                return s_fail(p, line, "keys must be plain text");
            }
            const sn_cfg_node_t *dup =
                s_map_find(parent, node->text, strlen(node->text));
            int line = node->line;
            p->key[top] = node->text;
            p->key_line[top] = line;
            node->text = NULL;
            s_node_free(node);
            if (dup != NULL) {
                char path[CFG_PATH_MAX];
                s_stack_path(p, path, sizeof path);
                return s_fail(p, line,
                              "duplicate key '%s' %s%s%s (first at line %d)",
                              p->key[top], *path ? "in '" : "at top level",
                              path, *path ? "'" : "", dup->key_line);
            }
            return SN_OK;
        }
        if (parent->kind == CFG_MAP) {
            node->key = p->key[top];
            node->key_line = p->key_line[top];
            p->key[top] = NULL;
        }
        s_node_append(parent, node);
    }
    if (node->kind != CFG_SCALAR) {
        if (p->depth == CFG_DEPTH_MAX) {
            return s_fail(p, node->line, "nested deeper than %d levels",
                          CFG_DEPTH_MAX);
        }
        p->stack[p->depth++] = node;
    }
    return SN_OK;
}

/* Refuse anchors: with aliases and merge keys they make a value appear in
 * places the reader of the file does not see it. */
static int
s_check_anchor(s_parse_t *p, const yaml_char_t *anchor, int line)
{
    if (anchor != NULL) {
        return s_fail(p, line, "anchors are not supported (&%s)",
                      (const char *)anchor);
    }
    return SN_OK;
}

static int
s_on_scalar(s_parse_t *p, const yaml_event_t *ev, int line)
{
    int rc = s_check_anchor(p, ev->data.scalar.anchor, line);
    if (rc != SN_OK) {
        return rc;
    }
    const char *value = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (strlen(value) != len) {
        return s_fail(p, line, "NUL character in a value");
    }
    sn_cfg_node_t *n = s_node_new(CFG_SCALAR, line);
    n->text = sn_strndup(value, len);
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    return s_attach(p, n);
}

/* Handle one parser event. @return SN_OK, SN_ECONFIG, or 1 at the end. */
static int
s_on_event(s_parse_t *p, const yaml_event_t *ev)
{
    int line = (int)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++p->documents > 1) {
            return s_fail(p, line, "only one YAML document is allowed");
        }
        return SN_OK;
    case YAML_ALIAS_EVENT:
        return s_fail(p, line, "aliases are not supported (*%s)",
                      (const char *)ev->data.alias.anchor);
    case YAML_SCALAR_EVENT:
        return s_on_scalar(p, ev, line);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        bool map = ev->type == YAML_MAPPING_START_EVENT;
        int rc = s_check_anchor(p,
                                map ? ev->data.mapping_start.anchor
                                    : ev->data.sequence_start.anchor,
                                line);
        return rc != SN_OK
                   ? rc
                   : s_attach(p, s_node_new(map ? CFG_MAP : CFG_SEQ, line));
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        p->depth--;
        return SN_OK;
    default:
        return SN_OK;
    }
}

static int
s_syntax_error(s_parse_t *p, const yaml_parser_t *y)
{
    int line = (int)y->problem_mark.line + 1;
    if (y->context != NULL) {
        return s_fail(p, line, "YAML syntax error: %s (%s)",
                      y->problem ? y->problem : "unknown problem", y->context);
    }
    return s_fail(p, line, "YAML syntax error: %s",
                  y->problem ? y->problem : "unknown problem");
}

/* Run libyaml over `text` and build the tree into p->root. */
static int
s_parse(s_parse_t *p, const char *text, size_t len)
{
    yaml_parser_t y;
    if (!yaml_parser_initialize(&y)) {
        abort(); /* libyaml fails here only when out of memory */
    }
    yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
    int rc = SN_OK;
    while (rc == SN_OK) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&y, &ev)) {
            rc = s_syntax_error(p, &y);
            break;
        }
        rc = s_on_event(p, &ev);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&y);
    for (int i = 0; i < CFG_DEPTH_MAX; i++) {
        free(p->key[i]);
        p->key[i] = NULL;
    }
    return rc < 0 ? rc : SN_OK;
}

/* ------------------------------------------------------------ validation */

typedef struct {
    const char *file; /* name for messages */
    sn_err_t *err;    /* where failures go */
} s_check_t;

static int s_bad(const s_check_t *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
s_bad(const s_check_t *c, int line, const char *fmt, ...)
{
    char msg[SN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sn_err_set(c->err, SN_ECONFIG, "%s:%d: %s", c->file, line, msg);
}

static const char *
s_kind_name(const sn_cfg_node_t *n)
{
    if (n->kind == CFG_MAP) {
        return "a mapping";
    }
    return n->kind == CFG_SEQ ? "a list" : "a single value";
}

/* Join the names of a NULL-terminated list, or of a schema table's keys. */
static void
s_join(char *buf, size_t size, const char *const *names,
       const sn_cfg_schema_t *fields)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0;; i++) {
        const char *name = names ? names[i] : fields[i].key;
        if (name == NULL) {
            break;
        }
        int w = snprintf(buf + o, size - o, "%s%s", i ? ", " : "", name);
        if (w < 0 || (size_t)w >= size - o) {
            break;
        }
        o += (size_t)w;
    }
}

static int s_check_node(const s_check_t *c, const sn_cfg_schema_t *s,
                        const sn_cfg_node_t *n, const char *path);

static int
s_check_map(const s_check_t *c, const sn_cfg_schema_t *fields,
            const sn_cfg_node_t *n, const char *path)
{
    char sub[CFG_PATH_MAX];
    for (size_t i = 0; i < n->n; i++) {
        const sn_cfg_node_t *v = n->items[i];
        const sn_cfg_schema_t *f = fields;
        while (f->key != NULL && strcmp(f->key, v->key) != 0) {
            f++;
        }
        if (f->key == NULL) {
            char names[SN_ERR_MSG_MAX / 2];
            s_join(names, sizeof names, NULL, fields);
            char where[CFG_PATH_MAX + 8];
            snprintf(where, sizeof where, *path ? "in '%s'" : "at top level",
                     path);
            return s_bad(c, v->key_line,
                         "unknown key '%s' %s (expected one of: %s)", v->key,
                         where, names);
        }
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", v->key);
        int rc = s_check_node(c, f, v, sub);
        if (rc != SN_OK) {
            return rc;
        }
    }
    for (const sn_cfg_schema_t *f = fields; f->key != NULL; f++) {
        if (f->required && s_map_find(n, f->key, strlen(f->key)) == NULL) {
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", f->key);
            return s_bad(c, sn_cfg_line(n), "missing required key '%s'", sub);
        }
    }
    return SN_OK;
}

/* The items of a list or the values of a free-form mapping. */
static int
s_check_items(const s_check_t *c, const sn_cfg_schema_t *s,
              const sn_cfg_node_t *n, const char *path)
{
    char sub[CFG_PATH_MAX];
    if (s->max > 0 && (n->n < s->min || n->n > s->max)) {
        return s_bad(c, n->line, "key '%s': %zu items, expected %g to %g", path,
                     n->n, s->min, s->max);
    }
    for (size_t i = 0; i < n->n; i++) {
        const sn_cfg_node_t *v = n->items[i];
        if (n->kind == CFG_SEQ) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        } else {
            snprintf(sub, sizeof sub, "%s.%s", path, v->key);
        }
        int rc = s_check_node(c, s->item, v, sub);
        if (rc != SN_OK) {
            return rc;
        }
    }
    return SN_OK;
}

static int
s_check_number(const s_check_t *c, const sn_cfg_schema_t *s,
               const sn_cfg_node_t *n, const char *path)
{
    char *end = NULL;
    double v;
    errno = 0;
    if (s->type == SN_CFG_INT) {
        long long i = strtoll(n->text, &end, 10);
        v = (double)i;
    } else {
        v = strtod(n->text, &end);
    }
    if (end == n->text || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        return s_bad(c, n->line, "key '%s': expected %s, got '%s'", path,
                     s->type == SN_CFG_INT ? "an integer" : "a number",
                     n->text);
    }
    if (v < s->min || v > s->max) {
        return s_bad(c, n->line, "key '%s': %s is outside %.15g..%.15g", path,
                     n->text, s->min, s->max);
    }
    return SN_OK;
}

static bool
s_parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
            *out = strcasecmp(text, yes[i]) == 0;
            return true;
        }
    }
    return false;
}

static int
s_check_scalar(const s_check_t *c, const sn_cfg_schema_t *s,
               const sn_cfg_node_t *n, const char *path)
{
    size_t len = strlen(n->text);
    bool b;
    char names[SN_ERR_MSG_MAX / 2];
    switch (s->type) {
    case SN_CFG_STRING:
        if (s->max > 0 && (len < s->min || len > s->max)) {
            return s_bad(c, n->line,
                         "key '%s': %zu characters long, expected %g to %g",
                         path, len, s->min, s->max);
        }
        return SN_OK;
    case SN_CFG_INT:
    case SN_CFG_FLOAT:
        return s_check_number(c, s, n, path);
    case SN_CFG_BOOL:
        return s_parse_bool(n->text, &b)
                   ? SN_OK
                   : s_bad(c, n->line,
                           "key '%s': expected true or false, "
                           "got '%s'",
                           path, n->text);
    case SN_CFG_ENUM:
        for (size_t i = 0; s->choices[i] != NULL; i++) {
            if (strcmp(n->text, s->choices[i]) == 0) {
                return SN_OK;
            }
        }
        s_join(names, sizeof names, s->choices, NULL);
        return s_bad(c, n->line, "key '%s': '%s' is not one of: %s", path,
                     n->text, names);
    default:
        return SN_OK;
    }
}

static int
s_check_node(const s_check_t *c, const sn_cfg_schema_t *s,
             const sn_cfg_node_t *n, const char *path)
{
    bool container = s->type == SN_CFG_MAP || s->type == SN_CFG_DICT ||
                     s->type == SN_CFG_LIST;
    if (s_is_null(n)) {
        return s_bad(c, n->line, "key '%s': no value", path);
    }
    s_kind_t want = s->type == SN_CFG_LIST ? CFG_SEQ
                    : container            ? CFG_MAP
                                           : CFG_SCALAR;
    if (n->kind != want) {
        return s_bad(c, n->line, "key '%s': expected %s, got %s", path,
                     want == CFG_SEQ   ? "a list"
                     : want == CFG_MAP ? "a mapping"
                                       : "a single value",
                     s_kind_name(n));
    }
    if (s->type == SN_CFG_MAP) {
        return s_check_map(c, s->fields, n, path);
    }
    if (container) {
        return s_check_items(c, s, n, path);
    }
    return s_check_scalar(c, s, n, path);
}

/* ------------------------------------------------------------- lifecycle */

int
sn_config_parse(const char *text, size_t len, const char *name,
                const sn_cfg_schema_t *root, sn_config_t **out, sn_err_t *err)
{
    s_parse_t p;
    memset(&p, 0, sizeof p);
    p.file = name;
    p.err = err;
    int rc = s_parse(&p, text, len);
    if (rc == SN_OK && (p.root == NULL || s_is_null(p.root))) {
        rc = s_fail(&p, 1, "empty file (expected a mapping of settings)");
    } else if (rc == SN_OK && p.root->kind != CFG_MAP) {
        rc = s_fail(&p, p.root->line,
                    "expected a mapping at top level, "
                    "got %s",
                    s_kind_name(p.root));
    }
    if (rc == SN_OK) {
        s_check_t c = {name, err};
        rc = s_check_map(&c, root, p.root, "");
    }
    if (rc != SN_OK) {
        s_node_free(p.root);
        return rc;
    }
    sn_config_t *cfg = sn_calloc(1, sizeof *cfg);
    cfg->file = sn_strdup(name);
    cfg->root = p.root;
    *out = cfg;
    return SN_OK;
}

int
sn_config_load(const char *path, const sn_cfg_schema_t *root, sn_config_t **out,
               sn_err_t *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return sn_err_set(err, SN_EIO, "%s: cannot open: %s", path,
                          strerror(errno));
    }
    char *text = sn_malloc(CFG_FILE_MAX + 1);
    size_t len = fread(text, 1, CFG_FILE_MAX + 1, f);
    int failed = ferror(f);
    fclose(f);
    int rc;
    if (failed) {
        rc = sn_err_set(err, SN_EIO, "%s: cannot read", path);
    } else if (len > CFG_FILE_MAX) {
        rc = sn_err_set(err, SN_ECONFIG, "%s: larger than %d bytes", path,
                        CFG_FILE_MAX);
    } else {
        rc = sn_config_parse(text, len, path, root, out, err);
    }
    free(text);
    return rc;
}

void
sn_config_destroy(sn_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    s_node_free((*self_p)->root);
    free((*self_p)->file);
    free(*self_p);
    *self_p = NULL;
}

const char *
sn_config_file(const sn_config_t *self)
{
    return self->file;
}

const sn_cfg_node_t *
sn_config_root(const sn_config_t *self)
{
    return self->root;
}

/* --------------------------------------------------------------- getters */

const sn_cfg_node_t *
sn_cfg_get(const sn_cfg_node_t *node, const char *path)
{
    const char *p = path;
    while (node != NULL && p != NULL && *p != '\0') {
        size_t len = strcspn(p, ".");
        if (node->kind == CFG_MAP) {
            node = s_map_find(node, p, len);
        } else if (node->kind == CFG_SEQ) {
            char *end = NULL;
            unsigned long i = strtoul(p, &end, 10);
            bool ok = end == p + len && len > 0 && i < node->n;
            node = ok ? node->items[i] : NULL;
        } else {
            node = NULL;
        }
        p += len + (p[len] == '.');
    }
    return node;
}

/* The scalar at `path`, or NULL when absent, null or not a scalar. */
static const char *
s_value(const sn_cfg_node_t *node, const char *path)
{
    const sn_cfg_node_t *n = sn_cfg_get(node, path);
    if (n == NULL || n->kind != CFG_SCALAR || s_is_null(n)) {
        return NULL;
    }
    return n->text;
}

const char *
sn_cfg_str(const sn_cfg_node_t *node, const char *path, const char *dflt)
{
    const char *v = s_value(node, path);
    return v != NULL ? v : dflt;
}

int64_t
sn_cfg_int(const sn_cfg_node_t *node, const char *path, int64_t dflt)
{
    const char *v = s_value(node, path);
    char *end = NULL;
    if (v == NULL) {
        return dflt;
    }
    errno = 0;
    long long i = strtoll(v, &end, 10);
    return (end == v || *end != '\0' || errno != 0) ? dflt : (int64_t)i;
}

double
sn_cfg_float(const sn_cfg_node_t *node, const char *path, double dflt)
{
    const char *v = s_value(node, path);
    char *end = NULL;
    if (v == NULL) {
        return dflt;
    }
    double d = strtod(v, &end);
    return (end == v || *end != '\0') ? dflt : d;
}

bool
sn_cfg_bool(const sn_cfg_node_t *node, const char *path, bool dflt)
{
    const char *v = s_value(node, path);
    bool b = dflt;
    if (v != NULL && !s_parse_bool(v, &b)) {
        b = dflt;
    }
    return b;
}

size_t
sn_cfg_size(const sn_cfg_node_t *node)
{
    return (node == NULL || node->kind == CFG_SCALAR) ? 0 : node->n;
}

const sn_cfg_node_t *
sn_cfg_at(const sn_cfg_node_t *node, size_t i)
{
    if (node == NULL || node->kind == CFG_SCALAR || i >= node->n) {
        return NULL;
    }
    return node->items[i];
}

const char *
sn_cfg_key(const sn_cfg_node_t *node)
{
    return node != NULL ? node->key : NULL;
}

const char *
sn_cfg_text(const sn_cfg_node_t *node)
{
    return (node != NULL && node->kind == CFG_SCALAR) ? node->text : NULL;
}

int
sn_cfg_line(const sn_cfg_node_t *node)
{
    /* A block mapping or list starts on the line after its key; the key is
     * where a reader looks for it. */
    if (node != NULL && node->key != NULL) {
        return node->key_line;
    }
    return node != NULL ? node->line : 0;
}

int
sn_cfg_error(const sn_config_t *cfg, const sn_cfg_node_t *node, sn_err_t *err,
             const char *fmt, ...)
{
    char msg[SN_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sn_err_set(err, SN_ECONFIG, "%s:%d: %s", cfg->file,
                      sn_cfg_line(node), msg);
}

/* ----------------------------------------------------------- log section */

static const char *const s_log_levels[] = {"debug", "info", "warn",
                                           "error", "off",  NULL};
static const char *const s_log_formats[] = {"logfmt", "json", NULL};

const sn_cfg_schema_t sn_cfg_log_schema[] = {
    {.key = "level",
     .type = SN_CFG_ENUM,
     .choices = s_log_levels,
     .doc = "lowest level written: debug, info, warn, error or off"},
    {.key = "format",
     .type = SN_CFG_ENUM,
     .choices = s_log_formats,
     .doc = "logfmt (key=value) or json (one object per line)"},
    {.key = NULL},
};

void
sn_cfg_log_setup(const sn_config_t *cfg)
{
    const sn_cfg_node_t *root = sn_config_root(cfg);
    sn_log_level_t level = SN_LOG_INFO;
    if (sn_log_level_parse(sn_cfg_str(root, "log.level", "info"), &level) !=
        SN_OK) {
        level = SN_LOG_INFO;
    }
    const char *format = sn_cfg_str(root, "log.format", "logfmt");
    sn_log_setup(level,
                 strcmp(format, "json") == 0 ? SN_LOG_JSON : SN_LOG_LOGFMT);
}
