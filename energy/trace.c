/* SPDX-License-Identifier: MIT */
/*
 * trace.c - the preallocated ring of region marks. Recording is one meter
 * read into the next slot; jg_trace_flush() does the time accounting and
 * hands the marks to the attribution (attrib.c), then frees every slot that
 * all zones have resolved. Memory is fixed at creation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

int jg_trace_create(jg_energy_trace_t **trace, jg_meter_t *meter, int nregions, int capacity)
{
    if (!trace) return -EINVAL;
    *trace = NULL;
    if (!meter || nregions < 1 || nregions > JG_TRACE_MAX_REGIONS || capacity < 4 ||
        capacity > (1 << 24))
        return -EINVAL;
    jg_energy_trace_t *t = calloc(1, sizeof(*t));
    if (!t) return -ENOMEM;
    t->meter = meter;
    t->nregions = nregions;
    t->nzones = jg_meter_nzones(meter);
    t->cap = (uint64_t)capacity;
    t->step_open_t = -1;
    const size_t n = (size_t)nregions;
    t->ring = calloc((size_t)capacity, sizeof(*t->ring));
    t->open_t = malloc(n * sizeof(*t->open_t));
    t->count = calloc(n, sizeof(*t->count));
    t->seconds = calloc(n, sizeof(*t->seconds));
    int err = (t->ring && t->open_t && t->count && t->seconds) ? jg_attrib_init(t) : -ENOMEM;
    if (err) {
        jg_trace_destroy(t);
        return err;
    }
    for (size_t r = 0; r < n; r++) t->open_t[r] = -1;
    *trace = t;
    return 0;
}

void jg_trace_destroy(jg_energy_trace_t *trace)
{
    if (!trace) return;
    jg_attrib_free(trace);
    free(trace->ring);
    free(trace->open_t);
    free(trace->count);
    free(trace->seconds);
    free(trace);
}

static int mark(jg_energy_trace_t *t, int region, int end)
{
    if (!t || region < JG_TRACE_STEP || region >= t->nregions) return -EINVAL;
    if (t->head - t->tail >= t->cap) {
        t->dropped++;
        return -ENOBUFS;
    }
    jg_trace_mark_t *m = jg_trace_at(t, t->head);
    m->region = region;
    m->end = end;
    /* A boundary between two regions is one reading: a begin (or the step
     * bracket's end) that comes within JG_TRACE_SHARE_NS of an end (or of
     * the step's begin) reuses that mark's sample, so the gap between them,
     * a few hundred ns of loop code plus the read, is charged to what
     * follows. The meter read is the probe's main cost (~1.1 us with the
     * estimate's two thread clocks); this halves the reads of a step (50
     * marks, 25-26 reads on the default net). A region's own end always
     * reads. */
    const int shares = (!end || region == JG_TRACE_STEP) && t->have_prev && !t->prev_is_begin &&
                       t->meter->ops->now_ns(t->meter) - t->prev_done_ns <= JG_TRACE_SHARE_NS;
    if (shares) {
        m->s = t->prev;
    } else {
        jg_meter_read(t->meter, &m->s);
        /* the gap is counted from the end of the read (~1 us with the
         * estimate's thread clocks), not from its timestamp */
        t->prev_done_ns = t->meter->ops->now_ns(t->meter);
    }
    t->prev = m->s;
    t->have_prev = 1;
    t->prev_is_begin = !end && region != JG_TRACE_STEP;
    t->head++;
    return 0;
}

int jg_trace_begin(jg_energy_trace_t *trace, int region)
{
    return mark(trace, region, 0);
}

int jg_trace_end(jg_energy_trace_t *trace, int region)
{
    return mark(trace, region, 1);
}

// Counts, seconds and step time do not depend on the zones.
static void account_time(jg_energy_trace_t *t)
{
    for (; t->time_cursor < t->head; t->time_cursor++) {
        const jg_trace_mark_t *m = jg_trace_at(t, t->time_cursor);
        const int64_t now = m->s.t_ns;
        if (!t->have_first) {
            t->first = m->s;
            t->have_first = 1;
        }
        t->last = m->s;
        int64_t *open = m->region == JG_TRACE_STEP ? &t->step_open_t : &t->open_t[m->region];
        if (!m->end) {
            *open = now;
            continue;
        }
        if (*open < 0) continue; /* an end without its begin: ignored */
        const double s = (double)(now - *open) * 1e-9;
        if (m->region == JG_TRACE_STEP) {
            t->steps++;
            t->step_s += s;
        } else {
            t->count[m->region]++;
            t->seconds[m->region] += s;
        }
        *open = -1;
    }
}

int jg_trace_flush(jg_energy_trace_t *trace)
{
    if (!trace) return -EINVAL;
    jg_energy_trace_t *t = trace;
    account_time(t);
    uint64_t tail = t->head;
    for (int z = 0; z < t->nzones; z++) {
        jg_zone_attrib_t *za = &t->z[z];
        jg_attrib_advance(t, z);
        // A counter silent over half the ring would fill it: give it up.
        if (!za->invalid && t->head - za->pending > t->cap / 2) {
            za->invalid = 1;
            za->why = JG_ZONE_STUCK;
        }
        if (!za->invalid && za->pending < tail) tail = za->pending;
    }
    t->tail = tail;
    /* outside every bracket: the estimate's new threads are picked up here,
     * at the first flush and then at most once per JG_TRACE_REFRESH_NS (a
     * refresh reads /proc/self/task: ~50 us on the 2-vCPU guest, 0.5% of
     * a 9 ms step when done after every step) */
    const int64_t now = jg_energy_clock_ns();
    if (t->refreshed && now - t->refresh_ns < JG_TRACE_REFRESH_NS) return 0;
    t->refreshed = 1;
    t->refresh_ns = now;
    return jg_meter_refresh(t->meter) == -ENOMEM ? -ENOMEM : 0;
}

int jg_trace_visit(jg_energy_trace_t *trace, jg_trace_visit_fn fn, void *ctx)
{
    if (!trace || !fn) return -EINVAL;
    jg_energy_trace_t *t = trace;
    if (t->visit_cursor < t->tail) t->visit_cursor = t->tail; /* freed unvisited */
    int n = 0;
    for (; t->visit_cursor < t->head; t->visit_cursor++, n++) {
        const jg_trace_mark_t *m = jg_trace_at(t, t->visit_cursor);
        fn(ctx, m->region, m->end, &m->s);
    }
    return n;
}
