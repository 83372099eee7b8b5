/* bert-classify: runs a BERT checkpoint's head over a text file, one result per input line. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bert/bert.h>

#include "cli.h"
#include "reader.h"

static const char *prog = "bert-classify";

static void usage(FILE *out)
{
    fputs("NAME\n"
            "    bert-classify - classify, tag, fill masks in or embed the lines of a text file with BERT\n"
            "\n"
            "SYNOPSIS\n"
            "    bert-classify [OPTIONS] [FILE|-]\n"
            "\n"
            "DESCRIPTION\n"
            "    Reads one input per line from FILE (or standard input, '-' or no FILE), runs the model and\n"
            "    writes one result per line, in input order, streaming: memory does not grow with the file.\n"
            "    Without --model the embedded default model (mini-sst2, SST-2 sentiment) is used.\n"
            "\n"
            "TASKS (--task; default: the head the checkpoint was trained for)\n"
            "    classify    sequence classification. TSV output: LABEL<TAB>SCORE<TAB>TEXT (probability for\n"
            "                single-label models, sigmoid for multi-label, the value for regression)\n"
            "    sentiment   classify, with a model whose labels are negative/positive\n"
            "    ner         named entities as JSONL: {\"line\", \"entities\": [{\"entity_group\"|\"entity\",\n"
            "                \"score\", \"word\", \"start\", \"end\"}]}; start/end count characters, as Python does\n"
            "    fill-mask   top-k tokens and probabilities for each [MASK], as JSONL\n"
            "    embed       one vector per line (JSONL \"embedding\", or TSV floats)\n"
            "\n"
            "INPUT\n"
            "    --input FMT        text (default: the whole line is the text), tsv, jsonl\n"
            "    --pair             TSV sentence pairs: text_a<TAB>text_b (same as --input tsv\n"
            "                       --text-col 1 --pair-col 2)\n"
            "    --text-col N --pair-col N --label-col N       TSV columns, 1-65535 (no quoting)\n"
            "    --text-field F --pair-field F --label-field F JSONL fields (default text field: \"text\")\n"
            "    --header           skip the first line\n"
            "    --on-invalid P     malformed UTF-8: error (default; names the line and byte), replace\n"
            "                       (bad bytes become U+FFFD, then dropped), skip (the line, with a warning)\n"
            "    With a label column/field, the gold labels (names, or ids) are compared with the\n"
            "    predictions and the accuracy is printed on stderr at the end.\n"
            "    A line may hold at most 256 MiB (environment: BERT_MAX_LINE_BYTES); a longer one is an\n"
            "    error naming it.\n"
            "\n"
            "OUTPUT\n"
            "    --format F         tsv (default for classify/embed) or jsonl (every label's score)\n"
            "    --top-k N          classify: N best labels (TSV: LABEL<TAB>SCORE pairs; all of them when\n"
            "                       N is more); fill-mask: N predictions per mask (default 5); 1-1000\n"
            "    --aggregation A    ner: none, simple (default), first, average, max (Hugging Face's)\n"
            "    --pooling P        embed: cls, mean (default), pooler;  --normalize  L2-normalise\n"
            "    --line-numbers     start each TSV line with the input line number (JSONL always has it)\n"
            "    In TSV, a tab, carriage return or backslash inside a text is written \\t, \\r, \\\\.\n"
            "\n",
          out);
    fputs("RUNNING\n"
          "    --model DIR        a Hugging Face BERT folder (config.json, model.safetensors, vocab.txt).\n"
          "                       An F32 file's embedding tables (and with --weights mapped its layer\n"
          "                       weights) are read in place: do not truncate or rewrite the file while\n"
          "                       a run uses it (the process dies of SIGBUS or reads the new bytes);\n"
          "                       write a new file and rename it over the old one instead\n"
          "    --batch-size N     lines per forward pass, 1-4096 (default 32)\n"
          "    --threads N        compute threads, 1-1024 (default: all)\n"
          "    --precision P      f32 (default), bf16 or int8: the encoder's matrix products (docs in\n"
          "                       the README: speed and SST-2 accuracy of each)\n"
          "    --weights W        packed (default) or mapped: an F32 checkpoint's weights read in place\n"
          "                       from the file (loads ~7x faster; products ~8% slower on AVX2)\n"
          "    --max-length N     tokens per input incl. [CLS]/[SEP], 3-1048576 (default: the model's,\n"
          "                       512; more than the model's positions is an error)\n"
          "    --truncation S     longest_first (default), only_first, only_second\n"
          "    --shard I/N        process only data lines I, I+N, I+2N, ... (0 <= I < N), to split a big\n"
          "                       file across processes or machines; implies --line-numbers so the parts\n"
          "                       can be merged with: sort -n -k1,1 -s\n"
          "    -q, --quiet        no progress bar, no warnings;  -v  library logs on stderr\n"
          "    -h, --help         this text\n"
          "    A progress bar (lines, rate, ETA) is drawn on stderr when it is a terminal and the input\n"
          "    is over 1 MB.\n"
          "\n"
          "EXIT STATUS\n"
          "    0 success; 2 bad usage (unknown option or task); 3 bad input (missing or unreadable file,\n"
          "    a directory, an empty input, malformed UTF-8 or JSON, a missing column, an unknown gold\n"
          "    label, a line over the maximum: the file and line are named); 4 the model cannot be loaded or does not fit the\n"
          "    task; 5 other failures (out of memory, write errors)\n"
          "\n"
          "EXAMPLES\n"
          "    bert-classify examples/sample.txt\n"
          "    bert-classify --pair --format jsonl pairs.tsv\n"
          "    bert-classify --input tsv --header --text-col 1 --label-col 2 SST-2/dev.tsv\n"
          "    bert-classify --model conll-ner --task ner --aggregation first news.txt\n"
          "    parallel --pipe -k -N 1000 bert-classify -q < big.txt > out.tsv\n",
          out);
}

typedef struct opts {
    const char *model, *input, *task;
    reader_opts rd;
    int header, on_invalid, jsonl_out, format_set, line_numbers, quiet, verbose, normalize;
    size_t top_k, batch, threads, max_length, shard_i, shard_n;
    bert_precision precision;
    bert_weights weights;
    int top_k_set;
    bert_truncation truncation;
    bert_aggregation aggregation;
    bert_pooling pooling;
} opts;

static int parse_enum(const char *opt, const char *v, const char *const *names, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return 0;
        }
    fprintf(stderr, "%s: %s: '%s' is not one of", prog, opt, v);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s %s", i ? "," : "", names[i]);
    fputc('\n', stderr);
    return -1;
}

static int parse(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->truncation = BERT_TRUNCATION_LONGEST_FIRST;
    o->aggregation = BERT_AGG_SIMPLE;
    o->pooling = BERT_POOL_MEAN;
    o->top_k = 1;
    o->rd.text_col = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int e;
        size_t n;
#define VALUE                                                                                                          \
    do {                                                                                                               \
        if (!v) {                                                                                                      \
            fprintf(stderr, "%s: option %s needs a value\n", prog, a);                                                \
            return -1;                                                                                                 \
        }                                                                                                              \
        i++;                                                                                                           \
    } while (0)
#define SIZE_VALUE(dst, min, max)                                                                                      \
    do {                                                                                                               \
        VALUE;                                                                                                         \
        if (cli_parse_range(prog, a, v, (min), (max), &n) != 0)                                                        \
            return -1;                                                                                                 \
        dst = n;                                                                                                       \
    } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(CLI_OK);
        } else if (!strcmp(a, "--model")) {
            VALUE;
            o->model = v;
        } else if (!strcmp(a, "--task")) {
            VALUE;
            o->task = v;
        } else if (!strcmp(a, "--input")) {
            VALUE;
            static const char *const f[] = {"text", "tsv", "jsonl"};
            if (parse_enum(a, v, f, 3, &e))
                return -1;
            o->rd.format = (reader_format)e;
        } else if (!strcmp(a, "--pair")) {
            o->rd.format = READER_TSV;
            o->rd.text_col = 1;
            o->rd.pair_col = 2;
        } else if (!strcmp(a, "--text-col")) {
            SIZE_VALUE(o->rd.text_col, 1, CLI_MAX_COLUMN);
        } else if (!strcmp(a, "--pair-col")) {
            SIZE_VALUE(o->rd.pair_col, 1, CLI_MAX_COLUMN);
        } else if (!strcmp(a, "--label-col")) {
            SIZE_VALUE(o->rd.label_col, 1, CLI_MAX_COLUMN);
        } else if (!strcmp(a, "--text-field")) {
            VALUE;
            o->rd.text_field = v;
        } else if (!strcmp(a, "--pair-field")) {
            VALUE;
            o->rd.pair_field = v;
        } else if (!strcmp(a, "--label-field")) {
            VALUE;
            o->rd.label_field = v;
        } else if (!strcmp(a, "--header")) {
            o->header = 1;
        } else if (!strcmp(a, "--on-invalid") || !strncmp(a, "--on-invalid=", 13)) {
            if (a[12] == '=')
                v = a + 13;
            else
                VALUE;
            static const char *const f[] = {"error", "replace", "skip"};
            if (parse_enum("--on-invalid", v, f, 3, &o->on_invalid))
                return -1;
        } else if (!strcmp(a, "--format")) {
            VALUE;
            static const char *const f[] = {"tsv", "jsonl"};
            if (parse_enum(a, v, f, 2, &o->jsonl_out))
                return -1;
            o->format_set = 1;
        } else if (!strcmp(a, "--top-k")) {
            SIZE_VALUE(o->top_k, 1, CLI_MAX_TOP_K);
            o->top_k_set = 1;
        } else if (!strcmp(a, "--aggregation")) {
            VALUE;
            static const char *const f[] = {"none", "simple", "first", "average", "max"};
            if (parse_enum(a, v, f, 5, &e))
                return -1;
            o->aggregation = (bert_aggregation)e;
        } else if (!strcmp(a, "--pooling")) {
            VALUE;
            static const char *const f[] = {"cls", "mean", "pooler"};
            if (parse_enum(a, v, f, 3, &e))
                return -1;
            o->pooling = (bert_pooling)e;
        } else if (!strcmp(a, "--normalize")) {
            o->normalize = 1;
        } else if (!strcmp(a, "--line-numbers")) {
            o->line_numbers = 1;
        } else if (!strcmp(a, "--batch-size")) {
            SIZE_VALUE(o->batch, 1, CLI_MAX_BATCH);
        } else if (!strcmp(a, "--threads")) {
            SIZE_VALUE(o->threads, 1, CLI_MAX_THREADS);
        } else if (!strcmp(a, "--precision")) {
            VALUE;
            if (cli_parse_precision(prog, a, v, &o->precision))
                return -1;
        } else if (!strcmp(a, "--weights")) {
            VALUE;
            if (cli_parse_weights(prog, a, v, &o->weights))
                return -1;
        } else if (!strcmp(a, "--max-length")) {
            SIZE_VALUE(o->max_length, 3, CLI_MAX_LENGTH);
        } else if (!strcmp(a, "--truncation")) {
            VALUE;
            static const char *const f[] = {"longest_first", "only_first", "only_second"};
            if (parse_enum(a, v, f, 3, &e))
                return -1;
            o->truncation = (bert_truncation)(e + 1);
        } else if (!strcmp(a, "--shard")) {
            VALUE;
            unsigned long si, sn;
            char tail;
            if (sscanf(v, "%lu/%lu%c", &si, &sn, &tail) != 2 || sn == 0 || si >= sn) {
                fprintf(stderr, "%s: --shard: '%s' is not I/N with 0 <= I < N\n", prog, v);
                return -1;
            }
            o->shard_i = si;
            o->shard_n = sn;
            o->line_numbers = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(a, "-v")) {
            o->verbose = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: unknown option '%s' (see --help)\n", prog, a);
            return -1;
        } else if (o->input) {
            fprintf(stderr, "%s: more than one input file ('%s', '%s')\n", prog, o->input, a);
            return -1;
        } else {
            o->input = a;
        }
#undef VALUE
#undef SIZE_VALUE
    }
    if (!o->input)
        o->input = "-";
    return 0;
}

/* ---- progress bar ---- */
typedef struct progress {
    int on;
    double t0, last;
    long long total_bytes;
} progress;

static void progress_draw(progress *p, size_t lines, long long bytes, int final)
{
    if (!p->on)
        return;
    double t = cli_now();
    if (!final && t - p->last < 0.2)
        return;
    p->last = t;
    double el = t - p->t0, rate = el > 0 ? (double)lines / el : 0;
    fprintf(stderr, "\r%s: %zu lines, %.0f lines/s", prog, lines, rate);
    if (p->total_bytes > 0 && bytes > 0) {
        double frac = (double)bytes / (double)p->total_bytes;
        double eta = frac > 0 ? el / frac - el : 0;
        fprintf(stderr, ", %3.0f%%, ETA %d:%02d", frac * 100, (int)eta / 60, (int)eta % 60);
    }
    fputs(final ? "\n" : "   ", stderr);
    fflush(stderr);
}

/* ---- output helpers ---- */
static void tsv_text(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\t')
            fputs("\\t", stdout);
        else if (s[i] == '\r')
            fputs("\\r", stdout);
        else if (s[i] == '\\')
            fputs("\\\\", stdout);
        else
            putchar(s[i]);
    }
}

typedef struct job {
    const opts *o;
    const char *in_name;
    bert_model *m;
    const bert_tokenizer *tok;
    bert_ctx *ctx;
    bert_head *head;
    bert_batch *batch;
    bert_result *res;
    bert_encode_params enc;
    /* the current batch */
    char **line;
    size_t *line_cap, *line_len, *lineno;
    reader_record *rec;
    bert_text *texts;
    int32_t *gold;
    size_t n;
    /* totals */
    size_t done, correct, labelled;
} job;

/* The model's label id for a gold label written as a name or as an id. */
static int32_t gold_id(const bert_model *m, const char *s, size_t n)
{
    char buf[256];
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    int32_t id = bert_model_label_id(m, buf);
    if (id >= 0)
        return id;
    size_t v;
    if (cli_parse_size(buf, &v) == 0 && v < bert_model_get_info(m).n_labels)
        return (int32_t)v;
    return -1;
}

static void print_classify(job *j, size_t i)
{
    const opts *o = j->o;
    const size_t nl = bert_result_n_scores(j->res);
    const float *s = bert_result_scores(j->res, i);
    const bert_text *t = &j->texts[i];
    if (o->jsonl_out) {
        printf("{\"line\":%zu,\"label\":", j->lineno[i]);
        const char *best = bert_model_label(j->m, (size_t)bert_result_label(j->res, i));
        cli_json_string(stdout, best, strlen(best));
        printf(",\"score\":%.6g,\"scores\":{", (double)s[bert_result_label(j->res, i)]);
        for (size_t k = 0; k < nl; k++) {
            const char *l = bert_model_label(j->m, k);
            if (k)
                putchar(',');
            cli_json_string(stdout, l, strlen(l));
            printf(":%.6g", (double)s[k]);
        }
        fputs("},\"text\":", stdout);
        cli_json_string(stdout, t->a, t->a_len);
        if (t->b) {
            fputs(",\"text_pair\":", stdout);
            cli_json_string(stdout, t->b, t->b_len);
        }
        if (j->gold[i] >= 0)
            printf(",\"gold\":\"%s\"", bert_model_label(j->m, (size_t)j->gold[i]));
        fputs("}\n", stdout);
        return;
    }
    if (o->line_numbers)
        printf("%zu\t", j->lineno[i]);
    /* the best top_k labels, best first */
    size_t order[1024], k = nl < 1024 ? nl : 1024;
    for (size_t a = 0; a < k; a++)
        order[a] = a;
    for (size_t a = 0; a < k; a++)
        for (size_t b2 = a + 1; b2 < k; b2++)
            if (s[order[b2]] > s[order[a]]) {
                size_t tmp = order[a];
                order[a] = order[b2];
                order[b2] = tmp;
            }
    if (bert_model_get_info(j->m).problem == BERT_PROBLEM_REGRESSION)
        order[0] = 0;
    size_t show = o->top_k < k ? o->top_k : k;
    for (size_t a = 0; a < show; a++)
        printf("%s\t%.6g\t", bert_model_label(j->m, order[a]), (double)s[order[a]]);
    tsv_text(t->a, t->a_len);
    if (t->b) {
        putchar('\t');
        tsv_text(t->b, t->b_len);
    }
    putchar('\n');
}

static void print_ner(job *j, size_t i)
{
    size_t n = 0;
    const bert_entity *e = bert_result_entities(j->res, i, &n);
    printf("{\"line\":%zu,\"entities\":[", j->lineno[i]);
    for (size_t k = 0; k < n; k++) {
        printf(k ? ",{\"%s\":" : "{\"%s\":", j->o->aggregation == BERT_AGG_NONE ? "entity" : "entity_group");
        cli_json_string(stdout, e[k].label, strlen(e[k].label));
        printf(",\"score\":%.6g", (double)e[k].score);
        if (e[k].index >= 0)
            printf(",\"index\":%d", (int)e[k].index);
        fputs(",\"word\":", stdout);
        cli_json_string(stdout, e[k].word, strlen(e[k].word));
        printf(",\"start\":%zu,\"end\":%zu}", e[k].chars.begin, e[k].chars.end);
    }
    fputs("]}\n", stdout);
}

static void print_fill(job *j, size_t i)
{
    size_t n = 0;
    const bert_fill *f = bert_result_fills(j->res, i, &n);
    printf("{\"line\":%zu,\"masks\":[", j->lineno[i]);
    for (size_t k = 0; k < n; k++) {
        int first = k == 0 || f[k].position != f[k - 1].position;
        if (first)
            printf("%s{\"position\":%zu,\"predictions\":[", k ? "]}," : "", f[k].position);
        printf("%s{\"token\":", first ? "" : ",");
        cli_json_string(stdout, f[k].token, strlen(f[k].token));
        printf(",\"token_id\":%d,\"score\":%.6g}", (int)f[k].token_id, (double)f[k].score);
    }
    fputs(n ? "]}]}\n" : "]}\n", stdout);
}

static void print_embed(job *j, size_t i)
{
    const size_t d = bert_result_dim(j->res);
    const float *v = bert_result_vector(j->res, i);
    if (j->o->jsonl_out)
        printf("{\"line\":%zu,\"embedding\":[", j->lineno[i]);
    else if (j->o->line_numbers)
        printf("%zu\t", j->lineno[i]);
    for (size_t k = 0; k < d; k++)
        printf(k ? (j->o->jsonl_out ? ",%.7g" : "\t%.7g") : "%.7g", (double)v[k]);
    fputs(j->o->jsonl_out ? "]}\n" : "\n", stdout);
}

static int run_batch(job *j)
{
    if (j->n == 0)
        return CLI_OK;
    if (bert_batch_encode(j->batch, j->tok, j->texts, j->n, &j->enc) != BERT_OK) {
        const char *m = bert_batch_errmsg(j->batch);
        size_t k = 0;
        if (sscanf(m, "input %zu", &k) == 1 && k < j->n)
            fprintf(stderr, "%s: %s:%zu: %s\n", prog, j->in_name, j->lineno[k], m);
        else
            fprintf(stderr, "%s: %s: %s\n", prog, j->in_name, m);
        return CLI_ERR_INPUT;
    }
    if (bert_head_run(j->head, j->ctx, j->batch, j->texts, j->res) != BERT_OK) {
        fprintf(stderr, "%s: %s: lines %zu-%zu: %s\n", prog, j->in_name, j->lineno[0], j->lineno[j->n - 1],
                bert_result_errmsg(j->res));
        return CLI_ERR_RUNTIME;
    }
    const bert_task task = bert_head_task(j->head);
    for (size_t i = 0; i < j->n; i++) {
        if (task == BERT_TASK_CLASSIFY) {
            print_classify(j, i);
            if (j->gold[i] >= 0) {
                j->labelled++;
                j->correct += bert_result_label(j->res, i) == j->gold[i];
            }
        } else if (task == BERT_TASK_NER) {
            print_ner(j, i);
        } else if (task == BERT_TASK_FILL_MASK) {
            print_fill(j, i);
        } else {
            print_embed(j, i);
        }
    }
    j->done += j->n;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: write error: %s\n", prog, strerror(errno));
        return CLI_ERR_RUNTIME;
    }
    for (size_t i = 0; i < j->n; i++)
        reader_record_free(&j->rec[i]);
    j->n = 0;
    return CLI_OK;
}

static int setup(job *j, const opts *o)
{
    char err[1024];
    bert_model_params mp = bert_model_default_params();
    mp.precision = o->precision;
    mp.weights = o->weights;
    const char *dir = o->model ? o->model : cli_default_model();
    if (bert_model_load(dir, &mp, &j->m, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_MODEL;
    }
    j->tok = bert_model_tokenizer(j->m);
    if (!j->tok) {
        fprintf(stderr, "%s: %s: no vocab.txt: the model folder needs its tokenizer files\n", prog, dir);
        return CLI_ERR_MODEL;
    }
    if (cli_check_specials(prog, j->tok, dir) != CLI_OK)
        return CLI_ERR_MODEL;
    bert_head_params hp = bert_head_default_params();
    hp.name = o->task;
    hp.aggregation = o->aggregation;
    hp.pooling = o->pooling;
    hp.normalize = o->normalize;
    hp.top_k = o->top_k_set ? o->top_k : 5;
    if (bert_head_new(j->m, &hp, &j->head, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_MODEL;
    }
    bert_ctx_params cp = bert_ctx_default_params();
    cp.n_threads = (int)o->threads;
    if (bert_ctx_new(j->m, &cp, &j->ctx, err, sizeof err) != BERT_OK ||
        bert_batch_new(&j->batch, err, sizeof err) != BERT_OK || bert_result_new(&j->res, err, sizeof err) != BERT_OK) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return CLI_ERR_RUNTIME;
    }
    const bert_model_info info = bert_model_get_info(j->m);
    size_t limit = bert_tokenizer_get_config(j->tok).model_max_length;
    if (limit > info.max_positions)
        limit = info.max_positions;
    j->enc = bert_encode_default_params();
    j->enc.truncation = o->truncation;
    j->enc.max_length = o->max_length ? o->max_length : limit;
    if (j->enc.max_length > info.max_positions) {
        fprintf(stderr, "%s: --max-length %zu is over the model's max_position_embeddings %zu\n", prog,
                j->enc.max_length, info.max_positions);
        return CLI_ERR_USAGE;
    }
    j->enc.on_invalid_utf8 = o->on_invalid == 1 ? BERT_INVALID_UTF8_REPLACE : BERT_INVALID_UTF8_ERROR;
    const size_t B = o->batch;
    j->line = calloc(B, sizeof *j->line);
    j->line_cap = calloc(B, sizeof *j->line_cap);
    j->line_len = calloc(B, sizeof *j->line_len);
    j->lineno = calloc(B, sizeof *j->lineno);
    j->rec = calloc(B, sizeof *j->rec);
    j->texts = calloc(B, sizeof *j->texts);
    j->gold = calloc(B, sizeof *j->gold);
    if (!j->line || !j->line_cap || !j->line_len || !j->lineno || !j->rec || !j->texts || !j->gold) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return CLI_ERR_RUNTIME;
    }
    return CLI_OK;
}

static void teardown(job *j)
{
    for (size_t i = 0; j->line && i < j->o->batch; i++) {
        free(j->line[i]);
        if (j->rec)
            reader_record_free(&j->rec[i]);
    }
    free(j->line);
    free(j->line_cap);
    free(j->line_len);
    free(j->lineno);
    free(j->rec);
    free(j->texts);
    free(j->gold);
    bert_result_free(j->res);
    bert_batch_free(j->batch);
    bert_head_free(j->head);
    bert_ctx_free(j->ctx);
    bert_model_free(j->m);
}

int main(int argc, char **argv)
{
    opts o;
    if (parse(argc, argv, &o) != 0)
        return CLI_ERR_USAGE;
    if (o.task) {
        const char *const *names = bert_head_names();
        int known = 0;
        for (size_t i = 0; names[i]; i++)
            known |= !strcmp(names[i], o.task);
        if (!known) {
            fprintf(stderr, "%s: unknown task '%s' (classify, sentiment, ner, fill-mask, embed)\n", prog, o.task);
            return CLI_ERR_USAGE;
        }
    }
    if (o.verbose)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_DEBUG);
    else if (!o.quiet)
        bert_log_set(cli_log_stderr, (void *)prog, BERT_LOG_WARN);

    const int is_stdin = !strcmp(o.input, "-");
    const char *in_name = is_stdin ? "<stdin>" : o.input;
    FILE *in = is_stdin ? stdin : fopen(o.input, "rb");
    if (!in) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, o.input, strerror(errno));
        return CLI_ERR_INPUT;
    }
    struct stat sb;
    long long total = -1;
    if (fstat(fileno(in), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            fprintf(stderr, "%s: %s: is a directory, not a text file\n", prog, o.input);
            fclose(in);
            return CLI_ERR_INPUT;
        }
        if (S_ISREG(sb.st_mode))
            total = (long long)sb.st_size;
    }

    job j;
    memset(&j, 0, sizeof j);
    j.o = &o;
    j.in_name = in_name;
    int rc = setup(&j, &o);
    const bert_task task = j.head ? bert_head_task(j.head) : BERT_TASK_CLASSIFY;
    if (rc == CLI_OK && !o.format_set)
        o.jsonl_out = task == BERT_TASK_NER || task == BERT_TASK_FILL_MASK;
    if (rc == CLI_OK && !o.jsonl_out && (task == BERT_TASK_NER || task == BERT_TASK_FILL_MASK)) {
        fprintf(stderr, "%s: --format tsv is not available for task %s (use jsonl)\n", prog, bert_head_name(j.head));
        rc = CLI_ERR_USAGE;
    }
    if (rc == CLI_OK && (o.rd.label_col || o.rd.label_field) && task != BERT_TASK_CLASSIFY) {
        fprintf(stderr, "%s: gold labels can only be scored for classification\n", prog);
        rc = CLI_ERR_USAGE;
    }
    progress pb = {!o.quiet && isatty(STDERR_FILENO) && total > (1 << 20), cli_now(), 0, total};
    size_t lineno = 0, data_idx = 0;
    long long bytes = 0;
    while (rc == CLI_OK) {
        /* read into the next slot of the batch */
        size_t slot = j.n;
        size_t len = 0;
        int r = cli_read_line(in, &j.line[slot], &j.line_cap[slot], &len);
        if (r < 0) {
            rc = cli_line_error(prog, in_name, lineno + 1, r);
            break;
        }
        if (r == 0) {
            /* an empty file is most often an upstream step that failed: say so rather than
             * succeed with no output (a shard or --on-invalid skip that keeps no line is fine) */
            if (lineno == 0 || (o.header && lineno == 1)) {
                fprintf(stderr, "%s: %s: %s\n", prog, in_name,
                        lineno ? "no data lines after the header" : "empty input: no lines to classify");
                rc = CLI_ERR_INPUT;
                break;
            }
            rc = run_batch(&j);
            break;
        }
        lineno++;
        bytes += (long long)len + 1;
        if (o.header && lineno == 1)
            continue;
        const size_t idx = data_idx++;
        if (o.shard_n && idx % o.shard_n != o.shard_i)
            continue;
        /* replace: repair the line itself, so that every task (NER's offsets, JSONL's parser) and
         * the output see the same valid text */
        if (o.on_invalid == 1 && cli_utf8_repair(&j.line[slot], &j.line_cap[slot], &len) < 0) {
            fprintf(stderr, "%s: %s:%zu: out of memory repairing the line\n", prog, in_name, lineno);
            rc = CLI_ERR_RUNTIME;
            break;
        }
        char *line = j.line[slot];
        size_t bad = 0;
        if (o.rd.format == READER_JSONL && o.on_invalid != 0 &&
            reader_lone_surrogates(line, len, o.on_invalid == 1) && o.on_invalid == 2) {
            if (!o.quiet)
                fprintf(stderr, "%s: %s:%zu: warning: a lone UTF-16 surrogate escape, line skipped\n", prog, in_name,
                        lineno);
            continue;
        }
        if (o.on_invalid != 1 && bert_utf8_check(line, len, &bad) != BERT_OK) {
            if (o.on_invalid == 2) {
                if (!o.quiet)
                    fprintf(stderr, "%s: %s:%zu: warning: malformed UTF-8 at byte %zu, line skipped\n", prog, in_name,
                            lineno, bad);
                continue;
            }
            fprintf(stderr, "%s: %s:%zu: malformed UTF-8 at byte %zu of the line\n", prog, in_name, lineno, bad);
            rc = CLI_ERR_INPUT;
            break;
        }
        char err[512];
        reader_record *rec = &j.rec[slot];
        if (reader_parse(&o.rd, line, len, rec, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s:%zu: %s\n", prog, in_name, lineno, err);
            rc = CLI_ERR_INPUT;
            break;
        }
        j.texts[slot] = (bert_text){rec->a, rec->a_len, rec->b, rec->b_len};
        j.gold[slot] = -1;
        if (rec->label) {
            j.gold[slot] = gold_id(j.m, rec->label, rec->label_len);
            if (j.gold[slot] < 0) {
                fprintf(stderr, "%s: %s:%zu: unknown label '%.*s' (the model's labels:", prog, in_name, lineno,
                        (int)(rec->label_len > 64 ? 64 : rec->label_len), rec->label);
                for (size_t k = 0; k < bert_model_get_info(j.m).n_labels; k++)
                    fprintf(stderr, "%s %s", k ? "," : "", bert_model_label(j.m, k));
                fprintf(stderr, ", or their ids)\n");
                rc = CLI_ERR_INPUT;
                break;
            }
        }
        j.lineno[slot] = lineno;
        j.n++;
        if (j.n == o.batch) {
            rc = run_batch(&j);
            progress_draw(&pb, j.done, bytes, 0);
        }
    }
    progress_draw(&pb, j.done, bytes, 1);
    /* printed even with --quiet: the caller asked for it by giving gold labels */
    if (rc == CLI_OK && j.labelled)
        fprintf(stderr, "%s: accuracy %.10f (%zu of %zu labelled lines correct)\n", prog,
                (double)j.correct / (double)j.labelled, j.correct, j.labelled);
    teardown(&j);
    if (in != stdin)
        fclose(in);
    return rc;
}
