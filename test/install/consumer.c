/* SPDX-License-Identifier: MIT */
/* A program built only against the installed joulegrad (pkg-config): builds
 * the default preset, runs forward, loss and backward on a fixed batch and
 * reads activations and gradients back through jg_model_layer. Exit 0 when
 * every read-back is consistent, else 1 with the reason. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <joulegrad.h>

#define B 4

int main(void)
{
    jg_model_t *m = NULL;
    jg_nn_error_t err;
    if (jg_model_create(&m, "default", 1, 28, 28, 10, 7, &err) || jg_model_reserve(m, B)) {
        fprintf(stderr, "consumer: create/reserve failed: %s\n", err.msg);
        return 1;
    }
    static float x[B * 28 * 28]; // (B, 1, 28, 28)
    for (int i = 0; i < B * 28 * 28; i++) x[i] = (float)((i * 37) % 101) / 101.0f - 0.5f;
    const int32_t y[B] = {0, 3, 5, 9};
    const float *logits = NULL;
    float loss = 0;
    int rc = jg_model_forward(m, x, B, 1, &logits);
    if (!rc) rc = jg_model_loss(m, y, &loss);
    if (!rc) rc = jg_model_backward(m);
    if (rc || !(loss > 0) || !isfinite(loss)) {
        fprintf(stderr, "consumer: forward/backward failed (rc %d, loss %g)\n", rc, loss);
        return 1;
    }
    jg_layer_info_t first, last;
    const int n = jg_model_n_layers(m);
    if (jg_model_layer(m, 0, &first) || jg_model_layer(m, n - 1, &last)) return 1;
    double gsum = 0;
    for (size_t i = 0; i < first.n_weight; i++) gsum += fabs(first.dweight[i]);
    /* the last layer's output is the logits the forward returned */
    if (last.out != logits || first.kind != JG_LAYER_CONV2D || !(gsum > 0)) {
        fprintf(stderr, "consumer: layer read-back inconsistent\n");
        return 1;
    }
    printf("consumer: %d layers, loss %.4f, |dW0| %.4g, isa %s\n", n, loss, gsum,
           jg_isa_name(jg_kernels_isa()));
    jg_model_destroy(m);
    return 0;
}
