/* SPDX-License-Identifier: MIT */
/*
 * cli.h - subcommands of the joulegrad program. Each takes the arguments
 * after the program name (argv[0] is the command) and returns the exit code:
 * 0 success, 1 runtime failure, 2 bad usage.
 */
#ifndef JG_CLI_H
#define JG_CLI_H

#ifdef __cplusplus
extern "C" {
#endif

/* joulegrad energy [--json] [--energy MODE] [--assume-watts W] [--idle-watts W] */
int jg_cli_energy(int argc, char **argv);

/* joulegrad models [--json]: presets, expanded spec, params, FLOPs */
int jg_cli_models(int argc, char **argv);

/* joulegrad train [options] (see --help) */
int jg_cli_train(int argc, char **argv);

/* joulegrad profile --model SPEC --batches N [--json] (see --help): per-layer
 * energy of N training steps */
int jg_cli_profile(int argc, char **argv);

/* joulegrad eval --checkpoint FILE [--data D] [--data-dir DIR] [--test-limit N] [--json] */
int jg_cli_eval(int argc, char **argv);

/* joulegrad predict --checkpoint FILE IMAGE... */
int jg_cli_predict(int argc, char **argv);

/* joulegrad tune --space SPACE --trials N --out DIR [options] (see --help):
 * hyperparameter search with trials.jsonl, best_vs_energy.csv, summary.json */
int jg_cli_tune(int argc, char **argv);

/* joulegrad reproduce rq1|rq2|all --out DIR [options] (see --help): the
 * experiments of Yarally et al. (CAIN 2023) with a report (docs/reproduction.md) */
int jg_cli_reproduce(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* JG_CLI_H */
