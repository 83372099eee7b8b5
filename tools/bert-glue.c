#define _POSIX_C_SOURCE 200809L
/* bert-glue: GLUE and SuperGLUE evaluation runs, one model folder per task. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bert/bert.h>

#include "afile.h"
#include "cli.h"
#include "opts.h"

static const char *prog = "bert-glue";

static const char *data, *out_dir, *results, *markdown;
static size_t batch_size, max_length, threads;
static int test_split, predictions, quiet, precision, weights;
static const char *const splits[] = {"dev", "test", NULL};

/* The options, parsed and documented by this one table (opts.h). */
static const cli_opt options[] = {
    {.names = "--data", CLI_STRING(&data), .metavar = "DIR",
     .help = "the folder holding glue/ and superglue/ (as ../shared/data does)"},
    {.names = "--split", CLI_CHOICE(&test_split), .metavar = "S", .choices = splits,
     .help = "%r: dev (default) reports metrics, test writes\nleaderboard files"},
    {.names = "--out", CLI_STRING(&out_dir), .metavar = "DIR",
     .help = "where leaderboard/submission files go (created; default: .\nfor test)"},
    {.names = "--results", CLI_STRING(&results), .metavar = "FILE",
     .help = "write all results as JSON"},
    {.names = "--predictions", CLI_FLAG(&predictions), .value = 1,
     .help = "also write OUT/<task>.predictions.jsonl (every example's\nprediction at full precision; with "
             "--split dev, --out\ndefaults to .)"},
    {.names = "--markdown", CLI_STRING(&markdown), .metavar = "FILE",
     .help = "write the Markdown table to FILE instead of standard output"},
    {.names = "--batch-size", CLI_SIZE(&batch_size), .metavar = "N", .min = 1,
     .max = CLI_MAX_BATCH, .help = "inputs per forward pass, %r (default 32)"},
    {.names = "--max-length", CLI_SIZE(&max_length), .metavar = "N", .min = 4,
     .max = CLI_MAX_LENGTH,
     .help = "tokens per input, %r (a pair needs 3 special tokens and\none of each text; default 128)"},
    CLI_OPT_THREADS(&threads),
    CLI_OPT_PRECISION(&precision),
    CLI_OPT_WEIGHTS(&weights),
    {.names = "--quiet|-q", CLI_FLAG(&quiet), .value = 1, .help = "no progress bar"},
    CLI_OPT_END,
};

static void usage(FILE *out)
{
    fputs("NAME\n"
          "    bert-glue - evaluate BERT checkpoints on GLUE and SuperGLUE\n"
          "\n"
          "SYNOPSIS\n"
          "    bert-glue --data DIR [--split dev|test] [--out DIR] [OPTIONS] TASK=MODEL_DIR...\n"
          "\n"
          "DESCRIPTION\n"
          "    Runs each TASK with the model in MODEL_DIR. With --split dev (default) it reports the\n"
          "    task's official metrics; with --split test it writes the leaderboard file (GLUE:\n"
          "    index<TAB>prediction TSVs; SuperGLUE: the official JSONL) into --out. At the end it prints\n"
          "    a Markdown table and, with --results, writes a JSON file of every metric.\n"
          "\n"
          "    GLUE tasks:      CoLA SST-2 MRPC STS-B QQP MNLI-m MNLI-mm QNLI RTE WNLI AX (AX: an MNLI\n"
          "                     model on the diagnostic set)\n"
          "    SuperGLUE tasks: BoolQ CB COPA MultiRC ReCoRD RTE-SG WiC WSC AX-b AX-g (RTE-SG is\n"
          "                     SuperGLUE's RTE; COPA needs a BertForMultipleChoice checkpoint)\n"
          "\n"
          "OPTIONS\n",
          out);
    cli_print_options(out, options);
    fputs("\n"
          "EXIT STATUS\n"
          "    0 success, 2 bad usage, 3 bad data (the file and line are named), 4 a model cannot be\n"
          "    loaded or does not fit its task (e.g. its labels do not cover the task's), 5 other\n"
          "    failures: out of memory, or an output that cannot be created (checked before any\n"
          "    task runs) or written (full disk, /dev/full). Files are written under a temporary\n"
          "    name and renamed when complete: a failed or killed run leaves the old file or none,\n"
          "    never a part of one.\n"
          "\n"
          "EXAMPLE\n"
          "    bert-glue --data ../shared/data SST-2=models/mini-sst2 STS-B=path/to/mini-stsb\n",
          out);
}

typedef struct bar {
    int on;
    const char *task;
    double t0, last;
} bar;

static void progress(size_t done, size_t total, void *user)
{
    bar *b = user;
    double t = cli_now();
    if (!b->on || (t - b->last < 0.2 && done < total))
        return;
    b->last = t;
    double rate = t > b->t0 ? (double)done / (t - b->t0) : 0;
    fprintf(stderr, "\r%s: %s %zu/%zu inputs, %.0f/s%s", prog, b->task, done, total, rate, done == total ? "\n" : "   ");
}

int main(int argc, char **argv)
{
    bert_eval_params ep = bert_eval_default_params();
    bert_model_params mp = bert_model_default_params();
    batch_size = ep.batch_size;
    max_length = ep.max_length;
    size_t n_runs = 0;
    const int pr = cli_parse_args(prog, options, argc, argv, &n_runs, 0);
    char **runs = argv + 1; /* TASK=MODEL_DIR */
    if (pr != CLI_ARGS_OK || n_runs == 0 || !data) {
        if (pr == CLI_ARGS_HELP)
            usage(stdout);
        else if (pr == CLI_ARGS_OK)
            fprintf(stderr, "%s: give --data DIR and at least one TASK=MODEL_DIR (see --help)\n", prog);
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    }
    ep.batch_size = batch_size;
    ep.max_length = max_length;
    ep.test = test_split;
    ep.predictions = predictions;
    mp.precision = (bert_precision)precision;
    mp.weights = (bert_weights)weights;
    const char *const *names = bert_eval_task_names();
    for (size_t i = 0; i < n_runs; i++) {
        const char *eq = strchr(runs[i], '=');
        int known = 0;
        for (size_t k = 0; eq && names[k]; k++)
            known |= strlen(names[k]) == (size_t)(eq - runs[i]) && !strncmp(names[k], runs[i], (size_t)(eq - runs[i]));
        if (!eq || !known || !eq[1]) {
            fprintf(stderr, "%s: '%s' is not TASK=MODEL_DIR with a known task (see --help)\n", prog, runs[i]);
                return CLI_ERR_USAGE;
        }
    }
    if ((ep.test || ep.predictions) && !out_dir)
        out_dir = ".";
    if (out_dir && mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: %s: cannot create: %s\n", prog, out_dir, strerror(errno));
        return CLI_ERR_USAGE;
    }
    /* every output must be creatable before the first task runs, not found unwritable after */
    {
        char probe[4200], why[4400];
        const char *outs[3] = {results, markdown, NULL};
        if (out_dir) {
            snprintf(probe, sizeof probe, "%s/bert-glue", out_dir);
            outs[2] = probe;
        }
        for (int k = 0; k < 3; k++) {
            if (outs[k] && bert__afile_probe(outs[k], why, sizeof why) != 0) {
                if (k == 2)
                    fprintf(stderr, "%s: --out %s: cannot create files there: %s\n", prog, out_dir,
                            strerror(errno));
                else
                    fprintf(stderr, "%s: %s\n", prog, why);
                        return CLI_ERR_RUNTIME;
            }
        }
    }
    cli_catch_sigbus(prog);
    ep.out_dir = out_dir;
    bert_eval_result *res = calloc(n_runs, sizeof *res);
    if (!res) {
        return CLI_ERR_RUNTIME;
    }
    int rc = CLI_OK;
    size_t done = 0;
    for (size_t i = 0; i < n_runs && rc == CLI_OK; i++) {
        char task[32], err[1024];
        const char *eq = strchr(runs[i], '=');
        snprintf(task, sizeof task, "%.*s", (int)(eq - runs[i]), runs[i]);
        const char *model_dir = eq + 1;
        bert_model *m = NULL;
        bert_ctx *ctx = NULL;
        bert_ctx_params cp = bert_ctx_default_params();
        cp.n_threads = (int)threads;
        if (bert_model_load(model_dir, &mp, &m, err, sizeof err) != BERT_OK ||
            bert_ctx_new(m, &cp, &ctx, err, sizeof err) != BERT_OK) {
            fprintf(stderr, "%s: %s: %s\n", prog, task, err);
            rc = CLI_ERR_MODEL;
        } else {
            char dir[4096];
            int sg = 0;
            for (size_t k = 0; names[k]; k++)
                if (!strcmp(names[k], task))
                    sg = k >= 11; /* the first eleven names are GLUE's */
            snprintf(dir, sizeof dir, "%s/%s", data, sg ? "superglue" : "glue");
            ep.data_dir = dir;
            bar b = {!quiet && isatty(STDERR_FILENO), task, cli_now(), 0};
            ep.progress = progress;
            ep.user = &b;
            bert_status st = bert_eval_task(task, m, ctx, &ep, &res[done], err, sizeof err);
            if (st != BERT_OK) {
                fprintf(stderr, "%s: %s: %s\n", prog, task, err);
                /* the result's file is named once the data are read and the task has run: an I/O
                 * error after that is writing the leaderboard or predictions file */
                const int writing = st == BERT_E_IO && res[done].file[0];
                rc = st == BERT_E_LABEL || st == BERT_E_UNSUPPORTED           ? CLI_ERR_MODEL
                     : st == BERT_E_NOMEM || st == BERT_E_BACKEND || writing ? CLI_ERR_RUNTIME
                                                                              : CLI_ERR_INPUT;
            } else {
                done++;
            }
        }
        bert_ctx_free(ctx);
        bert_model_free(m);
    }
    /* the Markdown table of what finished (nothing, not even its header, when nothing did) */
    char why[4400];
    bert__afile mdf = {.f = stdout};
    if (done == 0 && rc != CLI_OK) {
        free(res);
        return rc;
    }
    if (markdown && bert__afile_open(&mdf, markdown, why, sizeof why) != 0) {
        fprintf(stderr, "%s: %s\n", prog, why);
        rc = rc ? rc : CLI_ERR_RUNTIME;
    } else {
        FILE *md = mdf.f;
        fprintf(md, "| task | split | examples | metrics | seconds | examples/s | file |\n|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < done; i++) {
            fprintf(md, "| %s | %s | %zu | ", res[i].task, ep.test ? "test" : "dev", res[i].n_examples);
            for (size_t k = 0; k < res[i].n_metrics; k++)
                fprintf(md, "%s%s %.4f", k ? ", " : "", res[i].metric_name[k], res[i].metric[k]);
            fprintf(md, "%s | %.2f | %.0f | %s |\n", res[i].n_metrics ? "" : "-", res[i].seconds,
                    res[i].seconds > 0 ? (double)res[i].n_examples / res[i].seconds : 0.0,
                    res[i].file[0] ? res[i].file : "-");
        }
        errno = 0;
        if (markdown ? bert__afile_commit(&mdf, why, sizeof why) != 0 : fflush(stdout) != 0 || ferror(stdout)) {
            if (!markdown)
                snprintf(why, sizeof why, "standard output: write error: %s", strerror(errno ? errno : EIO));
            fprintf(stderr, "%s: %s\n", prog, why);
            rc = rc ? rc : CLI_ERR_RUNTIME;
        }
    }
    if (results) {
        bert__afile rf;
        if (bert__afile_open(&rf, results, why, sizeof why) != 0) {
            fprintf(stderr, "%s: %s\n", prog, why);
            rc = rc ? rc : CLI_ERR_RUNTIME;
        } else {
            FILE *f = rf.f;
            fprintf(f, "{\"split\": \"%s\", \"tasks\": {", ep.test ? "test" : "dev");
            for (size_t i = 0; i < done; i++) {
                fprintf(f, "%s\n  \"%s\": {\"examples\": %zu, \"seconds\": %.3f", i ? "," : "", res[i].task,
                        res[i].n_examples, res[i].seconds);
                for (size_t k = 0; k < res[i].n_metrics; k++) {
                    if (isfinite(res[i].metric[k]))
                        fprintf(f, ", \"%s\": %.17g", res[i].metric_name[k], res[i].metric[k]);
                    else
                        fprintf(f, ", \"%s\": null", res[i].metric_name[k]);
                }
                if (res[i].file[0]) {
                    fputs(", \"file\": ", f);
                    cli_json_string(f, res[i].file, strlen(res[i].file));
                }
                fputc('}', f);
            }
            fputs("\n}}\n", f);
            if (bert__afile_commit(&rf, why, sizeof why) != 0) {
                fprintf(stderr, "%s: %s\n", prog, why);
                rc = rc ? rc : CLI_ERR_RUNTIME;
            }
        }
    }
    free(res);
    return rc;
}
