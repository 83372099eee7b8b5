/* bert-bench: libbert's benchmarks. Timings are medians and minima of repeated runs; nothing here
 * is asserted by the test suite (the machine is noisy).
 *
 *   bert-bench tokenizer [--model DIR] [--reps N] [--batch N] FILE...
 *
 * measures single-thread tokenization of FILE (one text per line), the same way
 * ../shared/bench/peer_tokenizers.js measures HF tokenizers: (a) one line per call, (b) batches of
 * --batch lines per call; tokens include [CLS]/[SEP]; MB = 1e6 bytes of text without newlines. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bert/bert.h>

#include "cli.h"

static const char *prog = "bert-bench";

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(FILE *out)
{
    fprintf(out, "NAME\n"
                 "    bert-bench - libbert benchmarks\n"
                 "\n"
                 "SYNOPSIS\n"
                 "    bert-bench tokenizer [--model DIR] [--reps N] [--batch N] FILE...\n"
                 "\n"
                 "DESCRIPTION\n"
                 "    tokenizer   single-thread WordPiece throughput on FILE (one text per line): one line\n"
                 "                per call, then --batch lines per call (default 1000), each --reps times\n"
                 "                (default 5); prints one JSON line per file and mode with the best and\n"
                 "                median seconds, MB/s and tokens/s of the best run. Compare with\n"
                 "                ../shared/bench/peer_tokenizers.js run in the same session.\n"
                 "\n"
                 "OPTIONS\n"
                 "    --model DIR   tokenizer folder (default: the embedded default model)\n"
                 "\n"
                 "EXIT STATUS\n"
                 "    0 success, 2 bad usage, 3 unreadable input, 4 tokenizer not loadable, 5 failure\n");
}

typedef struct corpus {
    char *data;       /* all lines, '\n' removed, back to back */
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
    fclose(f);
    if (r < 0) {
        fprintf(stderr, "%s: %s: read error\n", prog, path);
        return CLI_ERR_INPUT;
    }
    return CLI_OK;
nomem:
    free(line);
    fclose(f);
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

static int bench_tokenizer(int argc, char **argv)
{
    const char *model = NULL;
    size_t reps = 5, batch = 1000;
    int first_file = -1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            model = argv[++i];
        } else if ((!strcmp(argv[i], "--reps") || !strcmp(argv[i], "--batch")) && i + 1 < argc) {
            size_t v;
            if (cli_parse_size(argv[i + 1], &v) != 0 || v == 0) {
                fprintf(stderr, "%s: %s: '%s' is not a positive integer\n", prog, argv[i], argv[i + 1]);
                return CLI_ERR_USAGE;
            }
            *(!strcmp(argv[i], "--reps") ? &reps : &batch) = v;
            i++;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "%s: unknown or incomplete option '%s'\n", prog, argv[i]);
            return CLI_ERR_USAGE;
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file < 0) {
        fprintf(stderr, "%s tokenizer: no input file\n", prog);
        return CLI_ERR_USAGE;
    }
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
    for (int f = first_file; f < argc && rc == CLI_OK; f++) {
        corpus c;
        if ((rc = load_corpus(argv[f], &c)) != CLI_OK)
            break;
        const size_t modes[2] = {1, batch};
        for (int m = 0; m < 2 && rc == CLI_OK; m++) {
            long long tokens = pass(tok, b, &c, modes[m], texts); /* warm-up */
            for (size_t r = 0; r < reps && tokens >= 0; r++) {
                double t0 = now();
                tokens = pass(tok, b, &c, modes[m], texts);
                times[r] = now() - t0;
            }
            if (tokens < 0) {
                rc = CLI_ERR_RUNTIME;
                break;
            }
            qsort(times, reps, sizeof *times, cmp_double);
            const double best = times[0], median = times[reps / 2];
            printf("{\"tool\":\"libbert\",\"version\":\"%s\",\"file\":\"%s\",\"mode\":\"%s\",\"batch\":%zu,"
                   "\"lines\":%zu,\"bytes\":%zu,\"tokens\":%lld,\"reps\":%zu,\"best_s\":%.6f,\"median_s\":%.6f,"
                   "\"mb_per_s\":%.2f,\"tokens_per_s\":%.0f}\n",
                   bert_version_string(), argv[f], m ? "batch" : "one_by_one", modes[m], c.n, c.bytes, tokens, reps,
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

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_ERR_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "tokenizer"))
        return bench_tokenizer(argc - 2, argv + 2);
    fprintf(stderr, "%s: unknown benchmark '%s' (see --help)\n", prog, argv[1]);
    return CLI_ERR_USAGE;
}
