/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the IDX images and labels parsers (plain and gzip) on
 * arbitrary bytes must return an error or a consistent dataset, never
 * crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jg_datasets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jg_data_error_t err;
    jg_dataset_t ds;
    if (jg_data_parse_idx_images_mem(data, size, "fuzz-images", &ds, &err) == 0) {
        /* Touch every pixel so ASan sees the whole allocation. */
        const size_t total = (size_t)ds.n * (size_t)ds.h * (size_t)ds.w;
        float s = 0.0f;
        for (size_t i = 0; i < total; i++) s += ds.x[i];
        if (ds.c != 1 || !(s >= 0.0f) || s > (float)total) abort();
    }
    jg_dataset_free(&ds);

    int32_t *y = NULL;
    int n = 0, mx = 0;
    for (int classes = 0; classes <= 10; classes += 10) {
        if (jg_data_parse_idx_labels_mem(data, size, "fuzz-labels", classes, &y, &n, &mx,
                                         &err) == 0) {
            for (int i = 0; i < n; i++)
                if (y[i] < 0 || y[i] > mx || (classes && y[i] >= classes)) abort();
        }
        free(y);
    }
    return 0;
}
