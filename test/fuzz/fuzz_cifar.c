/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the CIFAR-10 batch parser (plain and gzip) on
 * arbitrary bytes must return an error or a consistent dataset. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "jg_datasets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jg_data_error_t err;
    jg_dataset_t ds;
    if (jg_data_parse_cifar10_mem(data, size, "fuzz-cifar", &ds, &err) == 0) {
        if (ds.c != 3 || ds.h != 32 || ds.w != 32 || ds.classes != 10 || ds.n <= 0)
            abort();
        for (int i = 0; i < ds.n; i++)
            if (ds.y[i] < 0 || ds.y[i] >= 10) abort();
        const size_t total = (size_t)ds.n * 3 * 32 * 32;
        for (size_t i = 0; i < total; i++)
            if (!(ds.x[i] >= 0.0f && ds.x[i] <= 1.0f)) abort();
    }
    jg_dataset_free(&ds);
    return 0;
}
