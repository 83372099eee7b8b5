/* bert-generate: text generation with a causal BERT (BertLMHeadModel), streaming tokens. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bert/bert.h>

#include "cli.h"
#include "opts.h"

static const char *prog = "bert-generate";

/* The options, parsed and documented by one table (opts.h); main fills the rest of the params. */
static const char *model;
static size_t max_new_tokens, top_k, seed, eos = SIZE_MAX, threads;
static double temperature, top_p;
static int sample, sample_implied, show_ids, quiet, verbose, precision, weights;

static const cli_opt options[] = {
    {.names = "--model", CLI_STRING(&model), .metavar = "DIR",
     .help = "the checkpoint folder (config.json, model.safetensors, vocab.txt)"},
    {.names = "--max-new-tokens", CLI_SIZE(&max_new_tokens), .metavar = "N", .min = 1,
     .max = CLI_MAX_LENGTH,
     .help = "at most N new tokens, %r (default 20); generation also ends\nwhere the model's positions do (a "
             "note on stderr says so)"},
    {.names = "--sample", CLI_FLAG(&sample), .value = 1,
     .help = "sample instead of greedy search (implied by the next four)"},
    {.names = "--temperature", CLI_REAL(&temperature), .metavar = "T", .lo = 0, .hi = 1e6,
     .lo_open = 1, .seen = &sample_implied, .help = "%r (default 1)"},
    {.names = "--top-k", CLI_SIZE(&top_k), .metavar = "K", .min = 0, .max = INT32_MAX,
     .seen = &sample_implied, .help = "keep the K most likely tokens, %r (default 50; 0 = all)"},
    {.names = "--top-p", CLI_REAL(&top_p), .metavar = "P", .lo = 0, .hi = 1, .lo_open = 1,
     .seen = &sample_implied, .help = "nucleus sampling, P %r (default 1 = off)"},
    {.names = "--seed", CLI_SIZE(&seed), .metavar = "S", .min = 0, .max = UINT64_MAX,
     .seen = &sample_implied, .help = "the same seed gives the same text, %r (default 0)"},
    {.names = "--eos", CLI_SIZE(&eos), .metavar = "ID", .min = 0, .max = INT32_MAX,
     .help = "stop after this token id, %r and below the vocabulary size\n(default: [SEP])"},
    {.names = "--ids", CLI_FLAG(&show_ids), .value = 1,
     .help = "print the token ids after the text"},
    CLI_OPT_THREADS(&threads),
    CLI_OPT_PRECISION(&precision),
    CLI_OPT_WEIGHTS(&weights),
    {.names = "--quiet|-q", CLI_FLAG(&quiet), .value = 1, .help = "no warnings"},
    CLI_OPT_VERBOSE(&verbose),
    CLI_OPT_END,
};

static void usage(FILE *out)
{
    fputs("NAME\n"
          "    bert-generate - generate text with a causal BERT decoder (BertLMHeadModel)\n"
          "\n"
          "SYNOPSIS\n"
          "    bert-generate --model DIR [OPTIONS] [PROMPT...]\n"
          "\n"
          "DESCRIPTION\n"
          "    Tokenizes the prompt ([CLS] + WordPieces, no final [SEP], as transformers' generate\n"
          "    is given it), then adds one token at a time using the key/value cache, printing the\n"
          "    text as it grows. Without PROMPT words, each line of standard input is a prompt.\n"
          "    Decoding is greedy unless a sampling option is given. Options come before the prompt.\n"
          "\n"
          "OPTIONS\n",
          out);
    cli_print_options(out, options);
    fputs("\n"
          "EXIT STATUS\n"
          "    0 success, 2 bad usage or parameters, 3 bad input (empty or malformed prompt, a stdin\n"
          "    line over 256 MiB or BERT_MAX_LINE_BYTES), 4 model cannot be loaded or has no LM\n"
          "    head, 5 other failures (out of memory, write errors)\n",
          out);
}

typedef struct stream {
    const bert_tokenizer *tok;
    int32_t *ids;
    size_t n_prompt, n;
    size_t printed; /* bytes of decoded text already written */
    char *text;
    size_t cap;
    int werr; /* errno of a failed write to stdout: generation stops there */
} stream;

/* Prints what the newest token added to the decoded text (the decoder's rules are per token, so
 * the text written so far never changes). */
static int on_token(int32_t id, void *user)
{
    stream *s = user;
    s->ids[s->n++] = id;
    size_t len = 0;
    bert_status st = bert_tokenizer_decode(s->tok, s->ids, s->n, 1, s->text, s->cap, &len);
    if (st == BERT_E_BUFFER_TOO_SMALL) {
        char *t = realloc(s->text, len + 1);
        if (!t)
            return 1;
        s->text = t;
        s->cap = len + 1;
        st = bert_tokenizer_decode(s->tok, s->ids, s->n, 1, s->text, s->cap, &len);
    }
    if (st != BERT_OK)
        return 1;
    errno = 0;
    if (len > s->printed)
        fwrite(s->text + s->printed, 1, len - s->printed, stdout);
    s->printed = len;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        s->werr = errno ? errno : EIO;
        return 1;
    }
    return 0;
}

/* Whether stdout took everything written to it; if not, says so (exit 5 follows). */
static int stdout_failed(int werr)
{
    errno = 0;
    if (!werr && fflush(stdout) == 0 && !ferror(stdout))
        return 0;
    fprintf(stderr, "%s: standard output: write error: %s\n", prog, strerror(werr ? werr : errno ? errno : EIO));
    return 1;
}

static int generate_one(bert_ctx *ctx, const bert_tokenizer *tok, const char *prompt, size_t len,
                        const bert_generate_params *gp, int print_ids, size_t max_pos)
{
    bert_batch *b = NULL;
    char err[512];
    size_t bad;
    if (bert_utf8_check(prompt, len, &bad) != BERT_OK) {
        fprintf(stderr, "%s: prompt: malformed UTF-8 at byte %zu\n", prog, bad);
        return CLI_ERR_INPUT;
    }
    if (bert_batch_new(&b, err, sizeof err) != BERT_OK)
        return CLI_ERR_RUNTIME;
    bert_text t = {prompt, len, NULL, 0};
    if (bert_batch_encode(b, tok, &t, 1, NULL) != BERT_OK) {
        fprintf(stderr, "%s: prompt: %s\n", prog, bert_batch_errmsg(b));
        bert_batch_free(b);
        return CLI_ERR_INPUT;
    }
    bert_batch_view v = bert_batch_get(b);
    const size_t np = v.lengths[0] - 1; /* without the final [SEP] */
    if (np < 2) {
        fprintf(stderr, "%s: the prompt is empty\n", prog);
        bert_batch_free(b);
        return CLI_ERR_INPUT;
    }
    const size_t cap = np + gp->max_new_tokens;
    stream s = {tok, calloc(cap, sizeof(int32_t)), np, 0, 0, NULL, 0, 0};
    int32_t *out = calloc(cap, sizeof *out);
    int rc = CLI_OK;
    if (!s.ids || !out) {
        rc = CLI_ERR_RUNTIME;
        goto done;
    }
    /* the prompt's own text first (all but its last id, which on_token adds and prints), then the
     * stream of new tokens */
    for (size_t i = 0; i + 1 < np; i++)
        s.ids[s.n++] = v.ids[i];
    if (on_token(v.ids[np - 1], &s)) {
        if (!stdout_failed(s.werr))
            fprintf(stderr, "%s: prompt: cannot decode it\n", prog);
        rc = CLI_ERR_RUNTIME;
        goto done;
    }
    size_t n = 0;
    bert_status st = bert_generate(ctx, v.ids, np, gp, out, cap, &n, on_token, &s);
    putchar('\n');
    if (stdout_failed(s.werr)) {
        rc = CLI_ERR_RUNTIME;
        goto done;
    }
    if (st != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, bert_ctx_errmsg(ctx));
        rc = st == BERT_E_INVALID_ARG ? CLI_ERR_USAGE : CLI_ERR_RUNTIME;
        goto done;
    }
    /* fewer tokens than asked because the positions ran out: say so, it is not the model's choice */
    if (n >= max_pos && n - np < gp->max_new_tokens)
        fprintf(stderr, "%s: note: stopped after %zu new tokens, not %zu: the model has %zu positions\n", prog,
                n - np, gp->max_new_tokens, max_pos);
    if (print_ids) {
        for (size_t i = 0; i < n; i++)
            printf(i ? " %d" : "%d", (int)out[i]);
        putchar('\n');
        if (stdout_failed(0))
            rc = CLI_ERR_RUNTIME;
    }
done:
    free(s.ids);
    free(s.text);
    free(out);
    bert_batch_free(b);
    return rc;
}

int main(int argc, char **argv)
{
    bert_generate_params gp = bert_generate_default_params();
    bert_model_params mp = bert_model_default_params();
    max_new_tokens = gp.max_new_tokens;
    top_k = gp.top_k;
    seed = gp.seed;
    temperature = gp.temperature;
    top_p = gp.top_p;
    size_t n_words = 0;
    const int pr = cli_parse_args(prog, options, argc, argv, &n_words, CLI_ARGS_STOP_AT_OPERAND);
    char **words = argv + 1;
    if (pr != CLI_ARGS_OK) {
        if (pr == CLI_ARGS_HELP)
            usage(stdout);
        return pr == CLI_ARGS_HELP ? CLI_OK : CLI_ERR_USAGE;
    }
    gp.do_sample = sample || sample_implied;
    gp.max_new_tokens = max_new_tokens;
    gp.temperature = (float)temperature;
    gp.top_p = (float)top_p;
    gp.top_k = top_k;
    gp.seed = seed;
    if (eos != SIZE_MAX)
        gp.eos_id = (int32_t)eos;
    mp.precision = (bert_precision)precision;
    mp.weights = (bert_weights)weights;
    if (!model) {
        fprintf(stderr, "%s: --model DIR is required (a BertLMHeadModel checkpoint)\n", prog);
        return CLI_ERR_USAGE;
    }
    if (verbose)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_DEBUG);
    else if (!quiet)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_WARN);
    cli_catch_sigbus(prog);
    char err[1024];
    bert_model *m = NULL;
    bert_ctx *ctx = NULL;
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = (int)threads;
    if (bert_model_load(model, &mp, &m, err, sizeof err) != BERT_OK || bert_ctx_new(m, &cp, &ctx, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", prog, err);
        bert_model_free(m);
        return CLI_ERR_MODEL;
    }
    int rc = CLI_OK;
    const bert_tokenizer *tok = bert_model_tokenizer(m);
    bert_model_info info = bert_model_get_info(m);
    const size_t max_pos = info.max_positions;
    if (!tok || (info.arch != BERT_ARCH_CAUSAL_LM && info.arch != BERT_ARCH_MASKED_LM)) {
        fprintf(stderr, "%s: %s: %s has no LM head (or no vocab.txt) to generate with\n", prog, model, info.arch_name);
        rc = CLI_ERR_MODEL;
    } else if (n_words > 0) {
        size_t len = 0;
        for (size_t i = 0; i < n_words; i++)
            len += strlen(words[i]) + 1;
        char *p = malloc(len + 1);
        if (!p) {
            rc = CLI_ERR_RUNTIME;
        } else {
            p[0] = '\0';
            for (size_t i = 0; i < n_words; i++) {
                strcat(p, words[i]);
                if (i + 1 < n_words)
                    strcat(p, " ");
            }
            rc = generate_one(ctx, tok, p, strlen(p), &gp, show_ids, max_pos);
            free(p);
        }
    } else {
        char *line = NULL;
        size_t cap = 0, len = 0;
        int r = 0;
        size_t prompts = 0;
        while (rc == CLI_OK && (r = cli_read_line(stdin, &line, &cap, &len)) == 1) {
            prompts++;
            rc = generate_one(ctx, tok, line, len, &gp, show_ids, max_pos);
        }
        free(line);
        /* as bert-classify: a read error or an empty input is bad input, not a silent success */
        if (rc == CLI_OK && r < 0) {
            rc = cli_line_error(prog, "<stdin>", prompts + 1, r);
        } else if (rc == CLI_OK && prompts == 0) {
            fprintf(stderr, "%s: <stdin>: empty input: no prompts\n", prog);
            rc = CLI_ERR_INPUT;
        }
    }
    bert_ctx_free(ctx);
    bert_model_free(m);
    return rc;
}
