/* SPDX-License-Identifier: MIT */
/*
 * act_ref.c - scalar twins of the act variants and the public _ref oracles.
 *
 * Sigmoid and tanh evaluate in double and round once, so they are within
 * 0.5 ulp (+ the double error) of the true value: the SIMD polynomials are
 * tested against them. Everything else does, operation for operation, the
 * float arithmetic the SIMD variants do (no FMA: strict C11 does not
 * contract), so those variants must match bit for bit.
 * n == 0 is a valid empty input for the size_t APIs: it returns 0.
 */
#include <math.h>

#include "act/act.h"

/* y = max{0, x} */
void jg_f32_relu_forward_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* dx += dy * [x > 0] */
void jg_f32_relu_backward_ref(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] > 0.0f) dx[i] += dy[i];
}

/* dx = x > 0 ? dy : 0 */
void jg_f32_relu_backward_set_ref(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
}

/* y = x > 0 ? x : slope*x */
void jg_f32_leaky_relu_forward_ref(float *y, const float *x, float slope, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

/* dx += x > 0 ? dy : dy*slope */
void jg_f32_leaky_relu_backward_ref(float *dx, const float *dy, const float *x,
                                    float slope, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : dy[i] * slope;
}

/* y = 1 / (1 + e^-x), in double */
void jg_f32_sigmoid_forward_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = (float)(1.0 / (1.0 + exp(-(double)x[i])));
}

/* dx += dy * y * (1 - y) */
void jg_f32_sigmoid_backward_ref(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
}

/* y = tanh x, in double */
void jg_f32_tanh_forward_ref(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = (float)tanh((double)x[i]);
}

/* dx += dy * (1 - y^2) */
void jg_f32_tanh_backward_ref(float *dx, const float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
}

/* y(r, c) += b(c); y: (rows, ld) */
void jg_f32_bias_add_rows_ref(float *y, const float *b, int rows, int cols, int ld)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * ld;
        for (int c = 0; c < cols; c++) yr[c] += b[c];
    }
}

/* Per column: sum the rows in order from 0 in float, then add to db. The
 * SIMD variants keep this order per lane, so they match exactly. */
void jg_f32_bias_grad_rows_ref(float *db, const float *dy, int rows, int cols, int ld)
{
    for (int c = 0; c < cols; c++) {
        float acc = 0.0f;
        for (int r = 0; r < rows; r++) acc += dy[(size_t)r * ld + c];
        db[c] += acc;
    }
}

int jg_relu_forward_ref(float *y, const float *x, size_t n)
{
    JG_CHECK(y && x);
    jg_f32_relu_forward_ref(y, x, n);
    return 0;
}

int jg_relu_backward_ref(float *dx, const float *dy, const float *x, size_t n)
{
    JG_CHECK(dx && dy && x);
    jg_f32_relu_backward_ref(dx, dy, x, n);
    return 0;
}

int jg_relu_backward_set_ref(float *dx, const float *dy, const float *x, size_t n)
{
    JG_CHECK(dx && dy && x);
    jg_f32_relu_backward_set_ref(dx, dy, x, n);
    return 0;
}

int jg_leaky_relu_forward_ref(float *y, const float *x, float slope, size_t n)
{
    JG_CHECK(y && x);
    jg_f32_leaky_relu_forward_ref(y, x, slope, n);
    return 0;
}

int jg_leaky_relu_backward_ref(float *dx, const float *dy, const float *x,
                               float slope, size_t n)
{
    JG_CHECK(dx && dy && x);
    jg_f32_leaky_relu_backward_ref(dx, dy, x, slope, n);
    return 0;
}

int jg_sigmoid_forward_ref(float *y, const float *x, size_t n)
{
    JG_CHECK(y && x);
    jg_f32_sigmoid_forward_ref(y, x, n);
    return 0;
}

int jg_sigmoid_backward_ref(float *dx, const float *dy, const float *y, size_t n)
{
    JG_CHECK(dx && dy && y);
    jg_f32_sigmoid_backward_ref(dx, dy, y, n);
    return 0;
}

int jg_tanh_forward_ref(float *y, const float *x, size_t n)
{
    JG_CHECK(y && x);
    jg_f32_tanh_forward_ref(y, x, n);
    return 0;
}

int jg_tanh_backward_ref(float *dx, const float *dy, const float *y, size_t n)
{
    JG_CHECK(dx && dy && y);
    jg_f32_tanh_backward_ref(dx, dy, y, n);
    return 0;
}

int jg_bias_add_rows_ref(float *y, const float *b, int rows, int cols, int ld)
{
    JG_BIAS_CHECK(y, b, rows, cols, ld);
    jg_f32_bias_add_rows_ref(y, b, rows, cols, ld);
    return 0;
}

int jg_bias_grad_rows_ref(float *db, const float *dy, int rows, int cols, int ld)
{
    JG_BIAS_CHECK(db, dy, rows, cols, ld);
    jg_f32_bias_grad_rows_ref(db, dy, rows, cols, ld);
    return 0;
}
