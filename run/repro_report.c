/* SPDX-License-Identifier: MIT */
/* repro_report.c - the reproduction's report: the claims at a glance, the
 * machine and energy source, the settings against the study's, then RQ1's
 * and RQ2's sections (repro_internal.h, report.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jg_kernels.h"
#include "repro_internal.h"

#ifndef JG_VERSION
#define JG_VERSION JG_RUN_VERSION
#endif

/* Training images of the whole split, for the time estimate. */
double jg_repro_split_images(const char *data)
{
    return !strcmp(data, "cifar10") ? 50000 : !strcmp(data, "synthetic") ? JG_DATA_SYN_TRAIN : 60000;
}

typedef struct {
    double rq1_s, rq2_s; /* seconds of the sub-runs, every invocation */
    int n, busy;         /* records, and those with a load above the cores */
    double max_load;
    /* Per experiment (RQ1, RQ2), over the records that have them: wall and
     * training seconds, trained images x epochs, and their count. */
    double wall[2], train[2], img_ep[2];
    int timed[2];
} times_t;

/* Reads DIR/progress.csv (a continued run counts each part). A sub-run
 * ending with a 1-minute load average above the cores + 0.5 shared the CPU
 * with other work. */
static void recorded_times(const ctx_t *c, times_t *tm)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/progress.csv", c->o.out);
    char *t = jg_repro_read_text(path);
    memset(tm, 0, sizeof *tm);
    const double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    for (char *line = t; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        double secs = NAN, load = NAN, train = NAN, img_ep = NAN;
        const char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        const int got = c2 ? sscanf(c2 + 1, "%lf,%lf,%lf,%lf", &secs, &load, &train, &img_ep) : 0;
        if (got >= 1 && isfinite(secs) && secs >= 0) {
            const int q = strncmp(line, "rq1/", 4) != 0;
            *(q ? &tm->rq2_s : &tm->rq1_s) += secs;
            if (got == 4 && train >= 0 && train <= secs && img_ep > 0) {
                tm->wall[q] += secs;
                tm->train[q] += train;
                tm->img_ep[q] += img_ep;
                tm->timed[q]++;
            }
            tm->n++;
            if (load > cores + 0.5) tm->busy++;
            if (load > tm->max_load) tm->max_load = load;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(t);
}

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (colon && (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5))) {
            snprintf(buf, cap, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    if (f) fclose(f);
}

/* The energy source of every figure: one name, or "mixed: a, b" (then the
 * report says so). */
static void find_source(ctx_t *c)
{
    c->source[0] = '\0';
    c->w_per_core = 0;
    for (int i = 0; i < c->n_subs; i++) {
        const sub_t *s = &c->subs[i];
        const char *src = s->rq == 1 ? s->t.source : s->r.source;
        if (s->rq == 2 && s->r.w_per_core > 0) c->w_per_core = s->r.w_per_core;
        if (!c->source[0]) snprintf(c->source, sizeof c->source, "%s", src);
        else if (strcmp(c->source, src) && !strstr(c->source, src)) {
            char prev[64];
            snprintf(prev, sizeof prev, "%s", c->source);
            if (snprintf(c->source, sizeof c->source, "%s%.40s, %.10s",
                         strncmp(prev, "mixed: ", 7) ? "mixed: " : "", prev, src) < 0)
                snprintf(c->source, sizeof c->source, "mixed");
        }
    }
}

static void settings_section(const ctx_t *c, jg_report_t *r)
{
    const opts_t *o = &c->o;
    const scale_t *sc = o->scale;
    const double n_split = jg_repro_split_images(o->data.name);
    const int n1 = sc->train_limit ? sc->train_limit : (int)n_split;
    char imgs1[128], imgs2[128], test1[64], test2[64];
    snprintf(imgs1, sizeof imgs1, "%d (%d trained, %d validation)%s", n1,
             n1 - (int)llround(0.1 * n1), (int)llround(0.1 * n1),
             sc->train_limit ? ", a seeded random subset" : "");
    snprintf(imgs2, sizeof imgs2, sc->rq2_train_limit ? "%d (a seeded subset)" : "all",
             sc->rq2_train_limit);
    snprintf(test1, sizeof test1, sc->test_limit ? "first %d" : "all", sc->test_limit);
    snprintf(test2, sizeof test2, sc->rq2_test_limit ? "first %d" : "all", sc->rq2_test_limit);
    jg_report_h(r, 2, "Settings");
    jg_report_p(r, "Scale `%s`, %d seed(s) / repetition(s), data `%s`. Differences from the study "
                   "are stated in the last column.", sc->name, o->seeds, o->data.name);
    jg_report_table_begin(r);
    jg_report_row(r, "setting\tthis run\tthe study\twhy different");
    jg_report_row(r, "dataset\t%s\tFashion-MNIST and CIFAR-10\t%s", o->data.name,
                  !strcmp(o->data.name, "synthetic") ? "synthetic images test the pipeline only"
                                                     : "one dataset per run (--data)");
    jg_report_row(r, "RQ1 training images per trial\t%s\tall\t%s", imgs1,
                  sc->train_limit ? "a subset keeps the scale's time budget" : "-");
    jg_report_row(r, "RQ1 test images\t%s\tall\t%s", test1,
                  sc->test_limit ? "test accuracy is reported, never used for selection" : "-");
    jg_report_row(r, "RQ1 epochs per trial\t%d\tnot stated in the issue\t-", sc->epochs);
    jg_report_row(r, "batch\t%d (RQ2 %d)\t512\t%s", sc->batch, sc->rq2_batch,
                  sc->batch != 512 ? "more steps per epoch on a few hundred images" : "-");
    jg_report_row(r, "trials per strategy\t%d\t64\t%s", sc->trials,
                  sc->trials != 64 ? "the scale's time budget" : "-");
    jg_report_row(r, "seeds\t%d\t1\tseveral seeds allow a paired test", o->seeds);
    jg_report_row(r, "search space\t`%s`, and the same with `lr=log:1e-5:1e-1`\tlr [1e-5, 1e-1] "
                     "uniform, beta1 [0.1, 1], beta2 [0.8, 1]\tbeta < 1: Adam divides by 1 - "
                     "beta^t, so beta = 1 is undefined (0/0); log lr added because uniform lr "
                     "puts 90%% of the trials above 0.01", SPACES[0].space);
    jg_report_row(r, "grid\t5 levels per dimension, the 125 points in a seeded random order, the "
                     "first %d\t5 levels, 64 of the 125 in random order\t-", sc->trials);
    jg_report_row(r, "Bayesian optimisation\tGaussian process (Matern-5/2, fitted length scales) "
                     "on the unit cube; 5 random initial points; PI (xi = 0.01) and EI over 2000 "
                     "random candidates plus local refinement\tsklearn's default GP on raw "
                     "inputs, PI over 10,000 random candidates\tjoulegrad's tuner (docs/tuning.md)");
    jg_report_row(r, "RQ2 training\t%s training images, %s test images, %d epoch(s), Adam lr 0.001, %d "
                     "repetition(s)\tnot stated in the issue, 1 run per cell\trepetitions allow "
                     "a paired test", imgs2, test2, sc->rq2_epochs, o->seeds);
    jg_report_row(r, "energy\tCPU, `%s` (per trial; per layer type in RQ2)\tGPU power from "
                     "nvidia-smi\tthis is a CPU trainer", c->source);
    jg_report_table_end(r);
}

int jg_repro_write_report(ctx_t *c)
{
    const opts_t *o = &c->o;
    claims_t cl = {.n = 0};
    jg_report_t rep, body;
    memset(&rep, 0, sizeof rep);
    memset(&body, 0, sizeof body);
    find_source(c);
    jg_report_begin(&body, o->out, NULL);
    int rc = o->rq1 ? jg_repro_rq1_report(c, &body, &cl) : 0;
    if (!rc && o->rq2) rc = jg_repro_rq2_report(c, &body, &cl);

    jg_report_begin(&rep, o->out, "Reproducing Yarally et al. (CAIN 2023) with joulegrad");
    jg_report_p(&rep, "Yarally, Cruz, Feitosa, Sallou and van Deursen, \"Uncovering "
                      "Energy-Efficient Practices in Deep Learning Training: Preliminary Steps "
                      "Towards Green AI\" (CAIN 2023), measured GPU power while tuning Adam with "
                      "grid search, random search and Bayesian optimisation (RQ1), and while "
                      "training CNNs with more or fewer conv, linear and ReLU layers (RQ2). This "
                      "report re-runs both experiments with `joulegrad reproduce %s --scale %s` "
                      "on a CPU and checks each claim against the numbers measured here.",
                o->what, o->scale->name);
    jg_report_h(&rep, 2, "Claims at a glance");
    jg_report_p(&rep, "Each claim of the study is **confirmed**, **refuted**, **inconclusive** "
                      "(no significant effect either way after Holm's correction, alpha = 0.05) "
                      "or **not testable here**, with the numbers and the test behind it. Every "
                      "joule figure is labelled with its source (`%s`).", c->source);
    for (int i = 0; i < cl.n; i++)
        jg_report_li(&rep, "**Claim %s: %s.** %s", cl.c[i].id, cl.c[i].verdict, cl.c[i].text);
    if (!o->rq1) jg_report_li(&rep, "RQ1 was not run (`reproduce rq2`).");
    if (!o->rq2) jg_report_li(&rep, "RQ2 was not run (`reproduce rq1`).");

    jg_report_h(&rep, 2, "Machine and energy source");
    char cpu[256], t1[32], t2[32], t3[32];
    cpu_model(cpu, sizeof cpu);
    times_t tm;
    recorded_times(c, &tm);
    const double rq1_s = tm.rq1_s, rq2_s = tm.rq2_s;
    jg_repro_fmt_time(jg_now_s() - c->t0, t1, sizeof t1);
    jg_repro_fmt_time(rq1_s, t2, sizeof t2);
    jg_repro_fmt_time(rq2_s, t3, sizeof t3);
    jg_report_li(&rep, "CPU: %s, %ld logical cores online; kernels `%s`, %d thread(s); joulegrad "
                       "%s.", cpu, sysconf(_SC_NPROCESSORS_ONLN), jg_isa_name(jg_kernels_isa()),
                 jg_kernels_threads(), JG_VERSION);
    jg_report_li(&rep, "Time: sub-runs %s for RQ1 and %s for RQ2 (sum over every invocation, "
                       "from `progress.csv`); this invocation %s in all.", t2, t3, t1);
    if (tm.busy)
        jg_report_li(&rep, "**Warning: the machine was busy.** %d of %d sub-runs ended with a "
                           "1-minute load average above the %ld cores (up to %.1f): other "
                           "processes competed for the CPU. That slows the runs and, with the "
                           "`estimate` source, inflates their joules (OpenMP threads waiting "
                           "for a busy core spin, and spinning is CPU time). Re-run on a quiet "
                           "machine, or with `--threads 1` (or `OMP_WAIT_POLICY=passive`) "
                           "when the machine must be shared.", tm.busy, tm.n,
                     sysconf(_SC_NPROCESSORS_ONLN), tm.max_load);
    if (!strcmp(c->source, "estimate"))
        jg_report_li(&rep, "Energy source `estimate`: no RAPL counters are readable here "
                           "(`joulegrad energy` says why), so every joule figure is this "
                           "process's CPU time x %g W per busy core (an assumption, "
                           "`--assume-watts`): a model of the CPU's power, not a measurement. "
                           "It ranks the work of different layers and runs faithfully but its "
                           "absolute joules are only as good as the assumed watts. Where RAPL "
                           "is readable, `--energy auto` uses it and every figure is labelled "
                           "`rapl`. With this source the runs use 1 kernel thread unless "
                           "`--threads` says otherwise: OpenMP's spin-waiting is CPU time, so "
                           "with 2 threads it entered the joules (repetitions of one run "
                           "+-15%% apart here, against +-2%% with 1 thread).",
                     c->w_per_core > 0 ? c->w_per_core : JG_ESTIMATE_DEFAULT_W_PER_CORE);
    else if (!strcmp(c->source, "rapl"))
        jg_report_li(&rep, "Energy source `rapl`: the CPU package (+ DRAM, or psys) energy "
                           "counters through powercap: measured joules of the whole package, "
                           "including anything else running on the machine at the time.");
    else
        jg_report_li(&rep, "Energy source `%s`: the sub-runs did not all report the same "
                           "source; compare figures only within one source (the raw files "
                           "carry each run's).", c->source);
    if (o->scale != &SCALES[N_SCALES - 1]) {
        // Training seconds per trained image x epoch scaled to the full
        // settings, plus each sub-run's other seconds (loading the data,
        // evaluation) as measured: loading does not grow with the images
        // trained, so it must not be extrapolated with them.
        const scale_t *fu = &SCALES[N_SCALES - 1];
        const double n = jg_repro_split_images(o->data.name);
        const double full_ie[2] = {
            (double)N_NETS * N_SPACES * N_STRATS * fu->seeds * fu->trials * fu->epochs *
                (n - llround(0.1 * n)),
            (double)N_CFGS * fu->seeds * fu->rq2_epochs * n};
        const double full_runs[2] = {(double)N_NETS * N_SPACES * N_STRATS * fu->seeds,
                                     (double)N_CFGS * fu->seeds};
        char e[2][32] = {"-", "-"};
        for (int q = 0; q < 2; q++)
            if ((q ? o->rq2 : o->rq1) && tm.timed[q] && tm.img_ep[q] > 0)
                jg_repro_fmt_time(tm.train[q] / tm.img_ep[q] * full_ie[q] +
                                      (tm.wall[q] - tm.train[q]) / tm.timed[q] * full_runs[q],
                                  e[q], sizeof e[q]);
        jg_report_li(&rep, "`--scale full` (%d trials of %d epochs on all %.0f images, RQ2 %d "
                           "epochs, %d seeds) would take about %s for RQ1 and %s for RQ2 here "
                           "with these threads: this run's training seconds per trained image "
                           "x epoch, scaled to the full runs, plus each sub-run's loading and "
                           "evaluation seconds as measured (a rough figure: larger test sets "
                           "take longer to evaluate).", fu->trials, fu->epochs, n, fu->rq2_epochs,
                     fu->seeds, e[0], e[1]);
    }
    settings_section(c, &rep);
    jg_report_append(&rep, &body);
    jg_report_h(&rep, 2, "Files");
    jg_report_p(&rep, "Beside this report: `rq1_runs.csv` (one row per tuning study), "
                      "`rq1_summary.csv` (the medians above), `rq1_tests.csv`, `rq2_runs.csv` "
                      "(one row per training run, joules per layer type), `rq2_configs.csv`, "
                      "`rq2_effects.csv` (sums of squares), `rq2_tests.csv`, `rq2_sweep.csv`, "
                      "the figures (`.png`, `.svg`, with their `.dat` data and `.gp` scripts), "
                      "`reproduce.json` (the settings) and `progress.csv` (time per sub-run). "
                      "Every sub-run keeps its own files and console log (`log.txt`) in "
                      "`rq1/<network>/<lr>/<strategy>/seed-<s>/` and "
                      "`rq2/<network>/rep-<r>/`.");
    const int wrc = jg_report_write(&rep);
    if (!rc) rc = wrc;
    for (int i = 0; !rc && i < cl.n; i++) // the verdicts on the console too
        jg_logf(c->log, JG_LOG_OUT, "claim %s: %s", cl.c[i].id, cl.c[i].verdict);
    free(body.md.p);
    free(body.html.p);
    return rc;
}

