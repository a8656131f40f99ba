/* SPDX-License-Identifier: MIT */
/*
 * pareto.c - two-objective helpers for energy-aware tuning (accuracy up,
 * cost down): the non-dominated set and the dominated area (hypervolume).
 * Both are O(n^2) without allocation; studies have tens to hundreds of trials.
 */
#include <errno.h>
#include <math.h>

#include "tune_internal.h"

/* 1 if point j dominates point i, or equals it and comes first. */
static int beats(const double *acc, const double *cost, int j, int i)
{
    if (acc[j] == acc[i] && cost[j] == cost[i]) return j < i;
    return acc[j] >= acc[i] && cost[j] <= cost[i];
}

int jg_tune_pareto_front(const double *acc, const double *cost, int n, int *idx,
                         int *n_front)
{
    if (!acc || !cost || !idx || !n_front || n < 0) return -EINVAL;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (isnan(acc[i]) || isnan(cost[i])) continue;
        int dominated = 0;
        for (int j = 0; j < n && !dominated; j++)
            dominated = j != i && !isnan(acc[j]) && !isnan(cost[j]) && beats(acc, cost, j, i);
        if (dominated) continue;
        /* insertion by (cost ascending, acc descending) */
        int k = m++;
        while (k > 0 && (cost[idx[k - 1]] > cost[i] ||
                         (cost[idx[k - 1]] == cost[i] && acc[idx[k - 1]] < acc[i]))) {
            idx[k] = idx[k - 1];
            k--;
        }
        idx[k] = i;
    }
    *n_front = m;
    return 0;
}

double jg_tune_hypervolume2(const double *acc, const double *cost, int n,
                            double ref_acc, double ref_cost)
{
    if (!acc || !cost || n < 0) return NAN;
    /* Sweep the cost axis: between consecutive costs c < c' of counted points
     * the dominated height is max{acc_i : cost_i <= c} - ref_acc. */
    double area = 0.0, c = -INFINITY;
    for (;;) {
        double next = ref_cost, height = 0.0;
        for (int i = 0; i < n; i++) {
            if (!(acc[i] > ref_acc && cost[i] < ref_cost)) continue;
            if (cost[i] <= c) height = fmax(height, acc[i] - ref_acc);
            else if (cost[i] < next) next = cost[i];
        }
        if (c > -INFINITY) area += (next - c) * height;
        if (next >= ref_cost) break;
        c = next;
    }
    return area;
}
