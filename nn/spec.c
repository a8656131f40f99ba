/* SPDX-License-Identifier: MIT */
/* Model spec parser: layers separated by whitespace, ',' or ';', each
 * `name` or `name(args)`; args are positional values then key=value pairs.
 * The grammar and every argument are documented in docs/model-spec.md. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

void jg_nn_errorf(jg_nn_error_t *err, const char *fmt, ...)
{
    if (!err) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

static const char *const KIND_NAMES[JG_LAYER_KIND_COUNT] = {
    "conv2d", "linear", "relu", "leaky_relu", "sigmoid", "tanh", "maxpool2d",
    "avgpool2d", "batchnorm2d", "dropout", "flatten", "softmax_xent",
};
static const char *const KIND_GROUPS[JG_LAYER_KIND_COUNT] = {
    "conv", "linear", "relu", "relu", "other", "other", "pool",
    "pool", "batchnorm", "other", "other", "loss",
};
/* Short names written by jg_nn_layer_text (the type names also parse). */
static const char *const SPEC_NAMES[JG_LAYER_KIND_COUNT] = {
    "conv", "linear", "relu", "leaky_relu", "sigmoid", "tanh", "maxpool",
    "avgpool", "batchnorm", "dropout", "flatten", NULL,
};

const char *jg_nn_kind_name(jg_layer_kind_t kind)
{
    return (unsigned)kind < JG_LAYER_KIND_COUNT ? KIND_NAMES[kind] : "?";
}

const char *jg_nn_kind_group(jg_layer_kind_t kind)
{
    return (unsigned)kind < JG_LAYER_KIND_COUNT ? KIND_GROUPS[kind] : "?";
}

const jg_layer_ops_t *jg_nn_ops(jg_layer_kind_t kind)
{
    switch (kind) {
    case JG_LAYER_CONV2D: return &jg_nn_conv2d_ops;
    case JG_LAYER_LINEAR: return &jg_nn_linear_ops;
    case JG_LAYER_RELU: return &jg_nn_relu_ops;
    case JG_LAYER_LEAKY_RELU: return &jg_nn_leaky_relu_ops;
    case JG_LAYER_SIGMOID: return &jg_nn_sigmoid_ops;
    case JG_LAYER_TANH: return &jg_nn_tanh_ops;
    case JG_LAYER_MAXPOOL2D: return &jg_nn_maxpool2d_ops;
    case JG_LAYER_AVGPOOL2D: return &jg_nn_avgpool2d_ops;
    case JG_LAYER_BATCHNORM2D: return &jg_nn_batchnorm2d_ops;
    case JG_LAYER_DROPOUT: return &jg_nn_dropout_ops;
    case JG_LAYER_FLATTEN: return &jg_nn_flatten_ops;
    default: return NULL;
    }
}

int jg_nn_layer_text(const jg_layer_spec_t *s, char *buf, size_t cap)
{
    int n;
    const char *name = (unsigned)s->kind < JG_LAYER_KIND_COUNT && SPEC_NAMES[s->kind]
                           ? SPEC_NAMES[s->kind] : "?";
    switch (s->kind) {
    case JG_LAYER_CONV2D:
        if (s->kh == s->kw)
            n = snprintf(buf, cap, "conv(%d,%d", s->out, s->kh);
        else
            n = snprintf(buf, cap, "conv(%d,kh=%d,kw=%d", s->out, s->kh, s->kw);
        if (n < 0 || (size_t)n >= cap) return -ENOSPC;
        if (s->stride_h == s->stride_w && s->stride_h != 1)
            n += snprintf(buf + n, cap - (size_t)n, ",stride=%d", s->stride_h);
        else if (s->stride_h != s->stride_w)
            n += snprintf(buf + n, cap - (size_t)n, ",stride_h=%d,stride_w=%d",
                          s->stride_h, s->stride_w);
        if ((size_t)n >= cap) return -ENOSPC;
        if (s->pad_h == s->pad_w && s->pad_h != 0)
            n += snprintf(buf + n, cap - (size_t)n, ",pad=%d", s->pad_h);
        else if (s->pad_h != s->pad_w)
            n += snprintf(buf + n, cap - (size_t)n, ",pad_h=%d,pad_w=%d", s->pad_h,
                          s->pad_w);
        if ((size_t)n >= cap) return -ENOSPC;
        n += snprintf(buf + n, cap - (size_t)n, ")");
        break;
    case JG_LAYER_LINEAR:
        n = snprintf(buf, cap, "linear(%d)", s->out);
        break;
    case JG_LAYER_MAXPOOL2D:
    case JG_LAYER_AVGPOOL2D:
        if (s->kh == s->kw)
            n = snprintf(buf, cap, "%s(%d", name, s->kh);
        else
            n = snprintf(buf, cap, "%s(kh=%d,kw=%d", name, s->kh, s->kw);
        if (n < 0 || (size_t)n >= cap) return -ENOSPC;
        if (s->stride_h != s->kh || s->stride_w != s->kw)
            n += snprintf(buf + n, cap - (size_t)n, ",stride_h=%d,stride_w=%d",
                          s->stride_h, s->stride_w);
        if ((size_t)n >= cap) return -ENOSPC;
        if (s->pad_h == s->pad_w && s->pad_h != 0)
            n += snprintf(buf + n, cap - (size_t)n, ",pad=%d", s->pad_h);
        else if (s->pad_h != s->pad_w)
            n += snprintf(buf + n, cap - (size_t)n, ",pad_h=%d,pad_w=%d", s->pad_h,
                          s->pad_w);
        if ((size_t)n >= cap) return -ENOSPC;
        n += snprintf(buf + n, cap - (size_t)n, ")");
        break;
    case JG_LAYER_BATCHNORM2D:
        n = snprintf(buf, cap, "batchnorm(eps=%.9g,momentum=%.9g)", s->eps, s->momentum);
        break;
    case JG_LAYER_DROPOUT:
        n = snprintf(buf, cap, "dropout(%.9g)", s->p);
        break;
    case JG_LAYER_LEAKY_RELU:
        n = snprintf(buf, cap, "leaky_relu(%.9g)", s->slope);
        break;
    default:
        n = snprintf(buf, cap, "%s", name);
        break;
    }
    return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

int jg_nn_shape_error(const jg_layer_t *l, jg_nn_error_t *err, const char *what)
{
    char text[96];
    if (jg_nn_layer_text(&l->spec, text, sizeof text) != 0) strcpy(text, "layer");
    if (l->spec.line > 0)
        jg_nn_errorf(err, "spec:%d:%d: %s: %s for input %dx%dx%d", l->spec.line,
                     l->spec.col, text, what, l->in_c, l->in_h, l->in_w);
    else
        jg_nn_errorf(err, "spec: layer %d %s: %s for input %dx%dx%d", l->index + 1,
                     text, what, l->in_c, l->in_h, l->in_w);
    return -EINVAL;
}

/* ---- lexer ---- */

typedef struct {
    const char *s;
    size_t i;
    int line;
    size_t line_start;
    jg_nn_error_t *err;
} lexer_t;

static int col_of(const lexer_t *lx, size_t i) { return (int)(i - lx->line_start) + 1; }

static void skip_space(lexer_t *lx, int seps)
{
    for (;;) {
        const char ch = lx->s[lx->i];
        if (ch == '\n') {
            lx->i++;
            lx->line++;
            lx->line_start = lx->i;
        } else if (isspace((unsigned char)ch) || (seps && (ch == ',' || ch == ';'))) {
            lx->i++;
        } else if (seps && ch == '#') {
            /* comment to end of line */
            while (lx->s[lx->i] && lx->s[lx->i] != '\n') lx->i++;
        } else {
            return;
        }
    }
}

static int is_ident0(char c) { return isalpha((unsigned char)c) || c == '_'; }
static int is_ident(char c) { return isalnum((unsigned char)c) || c == '_' || c == '-'; }

/* One argument: optional key, value text, positions. */
typedef struct {
    char key[24];
    char val[40];
    int has_key;
    int line, col;   /* of the value */
    int kline, kcol; /* of the key (the value when positional) */
} arg_t;

#define MAX_ARGS 8

static const struct {
    const char *name;
    jg_layer_kind_t kind;
} NAMES[] = {
    { "conv", JG_LAYER_CONV2D },        { "conv2d", JG_LAYER_CONV2D },
    { "linear", JG_LAYER_LINEAR },      { "relu", JG_LAYER_RELU },
    { "leaky_relu", JG_LAYER_LEAKY_RELU }, { "sigmoid", JG_LAYER_SIGMOID },
    { "tanh", JG_LAYER_TANH },          { "maxpool", JG_LAYER_MAXPOOL2D },
    { "maxpool2d", JG_LAYER_MAXPOOL2D }, { "avgpool", JG_LAYER_AVGPOOL2D },
    { "avgpool2d", JG_LAYER_AVGPOOL2D }, { "batchnorm", JG_LAYER_BATCHNORM2D },
    { "batchnorm2d", JG_LAYER_BATCHNORM2D }, { "dropout", JG_LAYER_DROPOUT },
    { "flatten", JG_LAYER_FLATTEN },
};

#define EXPECTED_NAMES "conv, linear, relu, leaky_relu, sigmoid, tanh, maxpool, " \
                       "avgpool, batchnorm, dropout, flatten"

static int parse_int(const char *v, int *out)
{
    if (!isdigit((unsigned char)v[0])) return -1;
    char *end;
    errno = 0;
    const long x = strtol(v, &end, 10);
    if (*end || errno || x > 1000000000L) return -1;
    *out = (int)x;
    return 0;
}

static int parse_float(const char *v, float *out)
{
    if (!v[0]) return -1;
    char *end;
    errno = 0;
    const double x = strtod(v, &end);
    if (*end || errno || !isfinite(x)) return -1;
    *out = (float)x;
    return 0;
}

/* Argument names per kind, positional order first. */
typedef struct {
    const char *keys[10];
    int n_pos;      /* how many of keys can be given positionally */
} argdef_t;

static argdef_t argdef(jg_layer_kind_t k)
{
    argdef_t d = { { NULL }, 0 };
    switch (k) {
    case JG_LAYER_CONV2D:
        d = (argdef_t){ { "out", "k", "stride", "pad", "kh", "kw", "stride_h",
                          "stride_w", "pad_h", "pad_w" }, 4 };
        break;
    case JG_LAYER_LINEAR: d = (argdef_t){ { "out" }, 1 }; break;
    case JG_LAYER_MAXPOOL2D:
    case JG_LAYER_AVGPOOL2D:
        d = (argdef_t){ { "k", "stride", "pad", "kh", "kw", "stride_h", "stride_w",
                          "pad_h", "pad_w" }, 3 };
        break;
    case JG_LAYER_BATCHNORM2D: d = (argdef_t){ { "eps", "momentum" }, 2 }; break;
    case JG_LAYER_DROPOUT: d = (argdef_t){ { "p" }, 1 }; break;
    case JG_LAYER_LEAKY_RELU: d = (argdef_t){ { "slope" }, 1 }; break;
    default: break;
    }
    return d;
}

static int arg_error(lexer_t *lx, const arg_t *a, const char *layer, const char *fmt,
                     const char *what)
{
    char m[160];
    snprintf(m, sizeof m, fmt, what);
    jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': %s", a->line, a->col, layer, m);
    return -EINVAL;
}

/* Apply parsed args to a layer spec (defaults first). */
static int apply_args(lexer_t *lx, jg_layer_spec_t *L, const arg_t *args, int nargs,
                      const char *text)
{
    const argdef_t d = argdef(L->kind);
    /* values by key index; -1 unset */
    const char *vals[10] = { NULL };
    const arg_t *where[10] = { NULL };
    int npos = 0, seen_key = 0;
    for (int a = 0; a < nargs; a++) {
        int idx = -1;
        if (args[a].has_key) {
            seen_key = 1;
            for (int k = 0; k < 10 && d.keys[k]; k++)
                if (strcmp(d.keys[k], args[a].key) == 0) idx = k;
            if (idx < 0) {
                char m[120] = "";
                for (int k = 0; k < 10 && d.keys[k]; k++) {
                    strncat(m, k ? ", " : "", sizeof m - strlen(m) - 1);
                    strncat(m, d.keys[k], sizeof m - strlen(m) - 1);
                }
                jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': unknown argument '%s' "
                             "(expected %s)", args[a].kline, args[a].kcol, text,
                             args[a].key, d.keys[0] ? m : "no arguments");
                return -EINVAL;
            }
        } else {
            if (seen_key)
                return arg_error(lx, &args[a], text, "%spositional argument after "
                                 "key=value", "");
            if (npos >= d.n_pos) {
                jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': too many positional "
                             "arguments (at most %d)", args[a].line, args[a].col,
                             text, d.n_pos);
                return -EINVAL;
            }
            idx = npos++;
        }
        if (vals[idx]) {
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': argument '%s' given twice",
                         args[a].kline, args[a].kcol, text, d.keys[idx]);
            return -EINVAL;
        }
        vals[idx] = args[a].val;
        where[idx] = &args[a];
    }

    const char *const *keys = d.keys;
    /* read an integer argument >= min; returns 1 if set, 0 unset, <0 error */
#define GET_INT(idx, dst, min, what)                                              \
    do {                                                                          \
        if (vals[idx]) {                                                          \
            int v_;                                                               \
            if (parse_int(vals[idx], &v_) || v_ < (min))                          \
                return arg_error(lx, where[idx], text, what, keys[idx]);         \
            (dst) = v_;                                                           \
        }                                                                         \
    } while (0)
#define POS_INT "expected a positive integer for %s"
#define NONNEG_INT "expected a non-negative integer for %s"

    switch (L->kind) {
    case JG_LAYER_CONV2D: {
        int out = 0, k = 0, stride = 1, pad = 0, kh = 0, kw = 0;
        int sh = 0, sw = 0, ph = -1, pw = -1;
        GET_INT(0, out, 1, POS_INT);
        GET_INT(1, k, 1, POS_INT);
        GET_INT(2, stride, 1, POS_INT);
        GET_INT(3, pad, 0, NONNEG_INT);
        GET_INT(4, kh, 1, POS_INT);
        GET_INT(5, kw, 1, POS_INT);
        GET_INT(6, sh, 1, POS_INT);
        GET_INT(7, sw, 1, POS_INT);
        GET_INT(8, ph, 0, NONNEG_INT);
        GET_INT(9, pw, 0, NONNEG_INT);
        if (!vals[0]) {
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': missing argument 'out' "
                         "(output channels)", L->line, L->col, text);
            return -EINVAL;
        }
        if (!k && (!kh || !kw)) {
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': missing kernel size "
                         "(k, or both kh and kw)", L->line, L->col, text);
            return -EINVAL;
        }
        L->out = out;
        L->kh = kh ? kh : k;
        L->kw = kw ? kw : k;
        L->stride_h = sh ? sh : stride;
        L->stride_w = sw ? sw : stride;
        L->pad_h = ph >= 0 ? ph : pad;
        L->pad_w = pw >= 0 ? pw : pad;
        break;
    }
    case JG_LAYER_LINEAR:
        if (!vals[0]) {
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': missing argument 'out' "
                         "(output features)", L->line, L->col, text);
            return -EINVAL;
        }
        GET_INT(0, L->out, 1, POS_INT);
        break;
    case JG_LAYER_MAXPOOL2D:
    case JG_LAYER_AVGPOOL2D: {
        int k = 0, stride = 0, pad = 0, kh = 0, kw = 0, sh = 0, sw = 0, ph = -1, pw = -1;
        GET_INT(0, k, 1, POS_INT);
        GET_INT(1, stride, 1, POS_INT);
        GET_INT(2, pad, 0, NONNEG_INT);
        GET_INT(3, kh, 1, POS_INT);
        GET_INT(4, kw, 1, POS_INT);
        GET_INT(5, sh, 1, POS_INT);
        GET_INT(6, sw, 1, POS_INT);
        GET_INT(7, ph, 0, NONNEG_INT);
        GET_INT(8, pw, 0, NONNEG_INT);
        if (!k && (!kh || !kw)) {
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': missing window size "
                         "(k, or both kh and kw)", L->line, L->col, text);
            return -EINVAL;
        }
        L->kh = kh ? kh : k;
        L->kw = kw ? kw : k;
        /* stride defaults to the window, as PyTorch */
        L->stride_h = sh ? sh : (stride ? stride : L->kh);
        L->stride_w = sw ? sw : (stride ? stride : L->kw);
        L->pad_h = ph >= 0 ? ph : pad;
        L->pad_w = pw >= 0 ? pw : pad;
        break;
    }
    case JG_LAYER_BATCHNORM2D:
        L->eps = 1e-5f;
        L->momentum = 0.1f;
        if (vals[0] && (parse_float(vals[0], &L->eps) || !(L->eps > 0.0f)))
            return arg_error(lx, where[0], text, "expected a positive number for %s", "eps");
        if (vals[1] && (parse_float(vals[1], &L->momentum) || L->momentum < 0.0f ||
                        L->momentum > 1.0f))
            return arg_error(lx, where[1], text, "expected a number in [0, 1] for %s",
                             "momentum");
        break;
    case JG_LAYER_DROPOUT:
        L->p = 0.5f;
        if (vals[0] && (parse_float(vals[0], &L->p) || L->p < 0.0f || L->p >= 1.0f))
            return arg_error(lx, where[0], text, "expected a number in [0, 1) for %s", "p");
        break;
    case JG_LAYER_LEAKY_RELU:
        L->slope = 0.01f;
        if (vals[0] && parse_float(vals[0], &L->slope))
            return arg_error(lx, where[0], text, "expected a number for %s", "slope");
        break;
    default:
        break;
    }
#undef GET_INT
#undef POS_INT
#undef NONNEG_INT
    return 0;
}

/* Parse "(a, k=v, ...)" starting at '('. */
static int parse_args(lexer_t *lx, arg_t *args, int *nargs, const char *text)
{
    const int line0 = lx->line, col0 = col_of(lx, lx->i);
    lx->i++; /* '(' */
    *nargs = 0;
    skip_space(lx, 0);
    if (lx->s[lx->i] == ')') {
        lx->i++;
        return 0;
    }
    for (;;) {
        skip_space(lx, 0);
        if (*nargs == MAX_ARGS) {
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': too many arguments",
                         lx->line, col_of(lx, lx->i), text);
            return -EINVAL;
        }
        arg_t *a = &args[(*nargs)++];
        memset(a, 0, sizeof *a);
        a->line = a->kline = lx->line;
        a->col = a->kcol = col_of(lx, lx->i);
        size_t st = lx->i, n = 0;
        while (lx->s[lx->i] && !strchr(",)=; \t\r\n(", lx->s[lx->i])) lx->i++;
        n = lx->i - st;
        skip_space(lx, 0);
        if (lx->s[lx->i] == '=') {
            if (n == 0 || n >= sizeof a->key) {
                jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': expected an argument name "
                             "before '='", a->line, a->col, text);
                return -EINVAL;
            }
            memcpy(a->key, lx->s + st, n);
            a->has_key = 1;
            lx->i++;
            skip_space(lx, 0);
            a->line = lx->line;
            a->col = col_of(lx, lx->i);
            st = lx->i;
            while (lx->s[lx->i] && !strchr(",)=; \t\r\n(", lx->s[lx->i])) lx->i++;
            n = lx->i - st;
            skip_space(lx, 0);
        }
        if (n == 0 || n >= sizeof a->val) {
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': expected a value%s",
                         lx->line, col_of(lx, lx->i), text,
                         lx->s[lx->i] ? "" : " (unterminated argument list)");
            return -EINVAL;
        }
        memcpy(a->val, lx->s + st, n);
        const char ch = lx->s[lx->i];
        if (ch == ',') {
            lx->i++;
            continue;
        }
        if (ch == ')') {
            lx->i++;
            return 0;
        }
        if (!ch)
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': missing ')' for '(' opened at "
                         "%d:%d", lx->line, col_of(lx, lx->i), text, line0, col0);
        else
            jg_nn_errorf(lx->err, "spec:%d:%d: in '%s': unexpected '%c' in argument "
                         "list", lx->line, col_of(lx, lx->i), text, ch);
        return -EINVAL;
    }
}

int jg_nn_parse(const char *spec, jg_layer_spec_t *layers, int cap, int *count,
                jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!spec || !count || cap < 0 || (cap > 0 && !layers)) {
        jg_nn_errorf(err, "spec: invalid arguments");
        return -EINVAL;
    }
    *count = 0;
    lexer_t lx = { spec, 0, 1, 0, err };
    int n = 0;
    for (;;) {
        skip_space(&lx, 1);
        if (!spec[lx.i]) break;
        const int line = lx.line, col = col_of(&lx, lx.i);
        const size_t st = lx.i;
        if (!is_ident0(spec[lx.i])) {
            jg_nn_errorf(err, "spec:%d:%d: unexpected '%c' (expected a layer name)",
                         line, col, spec[lx.i]);
            return -EINVAL;
        }
        while (is_ident(spec[lx.i])) lx.i++;
        char name[32];
        const size_t nl = lx.i - st;
        snprintf(name, sizeof name, "%.*s", (int)(nl < 31 ? nl : 31), spec + st);
        jg_layer_kind_t kind = JG_LAYER_KIND_COUNT;
        for (size_t k = 0; k < sizeof NAMES / sizeof NAMES[0]; k++)
            if (nl == strlen(NAMES[k].name) && strncmp(NAMES[k].name, spec + st, nl) == 0)
                kind = NAMES[k].kind;
        if (kind == JG_LAYER_KIND_COUNT) {
            jg_nn_errorf(err, "spec:%d:%d: unknown layer '%s' (expected one of "
                         EXPECTED_NAMES ")", line, col, name);
            return -EINVAL;
        }
        /* the layer's text for messages: name plus its argument list */
        const size_t save_i = lx.i;
        arg_t args[MAX_ARGS];
        int nargs = 0;
        char text[64];
        {
            size_t e = lx.i;
            if (spec[e] == '(') {
                while (spec[e] && spec[e] != ')') e++;
                if (spec[e] == ')') e++;
            }
            const size_t tl = e - st;
            snprintf(text, sizeof text, "%.*s", (int)(tl < 63 ? tl : 63), spec + st);
        }
        lx.i = save_i;
        if (spec[lx.i] == '(') {
            const int rc = parse_args(&lx, args, &nargs, text);
            if (rc) return rc;
        }
        if (spec[lx.i] && !isspace((unsigned char)spec[lx.i]) && spec[lx.i] != ',' &&
            spec[lx.i] != ';' && spec[lx.i] != '#') {
            jg_nn_errorf(err, "spec:%d:%d: unexpected '%c' after '%s'", lx.line,
                         col_of(&lx, lx.i), spec[lx.i], text);
            return -EINVAL;
        }
        jg_layer_spec_t L;
        memset(&L, 0, sizeof L);
        L.kind = kind;
        L.line = line;
        L.col = col;
        const int rc = apply_args(&lx, &L, args, nargs, text);
        if (rc) return rc;
        if (n >= cap) {
            jg_nn_errorf(err, "spec:%d:%d: too many layers (at most %d)", line, col, cap);
            return -ENOSPC;
        }
        layers[n++] = L;
    }
    if (n == 0) {
        jg_nn_errorf(err, "spec:1:1: empty model spec (expected layers such as "
                     "'conv(32,3,pad=1) relu flatten linear(10)')");
        return -EINVAL;
    }
    *count = n;
    return 0;
}
