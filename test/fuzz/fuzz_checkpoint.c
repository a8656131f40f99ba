/* SPDX-License-Identifier: MIT */
/* libFuzzer target: jg_checkpoint_parse on arbitrary bytes must return an
 * error with a message or a consistent checkpoint (finite values, valid
 * class names), never crash, leak, read out of bounds or allocate more than
 * twice the input (the class names need a pointer each). Almost every
 * mutation breaks the CRC, so each input is also parsed with its trailer
 * recomputed: that is what lets the fuzzer reach the header and payload
 * checks. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "jg_common.h"
#include "jg_nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint32_t sink; /* keeps the reads below */

static void check(const uint8_t *data, size_t size)
{
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    const int rc = jg_checkpoint_parse(data, size, &ck, &err);
    if (rc != 0) {
        if ((rc != -EBADMSG && rc != -EPROTO) || !err.msg[0] || ck.blob) abort();
        return;
    }
    const jg_checkpoint_meta_t *m = &ck.meta;
    const size_t spec_len = strnlen(m->spec, sizeof m->spec);
    if (spec_len == 0 || spec_len == sizeof m->spec || m->c < 1 || m->c > 4 || m->h < 1 ||
        m->w < 1 || m->classes < 1 || m->state.epochs_done < 0)
        abort();
    /* the payload is part of the input: 4 bytes per float */
    const size_t nf = ck.n_params + ck.n_buffers + ck.n_optim_state;
    if (nf > size / 4 || (size_t)m->state.epochs_done > size / 56) abort();
    /* read every value so ASan checks the views */
    uint32_t acc = 0;
    const float *views[3] = { ck.params, ck.buffers, ck.optim_state };
    const size_t counts[3] = { ck.n_params, ck.n_buffers, ck.n_optim_state };
    for (int v = 0; v < 3; v++) {
        if (counts[v] && !views[v]) abort();
        for (size_t i = 0; i < counts[v]; i++) {
            if (!isfinite(views[v][i])) abort();
            uint32_t u;
            memcpy(&u, &views[v][i], 4);
            acc ^= u;
        }
    }
    for (int i = 0; i < m->state.epochs_done; i++)
        if (ck.history[i].epoch != i || ck.history[i].images < 0) abort();
    /* class names: one per class, each valid (5 bytes at least on disk) */
    if (m->class_names) {
        if ((size_t)m->classes > size / 5) abort();
        char why[160];
        for (int k = 0; k < m->classes; k++)
            if (jg_class_name_check(m->class_names[k], strlen(m->class_names[k]), why,
                                    sizeof why))
                abort();
        if (jg_class_names_check(m->class_names, m->classes, why, sizeof why)) abort();
    }
    sink = acc;
    jg_checkpoint_free(&ck);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    if (size >= 4 && size <= (1u << 20)) {
        uint8_t *copy = malloc(size);
        if (!copy) return 0;
        memcpy(copy, data, size);
        const uint32_t crc = (uint32_t)crc32(0L, copy, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
        check(copy, size);
        free(copy);
    }
    return 0;
}
