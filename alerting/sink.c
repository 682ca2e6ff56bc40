/*  alerting/sink.c - the sink interface: name, kind and dispatch
 *
 *  A thin wrapper that gives every sink kind the same handle, so the outbox
 *  can hold a list of them and route each delivery by sink name.
 */
#include "sink.h"

#include "sentinel/mem.h"

#include <stdlib.h>

struct alr_sink {
    char *name;                /* from the config */
    const alr_sink_ops_t *ops; /* static table of the kind */
    void *impl;                /* owned; freed by ops->destroy */
};

alr_sink_t *
alr_sink_new(const char *name, const alr_sink_ops_t *ops, void *impl)
{
    alr_sink_t *self = sn_calloc(1, sizeof *self);
    self->name = sn_strdup(name);
    self->ops = ops;
    self->impl = impl;
    return self;
}

void
alr_sink_destroy(alr_sink_t **self_p)
{
    if (self_p == NULL || *self_p == NULL) {
        return;
    }
    alr_sink_t *self = *self_p;
    self->ops->destroy(self->impl);
    free(self->name);
    free(self);
    *self_p = NULL;
}

const char *
alr_sink_name(const alr_sink_t *self)
{
    return self->name;
}

const char *
alr_sink_kind(const alr_sink_t *self)
{
    return self->ops->kind;
}

int
alr_sink_send(alr_sink_t *self, const alr_delivery_t *d, sn_err_t *err)
{
    return self->ops->send(self->impl, d, err);
}

const char *
alr_sink_body(const alr_delivery_t *d, alr_format_t format)
{
    return format == ALR_FORMAT_CAP ? d->notice.cap : d->notice.json;
}
