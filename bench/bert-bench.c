/* bert-bench: libbert's benchmarks. Timings are medians and minima of repeated runs; nothing here
 * is asserted by the test suite (the machine is noisy).
 *
 *   bert-bench tokenizer [--model DIR] [--reps N] [--batch N] FILE...
 *   bert-bench load [--model DIR] [--reps N] [--precision f32|bf16|int8] [--weights packed|mapped]
 *
 * measures single-thread tokenization of FILE (one text per line), the same way
 * ../shared/bench/peer_tokenizers.js measures HF tokenizers: (a) one line per call, (b) batches of
 * --batch lines per call; tokens include [CLS]/[SEP]; MB = 1e6 bytes of text without newlines. */
#define _DEFAULT_SOURCE /* wait4 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bert/bert.h>

#include "bench.h"
#include "cli.h"
#include "opts.h"

static const char *prog = "bert-bench";

typedef struct corpus {
    char *data; /* all lines, '\n' removed, back to back */
    size_t *off, *len;
    size_t n, bytes;
} corpus;

static int load_corpus(const char *path, corpus *c)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, path, strerror(errno));
        return CLI_ERR_INPUT;
    }
    memset(c, 0, sizeof *c);
    char *line = NULL;
    size_t cap = 0, len = 0, data_cap = 0, idx_cap = 0;
    int r;
    while ((r = cli_read_line(f, &line, &cap, &len)) == 1) {
        if (c->bytes + len > data_cap) {
            data_cap = (c->bytes + len) * 2 + 4096;
            char *d = realloc(c->data, data_cap);
            if (!d)
                goto nomem;
            c->data = d;
        }
        if (c->n == idx_cap) {
            idx_cap = idx_cap * 2 + 1024;
            size_t *o = realloc(c->off, idx_cap * sizeof *o), *l;
            if (!o)
                goto nomem;
            c->off = o;
            l = realloc(c->len, idx_cap * sizeof *l);
            if (!l)
                goto nomem;
            c->len = l;
        }
        memcpy(c->data + c->bytes, line, len);
        c->off[c->n] = c->bytes;
        c->len[c->n] = len;
        c->bytes += len;
        c->n++;
    }
    free(line);
    if (r < 0) {
        const int rc = cli_line_error(prog, path, c->n + 1, r); /* before fclose, which may set errno */
        fclose(f);
        free(c->data);
        free(c->off);
        free(c->len);
        return rc;
    }
    fclose(f);
    return CLI_OK;
nomem:
    free(line);
    fclose(f);
    free(c->data);
    free(c->off);
    free(c->len);
    fprintf(stderr, "%s: out of memory reading %s\n", prog, path);
    return CLI_ERR_RUNTIME;
}

/* One pass over the corpus in batches of `batch` lines; returns tokens, or -1 on error. */
static long long pass(const bert_tokenizer *tok, bert_batch *b, const corpus *c, size_t batch, bert_text *texts)
{
    long long tokens = 0;
    bert_encode_params p = bert_encode_default_params();
    p.on_invalid_utf8 = BERT_INVALID_UTF8_REPLACE;
    for (size_t i = 0; i < c->n; i += batch) {
        size_t k = c->n - i < batch ? c->n - i : batch;
        for (size_t j = 0; j < k; j++) {
            texts[j].a = c->data + c->off[i + j];
            texts[j].a_len = c->len[i + j];
            texts[j].b = NULL;
            texts[j].b_len = 0;
        }
        if (bert_batch_encode(b, tok, texts, k, &p) != BERT_OK) {
            fprintf(stderr, "%s: %s\n", prog, bert_batch_errmsg(b));
            return -1;
        }
        bert_batch_view v = bert_batch_get(b);
        for (size_t r = 0; r < v.n_rows; r++)
            tokens += (long long)v.lengths[r];
    }
    return tokens;
}

static const char *tk_model;
static size_t tk_reps = 5, tk_batch = 1000;
static const cli_opt tokenizer_opts[] = {
    {.names = "--model",
     CLI_STRING(&tk_model),
     .metavar = "DIR",
     .help = "tokenizer folder (default: the embedded default model)"},
    {.names = "--reps",
     CLI_SIZE(&tk_reps),
     .metavar = "N",
     .min = 1,
     .max = 1000000,
     .help = "timed passes per mode, %r (default 5)"},
    {.names = "--batch",
     CLI_SIZE(&tk_batch),
     .metavar = "N",
     .min = 1,
     .max = 1000000,
     .help = "lines per call in the batched mode, %r (default 1000)"},
    CLI_OPT_END,
};

static int bench_tokenizer(int argc, char **argv)
{
    size_t n_files = 0;
    const int pr = cli_parse_args(prog, tokenizer_opts, argc, argv, &n_files, 0);
    char **files = argv + 1;
    if (pr != CLI_ARGS_OK || n_files == 0) {
        if (pr == CLI_ARGS_OK)
            fprintf(stderr, "%s tokenizer: no input file\n", prog);
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    }
    const char *model = tk_model;
    const size_t reps = tk_reps, batch = tk_batch;
    char err[512];
    bert_tokenizer *tok = NULL;
    if (bert_tokenizer_load(model ? model : cli_default_model(), NULL, &tok, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_MODEL;
    }
    bert_batch *b = NULL;
    bert_text *texts = calloc(batch, sizeof *texts);
    double *times = calloc(reps, sizeof *times);
    int rc = CLI_OK;
    if (!texts || !times || bert_batch_new(&b, err, sizeof err) != BERT_OK) {
        rc = CLI_ERR_RUNTIME;
        goto done;
    }
    for (size_t f = 0; f < n_files && rc == CLI_OK; f++) {
        corpus c;
        if ((rc = load_corpus(files[f], &c)) != CLI_OK)
            break;
        const size_t modes[2] = {1, batch};
        for (int m = 0; m < 2 && rc == CLI_OK; m++) {
            long long tokens = pass(tok, b, &c, modes[m], texts); /* warm-up */
            for (size_t r = 0; r < reps && tokens >= 0; r++) {
                double t0 = cli_now();
                tokens = pass(tok, b, &c, modes[m], texts);
                times[r] = cli_now() - t0;
            }
            if (tokens < 0) {
                rc = CLI_ERR_RUNTIME;
                break;
            }
            qsort(times, reps, sizeof *times, cli_cmp_double);
            const double best = times[0], median = times[reps / 2];
            printf("{\"tool\":\"libbert\",\"version\":\"%s\",\"file\":\"%s\",\"mode\":\"%s\",\"batch\":%zu,"
                   "\"lines\":%zu,\"bytes\":%zu,\"tokens\":%lld,\"reps\":%zu,\"best_s\":%.6f,\"median_s\":%.6f,"
                   "\"mb_per_s\":%.2f,\"tokens_per_s\":%.0f}\n",
                   bert_version_string(), files[f], m ? "batch" : "one_by_one", modes[m], c.n, c.bytes, tokens, reps,
                   best, median, (double)c.bytes / 1e6 / best, (double)tokens / best);
            fflush(stdout);
        }
        free(c.data);
        free(c.off);
        free(c.len);
    }
done:
    free(texts);
    free(times);
    bert_batch_free(b);
    bert_tokenizer_free(tok);
    return rc;
}

/* Forks a child that loads the model (or nothing); returns its load seconds and peak RSS in KiB. */
static int load_once(const char *model, const bert_model_params *mp, int do_load, double *secs, long *rss_kib)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        double t = 0;
        if (do_load) {
            char err[512];
            bert_model *m = NULL;
            double t0 = cli_now();
            bert_status st = bert_model_load(model, mp, &m, err, sizeof err);
            t = cli_now() - t0;
            if (st != BERT_OK) {
                fprintf(stderr, "%s: %s\n", prog, err);
                _exit(CLI_ERR_MODEL);
            }
            bert_model_free(m);
        }
        ssize_t w = write(fds[1], &t, sizeof t);
        _exit(w == (ssize_t)sizeof t ? 0 : CLI_ERR_RUNTIME);
    }
    close(fds[1]);
    ssize_t r = read(fds[0], secs, sizeof *secs);
    close(fds[0]);
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || r != (ssize_t)sizeof *secs)
        return -1;
    *rss_kib = ru.ru_maxrss;
    return 0;
}

static const char *ld_model;
static size_t ld_reps = 5;
static int ld_prec, ld_weights;
static const cli_opt load_opts[] = {
    {.names = "--model",
     CLI_STRING(&ld_model),
     .metavar = "DIR",
     .help = "the checkpoint (default: the embedded default model)"},
    {.names = "--reps",
     CLI_SIZE(&ld_reps),
     .metavar = "N",
     .min = 1,
     .max = 10000,
     .help = "loads, each in a fresh child process, %r (default 5)"},
    CLI_OPT_PRECISION(&ld_prec),
    CLI_OPT_WEIGHTS(&ld_weights),
    CLI_OPT_END,
};

static int bench_load(int argc, char **argv)
{
    size_t n_ops = 0;
    const int pr = cli_parse_args(prog, load_opts, argc, argv, &n_ops, 0);
    if (pr == CLI_ARGS_OK && n_ops)
        fprintf(stderr, "%s load: unexpected argument '%s'\n", prog, argv[1]);
    if (pr != CLI_ARGS_OK || n_ops)
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    const char *model = ld_model, *weights = cli_weight_modes[ld_weights], *prec = cli_precisions[ld_prec];
    const size_t reps = ld_reps;
    bert_model_params mp = bert_model_default_params();
    mp.precision = (bert_precision)ld_prec;
    mp.weights = (bert_weights)ld_weights;
    if (!model)
        model = cli_default_model();
    double *t = calloc(reps, sizeof *t), base_t;
    long *rss = calloc(reps, sizeof *rss), base_rss = 0;
    if (!t || !rss)
        return CLI_ERR_RUNTIME;
    int rc = CLI_OK;
    if (load_once(model, &mp, 0, &base_t, &base_rss) != 0)
        rc = CLI_ERR_RUNTIME;
    for (size_t r = 0; r < reps && rc == CLI_OK; r++)
        if (load_once(model, &mp, 1, &t[r], &rss[r]) != 0)
            rc = CLI_ERR_MODEL;
    if (rc == CLI_OK) {
        qsort(t, reps, sizeof *t, cli_cmp_double);
        long max_rss = 0;
        for (size_t r = 0; r < reps; r++)
            max_rss = rss[r] > max_rss ? rss[r] : max_rss;
        char err[512];
        bert_model *m = NULL;
        size_t wb = 0, mapped = 0;
        if (bert_model_load(model, &mp, &m, err, sizeof err) == BERT_OK) {
            wb = bert_model_get_info(m).weight_bytes;
            mapped = bert_model_get_info(m).mapped_bytes;
        }
        bert_model_free(m);
        printf("{\"tool\":\"libbert\",\"bench\":\"load\",\"model\":\"%s\",\"precision\":\"%s\",\"weights\":\"%s\","
               "\"reps\":%zu,"
               "\"load_ms_min\":%.2f,\"load_ms_median\":%.2f,\"peak_rss_mib\":%.1f,\"baseline_rss_mib\":%.1f,"
               "\"f32_weights_mib\":%.1f,\"mapped_mib\":%.1f,\"mapped_bytes\":%zu}\n",
               model, prec, weights, reps, t[0] * 1e3, t[reps / 2] * 1e3, max_rss / 1024.0, base_rss / 1024.0,
               wb / 1048576.0, mapped / 1048576.0, mapped);
    }
    free(t);
    free(rss);
    return rc;
}

/* Results that did not reach stdout (a full disk, a closed descriptor) are a failure, not exit 0. */
static int finish(int rc)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: standard output: write error: %s\n", prog, strerror(errno ? errno : EIO));
        return rc == CLI_OK ? CLI_ERR_RUNTIME : rc;
    }
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "NAME\n"
                 "    bert-bench - libbert benchmarks\n"
                 "\n"
                 "SYNOPSIS\n"
                 "    bert-bench tokenizer [--model DIR] [--reps N] [--batch N] FILE...\n"
                 "    bert-bench load [--model DIR] [--reps N] [--precision f32|bf16|int8] [--weights packed|mapped]\n"
                 "    bert-bench model [--model DIR] [--threads N] [--reps N] [--precision f32|bf16|int8]\n"
                 "                     [--weights packed|mapped] [--workload NAME] [--inputs DIR] [--round N]\n"
                 "                     [--all-rows]\n"
                 "    bert-bench make-model DIR [--layers 12] [--hidden 768] [--heads 12] [--intermediate 3072]\n"
                 "                          [--family bert|roberta|distilbert]\n"
                 "\n"
                 "DESCRIPTION\n"
                 "    tokenizer   single-thread WordPiece throughput on FILE (one text per line): one line\n"
                 "                per call, then --batch lines per call (default 1000), each --reps times\n"
                 "                (default 5); prints one JSON line per file and mode with the best and\n"
                 "                median seconds, MB/s and tokens/s of the best run. Compare with\n"
                 "                ../shared/bench/peer_tokenizers.js run in the same session.\n"
                 "    load        model load time (config, weights, packing, tokenizer) and peak\n"
                 "                resident memory, each rep in a fresh child process (default 5 reps); the\n"
                 "                RSS of a child that loads nothing is reported alongside as the baseline.\n"
                 "                --precision: the weights packed in that compute type (f32, the\n"
                 "                default; bf16 or int8 as bert-bench model --precision).\n"
                 "                --weights mapped: the matmul weights read in place from the file\n"
                 "                (bert_weights); mapped_mib says how much was.\n"
                 "    model       encoder latency and throughput on the standard workloads: b1_s128,\n"
                 "                b8_s128, b32_s64_var (32 sequences of 16..64 tokens padded to 64), b1_s512;\n"
                 "                median and min ms, sequences/s, real tokens/s, GFLOP/s of the padded batch\n"
                 "                (default 10 reps after one warm-up run). --inputs DIR reads the peers'\n"
                 "                identical inputs (../shared/bench/make_inputs.py); --workload runs one;\n"
                 "                --precision picks the model's compute type, --weights how the weights\n"
                 "                are held (packed, the default, or mapped). For sequence-level models\n"
                 "                the runs are cls_only (what the logits need; see bert_run_params),\n"
                 "                --all-rows computes every row of the last layer too. gflop_per_s counts\n"
                 "                the full padded batch (as the peers do), real_gflop_per_s what ran;\n"
                 "                peak_share compares it with the best oneDNN f32/bf16/int8 GEMM rate on\n"
                 "                the FFN shape, fma_share with the CPU's f32 FMA rate (registers only).\n"
                 "                bench/compare_peers.sh runs it side by side with ONNX Runtime and\n"
                 "                PyTorch and prints the ratios.\n"
                 "    make-model  writes a random bert-base-shaped HF folder (F32, seeded) for the above,\n"
                 "                with the tensor names and config of --family\n"
                 "\n"
                 "\n");
    fputs("OPTIONS of tokenizer\n", out);
    cli_print_options(out, tokenizer_opts);
    fputs("\nOPTIONS of load\n", out);
    cli_print_options(out, load_opts);
    fputs("\nOPTIONS of model\n", out);
    cli_print_options(out, bench_model_opts);
    fputs("\nOPTIONS of make-model\n", out);
    cli_print_options(out, bench_make_model_opts);
    fputs("\nEXIT STATUS\n"
          "    0 success, 2 bad usage, 3 unreadable input, 4 model or tokenizer not loadable, 5 failure\n"
          "    (out of memory, write errors)\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return finish(argc < 2 ? CLI_ERR_USAGE : CLI_OK);
    }
    for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return finish(CLI_OK);
        }
    /* each benchmark parses its own options: argv[0] is its name */
    if (!strcmp(argv[1], "tokenizer"))
        return finish(bench_tokenizer(argc - 1, argv + 1));
    if (!strcmp(argv[1], "load"))
        return finish(bench_load(argc - 1, argv + 1));
    if (!strcmp(argv[1], "model"))
        return finish(bench_model(argc - 1, argv + 1));
    if (!strcmp(argv[1], "make-model"))
        return finish(bench_make_model(argc - 1, argv + 1));
    fprintf(stderr, "%s: unknown benchmark '%s' (see --help)\n", prog, argv[1]);
    return CLI_ERR_USAGE;
}
