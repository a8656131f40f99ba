/* SPDX-License-Identifier: MIT */
/*
 * attrib.c - per-region energy from a trace (docs/energy.md).
 *
 * Per zone, the counter's cumulative energy E(t) is reconstructed from the
 * change points seen in the marks: a change first seen at mark j (value
 * V_j, previous mark at t_{j-1}) is a knot (tau, V_j) with
 * tau = (t_{j-1} + t_j) / 2, and E is linear between knots. Each region
 * gets E(end) - E(begin) (the `interp` figure). Because a 1 ms counter
 * update period smears a 0.1 ms region over its neighbours, every interval
 * between knots also gives one equation dV = sum_r P_r * overlap_r, and
 * the least-squares powers P_r (constant per region over the run) give the
 * `fit` figure P_r * seconds_r when the system is well determined. A
 * continuous counter (estimate) has a knot at every mark: exact.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trace_internal.h"

/* Relative drift allowed between the nominal update period and the
 * counter's real one when carrying an update's time window forward. */
#define JG_ATTRIB_DRIFT 1e-5
/* Cholesky pivots below this fraction of the largest diagonal: singular. */
#define FIT_PIVOT_RTOL 1e-10
/* Fitted powers below -this fraction of the largest are not noise. */
#define FIT_NEGATIVE_RTOL 0.02
/* Ridge toward the interp powers, relative to each unknown's diagonal: it
 * decides only the directions the equations leave (nearly) undetermined,
 * e.g. a region always adjacent to another and shorter than the
 * resolution of the change points. */
#define FIT_RIDGE 1e-6
/* Largest uncertainty of an update's time, relative to the period, for its
 * interval to enter the fit. */
#define FIT_MAX_TICK_ERR 0.02
/* At least this many equations per unknown before trusting the fit. */
#define FIT_MIN_EQ_PER_UNKNOWN 3

const char *jg_attrib_method_name(jg_attrib_method_t method)
{
    switch (method) {
    case JG_ATTRIB_EXACT: return "exact";
    case JG_ATTRIB_INTERP: return "interp";
    case JG_ATTRIB_FIT: return "fit";
    case JG_ATTRIB_NONE: break;
    }
    return "none";
}

int jg_attrib_init(jg_energy_trace_t *t)
{
    const size_t n = (size_t)t->nregions, n1 = n + 1;
    for (int z = 0; z < t->nzones; z++) {
        jg_zone_attrib_t *za = &t->z[z];
        jg_zone_info_t info;
        jg_meter_zone_info(t->meter, z, &info);
        za->continuous = info.update_period_ns == 0;
        za->period_ns = info.update_period_ns;
        za->cur = t->nregions;
        za->open_uj = malloc(n * sizeof(double));
        za->interp_uj = calloc(n, sizeof(double));
        za->ov = calloc(n1, sizeof(double));
        za->ata = calloc(n1 * n1, sizeof(double));
        za->atb = calloc(n1, sizeof(double));
        if (!za->open_uj || !za->interp_uj || !za->ov || !za->ata || !za->atb) return -ENOMEM;
        for (size_t r = 0; r < n; r++) za->open_uj[r] = NAN;
        za->step_open_uj = NAN;
    }
    t->scratch = malloc((n1 * n1 + 2 * n1) * sizeof(double));
    t->active = malloc(n1 * sizeof(int));
    return t->scratch && t->active ? 0 : -ENOMEM;
}

void jg_attrib_free(jg_energy_trace_t *t)
{
    for (int z = 0; z < JG_METER_MAX_ZONES; z++) {
        jg_zone_attrib_t *za = &t->z[z];
        free(za->open_uj);
        free(za->interp_uj);
        free(za->ov);
        free(za->ata);
        free(za->atb);
    }
    free(t->scratch);
    free(t->active);
}

static void invalidate(jg_zone_attrib_t *za, jg_zone_status_t why)
{
    if (za->invalid) return;
    za->invalid = 1;
    za->why = why == JG_ZONE_OK ? JG_ZONE_READ_ERROR : why;
}

// One mark whose E is now known: region sums and this interval's overlaps.
static void apply(jg_energy_trace_t *t, jg_zone_attrib_t *za, const jg_trace_mark_t *m,
                  double e_uj)
{
    za->ov[za->cur] += (double)(m->s.t_ns - za->cur_t) * 1e-9;
    za->cur_t = m->s.t_ns;
    if (m->region == JG_TRACE_STEP) {
        if (!m->end) {
            za->step_open_uj = e_uj;
        } else if (!isnan(za->step_open_uj)) {
            za->step_uj += e_uj - za->step_open_uj;
            za->step_open_uj = NAN;
        }
        return;
    }
    const int r = m->region;
    if (!m->end) {
        za->open_uj[r] = e_uj;
        za->cur = r;
        return;
    }
    if (!isnan(za->open_uj[r])) za->interp_uj[r] += e_uj - za->open_uj[r];
    za->open_uj[r] = NAN;
    if (za->cur == r) za->cur = t->nregions;
}

// A new knot (tau, v): resolve the marks [pending, limit) lying before it
// and close the interval's equation.
static void knot(jg_energy_trace_t *t, jg_zone_attrib_t *za, int64_t tau, uint64_t v,
                 uint64_t limit)
{
    const double v0 = (double)za->knot_v, dv = (double)(v - za->knot_v);
    const double span = (double)(tau - za->knot_t);
    for (; za->pending < limit; za->pending++) {
        const jg_trace_mark_t *m = jg_trace_at(t, za->pending);
        const double f = span > 0 ? (double)(m->s.t_ns - za->knot_t) / span : 1.0;
        apply(t, za, m, v0 + dv * f);
    }
    za->ov[za->cur] += (double)(tau - za->cur_t) * 1e-9;
    za->cur_t = tau;
    // The interval before the first observed change starts at an unknown
    // update, so it gives no equation.
    const int n1 = t->nregions + 1;
    // Equations whose ends are not yet pinned to within FIT_MAX_TICK_ERR of
    // the period (before the update phase is locked) would bias the fit.
    const int64_t width = za->lock_hi - za->lock_lo;
    const double max_err_ns = (double)za->period_ns * FIT_MAX_TICK_ERR;
    const int sharp = (double)width <= max_err_ns && (double)za->prev_width <= max_err_ns;
    za->prev_width = width;
    if (za->seen_change && !za->continuous && sharp) {
        for (int i = 0; i < n1; i++) {
            if (za->ov[i] == 0) continue;
            for (int k = 0; k < n1; k++)
                if (za->ov[k] != 0) za->ata[i * n1 + k] += za->ov[i] * za->ov[k];
            za->atb[i] += za->ov[i] * dv;
            za->eq_s += za->ov[i];
        }
        za->eq_uj += dv;
        za->nequations++;
    }
    memset(za->ov, 0, (size_t)n1 * sizeof(double));
    za->seen_change = 1;
    za->knot_t = tau;
    za->knot_v = v;
}

// The update that a change first seen in (a, b] reveals happened inside
// that window. Updates come every period, so the window carried forward by
// whole periods (widened by JG_ATTRIB_DRIFT per period for clock drift)
// narrows it; when they do not overlap the period was off and the window
// alone counts. Returns the middle of what is left.
static int64_t tick_time(jg_zone_attrib_t *za, int64_t a, int64_t b)
{
    int64_t lo = a, hi = b;
    const int64_t p = za->period_ns;
    if (za->have_lock && p > 0) {
        const int64_t n = ((a + b) / 2 - (za->lock_lo + za->lock_hi) / 2 + p / 2) / p;
        if (n >= 1) {
            const int64_t slack = (int64_t)((double)(n * p) * JG_ATTRIB_DRIFT);
            const int64_t plo = za->lock_lo + n * p - slack, phi = za->lock_hi + n * p + slack;
            if (plo <= b && phi >= a) {
                lo = plo > a ? plo : a;
                hi = phi < b ? phi : b;
            }
        }
    }
    za->have_lock = 1;
    za->lock_lo = lo;
    za->lock_hi = hi;
    return lo + (hi - lo) / 2;
}

void jg_attrib_advance(jg_energy_trace_t *t, int z)
{
    jg_zone_attrib_t *za = &t->z[z];
    for (; za->cursor < t->head && !za->invalid; za->cursor++) {
        const uint64_t seq = za->cursor;
        const jg_energy_sample_t *s = &jg_trace_at(t, seq)->s;
        const uint64_t v = s->ext_uj[z];
        if (s->status[z] != JG_ZONE_OK) {
            invalidate(za, (jg_zone_status_t)s->status[z]);
            break;
        }
        if (!za->have_knot) {
            za->have_knot = 1;
            za->knot_t = za->prev_t = za->cur_t = s->t_ns;
            za->knot_v = za->prev_v = v;
            za->epoch = s->epoch[z];
            za->pending = seq;
            continue;
        }
        if (s->epoch[z] != za->epoch) {
            invalidate(za, (jg_zone_status_t)s->last_fault[z]);
            break;
        }
        if (v < za->prev_v) {
            invalidate(za, JG_ZONE_READ_ERROR);
            break;
        }
        if (za->continuous)
            knot(t, za, s->t_ns, v, seq + 1);
        else if (v != za->prev_v)
            knot(t, za, tick_time(za, za->prev_t, s->t_ns), v, seq);
        za->prev_t = s->t_ns;
        za->prev_v = v;
    }
}

// Least-squares powers (uW) of the regions with time in the equations, by
// Cholesky on the normal equations. Returns 0, or -ERANGE when the system
// is not well determined (then the caller keeps the interp figures).
static int fit_zone(jg_energy_trace_t *t, const jg_zone_attrib_t *za, double *p_uw)
{
    const int n1 = t->nregions + 1;
    int na = 0;
    double dmax = 0;
    for (int i = 0; i < n1; i++) {
        const double d = za->ata[i * n1 + i];
        if (d > 0) t->active[na++] = i;
        if (d > dmax) dmax = d;
    }
    if (na == 0 || za->nequations < (uint64_t)(FIT_MIN_EQ_PER_UNKNOWN * na)) return -ERANGE;
    double *a = t->scratch, *x = a + (size_t)na * (size_t)na;
    const double mean_uw = za->eq_s > 0 ? za->eq_uj / za->eq_s : 0;
    for (int i = 0; i < na; i++) {
        const int r = t->active[i];
        for (int k = 0; k < na; k++) a[i * na + k] = za->ata[r * n1 + t->active[k]];
        const double prior_uw = r < t->nregions && t->seconds[r] > 0
                                    ? za->interp_uj[r] / t->seconds[r] : mean_uw;
        const double ridge = FIT_RIDGE * a[i * na + i];
        a[i * na + i] += ridge;
        x[i] = za->atb[r] + ridge * prior_uw;
    }
    // A = L L^T in place (lower triangle).
    for (int j = 0; j < na; j++) {
        double d = a[j * na + j];
        for (int k = 0; k < j; k++) d -= a[j * na + k] * a[j * na + k];
            if (d <= FIT_PIVOT_RTOL * dmax) return -ERANGE;
        d = sqrt(d);
        a[j * na + j] = d;
        for (int i = j + 1; i < na; i++) {
            double s = a[i * na + j];
            for (int k = 0; k < j; k++) s -= a[i * na + k] * a[j * na + k];
            a[i * na + j] = s / d;
        }
    }
    for (int i = 0; i < na; i++) {
        for (int k = 0; k < i; k++) x[i] -= a[i * na + k] * x[k];
        x[i] /= a[i * na + i];
    }
    for (int i = na - 1; i >= 0; i--) {
        for (int k = i + 1; k < na; k++) x[i] -= a[k * na + i] * x[k];
        x[i] /= a[i * na + i];
    }
    double pmax = 0;
    for (int i = 0; i < na; i++) pmax = fmax(pmax, x[i]);
    for (int i = 0; i < n1; i++) p_uw[i] = 0;
    for (int i = 0; i < na; i++) {
            if (x[i] < -FIT_NEGATIVE_RTOL * pmax) return -ERANGE;
        p_uw[t->active[i]] = fmax(x[i], 0);
    }
    return 0;
}

int jg_trace_result(jg_energy_trace_t *trace, jg_attrib_summary_t *sum,
                    jg_region_energy_t *regions, int nregions)
{
    if (!trace || !sum || (regions && nregions != trace->nregions)) return -EINVAL;
    jg_energy_trace_t *t = trace;
    const int n = t->nregions;
    memset(sum, 0, sizeof(*sum));
    if (regions) memset(regions, 0, (size_t)n * sizeof(*regions));
    sum->source = jg_meter_source(t->meter);
    sum->valid = 1;
    sum->zone = -1;
    sum->steps = t->steps;
    sum->dropped = t->dropped;
    sum->step_s = t->step_s;
    // Fitted powers (n + 1) live past the solve's matrix and vector.
    double *p_uw = t->scratch + (size_t)(n + 1) * (size_t)(n + 1) + (size_t)(n + 1);
    int any = 0, weakest = JG_ATTRIB_EXACT;
    for (int z = 0; z < t->nzones; z++) {
        const jg_zone_attrib_t *za = &t->z[z];
        jg_zone_info_t info;
        jg_meter_zone_info(t->meter, z, &info);
        if (info.counted) {
            if (za->invalid && sum->valid) {
                sum->valid = 0;
                sum->why = za->why;
                sum->zone = z;
            }
            if (info.update_period_ns > sum->update_period_ns)
                sum->update_period_ns = info.update_period_ns;
            sum->step_j += za->step_uj * 1e-6;
        }
        jg_attrib_method_t method = JG_ATTRIB_EXACT;
        if (!za->continuous) method = fit_zone(t, za, p_uw) ? JG_ATTRIB_INTERP : JG_ATTRIB_FIT;
        if (info.counted) {
            any = 1;
            if (method == JG_ATTRIB_INTERP ||
                (method == JG_ATTRIB_FIT && weakest == JG_ATTRIB_EXACT))
                weakest = (int)method;
        }
        for (int r = 0; r < n && regions; r++) {
            const double interp_j = za->interp_uj[r] * 1e-6;
            const double j = method == JG_ATTRIB_FIT ? p_uw[r] * t->seconds[r] * 1e-6 : interp_j;
            regions[r].zone_j[z] = j;
            if (info.counted) {
                regions[r].j += j;
                regions[r].j_interp += interp_j;
            }
        }
        if (info.counted && method == JG_ATTRIB_FIT) {
            for (int r = 0; r < n; r++) sum->regions_j += p_uw[r] * t->seconds[r] * 1e-6;
        } else if (info.counted) {
            /* summed in uJ, then scaled once: regions that tile the step
             * (shared boundary readings) then add up to it exactly, not to
             * an ulp above it */
            double uj = 0;
            for (int r = 0; r < n; r++) uj += za->interp_uj[r];
            sum->regions_j += uj * 1e-6;
        }
    }
    sum->method = any && t->have_first ? (jg_attrib_method_t)weakest : JG_ATTRIB_NONE;
    if (t->dropped && sum->valid) {
        sum->valid = 0;
        sum->why = JG_ZONE_GAP;
    }
    if (t->have_first) {
        jg_energy_figure_t fig;
        jg_meter_figure(t->meter, &t->first, &t->last, JG_ZONE_TOTAL, &fig);
        sum->total_s = (double)(t->last.t_ns - t->first.t_ns) * 1e-9;
        if (fig.valid) {
            sum->total_uj = fig.uj;
        } else if (sum->valid) {
            sum->valid = 0;
            sum->why = fig.why;
            sum->zone = fig.zone;
        }
    }
    sum->closure = sum->step_j > 0 ? sum->regions_j / sum->step_j : 0;
    for (int r = 0; r < n && regions; r++) {
        jg_region_energy_t *re = &regions[r];
        re->count = t->count[r];
        re->seconds = t->seconds[r];
        re->valid = sum->valid;
        re->why = sum->why;
        re->aggregated = sum->update_period_ns > 0 &&
                         re->seconds * (1 + 1e-9) <
                             JG_ATTRIB_MIN_PERIODS * (double)sum->update_period_ns * 1e-9;
    }
    return 0;
}
