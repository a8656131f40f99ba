/* SPDX-License-Identifier: MIT */
/*
 * Batch norm 2d: every ISA vs the _ref twins over generated shapes, forward
 * (training statistics, running-stat update, inference) vs a double
 * reference, the _ref backward against double central differences,
 * accumulation into pre-filled gradients, thread-count determinism and bad
 * arguments.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* the call must return 0 */
#define CHECK_OK(call) assert_int_equal((call), 0)

/* mean/rstd/running stats are float roundings of double sums (~1e-16 rel),
 * so they land within 1 ulp of the exact value; allow 2 ulp. */
#define TOL_STAT_RTOL (2.0 * FLT_EPSILON)
#define TOL_STAT_ATOL 1e-12
/* y = (x - mean)*scale + beta: SIMD fuses the multiply-add, _ref rounds twice;
 * with |y| <= ~6 here that is a few ulp of 6 (ulp ~4.8e-7). */
#define TOL_Y_RTOL 1e-6
#define TOL_Y_ATOL 2e-6
/* dx += a*dy + k*(x - mean) + b: three terms of size <= ~3 plus a pre-filled
 * dx of size ~1, rounded in a different order by SIMD (FMA): ~8 ulp of 4. */
#define TOL_DX_RTOL 1e-5
#define TOL_DX_ATOL 4e-6
/* dgamma/dbeta are float roundings of double sums added to a float. */
#define TOL_DG_RTOL 1e-6
#define TOL_DG_ATOL 1e-6
/* Float backward (float mean/rstd, float arithmetic) vs double central
 * differences with h = 1e-4 (truncation ~h^2 f''' ~1e-8). */
#define TOL_FD_RTOL 1e-4
#define TOL_FD_ATOL 1e-4
#define FD_H 1e-4

#define EPS 1e-5f
#define MOMENTUM 0.1f

typedef struct {
    int n, c, hw;
} bn_shape_t;

/* N = 1, C = 1, primes, HW around the vector widths 4, 8, 16 and 2x16,
 * and the default CNN's 14x14 / 7x7 planes. */
static const bn_shape_t shapes[] = {
    {1, 1, 2},  {2, 1, 1},  {1, 3, 3},   {1, 1, 4},  {2, 2, 5},  {1, 2, 7},  {3, 1, 8},
    {1, 1, 9},  {2, 3, 15}, {1, 2, 16},  {3, 5, 17}, {2, 2, 31}, {1, 3, 32}, {2, 2, 33},
    {5, 7, 13}, {4, 3, 49}, {3, 4, 196}, {7, 2, 11}, {2, 3, 64}, {1, 1, 97},
};

typedef struct {
    float *x, *y, *g, *b, *mean, *rstd, *rm, *rv, *dy, *dx, *dg, *db;
} bufs_t;

static void bufs_alloc(bufs_t *p, const bn_shape_t *s, uint64_t seed, float offset)
{
    const size_t nt = (size_t)s->n * s->c * s->hw;
    p->x = jg_test_alloc(nt), p->y = jg_test_alloc(nt), p->dy = jg_test_alloc(nt);
    p->dx = jg_test_alloc(nt);
    p->g = jg_test_alloc(s->c), p->b = jg_test_alloc(s->c), p->mean = jg_test_alloc(s->c);
    p->rstd = jg_test_alloc(s->c), p->rm = jg_test_alloc(s->c), p->rv = jg_test_alloc(s->c);
    p->dg = jg_test_alloc(s->c), p->db = jg_test_alloc(s->c);
    jg_test_fill_uniform(p->x, nt, -1.0f, 1.0f, seed);
    for (size_t i = 0; i < nt; i++) p->x[i] += offset;
    jg_test_fill_uniform(p->dy, nt, -1.0f, 1.0f, seed + 1);
    jg_test_fill_uniform(p->dx, nt, -1.0f, 1.0f, seed + 2);
    jg_test_fill_uniform(p->g, s->c, 0.5f, 1.5f, seed + 3);
    jg_test_fill_uniform(p->b, s->c, -1.0f, 1.0f, seed + 4);
    jg_test_fill_uniform(p->rm, s->c, -0.5f, 0.5f, seed + 5);
    jg_test_fill_uniform(p->rv, s->c, 0.5f, 1.5f, seed + 6);
    jg_test_fill_uniform(p->dg, s->c, -1.0f, 1.0f, seed + 7);
    jg_test_fill_uniform(p->db, s->c, -1.0f, 1.0f, seed + 8);
}

static void bufs_free(bufs_t *p)
{
    free(p->x), free(p->y), free(p->g), free(p->b), free(p->mean), free(p->rstd);
    free(p->rm), free(p->rv), free(p->dy), free(p->dx), free(p->dg), free(p->db);
}

static void bufs_copy(bufs_t *d, const bufs_t *s, const bn_shape_t *sh)
{
    const size_t nt = (size_t)sh->n * sh->c * sh->hw, c = (size_t)sh->c * sizeof(float);
    memcpy(d->x, s->x, nt * sizeof(float));
    memcpy(d->dy, s->dy, nt * sizeof(float));
    memcpy(d->dx, s->dx, nt * sizeof(float));
    memcpy(d->g, s->g, c), memcpy(d->b, s->b, c), memcpy(d->rm, s->rm, c);
    memcpy(d->rv, s->rv, c), memcpy(d->dg, s->dg, c), memcpy(d->db, s->db, c);
}

/* Double statistics of channel ch: mean and biased variance (two-pass). */
static void stats_d(const float *x, const bn_shape_t *s, int ch, double *mu, double *var)
{
    double acc = 0.0, q = 0.0;
    const double m = (double)s->n * s->hw;
    for (int i = 0; i < s->n; i++)
        for (int j = 0; j < s->hw; j++) acc += x[((size_t)i * s->c + ch) * s->hw + j];
    *mu = acc / m;
    for (int i = 0; i < s->n; i++) {
        for (int j = 0; j < s->hw; j++) {
            const double d = x[((size_t)i * s->c + ch) * s->hw + j] - *mu;
            q += d * d;
        }
    }
    *var = q / m;
}

/* Every ISA against _ref: training forward, running stats, inference forward,
 * backward. */
static void test_isas_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const bn_shape_t *s = &shapes[si];
        const size_t nt = (size_t)s->n * s->c * s->hw;
        if ((long long)s->n * s->hw < 2) continue;
        bufs_t r, o;
        bufs_alloc(&r, s, 10 + si, 0.0f);
        bufs_alloc(&o, s, 10 + si, 0.0f);
        /* reference results; the inputs in r are kept for the copies below */
        bufs_t want;
        bufs_alloc(&want, s, 10 + si, 0.0f);
        CHECK_OK(jg_batchnorm2d_forward_train_ref(want.y, want.mean, want.rstd, want.rm,
                                                  want.rv, want.x, want.g, want.b, s->n, s->c,
                                                  s->hw, EPS, MOMENTUM));
        CHECK_OK(jg_batchnorm2d_backward_ref(want.dx, want.dg, want.db, want.dy, want.x,
                                             want.mean, want.rstd, want.g, s->n, s->c, s->hw));
        float *yi = jg_test_alloc(nt), *yi_ref = jg_test_alloc(nt);
        CHECK_OK(jg_batchnorm2d_forward_infer_ref(yi_ref, r.x, r.g, r.b, r.rm, r.rv, s->n, s->c,
                                                  s->hw, EPS));
        for (int k = 0; k < nisa; k++) {
            char what[96];
            snprintf(what, sizeof what, "%s n%d c%d hw%d", jg_isa_name(isas[k]), s->n, s->c,
                     s->hw);
            CHECK_OK(jg_kernels_set_isa(isas[k]));
            bufs_copy(&o, &r, s);
            CHECK_OK(jg_batchnorm2d_forward_infer(yi, o.x, o.g, o.b, o.rm, o.rv, s->n, s->c,
                                                  s->hw, EPS));
            jg_test_assert_close(what, yi, yi_ref, nt, TOL_Y_RTOL, TOL_Y_ATOL);
            CHECK_OK(jg_batchnorm2d_forward_train(o.y, o.mean, o.rstd, o.rm, o.rv, o.x, o.g,
                                                  o.b, s->n, s->c, s->hw, EPS, MOMENTUM));
            jg_test_assert_close(what, o.y, want.y, nt, TOL_Y_RTOL, TOL_Y_ATOL);
            jg_test_assert_close(what, o.mean, want.mean, s->c, TOL_STAT_RTOL, TOL_STAT_ATOL);
            jg_test_assert_close(what, o.rstd, want.rstd, s->c, TOL_STAT_RTOL, TOL_STAT_ATOL);
            jg_test_assert_close(what, o.rm, want.rm, s->c, TOL_STAT_RTOL, TOL_STAT_ATOL);
            jg_test_assert_close(what, o.rv, want.rv, s->c, TOL_STAT_RTOL, TOL_STAT_ATOL);
            /* backward from the reference statistics so only it is compared */
            CHECK_OK(jg_batchnorm2d_backward(o.dx, o.dg, o.db, o.dy, o.x, want.mean, want.rstd,
                                             o.g, s->n, s->c, s->hw));
            jg_test_assert_close(what, o.dx, want.dx, nt, TOL_DX_RTOL, TOL_DX_ATOL);
            jg_test_assert_close(what, o.dg, want.dg, s->c, TOL_DG_RTOL, TOL_DG_ATOL);
            jg_test_assert_close(what, o.db, want.db, s->c, TOL_DG_RTOL, TOL_DG_ATOL);
        }
        free(yi), free(yi_ref);
        bufs_free(&r), bufs_free(&o), bufs_free(&want);
    }
    CHECK_OK(jg_kernels_set_isa(before));
}

/* Training forward vs a double reference on every ISA, including data with a
 * large common offset (mean 1000, std 0.58) where a one-pass float variance
 * loses every digit. Running stats use the unbiased variance. */
static void test_train_vs_double(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const bn_shape_t cases[] = {{4, 3, 49}, {3, 2, 33}, {1, 1, 2}, {16, 2, 196}};
    const float offsets[] = {0.0f, 1000.0f, -3.0f};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        for (size_t oi = 0; oi < sizeof offsets / sizeof offsets[0]; oi++) {
            const bn_shape_t *s = &cases[ci];
            const size_t nt = (size_t)s->n * s->c * s->hw;
            const double m = (double)s->n * s->hw;
            bufs_t p;
            bufs_alloc(&p, s, 40 + ci * 10 + oi, offsets[oi]);
            float *rm0 = jg_test_alloc(s->c), *rv0 = jg_test_alloc(s->c);
            double *ywant = malloc(nt * sizeof(double));
            double *rmw = malloc(s->c * sizeof(double)), *rvw = malloc(s->c * sizeof(double));
            double *mw = malloc(s->c * sizeof(double)), *rsw = malloc(s->c * sizeof(double));
            assert_non_null(ywant), assert_non_null(rmw), assert_non_null(rvw);
            assert_non_null(mw), assert_non_null(rsw);
            memcpy(rm0, p.rm, s->c * sizeof(float));
            memcpy(rv0, p.rv, s->c * sizeof(float));
            double ytol = 0.0;
            for (int ch = 0; ch < s->c; ch++) {
                double mu, var;
                stats_d(p.x, s, ch, &mu, &var);
                const double rs = 1.0 / sqrt(var + EPS);
                mw[ch] = mu, rsw[ch] = rs;
                rmw[ch] = (1.0 - MOMENTUM) * rm0[ch] + MOMENTUM * mu;
                rvw[ch] = (1.0 - MOMENTUM) * rv0[ch] + MOMENTUM * var * m / (m - 1.0);
                for (int i = 0; i < s->n; i++) {
                    for (int j = 0; j < s->hw; j++) {
                        const size_t o = ((size_t)i * s->c + ch) * s->hw + j;
                        ywant[o] = p.g[ch] * (p.x[o] - mu) * rs + p.b[ch];
                    }
                }
                /* the stored float mean is off by up to 0.5 ulp(mean), which
                 * moves y by that times gamma*rstd; plus a few ulp of |y| <= 6 */
                const double t = 0.5 * fabs(mu) * FLT_EPSILON * p.g[ch] * rs + TOL_Y_ATOL;
                if (t > ytol) ytol = t;
            }
            for (int k = 0; k < nisa; k++) {
                CHECK_OK(jg_kernels_set_isa(isas[k]));
                memcpy(p.rm, rm0, s->c * sizeof(float));
                memcpy(p.rv, rv0, s->c * sizeof(float));
                CHECK_OK(jg_batchnorm2d_forward_train(p.y, p.mean, p.rstd, p.rm, p.rv, p.x, p.g,
                                                      p.b, s->n, s->c, s->hw, EPS, MOMENTUM));
                jg_test_assert_close_d("y vs double", p.y, ywant, nt, TOL_Y_RTOL, ytol);
                jg_test_assert_close_d("mean vs double", p.mean, mw, s->c, TOL_STAT_RTOL,
                                       TOL_STAT_ATOL);
                jg_test_assert_close_d("rstd vs double", p.rstd, rsw, s->c, TOL_STAT_RTOL,
                                       TOL_STAT_ATOL);
                jg_test_assert_close_d("running_mean", p.rm, rmw, s->c, TOL_STAT_RTOL,
                                       TOL_STAT_ATOL);
                jg_test_assert_close_d("running_var", p.rv, rvw, s->c, TOL_STAT_RTOL,
                                       TOL_STAT_ATOL);
                /* the _ref twin too */
                memcpy(p.rm, rm0, s->c * sizeof(float));
                memcpy(p.rv, rv0, s->c * sizeof(float));
                CHECK_OK(jg_batchnorm2d_forward_train_ref(p.y, p.mean, p.rstd, p.rm, p.rv, p.x,
                                                          p.g, p.b, s->n, s->c, s->hw, EPS,
                                                          MOMENTUM));
                jg_test_assert_close_d("ref y vs double", p.y, ywant, nt, TOL_Y_RTOL, ytol);
                jg_test_assert_close_d("ref rstd", p.rstd, rsw, s->c, TOL_STAT_RTOL,
                                       TOL_STAT_ATOL);
                jg_test_assert_close_d("ref running_var", p.rv, rvw, s->c, TOL_STAT_RTOL,
                                       TOL_STAT_ATOL);
                /* running stats are optional */
                CHECK_OK(jg_batchnorm2d_forward_train(p.y, p.mean, p.rstd, NULL, NULL, p.x, p.g,
                                                      p.b, s->n, s->c, s->hw, EPS, MOMENTUM));
                jg_test_assert_close_d("y, no running", p.y, ywant, nt, TOL_Y_RTOL, ytol);
            }
            free(rm0), free(rv0), free(ywant), free(rmw), free(rvw), free(mw), free(rsw);
            bufs_free(&p);
        }
    }
    CHECK_OK(jg_kernels_set_isa(before));
}

static void test_infer_vs_double(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const bn_shape_t s = {3, 5, 37};
    const size_t nt = (size_t)s.n * s.c * s.hw;
    bufs_t p;
    bufs_alloc(&p, &s, 77, 0.0f);
    double *want = malloc(nt * sizeof(double));
    assert_non_null(want);
    for (int i = 0; i < s.n; i++) {
        for (int ch = 0; ch < s.c; ch++) {
            for (int j = 0; j < s.hw; j++) {
                const size_t o = ((size_t)i * s.c + ch) * s.hw + j;
                want[o] = p.g[ch] * ((double)p.x[o] - p.rm[ch]) / sqrt((double)p.rv[ch] + EPS) +
                          p.b[ch];
            }
        }
    }
    for (int k = 0; k < nisa; k++) {
        CHECK_OK(jg_kernels_set_isa(isas[k]));
        CHECK_OK(
            jg_batchnorm2d_forward_infer(p.y, p.x, p.g, p.b, p.rm, p.rv, s.n, s.c, s.hw, EPS));
        jg_test_assert_close_d("infer vs double", p.y, want, nt, TOL_Y_RTOL, TOL_Y_ATOL);
        CHECK_OK(jg_batchnorm2d_forward_infer_ref(p.y, p.x, p.g, p.b, p.rm, p.rv, s.n, s.c,
                                                  s.hw, EPS));
        jg_test_assert_close_d("infer ref vs double", p.y, want, nt, TOL_Y_RTOL, TOL_Y_ATOL);
    }
    free(want);
    bufs_free(&p);
    CHECK_OK(jg_kernels_set_isa(before));
}

/* L = sum y(x, gamma, beta) * r in double, training statistics; the
 * parameters are packed as [x (N*C*HW), gamma (C), beta (C)]. */
typedef struct {
    const bn_shape_t *s;
    const double *r;
} fd_ctx_t;

static double bn_loss_d(const double *p, void *vctx)
{
    const fd_ctx_t *c = vctx;
    const bn_shape_t *s = c->s;
    const size_t nt = (size_t)s->n * s->c * s->hw;
    const double *x = p, *g = p + nt, *b = p + nt + s->c;
    const double m = (double)s->n * s->hw;
    double l = 0.0;
    for (int ch = 0; ch < s->c; ch++) {
        double mu = 0.0, var = 0.0;
        for (int i = 0; i < s->n; i++)
            for (int j = 0; j < s->hw; j++) mu += x[((size_t)i * s->c + ch) * s->hw + j];
        mu /= m;
        for (int i = 0; i < s->n; i++) {
            for (int j = 0; j < s->hw; j++) {
                const double d = x[((size_t)i * s->c + ch) * s->hw + j] - mu;
                var += d * d;
            }
        }
        const double rs = 1.0 / sqrt(var / m + EPS);
        for (int i = 0; i < s->n; i++) {
            for (int j = 0; j < s->hw; j++) {
                const size_t o = ((size_t)i * s->c + ch) * s->hw + j;
                l += (g[ch] * (x[o] - mu) * rs + b[ch]) * c->r[o];
            }
        }
    }
    return l;
}

/* _ref backward (dx, dgamma, dbeta added to pre-filled buffers) vs central
 * differences of the double forward. */
static void test_backward_fd(void **state)
{
    (void)state;
    const bn_shape_t cases[] = {{2, 3, 5}, {1, 2, 7}, {4, 1, 3}};
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const bn_shape_t *s = &cases[ci];
        const size_t nt = (size_t)s->n * s->c * s->hw, np = nt + 2 * (size_t)s->c;
        bufs_t p;
        bufs_alloc(&p, s, 90 + ci, 0.0f);
        double *par = malloc(np * sizeof(double)), *r = malloc(nt * sizeof(double));
        double *want = malloc(np * sizeof(double));
        assert_non_null(par), assert_non_null(r), assert_non_null(want);
        for (size_t i = 0; i < nt; i++) par[i] = p.x[i], r[i] = p.dy[i];
        for (int ch = 0; ch < s->c; ch++) par[nt + ch] = p.g[ch], par[nt + s->c + ch] = p.b[ch];
        fd_ctx_t ctx = {s, r};
        for (size_t i = 0; i < np; i++) want[i] = jg_test_fd(bn_loss_d, par, i, FD_H, &ctx);
        /* gradients start at 0.25: the result must be 0.25 + gradient */
        for (size_t i = 0; i < nt; i++) p.dx[i] = 0.25f, want[i] += 0.25;
        for (int ch = 0; ch < s->c; ch++) {
            p.dg[ch] = p.db[ch] = 0.25f;
            want[nt + ch] += 0.25, want[nt + s->c + ch] += 0.25;
        }
        CHECK_OK(jg_batchnorm2d_forward_train_ref(p.y, p.mean, p.rstd, NULL, NULL, p.x, p.g,
                                                  p.b, s->n, s->c, s->hw, EPS, MOMENTUM));
        CHECK_OK(jg_batchnorm2d_backward_ref(p.dx, p.dg, p.db, p.dy, p.x, p.mean, p.rstd, p.g,
                                             s->n, s->c, s->hw));
        jg_test_assert_close_d("dx fd", p.dx, want, nt, TOL_FD_RTOL, TOL_FD_ATOL);
        jg_test_assert_close_d("dgamma fd", p.dg, want + nt, s->c, TOL_FD_RTOL, TOL_FD_ATOL);
        jg_test_assert_close_d("dbeta fd", p.db, want + nt + s->c, s->c, TOL_FD_RTOL,
                               TOL_FD_ATOL);
        free(par), free(r), free(want);
        bufs_free(&p);
    }
}

/* Backward adds into dx, dgamma, dbeta on every ISA: the result from
 * pre-filled buffers = pre-fill + result from zeroed buffers. */
static void test_accumulates(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const bn_shape_t s = {3, 4, 45};
    const size_t nt = (size_t)s.n * s.c * s.hw;
    bufs_t p;
    bufs_alloc(&p, &s, 123, 0.0f);
    float *dx = jg_test_alloc(nt), *dg = jg_test_alloc(s.c), *db = jg_test_alloc(s.c);
    CHECK_OK(jg_batchnorm2d_forward_train_ref(p.y, p.mean, p.rstd, NULL, NULL, p.x, p.g, p.b,
                                              s.n, s.c, s.hw, EPS, MOMENTUM));
    for (int k = 0; k < nisa; k++) {
        CHECK_OK(jg_kernels_set_isa(isas[k]));
        float *zx = jg_test_alloc_zero(nt), *zg = jg_test_alloc_zero(s.c),
              *zb = jg_test_alloc_zero(s.c);
        memcpy(dx, p.dx, nt * sizeof(float));
        memcpy(dg, p.dg, s.c * sizeof(float));
        memcpy(db, p.db, s.c * sizeof(float));
        CHECK_OK(jg_batchnorm2d_backward(zx, zg, zb, p.dy, p.x, p.mean, p.rstd, p.g, s.n, s.c,
                                         s.hw));
        CHECK_OK(jg_batchnorm2d_backward(dx, dg, db, p.dy, p.x, p.mean, p.rstd, p.g, s.n, s.c,
                                         s.hw));
        for (size_t i = 0; i < nt; i++) zx[i] += p.dx[i];
        for (int ch = 0; ch < s.c; ch++) zg[ch] += p.dg[ch], zb[ch] += p.db[ch];
        jg_test_assert_close("dx accumulates", dx, zx, nt, TOL_DX_RTOL, TOL_DX_ATOL);
        jg_test_assert_close("dgamma accumulates", dg, zg, s.c, TOL_DG_RTOL, TOL_DG_ATOL);
        jg_test_assert_close("dbeta accumulates", db, zb, s.c, TOL_DG_RTOL, TOL_DG_ATOL);
        free(zx), free(zg), free(zb);
    }
    free(dx), free(dg), free(db);
    bufs_free(&p);
    CHECK_OK(jg_kernels_set_isa(before));
}

/* batchnorm2d_backward_set: dx (starting as NaN) equal to zero plus the
 * accumulating backward of the same ISA, and close to the _ref twin;
 * dgamma and dbeta still accumulate. */
static void test_backward_set(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const bn_shape_t s = {3, 4, 45};
    const size_t nt = (size_t)s.n * s.c * s.hw;
    bufs_t p;
    bufs_alloc(&p, &s, 321, 0.0f);
    float *dx = jg_test_alloc(nt), *zx = jg_test_alloc(nt), *rx = jg_test_alloc(nt);
    float *g1 = jg_test_alloc(s.c), *b1 = jg_test_alloc(s.c);
    float *g2 = jg_test_alloc(s.c), *b2 = jg_test_alloc(s.c);
    CHECK_OK(jg_batchnorm2d_forward_train_ref(p.y, p.mean, p.rstd, NULL, NULL, p.x, p.g, p.b,
                                              s.n, s.c, s.hw, EPS, MOMENTUM));
    for (size_t i = 0; i < nt; i++) rx[i] = NAN;
    memcpy(g2, p.dg, s.c * sizeof(float)), memcpy(b2, p.db, s.c * sizeof(float));
    CHECK_OK(jg_batchnorm2d_backward_set_ref(rx, g2, b2, p.dy, p.x, p.mean, p.rstd, p.g, s.n,
                                             s.c, s.hw));
    for (int k = 0; k < nisa; k++) {
        CHECK_OK(jg_kernels_set_isa(isas[k]));
        for (size_t i = 0; i < nt; i++) dx[i] = NAN, zx[i] = 0.0f;
        memcpy(g1, p.dg, s.c * sizeof(float)), memcpy(b1, p.db, s.c * sizeof(float));
        CHECK_OK(jg_batchnorm2d_backward_set(dx, g1, b1, p.dy, p.x, p.mean, p.rstd, p.g, s.n,
                                             s.c, s.hw));
        memcpy(g2, p.dg, s.c * sizeof(float)), memcpy(b2, p.db, s.c * sizeof(float));
        CHECK_OK(jg_batchnorm2d_backward(zx, g2, b2, p.dy, p.x, p.mean, p.rstd, p.g, s.n, s.c,
                                         s.hw));
        jg_test_assert_close("dx set = 0 + accumulate", dx, zx, nt, 0.0, 0.0);
        jg_test_assert_close("dgamma accumulates", g1, g2, s.c, 0.0, 0.0);
        jg_test_assert_close("dbeta accumulates", b1, b2, s.c, 0.0, 0.0);
        jg_test_assert_close("dx set vs _ref", dx, rx, nt, TOL_DX_RTOL, TOL_DX_ATOL);
    }
    free(dx), free(zx), free(rx), free(g1), free(b1), free(g2), free(b2);
    bufs_free(&p);
    CHECK_OK(jg_kernels_set_isa(before));
}

/* Bit-identical on 1 and 2 threads (channels are owned by one thread). */
static void test_threads_deterministic(void **state)
{
    (void)state;
    /* only when the process may run 2 threads: built with OpenMP and not
     * pinned by OMP_NUM_THREADS=1 (qemu-user, where OpenMP teams can hang) */
    if (!jg_kernels_have_openmp() || jg_kernels_threads() < 2) skip();
    const bn_shape_t s = {16, 32, 196};
    const size_t nt = (size_t)s.n * s.c * s.hw;
    bufs_t p[2];
    const int before = jg_kernels_threads();
    for (int t = 0; t < 2; t++) {
        bufs_alloc(&p[t], &s, 555, 0.0f);
        CHECK_OK(jg_kernels_set_threads(t + 1));
        CHECK_OK(jg_batchnorm2d_forward_train(p[t].y, p[t].mean, p[t].rstd, p[t].rm, p[t].rv,
                                              p[t].x, p[t].g, p[t].b, s.n, s.c, s.hw, EPS,
                                              MOMENTUM));
        CHECK_OK(jg_batchnorm2d_backward(p[t].dx, p[t].dg, p[t].db, p[t].dy, p[t].x, p[t].mean,
                                         p[t].rstd, p[t].g, s.n, s.c, s.hw));
    }
    assert_memory_equal(p[0].y, p[1].y, nt * sizeof(float));
    assert_memory_equal(p[0].rstd, p[1].rstd, s.c * sizeof(float));
    assert_memory_equal(p[0].rv, p[1].rv, s.c * sizeof(float));
    assert_memory_equal(p[0].dx, p[1].dx, nt * sizeof(float));
    assert_memory_equal(p[0].dg, p[1].dg, s.c * sizeof(float));
    CHECK_OK(jg_kernels_set_threads(before));
    bufs_free(&p[0]), bufs_free(&p[1]);
}

static void test_invalid(void **state)
{
    (void)state;
    float x[8] = {0}, y[8], g[2] = {1, 1}, b[2] = {0}, m[2], r[2], rm[2] = {0}, rv[2] = {1, 1};
    float dx[8] = {0}, dg[2] = {0}, db[2] = {0};
    const int n = 2, c = 2, hw = 2;
    /* NULL pointers (running stats may be NULL) */
    assert_int_equal(
        jg_batchnorm2d_forward_train(NULL, m, r, rm, rv, x, g, b, n, c, hw, EPS, MOMENTUM),
        -EINVAL);
    assert_int_equal(
        jg_batchnorm2d_forward_train(y, NULL, r, rm, rv, x, g, b, n, c, hw, EPS, MOMENTUM),
        -EINVAL);
    assert_int_equal(
        jg_batchnorm2d_forward_train(y, m, NULL, rm, rv, x, g, b, n, c, hw, EPS, MOMENTUM),
        -EINVAL);
    assert_int_equal(
        jg_batchnorm2d_forward_train(y, m, r, rm, rv, NULL, g, b, n, c, hw, EPS, MOMENTUM),
        -EINVAL);
    assert_int_equal(
        jg_batchnorm2d_forward_train(y, m, r, rm, rv, x, NULL, b, n, c, hw, EPS, MOMENTUM),
        -EINVAL);
    assert_int_equal(
        jg_batchnorm2d_forward_train_ref(y, m, r, rm, rv, x, g, NULL, n, c, hw, EPS, MOMENTUM),
        -EINVAL);
    assert_int_equal(jg_batchnorm2d_forward_infer(NULL, x, g, b, rm, rv, n, c, hw, EPS),
                     -EINVAL);
    assert_int_equal(jg_batchnorm2d_forward_infer(y, NULL, g, b, rm, rv, n, c, hw, EPS),
                     -EINVAL);
    assert_int_equal(jg_batchnorm2d_forward_infer(y, x, NULL, b, rm, rv, n, c, hw, EPS),
                     -EINVAL);
    assert_int_equal(jg_batchnorm2d_forward_infer(y, x, g, NULL, rm, rv, n, c, hw, EPS),
                     -EINVAL);
    assert_int_equal(jg_batchnorm2d_forward_infer(y, x, g, b, NULL, rv, n, c, hw, EPS),
                     -EINVAL);
    assert_int_equal(jg_batchnorm2d_forward_infer_ref(y, x, g, b, rm, NULL, n, c, hw, EPS),
                     -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward(NULL, dg, db, y, x, m, r, g, n, c, hw), -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward(dx, NULL, db, y, x, m, r, g, n, c, hw), -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward(dx, dg, NULL, y, x, m, r, g, n, c, hw), -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward(dx, dg, db, NULL, x, m, r, g, n, c, hw), -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward(dx, dg, db, y, NULL, m, r, g, n, c, hw), -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward(dx, dg, db, y, x, NULL, r, g, n, c, hw), -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward(dx, dg, db, y, x, m, NULL, g, n, c, hw), -EINVAL);
    assert_int_equal(jg_batchnorm2d_backward_ref(dx, dg, db, y, x, m, r, NULL, n, c, hw),
                     -EINVAL);
    /* zero / negative sizes */
    for (int bad = -1; bad <= 0; bad++) {
        const int dims[3][3] = {{bad, c, hw}, {n, bad, hw}, {n, c, bad}};
        for (int d = 0; d < 3; d++) {
            const int a = dims[d][0], cc = dims[d][1], h = dims[d][2];
            assert_int_equal(
                jg_batchnorm2d_forward_train(y, m, r, rm, rv, x, g, b, a, cc, h, EPS, MOMENTUM),
                -EINVAL);
            assert_int_equal(jg_batchnorm2d_forward_train_ref(y, m, r, rm, rv, x, g, b, a, cc,
                                                              h, EPS, MOMENTUM),
                             -EINVAL);
            assert_int_equal(jg_batchnorm2d_forward_infer(y, x, g, b, rm, rv, a, cc, h, EPS),
                             -EINVAL);
            assert_int_equal(jg_batchnorm2d_backward(dx, dg, db, y, x, m, r, g, a, cc, h),
                             -EINVAL);
            assert_int_equal(jg_batchnorm2d_backward_ref(dx, dg, db, y, x, m, r, g, a, cc, h),
                             -EINVAL);
        }
    }
    /* training needs N*HW >= 2 (unbiased variance), as PyTorch */
    assert_int_equal(
        jg_batchnorm2d_forward_train(y, m, r, rm, rv, x, g, b, 1, 2, 1, EPS, MOMENTUM),
        -EINVAL);
    CHECK_OK(jg_batchnorm2d_forward_infer(y, x, g, b, rm, rv, 1, 2, 1, EPS));
    /* negative or NaN eps */
    assert_int_equal(
        jg_batchnorm2d_forward_train(y, m, r, rm, rv, x, g, b, n, c, hw, -1e-5f, MOMENTUM),
        -EINVAL);
    assert_int_equal(jg_batchnorm2d_forward_infer(y, x, g, b, rm, rv, n, c, hw, NAN), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isas_vs_ref),     cmocka_unit_test(test_train_vs_double),
        cmocka_unit_test(test_infer_vs_double), cmocka_unit_test(test_backward_fd),
        cmocka_unit_test(test_accumulates),     cmocka_unit_test(test_backward_set),
        cmocka_unit_test(test_threads_deterministic),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
